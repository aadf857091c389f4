#!/bin/bash
# nbdroot.debug traces the init on the console and changes nothing else:
# the root (and a swap export, whose server also goes through a command
# substitution) attach from the host named on the boot line, not from a
# trace line, and the guest's check passes. The init prints the uptime
# at the end of each boot stage for a boot-time breakdown.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
root_port=$SERVER_PORT
truncate -s 16M "$work/swap.img"
start_server ours "$work/swap.img"
boot_vm debug "root=nbd:10.0.2.2:$root_port nbdroot.swap=nbd:10.0.2.2:$SERVER_PORT nbdroot.debug nbdroot.retry=30 nbdtest=root-rw"
expect_marker debug
# "] nbdroot:": the kernel's line, not the trace of the echo that wrote it
expect_console debug "] nbdroot: attached /dev/nbd0 from 10.0.2.2:$root_port \"\""
expect_console debug "] nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$SERVER_PORT"
# the trace was on, on the console
expect_console debug "+ attach_root"
for stage in modules link lease connect attach mount switch_root; do
	expect_console debug "] nbdroot: time: $stage "
done
