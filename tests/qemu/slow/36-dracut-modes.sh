#!/bin/bash
# dracut with our module (as in 34-dracut.sh), the rest of what our own
# initrd does: root=dhcp where the partition (#p2), type and flags come
# from DHCP option 17 only (the root=dhcp tests' pre-network hook, put in
# with dracut --include, runs udhcpd) and /dev/nbd0p2 is mounted with
# them; nbdroot.overlay=tmpfs; nbdroot.toram, the guest going on after the
# server has stopped. Evidence: our attach step's messages and the
# guest's checks.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
out=$work/dracut.img
dracut_setup
build_dracut_initrd "$out"
img=$(test_image root)
start_named_server lab "$img"
root_port=$SERVER_PORT root_pid=$SERVER_PID
disk=$work/disk.img
partitioned_image "$img" "$disk"
start_named_server disk "$disk"
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 VM_NET_BEFORE="$DHCP_HUB_NICS" boot_vm dhcp "root=dhcp ip=eth0:dhcp net.ifnames=0 nbdtest.rootpath=nbd:10.0.2.2:$SERVER_PORT/disk#p2:ext4:noatime nbdroot.retry=30 nbdtest=root-is:/dev/nbd0p2,opt=noatime"
expect_console dhcp "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"disk\""
expect_marker dhcp
# nbdroot.overlay=tmpfs and nbdroot.toram, as in our own initrd
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm overlay "root=nbd:10.0.2.2:$root_port nbdroot.overlay=tmpfs nbdroot.retry=30 nbdtest=overlay:dracut$RANDOM"
expect_marker overlay
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm toram "root=nbd:10.0.2.2:$root_port nbdroot.toram nbdroot.retry=30 nbdtest=toram:$root_port" &
vm=$!
await_console toram $vm "NBDROOT-TEST toram: READY"
SERVER_PID=$root_pid stop_server TERM
echo "ok: server stopped after the guest's READY"
wait $vm
expect_marker toram
expect_console toram "nbdroot: toram: copying"
