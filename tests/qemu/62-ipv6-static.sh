#!/bin/bash
# dracut's static IPv6 ip= form, [ADDR]::[GW]:PREFIXLEN:HOST:DEV:none:[DNS],
# in an IPv6-only lab: the link has exactly that address (router
# advertisements are ignored, so no second address from the prefix), it
# passed duplicate address detection, no DHCPv4 client ran, the name
# server is in resolv.conf and the root comes from [fec0::2].
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab
boot_vm static6 "ip=[fec0::15]::[fec0::2]:64:nbdbox6:eth0:none:[fec0::3] root=nbd:[fec0::2]:$SERVER_PORT nbdroot.retry=30 nbdtest=net6:eth0,none,fec0::15/64,fec0::3"
expect_marker static6
expect_console static6 "nbdroot: attached /dev/nbd0 from [fec0::2]:$SERVER_PORT"
if grep -aq "DHCPv4 tried" "$work/static6.log"; then
	fail "static6: a DHCPv4 client ran"
fi
