#!/bin/sh
# nbd-server's command line: usage errors exit 2, a missing file or a port
# in use exit 1 with a message naming the file or address, and -d
# on ip:port serves clients one by one without forking.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/server-lib
need nbdinfo ss timeout

truncate -s 1M "$TMP/disk.img"

"$SERVER" -x "$TMP/disk.img" 2>"$TMP/err"
[ $? = 2 ] || fail "unknown option: exit status not 2"
grep -q '^usage: nbd-server' "$TMP/err" || fail "no usage line: $(cat "$TMP/err")"

"$SERVER" -n 2>"$TMP/err"
[ $? = 2 ] || fail "nothing to export: exit status not 2"

"$SERVER" -n 127.0.0.1@notaport "$TMP/disk.img" 2>"$TMP/err"
[ $? = 2 ] || fail "bad port: exit status not 2"
grep -q 'not an address and port: 127.0.0.1@notaport' "$TMP/err" || fail "bad port message: $(cat "$TMP/err")"

"$SERVER" -n 127.0.0.1@10809 "$TMP/missing.img" 2>"$TMP/err"
[ $? = 1 ] || fail "missing file: exit status not 1"
grep -q "^nbd-server: $TMP/missing.img: No such file or directory$" "$TMP/err" ||
	fail "missing file message: $(cat "$TMP/err")"

start_server "$TMP/disk.img"
timeout 10 "$SERVER" -n "127.0.0.1@$PORT" "$TMP/disk.img" 2>"$TMP/err"
[ $? = 1 ] || fail "port in use: exit status not 1"
grep -q "^nbd-server: bind 127.0.0.1:$PORT: Address already in use$" "$TMP/err" ||
	fail "port in use message: $(cat "$TMP/err")"
stop_server || fail "SIGTERM: exit status not 0"

# -d (no fork) serving two clients one after another, on ip:port
MODE=-d SEP=: start_server "$TMP/disk.img"
for n in 1 2; do
	size=$(timeout 10 nbdinfo --size "$URI") || fail "-d: client $n"
	[ "$size" = 1048576 ] || fail "-d: size $size"
done
[ "$(pgrep -c -P "$SERVER_PID")" = 0 ] || fail "-d forked a child"
stop_server || fail "-d: exit status after SIGTERM not 0"
[ "$(grep -c 'disconnected' "$TMP/server.log")" = 2 ] || fail "-d: expected two log lines"
echo "ok: command line, bind errors and -d"
