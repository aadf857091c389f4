# shellcheck shell=bash
# What the TLS NewSessionTicket tests (52, 59) share, sourced in place of
# lib.sh: a key and an initrd holding it with kTLS's modules (build/,
# named after the test), lib.sh and peers.sh, the ticket shim built as
# $work/ticket-shim.so (tests/unit/ticket-shim.c), the busybox client root
# with the key as /etc/nbdroot/tls.psk served by our server on root_port,
# and a 4 MiB random export $work/data.img named "lab" in
# $work/tls.conf, a configuration of our server that requires TLS.
build=$(cd "$(dirname "$0")/../.." && pwd)/build
mkdir -p "$build"
key=$build/$(basename "$0" .sh).psk
printf 'lab-17:%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$key"
chmod 600 "$key"
INITRD=$build/initrd-$(basename "$0" .sh).img
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
# shellcheck disable=SC2034 # the sourcing test boots from it
root_port=$SERVER_PORT

head -c 4M /dev/urandom >"$work/data.img"
printf '[generic]\ntlspsk = %s\nforce_tls = true\n[lab]\nexportname = %s\n' \
	"$key" "$work/data.img" >"$work/tls.conf"

# tickets_sent PORT MODE: shows the log of our server on PORT; fails if
# it used kTLS (the shim sends through GnuTLS's record path only) or if a
# ticket did not go out; sets TICKETS to how many of MODE went out.
tickets_sent() {
	local log=$work/server-ours-$1.log
	sed "s/^/    ticket server $1: /" "$log"
	grep -q '(kTLS ' "$log" && fail "the server on $1 used kTLS: the shim cannot send"
	grep -q 'NOT sent\|ticket-shim: /' "$log" &&
		fail "the server on $1 failed to send a ticket"
	# shellcheck disable=SC2034 # the sourcing test reads it
	TICKETS=$(grep -c "ticket-shim: NewSessionTicket sent $2" "$log")
}
