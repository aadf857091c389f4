#!/bin/bash
# A kernel in lockdown (what UEFI Secure Boot turns on in Debian's kernel)
# loads only signed modules: booted with lockdown=integrity, the default
# initrd still attaches and mounts its root, because mkinitrd leaves
# signed modules as shipped. The guest checks the lockdown mode, that nbd
# is a live module and that nothing tainted the kernel as unsigned.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
boot_vm lockdown "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 lockdown=integrity nbdtest=signed-modules"
expect_marker lockdown
