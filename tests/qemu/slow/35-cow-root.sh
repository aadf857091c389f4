#!/bin/bash
# A Debian client on a copy-on-write export of our server (copyonwrite =
# true): the base image is opened read-only, the client's writes go to its
# own files in cowdir. Boot 1 writes a token and powers off; boot 2 (same
# client address, a new connection) must find it, replace it and reboot.
# The base image stays byte-for-byte the same, and the client's files in
# cowdir hold its blocks.
# (All QEMU user-network guests reach the host from 127.0.0.1, and the
# server keys copies by client address: the three-client test uses tmpfs
# overlays instead.)
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(debian_image base)
before=$(md5sum <"$img")
mkdir -p "$work/cow"
printf '[generic]\n[debian]\nexportname = %s\ncopyonwrite = true\ncowdir = %s\ncowtimeout = 600\n' \
	"$img" "$work/cow" >"$work/cow.conf"
start_server ours "$img" -C "$work/cow.conf"
first=tok$RANDOM$RANDOM
second=tok$RANDOM$RANDOM
VM_MEM=512 VM_NET_OPTS=hostname=nbdclient VM_TIMEOUT=300 \
	boot_vm first "root=nbd:10.0.2.2:$SERVER_PORT/debian nbdroot.retry=30 nbdtest=debian-boot:$first"
expect_marker first
VM_MEM=512 VM_NET_OPTS=hostname=nbdclient VM_TIMEOUT=300 \
	boot_vm second "root=nbd:10.0.2.2:$SERVER_PORT/debian nbdroot.retry=30 nbdtest=debian-reboot:$second:$first"
expect_marker second
expect_console second "reboot: Restarting system"
stop_server TERM
[ "$(md5sum <"$img")" = "$before" ] || fail "the base image changed"
echo "ok: the base image is unchanged"
cow=$(find "$work/cow" -name '*.cow' | head -n 1)
[ -n "$cow" ] || fail "no copy-on-write file in cowdir"
grep -qaF "$second" "$cow" || fail "the client's last token is not in its copy-on-write file $cow"
echo "ok: the client's writes are in ${cow##*/} ($(du -h "$cow" | cut -f1) used)"
