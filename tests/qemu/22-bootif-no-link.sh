#!/bin/bash
# BOOTIF= (pxelinux's IPAPPEND 2) with an address no link has: the network
# step names the address, gives up when nbdroot.retry= runs out, and the
# kernel panics.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
boot_vm bootif "root=nbd:10.0.2.2:1 BOOTIF=01-02-00-00-00-00-01 nbdroot.retry=3"
expect_console bootif "nbdroot: network: no interface with BOOTIF's address 02:00:00:00:00:01"
expect_console bootif "nbdroot: network: giving up after 3s"
expect_console bootif "Kernel panic"
