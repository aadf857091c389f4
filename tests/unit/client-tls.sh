#!/bin/bash
# nbd-client's TLS on the host (no nbd.ko, no kTLS here): -l lists exports
# inside TLS from nbdkit (--tls=require --tls-psk), qemu-nbd
# (tls-creds-psk) and our server (tlspsk, force_tls, tlsidentities); an
# attach negotiates NBD_OPT_GO inside TLS and stops exactly at the kTLS
# handover, which this kernel refuses. Wrong key,
# unknown identity, servers without STARTTLS, bad key files and X.509
# options all fail with their message and exit 1 (2 for usage).
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/client-lib

command -v nbdkit >/dev/null || { echo "nbdkit not installed"; exit 77; }
[ -x "$client" ] && [ -x server/nbd-server ] || { echo "FAIL: build first"; exit 1; }
client_lib_start
hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
key=$(hex)
printf 'other:%s\nlab-17:%s\n' "$(hex)" "$key" >"$dir/keys.psk"
printf 'lab-17:%s\n' "$key" >"$dir/one.psk"
printf 'lab-17:%s\n' "$(hex)" >"$dir/wrong.psk"
printf 'nobody:%s\n' "$key" >"$dir/nobody.psk"
chmod 600 "$dir"/*.psk
psk="-tls-psk $dir/keys.psk -tls-identity lab-17"
nokernel="kernel has no TLS (tls module not loaded?)"
closed="server closed the connection during the TLS handshake (wrong key or unknown identity?)"

# tls_rows SERVER PORT EXPORT LISTED WRONG-KEY UNKNOWN-IDENTITY: the rows
# every TLS server gets: -l inside TLS shows LISTED, an attach to EXPORT
# gets through GO to the kTLS handover, a wrong key and an unknown
# identity fail with these reasons, and a plaintext client is told to
# give a key.
tls_rows() {
	local srv=$1 p=$2 exp=$3 listed=$4 wrong=$5 unknown=$6
	local failed="nbd-client: TLS with 127.0.0.1:$p failed"
	check "$srv: -l inside TLS" 0 "$listed" -- \
		"$client" -l 127.0.0.1 "$p" $psk
	check "$srv: attach gets through GO to the kTLS handover" 1 \
		"$failed: $nokernel" -- "$client" 127.0.0.1 "$p" /dev/nbd7 -N "$exp" $psk
	check "$srv: wrong key" 1 "$failed: $wrong" -- \
		"$client" -l 127.0.0.1 "$p" -tls-psk "$dir/wrong.psk"
	check "$srv: unknown identity" 1 "$failed: $unknown" -- \
		"$client" -l 127.0.0.1 "$p" -tls-psk "$dir/nobody.psk"
	check "$srv: attach without TLS" 1 \
		"server 127.0.0.1:$p requires TLS: give its key with -tls-psk FILE" -- \
		"$client" 127.0.0.1 "$p" /dev/nbd7 -N "$exp"
}

serve --tls=require --tls-psk="$dir/keys.psk" --filter=exportname memory 1M \
	exportname=lab-root exportname=lab-swap exportname-list=explicit
tls_rows nbdkit "$port" lab-root "lab-root
lab-swap" "$closed" "$closed"
check "nbdkit: -x with a one-key file, no identity" 0 "lab-root" -- \
	"$client" -l 127.0.0.1 "$port" -x -tls-psk "$dir/one.psk"
check "nbdkit: -tlshostname is sent (SNI) and accepted" 0 "lab-root" -- \
	"$client" -l 127.0.0.1 "$port" $psk -tlshostname nbd.lab.example
check "nbdkit: -l without TLS, server requires it" 1 \
	"server 127.0.0.1:$port requires TLS: give its key with -tls-psk FILE" -- \
	"$client" -l 127.0.0.1 "$port"

serve memory 1M
check "nbdkit without TLS: -l" 1 \
	"nbd-client: TLS with 127.0.0.1:$port failed: server does not support STARTTLS (ERR_POLICY" -- \
	"$client" -l 127.0.0.1 "$port" $psk
check "nbdkit without TLS: attach" 1 \
	"nbd-client: TLS with 127.0.0.1:$port failed: server does not support STARTTLS" -- \
	"$client" 127.0.0.1 "$port" /dev/nbd7 $psk

truncate -s 1M "$dir/disk.img"
server/nbd-server -n "127.0.0.1@$((port + 1))" "$dir/disk.img" 2>"$dir/server.log" &
pids="$pids $!"
sleep 0.3
check "our plaintext nbd-server" 1 \
	"nbd-client: TLS with 127.0.0.1:$((port + 1)) failed: server does not support STARTTLS (ERR_UNSUP" -- \
	"$client" 127.0.0.1 "$((port + 1))" /dev/nbd7 $psk

# our server with TLS: force_tls, an export per identity
cat >"$dir/tls.conf" <<EOC
[generic]
listenaddr = 127.0.0.1
port = $((port + 2))
tlspsk = $dir/keys.psk
force_tls = true
allowlist = true
user = $(id -un)
group = $(id -gn)
[lab-root]
exportname = $dir/disk.img
tlsidentities = lab-17
[other-root]
exportname = $dir/disk.img
tlsidentities = other
EOC
server/nbd-server -C "$dir/tls.conf" -n 2>"$dir/tls-server.log" &
pids="$pids $!"
sleep 0.3
tls_rows "our server" "$((port + 2))" lab-root lab-root \
	"server sent alert illegal_parameter (47)" \
	"server sent alert unknown_psk_identity (115)"
check "our server: the other identity's export is not listed" 0 "" -- \
	sh -c "! $client -l 127.0.0.1 $((port + 2)) $psk | grep -q other-root"
check "our server: export of another identity" 1 \
	"nbd-client: server 127.0.0.1:$((port + 2)) refused export \"other-root\"" -- \
	"$client" 127.0.0.1 "$((port + 2))" /dev/nbd7 -N other-root $psk

if command -v qemu-nbd >/dev/null; then
	mkdir "$dir/qemu"
	cp "$dir/keys.psk" "$dir/qemu/keys.psk"
	serve_qemu_nbd() {
		# exec: serve's $! (the background subshell) must be the server
		exec qemu-nbd -b 127.0.0.1 -p "$1" -t -x lab-q -f raw --object \
			"tls-creds-psk,id=t,dir=$dir/qemu,endpoint=server" \
			--tls-creds t "$dir/disk.img"
	}
	serve_cmd=serve_qemu_nbd serve
	tls_rows qemu-nbd "$port" lab-q lab-q "$closed" "$closed"
else
	echo "skip: qemu-nbd not installed"
fi

# the key file and the options, before any connection
bad_key() {
	# bad_key WHAT FILE-CONTENT MESSAGE-AFTER-"FILE:"
	printf '%b' "$2" >"$dir/bad.psk"
	check "$1" 1 "$dir/bad.psk:$3" -- \
		"$client" -l 127.0.0.1 1 -tls-psk "$dir/bad.psk"
}
bad_key "line without ':'" 'lab-17 0011\n' "1: no ':' between identity and key"
bad_key "key not hex" 'a:0011\nb:00x1\n' "2: key is not hexadecimal (at digit 3)"
bad_key "odd key length" 'a:001\n' "1: key of 3 hex digits (an even number, 2 to 128)"
bad_key "empty identity" ':0011\n' "1: identity of 0 bytes (1 to 255 allowed)"
check "two keys, no identity" 1 "$dir/keys.psk holds 2 keys: choose one with -tls-identity NAME" -- \
	"$client" -l 127.0.0.1 1 -tls-psk "$dir/keys.psk"
check "identity not in the file" 1 "$dir/keys.psk has no key for identity \"lab-99\"" -- \
	"$client" -l 127.0.0.1 1 -tls-psk "$dir/keys.psk" -tls-identity lab-99
check "missing key file" 1 "-tls-psk: $dir/none.psk: No such file or directory" -- \
	"$client" -l 127.0.0.1 1 -tls-psk "$dir/none.psk"
check "-x without a key" 2 "TLS needs a key: give -tls-psk FILE (X.509 is not supported)" -- \
	"$client" 127.0.0.1 1 /dev/nbd7 -x
check "-certfile refused" 2 "-certfile: not supported: this nbd-client does TLS with a pre-shared key only (use -tls-psk FILE)" -- \
	"$client" 127.0.0.1 1 /dev/nbd7 -certfile /etc/x.pem
check "-cacertfile refused" 2 "-cacertfile: not supported" -- \
	"$client" 127.0.0.1 1 /dev/nbd7 -A /etc/ca.pem
check "-unix with TLS for a device refused" 2 \
	"-unix with TLS: the kernel's TLS runs on TCP connections only (-l works)" -- \
	"$client" -u "$dir/sock" /dev/nbd7 $psk
[ "$fails" -eq 0 ]
