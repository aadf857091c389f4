#!/bin/bash
# initramfs/mkinitrd on the host, without a VM: module resolution against
# a fake module tree (dependencies first, built-ins and absent drivers
# skipped, --modules host, a kernel with everything built in, one with no
# NBD at all), --extra, --hooks and --tls-psk, and two builds of the
# real initrd that must be byte-identical.
# shellcheck disable=SC2016 # expect ... eval '...': expanded when run
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-mkinitrd.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# expect WHAT COMMAND...: ok when COMMAND succeeds, else a failure
expect() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# before NAME A B: in build NAME's load order, module A comes before B
before() {
	local list
	list=$(order "$1")
	case $list in
	*"/$2.ko "*"/$3.ko "*) return 0 ;;
	esac
	return 1
}

# same_set NAME "PATHS": build NAME loads exactly these modules
same_set() {
	[ "$(order "$1" | tr ' ' '\n' | sed '/^$/d' | sort)" = "$(echo "$2" | tr ' ' '\n' | sed '/^$/d' | sort)" ]
}

[ -x client/nbd-client ] || { echo "client/nbd-client not built (run make)"; exit 1; }

# A module tree: paths as modules.dep writes them, the nbd module built in
# for the "builtin" tree only.
fake_tree() {
	local dir=$work/$1/lib/modules/9.9.9-fake m
	mkdir -p "$dir"
	cat >"$dir/modules.dep" <<'DEP'
kernel/drivers/block/nbd.ko:
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/fs/overlayfs/overlay.ko:
kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
kernel/drivers/net/mii.ko:
kernel/drivers/net/ethernet/realtek/r8169.ko: kernel/drivers/net/mii.ko
kernel/drivers/net/dummy.ko:
kernel/lib/crypto/libchacha.ko:
kernel/crypto/chacha_generic.ko: kernel/lib/crypto/libchacha.ko
kernel/lib/crypto/libpoly1305.ko:
kernel/crypto/poly1305_generic.ko: kernel/lib/crypto/libpoly1305.ko
kernel/crypto/chacha20poly1305.ko:
kernel/net/tls/tls.ko:
DEP
	: >"$dir/modules.builtin"
	echo kernel/drivers/block/loop.ko >>"$dir/modules.builtin"
	# signed (the trailer sign-file appends), so that BTF is left alone
	while IFS=: read -r m _; do
		mkdir -p "$dir/$(dirname "$m")"
		printf 'fake %s\n~Module signature appended~\n' "$m" >"$dir/$m"
	done <"$dir/modules.dep"
	# e1000: an unsigned object with BTF, which the default build drops
	printf 'btf' >"$work/btf.bin"
	cc -c -x c /dev/null -o "$work/empty.o" &&
		objcopy --add-section .BTF="$work/btf.bin" "$work/empty.o" \
			"$dir/kernel/drivers/net/ethernet/intel/e1000/e1000.ko"
	echo "$dir"
}

# has_btf FILE: the object has a .BTF section
has_btf() {
	objdump -h "$1" 2>/dev/null | grep -q ' \.BTF '
}

# build NAME ARGS...: an uncompressed initrd in $work/NAME.img, unpacked
# into $work/NAME.d; its output in $work/NAME.out.
build() {
	local name=$1
	shift
	SOURCE_DATE_EPOCH=1700000000 initramfs/mkinitrd --compress none \
		--out "$work/$name.img" "$@" >"$work/$name.out" 2>&1 || return 1
	mkdir -p "$work/$name.d"
	(cd "$work/$name.d" && { cpio -id --quiet; cpio -id --quiet; } <"$work/$name.img") 2>/dev/null
	return 0
}

order() {
	tr '\n' ' ' <"$work/$1.d/lib/modules/9.9.9-fake/nbdroot.order" 2>/dev/null
}

tree=$(fake_tree default)
if build default --moddir "$tree"; then
	expect "default set: $(order default)" same_set default \
		"kernel/drivers/block/nbd.ko kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko kernel/fs/ext4/ext4.ko kernel/fs/overlayfs/overlay.ko kernel/drivers/net/ethernet/intel/e1000/e1000.ko kernel/drivers/net/mii.ko kernel/drivers/net/ethernet/realtek/r8169.ko"
	expect "dependencies load first" eval 'before default jbd2 ext4 &&
		before default mbcache ext4 && before default crc16 ext4 &&
		before default mii r8169'
	expect "a module outside the set stays out" \
		test ! -e "$work/default.d/lib/modules/9.9.9-fake/kernel/drivers/net/dummy.ko"
	expect "absent drivers named, built-in loop not: $(grep lacks "$work/default.out")" \
		eval 'grep -q "lacks.*squashfs" "$work/default.out" && ! grep -q "lacks.*loop" "$work/default.out"'
	expect "crc32c_generic serves ext4; crc32c_intel is not in the default set" \
		eval 'grep -q "lacks.*crc32c_generic" "$work/default.out" && ! grep -q "lacks.*crc32c_intel" "$work/default.out"'
	expect "xfs and btrfs are not in the default set" \
		eval '! grep -q "lacks.*xfs" "$work/default.out" && ! grep -q "lacks.*btrfs" "$work/default.out"'
	if build with-xfs --moddir "$tree" --modules default,xfs,btrfs; then
		fail "default,xfs,btrfs built without the kernel's xfs"
	else
		expect "default,xfs asks for xfs by name: $(cat "$work/with-xfs.out")" \
			grep -q 'has no module "xfs"' "$work/with-xfs.out"
	fi
	expect "a signed module is copied byte for byte (a kernel in lockdown checks it)" \
		cmp -s "$tree/kernel/fs/ext4/ext4.ko" "$work/default.d/lib/modules/9.9.9-fake/kernel/fs/ext4/ext4.ko"
	expect "an unsigned module loses its BTF" eval \
		'has_btf "$tree/kernel/drivers/net/ethernet/intel/e1000/e1000.ko" &&
		! has_btf "$work/default.d/lib/modules/9.9.9-fake/kernel/drivers/net/ethernet/intel/e1000/e1000.ko"'
else
	fail "default build: $(cat "$work/default.out")"
fi

printf 'e1000\njbd2\next4\nsnd_hda_intel\n' >"$work/host-modules"
if build host --moddir "$tree" --keep-btf --modules host --host-modules "$work/host-modules"; then
	expect "--modules host keeps nbd and what the host uses: $(order host)" same_set host \
		"kernel/drivers/block/nbd.ko kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko kernel/fs/ext4/ext4.ko kernel/drivers/net/ethernet/intel/e1000/e1000.ko"
else
	fail "host build: $(cat "$work/host.out")"
fi

if build list --moddir "$tree" --modules default,-ext4,-r8169,dummy; then
	expect "--modules default,-ext4,-r8169,dummy: $(order list)" same_set list \
		"kernel/drivers/block/nbd.ko kernel/fs/overlayfs/overlay.ko kernel/drivers/net/ethernet/intel/e1000/e1000.ko kernel/drivers/net/dummy.ko"
else
	fail "list build: $(cat "$work/list.out")"
fi
for bad in "-nbd:nbd cannot be left out" "default,nosuch:has no module \"nosuch\"" \
	"none,host:none cannot be combined" "default, e1000:has a blank" "de/fault:is not default"; do
	if build bad --moddir "$tree" --modules "${bad%%:*}"; then
		fail "--modules ${bad%%:*} was accepted"
	else
		expect "--modules ${bad%%:*} refused: $(cat "$work/bad.out")" grep -qF "${bad#*:}" "$work/bad.out"
	fi
done

# everything built in: modules.builtin and no modules.dep
builtin=$work/builtin/lib/modules/9.9.9-fake
mkdir -p "$builtin"
echo kernel/drivers/block/nbd.ko >"$builtin/modules.builtin"
if build builtin --moddir "$builtin"; then
	expect "a kernel with everything built in: an initrd without modules" \
		eval '[ ! -s "$work/builtin.d/lib/modules/9.9.9-fake/nbdroot.order" ] && [ -x "$work/builtin.d/init" ]' 
	expect "/init is nbdroot-early, which runs the shell init lib/nbdroot/init" \
		eval 'cmp -s initramfs/mounts/nbdroot-early "$work/builtin.d/init" &&
		cmp -s initramfs/init "$work/builtin.d/lib/nbdroot/init" &&
		grep -q "/lib/nbdroot/init" "$work/builtin.d/init"'
	expect "the hand-over is nbdroot-switch" \
		cmp -s initramfs/mounts/nbdroot-switch "$work/builtin.d/sbin/nbdroot-switch"
else
	fail "built-in kernel: $(cat "$work/builtin.out")"
fi

mkdir -p "$work/nonbd/lib/modules/9.9.9-fake"
if build nonbd --moddir "$work/nonbd/lib/modules/9.9.9-fake"; then
	fail "a kernel without NBD gave an initrd"
elif grep -q "does not say NBD is built in" "$work/nonbd.out"; then
	ok "a kernel without NBD: $(cat "$work/nonbd.out")"
else
	fail "no NBD: $(cat "$work/nonbd.out")"
fi

mkdir -p "$work/extra/etc" "$work/hooks/pre-mount"
echo token >"$work/extra/etc/site.conf"
printf '#!/bin/sh\necho hi\n' >"$work/hooks/pre-mount/10-hi"
chmod +x "$work/hooks/pre-mount/10-hi"
if build custom --moddir "$builtin" --extra "$work/extra" --hooks "$work/hooks"; then
	expect "--extra files land in the root" test "$(cat "$work/custom.d/etc/site.conf")" = token
	expect "--hooks installed under /lib/nbdroot/hooks, every stage present" \
		eval '[ -x "$work/custom.d/lib/nbdroot/hooks/pre-mount/10-hi" ] && [ -d "$work/custom.d/lib/nbdroot/hooks/pre-switch" ]' 
else
	fail "custom build: $(cat "$work/custom.out")"
fi
mkdir -p "$work/hooks/pre-boot"
if build badhook --moddir "$builtin" --hooks "$work/hooks"; then
	fail "a hook directory for an unknown stage was accepted"
else
	expect "unknown hook stage refused: $(cat "$work/badhook.out")" \
		grep -q "pre-boot is not a stage" "$work/badhook.out"
fi

# --tls-psk: the key (root only) and kTLS's modules, ciphers before tls
printf 'lab-17:%s\n' 00112233445566778899aabbccddeeff >"$work/keys.psk"
if build tls --moddir "$tree" --tls-psk "$work/keys.psk"; then
	expect "--tls-psk: the key in /etc/nbdroot/tls.psk, mode 0600" eval \
		'cmp -s "$work/keys.psk" "$work/tls.d/etc/nbdroot/tls.psk" &&
		[ "$(stat -c %a "$work/tls.d/etc/nbdroot/tls.psk")" = 600 ]'
	expect "--tls-psk: cipher modules load before tls: $(order tls)" eval \
		'before tls libchacha chacha_generic && before tls chacha_generic tls &&
		before tls poly1305_generic tls && before tls chacha20poly1305 tls'
else
	fail "--tls-psk build: $(cat "$work/tls.out")"
fi
printf 'lab-17:0011\nlab-18 0011\n' >"$work/bad.psk"
if build badkey --moddir "$tree" --tls-psk "$work/bad.psk"; then
	fail "a key file with a bad line was accepted"
else
	expect "bad key line refused: $(cat "$work/badkey.out")" \
		grep -qF "$work/bad.psk:2: not an identity:hexkey line" "$work/badkey.out"
fi
notls=$work/notls/lib/modules/9.9.9-fake
mkdir -p "$notls"
cp -r "$tree/." "$notls/"
sed -i '/tls\.ko/d' "$notls/modules.dep"
if build notls --moddir "$notls" --tls-psk "$work/keys.psk"; then
	fail "--tls-psk for a kernel without tls gave an initrd"
else
	expect "kernel without tls refused: $(cat "$work/notls.out")" \
		grep -q "has no tls module" "$work/notls.out"
fi

# lz4: the kernel reads only the legacy frame; the archive inside is the
# same as without compression
if SOURCE_DATE_EPOCH=1700000000 initramfs/mkinitrd --compress lz4 --moddir "$tree" \
	--out "$work/lz4.img" >"$work/lz4.out" 2>&1; then
	expect "lz4 writes the legacy frame the kernel reads: $(head -c 4 "$work/lz4.img" | od -An -tx1)" \
		test "$(head -c 4 "$work/lz4.img" | od -An -tx1 | tr -d ' ')" = 02214c18
	expect "lz4 holds the archive --compress none writes" \
		eval 'lz4 -dcq "$work/lz4.img" | cmp -s - "$work/default.img"'
else
	fail "--compress lz4: $(cat "$work/lz4.out")"
fi
# zstd, the default: a 1 MiB window, the buffer the kernel allocates and
# streams the archive through (8 MiB, -19's own, unpacks slower)
if SOURCE_DATE_EPOCH=1700000000 initramfs/mkinitrd --moddir "$tree" \
	--out "$work/zstd.img" >"$work/zstd.out" 2>&1; then
	window=$(zstd -lv "$work/zstd.img" 2>/dev/null | sed -n 's/^Window Size:.*(\([0-9]*\) B)$/\1/p')
	expect "zstd's window is 1 MiB or less: ${window:-none} bytes" \
		test "${window:-0}" -gt 0 -a "${window:-0}" -le 1048576
	expect "zstd holds the archive --compress none writes" \
		eval 'zstd -dcq "$work/zstd.img" | cmp -s - "$work/default.img"'
else
	fail "--compress zstd: $(cat "$work/zstd.out")"
fi
if initramfs/mkinitrd --compress lz5 --moddir "$tree" --out "$work/lz5.img" >"$work/lz5.out" 2>&1; then
	fail "--compress lz5 gave an initrd"
else
	expect "an unknown compressor is named: $(cat "$work/lz5.out")" grep -q '"lz5" is not' "$work/lz5.out"
fi

# the real thing, twice, compressed as shipped
if [ -r "/lib/modules/$(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)/modules.dep" ]; then
	# from a private copy of the inputs (others may rebuild the client
	# meanwhile), a second apart, so that a timestamp not taken from the
	# epoch shows
	mkdir -p "$work/top/client"
	cp -r initramfs "$work/top/"
	cp client/nbd-client "$work/top/client/"
	SOURCE_DATE_EPOCH=1700000000 "$work/top/initramfs/mkinitrd" --out "$work/a.img" >/dev/null 2>&1 ||
		fail "first real build failed"
	sleep 1
	SOURCE_DATE_EPOCH=1700000000 "$work/top/initramfs/mkinitrd" --out "$work/b.img" >/dev/null 2>&1 ||
		fail "second real build failed"
	if cmp -s "$work/a.img" "$work/b.img"; then
		ok "two builds of the real initrd are byte-identical ($(wc -c <"$work/a.img") bytes)"
	else
		fail "two builds differ: $(cmp "$work/a.img" "$work/b.img")"
	fi
else
	echo "skip: no installed kernel for the reproducibility check"
fi

[ "$failures" -eq 0 ]
