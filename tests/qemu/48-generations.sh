#!/bin/bash
# Image generations: two clients at once on a read-only image with
# nbdroot.overlay=tmpfs each read /gen-data (4 MiB) again and again with
# caches dropped while the host renames an image of the same size with
# another /gen-data over the export and restarts the server, by SIGTERM and
# then by SIGKILL. Every read must give the old checksum with no I/O error
# (the clients reconnect by the canonical name room@ID). A client booted
# afterwards reads the new one; once the first two have powered off and
# generationtimeout has passed, the old generation is gone from
# generationdir while the current one stays. The server runs as root with
# its children dropping to nobody, generationdir and cowdir root's alone.
# GEN_COW=1 (49-generations-cow.sh): a copy-on-write export, the root
# read-write, one client, which writes a file per read; all QEMU guests are
# one client (127.0.0.1) to the server, so a second writer would share its
# files, and the later boot is a reboot: its copy-on-write keeps it on the
# old base with its files; once its files in cowdir are deleted (the reset
# README describes) a boot gets the new one.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"

# a copy of the test root with /gen-data from SEED; prints its md5
gen_image() {
	local img=$1 seed=$2
	cp --sparse=always "$(test_image base)" "$img"
	head -c 4194304 </dev/zero | openssl enc -aes-128-ctr -nosalt \
		-pass "pass:$seed" 2>/dev/null >"$work/gen-data-$seed"
	[ "$(stat -c %s "$work/gen-data-$seed")" = 4194304 ] ||
		fail "could not make /gen-data for seed $seed"
	debugfs -w -R "write $work/gen-data-$seed gen-data" "$img" >/dev/null 2>&1 ||
		fail "debugfs could not write /gen-data into $img"
	md5sum <"$work/gen-data-$seed" | cut -d' ' -f1
}

command -v debugfs >/dev/null || { echo "SKIP: debugfs not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
room=$work/room.img gendir=$work/generations
old=$(gen_image "$room" old)
new=$(gen_image "$work/room.img.new" new)
[ "$old" != "$new" ] || fail "both images have the same /gen-data"
# as root, the children run as nobody and open what they need before the
# drop: generationdir, cowdir and $work stay root's alone
mkdir -m 700 "$gendir"
# generationtimeout counts from the last client's disconnect: it must
# outlast a restart and the client's backoff (gone sooner, the client
# waits, refusing the new image, until its dead timeout fails its I/O)
printf '[generic]\nhandshaketimeout = 600\n[room]\nexportname = %s\ngenerationdir = %s\ngenerationtimeout = 20\n' \
	"$room" "$gendir" >"$work/room.conf"
if [ -n "${GEN_COW:-}" ]; then
	mkdir -m 700 "$work/cow"
	printf 'copyonwrite = true\ncowdir = %s\n' "$work/cow" >>"$work/room.conf"
	boot=(nbdroot.retry=30) first_mode=,write clients=(first)
else
	printf 'readonly = true\n' >>"$work/room.conf"
	boot=(nbdroot.overlay=tmpfs nbdroot.retry=30) first_mode=''
	clients=(first other)
fi
start_server ours "$room" -C "$work/room.conf"
port=$SERVER_PORT

# the clients at once, under one hold of the VM lock; slower together
hold_vm_lock
VM_TIMEOUT=${VM_TIMEOUT_GEN:-360}
start=$SECONDS
vms=()
for c in "${clients[@]}"; do
	boot_vm "$c" "root=nbd:10.0.2.2:$port/room:::timeout=10 ${boot[*]} nbdtest=generation-read:$old,2$first_mode" &
	vms+=($!)
done
for i in "${!clients[@]}"; do
	await_console "${clients[$i]}" "${vms[$i]}" "NBDROOT-STEP reading"
done
mv "$work/room.img.new" "$room"
echo "new image renamed over $room at $(date +%T)"
# the master looks every generationtimeout/4 s (5 s here)
for _ in $(seq 100); do
	grep -aq "replaced: generation" "$work/server-ours-$port.log" && break
	sleep 0.2
done
log=$work/server-ours-$port.log
n=0
for sig in TERM KILL; do
	sleep 3
	# each restart on the port starts that log afresh
	cp "$log" "$work/before-SIG$sig.log"
	stop_server "$sig"
	echo "server stopped (SIG$sig) at $(date +%T)"
	sleep 2
	FIXED_PORT=$port start_server ours "$room" -C "$work/room.conf"
	# each client back on this server before the next stop (bounded by
	# the VM's own timeout: it may fail first)
	n=$((n + 1))
	for i in "${!clients[@]}"; do
		while kill -0 "${vms[$i]}" 2>/dev/null &&
		    [ "$(grep -ac 'reconnected to server' "$work/${clients[$i]}.log")" -lt "$n" ]; do
			sleep 0.2
		done
	done
done
for i in "${!clients[@]}"; do
	wait "${vms[$i]}"
	expect_marker "${clients[$i]}"
done
echo "${#clients[@]} client(s) at once: $((SECONDS - start)) s from boot to poweroff"
oldgen=$(grep -ao "current generation room@[0-9a-f-]*" "$work/before-SIGTERM.log" |
	head -n 1 | cut -d' ' -f3)
[ -n "$oldgen" ] || fail "no generation in the first server's log"
grep -aq "replaced: generation room@[0-9a-f-]* is now current, $oldgen kept" \
	"$work/before-SIGTERM.log" || fail "the server did not log the replacement"

if [ -n "${GEN_COW:-}" ]; then
	boot_vm reboot "root=nbd:10.0.2.2:$port/room ${boot[*]} nbdtest=generation-read:$old,0,kept"
	expect_marker reboot
	grep -aq "runs on the older base $oldgen" "$work/before-SIGKILL.log" "$log" ||
		fail "the server did not log that the client runs on $oldgen"
	echo "ok: after a reboot the client is still on $oldgen with its files"
	rm -f "$work/cow/"*
	echo "the client's copy-on-write files deleted (reset)"
fi
boot_vm second "root=nbd:10.0.2.2:$port/room ${boot[*]} nbdtest=generation-read:$new,0"
expect_marker second
# logged when each client's last connection ended, at its poweroff
back=$(grep -ac "export '$oldgen': .* requests" "$log")
[ "$back" -ge "${#clients[@]}" ] ||
	fail "$back of ${#clients[@]} client(s) came back for $oldgen after the SIGKILL restart"
echo "ok: ${#clients[@]} client(s) stayed on $oldgen across both restarts"

for _ in $(seq 300); do
	[ -e "$gendir/$oldgen" ] || break
	sleep 0.2
done
[ ! -e "$gendir/$oldgen" ] || fail "$oldgen still in $gendir after its client left: $(ls "$gendir")"
kept=0
for f in "$gendir"/room@*; do
	case $f in *.use) ;; *) [ ! -e "$f" ] || kept=$((kept + 1)) ;; esac
done
[ "$kept" = 1 ] || fail "$kept generations in $gendir, not the current one alone"
echo "ok: $oldgen deleted after generationtimeout; the current one kept"
stop_server TERM
