#!/bin/sh
# Image generations: a replaced image kept for its clients by canonical
# name, across restarts, until generationtimeout (server-generations.py).
cd "$(dirname "$0")/../.." || exit 1
for tool in python3 ss timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "skipped: $tool not installed"; exit 77; }
done
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
exec timeout 120 python3 tests/unit/server-generations.py "${SERVER:-server/nbd-server}"
