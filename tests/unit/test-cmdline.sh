#!/bin/bash
# The init's boot-line parser (initramfs/lib/cmdline.sh), run by the shells
# it must work under (busybox sh and dash), against a table of real lines.
# Each row: kernel command line <TAB> expected result, where a result is
#   host|port|name|fstype|flags|nbdopts|ro|ip|retry|init
# or "ERR " and the start of the message.
cd "$(dirname "$0")/../.." || exit 1
lib=initramfs/lib/cmdline.sh

table=$(cat <<'EOT'
root=nbd:10.0.2.2:1234	10.0.2.2|1234|||||||60|/sbin/init
root=nbd:10.0.2.2:1234/root	10.0.2.2|1234|root||||||60|/sbin/init
root=nbd:srv:1234/root:ext4:noatime,data=journal:bs=4096,timeout=30 ro	srv|1234|root|ext4|noatime,data=journal|bs=4096,timeout=30|ro||60|/sbin/init
root=nbd:server1:myexport	server1|10809|myexport||||||60|/sbin/init
root=nbd:server1:myexport:xfs	server1|10809|myexport|xfs|||||60|/sbin/init
netroot=nbd:10.0.0.1:10809/r rw	10.0.0.1|10809|r||||rw||60|/sbin/init
root=nbd:[fe80::1]:99/x	[fe80::1]|99|x||||||60|/sbin/init
root=nbd:[2001:db8::1]:/x	[2001:db8::1]|10809|x||||||60|/sbin/init
root=nbd:a,[::1],b.example:7/n	a,[::1],b.example|7|n||||||60|/sbin/init
root=nbd::/name	|10809|name||||||60|/sbin/init
root=nbd:dhcp	|10809|||||||60|/sbin/init
root=nbd:h:1 ip=10.0.2.15::10.0.2.2:255.255.255.0:box:eth0:off nbdroot.retry=5 init=/bin/sh	h|1||||||10.0.2.15::10.0.2.2:255.255.255.0:box:eth0:off|5|/bin/sh
root=nbd:h:1 rootfstype=btrfs rootflags=subvol=@ rd.retry=7	h|1||btrfs|subvol=@||||7|/sbin/init
root=nbd:h:1/n:ext4 rootfstype=btrfs	h|1|n|ext4|||||60|/sbin/init
quiet splash root=nbd:h:2 console=ttyS0,115200n8 BOOT_IMAGE=/vmlinuz	h|2|||||||60|/sbin/init
root=nbd:h:abc/x	ERR root=nbd:h:abc/x: port "abc" is not a number
root=nbd:h:0	ERR root=nbd:h:0: port "0" is not a number from 1 to 65535
root=nbd:h:70000/x	ERR root=nbd:h:70000/x: port "70000"
root=nbd:[fe80::1:1234	ERR root=nbd:[fe80::1:1234: unterminated '[' in host
root=nbd:[::1]x:1	ERR root=nbd:[::1]x:1: unexpected "x:1" after host
root=nbd:h:1/n:e$t	ERR root=nbd:h:1/n:e$t: filesystem type "e$t" is not a name
root=nbd:h:1 nbdroot.retry=soon	ERR nbdroot.retry=soon: not a number
root=/dev/sda1 quiet	ERR root: no root=nbd:HOST:PORT[/NAME] on the kernel command line
root=nbd:h:1 *	h|1|||||||60|/sbin/init
EOT
)

# shellcheck disable=SC2016 # the driver runs in the shell under test
driver='. "$1"
while IFS="	" read -r line want; do
	if nbdroot_parse_cmdline "$line"; then
		got="$nr_host|$nr_port|$nr_name|$nr_fstype|$nr_flags|$nr_nbdopts|$nr_ro|$nr_ip|$nr_retry|$nr_init"
	else
		got="ERR $nr_error"
	fi
	case $want in
	"ERR "*) case $got in "$want"*) ok=1 ;; *) ok= ;; esac ;;
	*) [ "$got" = "$want" ] && ok=1 || ok= ;;
	esac
	if [ -n "$ok" ]; then
		echo "ok"
	else
		echo "MISMATCH [$line]: got [$got], want [$want]"
	fi
done'

failures=0
rows=$(printf '%s\n' "$table" | wc -l)
for sh in "busybox sh" dash; do
	if ! command -v "${sh%% *}" >/dev/null; then
		echo "FAIL: ${sh%% *} not installed (scripts/deps)"
		exit 1
	fi
	out=$(printf '%s\n' "$table" | $sh -c "$driver" sh "$lib")
	passed=$(printf '%s\n' "$out" | grep -c '^ok$')
	printf '%s\n' "$out" | grep -v '^ok$' | sed "s/^/$sh: /"
	echo "$sh: $passed of $rows lines parsed as expected"
	[ "$passed" -eq "$rows" ] || failures=$((failures + 1))
done
[ "$failures" -eq 0 ]
