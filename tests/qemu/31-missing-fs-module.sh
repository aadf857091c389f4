#!/bin/bash
# A root on xfs booted with the default initrd, which has no xfs module
# (MODULES=default,xfs adds it): attach succeeds, then the mount step
# names the filesystem it read from the superblock and the rebuild that
# adds its module, gives up when nbdroot.retry= runs out, and the kernel
# panics. The image is an empty xfs: the root is never mounted.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.xfs >/dev/null || fail "mkfs.xfs not installed (run scripts/deps)"
truncate -s 300M "$work/xfs.img"
mkfs.xfs -q -f "$work/xfs.img" || fail "mkfs.xfs failed"
start_server ours "$work/xfs.img"
boot_vm xfsroot "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=3"
expect_console xfsroot "nbdroot: mount: /dev/nbd0 holds xfs, and this initrd has no xfs module: rebuild with make initrd MODULES=default,xfs"
expect_console xfsroot "nbdroot: mount: giving up after 3s"
expect_console xfsroot "Kernel panic"
