#!/bin/bash
# scripts/record-boot records a real boot: the busybox test root boots
# through nbdkit's log filter until the guest's root-rw check passes (it
# writes a file and syncs). The trace it writes is a valid storm trace
# holding the superblock's read and the guest's write, and one read of
# the partition table (the attach scans it once), and the storm
# driver replays it against our server with every read equal to the
# image's bytes.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
require
[ -x "$top/build/storm" ] || fail "$top/build/storm not built (make storm)"
img=$(test_image)
cp --sparse=always "$img" "$work/orig.img"
"$top/scripts/record-boot" --until 'NBDROOT-TEST root-rw: PASS' \
	--append nbdtest=root-rw --timeout "$VM_TIMEOUT" \
	"$img" "$work/boot.trace.xz" >"$work/record.log" 2>&1 ||
	fail "record-boot: $(tail -n 5 "$work/record.log")"
echo "ok: $(tail -n 1 "$work/record.log")"
cmp "$img" "$work/orig.img" || fail "record-boot changed the image it booted"
xz -dc "$work/boot.trace.xz" >"$work/boot.trace" || fail "the trace is not xz"
[ "$(head -n 1 "$work/boot.trace")" = "nbdroot-trace 1" ] ||
	fail "the trace's first line is \"$(head -n 1 "$work/boot.trace")\""
# ext4's superblock is bytes 1024..2047 of the root: the mount read it
awk '$1 == "r" && $4 == "R" && $6 <= 1024 && $6 + $7 >= 2048 { f = 1 } END { exit !f }' \
	"$work/boot.trace" || fail "no read of the superblock in the trace"
# the partition table (offset 0) is read once: the client's open lets
# the kernel scan it, and on this kernel no BLKRRPART scans it again
# (client/device.c)
zero=$(awk '$1 == "r" && $4 == "R" && $6 == 0' "$work/boot.trace" | wc -l)
[ "$zero" -eq 1 ] || fail "offset 0 read $zero times: the partition table more than once?"
echo "ok: the partition table was read once"
writes=$(awk '$1 == "r" && $4 == "W"' "$work/boot.trace" | wc -l)
[ "$writes" -ge 1 ] || fail "the guest's write is not in the trace"
echo "ok: the trace holds the superblock's read and $writes writes"

start_server ours "$work/orig.img"
out=$(timeout 120 "$top/build/storm" -n 2 -x 10 -t 60 -i "$img" -v \
	"$work/boot.trace" 127.0.0.1 "$SERVER_PORT") || fail "storm: $out"
case " $out " in
*" done=2 failed=0 stuck=0 "*" mismatches=0 "*) ;;
*) fail "storm replay of the recorded trace: $out" ;;
esac
echo "ok: 2 clients replayed the recorded boot, every read equal to the image"
