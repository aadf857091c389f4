#!/bin/bash
# nbdroot-modload's dry run (-n) on the host: which options each module
# gets (-o's, then the kernel command line's NAME.PARAM=VALUE in order,
# '-' and '_' the same), quoted values, words after "--", and its
# refusals (an overlong command line or option string, a quote inside a
# word, a missing module file, a missing module directory, bad usage).
# It never loads anything: a real finit_module on the host would load a
# module into this machine's kernel.
set -u
cd "$(dirname "$0")/../.." || exit 1
tool=$PWD/initramfs/modload/nbdroot-modload
[ -x "$tool" ] || { echo "FAIL: $tool not built (run make)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-modload.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }
# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got \"$2\", want \"$3\""; fi
}

m=$work/modules
mkdir -p "$m/kernel/drivers/block" "$m/kernel/fs/ext4" "$m/kernel/drivers/net"
for f in kernel/drivers/block/nbd.ko kernel/fs/ext4/ext4.ko \
    kernel/drivers/net/virtio_net.ko kernel/drivers/net/r8152.ko.xz; do
	echo "not a module: -n never loads it" >"$m/$f"
done
nbd=kernel/drivers/block/nbd.ko ext4=kernel/fs/ext4/ext4.ko
vnet=kernel/drivers/net/virtio_net.ko
defaults="nbd nbds_max=16 max_part=16"

# dry CMDLINE ARG...: the tool's stdout, stderr and exit status with
# CMDLINE as /proc/cmdline (a trailing newline, as /proc has)
dry() {
	printf '%s\n' "$1" >"$work/cmdline"
	shift
	NBDROOT_CMDLINE=$work/cmdline "$tool" -n -d "$m" "$@" 2>&1
	echo "exit $?"
}

expect "defaults from -o, no command line options" \
	"$(dry "root=/dev/nbd0 quiet" -o "$defaults" "$nbd" "$ext4")" \
	"load $nbd nbds_max=16 max_part=16
load $ext4
exit 0"
expect "the command line's nbd.PARAM come after the defaults, in their order" \
	"$(dry "nbd.nbds_max=4 ro nbd.max_part=8 nbd.nbds_max=2" -o "$defaults" "$nbd")" \
	"load $nbd nbds_max=16 max_part=16 nbds_max=4 max_part=8 nbds_max=2
exit 0"
expect "'-' and '_' are the same in a module name, both ways" \
	"$(dry "virtio-net.napi_tx=1 virtio_net.csum=0" -o "virtio-net gso=0" "$vnet")" \
	"load $vnet gso=0 napi_tx=1 csum=0
exit 0"
expect "a parameter for another module is not applied" \
	"$(dry "ext4.foo=1 nbdx.nbds_max=2 xnbd.a=1 nbd=1 .nbd=1 nbd.=1" "$nbd" "$ext4")" \
	"load $nbd
load $ext4 foo=1
exit 0"
expect "a bare NAME.PARAM is passed bare (a boolean)" \
	"$(dry "ext4.debug" "$ext4")" \
	"load $ext4 debug
exit 0"
expect "quoted values with blanks (both ways the kernel allows) are passed quoted" \
	"$(dry 'nbd.a="x y" "nbd.b=z  w" nbd.c="" nbd.d="plain"' "$nbd")" \
	"load $nbd a=\"x y\" b=\"z  w\" c= d=plain
exit 0"
expect "words after -- are init's: not applied" \
	"$(dry "nbd.a=1 -- nbd.b=2" "$nbd")" \
	"load $nbd a=1
exit 0"
expect "a compressed module's name stops at .ko" \
	"$(dry "r8152.x=1" kernel/drivers/net/r8152.ko.xz)" \
	"load kernel/drivers/net/r8152.ko.xz x=1
exit 0"
expect "a quote inside a word is refused, naming the word and the module" \
	"$(dry 'nbd.a=x"y z"' -o "$defaults" "$ext4" "$nbd")" \
	"load $ext4
nbdroot-modload: $nbd: kernel command line: nbd.a=x\"y z\": a quote inside a word is not supported
exit 1"

long=$(head -c 5000 /dev/zero | tr '\0' a)
expect "an overlong command line is refused with its limit" \
	"$(dry "$long" "$nbd")" \
	"nbdroot-modload: $work/cmdline: too long (more than 4097 bytes)
exit 1"
expect "a 4096-byte command line (the largest COMMAND_LINE_SIZE) is read whole" \
	"$(dry "nbd.v=${long:0:4090}" "$nbd" | awk '{ print length($0) }')" \
	"$((${#nbd} + 4098))
6"
expect "options over the limit (-o's and the command line's) are refused, naming the module" \
	"$(dry "nbd.a=${long:0:3500}" -o "nbd x=${long:0:1000}" "$ext4" "$nbd")" \
	"load $ext4
nbdroot-modload: $nbd: options too long (more than 4095 bytes)
exit 1"
expect "a missing module file is named, the modules before it are done, none after" \
	"$(dry "" "$ext4" kernel/fs/xfs/xfs.ko "$nbd")" \
	"load $ext4
nbdroot-modload: kernel/fs/xfs/xfs.ko: No such file or directory
exit 1"
expect "a missing module directory is named" \
	"$(NBDROOT_CMDLINE=$work/cmdline "$tool" -n -d "$work/nosuch" "$nbd" 2>&1; echo "exit $?")" \
	"nbdroot-modload: $work/nosuch: No such file or directory
exit 1"
expect "a missing command line file is named" \
	"$(NBDROOT_CMDLINE=$work/nosuch "$tool" -n -d "$m" "$nbd" 2>&1; echo "exit $?")" \
	"nbdroot-modload: $work/nosuch: No such file or directory
exit 1"
expect "-o without options is a usage error" \
	"$(dry "" -o nbd "$nbd")" \
	"nbdroot-modload: -o \"nbd\": not NAME OPTIONS
exit 2"
expect "no module is a usage error" \
	"$(dry "" -o "$defaults")" \
	"usage: nbdroot-modload [-n] [-d MODDIR] [-o \"NAME OPTIONS\"]... PATH...
exit 2"
size=$(stat -c %s "$tool")
if [ "$size" -le 30720 ]; then ok "static and small: $size bytes"
else fail "$tool is $size bytes (over 30 KB)"; fi

echo "modload: $checks ok, $failures failed"
[ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
