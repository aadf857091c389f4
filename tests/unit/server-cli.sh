#!/bin/sh
# nbd-server's command line: usage errors exit 2; a missing file, a port
# in use or a malformed -C file exit 1 with a message naming the file (and
# line) or address; unknown config keys warn; without -n the server
# detaches; -p names a file holding the server's pid while it runs; -d
# on ip:port serves clients one by one without forking.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdinfo ss timeout

truncate -s 1M "$TMP/disk.img"

server_uid() {
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}

# pidfile_gone FILE UID: after SIGTERM the file is removed or, when the
# server ran as another user (the privilege drop) who may not remove it
# from this directory, emptied.
pidfile_gone() {
	if [ "$2" = "$(id -u)" ]; then
		[ ! -e "$1" ] || fail "pidfile $1 left after SIGTERM"
	elif [ ! -e "$1" ] || [ -s "$1" ]; then
		fail "pidfile $1 not emptied after SIGTERM (server uid $2)"
	fi
}

"$SERVER" -x "$TMP/disk.img" 2>"$TMP/err"
[ $? = 2 ] || fail "unknown option: exit status not 2"
grep -q '^usage: nbd-server' "$TMP/err" || fail "no usage line: $(cat "$TMP/err")"

"$SERVER" -h >"$TMP/out" || fail "-h: exit status not 0"
grep -q '^usage: nbd-server \[-n\] \[-d\] \[-r\] \[-s\] \[-C config\] \[-p pidfile\]' "$TMP/out" ||
	fail "-h: no usage line"

"$SERVER" -n 2>"$TMP/err"
[ $? = 2 ] || fail "nothing to export: exit status not 2"

"$SERVER" -n 127.0.0.1@notaport "$TMP/disk.img" 2>"$TMP/err"
[ $? = 2 ] || fail "bad port: exit status not 2"
grep -q 'not an address and port: 127.0.0.1@notaport' "$TMP/err" || fail "bad port message: $(cat "$TMP/err")"

"$SERVER" -n 127.0.0.1@12x "$TMP/disk.img" 2>"$TMP/err"
[ $? = 2 ] || fail "port 12x: exit status not 2"
grep -q '^nbd-server: not an address and port: 127.0.0.1@12x$' "$TMP/err" ||
	fail "port 12x message: $(cat "$TMP/err")"

# Out of memory while parsing ip@port must not become "every address".
if command -v gcc >/dev/null 2>&1; then
	gcc -shared -fPIC -o "$TMP/fail-alloc.so" tests/unit/fail-alloc.c ||
		fail "building the strdup shim"
	for spec in 127.0.0.1@10809 10809; do
		LD_PRELOAD=$TMP/fail-alloc.so timeout 10 "$SERVER" -n "$spec" \
			"$TMP/disk.img" 2>"$TMP/err"
		[ $? = 1 ] || fail "$spec without memory: exit status not 1"
		grep -q "^nbd-server: $spec: out of memory$" "$TMP/err" ||
			fail "$spec without memory: $(cat "$TMP/err")"
	done
else
	echo "skipped: out-of-memory parse (no gcc)"
fi

# Socket activation variables that are not numbers are named.
# (127.0.0.1: a server that took them for "not activated" binds only there)
sh -c 'LISTEN_PID=$$ LISTEN_FDS=1x exec "$0" -n 127.0.0.1@10809 "$1"' \
	"$SERVER" "$TMP/disk.img" 2>"$TMP/err" </dev/null
[ $? = 1 ] || fail "LISTEN_FDS=1x: exit status not 1"
grep -q '^nbd-server: LISTEN_FDS=1x: expected 1 to 16$' "$TMP/err" ||
	fail "LISTEN_FDS=1x message: $(cat "$TMP/err")"
LISTEN_PID=12x LISTEN_FDS=1 timeout 10 "$SERVER" -n 127.0.0.1@10809 \
	"$TMP/disk.img" 2>"$TMP/err" </dev/null
[ $? = 1 ] || fail "LISTEN_PID=12x: exit status not 1"
grep -q '^nbd-server: LISTEN_PID=12x: not a number$' "$TMP/err" ||
	fail "LISTEN_PID=12x message: $(cat "$TMP/err")"

"$SERVER" -n 127.0.0.1@10809 "$TMP/missing.img" 2>"$TMP/err"
[ $? = 1 ] || fail "missing file: exit status not 1"
grep -q "^nbd-server: $TMP/missing.img: No such file or directory$" "$TMP/err" ||
	fail "missing file message: $(cat "$TMP/err")"

# -C: a malformed file stops the server naming file and line; an unknown
# key is a warning naming file and line.
printf '[generic]\nallowlist = true\n[root]\nexportname = %s\nreadonly = perhaps\n' \
	"$TMP/disk.img" >"$TMP/bad.conf"
"$SERVER" -n -C "$TMP/bad.conf" 127.0.0.1@10809 2>"$TMP/err"
[ $? = 1 ] || fail "malformed config: exit status not 1"
grep -q "^nbd-server: $TMP/bad.conf:5: readonly: expected true or false, got 'perhaps'$" "$TMP/err" ||
	fail "malformed config message: $(cat "$TMP/err")"
printf '[generic]\nallowlist = true\nfrobnicate = 3\n[root]\nexportname = %s\n[gone]\nexportname = %s\n[lab]\nexportname = %s\ncopyonwrite = true\ncowdir = %s\n' \
	"$TMP/disk.img" "$TMP/gone.img" "$TMP/disk.img" "$TMP/nocow" >"$TMP/warn.conf"
start_server -C "$TMP/warn.conf"
grep -q "^nbd-server: warning: $TMP/warn.conf:3: unknown key 'frobnicate' ignored$" "$TMP/server.log" ||
	fail "no warning for an unknown key: $(cat "$TMP/server.log")"
grep -q "^nbd-server: warning: export \[gone\]: $TMP/gone.img: No such file or directory$" "$TMP/server.log" ||
	fail "no warning for a missing export file: $(cat "$TMP/server.log")"
grep -q "^nbd-server: warning: export \[lab\]: cowdir $TMP/nocow: No such file or directory$" "$TMP/server.log" ||
	fail "no warning for a missing cowdir: $(cat "$TMP/server.log")"
size=$(timeout 10 nbdinfo --size "${URI}root") || fail "-C export root"
[ "$size" = 1048576 ] || fail "-C export size $size"
stop_server || fail "SIGTERM: exit status not 0"

# force_tls with no key to do TLS, and a server certificate in an export's section,
# stop the server, naming file, line and key: no plaintext for a
# configuration that asked for TLS. One that asks for no TLS is fine.
printf '[generic]\nallowlist = true\n\nforce_tls = true\n[root]\nexportname = %s\n' \
	"$TMP/disk.img" >"$TMP/tls.conf"
printf '[root]\nexportname = %s\ncertfile = /etc/ssl/certs/x.pem\n' \
	"$TMP/disk.img" >"$TMP/tls2.conf"
for conf in "tls.conf:4: force_tls without tlspsk or certfile and keyfile: refusing to serve plaintext" \
	"tls2.conf:3: [root]: certfile in an export's section is not supported: the server's certificate, key and priorities are chosen in the TLS handshake, before the client names an export; put certfile in [generic]"; do
	file=${conf%%:*}
	rest=${conf#*:}
	timeout 10 "$SERVER" -n -C "$TMP/$file" "127.0.0.1@$PORT" 2>"$TMP/err"
	[ $? = 1 ] || fail "$file: exit status not 1"
	grep -qF "nbd-server: $TMP/$file:$rest" "$TMP/err" ||
		fail "$file: message: $(cat "$TMP/err")"
done
printf '[generic]\nforce_tls = false\n[root]\nexportname = %s\ntlsonly = no\n' \
	"$TMP/disk.img" >"$TMP/notls.conf"
start_server -C "$TMP/notls.conf"
grep -q 'tls' "$TMP/server.log" && fail "TLS off: $(cat "$TMP/server.log")"
stop_server || fail "TLS off: exit status not 0"

# A user that does not exist stops the server before it serves anyone
# (port 0: the inetd path, so nothing is bound).
printf '[generic]\nuser = no-such-user-nbdroot\n[root]\nexportname = %s\n' \
	"$TMP/disk.img" >"$TMP/user.conf"
timeout 10 "$SERVER" -n -C "$TMP/user.conf" 127.0.0.1@0 2>"$TMP/err" </dev/null
[ $? = 1 ] || fail "unknown user: exit status not 1"
grep -q '^nbd-server: user no-such-user-nbdroot: no such user$' "$TMP/err" ||
	fail "unknown user message: $(cat "$TMP/err")"

# Without -n or -d the server detaches: the command returns at once.
# (a port below the kernel's ephemeral range, 32768 up, where outgoing
# connections of other tests could hold it; one taken anyway is skipped)
for _ in 1 2 3 4 5; do
	PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
	listening "$PORT" && continue
	if ! timeout 10 "$SERVER" -p "$TMP/daemon.pid" "127.0.0.1@$PORT" "$TMP/disk.img" 2>"$TMP/err"; then
		st=$?
		grep -q 'Address already in use' "$TMP/err" && continue
		fail "daemon start: exit status $st: $(cat "$TMP/err")"
	fi
	i=0
	while [ $i -lt 50 ] && ! listening "$PORT"; do sleep 0.1; i=$((i + 1)); done
	break
done
SERVER_PID=$(ss -Hltnp "sport = :$PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$SERVER_PID" ] || fail "daemon: nothing listening on $PORT"
[ "$(cat "$TMP/daemon.pid")" = "$SERVER_PID" ] ||
	fail "daemon: pidfile holds '$(cat "$TMP/daemon.pid")', the listener is $SERVER_PID"
uid=$(server_uid "$SERVER_PID")
size=$(timeout 10 nbdinfo --size "nbd://127.0.0.1:$PORT/") || fail "daemon: client"
[ "$size" = 1048576 ] || fail "daemon: size $size"
kill "$SERVER_PID"
i=0
while [ $i -lt 50 ] && kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -0 "$SERVER_PID" 2>/dev/null && fail "daemon did not stop on SIGTERM"
SERVER_PID=
pidfile_gone "$TMP/daemon.pid" "$uid"

# -p in the foreground: the pid once listening, gone after SIGTERM
start_server -p "$TMP/fg.pid" "$TMP/disk.img"
i=0
while [ $i -lt 50 ] && [ ! -s "$TMP/fg.pid" ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat "$TMP/fg.pid")" = "$SERVER_PID" ] ||
	fail "-p: pidfile holds '$(cat "$TMP/fg.pid")', the server is $SERVER_PID"
uid=$(server_uid "$SERVER_PID")
stop_server || fail "-p: exit status after SIGTERM not 0"
pidfile_gone "$TMP/fg.pid" "$uid"

# As root with a user to become: the file is made before the drop, and
# emptied at exit where the user may not remove it (the log says so).
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	printf '[generic]\nuser = nobody\n[root]\nexportname = %s\n' \
		"$TMP/disk.img" >"$TMP/drop.conf"
	start_server -p "$TMP/drop.pid" -C "$TMP/drop.conf"
	i=0
	while [ $i -lt 50 ] && [ ! -s "$TMP/drop.pid" ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(cat "$TMP/drop.pid")" = "$SERVER_PID" ] || fail "-p as nobody: pidfile"
	uid=$(server_uid "$SERVER_PID")
	[ "$uid" = "$(id -u nobody)" ] || fail "-p as nobody: server uid $uid"
	stop_server || fail "-p as nobody: exit status after SIGTERM not 0"
	pidfile_gone "$TMP/drop.pid" "$uid"
	grep -q "^nbd-server: pidfile $TMP/drop.pid: emptied, not removed: Permission denied$" \
		"$TMP/server.log" || fail "-p as nobody: $(cat "$TMP/server.log")"
fi

start_server "$TMP/disk.img"
timeout 10 "$SERVER" -n "127.0.0.1@$PORT" "$TMP/disk.img" 2>"$TMP/err"
[ $? = 1 ] || fail "port in use: exit status not 1"
grep -q "^nbd-server: bind 127.0.0.1:$PORT: Address already in use$" "$TMP/err" ||
	fail "port in use message: $(cat "$TMP/err")"
stop_server || fail "SIGTERM: exit status not 0"

# As root without a user each child becomes nobody, with the ids the
# master looked up before serving anyone: no child reads the user or
# group database again (that cost each connect of a boot storm a tenth of
# a millisecond). Under strace, two children must open the export and
# none /etc/passwd, /etc/group or /etc/nsswitch.conf.
if [ "$(id -u)" = 0 ] && command -v strace >/dev/null && id nobody >/dev/null 2>&1; then
	real=$SERVER
	printf '#!/bin/sh\nexec strace -f -qq -e trace=openat -o "%s" "%s" "$@"\n' \
		"$TMP/strace.out" "$real" >"$TMP/traced-server"
	chmod +x "$TMP/traced-server"
	SERVER=$TMP/traced-server start_server "$TMP/disk.img"
	for n in 1 2; do
		size=$(timeout 10 nbdinfo --size "$URI") || fail "per-child drop: client $n"
		[ "$size" = 1048576 ] || fail "per-child drop: size $size"
	done
	master=$(awk 'NR == 1 { print $1 }' "$TMP/strace.out")
	kill "$master" 2>/dev/null
	wait "$SERVER_PID"
	SERVER_PID=
	kids=$(awk -v m="$master" '$1 != m && /disk\.img/ { print $1 }' "$TMP/strace.out" | sort -u | wc -l)
	[ "$kids" = 2 ] || fail "per-child drop: $kids children opened the export, not 2"
	grep -q "^$master .*\"/etc/passwd\"" "$TMP/strace.out" ||
		fail "per-child drop: the master did not look the user up"
	awk -v m="$master" '$1 != m && /"\/etc\/(passwd|group|nsswitch\.conf)"/' \
		"$TMP/strace.out" >"$TMP/child-nss"
	[ ! -s "$TMP/child-nss" ] || fail "per-child drop: a child read the user database: $(cat "$TMP/child-nss")"
	echo "ok: children drop to nobody with the ids the master found"
fi

# -d (no fork) serving two clients one after another, on ip:port. As
# root without a user, -d becomes nobody at once (it has no children to
# drop in): the file must be nobody's to use.
chmod a+rx "$TMP" || fail "chmod $TMP"
chmod a+rw "$TMP/disk.img" || fail "chmod disk.img"
MODE=-d SEP=: start_server "$TMP/disk.img"
if [ "$(id -u)" = 0 ]; then
	grep -q '^Uid:[[:space:]]*65534[[:space:]]' "/proc/$SERVER_PID/status" ||
		fail "-d as root: still $(grep Uid: "/proc/$SERVER_PID/status")"
fi
for n in 1 2; do
	size=$(timeout 10 nbdinfo --size "$URI") || fail "-d: client $n"
	[ "$size" = 1048576 ] || fail "-d: size $size"
done
[ "$(pgrep -c -P "$SERVER_PID")" = 0 ] || fail "-d forked a child"
stop_server || fail "-d: exit status after SIGTERM not 0"
[ "$(grep -c 'disconnected' "$TMP/server.log")" = 2 ] || fail "-d: expected two log lines"
echo "ok: command line, bind errors and -d"
