#!/bin/bash
# nbdroot.overlay=tmpfs over an export that holds no filesystem (16 MiB of
# zeros): attach succeeds, then the mount step names the device and the
# lower mount point, gives up when nbdroot.retry= runs out, and the
# kernel panics.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
truncate -s 16M "$work/zeros.img"
start_server ours "$work/zeros.img" -r
boot_vm zeros "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.overlay=tmpfs nbdroot.retry=3"
expect_console zeros "nbdroot: mount: mount /dev/nbd0 on /run/nbdroot/lower: "
expect_console zeros "nbdroot: mount: giving up after 3s"
expect_console zeros "Kernel panic"
