#!/bin/bash
# initramfs/lib/dhcp-event, the udhcpc event script, on the host under
# dash and bash with a fake ip(8) (busybox sh would run its own ip
# applet): a lease is described in net-IF.conf; a lease whose address
# cannot be set is not, and the reason, with the address and ip's error,
# is left for the init and written to the kernel log (a file here).
# The init raises each link before its udhcpc starts, so no event raises
# it again; deconfig and a lease flush the link's IPv4 addresses first.
# A server's value with backslashes (\0047, \n) is kept as it is, where
# dash's echo would make quotes and newlines of them: in net-IF.conf, as
# net_conf (attach.sh) reads it back (in a mount namespace with its own
# /run), and in the error left for the init.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-dhcp-event.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }

# ip that fails "addr add" when IP_FAILS is set, as the kernel refuses;
# each call is logged in NBDROOT_RUN/ip.log
mkdir -p "$work/bin"
cat >"$work/bin/ip" <<'IP'
#!/bin/sh
echo "$*" >>"$NBDROOT_RUN/ip.log"
if [ -n "${IP_FAILS:-}" ] && [ "$1 $2" = "addr add" ]; then
	echo "RTNETLINK answers: Invalid argument" >&2
	exit 2
fi
exit 0
IP
chmod +x "$work/bin/ip"

# event SHELL RUNDIR [VAR=VALUE...]: a "bound" event for eth9
event() {
	local sh=$1 run=$2
	shift 2
	mkdir -p "$run"
	env PATH="$work/bin:$PATH" NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" interface=eth9 \
		ip=10.9.9.9 mask=24 siaddr=10.9.9.1 rootpath=nbd:10.9.9.1:10809/x \
		"$@" $sh initramfs/lib/dhcp-event bound 2>"$run/stderr"
}

for sh in dash bash; do
	run=$work/$sh-ok
	if event "$sh" "$run" && grep -qx "IPV4ADDR='10.9.9.9'" "$run/net-eth9.conf" &&
	    grep -qx "ROOTPATH='nbd:10.9.9.1:10809/x'" "$run/net-eth9.conf"; then
		ok "$sh: a lease is described in net-eth9.conf"
	else
		fail "$sh: no net-eth9.conf for a lease: $(cat "$run/stderr" "$run/net-eth9.conf" 2>&1)"
	fi
	# what each event runs: no "link set up" (an exec on every boot)
	: >"$run/ip.log"
	event "$sh" "$run" router=10.9.9.1
	got=$(tr '\n' ';' <"$run/ip.log")
	want="-4 addr flush dev eth9;addr add 10.9.9.9/24 dev eth9;route add default via 10.9.9.1 dev eth9;"
	[ "$got" = "$want" ] && ok "$sh: a lease runs ip: $got" ||
		fail "$sh: a lease ran ip: \"$got\", want \"$want\""
	: >"$run/ip.log"
	env PATH="$work/bin:$PATH" NBDROOT_RUN="$run" interface=eth9 \
		$sh initramfs/lib/dhcp-event deconfig 2>>"$run/stderr"
	got=$(tr '\n' ';' <"$run/ip.log")
	[ "$got" = "-4 addr flush dev eth9;" ] && ok "$sh: deconfig runs ip: $got" ||
		fail "$sh: deconfig ran ip: \"$got\", want \"-4 addr flush dev eth9;\""
	run=$work/$sh-fails
	event "$sh" "$run" IP_FAILS=1
	rc=$?
	want="eth9: cannot set the leased address 10.9.9.9/24: RTNETLINK answers: Invalid argument"
	if [ "$rc" -ne 0 ] && [ ! -e "$run/net-eth9.conf" ] &&
	    [ "$(cat "$run/nbdroot/dhcp-error-eth9" 2>&1)" = "$want" ] &&
	    grep -qxF "<3>nbdroot: dhcp: $want" "$run/kmsg"; then
		ok "$sh: ip addr add failing: exit $rc, no net-eth9.conf, \"$want\""
	else
		fail "$sh: ip addr add failing: exit $rc, conf $(ls "$run"), error \"$(cat "$run/nbdroot/dhcp-error-eth9" 2>&1)\", log \"$(cat "$run/kmsg" "$run/stderr")\""
	fi
	# an IPv6 address the init configured: IPV6* keys, no IPv4 ones
	run=$work/$sh-v6
	mkdir -p "$run"
	if env NBDROOT_RUN="$run" interface=eth9 ip='' ip6=fec0::15/64 \
	    router6=fec0::2 dns="fec0::3 " rootpath=nbd://[fec0::2]/r \
	    $sh initramfs/lib/dhcp-event dhcp6 2>"$run/stderr" &&
	    grep -qx "PROTO='dhcp6'" "$run/net-eth9.conf" &&
	    grep -qx "IPV6ADDR='fec0::15'" "$run/net-eth9.conf" &&
	    grep -qx "IPV6PREFIXLEN='64'" "$run/net-eth9.conf" &&
	    grep -qx "IPV6GATEWAY='fec0::2'" "$run/net-eth9.conf" &&
	    grep -qx "IPV6DNS0='fec0::3'" "$run/net-eth9.conf" &&
	    grep -qx "IPV4DNS0=''" "$run/net-eth9.conf" &&
	    grep -qx "IPV4ADDR=''" "$run/net-eth9.conf" &&
	    grep -qxF "ROOTPATH='nbd://[fec0::2]/r'" "$run/net-eth9.conf"; then
		ok "$sh: an IPv6 address is described in net-eth9.conf"
	else
		fail "$sh: IPv6 description: $(cat "$run/stderr" "$run/net-eth9.conf" 2>&1)"
	fi
	# a hostile server's value: backslashes kept, nothing injected
	run=$work/$sh-bs
	bad='nbd://h/x\0047;touch${IFS}PWNED;\0047\nIPV6GATEWAY=\0047fe80::bad'
	event "$sh" "$run" rootpath="$bad"
	got=$(ROOT_CONF=$run/net-eth9.conf $sh -c '. "$ROOT_CONF"; printf %s "$ROOTPATH"')
	if [ "$got" = "$bad" ] && [ "$(grep -c '^IPV6GATEWAY=' "$run/net-eth9.conf")" = 1 ] &&
	    grep -qx "IPV6GATEWAY=''" "$run/net-eth9.conf"; then
		ok "$sh: a ROOTPATH with backslashes is kept as it is"
	else
		fail "$sh: ROOTPATH \"$bad\" read back as \"$got\": $(cat "$run/net-eth9.conf")"
	fi
	if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
		got=$(unshare -m $sh -c 'mount -t tmpfs tmpfs /run &&
			cp "$1" /run/net-eth9.conf && . initramfs/lib/attach.sh &&
			net_conf ROOTPATH' sh "$run/net-eth9.conf" 2>&1)
		[ "$got" = "$bad" ] && ok "$sh: net_conf reads the ROOTPATH back as it is" ||
			fail "$sh: net_conf ROOTPATH: \"$got\", not \"$bad\""
	fi
	run=$work/$sh-bserr
	event "$sh" "$run" IP_FAILS=1 ip='10.9.9.9\n\0047'
	want="eth9: cannot set the leased address 10.9.9.9\n\0047/24: RTNETLINK answers: Invalid argument"
	if [ "$(cat "$run/nbdroot/dhcp-error-eth9" 2>&1)" = "$want" ] &&
	    grep -qxF "<3>nbdroot: dhcp: $want" "$run/kmsg"; then
		ok "$sh: an error naming a value with backslashes keeps them"
	else
		fail "$sh: error with backslashes: \"$(cat "$run/nbdroot/dhcp-error-eth9" "$run/kmsg" 2>&1)\""
	fi
done
[ "$checks" -gt 0 ] || fail "no checks ran"
echo "$checks passed, $failures failed"
[ "$failures" -eq 0 ]
