#!/bin/bash
# dracut module "nbdroot": nbdroot's boot line (nbdroot(7)), static
# nbd-client and network bring-up in a dracut-built initrd:
#   dracut --add nbdroot --omit nbd [--no-hostonly] ...
# It needs dracut's systemd initrd. Installed by nbdroot's "make install",
# which puts the boot-line parser and the network library (installed
# copies of initramfs/lib) in lib/ next to this file and the client's
# path in nbdroot.paths.

# shellcheck disable=SC2154 # moddir, systemdutildir...: dracut's

# called by dracut: only when asked for (--add nbdroot)
check() {
	[ -r "$moddir/nbdroot.paths" ] || return 1
	return 255
}

# called by dracut
depends() {
	echo systemd-initrd kernel-network-modules
}

# called by dracut
installkernel() {
	instmods nbd ext4 squashfs overlay
}

# called by dracut
install() {
	local nbdroot_client='' busybox
	# shellcheck source=/dev/null # written by make install
	. "$moddir/nbdroot.paths"
	if dracut_module_included nbd; then
		dfatal "nbdroot: dracut's nbd module handles root=nbd: too; build with --omit nbd"
		return 1
	fi
	[ -x "$nbdroot_client" ] || {
		dfatal "nbdroot: no nbd-client at $nbdroot_client (make install)"
		return 1
	}
	busybox=$(command -v busybox) || {
		dfatal "nbdroot: busybox is needed for its DHCP client (udhcpc)"
		return 1
	}
	inst "$nbdroot_client" /usr/sbin/nbd-client
	# udhcpc only: dracut's own tools stay first in PATH
	inst "$busybox" /usr/lib/nbdroot/busybox
	inst_dir /usr/lib/nbdroot/bin
	ln_r /usr/lib/nbdroot/busybox /usr/lib/nbdroot/bin/udhcpc
	inst_multiple ip hostname sleep cat sed mv rm mkdir tr modprobe blockdev \
		grep dd tail mkswap swapon
	inst_simple "$moddir/lib/cmdline.sh" /lib/nbdroot/cmdline.sh
	inst_simple "$moddir/lib/network.sh" /lib/nbdroot/network.sh
	inst_script "$moddir/lib/dhcp-event" /lib/nbdroot/dhcp-event
	inst_script "$moddir/nbdroot-attach.sh" /usr/lib/nbdroot/attach
	inst_simple "$moddir/nbdroot.service" "$systemdsystemunitdir/nbdroot.service"
	inst_script "$moddir/nbdroot-generator.sh" \
		"$systemdutildir/system-generators/nbdroot-generator"
	inst_hook cmdline 90 "$moddir/nbdroot-cmdline.sh"
	inst_hook shutdown 90 "$moddir/nbdroot-shutdown.sh"
}
