#!/bin/sh
# scripts/kconfig-check against Debian's own kernel config (it boots
# nbdroot with modules: nbd, ext4... reported as modules, exit 0), the
# kernel-config/ fragment (everything built in, no module needed), and
# configs made broken from Debian's: each failure named, exit 1.
top=$(cd "$(dirname "$0")/../.." && pwd)
check=$top/scripts/kconfig-check
debian=$(ls /boot/config-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$debian" ] || { echo "kconfig-check: SKIP: no /boot/config-* (linux-image-amd64)"; exit 77; }
work=$(mktemp -d /tmp/nbdroot-kconfig.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failed=1; }

# run NAME CONFIG: output in $work/NAME.out, status in $rc
run() {
	"$check" "$2" >"$work/$1.out" 2>&1
	rc=$?
}
line() { grep "^CONFIG_$2 " "$work/$1.out" | awk '{ print $2 }'; }

run debian "$debian"
if [ $rc = 0 ] && [ "$(line debian BLK_DEV_NBD)" = module ] &&
    [ "$(line debian BLK_DEV_INITRD)" = built-in ] &&
    grep -q 'must hold: nbd ext4 squashfs overlay' "$work/debian.out"; then
	ok "$debian: exit 0, nbd a module, the initrd's modules named"
else
	cat "$work/debian.out"; bad "$debian: exit $rc"
fi

run fragment "$top/kernel-config/nbdroot.config"
if [ $rc = 0 ] && grep -q 'must hold: none$' "$work/fragment.out" &&
    ! grep -v '(optional)\|(one NIC' "$work/fragment.out" | grep -q ' module \| missing '; then
	ok "kernel-config/nbdroot.config: exit 0, all built in, no module needed"
else
	cat "$work/fragment.out"; bad "the fragment: exit $rc"
fi

sed '/^CONFIG_BLK_DEV_NBD=/d' "$debian" >"$work/no-nbd"
run no-nbd "$work/no-nbd"
if [ $rc = 1 ] && [ "$(line no-nbd BLK_DEV_NBD)" = missing ] &&
    grep -q 'cannot boot an NBD root: CONFIG_BLK_DEV_NBD$' "$work/no-nbd.out"; then
	ok "without CONFIG_BLK_DEV_NBD: exit 1, named"
else
	cat "$work/no-nbd.out"; bad "without nbd: exit $rc"
fi

sed 's/^CONFIG_RD_ZSTD=y/CONFIG_RD_ZSTD=m/' "$debian" >"$work/zstd-m"
run zstd-m "$work/zstd-m"
if [ $rc = 1 ] && grep -q '^CONFIG_RD_ZSTD .*module .*NEEDED BUILT IN' "$work/zstd-m.out"; then
	ok "CONFIG_RD_ZSTD=m: exit 1, it must be built in"
else
	cat "$work/zstd-m.out"; bad "RD_ZSTD=m: exit $rc"
fi

grep -v '^CONFIG_\(VIRTIO_NET\|E1000\|E1000E\|IGB\|IGC\|IXGBE\|R8169\|TIGON3\|BNX2\|BNXT\|AQTION\|ALX\)=' \
	"$debian" >"$work/no-nic"
run no-nic "$work/no-nic"
if [ $rc = 1 ] && grep -q 'no network driver' "$work/no-nic.out"; then
	ok "no NIC driver: exit 1, said"
else
	cat "$work/no-nic.out"; bad "no NIC: exit $rc"
fi

sed '/^CONFIG_XFS_FS=/d' "$debian" >"$work/no-xfs"
run no-xfs "$work/no-xfs"
[ $rc = 0 ] && [ "$(line no-xfs XFS_FS)" = missing ] &&
	ok "without xfs: still exit 0 (optional)" || bad "without xfs: exit $rc"

"$check" >/dev/null 2>&1; [ $? = 2 ] && ok "no argument: exit 2" || bad "no argument"
"$check" "$work/nonexistent" 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'nonexistent: not a readable file' "$work/err" &&
	ok "missing file: exit 2, named" || bad "missing file: exit $rc"
echo hello >"$work/junk"
"$check" "$work/junk" 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'not a kernel config' "$work/err" &&
	ok "not a config: exit 2" || bad "not a config: exit $rc"
exit $failed
