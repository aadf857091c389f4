#!/bin/bash
# dracut module "nbdroot": nbdroot's boot line (nbdroot(7)), static
# nbd-client and network bring-up in a dracut-built initrd:
#   dracut --add nbdroot --omit nbd [--no-hostonly] ...
# It needs dracut's systemd initrd. Installed by nbdroot's "make install",
# which puts the boot-line parser, the network and attach steps (installed
# copies of initramfs/lib, the ones our own init runs) in lib/ next to
# this file and the client's path in nbdroot.paths.

# shellcheck disable=SC2154 # moddir, systemdutildir...: dracut's

# The TLS key this initrd carries: nbdroot_tls_psk=FILE in a dracut
# configuration file, else this host's /etc/nbdroot/tls.psk when it has
# one; none, plaintext.
nbdroot_key() {
	if [ -n "${nbdroot_tls_psk:-}" ]; then
		echo "$nbdroot_tls_psk"
	elif [ -e /etc/nbdroot/tls.psk ]; then
		echo /etc/nbdroot/tls.psk
	fi
}

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
	[ -n "$(nbdroot_key)" ] || return 0
	# kTLS with ChaCha20-Poly1305, loaded or not on this host; the x86
	# ciphers exist only there
	hostonly='' instmods -c tls chacha20poly1305 chacha_generic poly1305_generic
	hostonly='' instmods chacha_x86_64 poly1305_x86_64
}

# nbdroot_fatal MESSAGE: the build stops here. dracut goes on when a
# module's install() fails, and would write an initrd that cannot boot;
# its own modules (systemd, udev-rules) exit too.
nbdroot_fatal() {
	dfatal "nbdroot: $*"
	exit 1
}

# nbdroot_install_key: the key file as /etc/nbdroot/tls.psk, mode 0600,
# once every line is "identity:hexkey" (nbd-client -tls-psk's format).
nbdroot_install_key() {
	local key bad
	key=$(nbdroot_key)
	[ -n "$key" ] || return 0
	[ -r "$key" ] || nbdroot_fatal "TLS key $key: cannot read it (nbdroot_tls_psk=)"
	bad=$(awk '!/^[^:]+:([0-9A-Fa-f][0-9A-Fa-f])+\r?$/ && NF { print NR; exit }' "$key")
	[ -z "$bad" ] || nbdroot_fatal "TLS key $key:$bad: not an identity:hexkey line"
	grep -q . "$key" || nbdroot_fatal "TLS key $key holds no key"
	inst_simple "$key" /etc/nbdroot/tls.psk
	chmod 600 "$initdir/etc/nbdroot/tls.psk"
}

# called by dracut
install() {
	local nbdroot_client='' nbdroot_dhcp_event='' nbdroot_dhcp4='' busybox
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
	# ip=dhcp6 (DHCPv6 address, name servers, boot-file URL) and the
	# router's name servers for ip=auto6
	[ ! -x "${nbdroot_dhcp6:-}" ] || inst "$nbdroot_dhcp6" /usr/sbin/nbdroot-dhcp6
	# the DHCPv4 client (udhcpc where an older install names none)
	[ ! -x "${nbdroot_dhcp4:-}" ] || inst "$nbdroot_dhcp4" /usr/sbin/nbdroot-dhcp4
	# udhcpc only: dracut's own tools stay first in PATH
	inst "$busybox" /usr/lib/nbdroot/busybox
	inst_dir /usr/lib/nbdroot/bin
	ln_r /usr/lib/nbdroot/busybox /usr/lib/nbdroot/bin/udhcpc
	inst_multiple ip hostname sleep cat sed mv rm mkdir tr head cp modprobe \
		blockdev grep dd od find uname tail mkswap swapon losetup mount
	inst_simple "$moddir/lib/cmdline.sh" /lib/nbdroot/cmdline.sh
	inst_simple "$moddir/lib/fstype.sh" /lib/nbdroot/fstype.sh
	inst_simple "$moddir/lib/network.sh" /lib/nbdroot/network.sh
	inst_simple "$moddir/lib/attach.sh" /lib/nbdroot/attach.sh
	inst_simple "$moddir/lib/quote.sh" /lib/nbdroot/quote.sh
	[ -x "${nbdroot_dhcp_event:-}" ] ||
		nbdroot_fatal "no nbdroot-dhcp-event at ${nbdroot_dhcp_event:-(not in $moddir/nbdroot.paths)} (make install)"
	inst "$nbdroot_dhcp_event" /lib/nbdroot/dhcp-event
	inst_script "$moddir/nbdroot-attach.sh" /usr/lib/nbdroot/attach
	inst_simple "$moddir/nbdroot.service" "$systemdsystemunitdir/nbdroot.service"
	inst_script "$moddir/nbdroot-generator.sh" \
		"$systemdutildir/system-generators/nbdroot-generator"
	inst_hook cmdline 90 "$moddir/nbdroot-cmdline.sh"
	inst_hook shutdown 90 "$moddir/nbdroot-shutdown.sh"
	nbdroot_install_key
}
