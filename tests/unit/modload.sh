#!/bin/bash
# nbdroot-modload's dry run (-n) on the host: which options each module
# gets (-o's, then the kernel command line's NAME.PARAM=VALUE in order,
# '-' and '_' the same), quoted values, words after "--", and its
# refusals (an overlong command line or option string, a quote inside a
# word, a missing module file, a missing module directory, bad usage);
# then -a against a fake module directory and sysfs: the drivers the
# devices' modaliases match, what loads for them, a network controller
# no driver takes, a failing module, malformed and missing lists (every
# module then loads: a driver too many, not a boot without its root).
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
       nbdroot-modload -a [-n] [-d MODDIR] [-s SYSFS] [-o \"NAME OPTIONS\"]...
exit 2"
expect "-a with module paths is a usage error" \
	"$(dry "" -a "$nbd" | head -n 1)" \
	"usage: nbdroot-modload [-n] [-d MODDIR] [-o \"NAME OPTIONS\"]... PATH..."

# -a: what this machine needs. nbd and ext4 load on every boot;
# virtio_net and e1000 only for a device their aliases match (their
# nbdroot.ondemand lines), with what they pull in (mii for e1000).
mkdir -p "$m/kernel/drivers/net/ethernet"
echo "not a module" >"$m/kernel/drivers/net/mii.ko"
echo "not a module" >"$m/kernel/drivers/net/ethernet/e1000.ko"
e1000=kernel/drivers/net/ethernet/e1000.ko mii=kernel/drivers/net/mii.ko
printf '%s\n' "$nbd" "$ext4" "$vnet" "$mii" "$e1000" >"$m/nbdroot.order"
printf '%s\n' "virtio_net virtio:d00000001v*" \
	"e1000 pci:v00008086d0000100[EF]sv*sd*bc*sc*i*" >"$m/nbdroot.alias"
printf '%s\n' "virtio_net $vnet" "e1000 $mii $e1000" >"$m/nbdroot.ondemand"
sys=$work/sys
dev() {	# dev BUS NAME MODALIAS
	mkdir -p "$sys/bus/$1/devices/$2"
	echo "$3" >"$sys/bus/$1/devices/$2/modalias"
}
# machine: dry -a against $sys
machine() {
	printf '%s\n' "$1" >"$work/cmdline"
	shift
	NBDROOT_CMDLINE=$work/cmdline "$tool" -a -n -d "$m" -s "$sys" "$@" 2>&1
	echo "exit $?"
}
mkdir -p "$sys"
expect "-a, no PCI or virtio bus: what every boot loads, no driver" \
	"$(machine "" -o "$defaults")" \
	"load $nbd nbds_max=16 max_part=16
load $ext4
exit 0"
dev pci 0000:00:00.0 pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00
dev pci 0000:00:02.0 pci:v00008086d0000100Fsv00001AF4sd00001100bc02sc00i00
dev pci 0000:00:04.0 pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00
dev pci 0000:00:05.0 pci:v00008086d00001100sv00001AF4sd00001100bc02sc00i00
mkdir -p "$sys/bus/pci/devices/0000:00:05.0/driver"	# a built-in driver took it
dev virtio virtio0 virtio:d00000001v00001AF4
expect "-a: each driver a device matched, once, in nbdroot.order's order with what it pulls in; the controller no driver took is named" \
	"$(machine "e1000.debug=1")" \
	"driver virtio_net
driver e1000
load $nbd
load $ext4
load $vnet
load $mii
load $e1000 debug=1
nodriver 0000:00:04.0 pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00
exit 0"
rm "$m/kernel/drivers/net/mii.ko"
expect "-a: a module that fails is named, and the ones after it still load" \
	"$(machine "" | grep -Ev '^(no)?driver ')" \
	"load $nbd
load $ext4
load $vnet
nbdroot-modload: $mii: No such file or directory
load $e1000
exit 1"
echo "not a module" >"$m/kernel/drivers/net/mii.ko"
echo "e1000" >>"$m/nbdroot.alias"
every="load $nbd
load $ext4
load $vnet
load $mii
load $e1000
exit 1"
expect "-a: an alias line that is not NAME GLOB is named, and every module loads" \
	"$(machine "")" \
	"nbdroot-modload: $m/nbdroot.alias: a line is not NAME GLOB: loading every module
$every"
rm "$m/nbdroot.alias"
expect "-a: a missing list is named, and every module loads" \
	"$(machine "")" \
	"nbdroot-modload: $m/nbdroot.alias: No such file or directory: loading every module
$every"
rm "$m/nbdroot.order"
expect "-a: without nbdroot.order, nothing loads" \
	"$(machine "")" \
	"nbdroot-modload: $m/nbdroot.order: No such file or directory
exit 1"
expect "-s without -a is a usage error" \
	"$(dry "" -s "$sys" "$nbd" | tail -n 1)" \
	"exit 2"

size=$(stat -c %s "$tool")
if [ "$size" -le 30720 ]; then ok "static and small: $size bytes"
else fail "$tool is $size bytes (over 30 KB)"; fi

echo "modload: $checks ok, $failures failed"
[ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
