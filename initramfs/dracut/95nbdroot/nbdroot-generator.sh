#!/bin/sh
# systemd generator in a dracut initrd: when the boot line has an NBD
# root in any syntax of nbdroot(7), /sysroot is mounted from the device
# nbdroot.service attaches. Writes to the early directory ($2) so that it
# wins over what other generators made of root=.
# shellcheck source=initramfs/lib/cmdline.sh
. /lib/nbdroot/cmdline.sh

early=${2:-/run/systemd/generator.early}
cmdline=$(cat /proc/cmdline)
ours=
for w in $cmdline; do
	case $w in
	root=nbd:* | netroot=nbd:* | nbdroot=*) ours=1 ;;
	esac
done
[ -n "$ours" ] || exit 0
if ! nbdroot_parse_cmdline "$cmdline"; then
	echo "<3>nbdroot: cmdline: $nr_error" >/dev/kmsg
	exit 0
fi

dev=/dev/nbd$nr_dev${nr_part:+p$nr_part}
opts=${nr_flags:+$nr_flags,}${nr_ro:-rw}
mkdir -p "$early/initrd-root-fs.target.requires"
cat >"$early/sysroot.mount" <<UNIT
# written by nbdroot-generator from the kernel command line
[Unit]
Requires=nbdroot.service
After=nbdroot.service
Before=initrd-root-fs.target
[Mount]
What=$dev
Where=/sysroot
Type=${nr_fstype:-auto}
Options=$opts
UNIT
ln -sf ../sysroot.mount "$early/initrd-root-fs.target.requires/sysroot.mount"
exit 0
