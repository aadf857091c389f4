#!/bin/bash
# make initrd HOOKS=DIR EXTRA=DIR: a custom initrd whose pre-switch hook
# sees the state and a file EXTRA added; a failing pre-network hook is
# reported on the console and the boot goes on. EXTRA's /etc/hosts names
# the server, so the root is given by host name (no DNS traffic leaves
# the machine).
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
token=extra$RANDOM
mkdir -p "$work/extra/etc" "$work/hooks/pre-switch" "$work/hooks/pre-network"
echo "$token" >"$work/extra/etc/site-token"
echo "10.0.2.2 nbd-server.test" >"$work/extra/etc/hosts"
cat >"$work/hooks/pre-switch/50-mark" <<'HOOK'
#!/bin/sh
echo "$NBDROOT_STAGE $NBDROOT_ROOTMNT $NBDROOT_ROOTDEV $(cat /etc/site-token)" >/run/nbdroot/hook-pre-switch
HOOK
printf '#!/bin/sh\nexit 3\n' >"$work/hooks/pre-network/10-fails"
chmod +x "$work/hooks/pre-switch/50-mark" "$work/hooks/pre-network/10-fails"
make -C "$top" -s initrd OUT="$work/initrd.img" HOOKS="$work/hooks" \
	EXTRA="$work/extra" >"$work/mkinitrd.log" 2>&1 ||
	fail "make initrd: $(tail -n 3 "$work/mkinitrd.log")"
INITRD=$work/initrd.img
img=$(test_image root)
start_server ours "$img"
boot_vm hooks "root=nbd:nbd-server.test:$SERVER_PORT nbdroot.retry=20 nbdtest=hook-ran:$token"
expect_marker hooks
expect_console hooks "nbdroot: hook pre-network/10-fails: exited with 3"
expect_console hooks "nbdroot: attached /dev/nbd0 from nbd-server.test:$SERVER_PORT"
