#!/bin/bash
# nbd-client -L -p (ioctl mode): when the server is killed and restarted,
# the NBD_DO_IT process reattaches the device, whose content reads the same,
# and nbd-client -d ends that process instead of having it reconnect.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/qemu/peers.sh
. "$(dirname "$0")/peers.sh"
root=$(client_test_image)
start_server ours "$root"
root_port=$SERVER_PORT
data=$(data_image ioctl)
start_server ours "$data"
port=$SERVER_PORT
boot_vm ioctl "root=nbd:10.0.2.2:$root_port nbdtest=ioctl-persist:$port" &
vm=$!
await_console ioctl "$vm" "NBDROOT-STEP attached"
stop_server KILL
sleep 3
FIXED_PORT=$port start_server ours "$data"
wait "$vm"
expect_marker ioctl
