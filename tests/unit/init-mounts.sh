#!/bin/bash
# nbdroot-early and nbdroot-switch on the host, for real, in a private
# mount namespace and a chroot built like the initrd (static busybox):
# - nbdroot-early as PID 1's /init mounts devtmpfs, proc, sysfs and tmpfs
#   with the initrd's options, makes /run/nbdroot and net_dhcp's FIFO in
#   it, and runs "/bin/sh /lib/nbdroot/init" with the kernel's arguments as they were (blanks
#   and all) and NBDROOT_EARLY_UPTIME set to /proc/uptime's first word;
# - with /proc missing it says so ("nbdroot: early: mount proc on /proc"),
#   on the console and in the kernel log, and the shell init still runs,
#   without an uptime;
# - nbdroot-switch moves /dev, /proc, /sys and /run onto the root's
#   directories (only those it has) and execs /sbin/run-init with ROOT,
#   INIT and the arguments; a root without /run keeps the initrd's /run;
#   bad usage exits 2.
# Root only (mount namespaces); skipped otherwise.
set -u
cd "$(dirname "$0")/../.." || exit 1
early=$PWD/initramfs/mounts/nbdroot-early
switch=$PWD/initramfs/mounts/nbdroot-switch
for t in "$early" "$switch"; do
	[ -x "$t" ] || { echo "FAIL: $t not built (run make)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (mount namespaces)"; exit 77; }
busybox=$(command -v busybox) || { echo "skipped: no busybox"; exit 77; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	{ echo "skipped: $busybox is not static (busybox-static)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-init-mounts.XXXXXX")
# nbdroot-early turns the host's printk_devkmsg on: put it back
devkmsg=$(cat /proc/sys/kernel/printk_devkmsg 2>/dev/null)
restore() {
	[ -z "$devkmsg" ] || echo "$devkmsg" >/proc/sys/kernel/printk_devkmsg
	rm -rf "$work"
}
trap restore EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# expect WHAT FILE PATTERN: FILE has a line matching the extended regex
expect() {
	if grep -qE -- "$3" "$2"; then ok "$1"; else fail "$1: no line /$3/ in:"; sed 's/^/    /' "$2"; fi
}
expect_not() {
	if grep -qE -- "$3" "$2"; then fail "$1: /$3/ in:"; sed 's/^/    /' "$2"; else ok "$1"; fi
}

# initrd ROOT [no-proc]: an initrd-like tree; the shell init runs the
# real init's early_mounts (from initramfs/init), prints what it was
# given and what is mounted, then hands over with nbdroot-switch to a
# fake run-init that prints the mounts and NBDROOT_ variables the root
# got.
initrd() {
	local r=$1 d
	for d in bin sbin dev sys run tmp lib/nbdroot root/dev root/proc \
	    root/sys root/run root/sbin; do
		mkdir -p "$r/$d"
	done
	[ "${2:-}" = no-proc ] || mkdir -p "$r/proc"
	cp "$busybox" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	cp "$early" "$r/init"
	cp "$switch" "$r/sbin/nbdroot-switch"
	sed -n '/^mount_missing() {/,/^}/p; /^early_mounts() {/,/^}/p' \
		initramfs/init >"$r/lib/nbdroot/early.sh"
	cat >"$r/lib/nbdroot/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
ROOTMNT=/root
env | busybox grep -c '^NBDROOT_EARLY_UPTIME=' | busybox sed 's/^/given=/'
. /lib/nbdroot/early.sh
early_mounts
echo "uptime=$init_uptime early=${init_early:-}"
i=0
for a in "$@"; do i=$((i + 1)); echo "arg$i=[$a]"; done
[ -r /proc/mounts ] && busybox awk '{ print "mount", $2, $3, $4 }' /proc/mounts
[ -d /run/nbdroot ] && echo "made /run/nbdroot"
[ -p /run/nbdroot/dhcp.exits ] && echo "made the FIFO /run/nbdroot/dhcp.exits"
busybox cat /proc/sys/kernel/printk_devkmsg 2>/dev/null | busybox sed 's/^/devkmsg=/'
exec nbdroot-switch /root /sbin/init "$@"
EOF
	cat >"$r/sbin/run-init" <<'EOF'
#!/bin/sh
echo "run-init $*"
busybox awk '{ print "after", $2, $3 }' /root/proc/mounts 2>/dev/null
env | busybox sed -n 's/^NBDROOT_/leaked NBDROOT_/p'
EOF
	chmod 755 "$r/lib/nbdroot/init" "$r/sbin/run-init"
}

# boot ROOT OUT ARGS...: nbdroot-early as the "kernel" would start it
boot() {
	local r=$1 out=$2
	shift 2
	unshare -m --propagation private chroot "$r" /init "$@" >"$out" 2>&1
}

r=$work/ok
initrd "$r"
# one set on the kernel command line is not the one the init reads
NBDROOT_EARLY_UPTIME=999 boot "$r" "$work/ok.out" one "two words" ''
echo "exit $?" >>"$work/ok.out"
expect "the shell init got one NBDROOT_EARLY_UPTIME" "$work/ok.out" '^given=1$'
expect "the init's early_mounts took nbdroot-early's uptime" "$work/ok.out" '^uptime=[0-9]+\.[0-9]+ early=nbdroot-early$'
expect_not "not the command line's" "$work/ok.out" '^uptime=999'
expect_not "NBDROOT_EARLY_UPTIME does not reach the real root" "$work/ok.out" '^leaked '
for m in /dev /proc /sys /run; do
	n=$(grep -c "^mount $m " "$work/ok.out")
	if [ "$n" = 1 ]; then ok "$m mounted once"; else fail "$m mounted $n times"; fi
done
expect "the kernel's arguments as they were" "$work/ok.out" '^arg2=\[two words\]$'
expect "an empty argument kept" "$work/ok.out" '^arg3=\[\]$'
expect "devtmpfs on /dev, nosuid, mode 0755" "$work/ok.out" '^mount /dev devtmpfs .*nosuid.*mode=755'
expect "proc on /proc, nosuid,nodev,noexec" "$work/ok.out" '^mount /proc proc rw,nosuid,nodev,noexec'
expect "sysfs on /sys, nosuid,nodev,noexec" "$work/ok.out" '^mount /sys sysfs rw,nosuid,nodev,noexec'
expect "tmpfs on /run, nosuid,nodev, mode 0755" "$work/ok.out" '^mount /run tmpfs rw,nosuid,nodev.*mode=755'
expect "/run/nbdroot made" "$work/ok.out" '^made /run/nbdroot$'
expect "net_dhcp's FIFO made" "$work/ok.out" '^made the FIFO /run/nbdroot/dhcp.exits$'
# printk.devkmsg= on the host's command line locks it: nothing to see
if echo "$devkmsg" 2>/dev/null >/proc/sys/kernel/printk_devkmsg; then
	expect "printk_devkmsg on" "$work/ok.out" '^devkmsg=on$'
fi
expect_not "no step failed" "$work/ok.out" 'nbdroot: (early|switch):'
expect "run-init ROOT INIT ARGS" "$work/ok.out" '^run-init /root /sbin/init one two words $'
for m in /root/dev /root/proc /root/sys /root/run; do
	expect "nbdroot-switch moved it to $m" "$work/ok.out" "^after $m "
done
expect_not "nothing left at the old places" "$work/ok.out" '^after /(dev|proc|sys|run) '

# kmsg [SEQ]: the kernel log's records after sequence number SEQ as
# "SEQ PRIORITY MESSAGE" lines (all of them without SEQ); the host's log
# is what the chroot's devtmpfs /dev/kmsg writes to
kmsg() {
	python3 - "${1:--1}" <<'PY'
import os, sys
after = int(sys.argv[1])
fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
while True:
    try:
        rec = os.read(fd, 8192).decode("utf-8", "replace")
    except BlockingIOError:
        break
    except BrokenPipeError:	# overwritten while read: go on
        continue
    head, _, msg = rec.partition(";")
    f = head.split(",")
    if int(f[1]) > after:
        print(f[1], int(f[0]) & 7, msg.split("\n")[0])
PY
}
seq=$(kmsg | tail -n 1 | cut -d' ' -f1)
r=$work/noproc
initrd "$r" no-proc
boot "$r" "$work/noproc.out" x
expect "without /proc: said" "$work/noproc.out" '^nbdroot: early: mount proc on /proc: No such file or directory$'
kmsg "${seq:-0}" >"$work/noproc.kmsg"
expect "without /proc: said in the kernel log, as an error" "$work/noproc.kmsg" '^[0-9]+ 3 nbdroot: early: mount proc on /proc: No such file or directory$'
expect "without /proc: the shell init still ran, without an uptime" "$work/noproc.out" '^uptime= early=nbdroot-early$'
expect_not "without /proc: NBDROOT_EARLY_UPTIME does not reach the real root" "$work/noproc.out" '^leaked '
expect "without /proc: /sys and /run still mounted" "$work/noproc.out" '^made /run/nbdroot$'
expect "without /proc: the arguments still passed" "$work/noproc.out" '^arg1=\[x\]$'

# a root without /run: the initrd's /run is not moved (run-init would
# then leave the root to mount its own)
r=$work/norun
initrd "$r"
rmdir "$r/root/run"
boot "$r" "$work/norun.out"
expect "a root without /run: the rest moved" "$work/norun.out" '^after /root/proc '
expect_not "a root without /run: /run not moved" "$work/norun.out" '^after /root/run '
expect_not "a root without /run: nothing said" "$work/norun.out" 'nbdroot: switch:'

"$switch" /root >"$work/usage.out" 2>&1
echo "exit $?" >>"$work/usage.out"
expect "nbdroot-switch without INIT: usage, exit 2" "$work/usage.out" '^exit 2$'
expect "nbdroot-switch without INIT: says how" "$work/usage.out" '^usage: nbdroot-switch ROOT INIT'

echo "$failures failures"
[ "$failures" = 0 ]
