#!/bin/bash
# (b) A file written in one boot is there in the next, and the host sees
# it in the image too (so it reached the server, not a cache).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
token=persist-$RANDOM$RANDOM
start_server ours "$img"
boot_vm first "root=nbd:10.0.2.2:$SERVER_PORT nbdtest=persist-write:$token"
expect_marker first
boot_vm second "root=nbd:10.0.2.2:$SERVER_PORT nbdtest=persist-read:$token"
expect_marker second
stop_server
got=$(debugfs -R "cat /persist.txt" "$img" 2>/dev/null)
[ "$got" = "$token" ] || fail "the image holds \"$got\", not \"$token\""
echo "ok: the image on the host holds $token"
