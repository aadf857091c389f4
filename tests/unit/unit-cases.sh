#!/bin/sh
# The unit tests run one case at a time: every built test (build/unit)
# lists its cases with -l and runs its first case alone; an unknown case
# is an error naming it; and unit.h itself, in a test built here, fails a
# run without a single check and exits 77 (not 0) on unit_skip();
# server-protocol.py takes a case name as well.
cd "$(dirname "$0")/../.." || exit 1
command -v cc >/dev/null 2>&1 || { echo "skipped: cc not installed"; exit 77; }
set -- build/unit/test-*
[ -x "$1" ] || { echo "FAIL: no unit tests in build/unit (make unit)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-unit-cases.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# expect RC TEXT CMD...: CMD exits with RC and its output holds TEXT
expect() {
	want=$1 text=$2
	shift 2
	"$@" >"$work/out" 2>&1
	rc=$?
	cmd="$*"
	cmd=${cmd##*/}
	if [ "$rc" = "$want" ] && grep -qF -- "$text" "$work/out"; then
		ok "$cmd: exit $rc, $(grep -F -- "$text" "$work/out")"
	else
		fail "$cmd: exit $rc, not $want with \"$text\": $(cat "$work/out")"
	fi
}

for t; do
	name=${t##*/}
	first=$("$t" -l | head -n 1)
	case $first in
	test_*) ;;
	*) fail "$name -l lists no case: \"$first\""; continue ;;
	esac
	# test-client-tls13-klibc is test-client-tls13's source built with klcc
	if out=$("$t" "$first" 2>&1) && echo "$out" | grep -q "^${name%-klibc}: [1-9][0-9]* checks, 0 failed"; then
		ok "$name $first: $(echo "$out" | tail -n 1)"
	else
		fail "$name $first: $out"
	fi
	expect 2 'no case "no_such_case"' "$t" no_such_case
done

cat >"$work/t.c" <<'EOF'
#include "unit.h"
static void test_nothing(void) { }
static void test_one(void) { CHECK(1); }
int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_nothing);
	RUN(test_one);
	if (argc == 2 && strcmp(argv[1], "one") == 0)
		unit_skip("t", "asked to");
	return unit_done("t");
}
EOF
cc -Wall -Wextra -Werror -Itests/unit -o "$work/t" "$work/t.c" || { echo "FAIL: build"; exit 1; }
expect 1 'no check ran' "$work/t" nothing
expect 0 '1 checks, 0 failed' "$work/t" test_one
expect 77 'skipped: asked to' "$work/t" one
expect 2 'usage:' "$work/t" -x

# the server's protocol suite takes a case name too
if command -v python3 >/dev/null 2>&1 && [ -x server/nbd-server ]; then
	py="python3 tests/unit/server-protocol.py server/nbd-server"
	$py -l >"$work/out" 2>&1 && grep -qx inetd_mode "$work/out" &&
		ok "server-protocol.py -l lists inetd_mode" ||
		fail "server-protocol.py -l: $(cat "$work/out")"
	$py inetd_mode >"$work/out" 2>&1 && grep -qx 'ok: inetd_mode' "$work/out" &&
		[ "$(grep -c '^ok' "$work/out")" = 1 ] && ok "server-protocol.py inetd_mode runs that case only" ||
		fail "server-protocol.py inetd_mode: $(cat "$work/out")"
	# shellcheck disable=SC2086 # $py is a command and its arguments
	expect 2 "no case 'no_such_case'" $py no_such_case
fi

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "ok: every unit test runs its cases one by one"
