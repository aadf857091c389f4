#!/bin/bash
# Three VMs boot the same read-only Debian export (a squashfs image from
# scripts/mkrootfs debian --format squashfs, served by our server with -r)
# at the same time, each under nbdroot.overlay=tmpfs. Each writes a marker of
# its own on its root, waits, and must then see only its own. The host
# checks that the three overlapped (every "wrote" line came before the
# first check) and that the shared image is byte-for-byte unchanged.
# The lock every VM test takes is held around all three: they are the
# only VMs on this machine meanwhile.
# shellcheck source=tests/qemu/slow/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(debian_image shared squashfs)
before=$(md5sum <"$img")
start_server ours "$img" -r
names=(c1 c2 c3)

vm_cmd() {
	local name=$1 n=$2
	printf '%s\0' qemu-system-x86_64 -accel tcg -m 384 -smp 1 \
		-nodefaults -no-reboot -display none -monitor none \
		-serial "file:$work/$name.log" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=1 root=nbd:10.0.2.2:$SERVER_PORT nbdroot.overlay=tmpfs nbdroot.retry=60 nbdtest=shared:$name nbdtest.wait=40" \
		-netdev "user,id=net0,hostname=$name" \
		-device "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:0$n"
}

# seen NAME PATTERN: the console of NAME shows PATTERN
seen() {
	grep -aqF -- "$2" "$work/$1.log" 2>/dev/null
}

exec 9>"$QEMU_LOCK"
flock 9
pids=()
i=0
for n in "${names[@]}"; do
	i=$((i + 1))
	mapfile -d '' cmd < <(vm_cmd "$n" "$i")
	printf '%q ' "${cmd[@]}" >"$work/$n.cmd"
	echo "boot $n"
	# its own process group, so that it can be stopped by its id
	setsid timeout 600 "${cmd[@]}" </dev/null 9>&- &
	pids+=($!)
done
server_pids+=("${pids[@]}")

# when each wrote its marker, and when the first one checked
declare -A wrote=()
first_check=
for _ in $(seq 6000); do
	alive=
	for i in 0 1 2; do
		n=${names[$i]}
		[ -n "${wrote[$n]:-}" ] || ! seen "$n" "NBDROOT-STEP $n wrote" ||
			wrote[$n]=$(date +%s.%N)
		if [ -z "$first_check" ] && seen "$n" "NBDROOT-TEST shared:"; then
			first_check=$(date +%s.%N)
			echo "first check done by $n"
		fi
		! kill -0 "${pids[$i]}" 2>/dev/null || alive=1
	done
	[ -n "$alive" ] || break
	sleep 0.1
done
for pid in "${pids[@]}"; do
	wait "$pid"
done
flock -u 9
exec 9>&-

for n in "${names[@]}"; do
	expect_marker "$n"
	[ -n "${wrote[$n]:-}" ] || fail "$n never said it wrote its marker"
	awk -v w="${wrote[$n]}" -v c="$first_check" 'BEGIN { exit !(w < c) }' ||
		fail "$n wrote its marker only after another had checked: the three did not overlap"
done
echo "ok: all three wrote their markers before the first one checked"
stop_server TERM
[ "$(md5sum <"$img")" = "$before" ] || fail "the shared image changed"
echo "ok: the shared image is unchanged"
