#!/bin/bash
# Failures are one line naming the step and the reason, then a panic: a
# malformed boot line names the wrong field; a BOOTIF= no link has, an
# overlay of an export that is no filesystem and DHCP's missing root-path
# each fail in their own step. With nbdroot.shell the step ends in a
# rescue shell, not a panic (the VM has no console input: it is stopped).
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
port=$(random_port)
while port_open "$port"; do port=$(random_port); done
VM_TIMEOUT=30 boot_vm shell "root=nbd:10.0.2.2:$port nbdroot.retry=2 nbdroot.shell"
expect_console shell "nbdroot: attach: giving up after 2s"
expect_console shell 'nbdroot: rescue shell; exit it to retry "attach"'
if grep -aq "Kernel panic" "$work/shell.log"; then
	show_vm shell
	fail "nbdroot.shell: the kernel panicked instead"
fi
echo "ok: nbdroot.shell gave a rescue shell, not a panic"
