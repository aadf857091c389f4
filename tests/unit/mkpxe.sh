#!/bin/bash
# scripts/mkpxe on the host, without a VM: the tree it writes for a
# kernel and an initrd (stand-ins here), the boot line in boot.ipxe and
# pxelinux.cfg/default, BOOTIF from both, a SPEC given as a whole word,
# per-machine key initrds (--tls-keys), and the boot lines it must refuse before writing anything (the
# initrd's parser, and characters iPXE or pxelinux would read otherwise).
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-mkpxe.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# has FILE STRING: FILE holds the fixed STRING
has() {
	if grep -qF -- "$2" "$1"; then ok "${1#"$work"/}: $2"; else fail "${1#"$work"/} lacks: $2"; fi
}

echo kernel >"$work/vmlinuz-test"
echo initrd >"$work/initrd-test"
pxe() {
	scripts/mkpxe --kernel "$work/vmlinuz-test" --initrd "$work/initrd-test" "$@"
}

if pxe --out "$work/t" --root nbd:192.168.10.1:10809/room \
    --append "nbdroot.overlay=tmpfs console=ttyS0,115200" >"$work/out" 2>&1; then
	ok "a tree for nbd:192.168.10.1:10809/room"
else
	fail "mkpxe failed: $(cat "$work/out")"
fi
# same FILE COPY: the tree's FILE is a copy of COPY
same() {
	if cmp -s "$work/t/$1" "$2"; then ok "$1 is ${2##*/}"; else fail "$1 is not ${2##*/}"; fi
}
same vmlinuz "$work/vmlinuz-test"
same initrd.img "$work/initrd-test"
line="root=nbd:192.168.10.1:10809/room nbdroot.overlay=tmpfs console=ttyS0,115200"
has "$work/t/boot.ipxe" '#!ipxe'
has "$work/t/boot.ipxe" "kernel vmlinuz initrd=initrd.img $line BOOTIF=01-\${netX/mac:hexhyp}"
has "$work/t/boot.ipxe" "initrd initrd.img"
has "$work/t/pxelinux.cfg/default" "APPEND $line"
has "$work/t/pxelinux.cfg/default" "IPAPPEND 2"
has "$work/t/pxelinux.cfg/default" "INITRD initrd.img"
has "$work/t/dnsmasq.conf.example" "tftp-root=$work/t"
has "$work/t/dnsmasq.conf.example" "dhcp-boot=tag:ipxe,boot.ipxe"

# a SPEC with "=" is a word of its own
if pxe --out "$work/d" --root nbdroot=192.168.10.1,room >/dev/null 2>&1; then
	has "$work/d/pxelinux.cfg/default" "APPEND nbdroot=192.168.10.1,room"
else
	fail "nbdroot=SERVER,NAME refused"
fi

# per-machine keys: keys/MAC.cpio holds exactly etc/nbdroot/tls.psk (0600,
# root's, the key's bytes) and its directories; boot.ipxe loads it by MAC,
# pxelinux.cfg/01-MAC names it; the same keys give the same bytes
mkdir "$work/keys"
printf 'lab-17:0123456789abcdef0123456789abcdef\n' >"$work/keys/52-54-00-12-34-56.psk"
printf 'lab-18:fedcba9876543210fedcba9876543210\n' >"$work/keys/52-54-00-AB-CD-EF.psk"
if pxe --out "$work/k" --root nbd:192.168.10.1:10809 --tls-keys "$work/keys" >"$work/out" 2>&1; then
	ok "a tree with --tls-keys"
else
	fail "mkpxe --tls-keys failed: $(cat "$work/out")"
fi
# key_cpio MAC KEYFILE
key_cpio() {
	local c=$work/k/keys/$1.cpio x=$work/x-$1 list
	[ -f "$c" ] || { fail "no keys/$1.cpio"; return; }
	list=$(cpio -itv --quiet <"$c" | awk '{ print $1, $3, $4, $NF }')
	if [ "$list" = "drwxr-xr-x root root etc
drwxr-xr-x root root etc/nbdroot
-rw------- root root etc/nbdroot/tls.psk" ]; then
		ok "keys/$1.cpio: etc/nbdroot/tls.psk 0600 root:root, nothing else"
	else
		fail "keys/$1.cpio holds: $list"
	fi
	mkdir "$x"
	(cd "$x" && cpio -id --quiet <"$c")
	if cmp -s "$x/etc/nbdroot/tls.psk" "$2"; then
		ok "keys/$1.cpio: the key of ${2##*/}"
	else
		fail "keys/$1.cpio: tls.psk is not ${2##*/}"
	fi
	has "$work/k/pxelinux.cfg/01-$1" "INITRD initrd.img,keys/$1.cpio"
	has "$work/k/pxelinux.cfg/01-$1" "APPEND root=nbd:192.168.10.1:10809"
}
key_cpio 52-54-00-12-34-56 "$work/keys/52-54-00-12-34-56.psk"
key_cpio 52-54-00-ab-cd-ef "$work/keys/52-54-00-AB-CD-EF.psk"
has "$work/k/boot.ipxe" "initrd --name key.cpio keys/\${netX/mac:hexhyp}.cpio || goto nokey"
has "$work/k/boot.ipxe" "kernel vmlinuz initrd=initrd.img initrd=key.cpio root="
if grep -q 'key.cpio\|nokey' "$work/t/boot.ipxe" || [ -e "$work/t/keys" ]; then
	fail "a tree without --tls-keys loads a key"
else
	ok "without --tls-keys: no key initrd"
fi
pxe --out "$work/k2" --root nbd:192.168.10.1:10809 --tls-keys "$work/keys" >/dev/null 2>&1
if cmp -s "$work/k/keys/52-54-00-12-34-56.cpio" "$work/k2/keys/52-54-00-12-34-56.cpio"; then
	ok "keys/MAC.cpio is reproducible"
else
	fail "two runs wrote different keys/52-54-00-12-34-56.cpio"
fi

# refusals: nothing written, the reason named
refuse() {
	local what=$1 want=$2
	shift 2
	rm -rf "$work/r"
	if pxe --out "$work/r" "$@" >"$work/out" 2>&1; then
		fail "$what: accepted"
	elif [ -e "$work/r" ]; then
		fail "$what: refused, but wrote $work/r"
	elif grep -qF -- "$want" "$work/out"; then
		ok "$what: $(head -n 1 "$work/out")"
	else
		fail "$what: the message does not say \"$want\": $(cat "$work/out")"
	fi
}
refuse "bad port" 'port "99999"' --root nbd:192.168.10.1:99999
refuse "unknown option" 'nbdroot.bogus' --root nbd:10.0.0.1:10809 --append nbdroot.bogus=1
refuse "a quote" 'quotes' --root nbd:10.0.0.1:10809 --append 'x="a b"'
# shellcheck disable=SC2016 # the $ is the point
refuse "a dollar" 'quotes' --root nbd:10.0.0.1:10809 --append 'x=${y}'
refuse "no root" 'scripts/mkpxe --out DIR --root SPEC' --out "$work/r"
mkdir "$work/bad" "$work/badname" "$work/empty"
printf 'lab-1:00ff\nlab-2:xyz\n' >"$work/bad/52-54-00-12-34-56.psk"
refuse "bad key line" "52-54-00-12-34-56.psk:2: not an identity:hexkey line" \
	--root nbd:10.0.0.1:10809 --tls-keys "$work/bad"
printf 'lab-1:00ff\n' >"$work/badname/ws01.psk"
refuse "key not named by MAC" '"ws01" is not a MAC address' \
	--root nbd:10.0.0.1:10809 --tls-keys "$work/badname"
refuse "no keys" 'holds no MAC.psk file' --root nbd:10.0.0.1:10809 --tls-keys "$work/empty"
refuse "missing initrd" 'make initrd' --root nbd:10.0.0.1:10809 --initrd "$work/none"

[ "$failures" = 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
