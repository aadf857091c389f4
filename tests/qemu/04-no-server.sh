#!/bin/bash
# (d) No server listening: the console names the refused connection and
# the VM ends by itself within the test's bound.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
port=$(random_port)
while port_open "$port"; do port=$(random_port); done
VM_TIMEOUT=120
boot_vm noserver "root=nbd:10.0.2.2:$port nbdroot.retry=4"
rc=$?
expect_console noserver "nbdroot: attach: connect to 10.0.2.2:$port: Connection refused"
expect_console noserver "Kernel panic"
[ "$rc" -ne 124 ] || fail "the VM did not end within ${VM_TIMEOUT}s"
echo "ok: the VM ended by itself (QEMU exit $rc)"
