#!/bin/sh
# Our nbd-server against qemu's NBD client (qemu-io, qemu-img): pattern
# writes and reads with FUA, write-zeroes with and without unmap, discard,
# flush; an image converted in and compared; the allocation map.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need qemu-io qemu-img ss timeout

truncate -s 16M "$TMP/disk.img"
start_server "$TMP/disk.img"
NBD="nbd:127.0.0.1:$PORT"

qio() {
	timeout 60 qemu-io -f raw "$@" "$NBD" >"$TMP/qio.out" 2>&1 ||
		fail "qemu-io $*: $(cat "$TMP/qio.out")"
	! grep -Eqi 'fail|error' "$TMP/qio.out" || fail "qemu-io $*: $(cat "$TMP/qio.out")"
}

qio -c 'write -f -P 0xab 0 1M' -c 'read -P 0xab 0 1M' \
    -c 'write -P 0xcd 1M 2M' -c 'flush' -c 'read -P 0xcd 1M 2M' \
    -c 'write -z 1M 512k' -c 'read -P 0 1M 512k' -c 'read -P 0xcd 1536k 512k' \
    -c 'write -z -u 2M 512k' -c 'read -P 0 2M 512k' \
    -c 'discard 2560k 512k' -c 'read -P 0 2560k 512k' \
    -c 'write -f -P 0x11 4095k 1k' -c 'read -P 0x11 4095k 1k'

# The bytes are in the backing file where qemu put them.
qemu-io -f raw -c 'read -P 0xab 0 1M' -c 'read -P 0x11 4095k 1k' \
	"$TMP/disk.img" | grep -qi fail && fail "backing file lacks the writes"

# convert in, compare, and map: zeroes written with unmap are holes.
head -c 4M /dev/urandom >"$TMP/src.img"
truncate -s 16M "$TMP/src.img"
timeout 60 qemu-img convert -n -f raw -O raw "$TMP/src.img" "$NBD" ||
	fail "qemu-img convert into the export"
timeout 60 qemu-img compare -f raw -F raw "$TMP/src.img" "$NBD" ||
	fail "qemu-img compare: export differs from the source"
timeout 20 qemu-img map -f raw --output=json "$NBD" >"$TMP/map" ||
	fail "qemu-img map"
grep -q '"start": 0, "length": 4194304, .*"zero": false, "data": true' "$TMP/map" ||
	fail "map: no data extent at 0-4M: $(cat "$TMP/map")"
grep -q '"start": 4194304, "length": 12582912, .*"zero": true, "data": false' "$TMP/map" ||
	fail "map: no hole after 4M: $(cat "$TMP/map")"
stop_server || fail "server exit status after SIGTERM"
echo "ok: qemu-io and qemu-img against nbd-server"
