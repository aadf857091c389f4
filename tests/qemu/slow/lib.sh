# shellcheck shell=bash
# Harness for the slow VM tests (make check-slow), sourced by
# tests/qemu/slow/NN-*.sh: tests/qemu/lib.sh plus the Debian root image.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DEBIAN_ROOT=$top/build/debian-test-root.img
DEBIAN_GUEST=$top/tests/qemu/slow/debian-guest

# The Debian test root: scripts/mkrootfs debian with the slow tests' check
# unit over it (its package set is cached in build/cache). Rebuilt when
# the check or mkrootfs changes.
build_debian_root() {
	local newer
	newer=$(find "$DEBIAN_GUEST" "$top/scripts/mkrootfs" -newer "$DEBIAN_ROOT" 2>/dev/null | head -n 1)
	if [ -s "$DEBIAN_ROOT" ] && [ -z "$newer" ]; then
		return 0
	fi
	"$top/scripts/mkrootfs" debian --out "$DEBIAN_ROOT" --size 1G \
		--overlay "$DEBIAN_GUEST" || fail "could not build the Debian root"
}

# Prints a private, sparse copy of the Debian test root.
debian_image() {
	local img=$work/${1:-debian}.img
	build_debian_root >&2
	cp --sparse=always "$DEBIAN_ROOT" "$img"
	echo "$img"
}

# wait_console NAME PATTERN SECONDS [PID]: waits for PATTERN (fixed string)
# on the console of boot NAME; fails when it does not come, or when the
# process PID (the VM) ends first.
wait_console() {
	for _ in $(seq $(($3 * 10))); do
		grep -aqF -- "$2" "$work/$1.log" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -aqF -- "$2" "$work/$1.log" 2>/dev/null && return 0
			break
		fi
		sleep 0.1
	done
	show_vm "$1"
	fail "$1: \"$2\" did not appear on the console within $3s"
}

# fsck_clean IMAGE: e2fsck, read-only and forced, finds nothing to fix.
fsck_clean() {
	local out
	out=$(e2fsck -fn "$1" 2>&1) || { printf '    %s\n' "$out"; fail "e2fsck: $1 is not clean"; }
	echo "ok: e2fsck -fn: $(echo "$out" | tail -n 1)"
}
