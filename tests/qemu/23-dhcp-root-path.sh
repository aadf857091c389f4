#!/bin/bash
# root=dhcp: the root comes from DHCP option 17. QEMU's own DHCP server
# cannot send a root-path, so the test's initrd brings its own: eth0 and
# eth1 share a QEMU hub, a pre-network hook (tests/qemu/hooks) starts
# busybox udhcpd on eth1 with the root-path named by the boot line's
# nbdtest.rootpath= and puts eth2 (QEMU's user network) on 10.0.2.15 so
# the server is reachable; ip=eth0:dhcp asks on eth0 only. Both root-path
# forms are tried: an nbd: spec and Debian's SERVER:PORT/NAME.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
make -C "$top" -s initrd OUT="$work/initrd.img" HOOKS="$top/tests/qemu/hooks" \
	>"$work/mkinitrd.log" 2>&1 || fail "make initrd: $(tail -n 3 "$work/mkinitrd.log")"
INITRD=$work/initrd.img
img=$(test_image root)
start_named_server root "$img"
export VM_NET_BEFORE=$DHCP_HUB_NICS
boot_vm nbdspec "root=dhcp ip=eth0:dhcp nbdtest.rootpath=nbd:10.0.2.2:$SERVER_PORT/root:ext4 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker nbdspec
expect_console nbdspec "nbdroot: network: eth0 192.168.9."
expect_console nbdspec "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"root\""
boot_vm debian "netroot=dhcp ip=eth0:dhcp nbdtest.rootpath=10.0.2.2:$SERVER_PORT/root nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker debian
expect_console debian "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"root\""
