#!/bin/bash
# Durability under crashes: a guest appends numbered records, each with its
# own fsync, to a file on its NBD root and prints each acknowledged number
# (tests/qemu/guest/tests/append-records) while the host kills the server
# and its children with SIGKILL at random moments and restarts it after
# 0-5 s. After the VM stops, every acknowledged record must be in the
# image, read on the host with debugfs (after e2fsck replayed the journal
# on a copy): a plain export, then a copy-on-write export (read back
# through the server with nbdcopy, the base checked unchanged). KILLS=3
# here, 10 in make soak.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
kills=${KILLS:-3}
command -v debugfs >/dev/null || fail "debugfs not installed (e2fsprogs)"
command -v nbdcopy >/dev/null || fail "nbdcopy not installed (libnbd-bin)"

# Each kill waits until the guest has acknowledged records since the last
# restart, so it lands on a live connection with writes in flight.
VM_TIMEOUT=$((kills * 40 + 180))
seconds=$((kills * 40 + 60))

# progress NAME VM COUNT: waits until the guest acknowledged COUNT more
# records than now; fails if the VM ends or 120 s pass first.
progress() {
	local name=$1 vm=$2 from want i
	from=$(last_ack "$name")
	want=$((${from:--1} + $3))
	for i in $(seq 1200); do
		[ "$(last_ack "$name")" -ge "$want" ] 2>/dev/null && return 0
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	fail "$name: no progress past record ${from:-none} (waited $((i / 10)) s)"
}

# kill_loop NAME VM ARGS...: KILLS rounds of progress, a random 0-2 s,
# SIGKILL to the server's process group, 0-5 s down, restart with ARGS;
# then progress again and the stop signal (an NBD server on $stopport).
kill_loop() {
	local name=$1 vm=$2 k gap down
	shift 2
	for k in $(seq "$kills"); do
		progress "$name" "$vm" 5
		gap=$((RANDOM % 3))
		sleep "$gap"
		stop_server KILL 2>/dev/null
		down=$((RANDOM % 6))
		echo "kill $k: server and children SIGKILLed at record $(last_ack "$name"), restarted after $down s"
		sleep "$down"
		FIXED_PORT=$port start_server ours "$@"
	done
	progress "$name" "$vm" 5
	local keep_pid=$SERVER_PID keep_port=$SERVER_PORT
	FIXED_PORT=$stopport start_server ours "$stop_img"
	stopper=$SERVER_PID
	SERVER_PID=$keep_pid SERVER_PORT=$keep_port
	wait "$vm"
	kill -TERM -- "-$stopper"
}

last_ack() {
	grep -ao 'NBDROOT-ACK [0-9]* END' "$work/$1.log" | tail -n 1 | cut -d' ' -f2
}

# check_records NAME IMAGE: records 0..last acknowledged, each intact,
# read from a copy of IMAGE whose journal e2fsck replayed (as the next
# mount would: fsynced records may still be only in the journal).
check_records() {
	local name=$1 image=$2 last rc
	last=$(last_ack "$name")
	[ -n "$last" ] || fail "$name: no record acknowledged"
	cp --sparse=always "$image" "$work/$name-replayed.img"
	e2fsck -fy "$work/$name-replayed.img" >"$work/$name-e2fsck.log" 2>&1
	rc=$?
	[ "$rc" -lt 4 ] || fail "$name: e2fsck left errors (exit $rc)"
	debugfs -R "cat /data/records" "$work/$name-replayed.img" \
		>"$work/$name.records" 2>/dev/null
	awk -v last="$last" '
		{ want = sprintf("record %08d %-47s", NR - 1, "acknowledged-by-fsync") }
		NR - 1 <= last && $0 != want { if (!bad++) first = NR - 1 }
		END {
			if (NR < last + 1) { printf "only %d records in the image\n", NR; exit 1 }
			if (bad) { printf "%d records damaged, the first %d\n", bad, first; exit 1 }
			printf "%d records in the image, ", NR
		}' "$work/$name.records" ||
		fail "$name: acknowledged records 0-$last are not all in the image"
	echo "all $((last + 1)) acknowledged records (0-$last) intact after $kills kills"
}

# crash_run NAME EXPORT SERVER-ARGS...: boots the guest on our server
# (started with SERVER-ARGS), kills and restarts the server KILLS times,
# and expects the guest's PASS marker.
crash_run() {
	local name=$1 export=$2 vm
	shift 2
	start_server ours "$@"
	port=$SERVER_PORT
	boot_vm "$name" "root=nbd:10.0.2.2:$port$export:::timeout=5 nbdroot.retry=30 nbdtest=append-records:$seconds:$stopport" &
	vm=$!
	await_console "$name" "$vm" "NBDROOT-STEP writing"
	kill_loop "$name" "$vm" "$@"
	expect_marker "$name"
}

# The stop signal's server listens on a port chosen now and unused.
stop_img=$work/stop.img
truncate -s 1M "$stop_img"
stopport=$(random_port)
while port_open "$stopport"; do stopport=$(random_port); done

img=$(test_image plain)
crash_run plain "" "$img"
stop_server
check_records plain "$img"

base=$(test_image base)
before=$(md5sum <"$base")
mkdir -p "$work/cow"
printf '[root]\nexportname = %s\ncopyonwrite = true\ncowdir = %s\ncowtimeout = 600\n' \
	"$base" "$work/cow" >"$work/cow.conf"
crash_run cow /root "$base" -C "$work/cow.conf"
# The guest and nbdcopy both reach the server from 127.0.0.1, so nbdcopy
# reads the guest's copy.
timeout 120 nbdcopy "nbd://127.0.0.1:$port/root" "$work/merged.img" ||
	fail "cow: nbdcopy of the client's view failed"
stop_server
[ "$(md5sum <"$base")" = "$before" ] || fail "cow: the base image changed"
check_records cow "$work/merged.img"
echo "ok: no acknowledged record lost to $kills SIGKILLs, plain and copy-on-write"
