#!/bin/bash
# The init's IPv6 address checks (initramfs/lib/network.sh) under busybox
# sh and dash, on a canned /proc/net/if_inet6: addresses beyond the link
# with their duplicate address detection state, the first usable one in
# short form, addresses written out as the kernel lists them, and the
# bounded wait: a tentative address that passes, one that another machine
# holds (named), one that stays tentative (named, with the time). And
# which families the root's servers allow without ip= (attach.sh), with
# the shell's word splitting intact afterwards.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-net-ipv6.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# address, index, prefix length, scope, flags, link (hex, as the kernel)
cat >"$work/if_inet6" <<'T'
fe80000000000000505400fffe123456 02 40 20 80     eth0
fec0000000000000505400fffe123456 02 40 40 40     eth0
fec0000000000000000000000000000f 02 40 40 00     eth0
20010db8000000000000000000000007 03 30 00 08     eth1
00000000000000000000000000000001 01 80 10 80       lo
T

# run SHELL SCRIPT: SCRIPT with network.sh loaded and the canned list
run() {
	NBDROOT_IF_INET6=$work/if_inet6 $1 -c ". initramfs/lib/network.sh; $2" 2>&1
}

for sh in "busybox sh" dash; do
	got=$(run "$sh" 'net_v6_addrs eth0' | tr '\n' ' ')
	want="fec0:0000:0000:0000:5054:00ff:fe12:3456/64 tentative fec0:0000:0000:0000:0000:0000:0000:000f/64 ok "
	[ "$got" = "$want" ] && echo "ok: $sh: eth0's addresses beyond the link: $got" ||
		fail "$sh: net_v6_addrs eth0: [$got], want [$want]"
	got=$(run "$sh" 'net_v6_usable eth0')
	[ "$got" = "fec0:0:0:0:0:0:0:f/64" ] && echo "ok: $sh: usable: $got" ||
		fail "$sh: net_v6_usable eth0: [$got]"
	got=$(run "$sh" 'net_v6_usable eth1')
	[ -z "$got" ] && echo "ok: $sh: a failed address is not usable" ||
		fail "$sh: net_v6_usable eth1: [$got]"
	got=$(run "$sh" 'net_v6_full 2001:DB8::7; net_v6_full ::1; net_v6_full fec0::5054:ff:fe12:3456' | tr '\n' ' ')
	want="2001:0db8:0000:0000:0000:0000:0000:0007 0000:0000:0000:0000:0000:0000:0000:0001 fec0:0000:0000:0000:5054:00ff:fe12:3456 "
	[ "$got" = "$want" ] && echo "ok: $sh: full forms" || fail "$sh: net_v6_full: [$got]"
	got=$(run "$sh" 'net_v6_wait eth1 2001:db8::7 2; echo rc=$?')
	case $got in
	*"2001:db8::7 on eth1 is already used by another machine"*rc=1) echo "ok: $sh: ${got%%
*}" ;;
	*) fail "$sh: dadfailed: [$got]" ;;
	esac
	got=$(run "$sh" 'net_v6_wait eth0 fec0::5054:ff:fe12:3456 1; echo rc=$?')
	case $got in
	*"fec0::5054:ff:fe12:3456 on eth0 still tentative (duplicate address detection) after 1s"*rc=1)
		echo "ok: $sh: ${got%%
*}" ;;
	*) fail "$sh: stays tentative: [$got]" ;;
	esac
	# the address passes detection half a second into the wait
	cp "$work/if_inet6" "$work/if_inet6.orig"
	(sleep 0.5; sed 's/ 40 40 40 / 40 40 00 /' "$work/if_inet6.orig" >"$work/if_inet6.new" &&
		mv "$work/if_inet6.new" "$work/if_inet6") &
	got=$(run "$sh" 'net_v6_wait eth0 fec0::5054:ff:fe12:3456 5; echo rc=$?')
	wait
	[ "$got" = rc=0 ] && echo "ok: $sh: a tentative address that passes ends the wait" ||
		fail "$sh: tentative then ok: [$got]"
	cp "$work/if_inet6.orig" "$work/if_inet6"
	got=$($sh -c '. initramfs/lib/cmdline.sh; . initramfs/lib/attach.sh
		for nr_host in "[fec0::2],10.0.2.2" "srv,10.0.2.2" \
		    "10.0.2.2@99,10.0.2.3" "[::1]@9,[fec0::2]" ""; do
			nr_root=nbd:x
			printf "%s " "$(root_families)"
			root_has_name && printf "name "
		done
		set -- $(echo a b)
		echo "words=$#"' 2>&1)
	want="any any name 4 6 4 words=2"
	[ "$got" = "$want" ] && echo "ok: $sh: families of the root's servers: $got" ||
		fail "$sh: root_families: [$got], want [$want]"
done
[ "$failures" -eq 0 ]
