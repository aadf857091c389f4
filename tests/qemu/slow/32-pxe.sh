#!/bin/bash
# PXE: a VM with no kernel and no disk boots from its NIC (QEMU's iPXE
# ROM) off a TFTP tree written by scripts/mkpxe, once through boot.ipxe
# and once through pxelinux.0 and pxelinux.cfg/default, into our initrd
# and onto the NBD root. Evidence: the kernel's command line carries the
# boot line mkpxe wrote and the BOOTIF of the VM's NIC (iPXE's
# ${netX/mac:hexhyp}, pxelinux's IPAPPEND 2), and the guest's root check
# passes. dnsmasq checks the syntax of the example configuration.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/qemu/efi-virtio.rom ] || [ -r /usr/lib/ipxe/qemu/efi-virtio.rom ] ||
	fail "QEMU's NIC boot ROMs are missing (package ipxe-qemu; run scripts/deps)"
img=$(test_image root)
start_server ours "$img"
mac=52:54:00:12:34:56
bootif=01-52-54-00-12-34-56
"$top/scripts/mkpxe" --out "$work/tftp" --root "nbd:10.0.2.2:$SERVER_PORT" \
	--append "console=ttyS0 panic=1 nbdroot.retry=30 nbdtest=root-rw" ||
	fail "mkpxe failed"
# the example for a real network is at least one dnsmasq accepts
out=$(dnsmasq --test -C "$work/tftp/dnsmasq.conf.example" 2>&1) ||
	fail "dnsmasq rejects mkpxe's example: $out"
echo "ok: dnsmasq --test: $out"

VM_MAC=$mac net_boot_vm ipxe "$work/tftp" boot.ipxe
expect_console ipxe "root=nbd:10.0.2.2:$SERVER_PORT console=ttyS0 panic=1 nbdroot.retry=30 nbdtest=root-rw BOOTIF=$bootif"
expect_console ipxe "nbdroot: attached /dev/nbd0"
expect_marker ipxe

if [ -r "$work/tftp/pxelinux.0" ]; then
	VM_MAC=$mac net_boot_vm pxelinux "$work/tftp" pxelinux.0
	expect_console pxelinux "BOOT_IMAGE=vmlinuz root=nbd:10.0.2.2:$SERVER_PORT"
	expect_console pxelinux "BOOTIF=$bootif"
	expect_marker pxelinux
else
	echo "note: no pxelinux.0 (packages pxelinux, syslinux-common): pxelinux not tried"
fi
