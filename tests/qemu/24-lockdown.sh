#!/bin/bash
# A kernel in lockdown (what UEFI Secure Boot turns on in Debian's kernel)
# loads only signed modules: booted with lockdown=integrity, the default
# initrd still attaches and mounts its root, because mkinitrd leaves
# signed modules as shipped. The guest checks the lockdown mode, that nbd
# is a live module and that nothing tainted the kernel as unsigned. The
# second boot has an e1000, whose driver is in the initrd packed with xz:
# unpacked and loaded from memory (init_module), its signature holds too.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
boot_vm lockdown "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 lockdown=integrity nbdtest=signed-modules"
expect_marker lockdown
VM_NIC=e1000 boot_vm lockdown-e1000 "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 lockdown=integrity nbdtest=signed-modules"
expect_marker lockdown-e1000
expect_console lockdown-e1000 "] nbdroot: modules: drivers for this machine's devices: e1000"
