#!/bin/sh
# nbd-client -u: negotiation over a Unix socket (qemu-nbd serves one), with
# -list showing the export and an attach that negotiates and then stops at
# the kernel (the host has no nbd driver: that is the VM tests' job).
cd "$(dirname "$0")/../.." || exit 1
command -v qemu-nbd >/dev/null || { echo "FAIL: qemu-nbd not installed (scripts/deps)"; exit 1; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
truncate -s 1M "$dir/disk.img"
qemu-nbd -k "$dir/sock" -x vol -f raw --persistent "$dir/disk.img" >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$dir/sock" ] && break; sleep 0.1; done
[ -S "$dir/sock" ] || { echo "FAIL: qemu-nbd did not start"; exit 1; }

out=$(client/nbd-client -u "$dir/sock" -l 2>&1)
[ "$out" = vol ] || { echo "FAIL: -u -l printed \"$out\", not \"vol\""; exit 1; }
echo "ok: -u -l lists \"vol\""

out=$(client/nbd-client /dev/nbd15 -unix "$dir/sock" -N vol 2>&1)
case $out in
*"open /dev/nbd15: "*) echo "ok: negotiated over the socket, stopped at the kernel: $out" ;;
*) echo "FAIL: attach over -u: $out"; exit 1 ;;
esac

out=$(client/nbd-client -u "$dir/nope" /dev/nbd0 2>&1)
case $out in
*"connect to $dir/nope: No such file or directory"*) echo "ok: $out" ;;
*) echo "FAIL: missing socket: $out"; exit 1 ;;
esac

out=$(client/nbd-client 10.0.0.1 /dev/nbd0 -u "$dir/sock" 2>&1)
case $out in
*"-unix replaces HOST and PORT"*) echo "ok: HOST with -u is refused" ;;
*) echo "FAIL: HOST with -u: $out"; exit 1 ;;
esac
