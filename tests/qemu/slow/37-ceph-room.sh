#!/bin/bash
# Per-machine roots on Ceph: the fixture (scripts/ceph-lab, a memstore
# cluster, the busybox test root as golden image, one clone per MAC, two
# qemu-storage-daemon gateways) serves three VMs that boot at the same time
# with ONE boot line naming both gateways and ${mac}; each VM has its own
# MAC. Each writes a marker named after its MAC (guest check own-marker)
# and must read back only its own. The host checks that the three ran at
# once, that both gateways served some of them (spreading by MAC), and
# then in each clone, read from the cluster (rbd export), that /markers
# holds exactly that machine's marker.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
for t in ceph-mon ceph-osd rbd qemu-storage-daemon debugfs; do
	command -v "$t" >/dev/null || fail "$t not installed (run scripts/deps)"
done
t0=$SECONDS
macs=(52:54:00:00:00:01 52:54:00:00:00:02 52:54:00:00:00:03)
img=$(test_image root)
ceph_lab_up "$img" "${macs[@]}"
echo "fixture up in $((SECONDS - t0))s: gateways $GW1 and $GW2"

# shellcheck disable=SC2016 # ${mac} is for the initrd to expand
line='root=nbd:10.0.2.2@'$GW1',10.0.2.2@'$GW2':'$GW1'/${mac} nbdroot.retry=60 nbdtest=own-marker:30'
hold_vm_lock
pids=()
for i in 0 1 2; do
	vm_start "vm$i" "${macs[$i]}" "$line"
	pids+=("$VM_PID")
done
# all three wrote, then the connections each gateway has
for i in 0 1 2; do
	await_console "vm$i" "${pids[$i]}" "NBDROOT-STEP ${macs[$i]//:/-} wrote"
done
c1=$(connections_on "$GW1") c2=$(connections_on "$GW2")
echo "all three wrote their markers; connections: gateway $GW1: $c1, gateway $GW2: $c2"
for pid in "${pids[@]}"; do
	wait "$pid"
done
release_vm_lock
for i in 0 1 2; do
	expect_marker "vm$i"
done
[ $((c1 + c2)) -eq 3 ] || fail "$((c1 + c2)) connections to the gateways while the three ran, expected 3"
if [ "$c1" -eq 0 ] || [ "$c2" -eq 0 ]; then
	fail "the room did not spread: $c1 and $c2 connections"
fi
echo "ok: the three ran at once, over both gateways ($c1 and $c2)"

for mac in "${macs[@]}"; do
	clone=${mac//:/-}
	clone_file "$clone" "$work/$clone.img"
	names=$(debugfs -R "ls -p /markers" "$work/$clone.img" 2>/dev/null |
		awk -F/ '$6 != "." && $6 != ".." && $6 != "" { print $6 }' | tr '\n' ' ')
	[ "$names" = "$clone " ] || fail "clone $clone: /markers holds \"$names\", expected only $clone"
	got=$(debugfs -R "cat /markers/$clone" "$work/$clone.img" 2>/dev/null)
	[ "$got" = "$clone" ] || fail "clone $clone: its marker reads \"$got\""
	echo "ok: clone $clone holds only its own marker"
done
echo "test took $((SECONDS - t0 - LOCK_WAITED))s, and ${LOCK_WAITED}s waiting for the VM lock"
