#!/bin/bash
# (c) A wrong export name gives one clear nbdroot: line on the console,
# then (after nbdroot.retry) a panic that ends the VM: never a hang.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
boot_vm bad "root=nbd:10.0.2.2:$SERVER_PORT/nosuch nbdroot.retry=4"
rc=$?
expect_console bad "nbdroot: attach: server 10.0.2.2:$SERVER_PORT has no export \"nosuch\""
expect_console bad "nbdroot: attach: giving up after 4s"
expect_console bad "Kernel panic"
[ "$rc" -ne 124 ] || fail "the VM hung until the timeout"
