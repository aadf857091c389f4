#!/bin/sh
# [generic] prefork = N on 127.0.0.1: N children wait before any client;
# 20 clients at once each copy the export byte for byte (nbdcopy); the
# pool is full again after them; SIGHUP replaces every idle child (new
# pids) and a section the reload added is served; with maxconnections 2
# the pool holds 2, two clients holding connections leave it empty and a
# third is refused with the reason, then it fills again; SIGTERM ends
# the master and its idle children; a prefork over the limit is refused
# naming the value.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdcopy nbdinfo python3 pgrep cmp
chmod 711 "$TMP" || fail "chmod $TMP"
head -c 4194304 /dev/urandom >"$TMP/disk.img" || fail "image"
chmod 644 "$TMP/disk.img" || fail "chmod disk.img"

# children PID: the children of PID, sorted, one line
children() {
	pgrep -P "$1" | sort -n | tr '\n' ' '
}

# wait_children N: up to 5 s until the master has N children
wait_children() {
	i=0
	while [ "$(pgrep -P "$SERVER_PID" | wc -l)" -ne "$1" ]; do
		[ $i -lt 50 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

conf() {	# conf PREFORK [MAXCONN] [EXTRA SECTION NAME]
	{
		printf '[generic]\nprefork = %s\n' "$1"
		[ -z "${2:-}" ] || printf 'maxconnections = %s\n' "$2"
		printf '[x]\nexportname = %s\n' "$TMP/disk.img"
		[ -z "${3:-}" ] || printf '[%s]\nexportname = %s\n' "$3" "$TMP/disk.img"
	} >"$TMP/c.conf"
}

conf 4
start_server -C "$TMP/c.conf"
wait_children 4 || fail "prefork 4: $(pgrep -P "$SERVER_PID" | wc -l) children, not 4, before any client"
echo "ok: prefork 4: 4 children wait before any client"

i=1 copies=
while [ $i -le 20 ]; do
	nbdcopy "${URI}x" "$TMP/out.$i" 2>"$TMP/copy.$i" &
	copies="$copies $!"
	i=$((i + 1))
done
for p in $copies; do
	wait "$p"
done
i=1
while [ $i -le 20 ]; do
	cmp -s "$TMP/disk.img" "$TMP/out.$i" ||
		fail "client $i of 20: its copy differs ($(cat "$TMP/copy.$i"))"
	i=$((i + 1))
done
echo "ok: 20 clients at once each copied the 4 MiB export byte for byte"
wait_children 4 || fail "after 20 clients: $(pgrep -P "$SERVER_PID" | wc -l) children, not 4"
echo "ok: the pool is full again after them (4 waiting)"

before=$(children "$SERVER_PID")
conf 4 "" y
kill -HUP "$SERVER_PID"
i=0
while :; do
	now=$(children "$SERVER_PID")
	set -- $now
	stale=
	for p in $before; do
		case " $now " in *" $p "*) stale=$p ;; esac
	done
	[ $# -eq 4 ] && [ -z "$stale" ] && break
	[ $i -lt 50 ] || fail "SIGHUP: children '$now', before '$before'"
	sleep 0.1
	i=$((i + 1))
done
echo "ok: SIGHUP: 4 new idle children ($now), none of before ($before)"
[ "$(nbdinfo --size "${URI}y" 2>&1)" = 4194304 ] ||
	fail "SIGHUP: the new export y: $(nbdinfo --size "${URI}y" 2>&1)"
echo "ok: SIGHUP: the export the reload added is served"
stop_server || fail "SIGTERM: exit status $rc"
sleep 0.2
for p in $now; do
	! kill -0 "$p" 2>/dev/null || fail "SIGTERM: idle child $p still running"
done
echo "ok: SIGTERM ends the master and its idle children"

conf 4 2
start_server -C "$TMP/c.conf"
wait_children 2 || fail "prefork 4, maxconnections 2: $(pgrep -P "$SERVER_PID" | wc -l) children, not 2"
echo "ok: prefork 4 with maxconnections 2: the pool holds 2"
python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for i in range(2)]
for c in s:
    assert len(c.recv(18)) == 18
open(sys.argv[2], "w").close()
time.sleep(4)' "$PORT" "$TMP/held" &
held=$!
i=0
until [ -e "$TMP/held" ]; do
	[ $i -lt 50 ] || fail "two clients could not connect and hold"
	sleep 0.1
	i=$((i + 1))
done
wait_children 2 || fail "two held: $(pgrep -P "$SERVER_PID" | wc -l) children, not 2 (the pool must be empty)"
nbdinfo --size "${URI}x" >"$TMP/third" 2>&1 && fail "a third client was served over maxconnections 2"
i=0
until grep -q "refused: too many connections (maxconnections 2)" "$TMP/server.log"; do
	[ $i -lt 30 ] || fail "the third client: no refusal in the log"
	sleep 0.1
	i=$((i + 1))
done
echo "ok: two clients hold both connections; a third is refused: too many connections (maxconnections 2)"
wait "$held"
wait_children 2 || fail "after the two: $(pgrep -P "$SERVER_PID" | wc -l) children, not 2"
[ "$(nbdinfo --size "${URI}x" 2>&1)" = 4194304 ] || fail "after the two: not served"
echo "ok: after they leave the pool holds 2 again and serves"
stop_server || fail "SIGTERM: exit status $rc"

conf 5000
"$SERVER" -n 127.0.0.1@1 -C "$TMP/c.conf" >"$TMP/big.out" 2>&1 && fail "prefork 5000 accepted"
grep -q "prefork: 5000 is more than 4096" "$TMP/big.out" ||
	fail "prefork 5000: $(cat "$TMP/big.out")"
echo "ok: prefork 5000 is refused: $(grep -o 'prefork: 5000 is more than 4096' "$TMP/big.out")"
