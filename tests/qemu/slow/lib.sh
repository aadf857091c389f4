# shellcheck shell=bash
# Harness for the slow VM tests (make check-slow), sourced by
# tests/qemu/slow/NN-*.sh: tests/qemu/lib.sh plus the Debian root image.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DEBIAN_GUEST=$top/tests/qemu/slow/debian-guest

# build_debian_root FORMAT: the Debian test root (scripts/mkrootfs debian
# with the slow tests' check unit over it; its package set is cached in
# build/cache) as build/debian-test-root.FORMAT, ext4 or squashfs. Rebuilt
# when the check or mkrootfs changes.
build_debian_root() {
	local root=$top/build/debian-test-root.$1 newer
	newer=$(find "$DEBIAN_GUEST" "$top/scripts/mkrootfs" -cnewer "$root" 2>/dev/null | head -n 1)
	if [ -s "$root" ] && [ -z "$newer" ]; then
		return 0
	fi
	"$top/scripts/mkrootfs" debian --out "$root" --format "$1" --size 1G \
		--overlay "$DEBIAN_GUEST" || fail "could not build the Debian root ($1)"
}

# debian_image NAME [FORMAT]: prints the path of a private, sparse copy
# of the Debian test root (default ext4).
debian_image() {
	local format=${2:-ext4}
	local img=$work/$1.$format
	build_debian_root "$format" >&2
	cp --sparse=always "$top/build/debian-test-root.$format" "$img"
	echo "$img"
}

# fsck_clean IMAGE: e2fsck, read-only and forced, finds nothing to fix.
fsck_clean() {
	local out
	out=$(e2fsck -fn "$1" 2>&1) || { printf '    %s\n' "$out"; fail "e2fsck: $1 is not clean"; }
	echo "ok: e2fsck -fn: $(echo "$out" | tail -n 1)"
}

# net_boot_vm NAME TFTPDIR BOOTFILE: a VM without kernel or disk that
# boots from its NIC (QEMU's iPXE ROM, package ipxe-qemu) off QEMU's
# user-network TFTP server; console in $work/NAME.log, command line in
# $work/NAME.cmd. VM_MEM, VM_MAC and VM_TIMEOUT as for boot_vm; it takes
# the same lock.
net_boot_vm() {
	run_vm "$1" "net boot $1: tftp=$2 bootfile=$3" -boot n \
		-netdev "user,id=net0,tftp=$2,bootfile=$3" \
		-device "virtio-net-pci,netdev=net0${VM_MAC:+,mac=$VM_MAC}"
}
