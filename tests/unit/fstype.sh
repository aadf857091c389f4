#!/bin/bash
# initramfs/lib/fstype.sh, the superblock probe the mount step uses to
# name a filesystem whose module the initrd lacks: under busybox sh and
# dash, each image made by the real mkfs tools is named by its magic (ext2,
# ext3, ext4, xfs, btrfs, squashfs), a file of zeros is named nothing and
# fs_probe fails, and fs_bytes shows the first bytes as hex; the mount
# step's message (mount_failed in attach.sh) names a filesystem without
# a module and the rebuild, or shows unknown bytes in hex.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-fstype.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }

PATH=$PATH:/sbin:/usr/sbin
for t in mkfs.ext4 mkfs.xfs mkfs.btrfs mksquashfs busybox dash; do
	command -v "$t" >/dev/null || { echo "FAIL: $t not installed (run scripts/deps)"; exit 1; }
done

# image NAME SIZE COMMAND...: a sparse file of SIZE, COMMAND run on it
image() {
	local name=$1 size=$2
	shift 2
	truncate -s "$size" "$work/$name.img"
	"$@" "$work/$name.img" >"$work/$name.log" 2>&1 ||
		{ fail "$name: $* failed: $(tail -n 1 "$work/$name.log")"; return 1; }
}
image ext2 8M mkfs.ext2 -F -q
image ext3 8M mkfs.ext3 -F -q
image ext4 8M mkfs.ext4 -F -q
image xfs 300M mkfs.xfs -f -q
image btrfs 128M mkfs.btrfs -f -q
mkdir -p "$work/sq"
echo hello >"$work/sq/hello"
mksquashfs "$work/sq" "$work/squashfs.img" -noappend -quiet >"$work/squashfs.log" 2>&1 ||
	fail "mksquashfs: $(tail -n 1 "$work/squashfs.log")"
truncate -s 1M "$work/zeros.img"

# busybox sh runs busybox's own dd, od and tr, as in the initrd
mkdir -p "$work/bb"
for a in sh dd od tr; do
	ln -s "$(command -v busybox)" "$work/bb/$a"
done

# probe SHELL IMAGE: fs_probe's output and status, as "NAME STATUS"
probe() {
	PATH=$path $1 -c '. initramfs/lib/fstype.sh; n=$(fs_probe "$1"); echo "$n $?"' probe "$2"
}

# busybox sh with busybox's tools (our initrd), dash with the host's
# (dracut's initrd)
for name in "busybox sh" dash; do
	sh=$name path=$PATH
	[ "$name" = dash ] || { sh=$work/bb/sh; path=$work/bb:$PATH; }
	for fs in ext2 ext3 ext4 xfs btrfs squashfs; do
		got=$(probe "$sh" "$work/$fs.img")
		if [ "$got" = "$fs 0" ]; then
			ok "$name: $fs image named $fs"
		else
			fail "$name: $fs image: fs_probe printed and returned \"$got\", want \"$fs 0\""
		fi
	done
	got=$(probe "$sh" "$work/zeros.img")
	if [ "$got" = " 1" ]; then
		ok "$name: zeros named nothing, status 1"
	else
		fail "$name: zeros: fs_probe printed and returned \"$got\", want \" 1\""
	fi
	got=$(PATH=$path $sh -c '. initramfs/lib/fstype.sh; fs_bytes "$1" 0 6' x "$work/xfs.img")
	if [ "$got" = 584653420000 ]; then
		ok "$name: fs_bytes shows xfs's first 6 bytes as 584653420000"
	else
		fail "$name: fs_bytes of xfs's first 6 bytes: \"$got\", want 584653420000"
	fi
	got=$($sh -c '. initramfs/lib/fstype.sh; fs_module ext3; fs_module xfs' x | tr '\n' ' ')
	if [ "$got" = "ext4 xfs " ]; then
		ok "$name: ext3 is mounted by ext4's module, xfs by xfs's"
	else
		fail "$name: fs_module ext3, xfs: \"$got\", want \"ext4 xfs \""
	fi
	# mount_failed (attach.sh): with no module for it (fs_known stubbed,
	# as the host has xfs) the filesystem is named; unknown bytes in hex
	got=$(PATH=$path $sh -c '. initramfs/lib/fstype.sh; . initramfs/lib/attach.sh
		fs_known() { return 1; }; ROOTDEV=$1; mount_failed /root "bad"' x "$work/xfs.img")
	want="$work/xfs.img holds xfs, and this initrd has no xfs module: rebuild with make initrd MODULES=default,xfs"
	if [ "$got" = "$want" ]; then
		ok "$name: mount_failed names xfs and the rebuild"
	else
		fail "$name: mount_failed on xfs: \"$got\", want \"$want\""
	fi
	printf 'nbd!' | dd of="$work/zeros.img" conv=notrunc 2>/dev/null
	got=$(PATH=$path $sh -c '. initramfs/lib/fstype.sh; . initramfs/lib/attach.sh
		ROOTDEV=$1; mount_failed /root "bad"' x "$work/zeros.img")
	want="mount $work/zeros.img on /root: bad ($work/zeros.img holds no filesystem this initrd knows; first bytes: 6e626421000000000000000000000000)"
	if [ "$got" = "$want" ]; then
		ok "$name: mount_failed shows unknown first bytes in hex"
	else
		fail "$name: mount_failed on unknown bytes: \"$got\", want \"$want\""
	fi
	truncate -s 0 "$work/zeros.img"
	truncate -s 1M "$work/zeros.img"
done

echo "fstype: $checks ok, $failures failed"
[ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
