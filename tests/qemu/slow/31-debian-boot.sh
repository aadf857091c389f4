#!/bin/bash
# The Debian 12 image (scripts/mkrootfs debian) boots from our server to
# multi-user under systemd: the guest's check unit finds the system
# "running" with no failed unit, its root on /dev/nbd0 with @nbd-client
# alive, the journal in RAM and the host name from DHCP. It then writes a
# token (without sync) and runs "systemctl poweroff", which must end the
# VM within POWEROFF_BOUND seconds; afterwards e2fsck finds the image
# clean and the token is in it: shutdown flushed the root before the
# NBD client went away.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
POWEROFF_BOUND=${POWEROFF_BOUND:-90}
img=$(debian_image debian)
start_server ours "$img"
token=tok$RANDOM$RANDOM
# its own process group, so that the VM can be stopped by its id
set -m
VM_MEM=512 VM_NET_OPTS=hostname=nbdclient VM_TIMEOUT=600 \
	boot_vm debian "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=debian-boot:$token" &
vm=$!
set +m
wait_console debian "NBDROOT-TEST debian-boot:" 540 "$vm"
passed_at=$(date +%s)
for _ in $(seq $((POWEROFF_BOUND * 10))); do
	kill -0 "$vm" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$vm" 2>/dev/null; then
	show_vm debian
	kill -TERM -- "-$vm" 2>/dev/null
	wait "$vm"
	fail "the VM did not power off within ${POWEROFF_BOUND}s"
fi
wait "$vm"
rc=$?
expect_marker debian
[ "$rc" = 0 ] || { show_vm debian; fail "QEMU exited with $rc after poweroff"; }
echo "ok: systemctl poweroff ended the VM in $(($(date +%s) - passed_at))s"
expect_console debian "Remounting '/' read-only"
expect_console debian "All filesystems unmounted"
expect_console debian "reboot: Power down"
if grep -aE 'I/O error|nbd0: .*(timed out|Dead connection|Receive control failed)' "$work/debian.log"; then
	show_vm debian
	fail "the root's device reported errors"
fi
stop_server TERM
fsck_clean "$img"
got=$(debugfs -R 'cat /var/lib/nbdtest/token' "$img" 2>/dev/null)
[ "$got" = "$token" ] || fail "the token written before poweroff is not in the image (found \"$got\")"
echo "ok: the token written just before poweroff is in the image"
