#!/bin/sh
# The flush contract: every FLUSH and FUA reply leaves after a successful
# sync of each file the connection wrote, and a failed sync answers EIO and
# stays failed, and large WRITEs start writeback per 8 MiB. Sync calls,
# writeback and replies are logged by an LD_PRELOAD shim
# (tests/unit/sync-shim.c, built here); cases in flush-contract.py.
cd "$(dirname "$0")/../.." || exit 1
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
command -v cc >/dev/null || { echo "skipped: cc not installed"; exit 77; }
mkdir -p build/unit
cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -shared -fPIC \
	-o build/unit/sync-shim.so tests/unit/sync-shim.c -ldl ||
	{ echo "FAIL: cannot build the sync shim"; exit 1; }
exec timeout 120 python3 tests/unit/flush-contract.py \
	"${SERVER:-server/nbd-server}" build/unit/sync-shim.so
