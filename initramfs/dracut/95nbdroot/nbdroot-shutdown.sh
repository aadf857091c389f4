#!/bin/sh
# dracut shutdown hook: the real root is unmounted by now (dracut's
# shutdown.sh ran umount on /oldroot), so the NBD root can be detached
# without losing a write. A root still mounted is left alone.
[ -r /oldsys/run/nbdroot/root.conf ] || return 0
dev=$(sed -n "s/^NBDROOT_DEVICE='\\(.*\\)'\$/\\1/p" /oldsys/run/nbdroot/root.conf)
[ -n "$dev" ] || return 0
if grep -q "^$dev" /proc/mounts; then
	warn "nbdroot: $dev still mounted; not detached"
	return 0
fi
nbd-client -d "$dev" >/dev/null 2>&1 && info "nbdroot: $dev detached"
