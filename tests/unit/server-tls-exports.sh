#!/bin/sh
# Per-export TLS keys in our nbd-server: the handshake knows the union of
# every tlspsk file (STARTTLS comes before the export is named); an
# export with its own tlspsk opens only for the identities of its file,
# one without only for [generic]'s; an export's own cacertfile admits
# only certificates of its CA. Refusals are ERR_POLICY with a log line
# naming identity and export (ERR_TLS_REQD in plaintext), LIST shows
# what the identity may open, and keys that cannot be honoured per export
# (certfile, keyfile, tlsprio; one identity with two keys) stop the server
# with file and line. Peers: nbdinfo, nbdcopy and our nbd-client.
# Host only, 127.0.0.1, bounded by timeouts.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need nbdinfo nbdcopy certtool python3 ss timeout cmp od
CLIENT=client/nbd-client
[ -x "$CLIENT" ] || fail "$CLIENT not built"

hexkey() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
alice=$(hexkey)
printf 'alice:%s\n' "$alice" >"$TMP/generic.psk"
printf 'bob:%s\n' "$(hexkey)" >"$TMP/a.psk"
# alice again, same key: the files agree, so the union holds her once
printf 'carol:%s\nalice:%s\n' "$(hexkey)" "$alice" >"$TMP/b.psk"
grep '^bob:' "$TMP/a.psk" >"$TMP/bob.psk"
grep '^carol:' "$TMP/b.psk" >"$TMP/carol.psk"
for x in open a b; do truncate -s 4M "$TMP/$x.img"; done
head -c 1M /dev/urandom >"$TMP/data"

nbds() {
	echo "nbds://$1@127.0.0.1:$PORT/$2?tls-psk-file=$TMP/$1.psk"
}
# refused WHO EXPORT LOG-LINE: nbdinfo fails, and the log says why
refused() {
	timeout 20 nbdinfo --size "$(nbds "$1" "$2")" >/dev/null 2>"$TMP/err" &&
		fail "$1 opened [$2]"
	grep -q "POLICY\|policy" "$TMP/err" || fail "$1 at [$2]: not ERR_POLICY: $(cat "$TMP/err")"
	grep -qF "$3" "$TMP/server.log" || fail "$1 at [$2]: log lacks: $3"
}
psk_config() {
	{
		echo "[generic]"
		echo "allowlist = true"
		echo "tlspsk = $TMP/generic.psk"
		for kv; do echo "$kv"; done
		echo "[open]"
		echo "exportname = $TMP/open.img"
		echo "[a]"
		echo "exportname = $TMP/a.img"
		echo "tlspsk = $TMP/a.psk"
		echo "[b]"
		echo "exportname = $TMP/b.img"
		echo "tlspsk = $TMP/b.psk"
	} >"$TMP/cfg"
}

# --- PSK per export ---
psk_config "force_tls = true"
cp "$TMP/generic.psk" "$TMP/alice.psk"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(nbds alice open)" >/dev/null || fail "alice at [open]"
timeout 20 nbdinfo --size "$(nbds bob a)" >/dev/null || fail "bob at [a]"
timeout 20 nbdinfo --size "$(nbds alice b)" >/dev/null || fail "alice at [b] (in b.psk too)"
timeout 60 nbdcopy --flush "$TMP/data" "$(nbds carol b)" || fail "nbdcopy carol to [b]"
timeout 60 nbdcopy "$(nbds carol b)" "$TMP/back" || fail "nbdcopy carol from [b]"
cmp -n 1048576 "$TMP/data" "$TMP/back" || fail "[b] read back differs"
refused alice a "GO 'a' refused: PSK identity \"alice\" is not in the tlspsk file of [a]"
refused bob open "GO 'open' refused: PSK identity \"bob\" is not in the tlspsk file of [open] ([generic]'s)"
refused bob b "GO 'b' refused: PSK identity \"bob\" is not in the tlspsk file of [b]"
refused carol a "GO 'a' refused: PSK identity \"carol\" is not in the tlspsk file of [a]"
# LIST: only what the identity may open
timeout 20 nbdinfo --list "$(nbds bob "")" >"$TMP/list" || fail "bob's list"
grep -q 'export="a":' "$TMP/list" || fail "bob's list lacks a: $(cat "$TMP/list")"
grep -q 'export="open":\|export="b":' "$TMP/list" && fail "bob sees others' exports: $(cat "$TMP/list")"
# our client: -l inside TLS, an attach up to the kTLS handover, a refusal
"$CLIENT" -l 127.0.0.1 "$PORT" -tls-psk "$TMP/bob.psk" >"$TMP/clist" 2>&1 ||
	fail "nbd-client -l as bob: $(cat "$TMP/clist")"
[ "$(cat "$TMP/clist")" = a ] || fail "nbd-client -l as bob: $(cat "$TMP/clist")"
"$CLIENT" 127.0.0.1 "$PORT" /dev/nbd7 -N a -tls-psk "$TMP/bob.psk" >"$TMP/out" 2>&1 &&
	fail "attach on a host without kTLS succeeded"
grep -q "kernel has no TLS" "$TMP/out" || fail "bob's attach to [a] did not reach the handover: $(cat "$TMP/out")"
"$CLIENT" 127.0.0.1 "$PORT" /dev/nbd7 -N a -tls-psk "$TMP/carol.psk" >"$TMP/out" 2>&1 &&
	fail "carol attached to [a]"
grep -q "refused export \"a\"" "$TMP/out" || fail "carol at [a]: $(cat "$TMP/out")"
stop_server || fail "server exit status $?"

# plaintext at an export with its own keys: ERR_TLS_REQD (no force_tls)
psk_config
start_server -C "$TMP/cfg"
"$CLIENT" 127.0.0.1 "$PORT" /dev/nbd7 -N a >"$TMP/out" 2>&1 &&
	fail "plaintext attach to [a]"
grep -q "requires TLS" "$TMP/out" || fail "plaintext at [a]: $(cat "$TMP/out")"
stop_server || fail "server exit status $?"
grep -q "GO 'a' refused: export \[a\] has TLS keys of its own: plaintext refused" "$TMP/server.log" ||
	fail "plaintext refusal not logged"

# --- X.509: an export's cacertfile admits only its CA's certificates ---
# x509 KEY TEMPLATE OUT [CA-NAME]: self-signed without CA-NAME
x509() {
	make_cert "$1" "$2" "$3" "${4:+$TMP/$4}"
}
ca='ca
cert_signing_key'
x509 "$TMP/ca1-key.pem" "cn = CA one
$ca" "$TMP/ca1-cert.pem"
x509 "$TMP/ca2-key.pem" "cn = CA two
$ca" "$TMP/ca2-cert.pem"
x509 "$TMP/server-key.pem" "cn = 127.0.0.1
ip_address = 127.0.0.1
tls_www_server" "$TMP/server-cert.pem" ca1
mkdir "$TMP/c1" "$TMP/c2" "$TMP/none"
x509 "$TMP/c1/client-key.pem" "cn = lab-1
tls_www_client" "$TMP/c1/client-cert.pem" ca1
x509 "$TMP/c2/client-key.pem" "cn = lab-2
tls_www_client" "$TMP/c2/client-cert.pem" ca2
for d in c1 c2 none; do cp "$TMP/ca1-cert.pem" "$TMP/$d/ca-cert.pem"; done
x509_config() {
	{
		echo "[generic]"
		echo "certfile = $TMP/server-cert.pem"
		echo "keyfile = $TMP/server-key.pem"
		for kv; do echo "$kv"; done
		echo "[x1]"
		echo "exportname = $TMP/open.img"
		echo "[x2]"
		echo "exportname = $TMP/a.img"
		echo "cacertfile = $TMP/ca2-cert.pem"
	} >"$TMP/cfg"
}
xuri() {
	echo "nbds://127.0.0.1:$PORT/$2?tls-certificates=$TMP/$1"
}
x509_config "cacertfile = $TMP/ca1-cert.pem"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(xuri c1 x1)" >/dev/null || fail "lab-1 at [x1]"
timeout 20 nbdinfo --size "$(xuri c2 x2)" >/dev/null || fail "lab-2 at [x2]"
timeout 20 nbdinfo --size "$(xuri c1 x2)" >/dev/null 2>&1 && fail "lab-1 (CA one) opened [x2]"
timeout 20 nbdinfo --size "$(xuri c2 x1)" >/dev/null 2>&1 && fail "lab-2 (CA two) opened [x1]"
timeout 20 nbdinfo --size "$(xuri none x1)" >/dev/null 2>&1 && fail "no certificate, [generic] cacertfile"
stop_server || fail "server exit status $?"
grep -qF "GO 'x2' refused: X.509 client \"lab-1\" has no certificate from the cacertfile of [x2]" "$TMP/server.log" ||
	fail "lab-1 at [x2] not logged"
grep -qF "GO 'x1' refused: X.509 client \"lab-2\" has no certificate from the cacertfile of [x1] ([generic]'s)" "$TMP/server.log" ||
	fail "lab-2 at [x1] not logged"

# only [x2] has a CA: a certificate is asked for, not required; [x1]
# takes anyone over TLS, [x2] only CA two's clients
x509_config
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(xuri none x1)" >/dev/null || fail "no certificate at [x1]"
timeout 20 nbdinfo --size "$(xuri c2 x2)" >/dev/null || fail "lab-2 at [x2], no [generic] CA"
timeout 20 nbdinfo --size "$(xuri none x2)" >/dev/null 2>&1 && fail "no certificate opened [x2]"
timeout 20 nbdinfo --size "$(xuri c1 x2)" >/dev/null 2>&1 && fail "lab-1 opened [x2], no [generic] CA"
stop_server || fail "server exit status $?"
grep -qF "GO 'x2' refused: X.509 client without a certificate refused: [x2] admits only certificates of its cacertfile" "$TMP/server.log" ||
	fail "anonymous client at [x2] not logged"

# a CN that only [x2]'s CA vouches for proves no one at [x1]: neither
# its tlsidentities nor (copy-on-write) whose files are opened
x509_config
sed -i "/^\[x1\]/a tlsidentities = lab-2" "$TMP/cfg"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(xuri c2 x1)" >/dev/null 2>&1 &&
	fail "lab-2 (CA two, [x2]'s) passed [x1] tlsidentities"
timeout 20 nbdinfo --size "$(xuri c2 x2)" >/dev/null || fail "lab-2 at [x2], [x1] with tlsidentities"
stop_server || fail "server exit status $?"
grep -qF "GO 'x1' refused: X.509 client \"lab-2\" has no certificate from a cacertfile that applies to [x1]" "$TMP/server.log" ||
	fail "lab-2 at [x1] tlsidentities not logged: $(grep x1 "$TMP/server.log")"
x509_config
chmod 711 "$TMP"
mkdir -m 777 "$TMP/cow"
sed -i "/^\[x1\]/a copyonwrite = true\ncowdir = $TMP/cow" "$TMP/cfg"
start_server -C "$TMP/cfg"
timeout 20 nbdinfo --size "$(xuri c2 x1)" >/dev/null || fail "lab-2 at a cow [x1] without tlsidentities"
stop_server || fail "server exit status $?"
set -- "$TMP"/cow/tls*
[ -e "$1" ] && fail "[x2]'s CA named the owner of [x1]'s cow files: $(ls "$TMP/cow")"
set -- "$TMP"/cow/127.0.0.1*
[ -e "$1" ] || fail "lab-2's cow file at [x1] not keyed by address: $(ls "$TMP/cow")"

# --- what cannot be honoured per export stops the server at startup ---
startup_fails() {
	want=$1
	"$SERVER" -n "127.0.0.1@$PORT" -C "$TMP/cfg" >"$TMP/err" 2>&1 &&
		fail "started with $(cat "$TMP/cfg")"
	grep -qF -- "$want" "$TMP/err" || fail "startup: want $want: $(cat "$TMP/err")"
}
printf 'alice:%s\n' "$(hexkey)" >"$TMP/other.psk"
psk_config
printf '[c]\nexportname = %s\ntlspsk = %s\n' "$TMP/open.img" "$TMP/other.psk" >>"$TMP/cfg"
startup_fails "$TMP/cfg:14: [c]: tlspsk $TMP/other.psk:1: identity \"alice\" has another key in an earlier tlspsk file"
psk_config
echo "tlspsk = $TMP/carol.psk" >>"$TMP/cfg"
startup_fails "$TMP/cfg:12: [b]: a second tlspsk"
printf 'dan:00\ndan:00\n' >"$TMP/dup.psk"
psk_config
echo "[d]" >>"$TMP/cfg"
echo "tlspsk = $TMP/dup.psk" >>"$TMP/cfg"
startup_fails "$TMP/cfg:13: [d]: tlspsk $TMP/dup.psk:2: identity \"dan\" given twice"
for key in certfile keyfile tlsprio; do
	x509_config
	echo "$key = $TMP/server-cert.pem" >>"$TMP/cfg"
	startup_fails "$TMP/cfg:9: [x2]: $key in an export's section is not supported: the server's certificate, key and priorities are chosen in the TLS handshake, before the client names an export"
done
psk_config
echo "force_tls = true" >>"$TMP/cfg"
startup_fails "$TMP/cfg:12: [b]: force_tls in an export's section is not supported"
{
	echo "[generic]"
	echo "tlspsk = $TMP/generic.psk"
	echo "[x2]"
	echo "exportname = $TMP/a.img"
	echo "cacertfile = $TMP/ca2-cert.pem"
} >"$TMP/cfg"
startup_fails "$TMP/cfg: [x2]: cacertfile $TMP/ca2-cert.pem without certfile and keyfile in [generic]"
{
	echo "[x2]"
	echo "exportname = $TMP/a.img"
	echo "cacertfile = $TMP/ca2-key.pem"
} >"$TMP/cfg"
startup_fails "$TMP/cfg:3: [x2]: cacertfile $TMP/ca2-key.pem: No certificate was found"
echo "ok: per-export tlspsk and cacertfile with nbdinfo, nbdcopy, nbd-client on 127.0.0.1:$PORT"
