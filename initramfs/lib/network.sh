# shellcheck shell=sh
# Network bring-up for the nbdroot init: DHCP and IPv6 autoconfiguration
# on every link at once (the first usable address wins), or ip='s static
# IPv4 and IPv6 forms. Every link that is configured is described in
# /run/net-DEVICE.conf (klibc's format, with IPV6* keys added).
#
# The caller provides info() and fail(); these functions print a reason
# and return 1 on failure.

# udhcpc's event program (where the initrd has no nbdroot-dhcp4), and
# how the init describes a link it set up itself (static, auto6...):
# initramfs/dhcp-event, in C
DHCP_EVENT=/lib/nbdroot/dhcp-event
# sysfs and the kernel's IPv6 address list; others for the host unit
# tests only
NET_SYS=${NBDROOT_SYS:-/sys}
NET_IF_INET6=${NBDROOT_IF_INET6:-/proc/net/if_inet6}
# set once net_dhcp has used nbdroot-early's FIFO (only the first try may)
net_fifo_used=

# net_find_links: the Ethernet-like links, in the kernel's order, in
# net_found (space separated). Builtins only: the boot's path calls it.
net_find_links() {
	net_found=
	for _l in /sys/class/net/*; do
		[ -e "$_l" ] || continue
		_n=${_l##*/}
		[ "$_n" != lo ] || continue
		_ty=
		read -r _ty 2>/dev/null <"$_l/type"
		[ "$_ty" = 1 ] || continue
		net_found="$net_found${net_found:+ }$_n"
	done
}

# The same, one per line.
net_links() {
	net_find_links
	for _l in $net_found; do
		echo "$_l"
	done
}

# The link whose MAC address is $1 (BOOTIF=), if any.
net_link_by_mac() {
	net_find_links
	for _l in $net_found; do
		_a=
		read -r _a 2>/dev/null <"/sys/class/net/$_l/address"
		if [ "$_a" = "$1" ]; then
			echo "$_l"
			return 0
		fi
	done
	return 1
}

# net_boot_mac BOOTIF DEVICE: the booting interface's MAC address in
# net_mac: BOOTIF='s when the boot line has one, else DEVICE's (the link
# that got the lease); empty when neither. Builtins only.
net_boot_mac() {
	net_mac=$1
	[ -z "$net_mac" ] && [ -n "$2" ] || return 0
	read -r net_mac 2>/dev/null <"$NET_SYS/class/net/$2/address"
	return 0
}

# Waits up to $1 seconds for a driver to register a link (the link with
# MAC $2 when given).
net_wait_links() {
	_i=0
	while if [ -n "${2:-}" ]; then ! net_link_by_mac "$2" >/dev/null
	    else net_find_links; [ -z "$net_found" ]; fi; do
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

# net_dhcp SECONDS [LINK...]: one DHCPv4 client per link, in parallel
# (nbdroot-dhcp4, initramfs/dhcp4; udhcpc where the initrd lacks it);
# returns as soon as one has a lease, and stops the others. No polling:
# each client says on a FIFO when it exits (once bound, or once SECONDS
# have passed without a lease), so the wait ends with the first lease, or
# when every client has given up. With net_also6 set, IPv6
# autoconfiguration runs on the same links, and a usable IPv6 address ends
# the wait as a lease would (net_v6_watch says so on the same FIFO).
net_dhcp() {
	_secs=$1
	shift
	if [ $# -eq 0 ]; then
		net_find_links
		# shellcheck disable=SC2086 # link names are words
		set -- $net_found
	fi
	if [ $# -eq 0 ]; then
		echo "no network interface found"
		return 1
	fi
	_fifo=/run/nbdroot/dhcp.exits
	# nbdroot-early made the first try's (an exec less on every boot);
	# a later try, or an init without nbdroot-early (dracut's, one run
	# again from a rescue shell), makes a new one, which no leftover
	# process of an earlier try has open
	if [ -n "$net_fifo_used" ] || [ -z "${init_early:-}" ] || [ ! -p "$_fifo" ]; then
		[ ! -e "$_fifo" ] || rm -f "$_fifo"
		mkfifo "$_fifo" || { echo "cannot make $_fifo"; return 1; }
	fi
	net_fifo_used=1
	# read-write, here and in the clients' subshells: no open waits for
	# the other side, and a client that exits late writes to no one
	exec 8<>"$_fifo"
	for _l in "$@"; do
		[ -z "$net_also6" ] || net_v6_start "$_l" auto
		# each sets its link up first. The subshell says the client's
		# exit on the FIFO however it ends (killed, or not run at all),
		# which the client's own -n cannot: the wait below has no bound
		# of its own. udhcpc where the initrd lacks ours (dracut's from
		# an older install).
		if command -v nbdroot-dhcp4 >/dev/null; then
			(nbdroot-dhcp4 -i "$_l" -t "$_secs" \
				-p "/run/nbdroot/dhcp-$_l.pid" \
				>"/run/nbdroot/dhcp4-$_l.log" 2>&1
			echo "$_l" 1<>"$_fifo") &
		else
			(udhcpc -i "$_l" -f -q -n -t "$_secs" -T 1 -A 1 -O rootpath \
				-p "/run/nbdroot/dhcp-$_l.pid" -s "$DHCP_EVENT" \
				>"/run/nbdroot/dhcp4-$_l.log" 2>&1
			echo "$_l" 1<>"$_fifo") &
		fi
	done
	_left=$#
	_watch=
	if [ -n "$net_also6" ]; then
		net_v6_watch "$_secs" "$@" &
		_watch=$!
		_left=$((_left + 1))
	fi
	while [ "$_left" -gt 0 ] && read -r _l <&8; do
		_left=$((_left - 1))
		# the first family with a usable address wins
		[ "$_l" != v6 ] || ! net_v6_settled auto6 "$@" || break
		! net_configured || break
	done
	[ -z "$_watch" ] || kill "$_watch" 2>/dev/null
	exec 8<&-
	for _l in "$@"; do
		# a client that got its lease and exited left no pid file
		[ -r "/run/nbdroot/dhcp-$_l.pid" ] &&
			read -r _p <"/run/nbdroot/dhcp-$_l.pid" &&
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
	if [ -n "$net_also6" ]; then
		echo "no DHCP answer and no IPv6 router advertisement on $* within ${_secs}s"
	else
		echo "no DHCP answer on $* within ${_secs}s"
	fi
	return 1
}

# net_v6_watch SECONDS LINK...: in the background of net_dhcp, says "v6"
# on its FIFO (fd 8) once a link has a usable IPv6 address (past duplicate
# address detection), or after SECONDS without one. It only looks:
# net_dhcp itself records the address (net_v6_settled).
net_v6_watch() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		for _l in "$@"; do
			[ -z "$(net_v6_usable "$_l")" ] || break 2
		done
		sleep 0.1
		_n=$((_n - 1))
	done
	echo v6 >&8
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
	ip -4 addr flush dev "$_dev" 2>/dev/null
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

# IPv6. The kernel does stateless autoconfiguration (RFC 4862) from router
# advertisements by itself once a link is up; these functions switch it on
# or off, and wait, bounded, until an address has passed duplicate address
# detection: connecting from a tentative address fails.

# Flags and scopes of /proc/net/if_inet6 (include/net/if_inet6.h,
# include/uapi/linux/if_addr.h): IFA_F_TENTATIVE 0x40, IFA_F_DADFAILED 0x08;
# scope link 0x20, host 0x10.

# net_v6_start LINK auto|static: IPv6 on, and router advertisements
# accepted (auto) or ignored (static: only ip='s address).
net_v6_start() {
	_conf=/proc/sys/net/ipv6/conf/$1
	if [ ! -d "$_conf" ]; then
		echo "$1: this kernel has no IPv6 (no $_conf)"
		return 1
	fi
	echo 0 >"$_conf/disable_ipv6"
	if [ "$2" = auto ]; then
		echo 1 >"$_conf/accept_ra"
		echo 1 >"$_conf/autoconf"
	else
		echo 0 >"$_conf/accept_ra"
		echo 0 >"$_conf/autoconf"
	fi
}

# net_v6_addrs LINK: LINK's IPv6 addresses beyond the link, one a line:
# ADDRESS/LEN STATE, STATE "ok", "tentative" or "dadfailed".
net_v6_addrs() {
	[ -r "$NET_IF_INET6" ] || return 0
	while read -r _hex _idx _len _scope _flags _name; do
		[ "$_name" = "$1" ] || continue
		case $_scope in 20 | 10) continue ;; esac
		_state=ok
		[ $((0x$_flags & 0x40)) -eq 0 ] || _state=tentative
		[ $((0x$_flags & 0x08)) -eq 0 ] || _state=dadfailed
		_a=$(echo "$_hex" | sed 's/..../&:/g; s/:$//')
		echo "$_a/$((0x$_len)) $_state"
	done <"$NET_IF_INET6"
}

# net_v6_usable LINK: the first address of LINK that passed duplicate
# address detection, as ADDRESS/LEN (groups without leading zeros);
# nothing if none has yet.
net_v6_usable() {
	net_v6_addrs "$1" | while read -r _a _st; do
		[ "$_st" = ok ] || continue
		echo "$_a" | sed 's/^0\{1,3\}//; s/:0\{1,3\}/:/g'
		exit 0
	done
}

# net_v6_describe EVENT LINK ADDRESS/LEN [GW DNS0 DNS1 HOST SERVER
# ROOTPATH]: /run/net-LINK.conf for an IPv6 address (dhcp-event EVENT:
# auto6, dhcp6 or static6); ROOTPATH is DHCPv6's boot-file URL.
net_v6_describe() {
	_gw6=${4:-}
	[ -n "$_gw6" ] || _gw6=$(ip -6 route show default dev "$2" 2>/dev/null |
		sed -n 's/.*via \([^ ]*\).*/\1/p' | head -n 1)
	# ip: empty, not the kernel's ip= the init inherited as a variable
	interface=$2 ip='' ip6=$3 router6=$_gw6 dns="${5:-} ${6:-}" \
		hostname=${7:-} siaddr=${8:-} rootpath=${9:-} "$DHCP_EVENT" "$1"
}

# net_v6_info LINK SECONDS [-a]: nbdroot-dhcp6 on LINK: the router's name
# servers and search domain (RDNSS, DNSSL) in net6_rdnss and net6_dnssl,
# DHCPv6's in net6_dns and net6_search, its boot-file URL in net6_url and
# with -a its address (ADDRESS/LEN) in net6_addr; the name servers go to
# /etc/resolv.conf. 1 with the reason when no DHCPv6 server answered
# within SECONDS (the router's values are kept).
net_v6_info() {
	net6_dns='' net6_url='' net6_search='' net6_rdnss='' net6_dnssl=''
	net6_addr=''
	_out=$(nbdroot-dhcp6 -i "$1" -t "$2" ${3:+"$3"} 2>/run/nbdroot/dhcp6.err)
	_rc=$?
	while read -r _k _v; do
		case $_k in
		address)	net6_addr=$_v ;;
		dns)		net6_dns="$net6_dns $_v" ;;
		rdnss)		net6_rdnss="$net6_rdnss $_v" ;;
		search)		net6_search=$_v ;;
		dnssl)		net6_dnssl=$_v ;;
		bootfile-url)	net6_url=$_v ;;
		esac
	done <<EOT
$_out
EOT
	net_v6_resolv
	[ "$_rc" -eq 0 ] && return 0
	_err=$(cat /run/nbdroot/dhcp6.err)
	printf 'DHCPv6: %s\n' "${_err#nbdroot-dhcp6: }"
	return 1
}

# net_v6_resolv: net_v6_info's name servers into /etc/resolv.conf,
# DHCPv6's first, each once, and a comment naming where each came from.
net_v6_resolv() {
	[ -n "$net6_dns$net6_rdnss" ] || return 0
	_seen=' '
	{
		_s=${net6_search:-$net6_dnssl}
		[ -z "$_s" ] || printf 'search %s\n' "$_s"
		for _ns in $net6_dns $net6_rdnss; do
			case $_seen in *" $_ns "*) continue ;; esac
			_seen="$_seen$_ns "
			printf 'nameserver %s\n' "$_ns"
		done
		[ -z "$net6_dns" ] || printf '# from DHCPv6:%s\n' "$net6_dns"
		[ -z "$net6_rdnss" ] ||
			printf '# from a router advertisement (RDNSS):%s\n' "$net6_rdnss"
	} >/etc/resolv.conf
}

# net_v6_configured SECONDS REQUIRED: after autoconfiguration, the
# router's name servers and stateless DHCPv6 on the link that won;
# REQUIRED fails without a DHCPv6 reply, else (a name to resolve) a
# silent network just has no name servers (or the router's).
net_v6_configured() {
	_l6=$(net_conf DEVICE)
	_req=$2
	if ! net_v6_info "$_l6" "$1" >/run/nbdroot/dhcp6.out; then
		[ -z "$_req" ] || { cat /run/nbdroot/dhcp6.out; return 1; }
		[ -n "$net6_rdnss" ] || return 0
	fi
	# shellcheck disable=SC2086 # the name servers are words
	set -- $net6_dns $net6_rdnss
	_ev=auto6
	[ -z "$_req" ] || _ev=dhcp6
	net_v6_describe "$_ev" "$_l6" \
		"$(net_conf IPV6ADDR)/$(net_conf IPV6PREFIXLEN)" \
		"$(net_conf IPV6GATEWAY)" "${1:-}" "${2:-}" "" "" "$net6_url"
}

# net_dhcp6 SECONDS [LINK]: ip=dhcp6 on LINK (else the first link): the
# router's advertisement, then DHCPv6 (nbdroot-dhcp6 -a): an address when
# the router says "managed", set once it passed duplicate address
# detection; else (or when no server offers one) stateless
# autoconfiguration's address, with DHCPv6's name servers and boot-file
# URL either way.
net_dhcp6() {
	_secs=$1
	_l6=${2:-$(net_links | head -n 1)}
	if [ -z "$_l6" ]; then
		echo "no network interface found"
		return 1
	fi
	net_v6_start "$_l6" auto || return 1
	ip link set "$_l6" up 2>/dev/null
	if ! net_v6_info "$_l6" "$_secs" -a >/run/nbdroot/dhcp6.out; then
		cat /run/nbdroot/dhcp6.out
		return 1
	fi
	if [ -n "$net6_addr" ]; then
		if ! _err=$(ip -6 addr add "$net6_addr" dev "$_l6" 2>&1); then
			case $_err in
			*xists*) ;;
			*)	echo "DHCPv6: cannot set $net6_addr on $_l6: $_err"
				return 1 ;;
			esac
		fi
		net_v6_wait "$_l6" "${net6_addr%/*}" 10 DHCPv6 || return 1
		_a=$net6_addr
	else
		net_auto6 "$_secs" "$_l6" || return 1
		_a="$(net_conf IPV6ADDR)/$(net_conf IPV6PREFIXLEN)"
	fi
	# shellcheck disable=SC2086 # the name servers are words
	set -- $net6_dns $net6_rdnss
	net_v6_describe dhcp6 "$_l6" "$_a" "" "${1:-}" "${2:-}" "" "" \
		"$net6_url"
}

# net_v6_settled EVENT LINK...: true, with LINK described, as soon as one
# LINK has a usable IPv6 address.
net_v6_settled() {
	_proto=$1
	shift
	for _l in "$@"; do
		_a=$(net_v6_usable "$_l")
		[ -n "$_a" ] || continue
		net_v6_describe "$_proto" "$_l" "$_a"
		return 0
	done
	return 1
}

# net_auto6 SECONDS [LINK...]: stateless autoconfiguration on every link
# at once; returns as soon as one has an address that passed duplicate
# address detection.
net_auto6() {
	_secs=$1
	shift
	if [ $# -eq 0 ]; then
		net_find_links
		# shellcheck disable=SC2086 # link names are words
		set -- $net_found
	fi
	if [ $# -eq 0 ]; then
		echo "no network interface found"
		return 1
	fi
	for _l in "$@"; do
		net_v6_start "$_l" auto || return 1
		ip link set "$_l" up 2>/dev/null
	done
	_i=0
	while [ "$_i" -lt $((_secs * 10)) ]; do
		net_v6_settled auto6 "$@" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	_why=
	for _l in "$@"; do
		_why="$_why $_l: $(net_v6_addrs "$_l" | tr '\n' ' ')"
	done
	echo "no IPv6 address from a router advertisement on $* within ${_secs}s (addresses:${_why})"
	return 1
}

# net_static6 ADDRESS PREFIXLEN GW HOSTNAME DEVICE DNS0 DNS1 SERVER: ip='s
# IPv6 form, already checked by the boot-line parser; waits up to SECONDS
# (net_v6_wait) for duplicate address detection to pass.
net_static6() {
	_addr=$1 _len=${2:-64} _gw=$3 _host=$4 _dev=$5 _dns0=$6 _dns1=$7
	[ -n "$_dev" ] || _dev=$(net_links | head -n 1)
	if [ -z "$_dev" ] || [ ! -e "/sys/class/net/$_dev" ]; then
		echo "ip=: no interface \"$_dev\""
		return 1
	fi
	net_v6_start "$_dev" static || return 1
	ip link set "$_dev" up
	if ! _err=$(ip -6 addr add "$_addr/$_len" dev "$_dev" 2>&1); then
		case $_err in
		*xists*) ;;
		*)	echo "ip=: cannot set $_addr/$_len on $_dev: $_err"
			return 1 ;;
		esac
	fi
	net_v6_wait "$_dev" "$_addr" 10 || return 1
	if [ -n "$_gw" ] && ! _err=$(ip -6 route add default via "$_gw" dev "$_dev" 2>&1); then
		case $_err in
		*xists*) ;;
		*)	echo "ip=: cannot route through $_gw on $_dev: $_err"
			return 1 ;;
		esac
	fi
	[ -z "$_host" ] || hostname "$_host"
	if [ -n "$_dns0$_dns1" ]; then
		: >/etc/resolv.conf
		for _ns in $_dns0 $_dns1; do
			echo "nameserver $_ns" >>/etc/resolv.conf
		done
	fi
	net_v6_describe static6 "$_dev" "$_addr/$_len" "$_gw" "$_dns0" "$_dns1" \
		"$_host" "$8"
}

# net_v6_wait LINK ADDRESS SECONDS [WHAT]: until ADDRESS on LINK has
# passed duplicate address detection (RFC 4862 5.4: about a second); an
# address another machine holds is named, as WHAT's (default ip=).
net_v6_wait() {
	_what=${4:-ip=}
	_i=0
	_full=$(net_v6_full "$2")
	while [ "$_i" -lt $(($3 * 10)) ]; do
		_st=$(net_v6_addrs "$1" | sed -n "s|^$_full/[0-9]* ||p")
		case $_st in
		ok)	return 0 ;;
		dadfailed)
			echo "$_what: $2 on $1 is already used by another machine (duplicate address detection failed)"
			return 1 ;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$_what: $2 on $1 still tentative (duplicate address detection) after ${3}s"
	return 1
}

# net_v6_full ADDRESS: ADDRESS with every group written out as four hex
# digits in lower case, as /proc/net/if_inet6 has them.
net_v6_full() {
	_in=$(echo "$1" | tr 'A-F' 'a-f')
	_head=${_in%%::*}
	_tail=
	case $_in in *::*) _tail=${_in#*::} ;; esac
	_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # the groups are words
	set -- $_head
	_n=$#
	_out=
	for _g in "$@"; do
		_out="$_out$(printf '%04x' "0x$_g"):"
	done
	# shellcheck disable=SC2086
	set -- $_tail
	IFS=$_ifs
	_n=$((_n + $#))
	case $_in in
	*::*)	while [ "$_n" -lt 8 ]; do
			_out="${_out}0000:"
			_n=$((_n + 1))
		done ;;
	esac
	for _g in "$@"; do
		_out="$_out$(printf '%04x' "0x$_g"):"
	done
	echo "${_out%:}"
}
