#!/bin/bash
# nbdroot-dhcp6 against dnsmasq, without a VM: in a network and mount
# namespace of its own, a veth pair links dnsmasq (router advertisements
# and DHCPv6) to the tool. A "managed" router and a lease range: -a gets
# an address from the range with the prefix's length, the name server
# from DHCPv6 and RDNSS, and the boot-file URL. A router for
# autoconfiguration with stateless DHCPv6: -a takes no address and gets
# the name server by an Information-Request; nor when the managed
# router's one address is another client's (the Solicit gets none, the
# Information-Request follows). A scripted server (dhcp6-server.py)
# where dnsmasq cannot: an Advertise without an address does not end the
# wait for one with an address; answers from a global source are not
# taken for an address; a refused router advertisement is named on
# stderr. Without /dev/urandom it still asks: its ids are rng.h's.
# Needs root (skips else).
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=$PWD/initramfs/dhcp6/nbdroot-dhcp6
[ -x "$bin" ] || { echo "FAIL: $bin not built (run make)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: a network namespace needs root"; exit 77; }
command -v dnsmasq >/dev/null || { echo "skip: no dnsmasq (scripts/deps)"; exit 77; }
if [ -z "${NBDROOT_NETNS:-}" ]; then
	NBDROOT_NETNS=1 exec unshare -n -m "$0" "$@"
fi
mount -t sysfs sysfs /sys || { echo "FAIL: cannot mount sysfs in the namespace"; exit 1; }
work=$(mktemp -d /tmp/nbdroot-dhcp6-dnsmasq.XXXXXX)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
dm=
trap '[ -z "$dm" ] || kill "$dm" 2>/dev/null; wait; rm -rf "$work"' EXIT
net=2001:db8:69
ip link set lo up
ip link add vs type veth peer name vc
ip link set vs up
ip -6 addr add "$net::1/64" dev vs nodad
echo 0 >/proc/sys/net/ipv6/conf/vc/autoconf
ip link set vc up

# lab NAME DNSMASQ-OPTIONS...: dnsmasq on vs for one case
lab() {
	local name=$1
	shift
	[ -z "$dm" ] || { kill "$dm"; wait "$dm"; }
	dnsmasq -k --conf-file=/dev/null --interface=vs --bind-dynamic \
		--port=0 --no-resolv --no-hosts --user=root \
		--pid-file="$work/$name.pid" --dhcp-leasefile="$work/$name.leases" \
		--log-facility="$work/$name.log" --log-dhcp --enable-ra \
		--dhcp-option="option6:dns-server,[$net::53]" "$@" \
		>"$work/$name.out" 2>&1 &
	dm=$!
	for _ in $(seq 50); do
		grep -q "router advertisement enabled" "$work/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$name: dnsmasq did not start: $(cat "$work/$name.out")"
}

# expect NAME TEXT: the tool's output (-a on vc) holds TEXT
expect() {
	if grep -qxF -- "$2" "$work/$1.got"; then
		echo "ok: $1: $2"
	else
		fail "$1: no \"$2\" in: $(tr '\n' '|' <"$work/$1.got")"
	fi
}

lab managed --dhcp-range="$net::100,$net::1ff,64,1h" \
	--dhcp-option="option6:bootfile-url,nbd://[$net::1]:10809/root"
"$bin" -i vc -t 5 -a >"$work/managed.got" 2>"$work/managed.err" ||
	fail "managed: exit $?: $(cat "$work/managed.err")"
addr=$(sed -n 's|^address \(.*\)/64$|\1|p' "$work/managed.got")
python3 -c "
import ipaddress as i, sys
sys.exit(not i.ip_address('$net::100') <= i.ip_address(sys.argv[1]) <= i.ip_address('$net::1ff'))" "$addr" 2>/dev/null &&
	grep -q "DHCPREPLY(vs) $addr " "$work/managed.log" &&
	echo "ok: managed: address $addr/64 from the range, in dnsmasq's DHCPREPLY" ||
	fail "managed: address \"$addr\" not from the range or not replied: $(tr '\n' '|' <"$work/managed.got")"
expect managed "dns $net::53"
expect managed "rdnss $net::53"
expect managed "bootfile-url nbd://[$net::1]:10809/root"

# no_address NAME SECONDS: -a on vc succeeds without an address, with
# the name server
no_address() {
	"$bin" -i vc -t "$2" -a >"$work/$1.got" 2>"$work/$1.err" ||
		fail "$1: exit $?: $(cat "$work/$1.err")"
	grep -q "^address" "$work/$1.got" &&
		fail "$1: an address: $(cat "$work/$1.got")"
	expect "$1" "dns $net::53"
}

lab stateless --dhcp-range="::,constructor:vs,ra-stateless,64,1h"
no_address stateless 5
grep -q "DHCPINFORMATION-REQUEST(vs)" "$work/stateless.log" &&
	! grep -q "DHCPSOLICIT" "$work/stateless.log" &&
	echo "ok: stateless: an Information-Request, no Solicit" ||
	fail "stateless: dnsmasq saw no Information-Request alone: $(grep DHCP "$work/stateless.log" | tail -n 3)"

# a managed router whose one address is another client's: no address
# offered, so the Information-Request
lab full --dhcp-range="$net::100,$net::100,64,1h" \
	--dhcp-host="id:00:03:00:01:02:00:00:00:00:01,[$net::100]"
no_address full 2
grep -q "DHCPSOLICIT(vs)" "$work/full.log" &&
	grep -q "DHCPINFORMATION-REQUEST(vs)" "$work/full.log" &&
	echo "ok: full: a Solicit, then the Information-Request" ||
	fail "full: dnsmasq saw no Solicit and Information-Request: $(grep DHCP "$work/full.log" | tail -n 3)"

# scripted NAME MODE: dnsmasq stopped, dhcp6-server.py MODE on vs, then
# -a -t 3 on vc (no router: DHCPv6 is asked for an address)
scripted() {
	[ -z "$dm" ] || { kill "$dm"; wait "$dm"; }
	python3 "$(dirname "$bin")/../../tests/unit/dhcp6-server.py" "$2" \
		>"$work/$1.log" 2>&1 &
	dm=$!
	for _ in $(seq 50); do
		grep -q ready "$work/$1.log" 2>/dev/null && break
		sleep 0.1
	done
	"$bin" -i vc -t 3 -a >"$work/$1.got" 2>"$work/$1.err"
}
scripted late late
grep -qx "address 2001:db8:69::77/128" "$work/late.got" &&
	[ "$(grep -c 'type 1 ' "$work/late.log")" -ge 2 ] &&
	echo "ok: late: an Advertise without an address, then one with: address 2001:db8:69::77" ||
	fail "late: $(tr '\n' '|' <"$work/late.got") $(cat "$work/late.err") server: $(tr '\n' '|' <"$work/late.log")"
scripted global global
if grep -q "^address" "$work/global.got" || ! grep -q "type 1 " "$work/global.log"; then
	fail "global: an address from a global source, or no Solicit: $(tr '\n' '|' <"$work/global.got") server: $(tr '\n' '|' <"$work/global.log")"
else
	echo "ok: global: the answers from 2001:db8:69::1 gave no address ($(grep -c 'type 1 ' "$work/global.log") Solicits)"
fi

# a refused router advertisement is named on stderr; DHCPv6 goes on
scripted badra badra
grep -q "bad RA" "$work/badra.log" &&
	grep -q "vc: router: an answer was refused: router advertisement: option of length 0" "$work/badra.err" &&
	grep -qx "address 2001:db8:69::77/128" "$work/badra.got" &&
	echo "ok: badra: $(head -n 1 "$work/badra.err"), then the address" ||
	fail "badra: $(cat "$work/badra.err") $(tr '\n' '|' <"$work/badra.got") server: $(tr '\n' '|' <"$work/badra.log")"

# its transaction ids do not come from /dev/urandom (which at boot waits
# a second before the kernel's pool is ready; rng.h): with it unusable
# the tool still gets its address
mount --bind /dev/null /dev/urandom
out=$("$bin" -i vc -t 3 -a 2>&1)
rc=$?
umount /dev/urandom
[ "$rc" = 0 ] && grep -q "^address 2001:db8:" <<<"$out" &&
	echo "ok: without /dev/urandom: $(grep '^address' <<<"$out")" ||
	fail "without /dev/urandom: exit $rc: $out"
[ "$failures" -eq 0 ]
