#!/bin/bash
# ip=auto6 with the server named on the boot line, where only the router
# advertisement names a name server (RDNSS, RFC 8106): in a network
# namespace of its own, dnsmasq on a tap link advertises 2001:db8:68::/64
# for autoconfiguration (no M or O flag, no DHCPv6 range) with an RDNSS
# option naming itself, and answers nbd68.test with the address of our
# server there. The guest resolves the name through that server, which
# only the advertisement named, attaches, and its resolv.conf says the
# server came from a router advertisement and nothing from DHCPv6.
# (QEMU's own advertisement carries RDNSS only when the host has an IPv6
# name server, which this machine has not: libslirp's ndp_send_ra.)
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
in_netns "$@"
net=2001:db8:68
tap_lab "$net"
DNSMASQ_PORT=53 start_dnsmasq --dhcp-range="::,constructor:nbdtap,ra-only,64,1h" \
	--dhcp-option="option6:dns-server,[$net::1]" \
	--listen-address="$net::1" \
	--host-record="nbd68.test,$net::1" --log-queries
boot_vm rdnss "ip=auto6 root=nbd:nbd68.test:$SERVER_PORT/root nbdroot.retry=30 nbdtest=net6-lab:eth0,auto6,$net:*/64,nbd68.test,$net::1,rdnss"
expect_marker rdnss
expect_console rdnss "nbdroot: attached /dev/nbd0 from nbd68.test:$SERVER_PORT"
grep -q "query\[AAAA\] nbd68.test from $net:" "$work/dnsmasq.log" ||
	fail "dnsmasq's log has no AAAA question for nbd68.test from the guest: $(grep query "$work/dnsmasq.log" | tail -n 3)"
echo "ok: the guest asked dnsmasq, named only by RDNSS: $(grep -m1 "query\[AAAA\] nbd68.test" "$work/dnsmasq.log" | cut -d' ' -f5-)"
