#!/bin/bash
# A root and a swap export over TLS from the boot line alone: an initrd
# built with a key file (two identities; nbdroot.tls.identity= picks one)
# attaches root=nbd: and nbdroot.swap= from our server with force_tls and
# tlspsk; the guest checks that both daemons were given the key, the
# kernel's TLS counters (a software TX and RX session per export, no
# decryption error) and swapon, and writes a random secret to the root.
# The host captures loopback meanwhile: the secret must not be in it.
# Then the root from nbdkit --tls=require --tls-psk; then a server whose
# key for that identity differs: the boot ends with the client's "TLS
# with ... failed" line and a panic; last, nbdroot.tls=off against a
# plaintext server boots, and its secret is in the capture (so the
# capture check can fail).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
command -v nbdkit >/dev/null || { echo "nbdkit not installed"; exit 77; }

key=$work/keys.psk
tls_key "$key" other lab-17
wrong=$work/wrong.psk
tls_key "$wrong" lab-17
tls_initrd "$key"

img=$(test_image root)
truncate -s 32M "$work/swap.img"
tls_server_conf "$work/tls.conf" "$key" root "$img" swap "$work/swap.img"
start_server ours "$img" -C "$work/tls.conf"
tls_port=$SERVER_PORT
nbdkit_img=$(test_image nbdkit)
start_server nbdkit "$nbdkit_img" --tls=require --tls-psk="$key"
nbdkit_port=$SERVER_PORT
tls_server_conf "$work/wrong.conf" "$wrong" root "$img"
start_server ours "$img" -C "$work/wrong.conf"
wrong_port=$SERVER_PORT
plain_img=$(test_image plain)
start_server ours "$plain_img"
plain_port=$SERVER_PORT

start_capture "tcp port $tls_port or tcp port $plain_port"

id=nbdroot.tls.identity=lab-17
boot_vm tls "root=nbd:10.0.2.2:$tls_port/root nbdroot.swap=nbd:10.0.2.2:$tls_port/swap $id nbdroot.retry=20 nbdtest=tls-root:swap"
expect_marker tls
expect_console tls "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$tls_port/swap"

boot_vm nbdkit "root=nbd:10.0.2.2:$nbdkit_port $id nbdroot.retry=20 nbdtest=tls-root"
expect_marker nbdkit

boot_fails wrong "root=nbd:10.0.2.2:$wrong_port/root $id nbdroot.retry=3" \
	"nbdroot: attach: TLS with 10.0.2.2:$wrong_port failed: server sent alert illegal_parameter (47)"

boot_vm plain "root=nbd:10.0.2.2:$plain_port nbdroot.tls=off nbdroot.retry=20 nbdtest=tls-root:off"
expect_marker plain
[ -n "$CAPTURE" ] || exit 0
stop_capture
secret=$(guest_secret tls) plain=$(guest_secret plain)
[ -n "$secret" ] && [ -n "$plain" ] || fail "the guests did not print their secrets"
grep -aqF "$plain" "$CAPTURE" ||
	fail "the plaintext secret is not in the capture: the check cannot tell"
echo "ok: the secret written with nbdroot.tls=off is in the loopback capture"
tls_capture_check "$secret" "the secret written to the TLS root"
