#!/bin/bash
# The dracut module with a TLS key, on the host (no VM): dracut builds an
# initrd with nbdroot_tls_psk=FILE in a configuration directory of its
# own, and the initrd holds the key as /etc/nbdroot/tls.psk, mode 0600,
# with its bytes, and the kernel's TLS modules (and, the module's own,
# nbdroot-dhcp4); a bad key line stops the build naming the file and
# line. The VM tests' dracut setup (a base
# directory of links: this machine's dracut is not touched).
# The harness checks for an initrd of ours at load; this test boots none.
INITRD=/dev/null
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/../qemu/slow/lib.sh"
if ! command -v dracut >/dev/null || ! command -v lsinitrd >/dev/null; then
	echo "dracut-tls: SKIP: dracut not installed"
	exit 77
fi
[ -e "/lib/modules/$KVER/modules.dep" ] || { echo "dracut-tls: SKIP: no /lib/modules/$KVER/modules.dep"; exit 77; }
[ -x "$top/client/nbd-client" ] || fail "client/nbd-client not built (run make)"
dracut_setup
mkdir -p "$work/conf"

# build KEYFILE OUT: dracut with nbdroot_tls_psk=KEYFILE; its log in OUT.log
build() {
	echo "nbdroot_tls_psk=\"$1\"" >"$work/conf/nbdroot.conf"
	run_dracut "$2" "$2.log" --conf /dev/null --confdir "$work/conf" \
		--omit nbd --add nbdroot --no-compress
}

printf 'lab-17:0123456789abcdef0123456789abcdef\n' >"$work/key.psk"
build "$work/key.psk" "$work/good.img" || fail "dracut failed: $(tail -n 5 "$work/good.img.log")"
echo "ok: dracut built an initrd with nbdroot_tls_psk= ($KVER)"
lsinitrd "$work/good.img" >"$work/list" 2>&1
grep -qE '^-rw------- .* etc/nbdroot/tls.psk$' "$work/list" ||
	fail "no etc/nbdroot/tls.psk with mode 0600: $(grep -F tls.psk "$work/list")"
echo "ok: etc/nbdroot/tls.psk is in it, mode 0600"
lsinitrd -f etc/nbdroot/tls.psk "$work/good.img" 2>/dev/null | cmp -s - "$work/key.psk" ||
	fail "tls.psk is not the key file"
echo "ok: tls.psk holds the key's bytes"
# not TLS's, but the module's: its DHCPv4 client in place of udhcpc
grep -qE ' usr/sbin/nbdroot-dhcp4$' "$work/list" ||
	fail "no usr/sbin/nbdroot-dhcp4 in the module's initrd"
echo "ok: the module carries nbdroot-dhcp4"
for m in tls chacha20poly1305 chacha_generic poly1305_generic; do
	grep -qE "/$m\\.ko(\\.[a-z]+)?\$" "$work/list" || fail "module $m is missing"
	echo "ok: module $m is in it"
done

printf 'lab-1:00ff\nlab-2:nothex\n' >"$work/bad.psk"
! build "$work/bad.psk" "$work/bad.img" || fail "dracut accepted a bad key file"
grep -qF "TLS key $work/bad.psk:2: not an identity:hexkey line" "$work/bad.img.log" ||
	fail "bad key: dracut failed without naming file and line: $(tail -n 5 "$work/bad.img.log")"
echo "ok: a bad key line stops dracut: $(grep -F 'TLS key' "$work/bad.img.log" | head -n 1)"
echo "all passed"
