#!/bin/sh
# shellcheck disable=SC2317 # the steps below run through retry()
# nbdroot.service in a dracut initrd: network up (DHCP on every link, or
# ip=, BOOTIF=), then the root attached by our nbd-client with -p (it
# reconnects) and -m (the '@' that systemd spares at shutdown), then any
# nbdroot.swap= exports, each retried for nbdroot.retry seconds. Messages
# as in our own initrd.
export PATH=/usr/lib/nbdroot/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /run/nbdroot

say() {
	echo "<$1>nbdroot: $2" >/dev/kmsg 2>/dev/null || echo "nbdroot: $2"
}
info() { say 5 "$*"; }
fail() { say 3 "$*"; }

# shellcheck source=initramfs/lib/cmdline.sh
. /lib/nbdroot/cmdline.sh
# shellcheck source=initramfs/lib/network.sh
. /lib/nbdroot/network.sh

uptime_s() {
	read -r _up _idle </proc/uptime
	echo "${_up%%.*}"
}

# retry STEP COMMAND...: until it succeeds or nbdroot.retry is spent;
# COMMAND runs in this shell (it may set variables) and prints its reason.
retry() {
	_step=$1
	shift
	_wait=1
	while ! "$@" >/run/nbdroot/step.out 2>&1; do
		_out=$(cat /run/nbdroot/step.out)
		fail "$_step: ${_out:-failed}"
		if [ "$(uptime_s)" -ge "$deadline" ]; then
			fail "$_step: giving up after ${nr_retry}s"
			exit 1
		fi
		sleep "$_wait"
		[ "$_wait" -ge 8 ] || _wait=$((_wait * 2))
	done
	_out=$(cat /run/nbdroot/step.out)
	[ -z "$_out" ] || info "$_step: $_out"
}

# Prints KEY's value from /run/net-*.conf without sourcing it.
net_conf() {
	for _f in /run/net-*.conf; do
		[ -r "$_f" ] || continue
		sed -n "s/^$1='\\(.*\\)'\$/\\1/p" "$_f"
		return 0
	done
	return 1
}

network() {
	[ "$nr_net" != off ] || return 0
	! net_configured || return 0
	net_wait_links 30 "$nr_bootif" || { echo "no network interface within 30s"; return 1; }
	_dev=$nr_ip_dev
	[ -n "$_dev" ] || [ -z "$nr_bootif" ] || _dev=$(net_link_by_mac "$nr_bootif")
	case $nr_net in
	static)
		net_static "$nr_ip_addr" "$nr_ip_server" "$nr_ip_gw" \
			"$nr_ip_mask" "$nr_ip_host" "$_dev" "$nr_ip_dns0" \
			"$nr_ip_dns1" ;;
	*)	# shellcheck disable=SC2086 # no device: all links
		net_dhcp 30 $_dev ;;
	esac
}

root_path() {
	nbdroot_parse_rootpath "$(net_conf ROOTPATH)" || { echo "$nr_error"; return 1; }
}

attach() {
	[ ! -e "/sys/block/nbd$nr_dev/pid" ] || return 0
	_host=$nr_host
	[ -n "$_host" ] || _host=$(net_conf ROOTSERVER)
	[ -n "$_host" ] || { echo "no server on the boot line, and DHCP named none"; return 1; }
	_opts="-p -m"
	_ifs=$IFS
	IFS=,
	for _o in $nr_nbdopts; do
		case $_o in
		bs=*)		_opts="$_opts -b ${_o#bs=}" ;;
		timeout=*)	_opts="$_opts -t ${_o#timeout=}" ;;
		ro)		_opts="$_opts -R" ;;
		esac
	done
	IFS=$_ifs
	[ -z "$nr_timeout" ] || _opts="$_opts -T $nr_timeout"
	[ "$nr_conns" -le 1 ] || _opts="$_opts -C $nr_conns"
	# to a file: the daemon it leaves would hold a pipe open
	# shellcheck disable=SC2086 # the options are words
	nbd-client "$_host" "$nr_port" "/dev/nbd$nr_dev" -N "$nr_name" $_opts \
		</dev/null >/run/nbdroot/client.out 2>&1 && return 0
	sed 's/^nbd-client: //' /run/nbdroot/client.out
	return 1
}

# nbdroot.swap=SPEC on DEVICE in swap mode, as our own initrd does it:
# mkswap when the export has no swap signature yet, then swapon.
swap_one() {
	_sdev=$1
	! grep -q "^$_sdev " /proc/swaps || return 0
	nbdroot_parse_nbd "$2" "nbdroot.swap=$2" || { echo "$nr_error"; return 1; }
	_host=${sp_host:-$(net_conf ROOTSERVER)}
	[ -n "$_host" ] || { echo "no server named on the boot line, and DHCP named none"; return 1; }
	if [ ! -e "/sys/block/${_sdev#/dev/}/pid" ] &&
		! nbd-client "$_host" "$sp_port" "$_sdev" -N "$sp_name" -s -p -m \
			</dev/null >/run/nbdroot/client.out 2>&1; then
		sed 's/^nbd-client: //' /run/nbdroot/client.out
		return 1
	fi
	_sig=$(dd if="$_sdev" bs=4096 count=1 2>/dev/null | tail -c 10)
	if [ "$_sig" != SWAPSPACE2 ]; then
		_err=$(mkswap "$_sdev" 2>&1) || { echo "mkswap $_sdev: $_err"; return 1; }
	fi
	_err=$(swapon "$_sdev" 2>&1) || { echo "swapon $_sdev: $_err"; return 1; }
}

# /dev/nbd1 and up, skipping the root's device.
attach_swaps() {
	_idx=0
	for _spec in $nr_swap; do
		_idx=$((_idx + 1))
		[ "$_idx" -ne "$nr_dev" ] || _idx=$((_idx + 1))
		retry swap swap_one "/dev/nbd$_idx" "$_spec"
		info "swap: /dev/nbd$_idx from $_spec"
		echo "/dev/nbd$_idx $_spec" >>/run/nbdroot/swap.conf
	done
}

partition() {
	_i=0
	while [ ! -b "$rootdev" ]; do
		[ "$_i" -lt 50 ] || { echo "$rootdev did not appear within 5s"; return 1; }
		[ "$_i" -ne 25 ] || blockdev --rereadpt "/dev/nbd$nr_dev" 2>/dev/null
		sleep 0.1
		_i=$((_i + 1))
	done
}

nbdroot_parse_cmdline "$(cat /proc/cmdline)" || { fail "cmdline: $nr_error"; exit 1; }
deadline=$(($(uptime_s) + nr_retry))
[ -z "$nr_overlay$nr_toram" ] ||
	fail "cmdline: nbdroot.overlay and nbdroot.toram are for nbdroot's own initrd; ignored under dracut"
modprobe nbd nbds_max=16 max_part=16 2>/dev/null
retry network network
[ "$nr_net" = off ] || info "network: $(net_conf DEVICE) $(net_conf IPV4ADDR) ($(net_conf PROTO))"
[ "$nr_root" != dhcp ] || retry root-path root_path
rootdev=/dev/nbd$nr_dev${nr_part:+p$nr_part}
retry attach attach
info "attached /dev/nbd$nr_dev from ${nr_host:-$(net_conf ROOTSERVER)}:$nr_port \"$nr_name\""
[ -z "$nr_part" ] || retry partition partition
attach_swaps
{
	echo "NBDROOT_DEVICE='/dev/nbd$nr_dev'"
	echo "NBDROOT_ROOTDEV='$rootdev'"
	echo "NBDROOT_MODE='dracut'"
} >/run/nbdroot/root.conf
[ ! -s /etc/resolv.conf ] || cp /etc/resolv.conf /run/nbdroot/resolv.conf
exit 0
