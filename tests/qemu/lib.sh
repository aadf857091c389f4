# shellcheck shell=bash
# Harness for the QEMU tests, sourced by tests/qemu/NN-*.sh.
#
# A test builds (or reuses) the busybox test root, serves a copy of it from
# a server on 127.0.0.1, boots the test kernel with our initrd under TCG
# with user networking (the guest reaches the host's loopback as 10.0.2.2),
# and passes only on the marker line the guest prints after its check.
# On failure it prints the log tail and the exact QEMU command line.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVER=${KVER:-$(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)}
KERNEL=${KERNEL:-/boot/vmlinuz-$KVER}
INITRD=${INITRD:-$top/build/initrd.img}
TEST_ROOT=$top/build/test-root.img
VM_TIMEOUT=${VM_TIMEOUT:-180}
QEMU_LOCK=${QEMU_LOCK:-/tmp/nbdroot-qemu.lock}
test_name=$(basename "$0" .sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-$test_name.XXXXXX")
server_pids=()
failed=

fail() {
	echo "FAIL: $*"
	failed=1
	exit 1
}

any_alive() {
	local pid
	for pid; do
		kill -0 -- "-$pid" 2>/dev/null && return 0
	done
	return 1
}

cleanup() {
	local pid
	for pid in "${server_pids[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null
	done
	for _ in $(seq 30); do
		any_alive "${server_pids[@]}" || break
		sleep 0.1
	done
	for pid in "${server_pids[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null
	done 2>/dev/null
	wait 2>/dev/null
	if [ -n "$failed" ] || [ -n "${KEEP_WORK:-}" ]; then
		echo "(work files kept in $work)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

require() {
	local t
	for t in qemu-system-x86_64 mkfs.ext4 busybox; do
		command -v "$t" >/dev/null || fail "$t not installed (run scripts/deps)"
	done
	[ -r "$KERNEL" ] || fail "kernel $KERNEL not readable (run scripts/deps)"
	[ -r "$INITRD" ] || fail "$INITRD missing (run make initrd)"
}

# The busybox test root (scripts/mkrootfs) with tests/qemu/guest over it:
# its /sbin/init runs the check named on the kernel command line. Rebuilt
# when a guest file changes.
build_test_root() {
	local newer
	newer=$(find "$top/tests/qemu/guest" "$top/scripts/mkrootfs" -cnewer "$TEST_ROOT" 2>/dev/null | head -n 1)
	if [ -s "$TEST_ROOT" ] && [ -z "$newer" ]; then
		return 0
	fi
	"$top/scripts/mkrootfs" busybox --out "$TEST_ROOT" --size 64M \
		--overlay "$top/tests/qemu/guest" ||
		fail "could not build the test root"
}

# Prints a private, sparse copy of the test root for this test.
test_image() {
	local img=$work/${1:-root}.img
	build_test_root >&2
	cp --sparse=always "$TEST_ROOT" "$img"
	echo "$img"
}

# partitioned_image ROOT DISK: DISK gets an MBR with a small first
# partition (8 MiB from sector 2048) and ROOT's bytes in the second (from
# sector 18432).
partitioned_image() {
	local root=$1 disk=$2
	python3 - "$disk" "$(stat -c %s "$root")" <<'PY' || fail "cannot write the partition table"
import struct, sys
path, size = sys.argv[1], int(sys.argv[2])
p2 = (18432, size // 512)
def entry(start, count):
    return struct.pack('<B3sB3sII', 0, b'\0\0\0', 0x83, b'\0\0\0', start, count)
mbr = bytearray(512)
mbr[446:462] = entry(2048, 16384)
mbr[462:478] = entry(*p2)
mbr[510:512] = b'\x55\xaa'
with open(path, 'wb') as f:
    f.write(mbr)
    f.truncate((p2[0] + p2[1]) * 512)
PY
	dd if="$root" of="$disk" bs=512 seek=18432 conv=notrunc,sparse status=none ||
		fail "cannot copy the root into p2"
}

# VM_NET_BEFORE for the root=dhcp tests: eth0 and eth1 on one QEMU hub,
# before QEMU's user network (eth2), for the DHCP server that
# tests/qemu/hooks/pre-network/50-dhcp-server starts on eth1.
# shellcheck disable=SC2034 # used by the tests that source this file
DHCP_HUB_NICS="-netdev hubport,id=h0,hubid=5 -device virtio-net-pci,netdev=h0
-netdev hubport,id=h1,hubid=5 -device virtio-net-pci,netdev=h1"

random_port() {
	echo $((20000 + RANDOM % 40000))
}

# The host address the servers listen on: 127.0.0.1, or ::1 for the
# IPv6 tests (VM_NET_OPTS=ipv4=off,ipv6=on; the guest reaches it as fec0::2).
SERVER_ADDR=${SERVER_ADDR:-127.0.0.1}

port_open() {
	(exec 3<>"/dev/tcp/$SERVER_ADDR/$1") 2>/dev/null
}

# start_server KIND IMAGE [ARGS...]: serves IMAGE as the default export on
# SERVER_ADDR and a free port (FIXED_PORT=N: that one, for restarts), in its
# own process group. Sets SERVER_PORT and SERVER_PID. KIND: ours, nbdkit
# or qemu-nbd.
start_server() {
	local kind=$1 img=$2 log
	shift 2
	local -a cmd
	for _ in 1 2 3 4 5 6 7 8; do
		SERVER_PORT=${FIXED_PORT:-$(random_port)}
		log=$work/server-$kind-$SERVER_PORT.log
		case $kind in
		ours)
			cmd=("$top/server/nbd-server" -n "$@"
				"$SERVER_ADDR@$SERVER_PORT" "$img") ;;
		nbdkit)
			cmd=(nbdkit -f -i "$SERVER_ADDR" -p "$SERVER_PORT" "$@"
				file "$img") ;;
		qemu-nbd)
			cmd=(qemu-nbd -b "$SERVER_ADDR" -p "$SERVER_PORT" -f raw
				--persistent "$@" "$img") ;;
		*)	fail "unknown server kind $kind" ;;
		esac
		# setsid execs in place: the pid is the server's process group
		# (without fd 9: a server must never hold the VM lock)
		setsid "${cmd[@]}" >"$log" 2>&1 </dev/null 9>&- &
		SERVER_PID=$!
		server_pids+=("$SERVER_PID")
		for _ in $(seq 50); do
			port_open "$SERVER_PORT" && return 0
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM -- "-$SERVER_PID" 2>/dev/null
		grep -qi 'in use' "$log" || fail "$kind did not start: $(tail -n 3 "$log")"
		[ -z "${FIXED_PORT:-}" ] || sleep 1
	done
	fail "no free port for $kind after 8 tries"
}

# start_named_server NAME IMAGE [ARGS...]: our server with IMAGE as both
# the default export and the export NAME (nbd-server(5) config).
start_named_server() {
	local name=$1 img=$2
	shift 2
	# A guestfwd (VM_NET_OPTS) connects when QEMU starts, long before the
	# guest speaks: the handshake deadline must outlast the boot.
	printf '[generic]\nhandshaketimeout = 600\n[%s]\nexportname = %s\n' \
		"$name" "$img" >"$work/exports-$name.conf"
	start_server ours "$img" -C "$work/exports-$name.conf" "$@"
}

# stop_server [SIGNAL]: the server and its children; SIGKILL after 5 s.
stop_server() {
	kill "-${1:-TERM}" -- "-$SERVER_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
}

# start_capture FILTER: tcpdump on lo into $work/lo.pcap for the TCP
# traffic FILTER names (a pcap filter); sets CAPTURE to that file, or
# empty (and says so) without tcpdump or root. stop_capture ends it.
start_capture() {
	CAPTURE=
	if ! command -v tcpdump >/dev/null || [ "$(id -u)" != 0 ]; then
		echo "skip: no tcpdump (or not root): the capture check is left out"
		return 0
	fi
	CAPTURE=$work/lo.pcap
	setsid tcpdump -i lo -U -w "$CAPTURE" "$1" >"$work/tcpdump.log" 2>&1 &
	capture_pid=$!
	server_pids+=("$capture_pid")
	for _ in $(seq 50); do
		grep -q listening "$work/tcpdump.log" && break
		sleep 0.1
	done
}

stop_capture() {
	sleep 1
	kill -INT -- "-$capture_pid" 2>/dev/null
	wait "$capture_pid" 2>/dev/null
}

# tls_key FILE IDENTITY...: a key file in psktool's format, a random
# 32-byte key per identity, readable by its owner only.
tls_key() {
	local file=$1 id
	shift
	for id; do
		printf '%s:%s\n' "$id" "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
	done >"$file"
	chmod 600 "$file"
}

# ipv6_only_lab [NETDEV-OPTIONS]: an IPv6-only network (QEMU's user
# network with ipv4=off: the guest reaches the host's ::1 as fec0::2) and
# our server on ::1 with the test root, whose image is then $img
ipv6_only_lab() {
	SERVER_ADDR=::1
	VM_NET_OPTS=ipv4=off,ipv6=on${1:+,$1}
	img=$(test_image root)
	start_server ours "$img"
}

# in_netns "$@": runs this test again in a network and mount namespace
# of its own (sysfs remounted, so that it shows the namespace's links),
# where tap_lab may set up a link and servers; 77 without root or
# dnsmasq.
in_netns() {
	[ -z "${NBDROOT_NETNS:-}" ] || { mount -t sysfs sysfs /sys; return 0; }
	[ "$(id -u)" = 0 ] || { echo "skip: a network namespace with a tap needs root"; exit 77; }
	command -v dnsmasq >/dev/null || { echo "skip: no dnsmasq (scripts/deps)"; exit 77; }
	build_test_root
	rm -rf "$work"
	NBDROOT_NETNS=1 exec unshare -n -m "$0" "$@"
}

# tap_lab PREFIX: inside in_netns, a tap link nbdtap holding PREFIX::1/64
# for the VM (VM_NETDEV) and our server on PREFIX::1 with the test root
# as export "root" (image $img). Nothing leaves the namespace.
tap_lab() {
	local prefix=$1
	ip link set lo up &&
		ip tuntap add dev nbdtap mode tap &&
		ip link set nbdtap up &&
		ip -6 addr add "$prefix::1/64" dev nbdtap nodad ||
		fail "cannot set up the tap link nbdtap"
	SERVER_ADDR=$prefix::1
	VM_NETDEV=tap,id=net0,ifname=nbdtap,script=no,downscript=no
	img=$(test_image root)
	start_named_server root "$img"
}

# start_dnsmasq OPTIONS...: dnsmasq on tap_lab's link with router
# advertisements and these options (DHCPv6 ranges; DNS only with
# DNSMASQ_PORT=53), logging to $work/dnsmasq.log.
start_dnsmasq() {
	setsid dnsmasq -k --conf-file=/dev/null --interface=nbdtap \
		--bind-dynamic --no-resolv --no-hosts --user=root \
		--port="${DNSMASQ_PORT:-0}" \
		--pid-file="$work/dnsmasq.pid" --dhcp-leasefile="$work/leases" \
		--log-facility="$work/dnsmasq.log" --log-dhcp --enable-ra "$@" \
		>"$work/dnsmasq.out" 2>&1 </dev/null 9>&- &
	server_pids+=("$!")
	for _ in $(seq 50); do
		grep -q "router advertisement enabled" "$work/dnsmasq.log" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	fail "dnsmasq did not start: $(tail -n 3 "$work/dnsmasq.out" "$work/dnsmasq.log" 2>&1)"
}

# initrd_cat FILE: an initrd's archives, uncompressed (zstd, mkinitrd's
# default, lz4 or xz). Chosen by the magic number, not by a failed try: a
# reader that stops early (grep -q) makes the decompressor fail too.
initrd_cat() {
	case $(head -c 4 "$1" | od -An -tx1 | tr -d ' \n') in
	28b52ffd) zstd -dcq "$1" ;;
	02214c18) lz4 -dcq "$1" ;;
	*) xz -dc "$1" ;;
	esac
}

# tls_initrd KEY: a small initrd (only what the test root needs) holding
# KEY and kTLS's modules, in $work/initrd.img, which INITRD then names.
tls_initrd() {
	local m
	make -C "$top" -s initrd OUT="$work/initrd.img" TLS_PSK="$1" \
		MODULES=nbd,crc32c_generic,ext4,virtio_pci,virtio_net \
		>"$work/mkinitrd.log" 2>&1 ||
		fail "make initrd: $(tail -n 3 "$work/mkinitrd.log")"
	INITRD=$work/initrd.img
	# a newc member's name ends in NUL (the initrd holds several archives)
	for m in tls chacha20poly1305 poly1305_generic chacha_generic; do
		initrd_cat "$INITRD" | grep -aqP "/${m}\.ko\x00" ||
			fail "the initrd has no $m module"
	done
}

# tls_server_conf FILE KEY [NAME IMAGE]...: a configuration for our
# server that requires TLS (force_tls) with the keys of KEY (tlspsk),
# with these exports besides the image on its command line.
tls_server_conf() {
	local file=$1 key=$2
	shift 2
	{
		printf '[generic]\ntlspsk = %s\nforce_tls = true\n' "$key"
		while [ $# -ge 2 ]; do
			printf '[%s]\nexportname = %s\n' "$1" "$2"
			shift 2
		done
	} >"$file"
}

# tls_variant: the TLS variant of a plaintext outage test (41, 42), asked
# for by TLS_CONNS=N: a key, an initrd holding it, and our server's
# configuration requiring it. Sets TLS_ARGS (our server's options),
# TLS_BOOT (boot line words: N connections) and TLS_CHECK (the guest
# check's option: N kTLS sockets, write-through-outage); all three are
# empty without TLS_CONNS.
# shellcheck disable=SC2034 # used by the tests that source this file
tls_variant() {
	TLS_ARGS=() TLS_BOOT='' TLS_CHECK=''
	[ -n "${TLS_CONNS:-}" ] || return 0
	tls_key "$work/keys.psk" lab-17
	tls_initrd "$work/keys.psk"
	tls_server_conf "$work/tls.conf" "$work/keys.psk"
	TLS_ARGS=(-C "$work/tls.conf")
	TLS_BOOT="nbdroot.conns=$TLS_CONNS"
	TLS_CHECK=",ktls=$TLS_CONNS"
}

# guest_secret NAME: the secret the guest of boot NAME printed (guest
# check tls-root).
guest_secret() {
	grep -a "tls-root: secret" "$work/$1.log" | tr -d '\r' | sed 's/.*secret //'
}

# tls_capture_check TEXT WHAT: the loopback capture (start_capture, then
# stop_capture) holds the identity lab-17, which a TLS 1.3 client sends
# in clear in its ClientHello (so it saw the TLS connections), and not
# TEXT, WHAT a guest wrote over them.
tls_capture_check() {
	grep -aqF lab-17 "$CAPTURE" ||
		fail "the PSK identity lab-17 is not in the capture: it missed the TLS connections"
	grep -aqF -- "$1" "$CAPTURE" &&
		fail "$2 ($1) is in the capture of TLS connections"
	echo "ok: $2 is not in the capture of the TLS connections ($(wc -c <"$CAPTURE") bytes), their identity is"
}

# wire_check IMAGE: after an outage test with a capture (start_capture),
# the checksums the guest wrote to /data/sums of the ext4 IMAGE crossed
# loopback in plaintext, and with TLS_CONNS did not: the same check
# fails either way.
wire_check() {
	local sum
	[ -n "$CAPTURE" ] || return 0
	stop_capture
	sum=$(debugfs -R "cat /data/sums" "$1" 2>/dev/null | head -n 1 | cut -d' ' -f1)
	[ ${#sum} -eq 32 ] || fail "no checksum in /data/sums of $1"
	if [ -n "${TLS_CONNS:-}" ]; then
		tls_capture_check "$sum" "the checksum from /data/sums"
		return 0
	fi
	grep -aqF "$sum" "$CAPTURE" ||
		fail "checksum $sum from /data/sums is not in the plaintext capture"
	echo "ok: checksum $sum from /data/sums is in the plaintext capture"
}

# boot_vm NAME "KERNEL ARGS": boots the diskless VM; its serial console goes
# to $work/NAME.log and its command line to $work/NAME.cmd. Returns QEMU's
# exit status, 124 when the VM had to be killed after VM_TIMEOUT seconds.
# VM_MEM (MiB), VM_NIC (device model), VM_MAC, VM_NET_OPTS (appended to the
# user netdev, e.g. guestfwd=...) and VM_NET_BEFORE (words placed before
# it: devices that come first on the PCI bus) shape the VM; VM_MACHINE
# picks QEMU's machine type (pc when unset: i440FX; q35: ICH9 and PCIe),
# VM_SMP its number of CPUs (1 when unset: the tests and bench-boot's
# figures are one CPU's; each is one host thread under TCG).
boot_vm() {
	local name=$1 append=$2
	# shellcheck disable=SC2086 # VM_NET_BEFORE is words by design
	run_vm "$name" "boot $name: $append" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=1 $append" \
		${VM_NET_BEFORE:-} \
		-netdev "${VM_NETDEV:-user,id=net0${VM_NET_OPTS:+,$VM_NET_OPTS}}" \
		-device "${VM_NIC:-virtio-net-pci},netdev=net0${VM_MAC:+,mac=$VM_MAC}"
}

# hold_vm_lock: takes the VM lock (fd 9) until release_vm_lock or the end
# of the test, so that it may run several VMs at once (boot_vm NAME ... &
# for each, or the slow tier's vm_start); run_vm then runs its VM under
# this hold instead of taking the lock per VM. LOCK_WAITED: the seconds it
# waited for other tests' VMs.
hold_vm_lock() {
	exec 9>>"$QEMU_LOCK" || fail "cannot open the VM lock $QEMU_LOCK"
	local since=$SECONDS
	echo "waiting for the VM lock $QEMU_LOCK"
	flock 9 || fail "cannot take the VM lock $QEMU_LOCK"
	LOCK_WAITED=$((SECONDS - since))
	echo "VM lock taken after $LOCK_WAITED s"
	VM_LOCK_HELD=1
}
release_vm_lock() {
	VM_LOCK_HELD=
	flock -u 9
	exec 9>&-
}

# run_vm NAME "WHAT: ..." QEMU-ARGS...: one TCG VM with its serial console
# in $work/NAME.log and its command line in $work/NAME.cmd, under the VM
# lock and VM_TIMEOUT; says WHAT and, after it, QEMU's exit status, which
# it returns (boot_vm, the slow tier's net_boot_vm).
run_vm() {
	local name=$1 what=$2 rc
	shift 2
	local -a cmd=(qemu-system-x86_64 -accel tcg -m "${VM_MEM:-256}" -smp "${VM_SMP:-1}"
		${VM_MACHINE:+-machine "$VM_MACHINE"} -nodefaults -no-reboot -display none -monitor none
		-serial "file:$work/$name.log" -pidfile "$work/$name.pid" "$@")
	printf '%q ' "${cmd[@]}" >"$work/$name.cmd"
	echo "$what"
	# one VM at a time on this machine, whoever starts it (2 cores, TCG),
	# or the VMs of one test that holds the lock (hold_vm_lock)
	if [ -n "${VM_LOCK_HELD:-}" ]; then
		timeout "$VM_TIMEOUT" "${cmd[@]}" </dev/null
	else
		flock "$QEMU_LOCK" timeout "$VM_TIMEOUT" "${cmd[@]}" </dev/null
	fi
	rc=$?
	echo "${what%%:*}: QEMU exited with $rc"
	return $rc
}

# await_console NAME PID TEXT: waits until the console of the VM booting
# in the background as PID shows TEXT (a line the guest prints when the
# host should act); fails if the VM ends first. Bounded by the VM itself,
# which may first queue for the VM lock.
await_console() {
	local name=$1 pid=$2 text=$3
	while kill -0 "$pid" 2>/dev/null; do
		grep -aqF -- "$text" "$work/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -aqF -- "$text" "$work/$name.log" 2>/dev/null && return 0
	wait "$pid"
	show_vm "$name"
	fail "$name: the guest never printed \"$text\""
}

# stop_vm NAME: ends the VM of boot NAME, booting in the background, once
# the test has seen what it waited for (a VM that waits for input forever).
stop_vm() {
	local pid
	pid=$(cat "$work/$1.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
}

show_vm() {
	echo "--- last lines of the console ($work/$1.log):"
	tail -n "${2:-40}" "$work/$1.log" 2>/dev/null | sed 's/^/    /'
	echo "--- QEMU command line:"
	sed 's/^/    /' "$work/$1.cmd"
	echo
}

# expect_marker NAME: the guest of boot NAME printed its PASS marker.
expect_marker() {
	local line
	line=$(grep -a "NBDROOT-TEST [^:]*: \(PASS\|FAIL\)" "$work/$1.log" | tail -n 1)
	case $line in
	*": PASS"*) echo "ok: ${line#*NBDROOT-TEST }" ;;
	*) show_vm "$1"; fail "$1: ${line:-no marker from the guest}" ;;
	esac
}

# expect_console NAME PATTERN: the console of boot NAME shows PATTERN
# (a fixed string).
expect_console() {
	if grep -aqF -- "$2" "$work/$1.log"; then
		echo "ok: console shows: $(grep -aF -- "$2" "$work/$1.log" | head -n 1 | tr -d '\r')"
	else
		show_vm "$1"
		fail "$1: console does not show \"$2\""
	fi
}

# boot_fails NAME APPEND MESSAGE: boot NAME (boot_vm with APPEND, which
# says nbdroot.retry=N) ends as the attach gives up: its console shows
# MESSAGE, "giving up after Ns" and a panic, before VM_TIMEOUT.
boot_fails() {
	local name=$1 append=$2 msg=$3 retry rc
	retry=$(sed -n 's/.*nbdroot\.retry=\([0-9]*\).*/\1/p' <<<"$append")
	boot_vm "$name" "$append"
	rc=$?
	expect_console "$name" "$msg"
	expect_console "$name" "nbdroot: attach: giving up after ${retry}s"
	expect_console "$name" "Kernel panic"
	[ "$rc" -ne 124 ] || fail "$name: the VM hung until the timeout"
}

require
