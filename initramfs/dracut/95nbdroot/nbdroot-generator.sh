#!/bin/sh
# systemd generator in a dracut initrd: when the boot line has an NBD
# root in any syntax of nbdroot(7), nbdroot.service attaches it and mounts
# /sysroot itself, as our own init does: what it mounts may be known only
# once DHCP has answered (a partition, a type, flags in option 17), or be
# an overlay or a copy in RAM. The sysroot.mount written here orders the
# root after that service, and, in the early directory ($2), wins over
# the units other generators make of root=/dev/nbd0, which would mount a
# device themselves. It never mounts anything: the service has, before
# systemd runs it, and systemd takes a mount made by someone else as its
# own ("mounted by somebody else" in src/core/mount.c).
early=${2:-/run/systemd/generator.early}
ours=
for w in $(cat /proc/cmdline); do
	case $w in
	root=nbd:* | netroot=nbd:* | nbdroot=* | root=dhcp | netroot=dhcp) ours=1 ;;
	esac
done
[ -n "$ours" ] || exit 0

mkdir -p "$early/initrd-root-fs.target.requires"
cat >"$early/sysroot.mount" <<UNIT
# written by nbdroot-generator: nbdroot.service mounts /sysroot
[Unit]
Description=/sysroot, mounted by nbdroot.service
Requires=nbdroot.service
After=nbdroot.service
Before=initrd-root-fs.target
[Mount]
What=nbdroot
Where=/sysroot
Type=none
UNIT
ln -sf ../sysroot.mount "$early/initrd-root-fs.target.requires/sysroot.mount"
exit 0
