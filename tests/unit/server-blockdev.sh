#!/bin/sh
# A block device as the export (a loop device over a file): its size from
# BLKGETSIZE64, an nbdcopy round trip compared with the device itself,
# qemu-io zeroes and discard, and -r. Needs root and a free loop device.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdinfo nbdcopy qemu-io losetup ss timeout cmp
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for a loop device"; exit 77; }

truncate -s 16M "$TMP/backing.img"
LOOP=$(losetup -f --show "$TMP/backing.img" 2>"$TMP/losetup.err") ||
	{ echo "skipped: no loop device: $(cat "$TMP/losetup.err")"; exit 77; }
trap 'cleanup; losetup -d "$LOOP"' EXIT

start_server "$LOOP"
size=$(timeout 20 nbdinfo --size "$URI") || fail "nbdinfo --size"
[ "$size" = 16777216 ] || fail "size $size, expected 16777216 (BLKGETSIZE64)"
head -c 6M /dev/urandom >"$TMP/data"
timeout 60 nbdcopy --flush "$TMP/data" "$URI" || fail "nbdcopy to the device"
timeout 60 nbdcopy "$URI" "$TMP/back" || fail "nbdcopy from the device"
cmp -n 6291456 "$TMP/data" "$TMP/back" || fail "read back differs"
cmp -n 6291456 "$TMP/data" "$LOOP" || fail "the device differs"
timeout 60 qemu-io -f raw -c 'write -z 0 1M' -c 'read -P 0 0 1M' \
	-c 'write -z -u 1M 1M' -c 'read -P 0 1M 1M' -c 'discard 2M 1M' \
	-c 'write -f -P 0x5c 3M 64k' -c 'read -P 0x5c 3M 64k' \
	"nbd:127.0.0.1:$PORT" >"$TMP/qio" 2>&1 || fail "qemu-io: $(cat "$TMP/qio")"
grep -qi 'fail\|error' "$TMP/qio" && fail "qemu-io: $(cat "$TMP/qio")"
cmp -n 1048576 "$LOOP" /dev/zero || fail "write -z did not zero the device"
stop_server || fail "exit status after SIGTERM"

start_server -r "$LOOP"
timeout 20 nbdinfo --is read-only "$URI" || fail "-r: not read-only"
timeout 60 nbdcopy "$URI" "$TMP/back2" || fail "-r: nbdcopy from the device"
cmp -n 3145728 "$LOOP" "$TMP/back2" || fail "-r: read back differs"
echo "ok: a loop device served, written, zeroed and read back"
