#!/bin/bash
# make check-kernel: kernel-config/nbdroot.config proven. A kernel built
# from Debian's linux-source with tinyconfig, kernel-config/qemu-base.config
# and the fragment (scripts/build-kernel: no modules at all) boots the VM
# diskless with an initrd that holds no module, attaches the root over
# NBD from our server and mounts it read-write.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/../lib.sh"
kdir=$top/build/kernel
if [ ! -s "$kdir/bzImage" ] || [ "$kdir/bzImage" -ot "$top/kernel-config/nbdroot.config" ] ||
    [ "$kdir/bzImage" -ot "$top/kernel-config/qemu-base.config" ]; then
	"$top/scripts/build-kernel" --out "$kdir" || fail "scripts/build-kernel failed"
fi
echo "kernel build took $(cat "$kdir/build-seconds") s"
kver=$(cd "$kdir/src" && make -s kernelrelease)
"$top/initramfs/mkinitrd" --kver "$kver" --moddir "$work/no-modules/$kver" \
	--modules none --out "$work/initrd.img" >"$work/mkinitrd.log" 2>&1 ||
	{ cat "$work/mkinitrd.log"; fail "mkinitrd --modules none"; }
initrd_cat "$work/initrd.img" >"$work/initrd.cpio"
if { cpio -t; cpio -t; } <"$work/initrd.cpio" 2>/dev/null | grep -q '\.ko$'; then
	fail "the initrd holds modules"
fi
echo "ok: the initrd holds no module ($(wc -c <"$work/initrd.img") bytes)"
img=$(test_image)
start_server ours "$img"
KERNEL=$kdir/bzImage INITRD=$work/initrd.img \
	boot_vm fragment "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=root-rw"
expect_marker fragment
# nothing to load: the init says so, and names no network controller
# (the built-in virtio-net driver has bound it)
grep -aq "nbdroot: modules: none in this initrd" "$work/fragment.log" ||
	fail "no 'modules: none in this initrd' on the console"
if grep -a "no driver" "$work/fragment.log"; then
	fail "a network controller a built-in driver has bound was named"
fi
echo "ok: no module loaded, no controller named"
