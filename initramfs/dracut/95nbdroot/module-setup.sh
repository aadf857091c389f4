#!/bin/bash
# dracut module "nbdroot": nbdroot's boot line (nbdroot(7)), static
# nbd-client and network bring-up in a dracut-built initrd:
#   dracut --add nbdroot --omit nbd [--no-hostonly] ...
# It needs dracut's systemd initrd. Installed by nbdroot's "make install",
# which puts the boot-line parser, the network and attach steps (installed
# copies of initramfs/lib, the ones our own init runs) in lib/ next to
# this file and the client's path in nbdroot.paths.

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
	instmods nbd ext4 squashfs overlay loop
}

# nbdroot_fatal MESSAGE: the build stops here. dracut goes on when a
# module's install() fails, and would write an initrd that cannot boot;
# its own modules (systemd, udev-rules) exit too.
nbdroot_fatal() {
	dfatal "nbdroot: $*"
	exit 1
}

# called by dracut
install() {
	local nbdroot_client='' busybox
	# shellcheck source=/dev/null # written by make install
	. "$moddir/nbdroot.paths"
	# both would take root=nbd: (theirs with their network stack and
	# their client's options): an initrd with both cannot boot
	if dracut_module_included nbd; then
		nbdroot_fatal "dracut's own nbd module is in this initrd too, and both would attach root=nbd:; add --omit nbd (dracut --add nbdroot --omit nbd ...)"
	fi
	[ -x "$nbdroot_client" ] ||
		nbdroot_fatal "no nbd-client at $nbdroot_client (make install)"
	busybox=$(command -v busybox) ||
		nbdroot_fatal "busybox is needed for its DHCP client, udhcpc (apt-get install busybox)"
	inst "$nbdroot_client" /usr/sbin/nbd-client
	# udhcpc only: dracut's own tools stay first in PATH
	inst "$busybox" /usr/lib/nbdroot/busybox
	inst_dir /usr/lib/nbdroot/bin
	ln_r /usr/lib/nbdroot/busybox /usr/lib/nbdroot/bin/udhcpc
	inst_multiple ip hostname sleep cat sed mv rm mkdir tr head cp modprobe \
		blockdev grep dd tail mkswap swapon losetup mount
	inst_simple "$moddir/lib/cmdline.sh" /lib/nbdroot/cmdline.sh
	inst_simple "$moddir/lib/network.sh" /lib/nbdroot/network.sh
	inst_simple "$moddir/lib/attach.sh" /lib/nbdroot/attach.sh
	inst_script "$moddir/lib/dhcp-event" /lib/nbdroot/dhcp-event
	inst_script "$moddir/nbdroot-attach.sh" /usr/lib/nbdroot/attach
	inst_simple "$moddir/nbdroot.service" "$systemdsystemunitdir/nbdroot.service"
	inst_script "$moddir/nbdroot-generator.sh" \
		"$systemdutildir/system-generators/nbdroot-generator"
	inst_hook cmdline 90 "$moddir/nbdroot-cmdline.sh"
	inst_hook shutdown 90 "$moddir/nbdroot-shutdown.sh"
}
