# shellcheck shell=sh
# Kernel modules for the nbdroot init. mkinitrd lists every module in
# load order (dependencies first) in nbdroot.order. Drivers for devices on
# the PCI and virtio buses (the NIC drivers) load only when this machine
# has a device they drive: mkinitrd writes their aliases from the kernel's
# modules.alias into nbdroot.alias ("NAME GLOB") and the modules each
# pulls in beyond those every boot loads into nbdroot.ondemand ("NAME
# PATH..."). nbdroot-modload -a matches the devices' modalias files in
# sysfs against them and loads what matched, in one exec for the whole
# boot (again while a driver's probe adds devices: virtio_pci's adds the
# virtio devices virtio_net drives), with module_args's options and the
# kernel command line's NAME.PARAM=VALUE.
#
# The caller provides module_args (which sets mod_args), info() and fail().
# shellcheck disable=SC2154 # mod_args is module_args's

# another root for the host unit tests only
MOD_SYS=${NBDROOT_SYS:-/sys}
MOD_DIR=${NBDROOT_MODDIR:-}
if [ -z "$MOD_DIR" ]; then
	# uname -r without its fork: this runs on every boot
	read -r MOD_DIR </proc/sys/kernel/osrelease
	MOD_DIR=/lib/modules/$MOD_DIR
fi
MOD_SEL=${NBDROOT_RUN:-/run/nbdroot}/modules.sel

# mod_load PATH...: these modules of nbdroot.order, in this order, in
# one exec; one loaded already, or for hardware this machine lacks, is
# skipped by the tool. The tool stops at a module that fails ("PATH:
# reason"): that is reported, and the ones after it still load.
mod_load() {
	# nbd's options, asked once per boot
	[ -n "${_mod_nbd_opts:-}" ] || { module_args nbd; _mod_nbd_opts=$mod_args; }
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

# load_modules: every module of nbdroot.order this machine needs;
# says which bus drivers its devices took, and names a network
# controller that none of them drives (and no driver built into the
# kernel has bound). An initrd without nbdroot.alias (built before it)
# loads every module, as it was built to; one without modules (mkinitrd
# --modules none, for a kernel with its drivers built in) only looks for
# a controller without a driver.
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
	[ -n "${_mod_nbd_opts:-}" ] || { module_args nbd; _mod_nbd_opts=$mod_args; }
	nbdroot-modload -a -d "$MOD_DIR" -s "$MOD_SYS" \
		-o "nbd $_mod_nbd_opts" >"$MOD_SEL" 2>&1
	_rc=$? _drivers='' _said=''
	while read -r _line; do
		case $_line in
		"driver "*)
			_drivers="${_drivers:+$_drivers }${_line#driver }" ;;
		"nbdroot-modload: "*)
			_said=1
			fail "modules: ${_line#nbdroot-modload: }" ;;
		esac
	done <"$MOD_SEL"
	if [ "$_rc" -ne 0 ] && [ -z "$_said" ]; then
		read -r _line <"$MOD_SEL" || _line='no message'
		fail "modules: nbdroot-modload exited with $_rc: $_line"
	fi
	info "modules: drivers for this machine's devices: ${_drivers:-none}"
	while read -r _what _a _b; do
		[ "$_what" != nodriver ] ||
			fail "modules: no driver in this initrd for network controller $_a ($_b)"
	done <"$MOD_SEL"
	# left for the real root to read (nbdroot(7)): an rm is an exec
}
