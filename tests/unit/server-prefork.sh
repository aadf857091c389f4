#!/bin/sh
# [generic] prefork = N on 127.0.0.1: N children wait before any client;
# 20 clients at once each copy the export byte for byte (nbdcopy); the
# pool is full again after them; SIGHUP replaces every idle child (new
# pids) and a section the reload added is served; with maxconnections 2
# the pool holds 2, two clients holding connections leave it empty and a
# third is refused with the reason, then it fills again; SIGTERM ends
# the master and its idle children; SIGHUP ends the idle children at
# once while a refuser the master forked still talks to a client; a
# reload to prefork 0 serves by forking per client and one back
# refills; a prefork over the limit is refused naming the value.
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

# idle: the master's children that hold no client connection (ss -p)
idle() {
	ss -Htnp state established "sport = :$PORT" 2>/dev/null |
		grep -o 'pid=[0-9]*' | sed 's/pid=//' | sort -u >"$TMP/busy"
	pgrep -P "$SERVER_PID" | sort -n | while read -r c; do
		grep -qx "$c" "$TMP/busy" || echo "$c"
	done | tr '\n' ' '
}

# idle_are N: exactly N children of the master hold no client
idle_are() {
	# shellcheck disable=SC2046 # pids are words
	set -- "$1" $(idle)
	[ $# -eq $(($1 + 1)) ]
}

# within TENTHS CMD...: up to TENTHS tenths of a second until CMD succeeds
within() {
	_n=$1 _i=0
	shift
	until "$@"; do
		[ $_i -lt "$_n" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

has_children() { [ "$(pgrep -P "$SERVER_PID" | wc -l)" -eq "$1" ]; }

# wait_children N, wait_idle N: up to 5 s until the master has N
# children, N of them idle
wait_children() { within 50 has_children "$1"; }
wait_idle() { within 50 idle_are "$1"; }

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
within 50 test -e "$TMP/held" || fail "two clients could not connect and hold"
wait_children 2 || fail "two held: $(pgrep -P "$SERVER_PID" | wc -l) children, not 2 (the pool must be empty)"
[ -z "$(idle)" ] || fail "two held: idle children '$(idle)' over maxconnections 2"
nbdinfo --size "${URI}x" >"$TMP/third" 2>&1 && fail "a third client was served over maxconnections 2"
within 30 grep -q "refused: too many connections (maxconnections 2)" "$TMP/server.log" ||
	fail "the third client: no refusal in the log"
echo "ok: two clients hold both connections; a third is refused: too many connections (maxconnections 2)"
wait "$held"
wait_children 2 || fail "after the two: $(pgrep -P "$SERVER_PID" | wc -l) children, not 2"
[ "$(nbdinfo --size "${URI}x" 2>&1)" = 4194304 ] || fail "after the two: not served"
echo "ok: after they leave the pool holds 2 again and serves"
stop_server || fail "SIGTERM: exit status $rc"

# A child the master forks (here a refuser, over maxconnections) must not
# keep the pool's hold pipe open: on SIGHUP the idle children exit at
# once, not when it ends. Then a reload to prefork 0 forks per client
# (the listening sockets stay non-blocking) and one back to 1 refills.
conf 1 2
start_server -C "$TMP/c.conf"
wait_idle 1 || fail "prefork 1: idle '$(idle)'"
python3 -c '
import os, socket, sys, time
port, tmp = int(sys.argv[1]), sys.argv[2]
s = []
for i in range(3):
    c = socket.create_connection(("127.0.0.1", port))
    assert len(c.recv(18)) == 18
    s.append(c)
    time.sleep(0.3)
s[0].close()		# one slot free again: the pool refills
open(tmp + "/three", "w").close()
end = time.monotonic() + 30	# bounded, should the test fail first
while not os.path.exists(tmp + "/done") and time.monotonic() < end:
    time.sleep(0.1)' "$PORT" "$TMP" &
holder=$!
within 50 test -e "$TMP/three" || fail "three clients could not connect"
wait_idle 1 || fail "one slot free: idle '$(idle)'"
old=$(idle)
kill -HUP "$SERVER_PID"
sleep 1
for p in $old; do
	! kill -0 "$p" 2>/dev/null || fail "SIGHUP: idle child $p still waits (a refuser holds the pool's pipe?)"
done
echo "ok: SIGHUP while a refuser talks to a client: the idle child ($old) exits at once"
touch "$TMP/done"
wait "$holder"
conf 0 2
kill -HUP "$SERVER_PID"
sleep 0.5
wait_idle 0 || fail "prefork 0 after SIGHUP: idle '$(idle)'"
[ "$(nbdinfo --size "${URI}x" 2>&1)" = 4194304 ] || fail "prefork 0 after SIGHUP: not served"
echo "ok: reloaded to prefork 0: no child waits, a client is served by a child forked for it"
conf 1 2
kill -HUP "$SERVER_PID"
wait_idle 1 || fail "prefork 1 after SIGHUP: idle '$(idle)'"
[ "$(nbdinfo --size "${URI}x" 2>&1)" = 4194304 ] || fail "prefork 1 after SIGHUP: not served"
echo "ok: reloaded back to prefork 1: one waits again and serves"
stop_server || fail "SIGTERM: exit status $rc"

conf 5000
"$SERVER" -n 127.0.0.1@1 -C "$TMP/c.conf" >"$TMP/big.out" 2>&1 && fail "prefork 5000 accepted"
grep -q "prefork: 5000 is more than 4096" "$TMP/big.out" ||
	fail "prefork 5000: $(cat "$TMP/big.out")"
echo "ok: prefork 5000 is refused: $(grep -o 'prefork: 5000 is more than 4096' "$TMP/big.out")"
