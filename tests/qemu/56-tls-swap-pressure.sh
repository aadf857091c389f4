#!/bin/bash
# Swap on /dev/nbd1 over TLS under memory pressure: an initrd holding a
# key attaches the root and nbdroot.swap= from our server, which
# requires TLS. In a 128 MiB VM a process (busybox awk) allocates about
# 1.5 times the RAM in strings of 4 KiB, each its own rotation of a
# random block, and compares every one after the kernel swapped them out
# to /dev/nbd1 and back in (guest check swap-alloc: VmSwap, pswpout and
# pswpin, no string differs); root and swap are the guest's only two
# connections and both are kTLS, with no decryption error. The server's
# log must show the swap export's connection under TLS 1.3 with
# ChaCha20-Poly1305, and thousands of requests on it.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
tls_key "$work/keys.psk" lab-17
tls_initrd "$work/keys.psk"
img=$(test_image root)
truncate -s 320M "$work/swap.img"
tls_server_conf "$work/tls.conf" "$work/keys.psk" swap "$work/swap.img"
start_server ours "$img" -C "$work/tls.conf"
port=$SERVER_PORT
VM_MEM=128 VM_TIMEOUT=500 boot_vm swap "root=nbd:10.0.2.2:$port nbdroot.swap=nbd:10.0.2.2:$port/swap nbdroot.retry=20 nbdtest=swap-alloc:ktls=2"
expect_marker swap
expect_console swap "nbdroot: swap: /dev/nbd1 from nbd:10.0.2.2:$port/swap"
# the server logs each connection as it ends: the guest's power-off
log=$work/server-ours-$port.log
for _ in $(seq 50); do
	grep -q "export 'swap'" "$log" && break
	sleep 0.1
done
line=$(grep "export 'swap'" "$log")
requests=$(sed -n 's/.*: \([0-9]*\) requests.*/\1/p' <<<"$line")
case $line in
*'(TLS "lab-17" TLS1.3 CHACHA20-POLY1305)'*) ;;
*) fail "the server's log has no TLS connection to export swap: ${line:-none}" ;;
esac
[ "${requests:-0}" -ge 1000 ] ||
	fail "the swap export had ${requests:-no} requests, not thousands: $line"
echo "ok: server: $line"
