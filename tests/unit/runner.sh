#!/bin/sh
# tests/run itself: exit 0 is PASS, exit 77 is SKIP with the test's last
# line (never PASS), anything else and a test file that does not exist are
# FAIL, and the run fails when one test failed.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-runner.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# has LINE: the runner printed LINE (a fixed string, whole line)
has() {
	if grep -qxF -- "$1" "$work/out"; then echo "ok: $1"; else fail "no line \"$1\""; fi
}

cd "$work" || exit 1
printf '#!/bin/sh\necho fine\n' >pass.sh
printf '#!/bin/sh\necho "skipped: no widget here"\nexit 77\n' >skip.sh
printf '#!/bin/sh\necho broken\nexit 3\n' >fail.sh
chmod +x pass.sh skip.sh fail.sh

"$top/tests/run" s pass.sh skip.sh >out 2>&1 || fail "a pass and a skip failed the run: $(cat out)"
has "SKIP skip.sh: skipped: no widget here"
has "1 passed, 0 failed, 1 skipped"
grep -q '^PASS skip.sh' out && fail "a skip reported as PASS"

"$top/tests/run" s pass.sh missing.sh fail.sh >out 2>&1 && fail "a run with failures passed: $(cat out)"
has "FAIL missing.sh: no such test file"
has "    broken"
has "failed: missing.sh fail.sh"
has "1 passed, 2 failed, 0 skipped"

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "ok: tests/run reports PASS, SKIP and FAIL as it should"
