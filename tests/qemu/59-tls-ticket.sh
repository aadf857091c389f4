#!/bin/bash
# A server that sends a TLS 1.3 NewSessionTicket (our server under
# tests/unit/ticket-shim.c; GnuTLS's record path on this host): its
# ticket comes right after the handshake, inside the negotiation. The
# guest's nbd-client (kTLS) must drop it in its TLS core and attach;
# /dev/nbd2 then reads back what the host wrote, twice (two connections,
# a ticket each), with no decryption error in /proc/net/tls_stat. The
# host checks that each ticket really went out (the shim's log: the
# session's send sequence moved). A ticket sent after the kTLS handover
# breaks the kernel's read: see the shim's after-go mode (not asserted
# here: -persist did not recover from it in time, see nbd-client(8)).
build=$(cd "$(dirname "$0")/../.." && pwd)/build
mkdir -p "$build"
key=$build/tls-ticket.psk
printf 'lab-17:%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$key"
chmod 600 "$key"
INITRD=$build/initrd-tls-ticket.img
"$build/../initramfs/mkinitrd" --compress gzip --out "$INITRD" \
	--tls-psk "$key" || { echo "FAIL: mkinitrd --tls-psk failed"; exit 1; }
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/qemu/peers.sh
. "$(dirname "$0")/peers.sh"

gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$work/ticket-shim.so" \
	"$top/tests/unit/ticket-shim.c" -ldl -lgnutls ||
	fail "building tests/unit/ticket-shim.c"
mkdir -p "$work/client-overlay/etc/nbdroot"
cp "$key" "$work/client-overlay/etc/nbdroot/tls.psk"
root=$(client_test_image)
start_server ours "$root"
root_port=$SERVER_PORT

head -c 4M /dev/urandom >"$work/data.img"
sum=$(head -c 1M "$work/data.img" | md5sum | cut -d' ' -f1)
printf '[generic]\ntlspsk = %s\nforce_tls = true\n[lab]\nexportname = %s\n' \
	"$key" "$work/data.img" >"$work/tls.conf"
export LD_PRELOAD=$work/ticket-shim.so NBDROOT_TICKET=handshake
start_server ours "$work/data.img" -C "$work/tls.conf"
hs_port=$SERVER_PORT
unset LD_PRELOAD NBDROOT_TICKET

boot_vm ticket "root=nbd:10.0.2.2:$root_port nbdroot.tls=off nbdtest=tls-ticket:$hs_port:$sum"
expect_marker ticket
hs_log=$work/server-ours-$hs_port.log
sed 's/^/    ticket server: /' "$hs_log"
# GnuTLS's record path: the shim's tickets are records GnuTLS sends
grep -q '(kTLS ' "$hs_log" && fail "the host's server used kTLS: the shim cannot send"
[ "$(grep -c 'ticket-shim: NewSessionTicket sent handshake' "$hs_log")" -ge 2 ] ||
	fail "the server did not send a ticket on each of two connections"
grep -q 'NOT sent\|ticket-shim: /' "$hs_log" && fail "a ticket was not sent"
[ -z "$failed" ] && echo "ok: a ticket per connection went out, and the client dropped each"
