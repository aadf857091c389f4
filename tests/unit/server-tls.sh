#!/bin/sh
# Our nbd-server's STARTTLS against libnbd's clients (nbdinfo, nbdcopy) and
# qemu's (qemu-img, qemu-io): PSK and X.509 (client certificate required),
# force_tls answering plaintext options with ERR_TLS_REQD (the reply type
# read raw), wrong key and unknown identity refused with the identity in
# the log, and TLS keys the server cannot load stopping it at startup.
# Host only, 127.0.0.1, bounded by timeouts.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdinfo nbdcopy qemu-img qemu-io certtool gnutls-cli stdbuf python3 ss timeout cmp od gcc

# identity:64 hex digits, psktool's format
psk_line() {
	printf '%s:%s\n' "$1" "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
}
mkdir "$TMP/psk" "$TMP/wrong"
{ psk_line alice; psk_line bob; } >"$TMP/psk/keys.psk"
grep '^alice:' "$TMP/psk/keys.psk" >"$TMP/alice.psk"
psk_line alice >"$TMP/wrong/keys.psk"
psk_line carol >"$TMP/carol.psk"
truncate -s 32M "$TMP/disk.img"
head -c 4M /dev/urandom >"$TMP/data"

config() {
	{
		echo "[generic]"
		echo "allowlist = true"
		for kv; do echo "$kv"; done
		echo "[disk]"
		echo "exportname = $TMP/disk.img"
	} >"$TMP/cfg"
}

nbds() {
	echo "nbds://$1@127.0.0.1:$PORT/$2?tls-psk-file=$3"
}

# --- PSK, TLS required ---
config "tlspsk = $TMP/psk/keys.psk" "force_tls = true"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --list "$(nbds alice "" "$TMP/alice.psk")" >"$TMP/list" ||
	fail "nbdinfo --list over TLS"
grep -q 'export="disk":' "$TMP/list" || fail "TLS --list lacks disk: $(cat "$TMP/list")"
timeout 20 nbdinfo "$(nbds alice disk "$TMP/alice.psk")" >"$TMP/info" ||
	fail "nbdinfo over TLS"
grep -q "newstyle-fixed with TLS" "$TMP/info" || fail "not TLS: $(cat "$TMP/info")"
grep -q "export-size: 33554432" "$TMP/info" || fail "size: $(cat "$TMP/info")"
timeout 60 nbdcopy --flush "$TMP/data" "$(nbds alice disk "$TMP/alice.psk")" ||
	fail "nbdcopy to the server over TLS"
timeout 60 nbdcopy "$(nbds alice disk "$TMP/alice.psk")" "$TMP/back" ||
	fail "nbdcopy from the server over TLS"
cmp -n 4194304 "$TMP/data" "$TMP/back" || fail "read back over TLS differs"
cmp -n 4194304 "$TMP/data" "$TMP/disk.img" || fail "backing file differs"
grep -q '(TLS "alice" TLS1.3 CHACHA20-POLY1305) export .disk.: .* disconnected' "$TMP/server.log" ||
	fail "log line does not name the TLS identity"

stop_server || fail "server exit status $?"

# psktool's lines with CRLF endings are read as the same keys
mkdir "$TMP/crlf"
sed 's/$/\r/' "$TMP/psk/keys.psk" >"$TMP/crlf/keys.psk"
config "tlspsk = $TMP/crlf/keys.psk" "force_tls = true"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(nbds alice disk "$TMP/alice.psk")" >/dev/null ||
	fail "CRLF tlspsk file: alice refused"

# qemu's clients: DIR/keys.psk, identity given as username
qemu_psk="tls-creds-psk,id=t,dir=$TMP/psk,endpoint=client,username=bob"
qemu_img="driver=nbd,host=127.0.0.1,port=$PORT,export=disk,tls-creds=t"
timeout 60 qemu-io --object "$qemu_psk" --image-opts "$qemu_img" \
	-c 'write -P 0xa5 1M 64k' >"$TMP/qio" 2>&1 || fail "qemu-io write: $(cat "$TMP/qio")"
timeout 60 qemu-io --object "$qemu_psk" --image-opts "$qemu_img" \
	-c 'read -P 0xa5 1M 64k' >"$TMP/qio" 2>&1 || fail "qemu-io read: $(cat "$TMP/qio")"
grep -q 'read 65536/65536' "$TMP/qio" || fail "qemu-io read: $(cat "$TMP/qio")"
timeout 20 qemu-img info --object "$qemu_psk" --image-opts "$qemu_img" >"$TMP/qimg" ||
	fail "qemu-img info over TLS"
grep -q '33554432 bytes' "$TMP/qimg" || fail "qemu-img info: $(cat "$TMP/qimg")"
grep -q '(TLS "bob" TLS1.3 [A-Z0-9-]*) export' "$TMP/server.log" || fail "qemu's identity bob not logged"

# A plaintext client: ERR_TLS_REQD to LIST and GO, ABORT acked, EXPORT_NAME closed.
timeout 20 nbdinfo "nbd://127.0.0.1:$PORT/disk" >"$TMP/plain" 2>&1 &&
	fail "plaintext nbdinfo served by a force_tls server"
grep -q "nbd_opt_go: server replied with error to opt_go request: Operation not supported" "$TMP/plain" ||
	fail "plaintext nbdinfo: $(cat "$TMP/plain")"
timeout 20 python3 - "$PORT" <<'EOF' || fail "raw plaintext options"
import socket, struct, sys
OPT_MAGIC = 0x49484156454F5054
def opt(s, o, data=b""):
    s.sendall(struct.pack(">QII", OPT_MAGIC, o, len(data)) + data)
def reply(s):
    h = b""
    while len(h) < 20:
        c = s.recv(20 - len(h))
        if not c:
            return None
        h += c
    magic, o, t, n = struct.unpack(">QIII", h)
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return o, t, body
def session():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
    s.recv(18)
    s.sendall(struct.pack(">I", 3))
    return s
TLS_REQD = 0x80000005
s = session()
opt(s, 3)                                    # LIST
r = reply(s)
assert r[:2] == (3, TLS_REQD), "LIST got %r" % (r,)
opt(s, 7, struct.pack(">I", 4) + b"disk" + struct.pack(">H", 0))  # GO
r = reply(s)
assert r[:2] == (7, TLS_REQD), "GO got %r" % (r,)
assert b"TLS is required" in r[2], r
opt(s, 8)                                    # STRUCTURED_REPLY
assert reply(s)[:2] == (8, TLS_REQD)
opt(s, 2)                                    # ABORT: acked
assert reply(s)[:2] == (2, 1)
s = session()
opt(s, 1, b"disk")                           # EXPORT_NAME: closed
assert s.recv(100) == b"", "EXPORT_NAME answered without TLS"
print("ok: plaintext options get ERR_TLS_REQD")
EOF
grep -q "EXPORT_NAME without TLS, which is required" "$TMP/server.log" ||
	fail "EXPORT_NAME without TLS not logged"
grep -q "no export: 0 requests, aborted: STRUCTURED_REPLY without TLS: ERR_TLS_REQD" "$TMP/server.log" ||
	fail "plaintext options refused for want of TLS not logged"

# Wrong key, unknown identity: refused, and the log says which identity.
timeout 20 nbdinfo --size "$(nbds alice disk "$TMP/wrong/keys.psk")" 2>/dev/null &&
	fail "wrong key for alice accepted"
timeout 20 nbdinfo --size "$(nbds carol disk "$TMP/carol.psk")" >"$TMP/carol" 2>&1 &&
	fail "unknown identity carol accepted"
# the client is told why by an alert
grep -q "gnutls_handshake: .*unknown.*identity\|gnutls_handshake: .*alert" "$TMP/carol" ||
	fail "unknown identity: client not told: $(cat "$TMP/carol")"
# An unknown identity is the client's own bytes: escaped in the log, so a
# newline in it cannot forge a line (gnutls-cli's STARTTLS: SIGALRM)
timeout 30 python3 - "$PORT" <<'PY' || fail "gnutls-cli with a forged identity"
import os, signal, struct, subprocess, sys
cli = subprocess.Popen(["stdbuf", "-o0", "gnutls-cli", "-s", "--insecure", "-p", sys.argv[1],
    "--logfile=/dev/null",
    "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+PSK",
    "--pskusername=evil\nnbd-server: forged", "--pskkey=" + "00" * 32,
    "127.0.0.1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL)
cli.stdin.write(struct.pack(">IQII", 3, 0x49484156454F5054, 5, 0))
cli.stdin.flush()
got = b""
while len(got) < 18 + 20:           # greeting, then STARTTLS's ACK
    c = os.read(cli.stdout.fileno(), 38 - len(got))
    if not c:
        sys.exit("gnutls-cli: closed after %d bytes" % len(got))
    got += c
assert got[18 + 8:18 + 16] == struct.pack(">II", 5, 1), got
cli.send_signal(signal.SIGALRM)
cli.wait()
PY
# RFC 8446 6.1: the session ends with close_notify (gnutls_bye here; the
# kTLS path's alert is checked in tests/qemu/45-server-ktls.sh)
gcc -O2 -Wall -Wextra -Werror -o "$TMP/tls-close-notify" \
	tests/unit/tls-close-notify.c -lgnutls || fail "building tls-close-notify"
timeout 40 "$TMP/tls-close-notify" "$PORT" "$TMP/alice.psk" ||
	fail "no close_notify after ABORT inside TLS"
stop_server || fail "server exit status $? after SIGTERM"
grep -q 'unknown identity "evil\\x0anbd-server: forged"$' "$TMP/server.log" ||
	fail "forged identity not escaped: $(cat "$TMP/server.log")"
grep -q '^nbd-server: forged' "$TMP/server.log" && fail "a client forged a log line"
grep -q 'refused: TLS handshake with identity "alice" failed, wrong key?' "$TMP/server.log" ||
	fail "wrong key: log does not name alice"
grep -q 'refused: TLS handshake: unknown identity "carol"$' "$TMP/server.log" ||
	fail "unknown identity: log does not name carol"

# --- tlsidentities, and copy-on-write files keyed by identity ---
chmod 711 "$TMP"
mkdir -m 777 "$TMP/cow"
truncate -s 8M "$TMP/base.img" "$TMP/bob.img"
{
	echo "[generic]"
	echo "allowlist = true"
	echo "tlspsk = $TMP/psk/keys.psk"
	echo "force_tls = true"
	echo "[lab]"
	echo "exportname = $TMP/base.img"
	echo "copyonwrite = true"
	echo "cowdir = $TMP/cow"
	echo "tlsidentities = alice, bob"
	echo "[bobs]"
	echo "exportname = $TMP/bob.img"
	echo "tlsidentities = bob"
} >"$TMP/cfg"
grep '^bob:' "$TMP/psk/keys.psk" >"$TMP/bob.psk"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --list "$(nbds alice "" "$TMP/alice.psk")" >"$TMP/list" ||
	fail "alice's --list"
grep -q 'export="lab":' "$TMP/list" || fail "alice's list lacks lab"
grep -q 'export="bobs":' "$TMP/list" && fail "alice's list shows bob's export"
timeout 20 nbdinfo --size "$(nbds alice bobs "$TMP/alice.psk")" >"$TMP/refused" 2>&1 &&
	fail "alice opened bob's export"
grep -q "nbd_connect_uri: handshake: server policy prevents NBD_OPT_GO" "$TMP/refused" ||
	fail "alice at bobs: $(cat "$TMP/refused")"
grep -q "GO 'bobs' refused: TLS identity \"alice\" is not in \[bobs\] tlsidentities" "$TMP/server.log" ||
	fail "refused identity not logged"
timeout 20 nbdinfo --size "$(nbds bob bobs "$TMP/bob.psk")" >/dev/null ||
	fail "bob refused his export"
head -c 1M /dev/urandom >"$TMP/alice.data"
timeout 60 nbdcopy --flush "$TMP/alice.data" "$(nbds alice lab "$TMP/alice.psk")" ||
	fail "alice's copy-on-write write"
timeout 60 nbdcopy "$(nbds alice lab "$TMP/alice.psk")" "$TMP/alice.back" ||
	fail "alice's copy-on-write read"
cmp -n 1048576 "$TMP/alice.data" "$TMP/alice.back" || fail "alice's copy differs"
timeout 60 nbdcopy "$(nbds bob lab "$TMP/bob.psk")" "$TMP/bob.back" ||
	fail "bob's copy-on-write read"
cmp "$TMP/bob.back" "$TMP/base.img" || fail "bob sees alice's writes"
cmp -n 1048576 "$TMP/base.img" /dev/zero || fail "base image written"
set -- "$TMP"/cow/tls%3Dalice,lab*
[ -e "$1" ] || fail "no cow file keyed by alice: $(ls "$TMP/cow")"
set -- "$TMP"/cow/127.0.0.1*
[ -e "$1" ] && fail "cow file keyed by address: $(ls "$TMP/cow")"
stop_server || fail "server exit status $?"

# --- TLS offered, not required: plaintext clients are still served, but
# not at an export with tlsidentities (ERR_TLS_REQD, proto.md) ---
config "tlspsk = $TMP/psk/keys.psk"
printf '[only-alice]\nexportname = %s\ntlsidentities = alice\n' "$TMP/bob.img" >>"$TMP/cfg"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "nbd://127.0.0.1:$PORT/disk" >/dev/null ||
	fail "plaintext client refused without force_tls"
timeout 20 nbdinfo "$(nbds alice disk "$TMP/alice.psk")" | grep -q "with TLS" ||
	fail "TLS client without force_tls"
timeout 20 nbdinfo --size "nbd://127.0.0.1:$PORT/only-alice" >"$TMP/plain" 2>&1 &&
	fail "plaintext client opened an export with tlsidentities"
grep -q "server requires TLS encryption first" "$TMP/plain" ||
	fail "plaintext at only-alice: $(cat "$TMP/plain")"
timeout 20 nbdinfo --size "$(nbds alice only-alice "$TMP/alice.psk")" >/dev/null ||
	fail "alice refused at only-alice"
stop_server || fail "server exit status $?"
grep -q "GO 'only-alice' refused: export \[only-alice\] has tlsidentities: plaintext refused" "$TMP/server.log" ||
	fail "plaintext refusal at only-alice not logged"

# --- X.509: certtool's CA, server and client certificates ---
x509() {
	if [ "$1" = self ]; then make_cert "$2" "$3" "$4"
	else make_cert "$2" "$3" "$4" "$TMP/ca"; fi
}
mkdir "$TMP/cli" "$TMP/nocert"
x509 self "$TMP/ca-key.pem" "$(printf 'cn = test CA\nca\ncert_signing_key')" "$TMP/ca-cert.pem"
x509 ca "$TMP/server-key.pem" "$(printf 'cn = 127.0.0.1\nip_address = 127.0.0.1\ntls_www_server')" "$TMP/server-cert.pem"
x509 ca "$TMP/cli/client-key.pem" "$(printf 'cn = lab-17\ntls_www_client')" "$TMP/cli/client-cert.pem"
cp "$TMP/ca-cert.pem" "$TMP/cli/"
cp "$TMP/ca-cert.pem" "$TMP/nocert/"
config "certfile = $TMP/server-cert.pem" "keyfile = $TMP/server-key.pem" \
	"cacertfile = $TMP/ca-cert.pem" "force_tls = true"
start_server -C "$TMP/cfg"
xuri="nbds://127.0.0.1:$PORT/disk?tls-certificates=$TMP/cli"
timeout 60 nbdcopy "$xuri" "$TMP/back2" || fail "nbdcopy over X.509"
cmp "$TMP/disk.img" "$TMP/back2" || fail "read back over X.509 differs"
qemu_x509="tls-creds-x509,id=t,dir=$TMP/cli,endpoint=client"
qemu_img="driver=nbd,host=127.0.0.1,port=$PORT,export=disk,tls-creds=t"
timeout 60 qemu-io --object "$qemu_x509" --image-opts "$qemu_img" \
	-c 'write -P 0x5a 2M 64k' -c 'read -P 0x5a 2M 64k' >"$TMP/qio" 2>&1 ||
	fail "qemu-io over X.509: $(cat "$TMP/qio")"
grep -q 'read 65536/65536' "$TMP/qio" || fail "qemu-io read: $(cat "$TMP/qio")"
grep -q '(TLS "lab-17" TLS1.3 [A-Z0-9-]*) export' "$TMP/server.log" || fail "certificate CN not logged"
timeout 20 nbdinfo --size "nbds://127.0.0.1:$PORT/disk?tls-certificates=$TMP/nocert" 2>/dev/null &&
	fail "client without a certificate accepted though cacertfile is set"
stop_server || fail "server exit status $?"
grep -q 'refused: TLS handshake failed: Certificate is required' "$TMP/server.log" ||
	fail "missing client certificate not logged"

# --- X.509 without cacertfile: the client proves no identity, so its
# copy-on-write file is keyed by its address, not one "tls=" file shared ---
rm -f "$TMP"/cow/*
{
	echo "[generic]"
	echo "allowlist = true"
	echo "certfile = $TMP/server-cert.pem"
	echo "keyfile = $TMP/server-key.pem"
	echo "[lab]"
	echo "exportname = $TMP/base.img"
	echo "copyonwrite = true"
	echo "cowdir = $TMP/cow"
} >"$TMP/cfg"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "nbds://127.0.0.1:$PORT/lab?tls-certificates=$TMP/nocert" >/dev/null ||
	fail "X.509 client without a certificate at a cow export"
stop_server || fail "server exit status $?"
set -- "$TMP"/cow/127.0.0.1*
[ -e "$1" ] || fail "anonymous TLS cow file not keyed by address: $(ls "$TMP/cow")"
set -- "$TMP"/cow/tls*
[ -e "$1" ] && fail "anonymous TLS clients share a cow file: $(ls "$TMP/cow")"

# --- STARTTLS forgets what came before it; the handshake has a deadline ---
config "certfile = $TMP/server-cert.pem" "keyfile = $TMP/server-key.pem" \
	"handshaketimeout = 2"
start_server -C "$TMP/cfg"
timeout 30 python3 - "$PORT" "$TMP/ca-cert.pem" <<'PY' || fail "STARTTLS state reset"
import socket, ssl, struct, sys
OPT_MAGIC = 0x49484156454F5054
def opt(s, o, data=b""):
    s.sendall(struct.pack(">QII", OPT_MAGIC, o, len(data)) + data)
def exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b
def reply(s):
    magic, o, t, n = struct.unpack(">QIII", exact(s, 20))
    return o, t, exact(s, n)
def session():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
    exact(s, 18)
    s.sendall(struct.pack(">I", 3))
    return s
meta = (struct.pack(">I", 4) + b"disk" + struct.pack(">I", 1) +
        struct.pack(">I", 15) + b"base:allocation")
s = session()
opt(s, 8)                                    # STRUCTURED_REPLY
assert reply(s)[:2] == (8, 1)
opt(s, 10, meta)                             # SET_META_CONTEXT
assert reply(s)[1] == 4                      # REP_META_CONTEXT
assert reply(s)[:2] == (10, 1)
opt(s, 5, b"x")                              # STARTTLS with data
assert reply(s)[:2] == (5, 0x80000003), "STARTTLS with data accepted"
opt(s, 5)                                    # STARTTLS
assert reply(s)[:2] == (5, 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
opt(t, 5)                                    # STARTTLS again
assert reply(t)[:2] == (5, 0x80000003), "second STARTTLS accepted"
opt(t, 10, meta)                             # structured replies forgotten
o, typ, msg = reply(t)
assert (o, typ) == (10, 0x80000003), "SET_META_CONTEXT after STARTTLS: %r" % ((o, typ, msg),)
assert b"needs STRUCTURED_REPLY first" in msg, msg
opt(t, 2)
assert reply(t)[:2] == (2, 1)
s = session()                                # STARTTLS, then silence
opt(s, 5)
assert reply(s)[:2] == (5, 1)
assert s.recv(100) == b"", "silent TLS client not closed"
print("ok: STARTTLS resets the negotiation; a silent handshake is closed")
PY
stop_server || fail "server exit status $?"
grep -q "refused: TLS handshake failed: The operation timed out" "$TMP/server.log" ||
	fail "handshake deadline not logged"

# --- keys the server cannot load stop it at startup, with file and line ---
startup_fails() {
	want=$1
	shift
	config "$@"
	"$SERVER" -n "127.0.0.1@$PORT" -C "$TMP/cfg" >"$TMP/err" 2>&1 &&
		fail "started with $*"
	grep -qF -- "$want" "$TMP/err" || fail "startup with $*: $(cat "$TMP/err")"
}
printf 'alice:c0ffee\nbob:xyz1\n' >"$TMP/bad.psk"
startup_fails "$TMP/cfg:4: tlspsk $TMP/bad.psk:2: key of identity \"bob\" is not hex" \
	"force_tls = true" "tlspsk = $TMP/bad.psk"
printf 'alice:c0ffe\n' >"$TMP/odd.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/odd.psk:1: key of 5 hex digits (an even number, 2 to 128)" \
	"tlspsk = $TMP/odd.psk"
printf '\n:c0ffee\n' >"$TMP/noid.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/noid.psk:2: identity of 0 bytes (1 to 128)" \
	"tlspsk = $TMP/noid.psk"
printf 'alice c0ffee\n' >"$TMP/nocolon.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/nocolon.psk:1: no ':' between identity and key" \
	"tlspsk = $TMP/nocolon.psk"
printf 'alice:c0ffee\nbob:00\nalice:beef\n' >"$TMP/dup.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/dup.psk:3: identity \"alice\" given twice" \
	"tlspsk = $TMP/dup.psk"
printf 'alice:c0ffee\rbob:beef\n' >"$TMP/cr.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/cr.psk:1: key of 15 hex digits" \
	"tlspsk = $TMP/cr.psk"
startup_fails "$TMP/cfg:3: tlspsk $TMP/none.psk: No such file or directory" \
	"tlspsk = $TMP/none.psk"
startup_fails "$TMP/cfg:3: force_tls without tlspsk or certfile and keyfile" \
	"force_tls = true"
startup_fails "$TMP/cfg:4: certfile $TMP/server-key.pem, keyfile $TMP/server-key.pem:" \
	"certfile = $TMP/server-key.pem" "keyfile = $TMP/server-key.pem"
startup_fails "$TMP/cfg:4: tlsprio \"NORMAL:+NOPE\"" \
	"tlspsk = $TMP/psk/keys.psk" "tlsprio = NORMAL:+NOPE"
echo "ok: TLS (PSK, X.509) with nbdinfo, nbdcopy, qemu-io, qemu-img on 127.0.0.1:$PORT"
