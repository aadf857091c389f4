#!/bin/bash
# Faults between client and server: the guest's root goes through nbdkit's
# nbd plugin with the delay and error filters in front of our server, and
# the guest writes fsynced files (tests/qemu/guest/tests/fault-writes).
#   1. every reply delayed (writes 50 ms, reads 20 ms): no write fails;
#   2. the proxy SIGKILLed and restarted after 1-3 s, DROPS times (2 here,
#      5 in make soak): the root reconnects, still no write fails;
#   3. every write answered EIO for a moment: the guest is told (a failed
#      fsync and a kernel I/O error line), nothing is silently dropped.
# Then every file the guest saw acknowledged verifies, in the guest after
# dropping its caches and on the host in the image (its journal replayed
# by e2fsck on a copy) with debugfs.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
drops=${DROPS:-2}
command -v nbdkit >/dev/null || fail "nbdkit not installed (run scripts/deps)"
command -v debugfs >/dev/null || fail "debugfs not installed (e2fsprogs)"
nbdkit --dump-plugin nbd >/dev/null 2>&1 || fail "nbdkit has no nbd plugin"
VM_TIMEOUT=$((drops * 40 + 240))

# start_proxy PORT: nbdkit on PORT, forwarding to our server on $port.
start_proxy() {
	setsid nbdkit -f -i 127.0.0.1 -p "$1" --filter=error --filter=delay \
		nbd uri="nbd://127.0.0.1:$port/" \
		delay-write=50ms delay-read=20ms \
		error=EIO error-pwrite-rate=100% error-pwrite-file="$work/inject" \
		>>"$work/nbdkit.log" 2>&1 </dev/null &
	proxy=$!
	server_pids+=("$proxy")
	for _ in $(seq 50); do
		port_open "$1" && return 0
		sleep 0.1
	done
	fail "nbdkit did not start on port $1: $(tail -n 3 "$work/nbdkit.log")"
}

count() {
	grep -ac "NBDROOT-$1 [0-9]* .*END" "$work/faults.log"
}

# progress N: waits until the guest acknowledged N more files; fails if the
# VM ends or 120 s pass first.
progress() {
	local want i
	want=$(($(count OK) + $1))
	for i in $(seq 1200); do
		[ "$(count OK)" -ge "$want" ] && return 0
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	fail "no progress past $(count OK) acknowledged files (waited $((i / 10)) s)"
}

img=$(test_image)
start_server ours "$img"
port=$SERVER_PORT
pport=$(random_port)
while port_open "$pport"; do pport=$(random_port); done
stopport=$(random_port)
while port_open "$stopport" || [ "$stopport" = "$pport" ]; do stopport=$(random_port); done
start_proxy "$pport"

boot_vm faults "root=nbd:10.0.2.2:$pport:::timeout=5 nbdroot.retry=30 nbdtest=fault-writes:$((VM_TIMEOUT - 60)):$stopport" &
vm=$!
await_console faults "$vm" "NBDROOT-STEP writing"
progress 8
echo "delayed replies: $(count OK) files acknowledged, $(count ERR) failed"

for k in $(seq "$drops"); do
	kill -KILL -- "-$proxy"
	wait "$proxy" 2>/dev/null
	down=$((1 + RANDOM % 3))
	sleep "$down"
	start_proxy "$pport"
	progress 3
	echo "drop $k: proxy SIGKILLed at $(count OK) files, back after $down s; the guest carried on"
done
before=$(count ERR)
[ "$before" -eq 0 ] || fail "$before writes failed under delays and dropped connections"

touch "$work/inject"
echo "error replies on: every write answered EIO"
for _ in $(seq 600); do
	[ "$(count ERR)" -gt 0 ] && break
	kill -0 "$vm" 2>/dev/null || break
	sleep 0.1
done
rm -f "$work/inject"
[ "$(count ERR)" -gt 0 ] || fail "the guest never saw an injected write error"
echo "error replies off after the guest reported a failed write ($(count ERR) so far)"
sleep 2
main_pid=$SERVER_PID
truncate -s 1M "$work/stop.img"
FIXED_PORT=$stopport start_server ours "$work/stop.img"
stopper=$SERVER_PID
SERVER_PID=$main_pid
wait "$vm"
kill -TERM -- "-$stopper"
expect_marker faults
expect_console faults "I/O error"

kill -TERM -- "-$proxy"
stop_server
# A write error aborts the guest's journal: the fsynced files may be only
# in the journal, which the next mount would replay. e2fsck does that
# here, on a copy.
cp --sparse=always "$img" "$work/replayed.img"
e2fsck -fy "$work/replayed.img" >"$work/e2fsck.log" 2>&1
rc=$?
[ "$rc" -lt 4 ] || fail "e2fsck left errors (exit $rc): $(tail -n 3 "$work/e2fsck.log")"
echo "e2fsck on a copy of the image: exit $rc ($(grep -c 'Fix? yes' "$work/e2fsck.log") fixes)"
debugfs -R "rdump /data $work" "$work/replayed.img" 2>/dev/null
bad=0 checked=0
while read -r i sum; do
	got=$(md5sum <"$work/data/f$i" 2>/dev/null)
	[ "${got%% *}" = "$sum" ] || { bad=$((bad + 1)); echo "f$i differs in the image"; }
	checked=$((checked + 1))
done < <(grep -ao 'NBDROOT-OK [0-9]* [0-9a-f]* END' "$work/faults.log" | cut -d' ' -f2,3)
[ "$checked" -gt 0 ] || fail "no acknowledged file to check"
[ "$bad" -eq 0 ] || fail "$bad of $checked acknowledged files differ in the image"
echo "ok: all $checked acknowledged files intact in the image; $(count ERR) writes failed loudly, $drops drops survived"
