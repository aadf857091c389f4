#!/bin/bash
# The root survives its server going away: while the guest writes and
# syncs files on its NBD root, the server and its children are killed with
# SIGKILL and restarted 5 s later on the same port. The guest then checks
# every file from the server, the absence of I/O errors in dmesg, and that
# the root is still read-write. A loopback capture must show the
# checksums the guest wrote (lib.sh: wire_check). OUTAGE_SIGNAL=TERM stops
# the server as a restart would instead (46-restart-sigterm.sh).
# TLS_CONNS=N: the root over TLS with N connections, each kTLS after the
# restart, and the checksums absent from the capture (54-tls-reconnect.sh).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
tls_variant
start_server ours "$img" "${TLS_ARGS[@]}"
port=$SERVER_PORT
start_capture "tcp port $port"

# the guest writes 40 files over ~15 s; the request timeout of 10 s
# bounds how long requests caught in flight wait before they are resent
boot_vm outage "root=nbd:10.0.2.2:$port:::timeout=10 nbdroot.retry=30 $TLS_BOOT nbdtest=write-through-outage:40$TLS_CHECK" &
vm=$!
await_console outage "$vm" "NBDROOT-STEP writing"
sleep 2
sig=${OUTAGE_SIGNAL:-KILL}
stop_server "$sig"
echo "server stopped (SIG$sig to its process group) at $(date +%T)"
ss -tlnp 2>/dev/null | grep -q ":$port " && fail "port $port still served after the kill"
sleep 5
FIXED_PORT=$port start_server ours "$img" "${TLS_ARGS[@]}"
echo "server restarted on port $port at $(date +%T)"
wait "$vm"
expect_marker outage
grep -a 'nbd-client\|nbd0' "$work/outage.log" | grep -av 'NBDROOT' | tail -n 5 | sed 's/^/    /'
wire_check "$img"
