#!/bin/bash
# attach.sh's retry() under busybox sh (with busybox's od, as in our
# initrd) and dash (the host's od, as in dracut's): a step that always
# fails waits 1, 2, 4, 8, 8... s plus a random 0..half of each, two runs
# wait differently, and the waits stay within the retry budget.
# sleep, the clock and the messages are stubbed: nothing waits.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-jitter.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
command -v busybox >/dev/null || { echo "retry-jitter: SKIP: no busybox"; exit 77; }
mkdir -p "$work/bb"
for a in sh od; do
	ln -s "$(command -v busybox)" "$work/bb/$a"
done

# waits SHELL PATH: one line per sleep ("MS BACKOFF_MS"), then "gave up"
# with nbdroot.retry=30 on a clock that only sleep moves
waits() {
	# shellcheck disable=SC2016 # expanded by the shell under test
	PATH=$2 $1 -c '. initramfs/lib/attach.sh
		STEP_OUT=$1/step.out
		clock=0
		sleep() {
			_s=${1%.*} _f=${1#*.}
			echo "$((_s * 1000 + 1$_f - 1000)) $((_wait * 1000))"
			clock=$((clock + _s * 1000 + 1$_f - 1000))
		}
		uptime_s() { up_s=$((clock / 1000)); }
		uptime_ms() { up_ms=$clock; }
		say() { :; }
		give_up() { echo "gave up at $clock"; exit 0; }
		nr_retry=30
		retry_deadline=30
		retry connect false' x "$work"
}

for name in "busybox sh" dash; do
	sh=$name path=$PATH
	[ "$name" = dash ] || { sh=$work/bb/sh; path=$work/bb:$PATH; }
	waits "$sh" "$path" >"$work/1" 2>&1
	waits "$sh" "$path" >"$work/2" 2>&1
	for run in 1 2; do
		verdict=$(awk '
			/^gave up at / { gave = $4; next }
			NF != 2 { print "odd line: " $0; exit }
			{ total += $1; n++
			  if ($1 != int($1 / 1000) * 1000) jittered++
			  if (total > 30000) { print "wait " n " ends at " total " ms, past the 30 s budget"; exit }
			  if ($1 > $2 * 1.5) { print "wait " n ": " $1 " ms, more than 1.5 times " $2; exit }
			  if ($1 < $2 && total < 30000) { print "wait " n ": " $1 " ms, less than " $2 " before the budget ends"; exit } }
			END { if (gave == "") print "never gave up"
			      else if (n < 4) print "only " n " waits"
			      else if (!jittered) print "no wait carried jitter"
			      else print "ok " n " waits, " total " ms" }' "$work/$run")
		case $verdict in
		ok*) ok "$name: run $run: ${verdict#ok }: $(cut -d' ' -f1 "$work/$run" | head -n 5 | tr '\n' ' ')..." ;;
		*) fail "$name: run $run: $verdict: $(tr '\n' ' ' <"$work/$run")" ;;
		esac
	done
	if cmp -s "$work/1" "$work/2"; then
		fail "$name: two runs waited the same: $(tr '\n' ' ' <"$work/1")"
	else
		ok "$name: two runs waited differently"
	fi
done

[ "$failures" = 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
