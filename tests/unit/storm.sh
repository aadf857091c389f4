#!/bin/sh
# The storm driver (scripts/storm): five clients replay a trace of reads,
# writes (FUA too) and flushes with up to 4 in flight against our server;
# every request completes, every read matches the image, the image is
# unchanged (writes carry its own bytes), and each client came from its
# own source address; the read percentiles count the reads alone. A
# server with other data makes the driver report
# mismatches and fail; clients of a server that never greets are stuck at
# the deadline, refused ones failed; -c writes each client's line; -P
# sends client i to port + i; -p counts the CPU of the server's children
# still alive at the end. The floor mode replays the shipped Debian boot
# trace; a malformed trace is refused naming its line. Host only.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need ss timeout cmp xz python3
STORM=build/storm
[ -x "$STORM" ] || fail "$STORM not built (make storm)"

head -c 64M /dev/urandom >"$TMP/disk.img"
cp "$TMP/disk.img" "$TMP/orig.img"
# 400 requests over about 0.4 s: mostly reads, a write every 23rd (FUA
# every other one), a flush every 97th, 1 to 4 in flight.
awk 'BEGIN {
	print "nbdroot-trace 1"; print "c 7 1500"; srand(15); t = 0
	for (i = 0; i < 400; i++) {
		t += int(rand() * 1000)
		off = int(rand() * 16000) * 4096; len = 4096 * (1 + int(rand() * 32))
		ty = "R"; fl = "-"
		if (i % 23 == 5) { ty = "W"; if (i % 2) fl = "F" }
		if (i % 97 == 50) { ty = "F"; off = 0; len = 0 }
		printf "r 7 %d %s %s %d %d %d %d\n", t, ty, fl, off, len, t + 300, 1 + int(rand() * 4)
	}
}' >"$TMP/t.trace"

start_server "$TMP/disk.img"
out=$(timeout 60 "$STORM" -n 5 -t 30 -i "$TMP/disk.img" -v -p "$SERVER_PID" \
	"$TMP/t.trace" 127.0.0.1 "$PORT") || fail "storm exit $?: $out"
for want in n=5 done=5 failed=0 stuck=0 requests=2000 mismatches=0; do
	case " $out " in
	*" $want "*) ;;
	*) fail "storm: want $want in: $out" ;;
	esac
done
# the trace allows 1 to 4 in flight: more would break its concurrency
m=${out#*max_outstanding=}
[ "${m%% *}" -ge 1 ] && [ "${m%% *}" -le 4 ] ||
	fail "max_outstanding ${m%% *} outside the trace's 1..4"
cmp "$TMP/disk.img" "$TMP/orig.img" || fail "the replay changed the image"
# starts spread over half a second: all still finish; -c writes a line
# per client whose finish is past the trace's last request (its issue
# time in s, counted from the client's connect)
out=$(timeout 60 "$STORM" -n 3 -s 0.5 -t 30 -i "$TMP/disk.img" -v \
	-c "$TMP/clients" "$TMP/t.trace" 127.0.0.1 "$PORT") ||
	fail "storm -s 0.5 exit $?: $out"
case " $out " in
*" done=3 failed=0 stuck=0 requests=1200 "*" mismatches=0 "*) ;;
*) fail "storm -s 0.5: want done=3 requests=1200 mismatches=0 in: $out" ;;
esac
last=$(awk '$1 == "r" && $3 > m { m = $3 } END { print m / 1e6 }' "$TMP/t.trace")
awk -v last="$last" '
	NF == 6 && $1 == NR - 1 && $2 == "done" && $3 >= 0 && $4 + 0 >= last &&
	    $5 >= 0 && $6 >= 0 { ok++ }
	END { exit ok == 3 && NR == 3 ? 0 : 1 }' "$TMP/clients" ||
	fail "storm -c: want 3 lines \"CLIENT done CONNECT_MS FINISH_S LATE_MS LAST_MS\" finishing after ${last}s, got: $(cat "$TMP/clients")"
stop_server
for i in 2 3 4 5 6; do
	grep -q "127\.0\.0\.$i:[0-9]* export '': 401 requests, disconnected" "$TMP/server.log" ||
		fail "no 401-request connection from 127.0.0.$i in the server log"
done
echo "ok: 5 clients, 2000 requests, every read matched the image, from 127.0.0.2-6"

# -P: client i connects to PORT + i (a peer run as one instance per
# client): two servers on two ports in a row, one client each.
for try in 1 2 3 4 5; do
	start_server "$TMP/disk.img"
	mv "$TMP/server.log" "$TMP/first.log"
	"$SERVER" -n "127.0.0.1@$((PORT + 1))" "$TMP/disk.img" >/dev/null 2>"$TMP/second.log" &
	SECOND_PID=$!
	OTHER_PIDS=$SECOND_PID
	i=0
	while [ $i -lt 50 ] && ! listening $((PORT + 1)) &&
	    kill -0 "$SECOND_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	listening $((PORT + 1)) && break
	stop_others
	stop_server
	[ "$try" = 5 ] && fail "no second free port next to a first after 5 tries"
done
out=$(timeout 60 "$STORM" -n 2 -P -t 30 -i "$TMP/disk.img" -v \
	"$TMP/t.trace" 127.0.0.1 "$PORT") || fail "storm -P exit $?: $out"
case " $out " in
*" done=2 failed=0 stuck=0 requests=800 "*" mismatches=0 "*) ;;
*) fail "storm -P: want done=2 requests=800 mismatches=0 in: $out" ;;
esac
stop_server
stop_others
for pair in "first 2 3" "second 3 2"; do
	set -- $pair
	grep -q "127\.0\.0\.$2:[0-9]* export '': 401 requests, disconnected" "$TMP/$1.log" ||
		fail "storm -P: no connection from 127.0.0.$2 in the $1 server's log"
	grep -q "127\.0\.0\.$3:" "$TMP/$1.log" &&
		fail "storm -P: 127.0.0.$3 reached the $1 server: $(cat "$TMP/$1.log")"
done
"$STORM" -n 3 -P "$TMP/t.trace" 127.0.0.1 65534 2>"$TMP/err" &&
	fail "storm -P with 3 clients from port 65534 was accepted"
grep -q "3 clients from port 65534 reach past 65535" "$TMP/err" ||
	fail "storm -P past port 65535: want it named, got: $(cat "$TMP/err")"
echo "ok: -P, client i to port + i: one client on each of two servers"

# field KEY LINE: the value of KEY=VALUE in a result line
field() { _v=" $2 "; _v=${_v#* "$1"=}; echo "${_v%% *}"; }
# The read percentiles count reads alone: equal to all requests' with
# reads only, zero with none.
for kind in R W; do
	awk -v ty="$kind" 'BEGIN {
		print "nbdroot-trace 1"; print "c 1 0"
		for (i = 0; i < 60; i++)
			printf "r 1 %d %s - %d 8192 %d 1\n", i * 1000, ty, i * 8192, i * 1000 + 200
	}' >"$TMP/$kind.trace"
done
start_server "$TMP/disk.img"
out=$(timeout 60 "$STORM" -n 2 -t 30 -i "$TMP/disk.img" "$TMP/R.trace" 127.0.0.1 "$PORT") ||
	fail "storm, reads only: exit $?: $out"
for q in p50 p99 p999; do
	[ "$(field "read_${q}_ms" "$out")" = "$(field "${q}_ms" "$out")" ] ||
		fail "reads only: read_${q}_ms differs from ${q}_ms in: $out"
done
out=$(timeout 60 "$STORM" -n 2 -t 30 -i "$TMP/disk.img" "$TMP/W.trace" 127.0.0.1 "$PORT") ||
	fail "storm, writes only: exit $?: $out"
[ "$(field read_p99_ms "$out")" = 0.000 ] && [ "$(field p99_ms "$out")" != 0.000 ] ||
	fail "writes only: want read_p99_ms=0.000 and p99_ms above it in: $out"
stop_server
cmp "$TMP/disk.img" "$TMP/orig.img" || fail "the write replay changed the image"
echo "ok: read latency percentiles count the reads alone"

# The negative control: the server's copy differs in its first 16 MiB.
cp "$TMP/orig.img" "$TMP/other.img"
head -c 16M /dev/urandom | dd of="$TMP/other.img" conv=notrunc status=none
start_server "$TMP/other.img"
out=$(timeout 60 "$STORM" -n 2 -t 30 -i "$TMP/orig.img" -v \
	"$TMP/t.trace" 127.0.0.1 "$PORT" 2>"$TMP/err") &&
	fail "storm passed against a server with other data: $out"
case " $out " in
*" mismatches=0 "*) fail "no mismatch reported: $out" ;;
*" mismatches="*) ;;
*) fail "no result line: $out" ;;
esac
grep -q "reads differ from the image" "$TMP/err" || fail "no mismatch message: $(cat "$TMP/err")"
stop_server
m=${out#*mismatches=}
echo "ok: reads from a server with other data are reported (${m%% *} mismatches)"

# A server that accepts and never greets: its clients are counted stuck
# at the deadline; a port nobody listens on: failed.
timeout 20 python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = [s.accept() for _ in range(3)]
time.sleep(10)
' >"$TMP/mute.port" &
mute=$!
for _ in $(seq 50); do [ -s "$TMP/mute.port" ] && break; sleep 0.1; done
out=$(timeout 30 "$STORM" -n 3 -t 1 -c "$TMP/mute.clients" "$TMP/t.trace" \
	127.0.0.1 "$(cat "$TMP/mute.port")" 2>&1) &&
	fail "storm passed against a server that never greets: $out"
kill "$mute" 2>/dev/null
case " $out " in
*" done=0 failed=0 stuck=3 "*) ;;
*) fail "mute server: want done=0 failed=0 stuck=3 in: $out" ;;
esac
[ "$(grep -c '^[0-2] stuck - - - -$' "$TMP/mute.clients")" = 3 ] ||
	fail "storm -c: want 3 stuck clients, got: $(cat "$TMP/mute.clients")"
out=$(timeout 30 "$STORM" -n 2 -t 5 "$TMP/t.trace" 127.0.0.1 "$(cat "$TMP/mute.port")" 2>&1) &&
	fail "storm passed with nobody listening: $out"
case "$out" in
*"client 0: connect: Connection refused"*" done=0 failed=2 stuck=0 "*) ;;
*) fail "refused: want a connect message and failed=2 in: $out" ;;
esac
echo "ok: clients of a mute server are stuck at the deadline, refused ones failed"

# The floor, on the shipped boot trace at 50 times its speed.
xz -dc scripts/storm/debian-boot.trace.xz >"$TMP/boot.trace" || fail "xz -d the shipped trace"
reqs=$(grep -c '^r ' "$TMP/boot.trace")
extent=$(awk '$1 == "r" && $6 + $7 > m { m = $6 + $7 } END { printf "%.0f", m }' "$TMP/boot.trace")
truncate -s "$extent" "$TMP/sparse.img"
out=$(timeout 60 "$STORM" -f -n 3 -x 50 -t 30 -i "$TMP/sparse.img" -v "$TMP/boot.trace") ||
	fail "storm -f exit $?: $out"
case " $out " in
*" done=3 "*" requests=$((reqs * 3)) "*" mismatches=0 "*) ;;
*) fail "floor: want done=3 requests=$((reqs * 3)) mismatches=0 in: $out" ;;
esac
echo "ok: the floor replayed the Debian boot trace ($reqs requests) for 3 clients"

# -p counts a process under the server that is still alive at the end (a
# cow-each instance whose client never finished): a shell whose child
# spins through the run, which no one reaps until it is killed.
sh -c 'sh -c "while :; do :; done" & wait' &
spinner_parent=$!
out=$(timeout 60 "$STORM" -f -n 1 -x 50 -t 30 -i "$TMP/sparse.img" \
	-p "$spinner_parent" "$TMP/boot.trace")
rc=$?
pkill -P "$spinner_parent"
wait "$spinner_parent" 2>/dev/null
[ "$rc" -eq 0 ] || fail "storm -f -p exit $rc: $out"
cpu=$(field server_cpu "$out")
awk -v c="$cpu" 'BEGIN { exit !(c >= 0.5) }' ||
	fail "-p: a child spinning for the whole run counted $cpu CPU seconds, want at least 0.5: $out"
echo "ok: -p counts the CPU of a server's child still alive at the end ($cpu s)"

# A malformed trace is refused, naming the line and the value.
printf 'nbdroot-trace 1\nc 1 0\nr 1 10 X - 0 4096 20 1\n' >"$TMP/bad.trace"
"$STORM" -f -i "$TMP/sparse.img" "$TMP/bad.trace" 2>"$TMP/err" && fail "a bad trace was accepted"
grep -q 'line 3: unknown request type "X"' "$TMP/err" || fail "bad trace message: $(cat "$TMP/err")"
printf 'nbdroot-trace 1\nc 1 0\nr 1 10 R - 18446744073709551615 4096 20 1\n' >"$TMP/bad.trace"
"$STORM" -f -i "$TMP/sparse.img" "$TMP/bad.trace" 2>"$TMP/err" && fail "an overflowing trace was accepted"
grep -q 'line 3: offset 18446744073709551615 + length 4096 overflows' "$TMP/err" ||
	fail "overflow message: $(cat "$TMP/err")"
echo "ok: malformed traces refused with the line named"
