#!/bin/bash
# A malformed boot line fails in the cmdline step, before any network: the
# one line names the field and the value ('port "abc"'), then a panic.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VM_TIMEOUT=90
boot_vm badline "root=nbd:10.0.2.2:abc/x"
expect_console badline 'nbdroot: cmdline: root=nbd:10.0.2.2:abc/x: port "abc" is not a number from 1 to 65535'
expect_console badline "Kernel panic"
