#!/bin/sh
# Our nbd-server against libnbd's clients (nbdinfo, nbdcopy): list, sizes,
# advertised capabilities, a write/read round trip compared with cmp, and
# the map after a trim. Host only, 127.0.0.1, bounded by timeouts.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdinfo nbdcopy ss timeout cmp

truncate -s 64M "$TMP/disk.img"
head -c 8M /dev/urandom >"$TMP/data"
start_server "$TMP/disk.img"

timeout 20 nbdinfo --list "$URI" >"$TMP/list" || fail "nbdinfo --list"
grep -q 'export="":' "$TMP/list" || fail "--list does not show the default export"
size=$(timeout 20 nbdinfo --size "$URI") || fail "nbdinfo --size"
[ "$size" = 67108864 ] || fail "size $size, expected 67108864"

for can in flush fua trim zero fast-zero cache multi-conn; do
	timeout 20 nbdinfo --can "$can" "$URI" ||
		fail "nbdinfo --can $can: not advertised"
done
timeout 20 nbdinfo --is read-only "$URI" && fail "writable export reported read-only"

# Round trip through the server, then the file itself holds the bytes.
timeout 60 nbdcopy --flush "$TMP/data" "$URI" || fail "nbdcopy to server"
timeout 60 nbdcopy "$URI" "$TMP/back" || fail "nbdcopy from server"
cmp -n 8388608 "$TMP/data" "$TMP/back" || fail "read back differs"
cmp -n 8388608 "$TMP/data" "$TMP/disk.img" || fail "backing file differs"
cmp -i 8388608 "$TMP/back" /dev/zero 2>&1 | grep -q EOF ||
	fail "bytes past the written range are not zero"

# base:allocation: written data, then a hole to the end.
timeout 20 nbdinfo --map "$URI" >"$TMP/map" || fail "nbdinfo --map"
grep -Eq '^ +0 +8388608 +0 +data$' "$TMP/map" || fail "map: $(cat "$TMP/map")"
grep -Eq '^ +8388608 +58720256 +3 +hole,zero$' "$TMP/map" || fail "map: $(cat "$TMP/map")"

stop_server || fail "server exit status $? after SIGTERM"
grep -q "export '': .* disconnected" "$TMP/server.log" || fail "no connection log line"

# -r: read-only, and writes refused.
start_server -r "$TMP/disk.img"
timeout 20 nbdinfo --is read-only "$URI" || fail "-r export not read-only"
timeout 20 nbdinfo --can trim "$URI" && fail "-r export offers trim"
timeout 60 nbdcopy "$TMP/data" "$URI" 2>/dev/null && fail "nbdcopy wrote to a -r export"
timeout 60 nbdcopy "$URI" "$TMP/back2" || fail "nbdcopy from -r export"
cmp "$TMP/back" "$TMP/back2" || fail "-r export changed data"
echo "ok: nbdinfo and nbdcopy against nbd-server on 127.0.0.1:$PORT"
