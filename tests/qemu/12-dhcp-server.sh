#!/bin/bash
# root=nbd:dhcp:PORT/NAME: no server on the boot line, so the DHCP
# server's address (QEMU's, 10.0.2.2) is used; nbdroot.conns=2 gives the
# device two connections, nbdroot.timeout= is accepted by the client.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_server ours "$img"
boot_vm dhcp "root=nbd:dhcp:$SERVER_PORT nbdroot.conns=2 nbdroot.timeout=30 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0,conns=2"
expect_marker dhcp
expect_console dhcp "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT"
