#!/bin/bash
# ip=dhcp6 in an IPv6-only lab. QEMU's DHCPv6 server is stateless (RFC
# 8415 18.2.6, Information-Request only): the address comes from the
# router advertisement, and nbdroot-dhcp6 asks for the name server
# (fec0::3, which reaches resolv.conf and is never queried here) and the
# boot-file URL (option 59: tftp://[HOST]/ with every group of HOST
# written out, then QEMU's bootfile=), which reaches /run/net-eth0.conf as
# its ROOTPATH.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab bootfile=nbdroot-dhcp6-test
boot_vm dhcp6 "ip=dhcp6 root=nbd:[fec0::2]:$SERVER_PORT nbdroot.retry=30 nbdtest=net6:eth0,dhcp6,auto,fec0::3,tftp://[fec0:0000:0000:0000:0000:0000:0000:0002]/nbdroot-dhcp6-test"
expect_marker dhcp6
expect_console dhcp6 "nbdroot: attached /dev/nbd0 from [fec0::2]:$SERVER_PORT"
