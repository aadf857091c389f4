#!/bin/bash
# A root over TLS from qemu-nbd (--object tls-creds-psk with the key in
# DIR/keys.psk, --tls-creds): the initrd holding the key boots it; the
# guest checks that its daemon was given the key, one kTLS session each
# way and no decryption error (guest check tls-root), and writes a
# random secret, which the loopback capture must not hold while it holds
# the client's identity (so it saw the connection). Then qemu-nbd with
# another key for that identity: the boot stops with the client's "TLS
# with ... failed" line and a panic.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
command -v qemu-nbd >/dev/null || { echo "qemu-nbd not installed"; exit 77; }
mkdir "$work/psk" "$work/wrong"
tls_key "$work/psk/keys.psk" lab-17
tls_key "$work/wrong/keys.psk" lab-17
tls_initrd "$work/psk/keys.psk"

# qemu_nbd_tls IMAGE DIR: qemu-nbd serving IMAGE over TLS only, with
# the keys in DIR/keys.psk
qemu_nbd_tls() {
	start_server qemu-nbd "$1" --tls-creds t \
		--object "tls-creds-psk,id=t,dir=$2,endpoint=server"
}
img=$(test_image)
qemu_nbd_tls "$img" "$work/psk"
port=$SERVER_PORT
# qemu-nbd locks its image: the other server gets one of its own
truncate -s 64M "$work/wrong.img"
qemu_nbd_tls "$work/wrong.img" "$work/wrong"
wrong_port=$SERVER_PORT

start_capture "tcp port $port"
boot_vm tls "root=nbd:10.0.2.2:$port nbdroot.retry=20 nbdtest=tls-root"
expect_marker tls

boot_fails wrong "root=nbd:10.0.2.2:$wrong_port nbdroot.retry=3" \
	"nbdroot: attach: TLS with 10.0.2.2:$wrong_port failed: server closed the connection during the TLS handshake (wrong key or unknown identity?)"

[ -n "$CAPTURE" ] || exit 0
stop_capture
secret=$(guest_secret tls)
[ -n "$secret" ] || fail "the guest did not print its secret"
tls_capture_check "$secret" "the secret the guest wrote"
