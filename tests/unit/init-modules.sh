#!/bin/bash
# initramfs/lib/modules.sh with what mkinitrd writes for it, on the host:
# a fake module tree whose modules.alias gives e1000, r8169, virtio_pci
# and virtio_net PCI or virtio aliases (and a driver with a USB alias,
# which must load on every boot); mkinitrd's nbdroot.alias and
# nbdroot.ondemand; then, under busybox sh and dash, load_modules against
# a fake sysfs with nbdroot-modload stubbed by its own dry run (-n): an
# e1000 machine loads e1000 and no other NIC driver, a virtio machine
# loads virtio_pci and virtio_net (the dry run loads nothing, so the
# virtio device a probe adds is there from the start; tests/qemu/32
# boots the real second pass), and a PCI network controller no driver
# matches is named with its modalias. squashfs and overlay load only
# when mod_need asks for them. The boot's selection is one
# nbdroot-modload (-a), and each mod_need one more; nbd gets
# module_args's options, then the kernel command line's; the tool's
# refusal reaches fail, and the modules after the refused one still
# load. A controller that a driver built into the kernel has bound is
# not named; an initrd from mkinitrd --modules none runs no
# nbdroot-modload and forks nothing, naming only a controller no driver
# has bound.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-init-modules.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; checks=$((checks + 1)); }
# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got \"$2\", want \"$3\""; fi
}
for t in busybox dash cpio; do
	command -v "$t" >/dev/null || { echo "FAIL: $t not installed (run scripts/deps)"; exit 1; }
done
[ -x client/nbd-client ] || { echo "FAIL: client/nbd-client not built (run make)"; exit 1; }
modload=$PWD/initramfs/modload/nbdroot-modload
[ -x "$modload" ] || { echo "FAIL: $modload not built (run make)"; exit 1; }

kv=9.9.9-fake
tree=$work/tree/lib/modules/$kv
mkdir -p "$tree"
cat >"$tree/modules.dep" <<'DEP'
kernel/drivers/block/nbd.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko
kernel/lib/crc16.ko:
kernel/drivers/net/mii.ko:
kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
kernel/drivers/net/ethernet/realtek/r8169.ko: kernel/drivers/net/mii.ko
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio.ko
kernel/drivers/net/usb/r8152.ko: kernel/drivers/net/mii.ko
kernel/fs/squashfs/squashfs.ko: kernel/lib/xxhash.ko kernel/lib/crc16.ko
kernel/lib/xxhash.ko:
kernel/fs/overlayfs/overlay.ko:
DEP
cat >"$tree/modules.alias" <<'ALIAS'
# Aliases extracted from modules themselves.
alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
alias pci:v00008086d0000100Fsv*sd*bc*sc*i* e1000
alias pci:v000010ECd00008168sv*sd*bc*sc*i* r8169
alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
alias usb:v0BDAp8152d*dc*dsc*dp*ic*isc*ip*in* r8152
alias fs-ext4 ext4
ALIAS
: >"$tree/modules.builtin"
while IFS=: read -r m _; do
	mkdir -p "$tree/$(dirname "$m")"
	printf 'fake %s\n~Module signature appended~\n' "$m" >"$tree/$m"
done <"$tree/modules.dep"

SOURCE_DATE_EPOCH=1700000000 initramfs/mkinitrd --compress none --moddir "$tree" \
	--modules nbd,ext4,squashfs,overlay,e1000,r8169,virtio_pci,virtio_net,r8152 \
	--out "$work/initrd.img" >"$work/mkinitrd.out" 2>&1 ||
	{ echo "FAIL: mkinitrd: $(cat "$work/mkinitrd.out")"; exit 1; }
mkdir -p "$work/root"
(cd "$work/root" && { cpio -id --quiet; cpio -id --quiet; } <"$work/initrd.img") 2>/dev/null
mods=$work/root/lib/modules/$kv
# what mkinitrd --modules none writes, for a kernel with its drivers built in
SOURCE_DATE_EPOCH=1700000000 initramfs/mkinitrd --compress none --kver "$kv" \
	--moddir "$work/no-modules/$kv" --modules none \
	--out "$work/initrd-none.img" >"$work/mkinitrd-none.out" 2>&1 ||
	{ echo "FAIL: mkinitrd --modules none: $(cat "$work/mkinitrd-none.out")"; exit 1; }
mkdir -p "$work/root-none"
(cd "$work/root-none" && { cpio -id --quiet; cpio -id --quiet; } <"$work/initrd-none.img") 2>/dev/null
nomods=$work/root-none/lib/modules/$kv
[ -e "$nomods/nbdroot.order" ] && [ ! -s "$nomods/nbdroot.order" ] ||
	{ echo "FAIL: mkinitrd --modules none: no empty $nomods/nbdroot.order"; exit 1; }
expect "nbdroot.ondemand: each bus driver with what only it pulls in" \
	"$(sort "$mods/nbdroot.ondemand" | tr '\n' ';')" \
	"e1000 kernel/drivers/net/ethernet/intel/e1000/e1000.ko;overlay kernel/fs/overlayfs/overlay.ko;r8169 kernel/drivers/net/ethernet/realtek/r8169.ko;squashfs kernel/lib/xxhash.ko kernel/fs/squashfs/squashfs.ko;virtio_net kernel/drivers/virtio/virtio.ko kernel/drivers/net/virtio_net.ko;virtio_pci kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_pci.ko;"
expect "nbdroot.alias: each bus driver's globs as modules.alias has them" \
	"$(grep -E '^(virtio_pci|e1000) ' "$mods/nbdroot.alias" | tr '\n' ';')" \
	"e1000 pci:v00008086d0000100Esv*sd*bc*sc*i*;e1000 pci:v00008086d0000100Fsv*sd*bc*sc*i*;virtio_pci pci:v00001AF4d*sv*sd*bc*sc*i*;"
expect "a driver with a USB alias is not on demand (USB is not enumerated yet)" \
	"$(grep -c '^r8152' "$mods/nbdroot.alias" "$mods/nbdroot.ondemand" | tr '\n' ' ')" \
	"$mods/nbdroot.alias:0 $mods/nbdroot.ondemand:0 "

# A PCI device: sys DIR ADDR MODALIAS
pci() {
	mkdir -p "$1/bus/pci/devices/$2"
	echo "$3" >"$1/bus/pci/devices/$2/modalias"
}
bridge=pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00
# busybox sh with busybox's applets (our initrd), dash with the host's;
# nbdroot-modload on PATH is the real tool's dry run (it loads nothing),
# which logs each call and its modules and, for virtio_pci, adds the
# virtio device its probe would add
mkdir -p "$work/bb" "$work/stub" "$work/bare"
for a in sh awk cat tr rm; do
	ln -sf "$(command -v busybox)" "$work/bb/$a"
done
cat >"$work/stub/nbdroot-modload" <<'STUB'
#!/bin/sh
# as a shell says a command it cannot run
[ -z "${STUB_MISSING:-}" ] || { echo "sh: nbdroot-modload: not found" >&2; exit 127; }
"$MODLOAD" -n "$@" >"$NBDROOT_RUN/dry.out"
rc=$?
echo call >>"$NBDROOT_RUN/calls"
cat "$NBDROOT_RUN/dry.out" >>"$NBDROOT_RUN/modload.out"
while read -r w rest; do
	case $w in
	load) p=${rest%% *}; echo "${p##*/}" >>"$NBDROOT_RUN/insmod.log" ;;
	*) printf '%s %s\n' "$w" "$rest" ;;
	esac
done <"$NBDROOT_RUN/dry.out"
exit $rc
STUB
chmod +x "$work/stub/nbdroot-modload"
echo "quiet nbd.nbds_max=4 root=/dev/nbd0" >"$work/cmdline"

# boot SHELL PATH NAME [AFTER]: load_modules against $work/NAME.sys, then
# the commands AFTER; the modules nbdroot-modload got, in order
# (nbdroot.order's, pass by pass), then the messages; $work/NAME.run/calls
# has a line per nbdroot-modload, modload.out its dry runs' lines
boot() {
	local run=$work/$3.run
	rm -rf "$run"
	mkdir -p "$run"
	: >"$run/insmod.log"
	: >"$run/calls"
	PATH=$work/stub:$2 MODLOAD=$modload STUB_MISSING=${STUB_MISSING:-} NBDROOT_SYS=$work/$3.sys NBDROOT_MODDIR=${MODS:-$mods} \
		NBDROOT_CMDLINE=${CMDLINE:-$work/cmdline} \
		NBDROOT_RUN=$run $1 -c '. initramfs/lib/attach.sh
		. initramfs/lib/modules.sh
		say() { shift; echo "nbdroot: $*"; }
		load_modules
		'"${4:-}" >"$run/out" 2>&1
	tr '\n' ' ' <"$run/insmod.log"
	echo "| $(tr '\n' ';' <"$run/out")"
}

for name in "busybox sh" dash; do
	sh=$name path=$PATH
	[ "$name" = dash ] || { sh=$work/bb/sh; path=$work/bb:$PATH; }
	rm -rf "$work"/*.sys
	pci "$work/e1000.sys" 0000:00:00.0 "$bridge"
	pci "$work/e1000.sys" 0000:00:03.0 pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00
	expect "$name: an e1000 machine loads e1000 and no other NIC driver" \
		"$(boot "$sh" "$path" e1000)" \
		"nbd.ko crc16.ko ext4.ko e1000.ko mii.ko r8152.ko | nbdroot: modules: drivers for this machine's devices: e1000;"
	expect "$name: one pass, one nbdroot-modload" \
		"$(wc -l <"$work/e1000.run/calls")" 1
	expect "$name: nbd gets module_args's options, then the command line's nbd.nbds_max=4" \
		"$(grep /nbd.ko "$work/e1000.run/modload.out")" \
		"load kernel/drivers/block/nbd.ko nbds_max=16 max_part=16 nbds_max=4"
	expect "$name: no options for a module the command line does not name" \
		"$(grep /ext4.ko "$work/e1000.run/modload.out")" \
		"load kernel/fs/ext4/ext4.ko"
	pci "$work/virtio.sys" 0000:00:00.0 "$bridge"
	pci "$work/virtio.sys" 0000:00:02.0 pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00
	pci "$work/virtio.sys" 0000:00:03.0 pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00
	# the device virtio_pci's probe adds: a dry run loads nothing, so
	# it is there from the start (tests/qemu/32 boots the real passes)
	mkdir -p "$work/virtio.sys/bus/virtio/devices/virtio0"
	echo virtio:d00000001v00001AF4 >"$work/virtio.sys/bus/virtio/devices/virtio0/modalias"
	expect "$name: a virtio machine loads virtio_pci and virtio_net; the rtl8139 is named" \
		"$(boot "$sh" "$path" virtio)" \
		"nbd.ko crc16.ko ext4.ko mii.ko virtio.ko virtio_pci.ko virtio_net.ko r8152.ko | nbdroot: modules: drivers for this machine's devices: virtio_pci virtio_net;nbdroot: modules: no driver in this initrd for network controller 0000:00:02.0 (pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00);"
	expect "$name: one nbdroot-modload for all of it" \
		"$(wc -l <"$work/virtio.run/calls")" 1
	mkdir -p "$work/none.sys"
	expect "$name: no PCI bus: only what every boot loads" \
		"$(boot "$sh" "$path" none)" \
		"nbd.ko crc16.ko ext4.ko mii.ko r8152.ko | nbdroot: modules: drivers for this machine's devices: none;"
	expect "$name: squashfs and overlay load when needed, with what they pull in; ext4 (loaded at boot) not again" \
		"$(boot "$sh" "$path" none 'mod_need squashfs; mod_need overlay; mod_need ext4; mod_need nosuch')" \
		"nbd.ko crc16.ko ext4.ko mii.ko r8152.ko xxhash.ko squashfs.ko overlay.ko | nbdroot: modules: drivers for this machine's devices: none;"
	expect "$name: one nbdroot-modload for the boot's pass, one per mod_need that loads" \
		"$(wc -l <"$work/none.run/calls")" 3
	# a driver built into the kernel has bound the rtl8139: not named
	mkdir -p "$work/virtio.sys/bus/pci/drivers/8139too"
	ln -s "$work/virtio.sys/bus/pci/drivers/8139too" "$work/virtio.sys/bus/pci/devices/0000:00:02.0/driver"
	expect "$name: a network controller a built-in driver has bound is not named" \
		"$(boot "$sh" "$path" virtio)" \
		"nbd.ko crc16.ko ext4.ko mii.ko virtio.ko virtio_pci.ko virtio_net.ko r8152.ko | nbdroot: modules: drivers for this machine's devices: virtio_pci virtio_net;"
	# mkinitrd --modules none (a kernel with its drivers built in): no
	# module, no nbdroot-modload, and no fork at all (PATH has nothing
	# but the stub), only a controller no driver has bound is named
	pci "$work/builtin.sys" 0000:00:02.0 pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00
	pci "$work/builtin.sys" 0000:00:03.0 pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00
	pci "$work/builtin.sys" 0000:00:04.0 pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01
	echo 0x020000 >"$work/builtin.sys/bus/pci/devices/0000:00:02.0/class"
	echo 0x020000 >"$work/builtin.sys/bus/pci/devices/0000:00:03.0/class"
	echo 0x010601 >"$work/builtin.sys/bus/pci/devices/0000:00:04.0/class"
	mkdir -p "$work/builtin.sys/bus/pci/drivers/virtio-pci"
	ln -s "$work/builtin.sys/bus/pci/drivers/virtio-pci" "$work/builtin.sys/bus/pci/devices/0000:00:03.0/driver"
	expect "$name: an initrd without modules loads nothing and names the controller no driver took" \
		"$(MODS=$nomods boot "$(command -v "$sh")" "$work/bare" builtin)" \
		"| nbdroot: modules: none in this initrd (the kernel's own drivers);nbdroot: modules: no driver in this kernel for network controller 0000:00:02.0 (pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00), and this initrd holds no modules;"
	expect "$name: an initrd without modules runs no nbdroot-modload" \
		"$(wc -l <"$work/builtin.run/calls")" 0
	echo 'nbd.x=a"b' >"$work/badcmdline"
	expect "$name: the tool's refusal reaches fail with its message; the modules after it still load" \
		"$(CMDLINE=$work/badcmdline boot "$sh" "$path" none)" \
		"crc16.ko ext4.ko mii.ko r8152.ko | nbdroot: modules: kernel/drivers/block/nbd.ko: kernel command line: nbd.x=a\"b: a quote inside a word is not supported;nbdroot: modules: drivers for this machine's devices: none;"
	expect "$name: a tool that cannot run is named with its exit status and message" \
		"$(STUB_MISSING=1 boot "$sh" "$path" none)" \
		"| nbdroot: modules: nbdroot-modload exited with 127: sh: nbdroot-modload: not found;nbdroot: modules: drivers for this machine's devices: none;"
done

echo "init-modules: $checks ok, $failures failed"
[ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
