#!/bin/bash
# The init's wait for its DHCP clients (net_dhcp, initramfs/lib/network.sh)
# under busybox sh and dash ends whatever becomes of a client: one that
# is killed outright (SIGKILL, which no handler of its own can catch),
# one that cannot be run, one that exits without a lease. Each must end
# the wait with the init's message, not hang PID 1. The clients are
# stand-ins on PATH; /run is a tmpfs of the test's own (mount namespace),
# as is the link list (a sysfs with two fake links). Needs root for the
# namespace (skips else).
set -u
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" = 0 ] || { echo "skip: a mount namespace needs root"; exit 77; }
if [ -z "${NBDROOT_NS:-}" ]; then
	NBDROOT_NS=1 exec unshare -m "$0" "$@"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-net-dhcp-exits.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
mount -t tmpfs tmpfs /run
mkdir -p /run/nbdroot "$work/bin"

# client KIND: a stand-in nbdroot-dhcp4 that ends as KIND says
client() {
	case $1 in
	killed) printf '#!/bin/sh\nkill -KILL $$\n' ;;
	broken) printf '#!/nonexistent/interpreter\n' ;;
	nolease) printf '#!/bin/sh\necho "no lease" >&2\nexit 1\n' ;;
	esac >"$work/bin/nbdroot-dhcp4"
	chmod +x "$work/bin/nbdroot-dhcp4"
}

for sh in "busybox sh" dash; do
	for kind in killed broken nolease; do
		client "$kind"
		rm -f /run/nbdroot/*
		out=$(PATH="$work/bin:$PATH" timeout 20 $sh -c '
			info() { :; }; fail() { :; }
			. initramfs/lib/network.sh
			net_dhcp 3 eth8 eth9; echo "rc=$?"' 2>&1)
		rc=$?
		if [ "$rc" = 124 ]; then
			fail "$sh: a client $kind: the wait never ended"
		elif grep -q '^no DHCP answer on eth8 eth9 within 3s$' <<<"$out" &&
			grep -q '^rc=1$' <<<"$out"; then
			echo "ok: $sh: a client $kind: the wait ends with \"no DHCP answer on eth8 eth9 within 3s\""
		else
			fail "$sh: a client $kind: [$out]"
		fi
	done
done
[ "$failures" -eq 0 ]
