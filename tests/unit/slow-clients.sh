#!/bin/sh
# Slow and idle clients: SLOW_CLIENTS connections (200 here, 1000 in make
# soak) trickling a handshake one byte a second are all dropped at the
# handshake deadline while a normal client keeps reading. Cases in
# slow-clients.py.
cd "$(dirname "$0")/../.." || exit 1
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
exec timeout 180 python3 tests/unit/slow-clients.py \
	"${SERVER:-server/nbd-server}" "${SLOW_CLIENTS:-200}"
