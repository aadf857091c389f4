# shellcheck shell=sh
# Which filesystem a device holds, read from its superblock's magic bytes
# (not from the kernel, which knows only the filesystems it has modules
# for): the mount step names the module an initrd lacks. Needs dd, od and
# tr (busybox has them); prints nothing of its own on failure.

# fs_bytes DEVICE OFFSET COUNT: COUNT bytes at OFFSET, as lowercase hex
# without spaces (fewer when the device is shorter).
fs_bytes() {
	dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | od -An -tx1 | tr -d ' \n'
}

# fs_probe DEVICE: prints the filesystem's name (ext2, ext3, ext4, xfs,
# btrfs, squashfs, f2fs), or nothing and returns 1 when no magic matches.
fs_probe() {
	case $(fs_bytes "$1" 0 4) in
	58465342) echo xfs; return 0 ;;		# "XFSB"
	68737173) echo squashfs; return 0 ;;	# "hsqs", little-endian
	esac
	# ext2/3/4: 0xEF53, little-endian, at 1024 + 0x38
	if [ "$(fs_bytes "$1" 1080 2)" = 53ef ]; then
		fs_ext_kind "$1"
		return 0
	fi
	# f2fs: 0xF2F52010, little-endian, at 1024
	if [ "$(fs_bytes "$1" 1024 4)" = 1020f5f2 ]; then
		echo f2fs
		return 0
	fi
	# btrfs: "_BHRfS_M" at 64 KiB + 0x40
	if [ "$(fs_bytes "$1" 65600 8)" = 5f42485266535f4d ]; then
		echo btrfs
		return 0
	fi
	return 1
}

# fs_ext_kind DEVICE: ext4 when an incompatible feature only ext4 has is
# set (extents 0x40, 64bit 0x80, flex_bg 0x200), ext3 with a journal
# (compat 0x4), else ext2.
fs_ext_kind() {
	# the low byte and the next of each little-endian feature word
	_inc=$(fs_bytes "$1" 1120 2)
	_com=$(fs_bytes "$1" 1116 1)
	if [ $((0x${_inc#??} & 0x02)) -ne 0 ] || [ $((0x${_inc%??} & 0xc0)) -ne 0 ]; then
		echo ext4
	elif [ $((0x$_com & 0x04)) -ne 0 ]; then
		echo ext3
	else
		echo ext2
	fi
}

# fs_module FSTYPE: the kernel module that mounts it (ext4's mounts ext2
# and ext3 too).
fs_module() {
	case $1 in
	ext2 | ext3) echo ext4 ;;
	*) echo "$1" ;;
	esac
}

# fs_known FSTYPE: the running kernel mounts it now, or this initrd holds
# the module that would let it.
fs_known() {
	grep -q "[[:space:]]$1\$" /proc/filesystems && return 0
	_m=$(fs_module "$1")
	[ -n "$(find "/lib/modules/$(uname -r)" \( -name "$_m.ko" -o -name "$_m.ko.*" \) 2>/dev/null | head -n 1)" ]
}
