#!/bin/bash
# nbdroot-dhcp4, the init's DHCPv4 client, on the host: in two network
# namespaces of its own (ip netns, named with the test's pid) a veth
# pair links a server on "vs" (10.9.0.1/24) to the client's link "vc".
# busybox udhcpd: a lease with every option the init reads (router, two
# name servers, domain, a search list, root path, siaddr, boot file) is
# set on the link (address, prefix and default route read back with ip),
# described in net-vc.conf and resolv.conf (compared whole), with the
# deconfig and bound time lines in the kernel log (a file here); the pid
# file is gone after the exit and the FIFO heard "vc". dnsmasq: a lease
# from its range with its root path. A scripted server
# (tests/unit/dhcp4-server.py): answers for another transaction or
# client are passed over; a NAK starts again from DISCOVER (and is said),
# an ACK or NAK from a server not asked is passed over, and NAKs to
# every REQUEST bring no storm of DISCOVERs;
# options in the file and sname fields (option 52), a root path split in
# three (RFC 3396) and a compressed search list split in two are read;
# unanswered messages go again, a REQUEST with its DISCOVER's secs;
# a reply with an option past its end and one with a 3-byte mask are
# named in the kernel log and passed over (a flood of them is not all
# said: /run is RAM); a mask with holes is refused
# (exit 1, dhcp-error-vc names it, nothing set); a root path with quotes
# and control characters is written so that sourcing it runs nothing. No
# server: -t 2 gives up with exit 1, naming the link and the seconds,
# and still tells the FIFO, as a client that crashes does; nor does
# one on a link without carrier, naming that. Usage errors (no -i, a bad -t, a bad link
# name): exit 2, naming the value; a bad -t or link name still tells
# the FIFO. Needs root for the namespaces (the usage errors run without
# it; skips after them).
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=$PWD/initramfs/dhcp4/nbdroot-dhcp4
server=$PWD/tests/unit/dhcp4-server.py
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }
[ -x "$bin" ] || { echo "FAIL: $bin not built (make)"; exit 1; }
srv=nbdroot-dhcp4-s$$ cli=nbdroot-dhcp4-c$$
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-dhcp4.XXXXXX")
daemon=
cleanup() {
	local p
	[ -z "$daemon" ] || kill "$daemon" 2>/dev/null
	# anything else left in the namespaces is this test's
	for p in $(ip netns pids "$srv" 2>/dev/null) $(ip netns pids "$cli" 2>/dev/null); do
		kill "$p"
	done
	wait
	ip netns del "$srv" 2>/dev/null
	ip netns del "$cli" 2>/dev/null
	# the servers' logs and the client's files, for a failure
	if [ "$failures" -eq 0 ]; then
		rm -rf "$work"
	else
		echo "kept $work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. usage errors: exit 2, the value named, before any network
# usage WANT ARGS...: nbdroot-dhcp4 ARGS exits 2 saying WANT
usage() {
	local want=$1 out rc
	shift
	out=$("$bin" "$@" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$want" <<<"$out"; then
		ok "$*: exit 2, \"$want\""
	else
		fail "$*: exit $rc, not 2 with \"$want\": $out"
	fi
}
usage "usage: nbdroot-dhcp4 -i LINK [-t SECONDS] [-p PIDFILE] [-n FIFO]"
usage "usage: nbdroot-dhcp4 -i LINK" -t 5
usage 'nbdroot-dhcp4: -t "0" is not a number of seconds from 1 to 999999' -i vc -t 0
usage 'nbdroot-dhcp4: -t "x" is not a number of seconds from 1 to 999999' -i vc -t x
usage 'nbdroot-dhcp4: -t "" is not a number of seconds from 1 to 999999' -i vc -t ''
usage 'nbdroot-dhcp4: -t "1000000" is not a number of seconds from 1 to 999999' -i vc -t 1000000
usage 'nbdroot-dhcp4: -i "../x" is not a link name' -i ../x
usage 'nbdroot-dhcp4: -i "a/b" is not a link name' -i a/b
usage 'nbdroot-dhcp4: -i "" is not a link name' -i ''
usage 'nbdroot-dhcp4: -i "abcdefghijklmnop" is not a link name' -i abcdefghijklmnop
# the init waits on its FIFO for a line from each client, with no bound
# of its own: a -t refused still says the link there (the boot line's
# retry, 6 digits at most, is never refused)
mkfifo "$work/usage-fifo"
exec 3<>"$work/usage-fifo"
out=$("$bin" -i vc -t 1000000 -n "$work/usage-fifo" 2>&1 </dev/null)
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
[ "$rc" = 2 ] && [ "$notified" = vc ] &&
	ok "-t 1000000 with -n: exit 2, and the FIFO heard \"vc\"" ||
	fail "-t 1000000 with -n: exit $rc, the FIFO heard \"$notified\", not \"vc\": $out"
# a link name refused too (ip=.:dhcp passes the init's checks: sysfs
# has /sys/class/net/.); a name too long is said cut to IFNAMSIZ - 1
for name in . abcdefghijklmnop; do
	exec 3<>"$work/usage-fifo"
	out=$("$bin" -i "$name" -n "$work/usage-fifo" 2>&1 </dev/null 3>&-)
	rc=$?
	notified=
	read -r -t 1 notified <&3
	exec 3>&-
	want=${name:0:15}
	[ "$rc" = 2 ] && [ "$notified" = "$want" ] &&
		ok "-i $name with -n: exit 2, and the FIFO heard \"$want\"" ||
		fail "-i $name with -n: exit $rc, the FIFO heard \"$notified\", not \"$want\": $out"
done

if [ "$(id -u)" != 0 ]; then
	[ "$failures" -eq 0 ] || { echo "$checks passed, $failures failed"; exit 1; }
	echo "skipped: needs root (network namespaces)"
	exit 77
fi
for tool in busybox dnsmasq python3 ss; do
	command -v "$tool" >/dev/null || { echo "skipped: no $tool (scripts/deps)"; exit 77; }
done
busybox --list | grep -qx udhcpd || { echo "skipped: busybox without udhcpd"; exit 77; }

S() { ip netns exec "$srv" "$@"; }
mac=52:54:00:12:34:56
ip netns add "$srv" && ip netns add "$cli" &&
	ip -n "$srv" link add vs type veth peer name vc netns "$cli" &&
	ip -n "$cli" link set vc address "$mac" &&
	ip -n "$srv" addr add 10.9.0.1/24 dev vs && ip -n "$srv" link set vs up &&
	ip -n "$cli" link set lo up ||
	{ echo "FAIL: no namespaces $srv and $cli with a veth pair"; exit 1; }

# serve NAME COMMAND...: a server in the server namespace until the next
# serve or stop, its output in $work/NAME.log; waits (5 s at most) for a
# socket on port 67
serve() {
	local name=$1
	shift
	stop
	# not through S: $! must be the server's own pid
	ip netns exec "$srv" "$@" >"$work/$name.log" 2>&1 &
	daemon=$!
	for _ in $(seq 50); do
		[ -n "$(S ss -Hlun 'sport = :67')" ] && return 0
		sleep 0.1
	done
	fail "$name: no server on port 67 within 5 s: $(cat "$work/$name.log")"
}
stop() {
	[ -n "$daemon" ] || return 0
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	daemon=
}

# client NAME SECONDS: nbdroot-dhcp4 -i vc -t SECONDS in the client
# namespace (a watchdog of SECONDS + 10), its outputs in $work/NAME:
# out, err, kmsg, net-vc.conf, resolv.conf, pid, fifo; sets rc, and
# notified to the line read from the FIFO (1 s at most)
client() {
	local run=$work/$1
	mkdir -p "$run"
	: >"$run/kmsg"
	mkfifo "$run/fifo"
	# held open: what is written to a FIFO without a reader is lost
	exec 3<>"$run/fifo"
	timeout -k 1 $(($2 + 10)) ip netns exec "$cli" env -i PATH="$PATH" \
		NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
		NBDROOT_RESOLV="$run/resolv.conf" \
		"$bin" -i vc -t "$2" -p "$run/pid" -n "$run/fifo" \
		>"$run/out" 2>"$run/err"
	rc=$?
	notified=
	read -r -t 1 notified <&3
	exec 3>&-
}
addrs() { ip -n "$cli" -4 -o addr show dev vc | awk '{ print $4 }' | tr '\n' ' '; }
route() { ip -n "$cli" -4 route show default; }

# has NAME LINE: the line is in NAME's net-vc.conf
has() {
	if grep -qxF -- "$2" "$work/$1/net-vc.conf" 2>/dev/null; then
		ok "$1: $2"
	else
		fail "$1: no line $2 in net-vc.conf: $(cat "$work/$1/net-vc.conf" "$work/$1/err" 2>&1)"
	fi
}
# leased NAME ADDRESS: exit 0, the link holds ADDRESS/24 alone
leased() {
	local got
	got=$(addrs)
	if [ "$rc" = 0 ] && [ "$got" = "$2/24 " ]; then
		ok "$1: exit 0, the link holds $got"
	else
		fail "$1: exit $rc, link $got, want $2/24: $(cat "$work/$1/err")"
	fi
}

# 2. busybox udhcpd, every option the init reads
cat >"$work/udhcpd.conf" <<EOF
start 10.9.0.100
end 10.9.0.100
interface vs
lease_file $work/udhcpd.leases
pidfile $work/udhcpd.pid
option subnet 255.255.255.0
option broadcast 10.9.0.255
option router 10.9.0.1
option dns 10.9.0.53 10.9.0.54
option domain lab.example
option search lab.example example.org
option rootpath 10.9.0.1:10809/root
option lease 3600
siaddr 10.9.0.5
boot_file pxelinux.0
EOF
: >"$work/udhcpd.leases"
serve udhcpd busybox udhcpd -f -a 100 "$work/udhcpd.conf"
ip -n "$cli" addr add 192.168.77.7/16 dev vc
client udhcpd 10
run=$work/udhcpd
cat >"$work/want" <<'EOF'
DEVICE='vc'
PROTO='dhcp'
IPV4ADDR='10.9.0.100'
IPV4BROADCAST='10.9.0.255'
IPV4NETMASK='255.255.255.0'
IPV4GATEWAY='10.9.0.1'
IPV4DNS0='10.9.0.53'
IPV4DNS1='10.9.0.54'
HOSTNAME=''
DNSDOMAIN='lab.example'
ROOTSERVER='10.9.0.5'
ROOTPATH='10.9.0.1:10809/root'
filename='pxelinux.0'
DHCPLEASETIME='3600'
DOMAINSEARCH='lab.example example.org'
IPV6ADDR=''
IPV6PREFIXLEN=''
IPV6GATEWAY=''
IPV6DNS0=''
IPV6DNS1=''
EOF
if [ "$rc" = 0 ] && cmp -s "$work/want" "$run/net-vc.conf"; then
	ok "udhcpd: exit 0, net-vc.conf holds every key"
else
	fail "udhcpd: exit $rc ($(cat "$run/err")); net-vc.conf differs: $(diff "$work/want" "$run/net-vc.conf" 2>&1)"
fi
got=$(addrs)
[ "$got" = "10.9.0.100/24 " ] && ok "udhcpd: the link holds the lease alone: $got" ||
	fail "udhcpd: the link's IPv4 addresses: \"$got\", want 10.9.0.100/24 alone"
ip -n "$cli" -4 -o addr show dev vc | grep -q 'brd 10.9.0.255' &&
	ok "udhcpd: the broadcast address is set" ||
	fail "udhcpd: no brd 10.9.0.255: $(ip -n "$cli" -4 -o addr show dev vc)"
got=$(route)
case $got in
"default via 10.9.0.1 dev vc"*) ok "udhcpd: default route: $got" ;;
*) fail "udhcpd: default route \"$got\", want via 10.9.0.1 dev vc" ;;
esac
printf 'search lab.example\nnameserver 10.9.0.53\nnameserver 10.9.0.54\n' >"$work/want"
cmp -s "$work/want" "$run/resolv.conf" && ok "udhcpd: resolv.conf: the domain and both servers" ||
	fail "udhcpd: resolv.conf: $(cat "$run/resolv.conf" 2>&1)"
[ ! -e "$run/pid" ] && ok "udhcpd: the pid file is gone after the exit" ||
	fail "udhcpd: the pid file is left: $(cat "$run/pid")"
[ "$notified" = vc ] && ok "udhcpd: the FIFO heard \"vc\"" ||
	fail "udhcpd: the FIFO heard \"$notified\", not \"vc\""
for ev in deconfig bound; do
	grep -qE "^<7>nbdroot: time: dhcp-$ev [0-9]+\.[0-9]+$" "$run/kmsg" &&
		ok "udhcpd: the kernel log has the dhcp-$ev time" ||
		fail "udhcpd: no dhcp-$ev time line in the kernel log: $(cat "$run/kmsg")"
done
grep -qx "udhcpd: sending ACK to 10.9.0.100" "$work/udhcpd.log" &&
	ok "udhcpd: it acknowledged 10.9.0.100" ||
	fail "udhcpd: no ACK in its log: $(cat "$work/udhcpd.log")"

# 3. dnsmasq
serve dnsmasq dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=vs \
	--bind-interfaces --user=root --no-ping --log-dhcp \
	--pid-file="$work/dnsmasq.pid" --dhcp-leasefile="$work/dnsmasq.leases" \
	--dhcp-range=10.9.0.150,10.9.0.150,255.255.255.0,1h \
	--dhcp-option=17,10.9.0.1:10809/dnsmasq-root
client dnsmasq 10
leased dnsmasq 10.9.0.150
has dnsmasq "ROOTPATH='10.9.0.1:10809/dnsmasq-root'"
has dnsmasq "IPV4GATEWAY='10.9.0.1'"
has dnsmasq "DHCPLEASETIME='3600'"
grep -q "DHCPACK(vs) 10.9.0.150 $mac" "$work/dnsmasq.log" &&
	ok "dnsmasq: it acknowledged 10.9.0.150 to $mac" ||
	fail "dnsmasq: no DHCPACK in its log: $(cat "$work/dnsmasq.log")"

# 4. the scripted server
# crafted MODE [SECONDS]: dhcp4-server.py MODE, then the client (-t
# SECONDS, default 10)
crafted() {
	serve "$1" python3 "$server" "$1"
	client "$1" "${2:-10}"
}

# answers for another transaction, then another client, are passed over
crafted other
leased other 10.9.0.50
grep -qx "REQUEST xid [0-9a-f]* for 10.9.0.50 from 10.9.0.1" "$work/other.log" &&
	grep -qx "sent OFFER for another transaction" "$work/other.log" &&
	grep -qx "sent ACK for another client" "$work/other.log" &&
	ok "other: the offers and ACKs for another transaction and client came first, 10.9.0.50 was asked" ||
	fail "other: the server's log: $(cat "$work/other.log")"
! grep -q "ignored" "$work/other/kmsg" &&
	ok "other: answers for another client are not in the kernel log" ||
	fail "other: the kernel log: $(cat "$work/other/kmsg")"

# a NAK: a new transaction from DISCOVER
crafted nak
leased nak 10.9.0.51
grep -qxF "nbdroot-dhcp4: vc: the server refused the offered address (NAK): asking again" \
	"$work/nak/err" && ok "nak: the NAK is said" ||
	fail "nak: the NAK not said: $(cat "$work/nak/err")"
grep -q "^DISCOVER xid [0-9a-f]* transaction 2$" "$work/nak.log" &&
	grep -qx "sent NAK" "$work/nak.log" &&
	ok "nak: a second transaction started from DISCOVER after the NAK" ||
	fail "nak: the server's log: $(cat "$work/nak.log")"

# option overload: the file and sname fields hold options
crafted overload
leased overload 10.9.0.50
cat >"$work/want" <<'EOF'
DEVICE='vc'
PROTO='dhcp'
IPV4ADDR='10.9.0.50'
IPV4BROADCAST=''
IPV4NETMASK='255.255.255.0'
IPV4GATEWAY='10.9.0.1'
IPV4DNS0='10.9.0.53'
IPV4DNS1=''
HOSTNAME=''
DNSDOMAIN='lab.example'
ROOTSERVER='10.9.0.1'
ROOTPATH='10.9.0.1:10809/over/root'
filename='pxe.0'
DHCPLEASETIME='3600'
DOMAINSEARCH=''
IPV6ADDR=''
IPV6PREFIXLEN=''
IPV6GATEWAY=''
IPV6DNS0=''
IPV6DNS1=''
EOF
cmp -s "$work/want" "$work/overload/net-vc.conf" &&
	ok "overload: the options in the file and sname fields are read, the fields not taken as names" ||
	fail "overload: net-vc.conf differs: $(diff "$work/want" "$work/overload/net-vc.conf" 2>&1)"
case $(route) in
"default via 10.9.0.1 dev vc"*) ok "overload: the router from the file field is the default route" ;;
*) fail "overload: default route \"$(route)\"" ;;
esac

# RFC 3396: the root path in three options, joined
crafted split
leased split 10.9.0.50
has split "ROOTPATH='10.9.0.1:10809/split/root'"
has split "IPV4DNS0='10.9.0.53'"

# RFC 3397: a compressed search list over two options
crafted search
leased search 10.9.0.50
has search "DOMAINSEARCH='lab.example.com boot.example.com example.org'"

# a server that NAKs every REQUEST: each new DISCOVER waits as a
# retransmission would (1, 2, 4 s), not a storm at the link's pace
crafted nakall 4
n=$(grep -c '^DISCOVER' "$work/nakall.log")
[ "$rc" = 1 ] && [ "$n" -ge 2 ] && [ "$n" -le 4 ] &&
	ok "nakall: exit 1 after -t 4, $n DISCOVERs" ||
	fail "nakall: exit $rc, $n DISCOVERs in 4 s"

# an ACK or a NAK from a server other than the one asked is passed over
# (RFC 2131 3.1: the client asked the server it named in option 54)
crafted ackother
leased ackother 10.9.0.50
has ackother "ROOTPATH='10.9.0.1:10809/root'"
! grep -q "NAK" "$work/ackother/err" &&
	ok "ackother: the other server's NAK did not start over" ||
	fail "ackother: $(cat "$work/ackother/err")"

# lost messages are sent again, and the REQUEST's secs is the last
# DISCOVER's (RFC 2131 3.1: "MUST use the same value ... as the
# original DHCPDISCOVER message")
crafted slow
leased slow 10.9.0.50
secs=$(grep '^secs ' "$work/slow.log" | tr '\n' ' ')
case $secs in
"secs 0 DISCOVER secs "[1-9]" DISCOVER secs "*)
	# shellcheck disable=SC2086 # the words
	set -- $secs
	[ "$#" = 15 ] && [ "${11}" = "$8" ] && [ "${14}" = "$8" ] &&
		ok "slow: 3 DISCOVERs, 2 REQUESTs with the last DISCOVER's secs: $secs" ||
		fail "slow: the REQUESTs' secs are not the last DISCOVER's: $secs" ;;
*)	fail "slow: the server saw $secs" ;;
esac

# malformed replies are named in the kernel log and passed over
crafted malformed
leased malformed 10.9.0.50
has malformed "ROOTPATH='10.9.0.1:10809/root'"
for why in "option 17 of 200 bytes runs past the end of the options field" \
    "option 1 (subnet mask) has 3 bytes, not 4"; do
	grep -qxF "<4>nbdroot: dhcp: vc: ignored a reply: $why" "$work/malformed/kmsg" &&
		ok "malformed: in the kernel log: $why" ||
		fail "malformed: \"$why\" not in the kernel log: $(cat "$work/malformed/kmsg")"
done

# a flood of them: the first 32 said on stderr (a file in /run, RAM),
# then a line saying the others are not; 3 in the kernel log
crafted flood
leased flood 10.9.0.50
n=$(grep -c 'ignored a reply' "$work/flood/err")
k=$(grep -c 'ignored a reply' "$work/flood/kmsg")
[ "$n" = 32 ] && [ "$k" = 3 ] &&
	grep -qxF "nbdroot-dhcp4: vc: ignored 32 replies: the others are not said" "$work/flood/err" &&
	ok "flood: 32 ignored replies said on stderr, then that the others are not; 3 in the kernel log" ||
	fail "flood: $n ignored replies on stderr, $k in the kernel log: $(tail -n 3 "$work/flood/err")"

# a mask with holes: no lease set, the reason left for the init
ip -n "$cli" addr add 192.168.77.7/16 dev vc
crafted holes
run=$work/holes
want='vc: cannot set the leased address 10.9.0.50/255.0.255.0: "255.0.255.0" is not a prefix length from 0 to 32'
if [ "$rc" = 1 ] && [ "$(cat "$run/nbdroot/dhcp-error-vc" 2>&1)" = "$want" ] &&
    grep -qxF "<3>nbdroot: dhcp: $want" "$run/kmsg"; then
	ok "holes: exit 1, dhcp-error-vc and the kernel log say: $want"
else
	fail "holes: exit $rc, dhcp-error-vc \"$(cat "$run/nbdroot/dhcp-error-vc" 2>&1)\", log $(cat "$run/kmsg" "$run/err")"
fi
[ ! -e "$run/net-vc.conf" ] && [ -z "$(addrs)" ] && [ -z "$(route)" ] &&
	ok "holes: not described, no address or route left on the link" ||
	fail "holes: files $(ls "$run"), link \"$(addrs)\", route \"$(route)\""
[ "$notified" = vc ] && [ ! -e "$run/pid" ] &&
	ok "holes: the FIFO heard \"vc\", the pid file is gone" ||
	fail "holes: the FIFO heard \"$notified\", pid file $(ls "$run")"

# quotes and control characters in the root path
crafted quotes
leased quotes 10.9.0.50
# the $(...) and backquotes are the server's, in single quotes: never run
has quotes 'ROOTPATH='\''10.9.0.1:/r'\''\'\'''\''o"ot?$(touch PWNED)`x`\??;end'\'
want='10.9.0.1:/r'\''o"ot?$(touch PWNED)`x`\??;end'
for sh in dash bash; do
	command -v "$sh" >/dev/null || continue
	got=$(cd "$work" && CONF=$work/quotes/net-vc.conf "$sh" -c '. "$CONF"; printf %s "$ROOTPATH"')
	[ "$got" = "$want" ] && [ ! -e "$work/PWNED" ] &&
		ok "quotes: $sh reads ROOTPATH back as written, nothing run" ||
		fail "quotes: $sh read ROOTPATH as \"$got\"; PWNED $(ls "$work/PWNED" 2>&1)"
done
stop

# 5. no server: -t 2 gives up, says so and tells the FIFO
run=$work/none
mkdir -p "$run"
: >"$run/kmsg"
mkfifo "$run/fifo"
exec 3<>"$run/fifo"
ip netns exec "$cli" env -i PATH="$PATH" NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
	NBDROOT_RESOLV="$run/resolv.conf" "$bin" -i vc -t 2 -p "$run/pid" \
	-n "$run/fifo" >"$run/out" 2>"$run/err" &
pid=$!
for _ in $(seq 20); do
	[ -s "$run/pid" ] && break
	sleep 0.1
done
[ "$(cat "$run/pid" 2>&1)" = "$pid" ] && ok "none: the pid file holds $pid while it runs" ||
	fail "none: the pid file holds \"$(cat "$run/pid" 2>&1)\", not $pid"
# a watchdog, not a measure: 8 s is far past the 2 s asked for
for _ in $(seq 80); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	kill "$pid"
	fail "none: still running 8 s after -t 2"
fi
wait "$pid"
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
[ "$rc" = 1 ] && grep -qxF "nbdroot-dhcp4: vc: no lease within 2s" "$run/err" &&
	ok "none: exit 1, \"nbdroot-dhcp4: vc: no lease within 2s\"" ||
	fail "none: exit $rc: $(cat "$run/err")"
[ "$notified" = vc ] && [ ! -e "$run/pid" ] && [ ! -e "$run/net-vc.conf" ] &&
	ok "none: the FIFO heard \"vc\", the pid file is gone, nothing described" ||
	fail "none: the FIFO heard \"$notified\"; files $(ls "$run")"

# no carrier (the server's end down): nothing sent, exit 1 at -t,
# naming the cause, the FIFO told
ip -n "$srv" link set vs down
run=$work/nocarrier
mkdir -p "$run"
mkfifo "$run/fifo"
exec 3<>"$run/fifo"
ip netns exec "$cli" env -i NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
	timeout 10 "$bin" -i vc -t 2 -n "$run/fifo" >"$run/out" 2>"$run/err" 3>&-
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
ip -n "$srv" link set vs up
[ "$rc" = 1 ] && [ "$notified" = vc ] &&
	grep -qxF "nbdroot-dhcp4: vc: no carrier (is a cable plugged in?)" "$run/err" &&
	ok "nocarrier: exit 1, the cause named, the FIFO heard \"vc\"" ||
	fail "nocarrier: exit $rc, FIFO \"$notified\": $(cat "$run/err")"

# a crash (a parser's bug) still tells the FIFO: the init would wait
# for its line forever
run=$work/crash
mkdir -p "$run"
mkfifo "$run/fifo"
exec 3<>"$run/fifo"
ip netns exec "$cli" env -i NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
	"$bin" -i vc -t 20 -p "$run/pid" -n "$run/fifo" >"$run/out" 2>"$run/err" 3>&- &
pid=$!
for _ in $(seq 20); do
	[ -s "$run/pid" ] && break
	sleep 0.1
done
kill -SEGV "$pid"
wait "$pid"
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
[ "$rc" != 0 ] && [ "$notified" = vc ] && [ ! -e "$run/pid" ] &&
	ok "crash: SIGSEGV, exit $rc, the FIFO heard \"vc\", the pid file is gone" ||
	fail "crash: exit $rc, the FIFO heard \"$notified\"; files $(ls "$run")"

# SIGTERM (a caller that has its lease from another link): the pid file
# goes, the FIFO is not told (nbdroot-dhcp4's header comment)
run=$work/term
mkdir -p "$run"
mkfifo "$run/fifo"
exec 3<>"$run/fifo"
ip netns exec "$cli" env -i NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
	"$bin" -i vc -t 20 -p "$run/pid" -n "$run/fifo" >"$run/out" 2>"$run/err" 3>&- &
pid=$!
for _ in $(seq 20); do
	[ -s "$run/pid" ] && break
	sleep 0.1
done
written=$(cat "$run/pid" 2>/dev/null)
kill -TERM "$pid"
wait "$pid"
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
[ "$rc" = 1 ] && [ "$written" = "$pid" ] && [ -z "$notified" ] &&
	[ ! -e "$run/pid" ] &&
	ok "term: SIGTERM, exit 1, the pid file ($written) is gone, the FIFO not told" ||
	fail "term: exit $rc, pid file \"$written\" for $pid, the FIFO heard \"$notified\"; files $(ls "$run")"

# a link that does not exist: exit 1, named, the FIFO told
run=$work/nosuch
mkdir -p "$run"
mkfifo "$run/fifo"
exec 3<>"$run/fifo"
ip netns exec "$cli" env -i NBDROOT_RUN="$run" NBDROOT_KMSG="$run/kmsg" \
	"$bin" -i vc0 -t 2 -n "$run/fifo" >"$run/out" 2>"$run/err"
rc=$?
notified=
read -r -t 1 notified <&3
exec 3>&-
[ "$rc" = 1 ] && [ "$notified" = vc0 ] &&
	grep -qF "nbdroot-dhcp4: vc0: no Ethernet address in /sys/class/net/vc0/address" "$run/err" &&
	ok "nosuch: exit 1, the missing link named, the FIFO heard \"vc0\"" ||
	fail "nosuch: exit $rc, FIFO \"$notified\": $(cat "$run/err")"

[ "$checks" -gt 0 ] || fail "no checks ran"
echo "$checks passed, $failures failed"
[ "$failures" -eq 0 ]
