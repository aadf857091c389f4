#!/bin/bash
# ip=dhcp6 root=dhcp where stateful DHCPv6 is the only address source:
# in a network namespace of its own, dnsmasq on a tap link advertises the
# prefix 2001:db8:67::/64 as on-link and "managed" (M flag), with no
# prefix for autoconfiguration, and leases addresses from ::100 to ::1ff
# with a name server and the boot-file URL nbd://[2001:db8:67::1]:PORT/root
# (our server, in the namespace). The guest attaches from the address
# dnsmasq leased (Solicit, Advertise, Request, Reply) and the root named
# by the URL: it prints the address, which must be in the range and in
# dnsmasq's DHCPREPLY, and its name server must come from DHCPv6.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
in_netns "$@"
net=2001:db8:67
tap_lab "$net"
url="nbd://[$net::1]:$SERVER_PORT/root"
start_dnsmasq --dhcp-range="$net::100,$net::1ff,64,1h" \
	--dhcp-option="option6:dns-server,[$net::53]" \
	--dhcp-option="option6:bootfile-url,$url"
boot_vm stateful "ip=dhcp6 root=dhcp nbdroot.retry=30 nbdtest=net6-lab:eth0,dhcp6,$net::1[0-9a-f][0-9a-f]/64,[$net::1],$net::53,dhcpv6,$url"
expect_marker stateful
expect_console stateful "nbdroot: attached /dev/nbd0 from [$net::1]:$SERVER_PORT"
addr=$(grep -a "NBDROOT-TEST net6-lab: PASS" "$work/stateful.log" |
	sed -n 's/.* address \([0-9a-f:]*\)\/64 .*/\1/p' | head -n 1)
python3 -c "
import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
sys.exit(not ipaddress.ip_address('$net::100') <= a <= ipaddress.ip_address('$net::1ff'))" "$addr" ||
	fail "the guest's address \"$addr\" is not in dnsmasq's range $net::100-$net::1ff"
grep -q "DHCPREPLY(nbdtap) $addr " "$work/dnsmasq.log" ||
	fail "dnsmasq's log has no DHCPREPLY of $addr: $(grep DHCP "$work/dnsmasq.log" | tail -n 5)"
echo "ok: $addr is in $net::100-$net::1ff and dnsmasq replied with it ($(grep -c 'DHCPSOLICIT\|DHCPREQUEST' "$work/dnsmasq.log") solicits and requests)"
