#!/bin/bash
# nbdroot-dhcp6's parsers on canned messages. The stateless Reply (-r
# XID): QEMU's (name server, boot-file URL) and a search list are
# printed; another transaction, an option beyond the message, a name
# server list that is not whole addresses, a URL with a byte that is not
# a URI character and an error status are refused with a reason. The
# stateful Advertise and Reply (-r advertise:XID, reply:XID): the IA_NA
# address of our IAID is printed; another client's or IAID's, a missing
# client or server identifier, a short IA and a multicast address are
# not taken. Router advertisements (-R): flags, RDNSS and DNSSL printed;
# a zero or overlong option length, a bad RDNSS length and a short
# message refused. Crafted hostile answers (tests/unit/dhcp6-craft.py):
# no address from a stateless Reply or an IA or IA address with a
# non-zero status; a Reply from another server than the Advertise's, two
# server ids, a link-local or IPv4-mapped lease, a non-unicast name
# server and a URL with a backslash, quote or space refused and named;
# link-local RDNSS servers, link-local and length 0 prefixes ignored.
# The exchanges run in tests/qemu/63, 67 and 68.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=initramfs/dhcp6/nbdroot-dhcp6
[ -x "$bin" ] || { echo "FAIL: $bin not built (run make)"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# msg "PYTHON EXPR" [TYPE]: the bytes of a message of TYPE (7, Reply,
# unless given) for xid 123456 followed by the options the expression
# builds with opt(code, bytes)
msg() {
	python3 -c "
import socket, struct, sys
def opt(c, b): return struct.pack('>HH', c, len(b)) + b
def a6(t): return socket.inet_pton(socket.AF_INET6, t)
sys.stdout.buffer.write(bytes([${2:-7}]) + b'\x12\x34\x56' + $1)"
}

# check RC TEXT WHAT ARGS...: nbdroot-dhcp6 ARGS, the message on stdin,
# exits RC, its output holding TEXT
check() {
	local rc=$1 text=$2 what=$3 out got
	shift 3
	out=$("$bin" "$@" 2>&1)
	got=$?
	if [ "$got" = "$rc" ] && grep -qF -- "$text" <<<"$out"; then
		echo "ok: exit $got: $(grep -F -- "$text" <<<"$out" | head -n 1)"
	else
		fail "$what: exit $got, not $rc with \"$text\": $out"
	fi
}

# expect RC TEXT "OPTIONS": a stateless Reply (-r 123456) to client
# 52:54:00:12:34:56 (its DUID-LL first)
cid0="opt(1, b'\x00\x03\x00\x01RT\x00\x124V')"
expect() {
	msg "$cid0 + $3" | check "$1" "$2" "options $3" -r 123456
}

slirp="opt(1, b'\x00\x03\x00\x01RT\x00\x124V') + opt(23, a6('fec0::3')) + opt(59, b'tftp://[fec0::2]/boot')"
expect 0 "dns fec0::3" "$slirp"
expect 0 "bootfile-url tftp://[fec0::2]/boot" "$slirp"
expect 0 "dns 2001:db8::54" "opt(23, a6('2001:db8::53') + a6('2001:db8::54'))"
expect 0 "search lab.example" "opt(24, b'\x03lab\x07example\x00')"
expect 0 "bootfile-url nbd://[2001:db8::1]:10809/root" "opt(59, b'nbd://[2001:db8::1]:10809/root')"
expect 0 "" "b''"
expect 1 "option beyond the message" "opt(23, a6('fec0::3'))[:-1]"
expect 1 "option header beyond the message" "b'\x00\x17'"
expect 1 "(23) of 15 bytes, not a multiple of 16" "opt(23, a6('fec0::3')[:15])"
expect 1 "boot-file URL (option 59): byte 0x20 at 9 is not a URI character" "opt(59, b'nbd://h/a b')"
expect 1 "boot-file URL (option 59): byte 0x27 at 9" "opt(59, b\"nbd://h/x'\n\")"
expect 1 "longer than 1024" "opt(59, b'nbd://h/' + b'x' * 1100)"
expect 1 "not a host name" "opt(24, b'\x03l;b\x00')"
expect 1 "not a host name" "opt(24, b'\x03-rf\x00')"
expect 1 "not a host name" "opt(24, b'\x03lab\x04lab-\x00')"
expect 1 "not a host name" "opt(24, b'\x01-\x00')"
expect 0 "search a.b-c.0" "opt(24, b'\x01a\x03b-c\x010\x00')"
expect 1 "label beyond the option" "opt(24, b'\x09lab\x00')"
expect 1 "error status" "opt(13, b'\x00\x02no')"
out=$(printf '\007\000\000\001' | "$bin" -r 123456 2>&1)
case $? in
1)	grep -q "not an answer to this transaction" <<<"$out" &&
		echo "ok: another transaction: $out" || fail "another transaction: $out" ;;
*)	fail "another transaction accepted: $out" ;;
esac
# stateful: expect_kind KIND RC TEXT "OPTIONS": an Advertise (2) or a
# Reply (7) to a Request, -r KIND:123456
expect_kind() {
	local type=7
	[ "$1" = advertise ] && type=2
	msg "$4" $type | check "$2" "$3" "$1 $4" -r "$1:123456"
}
cid="opt(1, b'\x00\x03\x00\x01RT\x00\x124V')"
sid="opt(2, b'\x00\x01\x00\x01' + b'S' * 10)"
# IA_NA IAID 1, T1, T2, IA Address ADDR, preferred 300, valid 600
ia="opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a6('2001:db8:67::1a3') + struct.pack('>II', 300, 600)))"
for k in advertise reply; do
	expect_kind $k 0 "address 2001:db8:67::1a3/128" "$cid + $sid + $ia"
	expect_kind $k 0 "dns 2001:db8:67::1" "$cid + $sid + $ia + opt(23, a6('2001:db8:67::1'))"
	expect_kind $k 1 "another client's identifier" "opt(1, b'\x00\x03\x00\x01RT\x00\x124W') + $sid + $ia"
	expect_kind $k 1 "no client identifier" "$sid + $ia"
	expect_kind $k 1 "no server identifier" "$cid + $ia"
	expect_kind $k 1 "server identifier of 0 bytes" "$cid + opt(2, b'') + $ia"
	expect_kind $k 1 "IA_NA shorter than its 12-byte header (8)" "$cid + $sid + opt(3, b'\x00' * 8)"
	expect_kind $k 1 "IA_NA: option 5 of 16 bytes beyond its end" "$cid + $sid + opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a6('2001:db8::1'))[:-2])"
	expect_kind $k 1 "shorter than 24 bytes (16)" "$cid + $sid + opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a6('2001:db8::1')))"
	expect_kind $k 1 "ff02::1 is not a unicast address" "$cid + $sid + opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a6('ff02::1') + struct.pack('>II', 1, 2)))"
done
# another IAID's IA, a preferred lifetime beyond the valid one, a valid
# lifetime 0: no address; NoAddrsAvail in the IA or the message
expect_kind advertise 0 "" "$cid + $sid + opt(3, struct.pack('>III', 2, 0, 0) + opt(5, a6('2001:db8::1') + struct.pack('>II', 1, 2)))"
out=$(msg "$cid + $sid + opt(3, struct.pack('>III', 2, 0, 0) + opt(5, a6('2001:db8::1') + struct.pack('>II', 1, 2))) + opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a6('2001:db8::2') + struct.pack('>II', 9, 2)) + opt(5, a6('2001:db8::3') + struct.pack('>II', 1, 0)))" 2 |
	"$bin" -r advertise:123456 2>&1)
grep -q address <<<"$out" && fail "an address of another IAID or with bad lifetimes taken: $out" ||
	echo "ok: another IAID's address and bad lifetimes are not taken"
expect_kind advertise 0 "ia-status 2" "$cid + $sid + opt(3, struct.pack('>III', 1, 0, 0) + opt(13, b'\x00\x02none'))"
expect_kind advertise 0 "ia-status 2" "$cid + $sid + opt(13, b'\x00\x02none')"
expect_kind reply 1 "error status 2" "$cid + $sid + opt(13, b'\x00\x02none')"
out=$(msg "$cid + $sid + $ia" | "$bin" -r advertise:123456 2>&1) &&
	fail "a Reply taken as an Advertise: $out" || echo "ok: a Reply is not an Advertise: $out"

# ra "PYTHON EXPR": a router advertisement (type 134, hop limit 64, flags
# byte F) followed by the options the expression builds with nd(type,
# bytes), padded to 8-byte units
ra() {
	python3 -c "
import socket, struct, sys
def nd(t, b):
    b = b + b'\0' * (-(len(b) + 2) % 8)
    return bytes([t, (len(b) + 2) // 8]) + b
def a6(t): return socket.inet_pton(socket.AF_INET6, t)
F = $1
sys.stdout.buffer.write(bytes([134, 0, 0, 0, 64, F]) + struct.pack('>HII', 1800, 0, 0) + $2)"
}
# expect_ra RC TEXT FLAGS "OPTIONS": a router advertisement (-R)
expect_ra() {
	ra "$3" "$4" | check "$1" "$2" "RA $4" -R
}
rdnss="nd(25, b'\0\0' + struct.pack('>I', 600) + a6('2001:db8:68::1') + a6('2001:db8:68::2'))"
pi="nd(3, bytes([64, 0x80]) + struct.pack('>III', 600, 300, 0) + a6('2001:db8:67::'))"
expect_ra 0 "flags managed" 0x80 "$pi"
expect_ra 0 "flags other" 0x40 "b''"
expect_ra 0 "rdnss 2001:db8:68::2" 0 "$rdnss"
expect_ra 0 "dnssl lab.example" 0 "nd(31, b'\0\0' + struct.pack('>I', 600) + b'\x03lab\x07example\0')"
expect_ra 1 "domain search list: not a host name" 0 "nd(31, b'\0\0' + struct.pack('>I', 600) + b'\x02-x\0\0\0\0\0')"
expect_ra 1 "domain search list: not a host name" 0 "nd(31, b'\0\0' + struct.pack('>I', 600) + b'\x02x-\0\0\0\0\0')"
expect 1 "not a host name" "opt(24, b'\x02a;\x00')"
out=$(ra 0 "nd(25, b'\0\0' + struct.pack('>I', 0) + a6('2001:db8:68::1'))" | "$bin" -R 2>&1)
grep -q rdnss <<<"$out" && fail "RDNSS with lifetime 0 taken: $out" || echo "ok: RDNSS with lifetime 0 is not taken"
expect_ra 1 "option of length 0" 0 "b'\x19\x00' + b'\0' * 22"
expect_ra 1 "option beyond the message" 0 "${rdnss}[:-8]"
expect_ra 1 "RDNSS option of 16 bytes" 0 "nd(25, b'\0\0' + struct.pack('>I', 60) + a6('::1')[:8])"
expect_ra 1 "prefix information option of 16 bytes" 0 "nd(3, b'\0' * 14)"
expect_ra 1 "prefix length 200 beyond 128" 0 "nd(3, bytes([200, 0x80]) + b'\0' * 28)"
expect_ra 1 "domain search list: label beyond the option" 0 "nd(31, b'\0\0' + struct.pack('>I', 600) + b'\x3f' + b'a' * 10)"
out=$(printf '\206\000\000' | "$bin" -R 2>&1)
[ $? = 1 ] && grep -q "of 3 bytes, shorter than 16" <<<"$out" && echo "ok: $out" || fail "short RA: $out"
out=$(printf '\207\000\000\000' | "$bin" -R 2>&1)
[ $? = 1 ] && grep -q "not ours" <<<"$out" && echo "ok: $out" || fail "neighbour solicitation as RA: $out"
"$bin" >/dev/null 2>&1
[ $? = 2 ] && echo "ok: no link is a usage error (exit 2)" || fail "no link: not exit 2"

# Crafted hostile answers (tests/unit/dhcp6-craft.py). crafted NAME RC
# TEXT [ABSENT] ARGS...: nbdroot-dhcp6 ARGS on the message NAME exits RC,
# its output holding TEXT and not ABSENT.
craft=$(mktemp -d)
trap 'rm -rf "$craft"' EXIT
python3 tests/unit/dhcp6-craft.py "$craft" || fail "dhcp6-craft.py"
crafted() {
	local name=$1 rc=$2 text=$3 absent=$4 out
	shift 4
	out=$("$bin" "$@" <"$craft/$name" 2>&1)
	if [ -n "$absent" ] && grep -qF -- "$absent" <<<"$out"; then
		fail "$name: \"$absent\" in: $out"
		return
	fi
	check "$rc" "$text" "$name" "$@" <"$craft/$name"
}
sid_hex=0001$(printf 'S%.0s' $(seq 12) | od -An -tx1 | tr -d ' \n')
# a URL with a backslash, quote, space or backquote: refused, named
for u in url-inject url-meta url-quote url-space; do
	crafted $u 1 "boot-file URL (option 59): byte 0x" "" -r reply:123456
done
# a search name that starts with '-' (a word a tool takes for an option)
crafted search-dashes 1 "domain search list: not a host name" "search -" -r 123456
# a label over 63 bytes, one the option cuts, names over 253 bytes: refused
crafted search-long-label 1 "domain search list: label beyond the option" "search a" -r 123456
crafted search-unterminated 1 "domain search list: label beyond the option" "search lab" -r 123456
crafted search-toolong 1 "domain search list: label beyond the option" "search a" -r 123456
# an empty first name ends the list: nothing taken, the rest ignored
crafted search-empty-first 0 "" "search lab" -r 123456
# a stateless Reply never yields an address and needs our client id
crafted stateless-ia0 0 "" "address" -r 123456
crafted stateless-noids 1 "not ours: no client identifier" "" -r 123456
crafted stateless-otherclient 1 "another client's identifier" "" -r 123456
# the Reply's server must be the Advertise's; two server ids refused
crafted linklocal-addr 1 "another server's identifier" "" -r reply:123456:0001aa
crafted ia-status-plus-addr 0 "ia-status 2" "address" -r reply:123456:$sid_hex
crafted two-serverids 1 "two server identifier options (2)" "" -r reply:123456
# a status in the IA or its address: no address, the code named
crafted ia-status-unspecfail 0 "ia-status 1" "address" -r reply:123456
crafted iaaddr-status 0 "ia-status 2" "address" -r reply:123456
crafted adv-ia-noaddrs 0 "ia-status 2" "address" -r advertise:123456
# no link-local or IPv4-mapped lease; name servers unicast, the
# link-local ones dropped
crafted linklocal-addr 1 "IA address fe80::1 is link-local (fe80::/10)" "" -r reply:123456
crafted v4mapped-addr 1 "IA address ::ffff:a00:1 is an IPv4-mapped address" "" -r reply:123456
crafted dns-bogus 1 "name server option (23): ff02::1 is not a unicast address" "" -r reply:123456
crafted dns-linklocal 0 "dns 2001:db8::53" "fe80" -r 123456
# the lease's lifetimes are printed
msg "$cid + $sid + $ia" | check 0 "lifetime preferred 300 valid 600" "lifetimes" -r reply:123456
# a link-local RDNSS server is dropped (resolv.conf would need %LINK)
crafted ra-rdnss-ll 0 "rdnss 2001:db8::53" "fe80" -R
# on-link prefixes: one of length 0 or a link-local one sizes nothing
crafted ra-prefix0 0 "flags managed" "prefix" -R
pio() { echo "nd(3, bytes([$1, 0xc0]) + struct.pack('>III', 86400, 14400, 0) + a6('$2'))"; }
ra 0x80 "$(pio 64 2001:db8:67::) + $(pio 64 fe80::) + $(pio 0 ::)" |
	check 0 "prefix 2001:db8:67::/64" "prefixes" -R
out=$(ra 0x80 "$(pio 64 fe80::) + $(pio 0 ::)" | "$bin" -R 2>&1)
grep -q prefix <<<"$out" && fail "a link-local or length 0 prefix kept: $out" ||
	echo "ok: a link-local and a length 0 prefix are ignored"

[ "$failures" -eq 0 ]
