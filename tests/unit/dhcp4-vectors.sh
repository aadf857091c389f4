#!/bin/bash
# nbdroot-dhcp4 -r on DHCPv4 server messages crafted from the RFCs
# (tests/unit/dhcp4-craft.py), each output compared whole with what the
# RFCs make of the message: an ACK with every field we read written as
# net-LINK.conf and resolv.conf lines, an OFFER, a NAK; refused with the
# reason: another transaction or client, a request, no magic cookie, no
# message type or server identifier, an address no host may have, a
# fixed-size option of another size, an option past its area; option
# overload (52) and split options (RFC 3396) joined in their order; the
# search list (119) with its compression pointers, and every way a list
# can be bad (left out, the lease kept); strings cut at a NUL, a server's control characters and
# quotes made harmless in the conf file.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=initramfs/dhcp4/nbdroot-dhcp4
[ -x "$bin" ] || { echo "FAIL: $bin not built (run make)"; exit 1; }
command -v python3 >/dev/null || { echo "skipped: python3 not installed"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-dhcp4.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
python3 tests/unit/dhcp4-craft.py "$dir" || { echo "FAIL: dhcp4-craft.py"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# check NAME RC EXPECTED: the message NAME to xid 0x12345678 and client
# 52:54:00:12:34:56 makes nbdroot-dhcp4 -r exit RC and print EXPECTED
check() {
	local out rc
	out=$("$bin" -r 0x12345678 52:54:00:12:34:56 <"$dir/$1" 2>&1)
	rc=$?
	if [ "$rc" = "$2" ] && [ "$out" = "$3" ]; then
		echo "ok: $1: $(head -n 1 <<<"$out")"
	else
		fail "$1: exit $rc (expected $2), output expected (<) and printed (>):"
		diff <(printf '%s\n' "$3") <(printf '%s\n' "$out")
	fi
}

refused() {
	check "$1" 1 "refused: $2"
}

# lease NAME TYPE [KEY=VALUE...] [-- LINE...]: the message NAME gives
# message type TYPE and net-LINK.conf with those values (as written
# between the quotes), the others as a minimal ACK's (address 10.0.0.42,
# the server identifier 10.0.0.1 as root server) or empty, then the
# resolv.conf LINEs
keys="DEVICE PROTO IPV4ADDR IPV4BROADCAST IPV4NETMASK IPV4GATEWAY IPV4DNS0
IPV4DNS1 HOSTNAME DNSDOMAIN ROOTSERVER ROOTPATH filename DHCPLEASETIME
DOMAINSEARCH IPV6ADDR IPV6PREFIXLEN IPV6GATEWAY IPV6DNS0 IPV6DNS1"
# (LEFT-OUT=WHY: the line saying an option was left out, after the type)
lease() {
	local name=$1 type=$2 k expect left=
	local -A v=([DEVICE]=eth0 [PROTO]=dhcp [IPV4ADDR]=10.0.0.42
		[ROOTSERVER]=10.0.0.1)
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in LEFT-OUT=*) left=${1#*=}; shift; continue ;; esac
		grep -qw -- "${1%%=*}" <<<"$keys" || { fail "$name: no key ${1%%=*}"; return; }
		v[${1%%=*}]=${1#*=}
		shift
	done
	[ $# -gt 0 ] && shift
	expect="type $type"
	[ -z "$left" ] || expect+=$'\n'"left out: $left"
	for k in $keys; do
		expect+=$'\n'"$k='${v[$k]-}'"
	done
	for k; do
		expect+=$'\n'"$k"
	done
	check "$name" 0 "$expect"
}

# The whole of the answer a boot server gives, written out by hand:
# siaddr is the root server, the mask dotted, the first router, two of
# the three name servers in the conf file, all three in resolv.conf.
check ack-every 0 "type 5
DEVICE='eth0'
PROTO='dhcp'
IPV4ADDR='10.0.0.42'
IPV4BROADCAST='10.0.3.255'
IPV4NETMASK='255.255.252.0'
IPV4GATEWAY='10.0.0.1'
IPV4DNS0='10.0.0.53'
IPV4DNS1='10.0.0.54'
HOSTNAME='client42'
DNSDOMAIN='lab.example'
ROOTSERVER='10.0.0.2'
ROOTPATH='nbd:10.0.0.2:10809:root'
filename='boot/pxelinux.0'
DHCPLEASETIME='3600'
DOMAINSEARCH='lab.example example.org'
IPV6ADDR=''
IPV6PREFIXLEN=''
IPV6GATEWAY=''
IPV6DNS0=''
IPV6DNS1=''
search lab.example
nameserver 10.0.0.53
nameserver 10.0.0.54
nameserver 10.0.0.55"
lease offer 2 IPV4NETMASK=255.255.255.0 ROOTSERVER=10.0.0.2
check nak 0 "type 6"
# without siaddr the server identifier is the root server
lease ack-minimal 5
# RFC 2131 2: the header's file field names the boot file; option 67
# (RFC 2132 9.5), asked for by name, wins over it
lease ack-header-file 5 filename=pxelinux.0
lease ack-both-files 5 filename=from-option
# without option 52 the file field is a name, option-like bytes and all
lease ack-file-not-options 5 'filename=??evil'
lease ack-after-end 5
lease ack-pads 5 HOSTNAME=padded
lease ack-no-end 5 HOSTNAME=noend
lease lease-infinite 5 DHCPLEASETIME=4294967295
lease ack-ten-dns 5 IPV4DNS0=10.0.1.1 IPV4DNS1=10.0.1.2 -- \
	"nameserver 10.0.1."{1..8}

refused wrong-xid "for another client or transaction"
refused wrong-mac "for another client or transaction"
refused request "not a reply for an Ethernet address (op 1, htype 1, hlen 6)"
refused htype-6 "not a reply for an Ethernet address (op 2, htype 6, hlen 6)"
refused no-cookie "a BOOTP reply without DHCP's magic cookie"
# RFC 2131 table 3: every answer has option 53; one without is BOOTP's
refused no-type "no message type (option 53): a BOOTP reply"
refused header-only "no message type (option 53): a BOOTP reply"
refused type-empty "option 53 (message type) has 0 bytes, not 1"
refused type-two "option 53 (message type) has 2 bytes, not 1"
refused type-request "message type 3, not an offer, ack or nak"
refused no-server-id "no server identifier (option 54)"
refused short "239 bytes, shorter than a DHCP message's 240"
refused long "1501 bytes, longer than the 1500 asked for"
for a in 0.0.0.0:0 255.255.255.255:bcast 224.0.0.1:multicast \
	240.0.0.1:class-e 127.0.0.1:loopback; do
	refused "yiaddr-${a#*:}" "offers ${a%:*}, not a host's address"
done

refused mask-3 "option 1 (subnet mask) has 3 bytes, not 4"
refused bcast-5 "option 28 (broadcast address) has 5 bytes, not 4"
refused lease-2 "option 51 (lease time) has 2 bytes, not 4"
refused server-id-6 "option 54 (server identifier) has 6 bytes, not 4"
refused router-6 "option 3 (router) has 6 bytes, not a multiple of 4"
refused dns-0 "option 6 (name server) has 0 bytes, not a multiple of 4"
refused overload-2-bytes "option 52 (overload) has 2 bytes, not 1"
refused past-end "option 17 of 20 bytes runs past the end of the options field"
refused no-length "option 17 at the end of the options field has no length"

# option 52: the file field holding options names no boot file; sname
# holding them leaves the file field a name
lease overload-file 5 ROOTPATH=nbd:srv:root
lease overload-sname 5 HOSTNAME=from-sname filename=pxelinux.0
lease overload-both 5 ROOTPATH=nbd:srv:root filename=boot.0
refused overload-4 "option 52 (overload) is 4, not 1, 2 or 3"
refused overload-0 "option 52 (overload) is 0, not 1, 2 or 3"
refused overload-file-past "option 17 of 127 bytes runs past the end of the file field"

# RFC 3396: the pieces joined, the options field's first, then file's,
# then sname's; a fixed size is the joined option's
lease split-rootpath 5 ROOTPATH=nbd:10.0.0.2:10809:root HOSTNAME=between
lease split-into-file 5 ROOTPATH=nbd:10.0.0.2:10809:root
lease split-order 5 ROOTPATH=ABC
lease split-mask 5 IPV4NETMASK=255.255.255.0
refused split-mask-8 "option 1 (subnet mask) has 8 bytes, not 4"
lease rootpath-255 5 "ROOTPATH=$(printf 'r%.0s' {1..255})"
refused rootpath-300 "option 17 (root path) holds 300 bytes, more than 255"

# a NUL ends a string (RFC 2132 2 has receivers drop trailing ones)
lease nul-hostname 5 HOSTNAME=client
lease nul-trailing 5 ROOTPATH=nbd:srv:root
lease nul-long 5 ROOTPATH=short
# a newline, tab and DEL as '?', a quote closed, escaped and reopened;
# a domain with a newline gives no search line
lease rootpath-quote 5 "ROOTPATH=nbd:srv:/x'\\''y?IPV4ADDR=1??" \
	'HOSTNAME=$(reboot)' 'DNSDOMAIN=lab?evil'

# option 119: names written out with dots, blanks between them
lease search 5 "DOMAINSEARCH=lab.example example.org"
lease search-pointer 5 "DOMAINSEARCH=lab.example dev.example"
# a bad list is left out, the lease kept (the init does not read it)
s119="LEFT-OUT=option 119 (domain search)"
lease search-forward 5 "$s119: the pointer at byte 4 to 6 is not to an earlier name, or loops"
lease search-self 5 "$s119: the pointer at byte 4 to 4 is not to an earlier name, or loops"
lease search-loop 5 "$s119: the pointer at byte 2 to 0 is not to an earlier name, or loops"
lease search-pointer-cut 5 "$s119: a pointer at byte 4 is cut"
lease search-label-past 5 "$s119: a label of 9 bytes at byte 0 runs past the end"
lease search-unended 5 "$s119: a name runs past its 4 bytes"
lease search-label-type 5 "$s119: label type 0x40 at byte 0"
lease search-control 5 "$s119: byte 0x01 at 2 is not a name's"
lease search-space 5 "$s119: byte 0x20 at 2 is not a name's"
# as a Windows server sends it when the option is made a string
lease search-text 5 "$s119: label type 0x40 at byte 0" HOSTNAME=client42
# the root name writes nothing, nor a blank for itself
lease search-root-inside 5 "DOMAINSEARCH=lab dev"
lease search-root-last 5 DOMAINSEARCH=lab
lease search-root-first 5 DOMAINSEARCH=lab
# 1023 bytes written out fit; 1024 do not
long=
for c in a b c d e f g h; do
	long+="${long:+ }$(printf "$c.%.0s" {1..63})$c"
done
lease search-1023 5 "DOMAINSEARCH=$long"
lease search-1024 5 "$s119: longer than 1023 bytes written out"

[ "$failures" -eq 0 ]
