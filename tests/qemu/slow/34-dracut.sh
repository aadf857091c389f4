#!/bin/bash
# dracut with our module: "make install" puts it in a dracut module
# directory. Without --omit nbd, when dracut's own nbd module finds an
# nbd-client, the build stops with a message that says to add it.
# "dracut --no-hostonly --add nbdroot --omit nbd" builds an initrd with
# Debian's dracut (dracut-core, dracut-network) and systemd in it, and
# that initrd boots the busybox test root from our server, with dracut's
# root=nbd: syntax and with initramfs-tools' nbdroot=, and once with
# nbdroot.swap= (an empty export: mkswap, swapon on /dev/nbd1). Evidence:
# our attach step's messages from inside dracut's systemd, and the
# guest's check that its root is /dev/nbd0, read-write, with @nbd-client
# behind it. 36-dracut-modes.sh boots the rest. This machine's
# /usr/lib/dracut is not touched (slow/lib.sh's dracut_setup).
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
out=$top/build/dracut-nbdroot.img
dracut_setup

# What a user who skims the README types, on a machine where dracut's nbd
# module finds an nbd-client (DRACUT_PATH: ours, as /usr/sbin's would be)
echo "dracut --no-hostonly --add nbdroot --kver $KVER (no --omit nbd)"
if DRACUT_PATH="/sbin /bin /usr/sbin /usr/bin $work/prefix/sbin" \
	run_dracut "$work/both.img" "$work/both.log" --add nbdroot; then
	fail "dracut built $work/both.img with dracut's nbd module and ours"
fi
grep -q 'Including module: nbd \*' "$work/both.log" ||
	fail "dracut's nbd module was not included: the refusal was not tried"
grep -F "nbdroot: dracut's own nbd module is in this initrd too, and both would attach root=nbd:; add --omit nbd" "$work/both.log" ||
	fail "no message saying to add --omit nbd: $(tail -n 5 "$work/both.log")"
[ ! -e "$work/both.img" ] || fail "dracut refused, but left $work/both.img"
echo "ok: without --omit nbd, dracut stops and says to add it"

build_dracut_initrd "$out"
img=$(test_image root)
start_named_server lab "$img"
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm dracut "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=root-rw:dracut"
expect_console dracut "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT"
expect_marker dracut
# initramfs-tools' syntax, where root= names the device: our mount of it
# must win over the one systemd's fstab generator makes of root=
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm debian-syntax "nbdroot=10.0.2.2:$SERVER_PORT/lab root=/dev/nbd0 nbdroot.retry=30 nbdtest=root-rw:dracut"
expect_console debian-syntax "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"lab\""
expect_marker debian-syntax
# nbdroot.swap=: /dev/nbd1 from an empty export, made swap and in use
root_port=$SERVER_PORT
truncate -s 64M "$work/swap.img"
start_server ours "$work/swap.img"
INITRD=$out VM_MEM=512 VM_TIMEOUT=240 boot_vm swap "root=nbd:10.0.2.2:$root_port nbdroot.swap=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=swap-on"
expect_console swap "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$SERVER_PORT"
expect_marker swap
