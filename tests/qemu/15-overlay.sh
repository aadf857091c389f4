#!/bin/bash
# nbdroot.overlay=tmpfs: two clients, one after the other, boot from the
# same read-only export (our server with -r); each writes to its root,
# neither sees the other's write, and the image is byte-for-byte unchanged.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
before=$(md5sum <"$img")
start_server ours "$img" -r
boot_vm first "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.overlay=tmpfs nbdroot.retry=20 nbdtest=overlay:first$RANDOM"
expect_marker first
boot_vm second "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.overlay=tmpfs nbdroot.retry=20 nbdtest=overlay:second$RANDOM"
expect_marker second
stop_server TERM
[ "$(md5sum <"$img")" = "$before" ] || fail "the shared image changed"
echo "ok: the shared image is unchanged"
