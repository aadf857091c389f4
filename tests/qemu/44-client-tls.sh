#!/bin/bash
# Our nbd-client with TLS in a VM, the record layer handed to the kernel
# (kTLS): the initrd is built with --tls-psk (the key and the tls and
# ChaCha20-Poly1305 modules, loaded at boot); the guest attaches /dev/nbd1
# from nbdkit --tls=require --tls-psk, writes and reads back through it,
# and checks /proc/net/tls_stat. The host captures loopback meanwhile: a
# secret the guest wrote over TLS must not be in the capture, one it wrote
# to a plaintext server must (so the check can fail). -C 2 (two kTLS
# sockets) and -L (ioctls) over TLS, and our server with TLS. Then
# -persist over
# TLS: nbdkit is killed (SIGKILL) while the guest writes and restarted 3 s
# later on its port; the guest's blocks must all verify.
# the initrd with the key, built before lib.sh checks $INITRD; the root
# itself is plaintext (nbdroot.tls=off): the guest test attaches over TLS
build=$(cd "$(dirname "$0")/../.." && pwd)/build
mkdir -p "$build"
key=$build/tls-test.psk
printf 'lab-17:%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$key"
chmod 600 "$key"
INITRD=$build/initrd-tls.img
"$build/../initramfs/mkinitrd" --compress gzip --out "$INITRD" \
	--tls-psk "$key" || { echo "FAIL: mkinitrd --tls-psk failed"; exit 1; }
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/qemu/peers.sh
. "$(dirname "$0")/peers.sh"
command -v nbdkit >/dev/null || { echo "nbdkit not installed"; exit 77; }

mkdir -p "$work/client-overlay/etc/nbdroot"
cp "$key" "$work/client-overlay/etc/nbdroot/tls.psk"
root=$(client_test_image)

start_server ours "$root"
root_port=$SERVER_PORT
truncate -s 16M "$work/tls.img" "$work/plain.img"
start_server nbdkit "$work/plain.img"
plain_port=$SERVER_PORT
# our server with TLS (GnuTLS's record path on this host kernel)
truncate -s 16M "$work/ours.img"
printf '[generic]\ntlspsk = %s\nforce_tls = true\n[lab]\nexportname = %s\n' \
	"$key" "$work/ours.img" >"$work/tls-ours.conf"
start_server ours "$work/ours.img" -C "$work/tls-ours.conf"
ours_port=$SERVER_PORT
# last, so that stop_server stops this one
start_server nbdkit "$work/tls.img" --tls=require --tls-psk="$key"
tls_port=$SERVER_PORT

start_capture "tcp port $tls_port or tcp port $plain_port"
capture=$CAPTURE

boot_vm tls "root=nbd:10.0.2.2:$root_port nbdroot.tls=off nbdtest=client-tls:$tls_port:$plain_port:$ours_port" &
vm=$!
await_console tls "$vm" "NBDROOT-STEP tls-persist"
sleep 2
stop_server KILL
echo "TLS nbdkit killed at $(date +%T)"
sleep 3
FIXED_PORT=$tls_port start_server nbdkit "$work/tls.img" --tls=require --tls-psk="$key"
echo "TLS nbdkit restarted on port $tls_port at $(date +%T)"
wait "$vm"
expect_marker tls
grep -a 'nbd-client' "$work/tls.log" | grep -av 'NBDROOT' | tail -n 4 | sed 's/^/    /'
[ -n "$capture" ] || exit 0
stop_capture
read -r secret_tls secret_plain < <(grep -a "client-tls: secrets" "$work/tls.log" |
	tr -d '\r' | sed 's/.*client-tls: secrets //')
[ -n "$secret_plain" ] || fail "the guest did not print its secrets"
grep -aqF "$secret_plain" "$capture" ||
	fail "the plaintext secret is not in the capture: the check cannot tell"
echo "ok: the secret written without TLS is in the loopback capture"
if grep -aqF "$secret_tls" "$capture"; then
	fail "the secret written over TLS is in the loopback capture"
fi
echo "ok: the secret written over TLS is not in the capture ($(wc -c <"$capture") bytes)"
