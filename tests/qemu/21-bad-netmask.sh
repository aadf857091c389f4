#!/bin/bash
# An ip= line with a netmask that is no netmask fails in the cmdline step:
# the line names the ip= value and the netmask, then a panic.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
boot_vm badip "root=nbd:10.0.2.2:1 ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off"
expect_console badip 'nbdroot: cmdline: ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off: netmask "255.0.255.0" is not a netmask'
expect_console badip "Kernel panic"
