#!/bin/bash
# The stateless tier: two of our servers serve the same read-only image
# (the busybox test root, -r) and six VMs boot it at the same time under
# nbdroot.overlay=tmpfs, all with ONE boot line naming both servers, each
# with its own MAC (52:54:00:00:01:01 to :06). Spreading by MAC must put
# three on each server (counted as the servers' established connections).
# While all six read their roots in a loop (guest check
# read-through-outage: every round drops the page cache and must read the
# same bytes), the first server is SIGKILLed: its three clients must move
# to the other (six connections there), every VM must go on reading with
# no I/O error, and exactly three must log a reconnection.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
t0=$SECONDS
img=$(test_image root)
start_server ours "$img" -r
p1=$SERVER_PORT pid1=$SERVER_PID
start_server ours "$img" -r
p2=$SERVER_PORT
before=$(md5sum <"$img")

line="root=nbd:10.0.2.2@$p1,10.0.2.2@$p2:$p1 nbdroot.overlay=tmpfs nbdroot.retry=120 nbdtest=read-through-outage:150"
names=(c1 c2 c3 c4 c5 c6)
hold_vm_lock
pids=()
for i in 1 2 3 4 5 6; do
	VM_TIMEOUT=600 vm_start "c$i" "52:54:00:00:01:0$i" "$line"
	pids+=("$VM_PID")
done
for i in 0 1 2 3 4 5; do
	await_console "${names[$i]}" "${pids[$i]}" "NBDROOT-STEP reading"
done
c1=$(connections_on "$p1") c2=$(connections_on "$p2")
echo "all six read their roots; connections: server 1: $c1, server 2: $c2"
SERVER_PID=$pid1 stop_server KILL
echo "server 1 (port $p1) SIGKILLed"
moved=
for _ in $(seq 300); do
	moved=$(connections_on "$p2")
	[ "$moved" -lt 6 ] || break
	sleep 0.1
done
echo "server 2 has $moved connections"
for pid in "${pids[@]}"; do
	wait "$pid"
done
release_vm_lock

if [ "$c1" -ne 3 ] || [ "$c2" -ne 3 ]; then
	fail "six clients spread $c1/$c2 over the two servers, expected 3/3"
fi
echo "ok: the six spread 3/3 by MAC"
[ "$moved" -eq 6 ] || fail "after the kill server 2 had $moved connections, expected 6"
echo "ok: the three of server 1 moved to server 2"
reconnected=0
for n in "${names[@]}"; do
	expect_marker "$n"
	! grep -aq 'reconnected to server 2' "$work/$n.log" || reconnected=$((reconnected + 1))
done
[ "$reconnected" -eq 3 ] || fail "$reconnected VMs reconnected to server 2, expected the 3 of server 1"
echo "ok: all six kept reading through the kill, 3 reconnected to server 2"
[ "$(md5sum <"$img")" = "$before" ] || fail "the shared image changed"
echo "test took $((SECONDS - t0 - LOCK_WAITED))s, and ${LOCK_WAITED}s waiting for the VM lock"
