# shellcheck shell=sh
# shellcheck disable=SC2154 # nr_*: the boot line, parsed by cmdline.sh
# The root of nbdroot(7), from the network up to the mounted filesystem:
# the steps that nbdroot's own init and its dracut module share. The
# caller sources cmdline.sh, network.sh, fstype.sh and quote.sh (kv, for
# root.conf) too, sets ROOTMNT (where the root goes: /root, or dracut's
# /sysroot), then calls attach_parse, attach_setup and attach_and_mount.
#
# Each step runs under retry(): it prints its reason on stdout and
# returns 1, and is retried until nbdroot.retry seconds have passed.
#
# nbdroot.debug traces the shell (set -x) to its stderr, the console. A
# trace must never land in a value: no function and no { ...; } here is
# ever run with its stderr redirected or captured. Simple commands may be
# (`$(mount ... 2>&1)`): busybox sh, dash and bash print a command's trace
# before they apply its redirections.

# Messages go to the kernel log, which shows them on the console as its
# loglevel allows ("quiet" hides progress, not errors); an error gets a
# console copy when even errors are hidden.
say() {
	_level=$1
	shift
	# printf, not echo: dash's echo turns a server's \n or \0047 into
	# a newline or quote
	printf '<%s>nbdroot: %s\n' "$_level" "$*" >/dev/kmsg 2>/dev/null ||
		printf 'nbdroot: %s\n' "$*"
	read -r _cl _rest </proc/sys/kernel/printk 2>/dev/null
	[ "$_level" -gt 3 ] || [ "${_cl:-7}" -gt "$_level" ] ||
		printf 'nbdroot: %s\n' "$*"
}
fail() { say 3 "$@"; }
info() { say 5 "$@"; }

# uptime_s: the uptime in whole seconds, in up_s. Builtins only, and a
# variable, not output: a $(...) would cost a fork on every boot's path.
uptime_s() {
	read -r _up _idle </proc/uptime
	up_s=${_up%%.*}
}

# The same in milliseconds, in up_ms (the kernel prints hundredths).
uptime_ms() {
	read -r _up _idle </proc/uptime
	up_ms=$((${_up%%.*} * 1000 + 1${_up#*.} * 10 - 1000))
}

# stage_done STAGE [UPTIME]: "nbdroot: time: STAGE SECONDS", the uptime
# at which a boot stage ended (nbdroot(7) lists them), for a breakdown of
# the boot's time: always in the kernel log (dmesg) at debug level, on
# the console too under nbdroot.debug. Builtins only: it costs no fork.
stage_done() {
	_up=${2:-}
	[ -n "$_up" ] || read -r _up _idle </proc/uptime
	if [ -n "$nr_debug" ]; then
		info "time: $1 $_up"
	else
		say 7 "time: $1 $_up"
	fi
}

# attach_parse: the boot line into the nr_* variables, or a message.
attach_parse() {
	# read, not $(cat ...): a fork on every boot's path
	read -r _cmdline </proc/cmdline
	nbdroot_parse_cmdline "$_cmdline" && return 0
	fail "cmdline: $nr_error"
	return 1
}

# attach_setup: the devices and the retry budget, from the boot line.
attach_setup() {
	NBDDEV=/dev/nbd$nr_dev
	ROOTDEV=$NBDDEV
	uptime_s
	retry_deadline=$((up_s + nr_retry))
	[ -d /run/nbdroot ] || mkdir -p /run/nbdroot
}

# Out of retries: a rescue shell if asked for (leaving it retries the
# step for another nbdroot.retry seconds), else exit: the kernel panics
# (our init), or systemd goes to dracut's emergency mode.
give_up() {
	fail "$1: giving up after ${nr_retry}s"
	if [ -n "$nr_shell" ]; then
		echo "nbdroot: rescue shell; exit it to retry \"$1\""
		setsid cttyhack sh || sh
		uptime_s
		retry_deadline=$((up_s + nr_retry))
		return 0
	fi
	# the console shows the reason before the panic: stty sets the
	# console's own settings again, which waits until the line has sent
	# what it holds (TCSADRAIN), for at most 2 s
	_tty=$(stty -g 2>/dev/null) && timeout 2 stty "$_tty" 2>/dev/null
	exit 1
}

# jitter MS: sets _jitter to a random 0..MS from /dev/urandom (busybox
# and dash have no $RANDOM), 0 when it cannot be read.
jitter() {
	_jitter=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null)
	_jitter=${_jitter##* }
	case $_jitter in
	'' | *[!0-9]*) _jitter=0 ;;
	esac
	_jitter=$((_jitter % ($1 + 1)))
}

# Where a step's reason goes (a test may move it): in the initramfs's own
# /tmp, which goes with it, not in /run, which the root takes over.
STEP_OUT=/tmp/nbdroot-step.out

# retry STEP COMMAND...: runs COMMAND in this shell (so it may set
# variables) until it succeeds or the boot's retry budget is spent, with
# backoff 1, 2, 4, 8 s, each plus a random 0..half of it, so that a room
# of clients that failed together does not retry in step; no wait
# reaches past the budget. COMMAND prints its reason on stdout.
retry() {
	_step=$1
	shift
	_wait=1
	while :; do
		if "$@" >"$STEP_OUT"; then
			# most steps say nothing when they succeed: no cat then
			[ -s "$STEP_OUT" ] || return 0
			_out=$(cat "$STEP_OUT")
			[ -z "$_out" ] || info "$_step: $_out"
			return 0
		fi
		_out=$(cat "$STEP_OUT")
		fail "$_step: ${_out:-failed}"
		uptime_ms
		_left=$((retry_deadline * 1000 - up_ms))
		if [ "$_left" -le 0 ]; then
			give_up "$_step"
			_wait=1
			continue
		fi
		jitter $((_wait * 500))
		_ms=$((_wait * 1000 + _jitter))
		[ "$_ms" -le "$_left" ] || _ms=$_left
		sleep "$((_ms / 1000)).$((_ms % 1000 / 100))$((_ms % 100 / 10))$((_ms % 10))"
		[ "$_wait" -ge 8 ] || _wait=$((_wait * 2))
	done
}

# Module options a modprobe.d would give: nbd must have partitions for
# root=/dev/nbd0pN and devices for swap (the defaults today; said here so
# a kernel with other defaults still boots). The kernel command line's
# nbd.PARAM=VALUE comes after them and wins (nbdroot-modload, modprobe).
# module_args NAME sets mod_args: a variable, not output, since a $(...)
# is a fork (7 ms under emulation) on every boot's path.
# shellcheck disable=SC2034 # read by modules.sh and the dracut hook
module_args() {
	case $1 in
	nbd) mod_args="nbds_max=16 max_part=16" ;;
	*) mod_args= ;;
	esac
}

# run_hooks STAGE: every executable in /lib/nbdroot/hooks/STAGE, in name
# order, with the state so far in the environment. A hook that fails is
# reported and the boot goes on: it is the user's step, not ours.
run_hooks() {
	for _h in /lib/nbdroot/hooks/"$1"/*; do
		if [ ! -f "$_h" ] || [ ! -x "$_h" ]; then
			continue
		fi
		NBDROOT_STAGE=$1 NBDROOT_ROOTMNT=$ROOTMNT \
		NBDROOT_DEVICE=$NBDDEV NBDROOT_ROOTDEV=$ROOTDEV "$_h"
		_rc=$?
		[ "$_rc" -eq 0 ] || fail "hook $1/${_h##*/}: exited with $_rc"
	done
}

# net_get VAR KEY: sets VAR to KEY's value from the /run/net-*.conf
# files (klibc's format; the first link that has it) without sourcing
# them: they hold strings a DHCP server chose (quoted as kv writes them,
# one line each). VAR is empty, and the
# status 1, when no file has KEY. Builtins only, no $(...): the boot's
# path asks for several keys.
net_get() {
	for _f in /run/net-*.conf; do
		[ -r "$_f" ] || continue
		while IFS='=' read -r _k _v; do
			[ "$_k" = "$2" ] || continue
			_v=${_v#\'}
			_v=${_v%\'}
			# each ' of the value was written '\'' (kv, dhcp-event)
			_r=
			while :; do
				case $_v in
				*"'\\''"*)
					_r="$_r${_v%%"'\\''"*}'"
					_v=${_v#*"'\\''"} ;;
				*)	break ;;
				esac
			done
			eval "$1=\$_r\$_v"
			return 0
		done <"$_f"
	done
	eval "$1="
	return 1
}

# net_conf KEY: the same, printed.
net_conf() {
	net_get _nc "$1" || return 1
	printf '%s\n' "$_nc"
}

# Without ip=, which address families can reach the root's servers: 4
# when the root needs DHCPv4 (root=dhcp, or no server on the boot line) or
# names IPv4 addresses only, 6 for bracketed IPv6 addresses only, else
# "any": DHCPv4 and IPv6 autoconfiguration race, the first address wins.
root_families() {
	if [ "$nr_root" = dhcp ] || [ -z "$nr_host" ]; then
		echo 4
		return
	fi
	_f=
	_hosts_ifs=$IFS
	IFS=,
	for _h in $nr_host; do
		_h=${_h%@*}
		case $_h in
		\[*)	_hf=6 ;;
		*)	_hf=any
			! nbdroot_is_ipv4 "$_h" || _hf=4 ;;
		esac
		[ -z "$_f" ] || [ "$_f" = "$_hf" ] || _hf=any
		_f=$_hf
	done
	IFS=$_hosts_ifs
	echo "${_f:-4}"
}

# True when a server of the root is a name (which needs name servers).
# (_hosts_ifs: nbdroot_is_ipv4 saves IFS in _ifs itself.)
root_has_name() {
	_hosts_ifs=$IFS
	IFS=,
	for _h in $nr_host; do
		_h=${_h%@*}
		case $_h in
		\[*)	;;
		*)	nbdroot_is_ipv4 "$_h" || { IFS=$_hosts_ifs; return 0; } ;;
		esac
	done
	IFS=$_hosts_ifs
	return 1
}

# ip= (parsed into nr_net and nr_ip_*), BOOTIF= to pick the link, else
# DHCP on every link at once; waits what is left of the retry budget.
network_up() {
	uptime_s
	_t=$((retry_deadline - up_s))
	[ "$_t" -gt 2 ] || _t=2
	[ "$nr_net" != off ] || return 0
	! net_configured || return 0
	if ! net_wait_links "$_t" "$nr_bootif"; then
		if [ -n "$nr_bootif" ]; then
			echo "no interface with BOOTIF's address $nr_bootif within ${_t}s (links: $(net_links | tr '\n' ' '))"
		else
			echo "no network interface appeared within ${_t}s (is its driver in the initrd?)"
		fi
		return 1
	fi
	stage_done link
	_dev=$nr_ip_dev
	[ -n "$_dev" ] || [ -z "$nr_bootif" ] || _dev=$(net_link_by_mac "$nr_bootif")
	if [ -n "$_dev" ] && [ ! -e "/sys/class/net/$_dev" ]; then
		echo "ip=: no interface \"$_dev\" (links: $(net_links | tr '\n' ' '))"
		return 1
	fi
	# shellcheck disable=SC2034 # net_dhcp (network.sh) reads it
	net_also6=
	case $nr_net in
	static)
		net_static "$nr_ip_addr" "$nr_ip_server" "$nr_ip_gw" \
			"$nr_ip_mask" "$nr_ip_host" "$_dev" "$nr_ip_dns0" \
			"$nr_ip_dns1" ;;
	static6)
		net_static6 "$nr_ip_addr" "$nr_ip_mask" "$nr_ip_gw" \
			"$nr_ip_host" "$_dev" "$nr_ip_dns0" "$nr_ip_dns1" \
			"$nr_ip_server" ;;
	dhcp6)
		# no reply: undescribed, so that the retry asks again
		net_dhcp6 "$_t" "$_dev" || {
			rm -f /run/net-*.conf
			return 1
		} ;;
	auto6)
		# shellcheck disable=SC2086 # no device: all links
		net_auto6 "$_t" $_dev || return 1
		# the router's and stateless DHCPv6's name servers, asked
		# briefly when a server name needs them
		! root_has_name || net_v6_configured 2 '' ;;
	*)
		_fam=4
		[ "$nr_net" != auto ] || _fam=$(root_families)
		# shellcheck disable=SC2086,SC2034 # no device: all links;
		# net_dhcp reads net_also6
		case $_fam in
		6)	net_auto6 "$_t" $_dev ;;
		any)	net_also6=1
			net_dhcp "$_t" $_dev || return 1
			# IPv6 won: name servers for a server name
			[ "$(net_conf PROTO)" != auto6 ] || ! root_has_name ||
				net_v6_configured 2 '' ;;
		*)	net_dhcp "$_t" $_dev ;;
		esac ;;
	esac || return 1
	stage_done lease
}

# root=dhcp: the root specification is DHCP option 17.
dhcp_root() {
	nbdroot_parse_rootpath "$(net_conf ROOTPATH)" && return 0
	echo "$nr_error"
	return 1
}

# server_of HOSTS: the server of a spec in sv_host: its host list, or the
# DHCP server when empty; else the reason, and 1.
server_of() {
	sv_host=$1
	[ -z "$sv_host" ] || return 0
	net_get sv_host ROOTSERVER
	[ -z "$sv_host" ] || [ "$sv_host" = 0.0.0.0 ] || return 0
	echo "no server named on the boot line, and DHCP named none"
	return 1
}

# expand_spec NAME HOSTS WHAT: the boot line's templates in an export name
# (${mac}, ${hostname}) filled in, in sp_expanded, and with several
# servers the client's -start, from the MAC (nbdroot(7): spreading), in
# sp_client_start; else the reason, and 1.
expand_spec() {
	net_get _ndev DEVICE
	net_boot_mac "$nr_bootif" "$_ndev"
	net_get _hn HOSTNAME
	[ -n "$_hn" ] || _hn=$nr_ip_host
	nbdroot_expand "$1" "$net_mac" "$_hn" "$3" || { echo "$nr_error"; return 1; }
	sp_client_start=
	nbdroot_count_hosts "$2"
	if [ "$sp_count" -gt 1 ] && nbdroot_spread "$net_mac" "$sp_count"; then
		sp_client_start="-start $sp_start"
	fi
}

# NBDOPTS from the boot line, as nbd-client options, in cl_opts.
client_options() {
	cl_opts=
	_ifs=$IFS
	IFS=,
	for _o in $nr_nbdopts; do
		case $_o in
		bs=*)		cl_opts="$cl_opts -b ${_o#bs=}" ;;
		timeout=*)	cl_opts="$cl_opts -t ${_o#timeout=}" ;;
		ro)		cl_opts="$cl_opts -R" ;;
		'')		;;
		*)		info "root: ignoring unknown nbd option \"$_o\"" ;;
		esac
	done
	IFS=$_ifs
	[ -z "$nr_timeout" ] || cl_opts="$cl_opts -T $nr_timeout"
	[ "$nr_conns" -le 1 ] || cl_opts="$cl_opts -C $nr_conns"
}

# The key file mkinitrd --tls-psk puts in the initrd (identity:hexkey).
TLS_PSK=/etc/nbdroot/tls.psk
# What kTLS with ChaCha20-Poly1305 needs, dependencies first: tls.ko asks
# for its cipher through a modprobe our initrd lacks. The x86-64 ciphers
# refuse to load on a CPU without SSSE3; the generic ones serve then.
TLS_MODULES="libchacha chacha_x86_64 chacha_generic libpoly1305
poly1305_x86_64 poly1305_generic chacha20poly1305 tls"

# True when the root and swaps go over TLS: a key in the initrd, and no
# nbdroot.tls=off.
tls_wanted() {
	[ "$nr_tls" != off ] && [ -e "$TLS_PSK" ]
}

# tls_modules: loads TLS_MODULES by name before the first attach: with
# modprobe where the initrd has modules.dep (dracut), else with insmod
# from the paths mkinitrd listed in nbdroot.order. A module that cannot
# load is reported; the client then fails closed with its own reason.
tls_modules() {
	tls_wanted || return 0
	_mdir=/lib/modules/$(uname -r)
	for _m in $TLS_MODULES; do
		[ ! -d "/sys/module/$_m" ] || continue
		if [ -r "$_mdir/modules.dep" ]; then
			modprobe "$_m" 2>/dev/null
			continue
		fi
		_ko=
		while read -r _l; do
			_b=${_l##*/}
			[ "$(echo "${_b%.ko}" | tr - _)" != "$_m" ] || _ko=$_l
		done <"$_mdir/nbdroot.order"
		[ -n "$_ko" ] || continue
		_err=$(insmod "$_mdir/$_ko" 2>&1) || case $_err in
			*exists* | *'No such device'*) ;;
			*) fail "modules: $_ko: $_err" ;;
		esac
	done
}

# The client's TLS options, in tls_opts: the initrd's key, for every export;
# the client refuses plaintext once given a key. A boot line that names an
# identity for an initrd without a key is an error, not a plaintext boot.
tls_options() {
	tls_opts=
	if tls_wanted; then
		tls_opts="-tls-psk $TLS_PSK${nr_tls_identity:+ -tls-identity $nr_tls_identity}"
	elif [ "$nr_tls" != off ] && [ -n "$nr_tls_identity" ]; then
		echo "nbdroot.tls.identity=$nr_tls_identity: this initrd holds no key ($TLS_PSK; mkinitrd --tls-psk)"
		return 1
	fi
}

# nbd_attach DEVICE HOST PORT NAME [OPTIONS...]: the client, over TLS when
# the initrd holds a key; one that must outlive the initrd is given -p
# (reconnect) and -m (the '@' mark systemd spares at shutdown) by the
# caller.
nbd_attach() {
	_dev=$1 _h=$2 _p=$3 _n=$4
	shift 4
	tls_options || return 1
	# to a file, not a pipe: a client that stays behind as a daemon
	# would hold a pipe open and hang the reader
	# shellcheck disable=SC2086 # the TLS options are words
	nbd-client "$_h" "$_p" "$_dev" -N "$_n" "$@" $tls_opts \
		</dev/null >/run/nbdroot/client.out 2>&1 && return 0
	_out=$(cat /run/nbdroot/client.out)
	echo "${_out#nbd-client: }"
	return 1
}

# Sets root_host, the server list the root came from.
attach_root() {
	server_of "$nr_host" || return 1
	root_host=$sv_host
	[ ! -e "/sys/block/nbd$nr_dev/pid" ] || return 0
	_mode="-p -m"
	# to RAM: detached after the copy, nothing to keep alive
	[ -z "$nr_toram" ] || _mode=
	# overlay: many clients share the export; none may write to it
	[ -z "$nr_overlay" ] || _mode="$_mode -R"
	expand_spec "$nr_name" "$root_host" "root=$nr_root" || return 1
	nr_name=$sp_expanded
	stage_done connect
	client_options
	# shellcheck disable=SC2086 # the options are words by design
	nbd_attach "$NBDDEV" "$root_host" "$nr_port" "$nr_name" $_mode \
		$sp_client_start $cl_opts
}

# Without udev nothing waits for the partition nodes: the client re-read
# the table (BLKRRPART) after attaching; wait a bounded 5 s for the node,
# asking once more half way.
wait_partition() {
	_i=0
	while [ ! -b "$ROOTDEV" ]; do
		if [ "$_i" -ge 50 ]; then
			_have=
			for _p in /sys/block/nbd"$nr_dev"/nbd"$nr_dev"p*; do
				[ ! -e "$_p" ] || _have="$_have ${_p##*/}"
			done
			echo "$ROOTDEV did not appear within 5s (the export's partitions:${_have:- none})"
			return 1
		fi
		[ "$_i" -ne 25 ] || blockdev --rereadpt "$NBDDEV" 2>/dev/null
		sleep 0.1
		_i=$((_i + 1))
	done
}

# nbdroot.swap=: /dev/nbd1 and up (skipping the root's), in swap mode;
# mkswap when the export has no swap signature yet, then swapon.
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

swap_one() {
	_sdev=$1
	! grep -q "^$_sdev " /proc/swaps || return 0
	nbdroot_parse_nbd "$2" "nbdroot.swap=$2" || { echo "$nr_error"; return 1; }
	server_of "$sp_host" || return 1
	_host=$sv_host
	if [ ! -e "/sys/block/${_sdev#/dev/}/pid" ]; then
		_sport=$sp_port
		expand_spec "$sp_name" "$_host" "nbdroot.swap=$2" || return 1
		# shellcheck disable=SC2086 # -start N is two words
		nbd_attach "$_sdev" "$_host" "$_sport" "$sp_expanded" -s -p -m \
			$sp_client_start || return 1
	fi
	_sig=$(dd if="$_sdev" bs=4096 count=1 2>/dev/null | tail -c 10)
	if [ "$_sig" != SWAPSPACE2 ]; then
		_err=$(mkswap "$_sdev" 2>&1) || { echo "mkswap $_sdev: $_err"; return 1; }
	fi
	_err=$(swapon "$_sdev" 2>&1) || { echo "swapon $_sdev: $_err"; return 1; }
}

# MemAvailable in KiB.
mem_available() {
	while read -r _k _v _unit; do
		[ "$_k" != MemAvailable: ] || { echo "$_v"; return 0; }
	done </proc/meminfo
	echo 0
}

# nbdroot.toram: the root device copied into a tmpfs under /run (which
# the real root inherits), the export detached, the copy loop-mounted.
copy_to_ram() {
	_blk=/sys/class/block/${ROOTDEV#/dev/}
	_kib=$(($(cat "$_blk/size") / 2))
	_free=$(mem_available)
	# keep 64 MiB for the system that boots from the copy
	if [ $((_kib + 65536)) -gt "$_free" ]; then
		echo "$ROOTDEV is $((_kib / 1024)) MiB; $((_free / 1024)) MiB of RAM available (64 MiB must stay free)"
		return 1
	fi
	mkdir -p /run/nbdroot/ram
	if ! is_mounted /run/nbdroot/ram; then
		_err=$(mount -t tmpfs -o "size=$((_kib + 1024))k,mode=0700" \
			nbdroot-ram /run/nbdroot/ram 2>&1) ||
			{ echo "tmpfs on /run/nbdroot/ram: $_err"; return 1; }
	fi
	info "toram: copying $((_kib / 1024)) MiB from $ROOTDEV"
	if ! dd if="$ROOTDEV" of=/run/nbdroot/ram/root.img bs=1M 2>/tmp/nbdroot-dd.err; then
		echo "copy of $ROOTDEV failed: $(tail -n 1 /tmp/nbdroot-dd.err)"
		return 1
	fi
	_err=$(nbd-client -d "$NBDDEV" 2>&1) || { echo "detach $NBDDEV: $_err"; return 1; }
	mod_need loop
	_loop=$(losetup -f 2>&1) || { echo "losetup: $_loop"; return 1; }
	_err=$(losetup "$_loop" /run/nbdroot/ram/root.img 2>&1) ||
		{ echo "losetup $_loop: $_err"; return 1; }
	ROOTDEV=$_loop
}

# mount_root: ROOTDEV on ROOTMNT, or, with nbdroot.overlay=tmpfs, on the
# lower layer of an overlay whose upper layer is a tmpfs.
mount_root() {
	! is_mounted "$ROOTMNT" || return 0
	_o=${nr_ro:-rw}
	_dst=$ROOTMNT
	if [ -n "$nr_overlay" ]; then
		_o=ro
		_dst=/run/nbdroot/lower
		mkdir -p "$_dst"
	fi
	[ -z "$nr_flags" ] || _o="$nr_flags,$_o"
	if ! is_mounted "$_dst"; then
		mount_dev "$_o" "$_dst" || {
			mount_failed "$_dst" "${_err#mount: }"
			return 1
		}
	fi
	[ -n "$nr_overlay" ] || return 0
	mount_overlay "$_dst"
}

# mount_dev OPTIONS DST: ROOTDEV on DST, or the error in _err. A
# filesystem whose module the initrd holds but left for when it is needed
# (squashfs: mod_need) is loaded on the first failure, and the mount is
# tried again; the common root pays no probe.
mount_dev() {
	_err=$(mount ${nr_fstype:+-t "$nr_fstype"} -o "$1" "$ROOTDEV" "$2" 2>&1) &&
		return 0
	_fs=$(fs_probe "$ROOTDEV") || return 1
	! grep -q "[[:space:]]$_fs\$" /proc/filesystems || return 1
	mod_need "$(fs_module "$_fs")"
	_err=$(mount ${nr_fstype:+-t "$nr_fstype"} -o "$1" "$ROOTDEV" "$2" 2>&1)
}

# mount_failed DST ERROR: why ROOTDEV did not mount, from its superblock
# (fstype.sh): a filesystem whose module this initrd lacks is named, with
# the rebuild that adds it; bytes no probe knows are shown.
mount_failed() {
	if _fs=$(fs_probe "$ROOTDEV"); then
		if ! fs_known "$_fs"; then
			_m=$(fs_module "$_fs")
			echo "$ROOTDEV holds $_fs, and this initrd has no $_m module: rebuild with ${rebuild_hint:-make initrd MODULES=default,}$_m"
			return
		fi
		echo "mount $ROOTDEV on $1: $2"
		return
	fi
	echo "mount $ROOTDEV on $1: $2 ($ROOTDEV holds no filesystem this initrd knows; first bytes: $(fs_bytes "$ROOTDEV" 0 16))"
}

# mount_overlay LOWER: the upper layer holds every write of this boot, in
# RAM, gone at reboot.
mount_overlay() {
	_rw=/run/nbdroot/rw
	mkdir -p "$_rw"
	if ! is_mounted "$_rw"; then
		_err=$(mount -t tmpfs -o mode=0755 nbdroot-rw "$_rw" 2>&1) ||
			{ echo "tmpfs on $_rw: $_err"; return 1; }
	fi
	mkdir -p "$_rw/upper" "$_rw/work"
	mod_need overlay
	_err=$(mount -t overlay -o "lowerdir=$1,upperdir=$_rw/upper,workdir=$_rw/work" \
		nbdroot "$ROOTMNT" 2>&1) || {
		echo "overlay on $ROOTMNT: ${_err#mount: }"
		return 1
	}
	[ "$nr_ro" != ro ] || mount -o remount,ro "$ROOTMNT"
}

# busybox here has no mountpoint(1); builtins only (the boot's path
# asks twice). /proc/mounts escapes blanks in a mount point as \040.
is_mounted() {
	while read -r _mdev _mdir _mrest; do
		[ "$_mdir" != "$1" ] || return 0
	done </proc/mounts
	return 1
}

check_init() {
	if [ ! -e "$ROOTMNT$nr_init" ] && [ ! -L "$ROOTMNT$nr_init" ]; then
		echo "$nr_init not found on $ROOTDEV"
		return 1
	fi
}

# For the real root: what was attached, how, and the network (the
# /run/net-*.conf files are klibc's format; resolv.conf is a copy).
save_state() {
	_mode=direct
	[ -z "$nr_toram" ] || _mode=toram
	[ -z "$nr_overlay" ] || _mode=overlay
	# the copy in RAM has no client behind it
	_persist=yes
	[ "$_mode" != toram ] || _persist=no
	# kv (quote.sh): builtins, no fork on the boot's path
	{
		kv NBDROOT_DEVICE "$NBDDEV"
		kv NBDROOT_ROOTDEV "$ROOTDEV"
		kv NBDROOT_PARTITION "$nr_part"
		kv NBDROOT_HOST "$root_host"
		kv NBDROOT_PORT "$nr_port"
		kv NBDROOT_NAME "$nr_name"
		kv NBDROOT_MODE "$_mode"
		kv NBDROOT_PERSIST "$_persist"
	} >/run/nbdroot/root.conf
	# a copy by builtins, not cp: a fork on every boot's path
	[ ! -s /etc/resolv.conf ] ||
		while IFS= read -r _l || [ -n "$_l" ]; do
			printf '%s\n' "$_l"
		done </etc/resolv.conf >/run/nbdroot/resolv.conf
}

# attach_and_mount: from the network to the mounted root, with the hooks
# of each stage, as both initrds run it.
attach_and_mount() {
	run_hooks pre-network
	retry network network_up
	if [ "$nr_net" != off ]; then
		net_get _ndev DEVICE
		net_get _n4 IPV4ADDR
		net_get _n6 IPV6ADDR
		net_get _nproto PROTO
		info "network: $_ndev $_n4$_n6 ($_nproto)"
	fi
	[ "$nr_root" != dhcp ] || retry root-path dhcp_root
	ROOTDEV=$NBDDEV${nr_part:+p$nr_part}
	run_hooks pre-attach
	tls_modules
	retry attach attach_root
	stage_done attach
	info "attached $NBDDEV from $root_host:$nr_port \"$nr_name\""
	[ -z "$nr_part" ] || retry partition wait_partition
	attach_swaps
	[ -z "$nr_toram" ] || retry toram copy_to_ram
	run_hooks pre-mount
	retry mount mount_root
	stage_done mount
	retry init check_init
	save_state
}
