#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 60) over nbd-server's
# negotiation and transmission with ASan and UBSan: passes when the run
# ends without a crash, leak, sanitizer report or timeout.
cd "$(dirname "$0")/../.." || exit 1
command -v clang >/dev/null 2>&1 || { echo "skipped: clang not installed"; exit 77; }
probe=$(mktemp -d /tmp/nbdroot-fuzzprobe.XXXXXX) || exit 1
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null ||
	{ echo "skipped: clang has no libFuzzer"; exit 77; }
seconds=${FUZZ_SECONDS:-60}
timeout $((seconds + 240)) make --no-print-directory fuzz FUZZ_SECONDS="$seconds" \
	>"$probe/log" 2>&1
rc=$?
tail -n 25 "$probe/log"
[ $rc = 0 ] || { echo "FAIL: fuzz run exit status $rc"; exit 1; }
grep -q '^Done [0-9]* runs' "$probe/log" || { echo "FAIL: the fuzzer did not finish its run"; exit 1; }
echo "ok: $(grep '^Done' "$probe/log")"
