#!/bin/bash
# The Debian packages: dpkg-buildpackage builds them from a copy of this
# tree, lintian finds nothing at its default level, the installed initrd
# and PXE builders work from their installed paths, and in a Debian 12
# chroot they install, reinstall, upgrade to a higher version (a modified
# conffile kept) and purge, leaving the chroot as it was (only the
# nbdroot user stays, as Debian keeps system users). The installed kernel
# hook, configured, builds an initrd and a PXE tree there.
# Exit 77 only when a tool or root is missing, and it says which.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
	echo "debian-packages: SKIP: $*"
	exit 77
}
fail() {
	echo "debian-packages: FAIL: $*"
	exit 1
}

for t in dpkg-buildpackage dh lintian mmdebstrap; do
	command -v "$t" >/dev/null ||
		skip "$t not installed (scripts/deps installs it)"
done
[ "$(id -u)" = 0 ] || skip "the install test runs a chroot: needs root"

work=$(mktemp -d /tmp/nbdroot-deb.XXXXXX)
root=$work/chroot
cleanup() {
	for m in proc dev; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
	[ -n "${KEEP_WORK:-}" ] && { echo "kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

# 1. build from a copy holding what git would commit (tracked and new)
mkdir "$work/src"
(cd "$top" && git ls-files -co --exclude-standard -z) |
	(cd "$top" && tar --null -cf - -T -) | tar -xf - -C "$work/src" ||
	fail "copying the tree"
(cd "$work/src" && make -s clean && nice dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; fail "dpkg-buildpackage failed"; }
ver=$(cd "$work/src" && dpkg-parsechangelog -S Version)
debs=()
for p in nbdroot-server_"$ver"_amd64 nbdroot-client_"$ver"_amd64 \
    dracut-nbdroot_"$ver"_all; do
	[ -s "$work/$p.deb" ] || fail "$p.deb was not built"
	debs+=("$work/$p.deb")
done
echo "built: ${debs[*]##*/}"

# 2. lintian, default profile: any error or warning fails
lintian --no-cfg --fail-on error,warning "$work/nbdroot_${ver}_amd64.changes" \
	>"$work/lintian.log" 2>&1
rc=$?
lint=$(grep -v '^running with root privileges' "$work/lintian.log")
[ "$rc" = 0 ] && [ -z "$lint" ] || { echo "$lint"; fail "lintian (exit $rc)"; }
echo "lintian: clean"

# 3. the installed builders find their files: unpack and run them
x=$work/unpacked
dpkg-deb -x "$work/nbdroot-client_${ver}_amd64.deb" "$x"
kver=$(ls -1 /lib/modules | sort -V | tail -n 1)
"$x/usr/sbin/nbdroot-mkinitrd" --kver "$kver" --out "$work/initrd.img" \
	>"$work/mkinitrd.log" 2>&1 ||
	{ cat "$work/mkinitrd.log"; fail "installed nbdroot-mkinitrd failed"; }
# zstd, mkinitrd's default
zstd -dcq "$work/initrd.img" >"$work/initrd.cpio"
# two archives: the device nodes, then the files
for f in sbin/nbd-client sbin/nbdroot-dhcp4 sbin/nbdroot-dhcp6 sbin/nbdroot-modload lib/nbdroot/dhcp-event \
    sbin/nbdroot-switch init lib/nbdroot/init; do
	{ cpio -t; cpio -t; } <"$work/initrd.cpio" 2>/dev/null | grep -qx "$f" ||
		fail "the installed mkinitrd's initrd has no $f"
done
"$x/usr/sbin/nbdroot-mkinitrd" --kver "$kver" >/dev/null 2>"$work/err" &&
	fail "installed mkinitrd without --out wrote somewhere"
grep -q -- '--out is needed' "$work/err" ||
	fail "installed mkinitrd without --out: $(tail -1 "$work/err")"
"$x/usr/sbin/nbdroot-mkpxe" --out "$work/tftp" --root nbd:10.0.2.2:10809 \
	--initrd "$work/initrd.img" >"$work/mkpxe.log" 2>&1 ||
	{ cat "$work/mkpxe.log"; fail "installed nbdroot-mkpxe failed"; }
[ -s "$work/tftp/boot.ipxe" ] || fail "installed mkpxe wrote no boot.ipxe"
echo "installed mkinitrd and mkpxe: work"

# 4. a Debian 12 chroot with our packages' dependencies, cached
# shellcheck source=tests/unit/debian-chroot-lib
. "$top/tests/unit/debian-chroot-lib"
debian_root deb-test apt adduser,procps,busybox-static,cpio,klibc-utils,kmod,libklibc,xz-utils,zstd,dracut-core
mount -t proc proc "$root/proc"
mkdir -p "$root/debs"
in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# what "left behind" is measured on: every path with its type, mode and
# owner, and the contents of /etc; dpkg's and apt's own state, logs and
# caches, and the user databases (checked apart) excluded
snapshot() {
	in_root find / -xdev \( -path /proc -o -path /dev -o -path /debs \
		-o -path /var/lib/dpkg -o -path /var/log -o -path /var/cache \
		-o -path /var/lib/apt -o -path /tmp -o -path /run \
		-o -path '/etc/passwd*' -o -path '/etc/group*' \
		-o -path '/etc/shadow*' -o -path '/etc/gshadow*' \
		-o -path /etc/subuid -o -path /etc/subgid \) -prune \
		-o -printf '%p %y %m %u:%g\n' | sort
	in_root find /etc -xdev -type f ! -name 'passwd*' ! -name 'group*' \
		! -name 'shadow*' ! -name 'gshadow*' -exec md5sum {} + | sort
}
snapshot >"$work/before"
cp "$root/etc/passwd" "$work/passwd.before"

install_debs() {
	rm -f "$root"/debs/*
	cp "$@" "$root/debs/"
	in_root sh -c 'dpkg -i /debs/*.deb' >>"$work/dpkg.log" 2>&1 ||
		{ tail -20 "$work/dpkg.log"; fail "dpkg -i ${*##*/}"; }
}
check_installed() {
	local v
	for p in nbdroot-server nbdroot-client dracut-nbdroot; do
		v=$(in_root dpkg-query -W -f='${Status} ${Version}' "$p")
		[ "$v" = "install ok installed $1" ] ||
			fail "$p after $2: \"$v\", expected installed $1"
	done
	in_root /usr/sbin/nbd-server -h | grep -q 'usage: nbd-server' ||
		fail "nbd-server -h after $2"
	in_root /usr/sbin/nbd-client -h 2>&1 | grep -q 'nbd-client' ||
		fail "nbd-client -h after $2"
	in_root nbdroot-mkinitrd --help | grep -q -- '--modules' ||
		fail "nbdroot-mkinitrd --help after $2"
	in_root getent passwd nbdroot >/dev/null || fail "no user nbdroot after $2"
	in_root env NBDROOT_KERNEL_HOOK_CONF=/nonexistent \
		/etc/kernel/postinst.d/nbdroot 6.1.0-0-test /boot/vmlinuz-6.1.0-0-test ||
		fail "the unconfigured kernel hook failed after $2"
	in_root nbdroot-kconfig-check /nonexistent 2>&1 | grep -q 'not a readable file' ||
		fail "nbdroot-kconfig-check after $2"
	[ -s "$root/lib/systemd/system/nbd-server.service" ] &&
		[ -s "$root/lib/systemd/system/nbd-server.socket" ] ||
		fail "systemd units missing after $2"
	grep -qx "nbdroot_client='/usr/sbin/nbd-client'" \
		"$root/usr/lib/dracut/modules.d/95nbdroot/nbdroot.paths" ||
		fail "the dracut module's nbdroot.paths after $2"
}

install_debs "${debs[@]}"
check_installed "$ver" "install"
# the installed kernel hook, configured, finds the installed builders:
# a kernel with everything built in (no module tree), a PXE tree
had_modules=; [ -d "$root/lib/modules" ] && had_modules=1
mkdir -p "$root/lib/modules/6.1.0-0-test"
echo "not a kernel" >"$root/boot/vmlinuz-6.1.0-0-test"
cat >>"$root/etc/nbdroot/kernel-hook.conf" <<'CONF'
PXE_DIR=/srv/tftp
ROOT=nbd:192.168.10.1:10809
MODULES=none
CONF
in_root /etc/kernel/postinst.d/nbdroot 6.1.0-0-test /boot/vmlinuz-6.1.0-0-test \
	>"$work/hook.log" 2>&1 || { cat "$work/hook.log"; fail "the configured kernel hook failed"; }
[ -s "$root/var/cache/nbdroot/initrd.img-6.1.0-0-test" ] &&
	[ "$(cat "$root/srv/tftp/kernel-version")" = 6.1.0-0-test ] &&
	grep -q 'root=nbd:192.168.10.1:10809' "$root/srv/tftp/pxelinux.cfg/default" ||
	{ cat "$work/hook.log"; fail "the configured kernel hook wrote no initrd or PXE tree"; }
rm -rf "$root/srv/tftp" "$root/lib/modules/6.1.0-0-test" "$root/boot/vmlinuz-6.1.0-0-test"
[ -n "$had_modules" ] || rmdir "$root/lib/modules"
echo "installed kernel hook: built the initrd and the PXE tree"
echo "# a local change" >>"$root/etc/nbdroot/nbd-server.conf"
# what the service would create
mkdir -p "$root/var/lib/nbdroot/cow"
install_debs "${debs[@]}"
check_installed "$ver" "reinstalling $ver"

# a higher version: the same packages with the version bumped
new=$ver+test1
newdebs=()
for d in "${debs[@]}"; do
	rm -rf "$work/repack"
	dpkg-deb -R "$d" "$work/repack"
	sed -i "s/$ver/$new/g" "$work/repack/DEBIAN/control"
	n=$work/$(basename "$d" | sed "s/_${ver}_/_${new}_/")
	dpkg-deb -b "$work/repack" "$n" >/dev/null || fail "repacking $d"
	newdebs+=("$n")
done
install_debs "${newdebs[@]}"
check_installed "$new" "upgrading to $new"
grep -qx '# a local change' "$root/etc/nbdroot/nbd-server.conf" ||
	fail "the upgrade lost the local change to /etc/nbdroot/nbd-server.conf"
echo "install, reinstall, upgrade $ver -> $new: ok"

in_root dpkg --purge dracut-nbdroot nbdroot-client nbdroot-server \
	>>"$work/dpkg.log" 2>&1 || { tail -20 "$work/dpkg.log"; fail "dpkg --purge"; }
for p in nbdroot-server nbdroot-client dracut-nbdroot; do
	in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'installed' && fail "$p still known to dpkg after purge"
done
snapshot >"$work/after"
if ! diff -u "$work/before" "$work/after" >"$work/left"; then
	cat "$work/left"
	fail "the purge left the chroot different (above)"
fi
# the only trace: the system user, as Debian keeps them
diff "$work/passwd.before" "$root/etc/passwd" | grep '^[<>]' >"$work/pw"
[ "$(wc -l <"$work/pw")" = 1 ] && grep -q '^> nbdroot:' "$work/pw" ||
	{ cat "$work/pw"; fail "/etc/passwd changed by more than the nbdroot user"; }
echo "purge: nothing left but the nbdroot user"
echo "debian-packages: PASS"
