#!/bin/bash
# nbdroot-dhcp-event, udhcpc's event program in the initrd, on the host
# in a network namespace of its own with a veth link named eth9 (root:
# unshare -n). A lease replaces the link's IPv4 addresses (another
# tool's, set before, goes), sets the default route through the first
# router the kernel takes, writes resolv.conf, and is described in
# net-eth9.conf (compared whole with what the init and klibc's readers
# expect). deconfig sets the link up (the init leaves that to udhcpc's
# first event) and leaves it without IPv4. A lease that cannot be
# configured is not described: the reason, naming the link and the
# values, is left for the init and written to the kernel log (a file
# here). A hostile server's values are kept as they are when read back
# (sourced by dash and bash, and by net_conf in attach.sh), and cannot
# add lines to resolv.conf.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=$PWD/initramfs/dhcp-event/nbdroot-dhcp-event
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }
if [ "${1:-}" != --in-netns ]; then
	[ -x "$bin" ] || { echo "FAIL: $bin not built (make)"; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "skipped: needs root (a network namespace)"; exit 77; }
	exec unshare -n -m "$0" --in-netns
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-dhcp-event.XXXXXX")
trap 'rm -rf "$work"' EXIT
ip link add eth9 type veth peer name eth8 && ip link set eth9 up ||
	{ echo "FAIL: no veth link in the namespace"; exit 1; }

# event RUNDIR EVENT [VAR=VALUE...]: the program with the lease of eth9
event() {
	local run=$1 ev=$2
	shift 2
	mkdir -p "$run"
	: >>"$run/kmsg"
	env -i PATH="$PATH" NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
		NBDROOT_RESOLV="$run/resolv.conf" interface=eth9 "$@" \
		"$bin" "$ev" 2>"$run/stderr"
}
addrs() { ip -4 -o addr show dev eth9 | awk '{ print $4 }' | tr '\n' ' '; }

# 1. a lease, with another tool's address on the link before it
ip addr add 192.168.7.7/16 dev eth9
run=$work/bound
event "$run" bound ip=10.9.9.9 mask=24 subnet=255.255.255.0 \
	broadcast=10.9.9.255 router='10.9.9.254 10.9.9.1' \
	dns='10.9.9.3 fec0::3' domain=lab.example hostname=c1 \
	siaddr=10.9.9.1 serverid=10.9.9.2 rootpath=nbd:10.9.9.1:10809/x \
	boot_file=pxelinux.0 lease=3600 search='a.example b.example'
rc=$?
cat >"$work/want" <<'EOF'
DEVICE='eth9'
PROTO='dhcp'
IPV4ADDR='10.9.9.9'
IPV4BROADCAST='10.9.9.255'
IPV4NETMASK='255.255.255.0'
IPV4GATEWAY='10.9.9.254'
IPV4DNS0='10.9.9.3'
IPV4DNS1='fec0::3'
HOSTNAME='c1'
DNSDOMAIN='lab.example'
ROOTSERVER='10.9.9.1'
ROOTPATH='nbd:10.9.9.1:10809/x'
filename='pxelinux.0'
DHCPLEASETIME='3600'
DOMAINSEARCH='a.example b.example'
IPV6ADDR=''
IPV6PREFIXLEN=''
IPV6GATEWAY=''
IPV6DNS0=''
IPV6DNS1=''
EOF
if [ "$rc" = 0 ] && cmp -s "$work/want" "$run/net-eth9.conf"; then
	ok "a lease is described in net-eth9.conf, every key"
else
	fail "lease: exit $rc, $(cat "$run/stderr"); net-eth9.conf differs: $(diff "$work/want" "$run/net-eth9.conf" 2>&1)"
fi
[ ! -e "$run/net-eth9.conf.tmp" ] || fail "net-eth9.conf.tmp left behind"
grep -qE '^<7>nbdroot: time: dhcp-bound [0-9]+\.[0-9]+$' "$run/kmsg" &&
	ok "the lease's time is in the kernel log (the boot's breakdown)" ||
	fail "no dhcp-bound time line: $(cat "$run/kmsg")"
got=$(addrs)
[ "$got" = "10.9.9.9/24 " ] && ok "the link holds the lease's address alone: $got" ||
	fail "the link's IPv4 addresses after the lease: \"$got\", want 10.9.9.9/24 alone"
ip -4 -o addr show dev eth9 | grep -q 'brd 10.9.9.255' &&
	ok "the broadcast address is set" || fail "no brd 10.9.9.255: $(ip -4 -o addr show dev eth9)"
got=$(ip route show default)
case $got in
"default via 10.9.9.254 dev eth9"*) ok "default route via the first router: $got" ;;
*) fail "default route: \"$got\", want via 10.9.9.254 dev eth9" ;;
esac
printf 'search lab.example\nnameserver 10.9.9.3\nnameserver fec0::3\n' >"$work/want"
cmp -s "$work/want" "$run/resolv.conf" && ok "resolv.conf: the domain and both servers" ||
	fail "resolv.conf: $(cat "$run/resolv.conf" 2>&1)"
[ ! -e "$run/resolv.conf.eth9" ] || fail "resolv.conf.eth9 left behind"

# 2. a router that is not an address is passed over; renew is a lease
ip route del default
run=$work/router
event "$run" renew ip=10.9.9.9 mask=24 router='10.9.9.300 10.9.9.1'
got=$(ip route show default)
case $got in
"default via 10.9.9.1 dev eth9"*) ok "a bad first router is passed over: $got" ;;
*) fail "route with a bad first router: \"$got\" ($(cat "$run/stderr"))" ;;
esac
grep -q 'router "10.9.9.300" is not an IPv4 address' "$run/stderr" &&
	ok "the bad router is named on stderr (udhcpc's log)" ||
	fail "the bad router not named: $(cat "$run/stderr")"
[ ! -e "$run/resolv.conf" ] && ok "a lease without servers leaves resolv.conf alone" ||
	fail "resolv.conf written for a lease without dns"

# 3. deconfig, udhcpc's first event: the link up, no IPv4 left, however
# many addresses (more than one dump of the flush takes), secondaries of
# a primary and a point-to-point peer included
ip link set eth9 down
for i in $(seq 1 40); do ip addr add "10.8.$i.1/24" dev eth9; done
ip addr add 10.8.1.2/24 dev eth9	# a secondary
ip addr add 10.7.0.1 peer 10.7.0.2 dev eth9
n=$(ip -4 -o addr show dev eth9 | wc -l)
event "$work/deconfig" deconfig
rc=$?
[ "$rc" = 0 ] && [ "$n" -gt 32 ] && ok "deconfig exits 0 with $n addresses on the link" ||
	fail "deconfig: exit $rc with $n addresses ($(cat "$work/deconfig/stderr"))"
got=$(addrs)
grep -qE '^<7>nbdroot: time: dhcp-deconfig [0-9]+\.[0-9]+$' "$work/deconfig/kmsg" &&
	ok "udhcpc's start is in the kernel log (the boot's breakdown)" ||
	fail "no dhcp-deconfig time line: $(cat "$work/deconfig/kmsg")"
[ -z "$got" ] && ok "deconfig flushes the link's IPv4 addresses" ||
	fail "after deconfig the link holds \"$got\""
ip -o link show eth9 | grep -q '[<,]UP[,>]' && ok "deconfig sets the link up" ||
	fail "after deconfig the link is not up: $(ip -o link show eth9)"

# 4. leases that cannot be configured: nothing described, the reason left
# check NAME WANT VAR=VALUE...: a lease that fails with WANT
check_fails() {
	local name=$1 want=$2 run=$work/$1
	shift 2
	event "$run" bound "$@"
	local rc=$?
	if [ "$rc" = 1 ] && [ ! -e "$run/net-eth9.conf" ] && [ ! -e "$run/net-eth7.conf" ] &&
	    [ "$(cat "$run"/nbdroot/dhcp-error-* 2>&1)" = "$want" ] &&
	    grep -qxF "<3>nbdroot: dhcp: $want" "$run/kmsg"; then
		ok "$name: exit 1, not described, \"$want\""
	else
		fail "$name: exit $rc, files $(ls "$run"), error \"$(cat "$run"/nbdroot/dhcp-error-* 2>&1)\", log \"$(cat "$run/kmsg" "$run/stderr")\""
	fi
}
check_fails bad-address 'eth9: cannot set the leased address 10.9.9.9\n\0047/24: not an IPv4 address' \
	ip='10.9.9.9\n\0047'
check_fails newline-address 'eth9: cannot set the leased address 10.9.9.9
x/24: not an IPv4 address' ip="$(printf '10.9.9.9\nx')"
check_fails bad-mask 'eth9: cannot set the leased address 10.9.9.9/33: "33" is not a prefix length from 0 to 32' \
	ip=10.9.9.9 mask=33
check_fails bad-broadcast 'eth9: cannot set the leased address 10.9.9.9/24: broadcast "10.9.9" is not an IPv4 address' \
	ip=10.9.9.9 broadcast=10.9.9
check_fails no-link 'eth7: cannot set the leased address 10.9.9.9/24: there is no link eth7 (No such device)' \
	ip=10.9.9.9 interface=eth7
[ -z "$(addrs)" ] && ok "no failed lease left an address" || fail "a failed lease left $(addrs)"
# a full /run: the write fails at the flush, and no cut file is put in place
full=$work/full
mkdir -p "$full" && mount -t tmpfs -o size=64k tmpfs "$full" &&
	{ dd if=/dev/zero of="$full/fill" bs=4k 2>/dev/null; :; }
: >"$work/full-kmsg"
env -i PATH="$PATH" NBDROOT_RUN="$full" NBDROOT_KMSG="$work/full-kmsg" \
	NBDROOT_RESOLV="$work/full-resolv" interface=eth9 ip=10.9.9.9 \
	rootpath="$(printf 'x%.0s' $(seq 1 300))" "$bin" bound 2>"$work/full-stderr"
rc=$?
if [ "$rc" = 1 ] && [ ! -e "$full/net-eth9.conf" ] && [ ! -e "$full/net-eth9.conf.tmp" ] &&
    grep -q "cannot write $full/net-eth9.conf: No space left on device" "$work/full-kmsg"; then
	ok "a full /run: exit 1, no net-eth9.conf, \"No space left on device\""
else
	fail "a full /run: exit $rc, files $(ls "$full"), log \"$(cat "$work/full-kmsg" "$work/full-stderr")\""
fi
umount "$full"
ip -4 addr flush dev eth9
run=$work/bad-name
event "$run" bound ip=10.9.9.9 interface=../x
rc=$?
left=$(find "$run" -mindepth 1 ! -name kmsg ! -name stderr)
[ "$rc" = 2 ] && [ -z "$left" ] &&
	ok "interface=../x: refused, nothing written" ||
	fail "interface=../x: exit $rc, left $left"

# 5. an IPv6 address the init configured: IPV6* keys, no IPv4 ones
run=$work/v6
if event "$run" dhcp6 ip='' ip6=fec0::15/64 router6=fec0::2 dns="fec0::3 " \
	rootpath=nbd://[fec0::2]/r &&
    grep -qx "PROTO='dhcp6'" "$run/net-eth9.conf" &&
    grep -qx "IPV6ADDR='fec0::15'" "$run/net-eth9.conf" &&
    grep -qx "IPV6PREFIXLEN='64'" "$run/net-eth9.conf" &&
    grep -qx "IPV6GATEWAY='fec0::2'" "$run/net-eth9.conf" &&
    grep -qx "IPV6DNS0='fec0::3'" "$run/net-eth9.conf" &&
    grep -qx "IPV4DNS0=''" "$run/net-eth9.conf" &&
    grep -qx "IPV4ADDR=''" "$run/net-eth9.conf" &&
    grep -qxF "ROOTPATH='nbd://[fec0::2]/r'" "$run/net-eth9.conf"; then
	ok "an IPv6 address is described in net-eth9.conf"
else
	fail "IPv6 description: $(cat "$run/stderr" "$run/net-eth9.conf" 2>&1)"
fi
run=$work/static
event "$run" static ip=10.9.9.9 subnet=255.255.255.0 router=10.9.9.1
grep -qx "PROTO='none'" "$run/net-eth9.conf" && [ -z "$(addrs)" ] &&
	ok "static: described as PROTO none, the link left as the init set it" ||
	fail "static: $(cat "$run/net-eth9.conf" 2>&1), addresses $(addrs)"

# 6. a hostile server's values: kept as they are but for control
# characters (a newline would start a line net_conf reads as a key),
# nothing injected
run=$work/hostile
bad='nbd://h/x\0047;touch${IFS}PWNED;'"'"'\n'"'"'
IPV6GATEWAY='"'"'fe80::bad'
kept=${bad//$'\n'/?}
event "$run" bound ip=10.9.9.9 rootpath="$bad" \
	domain="$(printf 'evil.example\nnameserver 6.6.6.6')" dns='10.9.9.3 6.6.6.6;x'
for sh in dash bash; do
	got=$(cd "$work" && ROOT_CONF=$run/net-eth9.conf $sh -c '. "$ROOT_CONF"; printf %s "$ROOTPATH"')
	if [ "$got" = "$kept" ] && [ "$(grep -c '^IPV6GATEWAY=' "$run/net-eth9.conf")" = 1 ] &&
	    grep -qx "IPV6GATEWAY=''" "$run/net-eth9.conf" && [ ! -e "$work/PWNED" ]; then
		ok "$sh: a ROOTPATH with quotes and backslashes reads back as it is, its newline as ?"
	else
		fail "$sh: ROOTPATH read back as \"$got\": $(cat "$run/net-eth9.conf")"
	fi
done
# net_conf (attach.sh), the init's reader, in the shells that run it:
# the initrd's busybox ash, dracut's dash or bash
mount -t tmpfs tmpfs /run || fail "no tmpfs on /run in the namespace"
for v in "$bad" "'" "''x''" "x'" "'x" "a=b='c'=" "\\'\\''"; do
	rm -f /run/net-*.conf
	event "$work/quote" static ip=10.9.9.9 rootpath="$v"
	cp "$work/quote/net-eth9.conf" /run/net-eth9.conf
	want=${v//$'\n'/?}
	for sh in "busybox ash" dash bash; do
		got=$($sh -c '. initramfs/lib/attach.sh && net_conf ROOTPATH' 2>&1)
		[ "$got" = "$want" ] && ok "$sh: net_conf reads ROOTPATH \"$want\" back as written" ||
			fail "$sh: net_conf ROOTPATH: \"$got\", not \"$want\""
	done
done
printf 'nameserver 10.9.9.3\n' >"$work/want"
cmp -s "$work/want" "$run/resolv.conf" &&
	ok "resolv.conf: no line from a domain with a newline, no server that is not an address" ||
	fail "hostile resolv.conf: $(cat "$run/resolv.conf")"

[ "$checks" -gt 0 ] || fail "no checks ran"
echo "$checks passed, $failures failed"
[ "$failures" -eq 0 ]
