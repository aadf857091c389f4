#!/bin/bash
# The Debian 12 image (scripts/mkrootfs debian) boots from our server to
# multi-user under systemd: the guest's check unit finds the system
# "running" with no failed unit, its root on /dev/nbd0 with @nbd-client
# alive, the journal in RAM and the host name from DHCP. It then writes a
# token (without sync) and runs "systemctl poweroff", which must end the
# VM within POWEROFF_BOUND seconds; afterwards e2fsck finds the image
# clean and the token is in it: shutdown flushed the root before the
# NBD client went away. A second boot finds that token, writes another
# and runs "systemctl reboot" (QEMU's -no-reboot ends the VM): the same
# checks hold for a reboot.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
POWEROFF_BOUND=${POWEROFF_BOUND:-90}
img=$(debian_image debian)
# shut_down_cleanly NAME SPEC KERNEL-MESSAGE TOKEN: boots with nbdtest=SPEC;
# after the guest's marker the VM must end within POWEROFF_BOUND seconds,
# with systemd's remount of the root, KERNEL-MESSAGE and no device error
# on its console; then the image is clean and holds TOKEN.
shut_down_cleanly() {
	local name=$1 spec=$2 msg=$3 token=$4 vm rc passed_at got
	start_server ours "$img"
	# its own process group, so that the VM can be stopped by its id
	set -m
	VM_MEM=512 VM_NET_OPTS=hostname=nbdclient VM_TIMEOUT=600 \
		boot_vm "$name" "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=$spec" &
	vm=$!
	set +m
	await_console "$name" "$vm" "NBDROOT-TEST ${spec%%:*}:"
	passed_at=$(date +%s)
	for _ in $(seq $((POWEROFF_BOUND * 10))); do
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$vm" 2>/dev/null; then
		show_vm "$name"
		kill -TERM -- "-$vm" 2>/dev/null
		wait "$vm"
		fail "$name: the VM did not shut down within ${POWEROFF_BOUND}s"
	fi
	wait "$vm"
	rc=$?
	expect_marker "$name"
	[ "$rc" = 0 ] || { show_vm "$name"; fail "$name: QEMU exited with $rc"; }
	echo "ok: the VM ended $(($(date +%s) - passed_at))s after the marker"
	expect_console "$name" "Remounting '/' read-only"
	expect_console "$name" "All filesystems unmounted"
	expect_console "$name" "$msg"
	if grep -aE 'I/O error|nbd0: .*(timed out|Dead connection|Receive control failed)' "$work/$name.log"; then
		show_vm "$name"
		fail "$name: the root's device reported errors"
	fi
	stop_server TERM
	fsck_clean "$img"
	got=$(debugfs -R 'cat /var/lib/nbdtest/token' "$img" 2>/dev/null)
	[ "$got" = "$token" ] || fail "$name: the token written before shutdown is not in the image (found \"$got\")"
	echo "ok: the token written just before shutdown is in the image"
}

first=tok$RANDOM$RANDOM
second=tok$RANDOM$RANDOM
shut_down_cleanly poweroff "debian-boot:$first" "reboot: Power down" "$first"
shut_down_cleanly reboot "debian-reboot:$second:$first" "reboot: Restarting system" "$second"
