#!/bin/bash
# scripts/mkpxe on the host, without a VM: the tree it writes for a
# kernel and an initrd (stand-ins here), the boot line in boot.ipxe and
# pxelinux.cfg/default, BOOTIF from both, a SPEC given as a whole word,
# and the boot lines it must refuse before writing anything (the
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
refuse "missing initrd" 'make initrd' --root nbd:10.0.0.1:10809 --initrd "$work/none"

[ "$failures" = 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
