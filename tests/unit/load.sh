#!/bin/sh
# Load: 32 fio clients (libnbd engine) writing and verifying crc32c against
# one nbd-server for LOAD_SECONDS (10 here, 60 in make soak): no verify
# error, memory flat, nothing left running. Cases in load.py.
cd "$(dirname "$0")/../.." || exit 1
seconds=${LOAD_SECONDS:-10}
fio --enghelp 2>/dev/null | grep -qw nbd ||
	{ echo "skipped: fio has no nbd engine"; exit 77; }
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
exec timeout $((seconds + 120)) python3 tests/unit/load.py \
	"${SERVER:-server/nbd-server}" "$seconds"
