#!/bin/bash
# (a) A diskless VM boots with root=nbd:10.0.2.2:PORT from our server; the
# guest checks that its root is /dev/nbd0, read-write, and connected.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server "${SERVER_KIND:-ours}" "$img"
boot_vm boot "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=root-rw ${EXTRA_APPEND:-}"
expect_marker boot
