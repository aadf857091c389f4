# shellcheck shell=sh
# Network bring-up for the nbdroot init: DHCP on every link at once (the
# first lease wins), or the kernel's static ip= syntax. Every link that is
# configured is described in /run/net-DEVICE.conf (klibc's format).
#
# The caller provides info() and fail(); these functions print a reason
# and return 1 on failure.

DHCP_EVENT=/lib/nbdroot/dhcp-event
# sysfs; another root for the host unit tests only
NET_SYS=${NBDROOT_SYS:-/sys}

# Ethernet-like links, in the kernel's order.
net_links() {
	for _l in /sys/class/net/*; do
		[ -e "$_l" ] || continue
		_n=${_l##*/}
		[ "$_n" != lo ] || continue
		[ "$(cat "$_l/type" 2>/dev/null)" = 1 ] || continue
		echo "$_n"
	done
}

# The link whose MAC address is $1 (BOOTIF=), if any.
net_link_by_mac() {
	for _l in $(net_links); do
		if [ "$(cat "/sys/class/net/$_l/address" 2>/dev/null)" = "$1" ]; then
			echo "$_l"
			return 0
		fi
	done
	return 1
}

# net_boot_mac BOOTIF DEVICE: the booting interface's MAC address: BOOTIF='s
# when the boot line has one, else DEVICE's (the link that got the lease).
net_boot_mac() {
	if [ -n "$1" ]; then
		echo "$1"
	elif [ -n "$2" ]; then
		cat "$NET_SYS/class/net/$2/address" 2>/dev/null
	fi
}

# Waits up to $1 seconds for a driver to register a link (the link with
# MAC $2 when given).
net_wait_links() {
	_i=0
	while if [ -n "${2:-}" ]; then ! net_link_by_mac "$2" >/dev/null
	    else [ -z "$(net_links)" ]; fi; do
		[ "$_i" -lt $(($1 * 10)) ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

net_configured() {
	for _c in /run/net-*.conf; do
		[ -e "$_c" ] && return 0
	done
	return 1
}

# net_dhcp SECONDS [LINK...]: one udhcpc per link, in parallel; returns as
# soon as one has a lease, and stops the others. No polling: each client
# says on a FIFO when it exits (udhcpc -q exits once bound, -n once its
# SECONDS tries have failed), so the wait ends with the first lease, or
# when every client has given up.
net_dhcp() {
	_secs=$1
	shift
	# shellcheck disable=SC2046 # link names are words
	[ $# -gt 0 ] || set -- $(net_links)
	if [ $# -eq 0 ]; then
		echo "no network interface found"
		return 1
	fi
	_fifo=/run/nbdroot/udhcpc.exits
	rm -f "$_fifo"
	mkfifo "$_fifo" || { echo "cannot make $_fifo"; return 1; }
	# read-write, here and in the clients' subshells: no open waits for
	# the other side, and a client that exits late writes to no one
	exec 8<>"$_fifo"
	for _l in "$@"; do
		ip link set "$_l" up 2>/dev/null
		(udhcpc -i "$_l" -f -q -n -t "$_secs" -T 1 -A 1 -O rootpath \
			-p "/run/nbdroot/dhcp-$_l.pid" -s "$DHCP_EVENT" \
			>"/run/nbdroot/udhcpc-$_l.log" 2>&1
		echo "$_l" 1<>"$_fifo") &
	done
	_left=$#
	while [ "$_left" -gt 0 ] && read -r _l <&8; do
		_left=$((_left - 1))
		! net_configured || break
	done
	exec 8<&-
	for _l in "$@"; do
		read -r _p <"/run/nbdroot/dhcp-$_l.pid" 2>/dev/null &&
			kill "$_p" 2>/dev/null
	done
	net_configured && return 0
	# a lease that came but could not be configured (dhcp-event)
	for _e in /run/nbdroot/dhcp-error-*; do
		[ -r "$_e" ] || continue
		cat "$_e"
		rm -f "$_e"
		return 1
	done
	echo "no DHCP answer on $* within ${_secs}s"
	return 1
}

# Dotted netmask -> prefix length; "" for an invalid mask.
net_prefix() {
	_bits=0
	_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086 # the octets are words
	set -- $1
	IFS=$_ifs
	[ $# -eq 4 ] || return 0
	for _o in "$@"; do
		case $_o in
		255) _bits=$((_bits + 8)) ;;
		254) _bits=$((_bits + 7)) ;; 252) _bits=$((_bits + 6)) ;;
		248) _bits=$((_bits + 5)) ;; 240) _bits=$((_bits + 4)) ;;
		224) _bits=$((_bits + 3)) ;; 192) _bits=$((_bits + 2)) ;;
		128) _bits=$((_bits + 1)) ;; 0) ;;
		*) return 0 ;;
		esac
	done
	echo "$_bits"
}

# ip=CLIENT:SERVER:GW:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0:DNS1:NTP0
# (Documentation/admin-guide/nfs/nfsroot.rst) with a client address:
# net_static CLIENT SERVER GW NETMASK HOSTNAME DEVICE DNS0 DNS1, already
# checked by the boot-line parser.
net_static() {
	_addr=$1 _server=$2 _gw=$3 _mask=$4 _host=$5 _dev=$6 _dns0=$7 _dns1=$8
	[ -n "$_dev" ] || _dev=$(net_links | head -n 1)
	if [ -z "$_dev" ] || [ ! -e "/sys/class/net/$_dev" ]; then
		echo "ip=: no interface \"$_dev\""
		return 1
	fi
	_len=$(net_prefix "${_mask:-255.255.255.0}")
	if [ -z "$_len" ]; then
		echo "ip=: \"$_mask\" is not a netmask"
		return 1
	fi
	ip addr flush dev "$_dev" 2>/dev/null
	ip link set "$_dev" up
	if ! ip addr add "$_addr/$_len" dev "$_dev"; then
		echo "ip=: cannot set $_addr/$_len on $_dev"
		return 1
	fi
	[ -z "$_gw" ] || ip route add default via "$_gw" dev "$_dev"
	[ -z "$_host" ] || hostname "$_host"
	if [ -n "$_dns0$_dns1" ]; then
		: >/etc/resolv.conf
		for _ns in $_dns0 $_dns1; do
			echo "nameserver $_ns" >>/etc/resolv.conf
		done
	fi
	interface=$_dev ip=$_addr subnet=${_mask:-255.255.255.0} \
		router=$_gw dns="$_dns0 $_dns1" hostname=$_host \
		siaddr=$_server "$DHCP_EVENT" static
}
