#!/bin/bash
# ip=CLIENT::GW:NETMASK:HOSTNAME:DEVICE:off:DNS0 sets exactly that, runs no
# DHCP client, and describes the link and its name server for the root.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_server ours "$img"
boot_vm static "ip=10.0.2.15::10.0.2.2:255.255.255.0:nbdbox:eth0:off:10.0.2.3 root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=20 nbdtest=net-static:eth0,10.0.2.15/24,nbdbox,10.0.2.3"
expect_marker static
