#!/bin/sh
# Copy-on-write exports: per-client data, an untouched base, survival of a
# reconnection and deletion after cowtimeout (cases in server-cow.py).
cd "$(dirname "$0")/../.." || exit 1
for tool in python3 ss timeout gcc; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "skipped: $tool not installed"; exit 77; }
done
[ -x server/nbd-server ] || { echo "server/nbd-server not built"; exit 1; }
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
gcc -shared -fPIC -O2 -U_FORTIFY_SOURCE -Wall -Wextra -Werror -o "$TMP/cow-setup-delay.so" \
	tests/unit/cow-setup-delay.c || { echo "cannot build the shim"; exit 1; }
timeout 120 python3 tests/unit/server-cow.py "${SERVER:-server/nbd-server}" \
	"$TMP/cow-setup-delay.so"
