#!/bin/sh
# Slow and idle clients: COUNT connections trickling a handshake one byte
# a second (200 here, 1000 in make soak) are all dropped at the handshake
# deadline while a normal client keeps reading. Cases in slow-clients.py.
# Usage: tests/unit/slow-clients.sh [COUNT]
cd "$(dirname "$0")/../.." || exit 1
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
exec timeout 180 python3 tests/unit/slow-clients.py \
	"${SERVER:-server/nbd-server}" "${1:-200}"
