#!/bin/bash
# A gateway dies under a writing VM. The Ceph fixture (scripts/ceph-lab:
# a memstore cluster, the busybox test root as golden image, a clone for
# this VM's MAC, two qemu-storage-daemon gateways) serves the root from a
# boot line naming both gateways and ${mac}. While the guest writes and
# fsyncs in a loop (guest check fsync-stall), the host first loads the
# VM's gateway with the storm driver (10 clients replaying a Debian boot
# at twice its speed on another clone of the same gateway), then stops it
# for 6 s (SIGSTOP): a merely slow server must cost no reconnect. Then it
# SIGKILLs that gateway with requests in flight. The guest must carry on
# through the other: every file verifies, no I/O error, no request
# timeout, exactly one lost connection in its kernel log. The host then
# reads the clone from the cluster (rbd export): e2fsck finds it clean and
# every file the guest reported fsynced is there with its md5. It prints
# the stall, from the kernel's stamp of the lost connection to the next
# completed fsync (guest clock); nothing asserts on it.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
for t in ceph-mon ceph-osd rbd qemu-storage-daemon debugfs xz; do
	command -v "$t" >/dev/null || fail "$t not installed (run scripts/deps)"
done
[ -x "$top/build/storm" ] || fail "build/storm missing (make build/storm)"
t0=$SECONDS
mac=52:54:00:12:34:56
clone=52-54-00-12-34-56
img=$(test_image root)
# the storm's own image: as large as the trace reaches, zeros
truncate -s 1G "$work/load.img"
xz -dc "$top/scripts/storm/debian-boot.trace.xz" >"$work/trace" || fail "xz -d trace"
ceph_lab_up "$img" "$mac"
"$top/scripts/ceph-lab" import "$LAB" "$work/load.img" load >/dev/null || fail "import load"
"$top/scripts/ceph-lab" clone "$LAB" load storm >/dev/null || fail "clone storm"
echo "fixture up in $((SECONDS - t0))s: gateways $GW1 and $GW2"

# shellcheck disable=SC2016 # ${mac} is for the initrd to expand
line='root=nbd:10.0.2.2@'$GW1',10.0.2.2@'$GW2':'$GW1'/${mac}'
hold_vm_lock
VM_TIMEOUT=400 vm_start writer "$mac" "$line nbdroot.retry=30 nbdtest=fsync-stall:120"
vm=$VM_PID
await_console writer "$vm" "NBDROOT-STEP writing"
if [ "$(connections_on "$GW1")" -gt 0 ]; then
	on=$GW1 other=$GW2
else
	on=$GW2 other=$GW1
fi
[ "$(connections_on "$on")" -gt 0 ] || fail "the VM is connected to neither gateway"
echo "the VM writes through gateway $on"
ts=$SECONDS
"$top/build/storm" -n 10 -x 2 -t 60 -e storm "$work/trace" 127.0.0.1 "$on" >"$work/storm.out" 2>&1
echo "storm on gateway $on for $((SECONDS - ts))s: $(cat "$work/storm.out")"
# a server that stops answering for a while (SIGSTOP: the kernel still
# takes its bytes) is slow, not dead: no reconnect must follow
kill -STOP "$(gateway_pid "$on")"
sleep 6
kill -CONT "$(gateway_pid "$on")"
echo "gateway $on stopped for 6s (SIGSTOP, SIGCONT)"
sleep 3
# kill it with requests in flight: bytes the guest sent that the gateway
# has not read yet (the storm is over: the VM's is the one connection)
for _ in $(seq 100); do
	queued=$(ss -Htn state established "( sport = :$on )" | awk '{ q += $1 } END { print q + 0 }')
	[ "$queued" -eq 0 ] || break
	sleep 0.05
done
kill -KILL "$(gateway_pid "$on")"
echo "gateway $on SIGKILLed with $queued bytes queued unread"
echo "the VM should go on through gateway $other"
wait "$vm"
release_vm_lock
expect_marker writer
expect_console writer "reconnected to server"

# the stall: from the kernel's stamp of the lost connection to the next
# fsync the guest completed, both on the guest's clock
tr -d '\r' <"$work/writer.log" >"$work/console"
grep -aE '^NBDROOT-STEP fsynced f[0-9]+ [0-9a-f]{32} at [0-9.]+$' "$work/console" >"$work/fsynced"
lost=$(sed -n 's/^\[ *\([0-9.]*\)\] nbd-client: \/dev\/nbd0: connection lost.*/\1/p' "$work/console" | head -n 1)
[ -n "$lost" ] || fail "no lost connection on the console"
awk -v k="$lost" '{ if (NR > 1) { g = $NF - p; if (g > m) m = g } p = $NF
	if (!s && $NF > k) s = $NF - k }
	END { printf "stall: %.2f s from the lost connection (%.2f s of uptime) to the next completed fsync; longest gap between two fsyncs %.2f s; %d files\n", s, k, m, NR }' \
	"$work/fsynced"

clone_file "$clone" "$work/after.img"
fsck_clean "$work/after.img"
n=0
while read -r _ _ f sum _; do
	got=$(debugfs -R "cat /data/$f" "$work/after.img" 2>/dev/null | md5sum)
	[ "${got%% *}" = "$sum" ] || fail "/data/$f in the clone: md5 ${got%% *}, the guest fsynced $sum"
	n=$((n + 1))
done <"$work/fsynced"
[ "$n" -gt 0 ] || fail "the guest reported no fsynced file"
echo "ok: all $n fsynced files are in the clone with their md5"
echo "test took $((SECONDS - t0 - LOCK_WAITED))s, and ${LOCK_WAITED}s waiting for the VM lock"
