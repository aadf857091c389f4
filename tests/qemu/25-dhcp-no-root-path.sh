#!/bin/bash
# root=dhcp when the DHCP server (QEMU's, which cannot send option 17)
# sends no root-path: the root-path step says so, then a panic.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
boot_vm rootpath "root=dhcp nbdroot.retry=3"
expect_console rootpath "nbdroot: root-path: DHCP root-path: the DHCP server sent none"
expect_console rootpath "Kernel panic"
