#!/bin/bash
# nbdroot.swap=: a 128 MiB VM pushes 200 MiB through a tmpfs into swap on
# /dev/nbd1 (an empty export the init runs mkswap on) and reads it back
# intact. A second nbdroot.swap= goes to /dev/nbd2.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_server ours "$img"
root_port=$SERVER_PORT
truncate -s 16M "$work/swap2.img"
start_server ours "$work/swap2.img"
swap2_port=$SERVER_PORT
truncate -s 320M "$work/swap.img"
start_server ours "$work/swap.img"
VM_MEM=128 VM_TIMEOUT=400 boot_vm swap "root=nbd:10.0.2.2:$root_port nbdroot.swap=nbd:10.0.2.2:$SERVER_PORT nbdroot.swap=nbd:10.0.2.2:$swap2_port nbdroot.retry=20 nbdtest=swap-pressure:2"
expect_marker swap
expect_console swap "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$SERVER_PORT"
expect_console swap "nbdroot: swap: /dev/nbd2 from nbd:10.0.2.2:$swap2_port"
