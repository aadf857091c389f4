#!/bin/bash
# Debian initramfs-tools' boot lines: nbdroot=SERVER,NAME,nbdX with
# root=/dev/nbdX (port 10809, through a guestfwd to our server), the
# empty-server form nbdroot=:PORT/NAME (the DHCP server), and the root
# on /dev/nbd1 when nbdroot= and root= say so.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_named_server root "$img"
VM_NET_OPTS="guestfwd=tcp:10.0.2.100:10809-tcp:127.0.0.1:$SERVER_PORT" \
	boot_vm comma "nbdroot=10.0.2.100,root,nbd0 root=/dev/nbd0 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker comma
boot_vm dhcp-server "nbdroot=:$SERVER_PORT/root root=/dev/nbd0 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker dhcp-server
expect_console dhcp-server "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"root\""
boot_vm nbd1 "nbdroot=10.0.2.2:$SERVER_PORT/root root=/dev/nbd1 nbdroot.retry=20 nbdtest=root-is:/dev/nbd1"
expect_marker nbd1
