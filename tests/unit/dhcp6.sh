#!/bin/bash
# nbdroot-dhcp6's Reply parser (-r XID: a Reply on stdin), on canned
# messages: QEMU's stateless reply (name server, boot-file URL) and a
# search list are printed; another transaction, an option beyond the
# message, a name server list that is not whole addresses, a URL with a
# byte outside printable ASCII and an error status are refused with a
# reason. The exchange itself runs in tests/qemu/63-ipv6-dhcp6.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=initramfs/dhcp6/nbdroot-dhcp6
[ -x "$bin" ] || { echo "FAIL: $bin not built (run make)"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# msg "PYTHON EXPR": the bytes of a Reply (type 7, xid 123456) followed
# by the options the expression builds with opt(code, bytes)
msg() {
	python3 -c "
import socket, struct, sys
def opt(c, b): return struct.pack('>HH', c, len(b)) + b
def a6(t): return socket.inet_pton(socket.AF_INET6, t)
sys.stdout.buffer.write(b'\x07\x12\x34\x56' + $1)"
}

# expect RC TEXT "OPTIONS": nbdroot-dhcp6 -r 123456 exits RC, its output
# holding TEXT
expect() {
	local out rc
	out=$(msg "$3" | "$bin" -r 123456 2>&1)
	rc=$?
	if [ "$rc" = "$1" ] && grep -qF -- "$2" <<<"$out"; then
		echo "ok: exit $rc: $(grep -F -- "$2" <<<"$out" | head -n 1)"
	else
		fail "options $3: exit $rc, not $1 with \"$2\": $out"
	fi
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
expect 1 "length not a multiple of 16" "opt(23, a6('fec0::3')[:15])"
expect 1 "not printable ASCII" "opt(59, b'nbd://h/a b')"
expect 1 "not printable ASCII" "opt(59, b\"nbd://h/x'\n\")"
expect 1 "longer than 1024" "opt(59, b'nbd://h/' + b'x' * 1100)"
expect 1 "not a host name" "opt(24, b'\x03l;b\x00')"
expect 1 "label beyond the option" "opt(24, b'\x09lab\x00')"
expect 1 "error status" "opt(13, b'\x00\x02no')"
out=$(printf '\007\000\000\001' | "$bin" -r 123456 2>&1)
case $? in
1)	grep -q "not a Reply to this transaction" <<<"$out" &&
		echo "ok: another transaction: $out" || fail "another transaction: $out" ;;
*)	fail "another transaction accepted: $out" ;;
esac
"$bin" >/dev/null 2>&1
[ $? = 2 ] && echo "ok: no link is a usage error (exit 2)" || fail "no link: not exit 2"
[ "$failures" -eq 0 ]
