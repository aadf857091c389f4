#!/bin/bash
# nbd-client as a user meets it on a machine without nbd.ko: a static
# binary under 100 KiB, upstream's exit codes, and the refusals that happen
# before any device is touched, against real servers (nbdkit, ours).
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/client-lib

[ -x "$client" ] || { echo "FAIL: $client not built"; exit 1; }
size=$(stat -c %s "$client")
if readelf -l "$client" | grep -q INTERP; then
	echo "FAIL: $client is dynamically linked"; fails=$((fails + 1))
elif [ "$size" -gt 102400 ]; then
	echo "FAIL: $client is $size bytes (> 100 KiB)"; fails=$((fails + 1))
else
	echo "ok: $client is static, $size bytes"
fi

check "-h" 0 "usage: nbd-client" -- "$client" -h
check "usage error" 2 "no device given" -- "$client" 10.0.0.1 1234
check "usage error shows the usage" 2 "usage: nbd-client HOST" -- "$client" 10.0.0.1 1234
check "-c on a non-NBD device" 2 "/dev/sda is not an NBD device" -- "$client" -c /dev/sda
check "-c on an unconnected device" 1 "" -- "$client" -c /dev/nbd7

client_lib_start

serve memory 1001
check "odd export size" 1 "export size 1001 is not a multiple of the block size 512" -- \
	"$client" 127.0.0.1 "$port" /dev/nbd7
check "odd size with -b 1024 too" 1 "not a multiple of the block size 1024" -- \
	"$client" 127.0.0.1 "$port" /dev/nbd7 -b 1024
serve null 0
check "empty export" 1 "has size 0" -- "$client" 127.0.0.1 "$port" /dev/nbd7
serve --filter=multi-conn memory 1M multi-conn-mode=disable
check "-C 2 without multi-conn" 1 "does not allow several connections; using one" -- \
	"$client" 127.0.0.1 "$port" /dev/nbd7 -C 2
check "refused connection" 1 "connect to 127.0.0.1:1: Connection refused" -- \
	"$client" 127.0.0.1 1 /dev/nbd7
# -start: the odd-sized export is on server 2 only, so its error says
# which server the client used first
serve memory 1M
good=$port
serve memory 1001
check "-start 2: the second server first" 1 "export size 1001 is not a multiple" -- \
	"$client" "127.0.0.1@$good,127.0.0.1@$port" 9 /dev/nbd7 -start 2
check "-start 2 wraps around to the first" 1 "open /dev/nbd7" -- \
	"$client" "127.0.0.1@$good,127.0.0.1@1" 9 /dev/nbd7 -start 2
check "-start past the list" 2 "-start 3: the server list" -- \
	"$client" "127.0.0.1@$good,127.0.0.1@1" 9 /dev/nbd7 -start 3
port=$good
check "failover to the second server" 1 "open /dev/nbd7" -- \
	"$client" "127.0.0.1@1,127.0.0.1@$port" 9 /dev/nbd7

# a bracketed IPv6 literal reaches a server on ::1 (when the host has it)
if [ -e /proc/net/if_inet6 ] && nbdkit -f -i ::1 -p "$((port + 2))" memory 1M >"$dir/v6.log" 2>&1 &
then
	pids="$pids $!"
	sleep 0.5
	if grep -q 'Cannot assign\|not available' "$dir/v6.log"; then
		echo "skip: no ::1 on this host"
	else
		check "bracketed IPv6 server" 1 "open /dev/nbd7" -- \
			"$client" "[::1]" "$((port + 2))" /dev/nbd7
	fi
fi

truncate -s 1M "$dir/disk.img"
server/nbd-server -n "127.0.0.1@$((port + 1))" "$dir/disk.img" 2>"$dir/server.log" &
pids="$pids $!"
sleep 0.3
check "unknown export on our server" 1 "has no export \"nosuch\"" -- \
	"$client" 127.0.0.1 "$((port + 1))" /dev/nbd7 -N nosuch
[ "$fails" -eq 0 ]
