#!/bin/bash
# The root survives its server's restart over IPv6: as 41-reconnect.sh, in
# an IPv6-only lab with the server on the host's ::1 (the guest's
# [fec0::2]): while the guest writes and syncs files, the server is killed
# and restarted 5 s later on the same port; the client reconnects (persist)
# and the guest checks every file, the absence of I/O errors and a
# read-write root.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab
port=$SERVER_PORT
boot_vm outage6 "ip=auto6 root=nbd:[fec0::2]:$port:::timeout=10 nbdroot.retry=30 nbdtest=write-through-outage:40" &
vm=$!
await_console outage6 "$vm" "NBDROOT-STEP writing"
sleep 2
stop_server KILL
echo "server killed at $(date +%T)"
ss -tlnp 2>/dev/null | grep -q "\]:$port " && fail "port $port still served after the kill"
sleep 5
FIXED_PORT=$port start_server ours "$img"
echo "server restarted on [::1]:$port at $(date +%T)"
wait "$vm"
expect_marker outage6
expect_console outage6 "nbdroot: attached /dev/nbd0 from [fec0::2]:$port"
# the client saw the outage and reconnected
expect_console outage6 "reconnected to server"
