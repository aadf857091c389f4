#!/bin/bash
# Failover: two servers serve the same image; the root is attached to the
# first of root=nbd:A,B. While the guest writes and syncs, server A is
# killed for good; the client must carry on with server B, with every
# file verified and no I/O error.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
a_port=$SERVER_PORT
a_pid=$SERVER_PID
start_server ours "$img"
b_port=$SERVER_PORT
boot_vm failover "root=nbd:10.0.2.2@$a_port,10.0.2.2@$b_port:$a_port:::timeout=10 nbdroot.retry=30 nbdtest=write-through-outage:30" &
vm=$!
await_console failover "$vm" "NBDROOT-STEP writing"
sleep 2
SERVER_PID=$a_pid stop_server KILL
echo "server A (port $a_port) killed for good at $(date +%T)"
wait "$vm"
expect_marker failover
expect_console failover "reconnected to server 2 of"
