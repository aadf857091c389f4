#!/bin/bash
# Failures are one line naming the step and the reason, then a panic: a
# malformed boot line names the wrong field; a BOOTIF= no link has, an
# overlay of an export that is no filesystem and DHCP's missing root-path
# each fail in their own step.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
boot_vm badline "root=nbd:10.0.2.2:abc/x"
expect_console badline 'nbdroot: cmdline: root=nbd:10.0.2.2:abc/x: port "abc" is not a number from 1 to 65535'
expect_console badline "Kernel panic"
boot_vm badip "root=nbd:10.0.2.2:1 ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off"
expect_console badip 'nbdroot: cmdline: ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off: netmask "255.0.255.0" is not a netmask'
boot_vm bootif "root=nbd:10.0.2.2:1 BOOTIF=01-02-00-00-00-00-01 nbdroot.retry=3"
expect_console bootif "nbdroot: network: no interface with BOOTIF's address 02:00:00:00:00:01"
expect_console bootif "nbdroot: network: giving up after 3s"
boot_vm rootpath "root=dhcp nbdroot.retry=3"
expect_console rootpath "nbdroot: root-path: DHCP root-path: the DHCP server sent none"
expect_console rootpath "Kernel panic"
