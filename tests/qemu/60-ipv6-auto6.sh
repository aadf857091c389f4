#!/bin/bash
# ip=auto6 in an IPv6-only lab (QEMU's user network with ipv4=off): the
# address comes from the router advertisement (stateless autoconfiguration)
# and passes duplicate address detection before the client connects to the
# host's ::1, which the guest reaches as fec0::2.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab
boot_vm auto6 "ip=auto6 root=nbd:[fec0::2]:$SERVER_PORT nbdroot.retry=30 nbdtest=net6:eth0,auto6,auto,-"
expect_marker auto6
expect_console auto6 "nbdroot: attached /dev/nbd0 from [fec0::2]:$SERVER_PORT"
