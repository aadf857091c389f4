#!/bin/bash
# The kernel hook (/etc/kernel/postinst.d/nbdroot): run for the installed
# kernel with a configuration pointing into this test's directory, it
# builds the initrd and the PXE tree, and the VM boots diskless from that
# tree's kernel, initrd and pxelinux boot line. Then its postrm.d side:
# removing the kernel the tree serves rewrites the tree with the newest
# kernel left, and an older kernel's install leaves the tree alone.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"

hook=$top/initramfs/kernel-hook
mkdir -p "$work/etc/kernel/postinst.d" "$work/etc/kernel/postrm.d" "$work/boot"
cp "$hook" "$work/etc/kernel/postinst.d/nbdroot"
cp "$hook" "$work/etc/kernel/postrm.d/nbdroot"
ln -s "$KERNEL" "$work/boot/vmlinuz-$KVER"
cat >"$work/kernel-hook.conf" <<CONF
PXE_DIR=$work/tftp
ROOT=nbd:10.0.2.2:$SERVER_PORT
APPEND="nbdroot.retry=30 nbdtest=root-rw"
INITRD_DIR=$work/initrds
BOOT_DIR=$work/boot
MKINITRD=$top/initramfs/mkinitrd
MKPXE=$top/scripts/mkpxe
CONF
export NBDROOT_KERNEL_HOOK_CONF=$work/kernel-hook.conf

# what the kernel package does: run-parts with the version and the image
run-parts --arg="$KVER" --arg="$KERNEL" "$work/etc/kernel/postinst.d" \
	>"$work/hook.log" 2>&1 || { cat "$work/hook.log"; fail "postinst hook failed"; }
[ -s "$work/initrds/initrd.img-$KVER" ] || fail "no initrd built for $KVER"
[ "$(cat "$work/tftp/kernel-version")" = "$KVER" ] ||
	fail "the tree does not record kernel $KVER"
cmp -s "$work/initrds/initrd.img-$KVER" "$work/tftp/initrd.img" ||
	fail "the tree's initrd.img is not the one built for $KVER"
echo "ok: postinst built initrd.img-$KVER and the tree"

# boot what the tree serves, with pxelinux's boot line
line=$(sed -n 's/^[[:space:]]*APPEND //p' "$work/tftp/pxelinux.cfg/default")
case $line in
*"root=nbd:10.0.2.2:$SERVER_PORT"*nbdtest=root-rw*) ;;
*) fail "pxelinux.cfg/default's boot line: \"$line\"" ;;
esac
KERNEL=$work/tftp/vmlinuz INITRD=$work/tftp/initrd.img \
	boot_vm hook "$line"
expect_marker hook

# postrm for a kernel the tree serves: rewritten with the newest left
echo gone >"$work/tftp/kernel-version"
: >"$work/initrds/initrd.img-gone"
rm -f "$work/tftp/initrd.img"
run-parts --arg=gone "$work/etc/kernel/postrm.d" >>"$work/hook.log" 2>&1 ||
	{ cat "$work/hook.log"; fail "postrm hook failed"; }
[ ! -e "$work/initrds/initrd.img-gone" ] || fail "postrm left initrd.img-gone"
[ "$(cat "$work/tftp/kernel-version")" = "$KVER" ] &&
	[ -s "$work/tftp/initrd.img" ] ||
	fail "postrm of the served kernel did not rewrite the tree for $KVER"
echo "ok: postrm of the served kernel: the tree boots $KVER again"

# an older kernel installed: its initrd is built, the tree stays
echo "$KVER" >"$work/tftp/kernel-version"
mkdir -p "$work/old"
sed 's/^MKINITRD=.*/MKINITRD=true/' "$work/kernel-hook.conf" >"$work/old.conf"
NBDROOT_KERNEL_HOOK_CONF=$work/old.conf NBDROOT_KERNEL_HOOK_EVENT=postinst \
	"$hook" 0.1-old >>"$work/hook.log" 2>&1 || fail "postinst of an old kernel failed"
[ "$(cat "$work/tftp/kernel-version")" = "$KVER" ] ||
	fail "installing an older kernel changed the tree"
echo "ok: an older kernel leaves the tree alone"

# not configured: nothing happens, exit 0
NBDROOT_KERNEL_HOOK_CONF=/nonexistent "$work/etc/kernel/postinst.d/nbdroot" "$KVER" ||
	fail "the unconfigured hook failed"
