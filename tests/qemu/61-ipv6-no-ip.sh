#!/bin/bash
# No ip= at all in an IPv6-only lab: the root names an IPv6 and an IPv4
# server, so either family could reach it, and the init runs DHCPv4 and
# IPv6 autoconfiguration on every link at once; the IPv6 address wins, as
# no DHCPv4 server answers, and the root comes from [fec0::2] (the first
# server for this MAC).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab
boot_vm noip "root=nbd:[fec0::2],10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=net6:eth0,auto6,auto,-"
expect_marker noip
expect_console noip "NBDROOT-TEST net6: PASS eth0 fec0:"
# the DHCPv4 client ran alongside (the guest lists its log)
expect_console noip "DHCPv4 tried too"
expect_console noip "nbdroot: attached /dev/nbd0 from [fec0::2],10.0.2.2:$SERVER_PORT"
