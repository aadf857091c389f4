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

# dracut_setup: our dracut module, installed by "make install" under
# $work, and $work/dracut, a dracut base directory (dracutbasedir) made
# of symbolic links to this machine's /usr/lib/dracut plus our module:
# /usr/lib/dracut itself is not touched.
dracut_setup() {
	local f m base=$work/dracut
	command -v dracut >/dev/null || fail "dracut not installed (scripts/deps installs dracut-core, dracut-network)"
	make -s -C "$top" install PREFIX="$work/prefix" DRACUTMODDIR="$work/modules.d" \
		>"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "make install failed"; }
	mkdir -p "$base/modules.d" "$work/tmp"
	for f in /usr/lib/dracut/*; do
		[ "${f##*/}" = modules.d ] || ln -s "$f" "$base/"
	done
	for m in /usr/lib/dracut/modules.d/* "$work/modules.d/95nbdroot"; do
		ln -s "$m" "$base/modules.d/"
	done
}

# run_dracut OUT LOG [ARGS...]: dracut --no-hostonly ARGS for the test
# kernel, with the base of dracut_setup; its output in LOG.
run_dracut() {
	local out=$1 log=$2
	shift 2
	dracutbasedir=$work/dracut dracut --force --no-hostonly "$@" \
		--tmpdir "$work/tmp" --kver "$KVER" "$out" >"$log" 2>&1
}

# build_dracut_initrd OUT: the dracut tests' initrd: our module instead
# of dracut's nbd, and the root=dhcp tests' pre-network hook.
build_dracut_initrd() {
	echo "dracut --no-hostonly --add nbdroot --omit nbd --include tests/qemu/hooks /lib/nbdroot/hooks --kver $KVER $1"
	if ! run_dracut "$1" "$work/dracut.log" --add nbdroot --omit nbd \
		--include "$top/tests/qemu/hooks" /lib/nbdroot/hooks; then
		tail -n 20 "$work/dracut.log"
		fail "dracut failed"
	fi
	grep -q 'Including module: nbdroot' "$work/dracut.log" || fail "dracut did not include nbdroot"
	echo "ok: dracut built $1 ($(du -h "$1" | cut -f1))"
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
