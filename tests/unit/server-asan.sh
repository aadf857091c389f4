#!/bin/sh
# The hostile-client suite, libnbd interop and TLS again, against a server
# built with AddressSanitizer and UBSan: passes only if the suites pass and
# no process (master or child) wrote a sanitizer report.
cd "$(dirname "$0")/../.." || exit 1
for tool in python3 ss timeout gcc; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "skipped: $tool not installed"; exit 77; }
done
dir=$(mktemp -d /tmp/nbdroot-asan.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
# shellcheck disable=SC2046 # the file list is meant to split
gcc -O1 -g -std=gnu11 -D_GNU_SOURCE -Icommon -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -o "$dir/nbd-server" server/*.c common/*.c \
	-lgnutls ||
	{ echo "FAIL: sanitizer build"; exit 1; }
ASAN_OPTIONS=log_path=$dir/report:detect_leaks=0 \
UBSAN_OPTIONS=log_path=$dir/report:print_stacktrace=1 \
SERVER=$dir/nbd-server
export ASAN_OPTIONS UBSAN_OPTIONS SERVER
tests/unit/server-protocol.sh || { echo "FAIL: protocol suite under ASan"; exit 1; }
tests/unit/server-generations.sh || { echo "FAIL: generations suite under ASan"; exit 1; }
if command -v nbdinfo >/dev/null 2>&1; then
	tests/unit/server-nbdinfo.sh || { echo "FAIL: nbdinfo suite under ASan"; exit 1; }
	tests/unit/server-tls.sh || { echo "FAIL: TLS suite under ASan"; exit 1; }
	tests/unit/server-tls-exports.sh || { echo "FAIL: per-export TLS suite under ASan"; exit 1; }
fi
if ls "$dir"/report* >/dev/null 2>&1; then
	cat "$dir"/report*
	echo "FAIL: sanitizer reports above"
	exit 1
fi
echo "ok: protocol and interop suites clean under ASan and UBSan"
