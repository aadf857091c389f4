#!/bin/bash
# The kernel command line's NAME.PARAM=VALUE reaches the modules the init
# loads (nbdroot-modload), after the init's own defaults, so the user's
# value wins: with nbd.nbds_max=4 and "nbd.max_part=8" (a quoted word) the
# guest has nbd0 to nbd3 and no nbd4, nbd's parameters say 4 and 15 (8
# rounded up to 2^n - 1 by nbd; the init's 16 and 16 would be 16 and 31),
# and the root is attached on /dev/nbd0.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
boot_vm params "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbd.nbds_max=4 \"nbd.max_part=8\" nbdtest=module-params:4,15"
expect_marker params
