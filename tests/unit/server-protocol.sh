#!/bin/sh
# Hostile and broken clients, signals, limits and modes against the real
# nbd-server on 127.0.0.1 (the cases are in server-protocol.py; a case
# name as the argument runs that one only, -l lists them).
cd "$(dirname "$0")/../.." || exit 1
for tool in python3 ss timeout; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "skipped: $tool not installed"; exit 77; }
done
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
exec timeout 300 python3 tests/unit/server-protocol.py "${SERVER:-server/nbd-server}" "$@"
