# shellcheck shell=sh
# shellcheck disable=SC2034 # the nr_* variables are this library's output
# Boot-line parsing for the nbdroot init. Pure shell: no I/O, no eval, so
# the host unit tests run it under busybox sh and dash.
#
# nbdroot_parse_cmdline "LINE" sets the nr_* variables below and returns 0,
# or returns 1 with nr_error naming the field that is wrong.

nbdroot_defaults() {
	nr_root=		# the nbd: spec as given
	nr_host=		# "h1,h2": failover order; "" = DHCP server
	nr_port=10809
	nr_name=
	nr_fstype=
	nr_flags=
	nr_nbdopts=
	nr_ro=			# "ro" or "rw"
	nr_init=/sbin/init
	nr_ip=
	nr_retry=60
	nr_timeout=
	nr_conns=1
	nr_shell=
	nr_debug=
	nr_error=
}

# True when $1 is a non-empty decimal number.
nbdroot_is_number() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

# Splits the host list off an nbd: spec. Hosts are IPv4 addresses, names,
# or bracketed IPv6 addresses, separated by ','; they end at the first ':'
# outside brackets. Sets nr_host and nr_rest (what follows that ':').
nbdroot_split_hosts() {
	_rest=$1
	nr_host=
	while :; do
		case $_rest in
		\[*\]*)	_part="${_rest%%\]*}]" ;;
		\[*)	nr_error="$2: unterminated '[' in host"; return 1 ;;
		*)	_part=${_rest%%[:,]*} ;;
		esac
		_rest=${_rest#"$_part"}
		nr_host=$nr_host$_part
		case $_rest in
		,*)	nr_host=$nr_host,; _rest=${_rest#,} ;;
		*)	break ;;
		esac
	done
	case $_rest in
	'' | :*) nr_rest=${_rest#:} ;;
	*)	nr_error="$2: unexpected \"$_rest\" after host"; return 1 ;;
	esac
	[ "$nr_host" != dhcp ] || nr_host=
	return 0
}

# The second field: PORT, PORT/NAME, /NAME, or (dracut) NAME.
nbdroot_parse_port_name() {
	case $1 in
	*/*)	_port=${1%%/*}; nr_name=${1#*/} ;;
	*)	if nbdroot_is_number "$1" || [ -z "$1" ]; then
			_port=$1
		else
			_port= ; nr_name=$1
		fi ;;
	esac
	[ -n "$_port" ] || _port=10809
	if ! nbdroot_is_number "$_port" || [ "$_port" -gt 65535 ] ||
	    [ "$_port" -lt 1 ]; then
		nr_error="$2: port \"$_port\" is not a number from 1 to 65535"
		return 1
	fi
	nr_port=$_port
}

# nbd:HOST:PORT[/NAME][:FSTYPE[:ROOTFLAGS[:NBDOPTS]]]
nbdroot_parse_spec() {
	_what=$1=$2
	nr_root=$2
	case $2 in
	nbd:*)	;;
	*)	nr_error="$_what: not an nbd: root"; return 1 ;;
	esac
	nbdroot_split_hosts "${2#nbd:}" "$_what" || return 1
	_f=$nr_rest
	nbdroot_parse_port_name "${_f%%:*}" "$_what" || return 1
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	nr_fstype=${_f%%:*}
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	nr_flags=${_f%%:*}
	case $_f in *:*) _f=${_f#*:} ;; *) _f= ;; esac
	nr_nbdopts=$_f
	case $nr_fstype in
	*[!a-z0-9._-]*)
		nr_error="$_what: filesystem type \"$nr_fstype\" is not a name"
		return 1 ;;
	esac
}

nbdroot_number_arg() {
	if ! nbdroot_is_number "$2"; then
		nr_error="$1=$2: not a number"
		return 1
	fi
}

nbdroot_parse_word() {
	case $1 in
	root=nbd:* | netroot=nbd:*)
		nbdroot_parse_spec "${1%%=*}" "${1#*=}" ;;
	ro | rw)		nr_ro=$1 ;;
	init=*)			nr_init=${1#init=} ;;
	ip=*)			nr_ip=${1#ip=} ;;
	rootfstype=*)		[ -n "$nr_fstype" ] || nr_fstype=${1#*=} ;;
	rootflags=*)		[ -n "$nr_flags" ] || nr_flags=${1#*=} ;;
	nbdroot.retry=* | rd.retry=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" && nr_retry=${1#*=} ;;
	nbdroot.timeout=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" &&
			nr_timeout=${1#*=} ;;
	nbdroot.conns=*)
		nbdroot_number_arg "${1%%=*}" "${1#*=}" && nr_conns=${1#*=} ;;
	nbdroot.shell | rd.shell | rd.shell=1)	nr_shell=1 ;;
	nbdroot.debug)		nr_debug=1 ;;
	esac
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
	if [ -z "$nr_root" ]; then
		nr_error="root: no root=nbd:HOST:PORT[/NAME] on the kernel command line"
		return 1
	fi
	return 0
}
