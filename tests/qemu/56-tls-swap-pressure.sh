#!/bin/bash
# Swap on /dev/nbd1 over TLS under memory pressure: an initrd holding a
# key attaches the root and nbdroot.swap= from our server, which
# requires TLS. In a 128 MiB VM a process (busybox awk) allocates about
# 1.5 times the RAM in strings of 4 KiB, each its own rotation of a
# random block, and compares every one after the kernel swapped them out
# to /dev/nbd1 and back in (guest check swap-alloc: VmSwap, pswpout and
# pswpin, no string differs); root and swap are the guest's only two
# connections and both are kTLS, with no decryption error; the kernel
# logged no I/O error and both @nbd-client daemons are I/O flushers. The
# server's log must show the swap export's connections under TLS 1.3 with
# ChaCha20-Poly1305, and thousands of requests on them (summed: a
# connection that died and came back is two lines), and the serial
# console no I/O error (the guest's kernel log may have overflowed).
# OUTAGE=1: the server is killed once the guest is swapping and restarted
# (58-tls-swap-outage.sh); its SIGKILLed connections log nothing.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
tls_key "$work/keys.psk" lab-17
tls_initrd "$work/keys.psk"
img=$(test_image root)
truncate -s 320M "$work/swap.img"
tls_server_conf "$work/tls.conf" "$work/keys.psk" swap "$work/swap.img"
start_server ours "$img" -C "$work/tls.conf"
port=$SERVER_PORT
boot="root=nbd:10.0.2.2:$port nbdroot.swap=nbd:10.0.2.2:$port/swap nbdroot.retry=20 nbdtest=swap-alloc:ktls=2"
if [ -n "${OUTAGE:-}" ]; then
	VM_MEM=128 VM_TIMEOUT=500 boot_vm swap "$boot,outage" &
	vm=$!
	await_console swap "$vm" "NBDROOT-STEP swapping"
	stop_server KILL
	echo "server killed (SIGKILL to its process group) at $(date +%T)"
	mv "$work/server-ours-$port.log" "$work/server-ours-$port-killed.log"
	sleep 3
	FIXED_PORT=$port start_server ours "$img" -C "$work/tls.conf"
	echo "server restarted on port $port at $(date +%T)"
	wait "$vm"
else
	VM_MEM=128 VM_TIMEOUT=500 boot_vm swap "$boot"
fi
expect_marker swap
expect_console swap "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$port/swap"
errors=$(grep -aE 'I/O error, dev nbd|(Write|Read)-error on swap-device' "$work/swap.log" | head -n 3)
[ -z "$errors" ] || fail "the guest's console shows errors: $errors"
# the server logs each connection as it ends, at the guest's power-off:
# wait until none is left
for _ in $(seq 50); do
	[ -z "$(ss -Htn state established "( sport = :$port )")" ] && break
	sleep 0.1
done
lines=$(grep -h "export 'swap'" "$work"/server-ours-*.log)
[ -n "$lines" ] || fail "the server's log has no connection to export swap"
requests=0
while read -r line; do
	case $line in
	*'(TLS "lab-17" TLS1.3 CHACHA20-POLY1305)'*) ;;
	*) fail "a connection to export swap is not TLS 1.3 with ChaCha20-Poly1305: $line" ;;
	esac
	n=$(sed -n 's/.*: \([0-9][0-9]*\) requests.*/\1/p' <<<"$line")
	[ -n "$n" ] || fail "no request count in the server's line: $line"
	requests=$((requests + n))
	echo "ok: server: $line"
done <<<"$lines"
[ "$requests" -ge 1000 ] ||
	fail "the swap export had $requests requests, not thousands: $lines"
echo "ok: $requests requests on export swap in $(wc -l <<<"$lines") connection(s)"
