#!/bin/bash
# dracut's boot lines: root=nbd:HOST:NAME:FSTYPE (a non-numeric second
# field is an export name on port 10809, reached here through a QEMU
# guestfwd from 10.0.2.100:10809 to our server) and netroot=nbd: with a
# port, a name and NBDOPTS (bs=1024, the test root's ext4 block size: dracut drops it, we honour it);
# both boot with the root on /dev/nbd0.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_named_server root "$img"
VM_NET_OPTS="guestfwd=tcp:10.0.2.100:10809-tcp:127.0.0.1:$SERVER_PORT" \
	boot_vm name "root=nbd:10.0.2.100:root:ext4 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker name
expect_console name "nbdroot: attached /dev/nbd0 from 10.0.2.100:10809 \"root\""
boot_vm netroot "netroot=nbd:10.0.2.2:$SERVER_PORT/root::noatime:bs=1024,timeout=20 rw nbdroot.retry=20 nbdtest=root-is:/dev/nbd0,bs=1024,iotimeout=20000"
expect_marker netroot
