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

# ceph_lab_up IMAGE CLIENT...: the Ceph tests' fixture (scripts/ceph-lab,
# memstore, in $work/lab): IMAGE as the golden image, one clone per CLIENT
# (a MAC or host name), two gateways. Sets LAB, GW1 and GW2 (their ports);
# the lab is stopped when the test exits.
ceph_lab_up() {
	local image=$1
	shift
	LAB=$work/lab
	trap 'ceph_lab_stop; cleanup' EXIT
	"$top/scripts/ceph-lab" start "$LAB" --memstore || fail "ceph-lab start"
	"$top/scripts/ceph-lab" import "$LAB" "$image" golden >/dev/null || fail "ceph-lab import"
	"$top/scripts/ceph-lab" clone "$LAB" golden "$@" >/dev/null || fail "ceph-lab clone $*"
	GW1=$(random_port)
	GW2=$(random_port)
	while [ "$GW2" = "$GW1" ]; do GW2=$(random_port); done
	"$top/scripts/ceph-lab" gateway "$LAB" start "$GW1" || fail "gateway $GW1"
	"$top/scripts/ceph-lab" gateway "$LAB" start "$GW2" || fail "gateway $GW2"
}

ceph_lab_stop() {
	[ -z "${LAB:-}" ] || [ ! -f "$LAB/ceph.conf" ] ||
		"$top/scripts/ceph-lab" stop "$LAB" >/dev/null 2>&1 ||
		echo "ceph-lab stop $LAB: processes left"
}

# gateway_pid PORT: the pid of the gateway on PORT
gateway_pid() {
	cat "$LAB/run/gw-$1.pid"
}

# clone_file CLONE OUT: the clone's bytes, read from the cluster itself
# (rbd export), into the file OUT.
clone_file() {
	rm -f "$2"
	timeout 300 rbd -c "$LAB/ceph.conf" export --no-progress "rbd/$1" "$2" \
		>/dev/null 2>&1 || fail "rbd export rbd/$1 failed"
}

# connections_on PORT: how many established TCP connections the server
# on 127.0.0.1:PORT has
connections_on() {
	ss -Htn state established "( sport = :$1 )" | wc -l
}

# vm_start NAME MAC "KERNEL ARGS": a diskless VM as boot_vm makes, with
# its own MAC, in the background (pid in VM_PID, its own process group,
# stopped at exit) while the caller holds the VM lock.
vm_start() {
	local name=$1 mac=$2 append=$3
	local -a cmd=(qemu-system-x86_64 -accel tcg -m "${VM_MEM:-256}" -smp 1
		-nodefaults -no-reboot -display none -monitor none
		-serial "file:$work/$name.log" -pidfile "$work/$name.pid"
		-kernel "$KERNEL" -initrd "$INITRD"
		-append "console=ttyS0 panic=1 $append"
		-netdev "user,id=net0" -device "virtio-net-pci,netdev=net0,mac=$mac")
	printf '%q ' "${cmd[@]}" >"$work/$name.cmd"
	echo "boot $name ($mac): $append"
	setsid timeout "$VM_TIMEOUT" "${cmd[@]}" </dev/null 9>&- &
	VM_PID=$!
	server_pids+=("$VM_PID")
}
