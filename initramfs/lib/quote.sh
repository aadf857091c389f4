# shellcheck shell=sh
# kv NAME VALUE: prints NAME='VALUE', each ' in VALUE written as '\'', a
# line that a reader may source safely whatever VALUE holds (a DHCP
# server's string, an export name). Builtins only: it runs on every boot
# and every lease, and under emulation each fork of a subshell or sed
# costs milliseconds (twenty values took half a second). Shared by the
# init (root.conf); nbdroot-dhcp-event writes net-IF.conf the same way
# (initramfs/dhcp-event/conf.c).
kv() {
	_v=$2 _q=
	while :; do
		case $_v in
		*"'"*)	_q="$_q${_v%%"'"*}'\\''"
			_v=${_v#*"'"} ;;
		*)	break ;;
		esac
	done
	printf "%s='%s'\n" "$1" "$_q$_v"
}
