#!/bin/bash
# Per-machine export names and spreading (nbdroot(7)), as the init computes
# them after the network is up, under busybox sh and dash: the booting
# interface's MAC (BOOTIF=, else the leased link's, read from a stub sysfs)
# and the host name filled into the export name; and the server a client
# tries first, so that six MACs of a room spread 3/3 over two servers.
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-templates.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sys/class/net/eth1"
echo 52:54:00:12:34:5a >"$work/sys/class/net/eth1/address"
fails=0
expect() {
	# expect WHAT WANT GOT
	if [ "$3" = "$2" ]; then
		echo "ok: $1: $3"
	else
		echo "FAIL: $1: got [$3], want [$2]"
		fails=$((fails + 1))
	fi
}

# expand BOOTIF DEVICE HOSTNAME NAME: what the init attaches, or the error
driver='. initramfs/lib/cmdline.sh; . initramfs/lib/network.sh
net_boot_mac "$1" "$2"
if nbdroot_expand "$4" "$net_mac" "$3" root; then echo "$sp_expanded"
else echo "ERR $nr_error"; fi'
# attach N BOOTIF IP-HOST NAME HOSTS: the name and -start the attach step
# gives the client, with the lease on eth1 (HOSTNAME N: none when empty)
attach='. initramfs/lib/cmdline.sh; . initramfs/lib/network.sh
. initramfs/lib/attach.sh
net_get() {
	case $2 in DEVICE) eval "$1=eth1" ;; HOSTNAME) eval "$1=\$hn" ;; esac
	eval "[ -n \"\$$1\" ]"
}
hn=$1 nr_bootif=$2 nr_ip_host=$3
expand_spec "$4" "$5" root && echo "$sp_expanded $sp_client_start"'
# spread N MAC...: the server each MAC starts at
spread='. initramfs/lib/cmdline.sh; n=$1; shift
for m; do nbdroot_spread "$m" "$n" || printf "ERR %s " "$m"; printf "%s " "$sp_start"; done'

macs="52:54:00:12:34:01 52:54:00:12:34:02 52:54:00:12:34:03
52:54:00:12:34:04 52:54:00:12:34:05 52:54:00:12:34:06"
for sh in "busybox sh" dash; do
	command -v "${sh%% *}" >/dev/null || { echo "FAIL: ${sh%% *} not installed (scripts/deps)"; exit 1; }
	run() { NBDROOT_SYS=$work/sys $sh -c "$driver" sh "$@"; }
	expect "$sh: \${mac} of the leased link" "client-52-54-00-12-34-5a" \
		"$(run "" eth1 pc7 'client-${mac}')"
	expect "$sh: \${mac} of BOOTIF= over the leased link" \
		"client-52-54-00-ab-cd-ef.qcow2" \
		"$(run 52:54:00:ab:cd:ef eth1 pc7 'client-${mac}.qcow2')"
	expect "$sh: \${hostname} and \${mac} twice" \
		"pc7/52-54-00-12-34-5a/52-54-00-12-34-5a" \
		"$(run "" eth1 pc7 '${hostname}/${mac}/${mac}')"
	expect "$sh: a name without templates is kept" 'root$x' \
		"$(run "" eth1 pc7 'root$x')"
	expect "$sh: no host name" \
		'ERR root: ${hostname} in "c-${hostname}": the host name "" is not a host name (none from DHCP or ip=?)' \
		"$(run "" eth1 "" 'c-${hostname}')"
	expect "$sh: a host name with a quote" \
		"ERR root: \${hostname} in \"c-\${hostname}\": the host name \"a'b\" is not a host name (none from DHCP or ip=?)" \
		"$(run "" eth1 "a'b" 'c-${hostname}')"
	expect "$sh: no such link" \
		'ERR root: ${mac} in "c-${mac}": the booting interface'"'"'s address "" is not a MAC address' \
		"$(run "" eth9 pc7 'c-${mac}')"
	att() { NBDROOT_SYS=$work/sys $sh -c "$attach" sh "$@"; }
	expect "$sh: attach: the lease's link and host name, two servers" \
		"pc7-52-54-00-12-34-5a -start 1" \
		"$(att pc7 "" "" '${hostname}-${mac}' gw1,gw2)"
	expect "$sh: attach: BOOTIF= and ip='s host name, one server" \
		"box-52-54-00-12-34-5b " \
		"$(att "" 52:54:00:12:34:5b box '${hostname}-${mac}' gw1)"
	expect "$sh: attach: BOOTIF= picks the second of two servers" \
		"c-52-54-00-12-34-5b -start 2" \
		"$(att "" 52:54:00:12:34:5b "" 'c-${mac}' 'gw1,[::1]@7')"
	# shellcheck disable=SC2086 # the MACs are words
	got=$($sh -c "$spread" sh 2 $macs)
	expect "$sh: six MACs over two servers" "2 1 2 1 2 1 " "$got"
	expect "$sh: 3/3" "3 3" \
		"$(echo "$got" | tr ' ' '\n' | grep -c 1) $(echo "$got" | tr ' ' '\n' | grep -c 2)"
	# shellcheck disable=SC2086
	expect "$sh: six MACs over three servers, 2/2/2" "1 2 3 1 2 3 " \
		"$($sh -c "$spread" sh 3 $macs)"
	expect "$sh: one server" "1 " "$($sh -c "$spread" sh 1 52:54:00:12:34:01)"
	expect "$sh: not a MAC" "ERR 52:54:00 1 " "$($sh -c "$spread" sh 2 52:54:00)"
done
[ "$fails" -eq 0 ]
