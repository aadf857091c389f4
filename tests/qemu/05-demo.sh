#!/bin/bash
# make demo's script: it boots the diskless VM to the demo banner, powers
# off by itself when not on a terminal, and leaves no process behind; a
# Ctrl-C (SIGINT to its process group) in the middle of the boot also
# stops everything it started.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
export DEMO_IMAGE=$work/demo.img

leftovers() {
	pgrep -f -- "$DEMO_IMAGE" | tr '\n' ' '
}

timeout 300 flock "$QEMU_LOCK" "$top/scripts/demo" >"$work/demo.log" 2>&1 </dev/null
rc=$?
sed 's/^/    /' "$work/demo.log" | grep -a "demo\|nbd0\|nbdroot" | head -n 12
[ "$rc" -eq 0 ] || fail "scripts/demo exited with $rc"
grep -aq '/dev/nbd0 / ext4 rw' "$work/demo.log" || fail "the demo did not show its root on /dev/nbd0"
grep -aq 'booted 1 time' "$work/demo.log" || fail "no boot count in the demo"
[ -z "$(leftovers)" ] || fail "processes left behind: $(leftovers)"
echo "ok: the demo booted to its banner and left nothing running"

setsid flock "$QEMU_LOCK" "$top/scripts/demo" >"$work/demo-int.log" 2>&1 </dev/null &
demo_pid=$!
# bounded by the demo itself, which may first wait for the VM lock
for _ in $(seq 3000); do
	grep -q 'booting kernel' "$work/demo-int.log" && break
	kill -0 "$demo_pid" 2>/dev/null || break
	sleep 0.1
done
sleep 2
[ -n "$(leftovers)" ] || fail "the second demo was not running"
kill -INT -- "-$demo_pid"
for _ in $(seq 50); do
	kill -0 "$demo_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$demo_pid" 2>/dev/null && fail "the demo ignored SIGINT"
sleep 0.3
[ -z "$(leftovers)" ] || fail "processes left behind after SIGINT: $(leftovers)"
echo "ok: SIGINT stopped the demo, its VM and its server"
