#!/bin/bash
# nbdroot.shell: a step that fails (attach, to a port nothing listens on)
# ends in a rescue shell that offers to retry the step, not in a panic.
# The VM has no console input, so once BusyBox's shell shows its banner
# and prompt the test stops the VM; there must be no panic on the console.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
port=$(random_port)
while port_open "$port"; do port=$(random_port); done
boot_vm shell "root=nbd:10.0.2.2:$port nbdroot.retry=2 nbdroot.shell" &
vm=$!
await_console shell "$vm" "built-in shell (ash)"
stop_vm shell
wait "$vm"
expect_console shell "nbdroot: attach: giving up after 2s"
expect_console shell 'nbdroot: rescue shell; exit it to retry "attach"'
if grep -aq "Kernel panic" "$work/shell.log"; then
	show_vm shell
	fail "nbdroot.shell: the kernel panicked instead"
fi
echo "ok: nbdroot.shell gave a rescue shell, not a panic"
