#!/bin/bash
# dracut with our module: "make install" puts it in a dracut module
# directory, "dracut --no-hostonly --add nbdroot --omit nbd" builds an
# initrd with Debian's dracut (dracut-core, dracut-network) and systemd in
# it, and that initrd boots the busybox test root from our server, with
# dracut's root=nbd: syntax and with initramfs-tools' nbdroot=, and once
# with nbdroot.swap= (an empty export: mkswap, swapon on /dev/nbd1). Evidence:
# our attach step's messages from inside dracut's systemd, and the guest's
# check that its root is /dev/nbd0, read-write, with @nbd-client behind it.
# This machine's /usr/lib/dracut is not touched: dracut runs with a copy
# of it made of symbolic links (dracutbasedir), plus our module.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
command -v dracut >/dev/null || fail "dracut not installed (scripts/deps installs dracut-core, dracut-network)"
out=$top/build/dracut-nbdroot.img

make -s -C "$top" install PREFIX="$work/prefix" DRACUTMODDIR="$work/modules.d" \
	>"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "make install failed"; }
base=$work/dracut
mkdir -p "$base/modules.d"
for f in /usr/lib/dracut/*; do
	[ "${f##*/}" = modules.d ] || ln -s "$f" "$base/"
done
for m in /usr/lib/dracut/modules.d/* "$work/modules.d/95nbdroot"; do
	ln -s "$m" "$base/modules.d/"
done
echo "dracut --no-hostonly --add nbdroot --omit nbd --kver $KVER $out"
mkdir -p "$work/tmp"
if ! dracutbasedir=$base dracut --force --no-hostonly --add nbdroot --omit nbd \
	--tmpdir "$work/tmp" --kver "$KVER" "$out" >"$work/dracut.log" 2>&1; then
	tail -n 20 "$work/dracut.log"
	fail "dracut failed"
fi
grep -q 'Including module: nbdroot' "$work/dracut.log" || fail "dracut did not include nbdroot"
echo "ok: dracut built $out ($(du -h "$out" | cut -f1))"

img=$(test_image root)
start_named_server lab "$img"
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm dracut "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=root-rw"
expect_console dracut "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT"
expect_marker dracut
# initramfs-tools' syntax, where root= names the device: our mount of it
# must win over the one systemd's fstab generator makes of root=
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm debian-syntax "nbdroot=10.0.2.2:$SERVER_PORT/lab root=/dev/nbd0 nbdroot.retry=30 nbdtest=root-rw"
expect_console debian-syntax "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"lab\""
expect_marker debian-syntax
# nbdroot.swap=: /dev/nbd1 from an empty export, made swap and in use
root_port=$SERVER_PORT
truncate -s 64M "$work/swap.img"
start_server ours "$work/swap.img"
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm swap "root=nbd:10.0.2.2:$root_port nbdroot.swap=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=swap-on"
expect_console swap "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$SERVER_PORT"
expect_marker swap
