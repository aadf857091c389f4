#!/bin/bash
# Failover: two servers serve the same image; the root is attached to the
# first of root=nbd:A,B. While the guest writes and syncs, server A is
# killed for good; the client must carry on with server B, with every
# file verified and no I/O error, and the checksums it wrote in a
# loopback capture (lib.sh: wire_check). TLS_CONNS=N: both servers require
# TLS, the root has N connections, each kTLS after the failover, and the
# checksums are absent from the capture (55-tls-failover.sh).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
tls_variant
start_server ours "$img" "${TLS_ARGS[@]}"
a_port=$SERVER_PORT
a_pid=$SERVER_PID
start_server ours "$img" "${TLS_ARGS[@]}"
b_port=$SERVER_PORT
start_capture "tcp port $a_port or tcp port $b_port"
boot_vm failover "root=nbd:10.0.2.2@$a_port,10.0.2.2@$b_port:$a_port:::timeout=10 nbdroot.retry=30 $TLS_BOOT nbdtest=write-through-outage:30$TLS_CHECK" &
vm=$!
await_console failover "$vm" "NBDROOT-STEP writing"
sleep 2
SERVER_PID=$a_pid stop_server KILL
echo "server A (port $a_port) killed for good at $(date +%T)"
wait "$vm"
expect_marker failover
expect_console failover "reconnected to server 2 of"
wire_check "$img"
