#!/bin/bash
# nbdroot.toram: the root is copied into RAM and the export detached; once
# the guest says READY the server is stopped, and the guest must still
# read (caches dropped) and write its root.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_server ours "$img"
boot_vm toram "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.toram nbdroot.retry=20 nbdtest=toram:$SERVER_PORT" &
vm=$!
for _ in $(seq "$VM_TIMEOUT"); do
	grep -aq 'NBDROOT-TEST toram: READY' "$work/toram.log" 2>/dev/null && break
	kill -0 "$vm" 2>/dev/null || break
	sleep 1
done
grep -aq 'NBDROOT-TEST toram: READY' "$work/toram.log" || { wait "$vm"; show_vm toram; fail "the guest never said READY"; }
stop_server TERM
echo "ok: server stopped after the guest's READY"
wait "$vm"
expect_marker toram
expect_console toram "nbdroot: toram: copying"
