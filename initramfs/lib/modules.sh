# shellcheck shell=sh
# Kernel modules for the nbdroot init. mkinitrd lists every module in
# load order (dependencies first) in nbdroot.order. Drivers for devices on
# the PCI and virtio buses (the NIC drivers) load only when this machine
# has a device they drive: mkinitrd writes their aliases from the kernel's
# modules.alias into nbdroot.alias ("NAME PREFIX REGEX": the glob as an
# anchored regex, and its literal start for a cheap first test) and the
# modules each pulls in beyond those every boot loads into
# nbdroot.ondemand ("NAME PATH..."); the devices' modalias files in sysfs
# are matched against them. Loading a driver makes its devices' children
# appear (virtio_pci: the virtio devices virtio_net drives), so the match
# is redone while new devices appear. nbdroot-modload loads each pass's
# modules in one exec, with module_args's options and the kernel command
# line's NAME.PARAM=VALUE.
#
# The caller provides module_args, info() and fail().

# another root for the host unit tests only
MOD_SYS=${NBDROOT_SYS:-/sys}
MOD_DIR=${NBDROOT_MODDIR:-}
if [ -z "$MOD_DIR" ]; then
	# uname -r without its fork: this runs on every boot
	read -r MOD_DIR </proc/sys/kernel/osrelease
	MOD_DIR=/lib/modules/$MOD_DIR
fi
MOD_SEL=${NBDROOT_RUN:-/run/nbdroot}/modules.sel

# The modalias files of the PCI and virtio devices, space separated (sysfs
# paths hold no blanks).
mod_devices() {
	_devs=
	for _f in "$MOD_SYS"/bus/pci/devices/*/modalias \
	    "$MOD_SYS"/bus/virtio/devices/*/modalias; do
		[ ! -r "$_f" ] || _devs="$_devs $_f"
	done
	echo "$_devs"
}

# mod_select DEVICES: what to load for these modalias files, one line
# each: "load PATH" in nbdroot.order's order (every module that is not
# a bus driver, and the drivers matched with what they pull in), "driver
# NAME" for each driver matched, "nodriver DEVICE MODALIAS" for a PCI
# network controller (class 02) that no driver in the initrd matched.
mod_select() {
	awk -v devs="$1" '
	BEGIN {
		ndev = split(devs, file, " ")
		for (i = 1; i <= ndev; i++) {
			dev[i] = ""
			if ((getline dev[i] < file[i]) <= 0)
				dev[i] = ""
			close(file[i])
		}
	}
	FILENAME == ARGV[1] {
		for (i = 1; i <= ndev; i++) {
			if (index(dev[i], $2) != 1 || dev[i] !~ $3)
				continue
			claimed[i] = 1
			if (!($1 in want))
				print "driver", $1
			want[$1] = 1
		}
		next
	}
	FILENAME == ARGV[2] {
		for (k = 2; k <= NF; k++) {
			ondemand[$k] = 1
			if ($1 in want)
				need[$k] = 1
		}
		next
	}
	NF && (!($1 in ondemand) || ($1 in need)) { print "load", $1 }
	END {
		for (i = 1; i <= ndev; i++) {
			if ((i in claimed) || dev[i] !~ /^pci:.*bc02/)
				continue
			d = file[i]
			sub(/\/modalias$/, "", d)
			sub(/.*\//, "", d)
			print "nodriver", d, dev[i]
		}
	}' "$MOD_DIR/nbdroot.alias" "$MOD_DIR/nbdroot.ondemand" \
		"$MOD_DIR/nbdroot.order"
}

# mod_load PATH...: these modules of nbdroot.order, in this order, in
# one exec; one loaded already, or for hardware this machine lacks, is
# skipped by the tool. The tool stops at a module that fails ("PATH:
# reason"): that is reported, and the ones after it still load.
mod_load() {
	# nbd's options, asked once per boot: each $(...) is a fork
	[ -n "${_mod_nbd_opts:-}" ] || _mod_nbd_opts=$(module_args nbd)
	while [ "$#" -gt 0 ]; do
		_err=$(nbdroot-modload -d "$MOD_DIR" \
			-o "nbd $_mod_nbd_opts" "$@" 2>&1) && return 0
		_err=${_err#nbdroot-modload: }
		fail "modules: $_err"
		while [ "$#" -gt 0 ] && [ "$1" != "${_err%%: *}" ]; do
			shift
		done
		[ "$#" -eq 0 ] || shift
	done
}

# mod_need NAME: a module mkinitrd left for when it is needed (a squashfs
# root, nbdroot.overlay=, nbdroot.toram), with what it pulls in; nothing
# for a module the boot loaded already, or one this initrd lacks (the
# step that needed it then says what failed).
mod_need() {
	[ -r "$MOD_DIR/nbdroot.ondemand" ] || return 0
	while read -r _n _paths; do
		[ "$_n" = "$1" ] || continue
		# shellcheck disable=SC2086 # the paths are words
		mod_load $_paths
		return 0
	done <"$MOD_DIR/nbdroot.ondemand"
}

# mod_bound DEVICE: whether a driver has bound PCI DEVICE already (one
# built into the kernel).
mod_bound() {
	[ -e "$MOD_SYS/bus/pci/devices/$1/driver" ]
}

# mod_unbound_nics: names each PCI network controller (class 02) no driver
# has bound, when the initrd holds no module at all: its driver is then
# not built into this kernel either. Builtins only: no fork.
mod_unbound_nics() {
	for _d in "$MOD_SYS"/bus/pci/devices/*; do
		[ -r "$_d/class" ] && ! mod_bound "${_d##*/}" || continue
		read -r _c <"$_d/class"
		case $_c in 0x02*) ;; *) continue ;; esac
		read -r _m <"$_d/modalias" 2>/dev/null || _m=unknown
		fail "modules: no driver in this kernel for network controller ${_d##*/} ($_m), and this initrd holds no modules"
	done
}

# load_modules: every module of nbdroot.order this machine needs; says
# which bus drivers its devices took, and names a network controller that
# none of them drives (and no driver built into the kernel has bound). An
# initrd without nbdroot.alias (built before it) loads every module, as
# it was built to; one without modules (mkinitrd --modules none, for a
# kernel with its drivers built in) only looks for a controller without
# a driver.
load_modules() {
	[ -r "$MOD_DIR/nbdroot.order" ] || return 0
	if [ ! -s "$MOD_DIR/nbdroot.order" ]; then
		info "modules: none in this initrd (the kernel's own drivers)"
		mod_unbound_nics
		return 0
	fi
	if [ ! -r "$MOD_DIR/nbdroot.alias" ] ||
	    [ ! -r "$MOD_DIR/nbdroot.ondemand" ]; then
		# shellcheck disable=SC2046 # module paths hold no blanks
		mod_load $(cat "$MOD_DIR/nbdroot.order")
		return 0
	fi
	_tried=' ' _drivers='' _devs='' _pass=0
	# a driver's probe adds its children before insmod returns; a
	# pass that adds no device cannot select anything new
	while [ "$_pass" -lt 4 ]; do
		_now=$(mod_devices)
		[ "$_pass" -eq 0 ] || [ "$_now" != "$_devs" ] || break
		_devs=$_now _pass=$((_pass + 1))
		mod_select "$_devs" >"$MOD_SEL"
		_load=
		while read -r _what _a _b; do
			case $_what in
			load)
				case $_tried in *" $_a "*) continue ;; esac
				_tried="$_tried$_a "
				_load="$_load $_a" ;;
			driver)
				case " $_drivers " in *" $_a "*) ;;
				*) _drivers="${_drivers:+$_drivers }$_a" ;;
				esac ;;
			esac
		done <"$MOD_SEL"
		# shellcheck disable=SC2086 # module paths hold no blanks
		mod_load $_load
	done
	info "modules: drivers for this machine's devices: ${_drivers:-none}"
	while read -r _what _a _b; do
		[ "$_what" != nodriver ] || mod_bound "$_a" ||
			fail "modules: no driver in this initrd for network controller $_a ($_b)"
	done <"$MOD_SEL"
	rm -f "$MOD_SEL"
}
