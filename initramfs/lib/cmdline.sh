# shellcheck shell=sh
# shellcheck disable=SC2034 # the nr_* variables are this library's output
# Boot-line parsing for the nbdroot init. Pure shell: no I/O, no eval, so
# the host unit tests run it under busybox sh and dash. nbdroot(7)
# documents every syntax accepted here.
#
# nbdroot_parse_cmdline "LINE" sets the nr_* variables below and returns 0,
# or returns 1 with nr_error naming the field that is wrong.
# nbdroot_parse_rootpath "ROOT-PATH" does the same for DHCP option 17
# when the boot line said root=dhcp.

nbdroot_defaults() {
	nr_root=		# the root spec as given; "dhcp": from DHCP
	nr_host=		# "h1,h2": failover order; "" = DHCP server
	nr_port=10809
	nr_name=
	nr_fstype=
	nr_flags=
	nr_nbdopts=
	nr_part=		# partition number on the device, "" = whole
	nr_dev=0		# /dev/nbdN of the root
	nr_ro=			# "ro" or "rw"
	nr_init=/sbin/init
	nr_net=auto		# auto (DHCP and IPv6 autoconfiguration, all links),
			# dhcp, dhcp6, auto6, static, static6, off
	nr_ip=			# ip= as given
	nr_ip_addr='' nr_ip_server='' nr_ip_gw='' nr_ip_mask='' nr_ip_host=''
	nr_ip_dev='' nr_ip_dns0='' nr_ip_dns1='' nr_ip_ntp=''
	nr_bootif=		# MAC from BOOTIF=, lower case with ':'
	nr_retry=60
	nr_timeout=
	nr_conns=1
	nr_shell=
	nr_debug=
	nr_swap=		# nbd: specs from nbdroot.swap=, space-separated
	nr_overlay=		# "tmpfs"
	nr_toram=
	nr_tls=			# "off": no TLS even with a key in the initrd
	nr_tls_identity=	# the key file's identity to use
	nr_error=
	# collected while parsing, resolved by nbdroot_finish
	_nr_kfstype='' _nr_kflags='' _nr_rootdev='' _nr_debian='' _nr_other=''
	_nr_spec_part='' _nr_dev_given=''
}

# True when $1 is a non-empty decimal number.
nbdroot_is_number() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	# at most 9 digits: test(1)'s -lt/-gt would overflow ("Illegal
	# number" in dash, "out of range" in busybox) and accept the line
	[ ${#1} -le 9 ]
}

# True when $1 is a dotted IPv4 address.
nbdroot_is_ipv4() {
	case $1 in
	*[!0-9.]* | .* | *. | *..*) return 1 ;;
	*.*.*.*.*) return 1 ;;
	*.*.*.*) ;;
	*) return 1 ;;
	esac
	_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086 # the octets are words
	set -- $1
	IFS=$_ifs
	for _o in "$@"; do
		[ "${#_o}" -le 3 ] && [ "$_o" -le 255 ] || return 1
	done
	return 0
}

# True when $1 is a dotted netmask (contiguous ones).
nbdroot_is_netmask() {
	nbdroot_is_ipv4 "$1" || return 1
	_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086 # the octets are words
	set -- $1
	IFS=$_ifs
	_zero=
	for _o in "$@"; do
		case $_o in
		255) [ -z "$_zero" ] || return 1 ;;
		254 | 252 | 248 | 240 | 224 | 192 | 128 | 0)
			[ -z "$_zero" ] || [ "$_o" = 0 ] || return 1
			_zero=1 ;;
		*) return 1 ;;
		esac
	done
	return 0
}

# Splits the host list off an nbd: spec. Hosts are IPv4 addresses, names,
# or bracketed IPv6 addresses, each optionally followed by @PORT (servers
# on their own ports, as in nbd-server's ip@port), separated by ','; they
# end at the first ':' outside brackets. Sets sp_host and sp_rest (what
# follows that ':').
nbdroot_split_hosts() {
	_rest=$1
	sp_host=
	while :; do
		case $_rest in
		\[*\]*)	_part="${_rest%%\]*}]" ;;
		\[*)	nr_error="$2: unterminated '[' in host"; return 1 ;;
		*)	_part=${_rest%%[:,@]*} ;;
		esac
		case $_part in
		*[!A-Za-z0-9.:_\[\]-]*)
			nr_error="$2: host \"$_part\" is not an address or a name"
			return 1 ;;
		esac
		_rest=${_rest#"$_part"}
		sp_host=$sp_host$_part
		case $_rest in
		@*)	_hport=${_rest#@}
			_hport=${_hport%%[:,]*}
			nbdroot_check_port "$_hport" "$2" || return 1
			_rest=${_rest#@"$_hport"}
			sp_host=$sp_host@$_hport ;;
		esac
		case $_rest in
		,*)	sp_host=$sp_host,; _rest=${_rest#,} ;;
		*)	break ;;
		esac
	done
	case $_rest in
	'' | :*) sp_rest=${_rest#:} ;;
	*)	nr_error="$2: unexpected \"$_rest\" after host"; return 1 ;;
	esac
	[ "$sp_host" != dhcp ] || sp_host=
	return 0
}

nbdroot_check_port() {
	if ! nbdroot_is_number "$1" || [ "${#1}" -gt 5 ] ||
	    [ "$1" -gt 65535 ] || [ "$1" -lt 1 ]; then
		nr_error="$2: port \"$1\" is not a number from 1 to 65535"
		return 1
	fi
}

# The second field: PORT, PORT/NAME, /NAME, or (dracut) NAME, each with
# an optional partition suffix #pN. Sets sp_port, sp_name, sp_part.
nbdroot_parse_port_name() {
	_pn=$1
	sp_part=
	case $_pn in
	*'#'*)
		sp_part=${_pn##*#}
		_pn=${_pn%#*}
		case $sp_part in
		p*) sp_part=${sp_part#p} ;;
		*) sp_part=x ;;
		esac
		if ! nbdroot_is_number "$sp_part" || [ "$sp_part" -lt 1 ] ||
		    [ "$sp_part" -gt 255 ]; then
			nr_error="$2: partition \"#${1##*#}\" is not #pN (N from 1 to 255)"
			return 1
		fi ;;
	esac
	sp_name=
	case $_pn in
	*/*)	_port=${_pn%%/*}; sp_name=${_pn#*/} ;;
	*)	if nbdroot_is_number "$_pn" || [ -z "$_pn" ]; then
			_port=$_pn
		else
			_port=; sp_name=$_pn
		fi ;;
	esac
	sp_port=${_port:-10809}
	nbdroot_check_port "$sp_port" "$2"
}

# nbdroot_parse_nbd SPEC WHAT: nbd:HOST:PORT[/NAME][#pN][:FSTYPE[:ROOTFLAGS
# [:NBDOPTS]]] into sp_host sp_port sp_name sp_part sp_fstype sp_flags
# sp_opts; WHAT ("root=...") starts any error message.
nbdroot_parse_nbd() {
	case $1 in
	nbd:*)	;;
	*)	nr_error="$2: not an nbd: root"; return 1 ;;
	esac
	nbdroot_split_hosts "${1#nbd:}" "$2" || return 1
	_f=$sp_rest
	nbdroot_parse_port_name "${_f%%:*}" "$2" || return 1
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	sp_fstype=${_f%%:*}
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	sp_flags=${_f%%:*}
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	sp_opts=$_f
	nbdroot_check_template "$sp_name" "$2" || return 1
	case $sp_fstype in
	*[!a-z0-9._-]*)
		nr_error="$2: filesystem type \"$sp_fstype\" is not a name"
		return 1 ;;
	esac
	nbdroot_check_nbdopts "$sp_opts" "$2"
}

# Templates in an export name, expanded once the network is up (see
# nbdroot_expand): ${mac} and ${hostname}; any other '$' is an error here,
# so a typo stops the boot at the line and not at the server.
nbdroot_check_template() {
	_t=$1
	while :; do
		case $_t in
		*'$'*)	_t=${_t#*'$'} ;;
		*)	return 0 ;;
		esac
		case $_t in
		'{mac}'* | '{hostname}'*) ;;
		'{'*'}'*)
			nr_error="$2: unknown template \"\$${_t%%\}*}}\" in export name \"$1\" (known: \${mac}, \${hostname})"
			return 1 ;;
		*)	nr_error="$2: a '\$' that starts no template in export name \"$1\" (known: \${mac}, \${hostname})"
			return 1 ;;
		esac
	done
}

# nbdroot_mac_dashes MAC: MAC (xx:xx:xx:xx:xx:xx or with '-', any case)
# in pxelinux's style, lower case with dashes, in sp_mac; 1 if it is not
# an Ethernet address.
nbdroot_mac_dashes() {
	_m=$(printf '%s' "$1" | tr 'A-F:' 'a-f-')
	case $_m in
	[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f])
		sp_mac=$_m ;;
	*)	return 1 ;;
	esac
}

# nbdroot_expand NAME MAC HOSTNAME WHAT: NAME with ${mac} (MAC in
# pxelinux's style) and ${hostname} replaced, in sp_expanded. No eval:
# the values come from sysfs and a DHCP server and stay plain text.
nbdroot_expand() {
	_in=$1
	sp_expanded=
	while :; do
		case $_in in
		*'${'*)	;;
		*)	sp_expanded=$sp_expanded$_in; return 0 ;;
		esac
		sp_expanded=$sp_expanded${_in%%'${'*}
		_in=${_in#*'${'}
		case $_in in
		'mac}'*)
			if ! nbdroot_mac_dashes "$2"; then
				nr_error="$4: \${mac} in \"$1\": the booting interface's address \"$2\" is not a MAC address"
				return 1
			fi
			sp_expanded=$sp_expanded$sp_mac
			_in=${_in#mac\}} ;;
		'hostname}'*)
			case $3 in
			'' | *[!A-Za-z0-9.-]*)
				nr_error="$4: \${hostname} in \"$1\": the host name \"$3\" is not a host name (none from DHCP or ip=?)"
				return 1 ;;
			esac
			sp_expanded=$sp_expanded$3
			_in=${_in#hostname\}} ;;
		*)	nr_error="$4: unknown template in \"$1\""
			return 1 ;;
		esac
	done
}

# nbdroot_count_hosts "h1,h2": how many servers, in sp_count.
nbdroot_count_hosts() {
	_h=$1
	sp_count=1
	while :; do
		case $_h in
		*,*)	_h=${_h#*,}; sp_count=$((sp_count + 1)) ;;
		*)	return 0 ;;
		esac
	done
}

# nbdroot_spread MAC N: the server (from 1) of a list of N that a client
# with MAC tries first, in sp_start: the sum of the MAC's bytes modulo N,
# plus 1. A room's addresses differ in their last bytes, so its clients
# spread evenly over the servers instead of all starting at the first.
nbdroot_spread() {
	sp_start=1
	nbdroot_mac_dashes "$1" || return 1
	_sum=0
	_ifs=$IFS
	IFS=-
	# shellcheck disable=SC2086 # the bytes are words (checked hex)
	set -- $sp_mac "$2"
	IFS=$_ifs
	for _b in "$1" "$2" "$3" "$4" "$5" "$6"; do
		_sum=$((_sum + 0x$_b))
	done
	sp_start=$((_sum % $7 + 1))
}

# NBDOPTS: bs=512|1024|2048|4096, timeout=SECONDS, ro, and (dracut) any
# other word, which is kept and reported at attach time.
nbdroot_check_nbdopts() {
	_ifs=$IFS
	IFS=,
	for _o in $1; do
		case $_o in
		bs=512 | bs=1024 | bs=2048 | bs=4096) ;;
		bs=*)	nr_error="$2: block size \"${_o#bs=}\" is not 512, 1024, 2048 or 4096" ;;
		timeout=*)
			nbdroot_is_number "${_o#timeout=}" ||
				nr_error="$2: timeout \"${_o#timeout=}\" is not a number of seconds" ;;
		esac
	done
	IFS=$_ifs
	[ -z "$nr_error" ]
}

nbdroot_use_spec() {
	nr_host=$sp_host nr_port=$sp_port nr_name=$sp_name
	nr_fstype=$sp_fstype nr_flags=$sp_flags nr_nbdopts=$sp_opts
	_nr_spec_part=$sp_part
}

# An nbd device name: nbdN or /dev/nbdN; sets sp_dev to N.
nbdroot_parse_nbddev() {
	_d=${1#/dev/}
	sp_dev=${_d#nbd}
	if [ "$_d" = "$sp_dev" ] || ! nbdroot_is_number "$sp_dev" ||
	    [ "${#sp_dev}" -gt 3 ]; then
		nr_error="$2: device \"$1\" is not nbdN"
		return 1
	fi
}

# Debian's nbdroot=: SERVER,PORT-OR-NAME[,nbdX], SERVER:PORT[/NAME],
# SERVER:/NAME, [V6]:PORT/NAME, with SERVER empty for the DHCP server.
nbdroot_parse_debian() {
	_v=$1
	case $_v in
	\[*\]*)	_h="${_v%%\]*}]" ;;
	\[*)	nr_error="$2: unterminated '[' in host"; return 1 ;;
	*)	_h=${_v%%[:,]*} ;;
	esac
	case ${_v#"$_h"} in
	,*)
		_f=${_v#"$_h",}
		_pn=${_f%%,*}
		case $_f in
		*,*,*)	nr_error="$2: more than three fields"; return 1 ;;
		*,*)	nbdroot_parse_nbddev "${_f#*,}" "$2" || return 1
			nr_dev=$sp_dev; _nr_dev_given=1 ;;
		esac
		if nbdroot_is_number "$_pn"; then
			_pn=$_pn/
		else
			_pn=/$_pn
		fi
		nbdroot_parse_nbd "nbd:$_h:$_pn" "$2" || return 1 ;;
	:*)
		nbdroot_parse_nbd "nbd:$_v" "$2" || return 1
		if [ -n "$sp_fstype" ]; then
			nr_error="$2: unexpected \":$sp_fstype\" after the export name"
			return 1
		fi ;;
	*)
		nr_error="$2: not SERVER,NAME,nbdX or SERVER:PORT/NAME"
		return 1 ;;
	esac
	nbdroot_use_spec
}

# True when $1 is an IPv6 address in hex groups (RFC 4291 2.2, forms 1
# and 2: at most one "::", each group 1 to 4 hex digits, 8 groups without
# "::"); the dotted IPv4 tail (form 3) is not accepted.
nbdroot_is_ipv6() {
	case $1 in
	'' | *[!0-9A-Fa-f:]* | *:::* | *::*::* | :[!:]* | *[!:]:) return 1 ;;
	esac
	_v6=$1
	_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # the groups are words
	set -- $1
	IFS=$_ifs
	_groups=0
	for _g in "$@"; do
		[ "${#_g}" -le 4 ] || return 1
		[ -z "$_g" ] || _groups=$((_groups + 1))
	done
	case $_v6 in
	*::*)	[ "$_groups" -le 7 ] ;;
	*)	[ "$_groups" -eq 8 ] ;;
	esac
}

# nbdroot_ip_fields VALUE: ip='s value split at each ':' outside brackets
# (dracut puts IPv6 addresses in brackets) into _ipf1.._ipf10, brackets
# kept, and their count in _ipn; 1 with nr_error when it is not fields.
nbdroot_ip_fields() {
	_s=$1
	_ipn=0
	_ipf1='' _ipf2='' _ipf3='' _ipf4='' _ipf5='' _ipf6='' _ipf7=''
	_ipf8='' _ipf9='' _ipf10=''
	while :; do
		case $_s in
		\[*\]*)	_v="${_s%%\]*}]" ;;
		\[*)	nr_error="ip=$nr_ip: unterminated '['"; return 1 ;;
		*)	_v=${_s%%:*} ;;
		esac
		_s=${_s#"$_v"}
		_ipn=$((_ipn + 1))
		case $_ipn in
		1) _ipf1=$_v ;; 2) _ipf2=$_v ;; 3) _ipf3=$_v ;; 4) _ipf4=$_v ;;
		5) _ipf5=$_v ;; 6) _ipf6=$_v ;; 7) _ipf7=$_v ;; 8) _ipf8=$_v ;;
		9) _ipf9=$_v ;; 10) _ipf10=$_v ;;
		*) nr_error="ip=$nr_ip: more than 10 fields"; return 1 ;;
		esac
		case $_s in
		'')	return 0 ;;
		:*)	_s=${_s#:} ;;
		*)	nr_error="ip=$nr_ip: unexpected \"$_s\" after \"$_v\""
			return 1 ;;
		esac
	done
}

# nbdroot_ip_addr WHAT VALUE FAMILY: VALUE ("" or an address, IPv6 ones
# in brackets) checked against FAMILY (4, 6, or "" for either); the bare
# address in sp_addr and its family in sp_family.
nbdroot_ip_addr() {
	sp_addr=$2 sp_family=
	case $2 in
	'')	return 0 ;;
	\[*\])	sp_addr=${2#\[}
		sp_addr=${sp_addr%\]}
		nbdroot_is_ipv6 "$sp_addr" && sp_family=6 ;;
	*)	! nbdroot_is_ipv4 "$2" || sp_family=4 ;;
	esac
	if [ -z "$sp_family" ]; then
		case $2 in
		\[*)	nr_error="ip=$nr_ip: $1 \"$2\" is not an IPv6 address" ;;
		*)	nr_error="ip=$nr_ip: $1 \"$2\" is not an IPv4 address" ;;
		esac
		return 1
	fi
	if [ -n "$3" ] && [ "$3" != "$sp_family" ]; then
		nr_error="ip=$nr_ip: $1 \"$2\" is not an IPv$3 address (the client address is IPv$3)"
		return 1
	fi
}

# ip=: off/none, a DHCP keyword (dhcp6 and auto6 for IPv6), DEVICE:AUTOCONF
# (dracut), or CLIENT:SERVER:GW:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0:DNS1:
# NTP0 (the kernel's Documentation/admin-guide/nfs/nfsroot.rst) where, as
# in dracut.cmdline(7), IPv6 addresses are in brackets and NETMASK is then
# a prefix length.
nbdroot_parse_ip() {
	nr_ip=$1
	nr_ip_addr='' nr_ip_server='' nr_ip_gw='' nr_ip_mask='' nr_ip_host=''
	nr_ip_dev='' nr_ip_dns0='' nr_ip_dns1='' nr_ip_ntp=''
	case $1 in
	off | none) nr_net=off; return 0 ;;
	'' | on | any | dhcp | both | bootp | rarp) nr_net=dhcp; return 0 ;;
	dhcp6 | auto6) nr_net=$1; return 0 ;;
	*:*) ;;
	*) nr_error="ip=$1: not off, dhcp, dhcp6, auto6 or CLIENT:SERVER:GW:NETMASK:HOSTNAME:DEVICE:AUTOCONF"
		return 1 ;;
	esac
	nbdroot_ip_fields "$1" || return 1
	if [ "$_ipn" -eq 2 ] && ! nbdroot_is_ipv4 "$_ipf1"; then
		case $_ipf1 in
		\[*)	;;
		*)	_ipf7=$_ipf2 _ipf6=$_ipf1 _ipf1='' _ipf2='' ;;
		esac
	fi
	nbdroot_ip_addr "client address" "$_ipf1" "" || return 1
	nr_ip_addr=$sp_addr
	_fam=$sp_family
	nbdroot_ip_addr server "$_ipf2" "" || return 1
	nr_ip_server=$sp_addr
	nbdroot_ip_addr gateway "$_ipf3" "$_fam" || return 1
	nr_ip_gw=$sp_addr
	nbdroot_ip_addr dns0 "$_ipf8" "" || return 1
	nr_ip_dns0=$sp_addr
	nbdroot_ip_addr dns1 "$_ipf9" "" || return 1
	nr_ip_dns1=$sp_addr
	nbdroot_ip_addr ntp0 "$_ipf10" "" || return 1
	nr_ip_ntp=$sp_addr
	nr_ip_mask=$_ipf4 nr_ip_host=$_ipf5 nr_ip_dev=$_ipf6 _auto=$_ipf7
	if [ "$_fam" = 6 ]; then
		if [ -n "$nr_ip_mask" ] && { ! nbdroot_is_number "$nr_ip_mask" ||
		    [ "$nr_ip_mask" -lt 1 ] || [ "$nr_ip_mask" -gt 128 ]; }; then
			nr_error="ip=$nr_ip: prefix length \"$nr_ip_mask\" is not a number from 1 to 128"
			return 1
		fi
	elif [ -n "$nr_ip_mask" ] && ! nbdroot_is_netmask "$nr_ip_mask"; then
		nr_error="ip=$nr_ip: netmask \"$nr_ip_mask\" is not a netmask"
		return 1
	fi
	case $nr_ip_host in
	*[!A-Za-z0-9.-]*)
		nr_error="ip=$nr_ip: hostname \"$nr_ip_host\" is not a host name"
		return 1 ;;
	esac
	case $nr_ip_dev in
	*[!A-Za-z0-9._-]*)
		nr_error="ip=$nr_ip: device \"$nr_ip_dev\" is not an interface name"
		return 1 ;;
	esac
	case $_auto in
	off | none)
		nr_net=static
		if [ -z "$nr_ip_addr" ]; then
			nr_error="ip=$nr_ip: autoconf \"$_auto\" needs a client address"
			return 1
		fi ;;
	'')
		nr_net=dhcp
		[ -z "$nr_ip_addr" ] || nr_net=static ;;
	on | any | dhcp | both | bootp | rarp) nr_net=dhcp ;;
	dhcp6 | auto6) nr_net=$_auto ;;
	*)	nr_error="ip=$nr_ip: autoconf \"$_auto\" is not off, none, on, any, dhcp, bootp, rarp, both, dhcp6 or auto6"
		return 1 ;;
	esac
	[ "$nr_net" != static ] || [ "$_fam" != 6 ] || nr_net=static6
}

# BOOTIF=01-xx-xx-xx-xx-xx-xx (pxelinux IPAPPEND 2, iPXE): ARP type 1
# and the MAC address of the interface the machine booted from.
nbdroot_parse_bootif() {
	_b=$(printf '%s' "$1" | tr 'A-F-' 'a-f:')
	case $_b in
	01:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f])
		nr_bootif=${_b#01:} ;;
	*)	nr_error="BOOTIF=$1: not 01-xx-xx-xx-xx-xx-xx (an Ethernet MAC address)"
		return 1 ;;
	esac
}

nbdroot_number_arg() {
	if ! nbdroot_is_number "$2" || [ "${#2}" -gt 6 ]; then
		nr_error="$1=$2: not a number"
		return 1
	fi
}

nbdroot_parse_root() {
	case $2 in
	nbd:*)	nbdroot_parse_nbd "$2" "$1=$2" || return 1
		nr_root=$2
		nbdroot_use_spec ;;
	dhcp)	nr_root=dhcp ;;
	/dev/nbd*)
		[ "$1" = root ] || { nr_error="$1=$2: not an nbd: root"; return 1; }
		_nr_rootdev=$2 ;;
	*)	[ "$1" = root ] || { nr_error="$1=$2: not an nbd: root"; return 1; }
		_nr_other=$2 ;;
	esac
}

# nbdroot.tls.identity=NAME: a name of the key file (identity:hexkey
# lines), so no ':'; kept to characters that need no quoting.
nbdroot_parse_identity() {
	case $1 in
	*[!A-Za-z0-9._@+-]*)
		nr_error="nbdroot.tls.identity=$1: \"$1\" is not an identity (letters, digits and . _ @ + - only)"
		return 1 ;;
	esac
	if [ "${#1}" -gt 128 ]; then
		nr_error="nbdroot.tls.identity=$1: longer than 128 characters"
		return 1
	fi
	nr_tls_identity=$1
}

nbdroot_parse_word() {
	case $1 in
	root=* | netroot=*)	nbdroot_parse_root "${1%%=*}" "${1#*=}" ;;
	nbdroot=*)		_nr_debian=${1#nbdroot=} ;;
	ro | rw)		nr_ro=$1 ;;
	# an empty init= is the kernel's default, as the kernel treats it
	init=*)			nr_init=${1#init=}
				nr_init=${nr_init:-/sbin/init} ;;
	ip=*)			nbdroot_parse_ip "${1#ip=}" ;;
	BOOTIF=*)		nbdroot_parse_bootif "${1#BOOTIF=}" ;;
	rootfstype=*)		_nr_kfstype=${1#*=} ;;
	rootflags=*)		_nr_kflags=${1#*=} ;;
	nbdroot.retry=* | rd.retry=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" && nr_retry=${1#*=} ;;
	nbdroot.timeout=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" &&
			nr_timeout=${1#*=} ;;
	nbdroot.conns=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" || return 1
		if [ "${1#*=}" -lt 1 ] || [ "${1#*=}" -gt 64 ]; then
			nr_error="$1: not a number from 1 to 64"
			return 1
		fi
		nr_conns=${1#*=} ;;
	nbdroot.swap=*)
		nbdroot_parse_nbd "${1#*=}" "$1" || return 1
		nr_swap="${nr_swap:+$nr_swap }${1#*=}" ;;
	nbdroot.overlay=tmpfs)	nr_overlay=tmpfs ;;
	nbdroot.overlay=* | nbdroot.overlay)
		nr_error="$1: the only overlay is nbdroot.overlay=tmpfs"
		return 1 ;;
	nbdroot.toram | nbdroot.toram=1) nr_toram=1 ;;
	nbdroot.shell | nbdroot.shell=1 | rd.shell | rd.shell=1) nr_shell=1 ;;
	rd.shell=0 | nbdroot.shell=0)	nr_shell= ;;
	nbdroot.debug | rd.debug)	nr_debug=1 ;;
	nbdroot.tls=off)	nr_tls=off ;;
	nbdroot.tls=*)
		nr_error="$1: the only value is nbdroot.tls=off (a key in the initrd turns TLS on)"
		return 1 ;;
	nbdroot.tls.identity=?*)	nbdroot_parse_identity "${1#*=}" ;;
	nbdroot.tls.identity=)
		nr_error="$1: empty: give the key file's identity (nbdroot.tls.identity=NAME)"
		return 1 ;;
	nbdroot.retry | nbdroot.timeout | nbdroot.conns | nbdroot.swap | \
	nbdroot.tls | nbdroot.tls.identity | rd.retry)
		nr_error="$1: needs a value ($1=...)"
		return 1 ;;
	nbdroot.*)
		nr_error="${1%%=*}: unknown nbdroot option (see nbdroot(7))"
		return 1 ;;
	esac
}

# Combines what the words said: Debian's nbdroot= with root=/dev/nbdX[pN],
# the partition suffix, rootfstype= and rootflags=.
nbdroot_finish() {
	if [ -n "$_nr_debian" ]; then
		if [ "$_nr_debian" = dhcp ]; then
			nr_root=dhcp
		else
			nbdroot_parse_debian "$_nr_debian" "nbdroot=$_nr_debian" ||
				return 1
			nr_root=$_nr_debian
		fi
	fi
	if [ -n "$_nr_rootdev" ]; then
		_d=${_nr_rootdev#/dev/}
		_p=
		case $_d in
		nbd*p*) _p=${_d##*p}; _d=${_d%p*} ;;
		esac
		if ! nbdroot_parse_nbddev "$_d" "root=$_nr_rootdev" ||
		    { [ -n "$_p" ] && ! nbdroot_is_number "$_p"; }; then
			nr_error="root=$_nr_rootdev: not /dev/nbdN or /dev/nbdNpM"
			return 1
		fi
		if [ -n "$_nr_dev_given" ] && [ "$sp_dev" != "$nr_dev" ]; then
			nr_error="root=$_nr_rootdev: nbdroot= attaches /dev/nbd$nr_dev"
			return 1
		fi
		nr_dev=$sp_dev
		if [ -n "$_p" ] && [ -n "$_nr_spec_part" ] &&
		    [ "$_p" != "$_nr_spec_part" ]; then
			nr_error="root=$_nr_rootdev: the nbd: spec says partition $_nr_spec_part"
			return 1
		fi
		nr_part=${_p:-$_nr_spec_part}
		if [ -z "$nr_root" ]; then
			nr_error="root=$_nr_rootdev: needs nbdroot=SERVER,NAME or netroot=nbd:... to say where it comes from"
			return 1
		fi
	else
		nr_part=$_nr_spec_part
	fi
	[ -n "$nr_fstype" ] || nr_fstype=$_nr_kfstype
	[ -n "$nr_flags" ] || nr_flags=$_nr_kflags
	case $nr_fstype in
	*[!a-z0-9._-]*)
		nr_error="rootfstype=$nr_fstype: not a filesystem type"
		return 1 ;;
	esac
	if [ -z "$nr_root" ] && [ -n "$_nr_other" ]; then
		nr_error="root=$_nr_other: not an NBD root (use root=nbd:HOST:PORT[/NAME], root=dhcp or nbdroot=)"
		return 1
	fi
	if [ -z "$nr_root" ]; then
		nr_error="root: no root=nbd:HOST:PORT[/NAME] on the kernel command line"
		return 1
	fi
	if [ "$nr_dev" -ge 16 ]; then
		nr_error="root: /dev/nbd$nr_dev is beyond the driver's 16 devices"
		return 1
	fi
	return 0
}

nbdroot_parse_cmdline() {
	nbdroot_defaults
	_saved_opts=$-
	set -f
	for _w in $1; do
		nbdroot_parse_word "$_w" || break
	done
	case $_saved_opts in *f*) ;; *) set +f ;; esac
	[ -z "$nr_error" ] || return 1
	nbdroot_finish
}

# nbdroot_uri_spec URI WHAT: an NBD URI, nbd://HOST[:PORT][/EXPORT]
# (the NBD project's doc/uri.md; what a DHCPv6 boot-file URL, option 59,
# carries) as the nbd: spec it means, in sp_spec. Percent-encoding,
# queries and fragments are refused, not guessed at.
nbdroot_uri_spec() {
	_u=${1#nbd://}
	_exp=
	case $_u in */*) _exp=${_u#*/}; _u=${_u%%/*} ;; esac
	case $_exp in
	*[%?#]*)
		nr_error="$2: export \"$_exp\" has '%', '?' or '#' (percent-encoding, queries and fragments are not supported)"
		return 1 ;;
	esac
	case $_u in
	\[*\]:*)	_h="${_u%%\]*}]" _p=${_u#*\]:} ;;
	\[*)	_h=$_u _p= ;;
	*:*)	_h=${_u%%:*} _p=${_u#*:} ;;
	*)	_h=$_u _p= ;;
	esac
	if [ -z "$_h" ]; then
		nr_error="$2: no server in the URI"
		return 1
	fi
	sp_spec="nbd:$_h:${_p:-10809}/$_exp"
}

# DHCP option 17 for root=dhcp (or DHCPv6's boot-file URL): an nbd: spec
# (dracut), an NBD URI or a Debian nbdroot= value; an empty host means the
# DHCP server.
nbdroot_parse_rootpath() {
	nr_error=
	case $1 in
	'')	nr_error="DHCP root-path: the DHCP server sent none (root=dhcp needs option 17, or DHCPv6's boot-file URL with ip=dhcp6)"
		return 1 ;;
	nbd://*)
		nbdroot_uri_spec "$1" "DHCP root-path $1" || return 1
		nbdroot_parse_nbd "$sp_spec" "DHCP root-path $1" || return 1
		nbdroot_use_spec
		[ -n "$_nr_rootdev" ] || nr_part=$sp_part ;;
	*://*)	nr_error="DHCP root-path $1: not an NBD URI (nbd://HOST[:PORT]/EXPORT) or an nbd: root"
		return 1 ;;
	nbd:*)	nbdroot_parse_nbd "$1" "DHCP root-path $1" || return 1
		nbdroot_use_spec
		[ -n "$_nr_rootdev" ] || nr_part=$sp_part ;;
	*)	nbdroot_parse_debian "$1" "DHCP root-path $1" || return 1 ;;
	esac
	[ -n "$nr_fstype" ] || nr_fstype=$_nr_kfstype
	[ -n "$nr_flags" ] || nr_flags=$_nr_kflags
	return 0
}
