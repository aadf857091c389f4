#!/bin/sh
# nbdroot.service in a dracut initrd: the root of nbdroot(7) attached and
# mounted on /sysroot (directly, under a tmpfs overlay, or from a copy in
# RAM) by the steps nbdroot's own init runs (/lib/nbdroot/attach.sh), its
# swap exports with it; systemd then switches to it. A step that still
# fails after nbdroot.retry seconds fails this unit, and systemd goes to
# dracut's emergency mode (its rd.shell is the rescue shell here).
export PATH=/usr/lib/nbdroot/bin:/usr/sbin:/usr/bin:/sbin:/bin
ROOTMNT=/sysroot

# shellcheck source=initramfs/lib/cmdline.sh
. /lib/nbdroot/cmdline.sh
# shellcheck source=initramfs/lib/network.sh
. /lib/nbdroot/network.sh
# shellcheck source=initramfs/lib/fstype.sh
. /lib/nbdroot/fstype.sh
# shellcheck source=initramfs/lib/attach.sh
. /lib/nbdroot/attach.sh
# shellcheck source=initramfs/lib/quote.sh
. /lib/nbdroot/quote.sh
# a filesystem module this initrd lacks comes with dracut's option
# shellcheck disable=SC2034 # read by attach.sh
rebuild_hint="dracut --add-drivers "
# mod_need NAME (attach.sh): our init's modules.sh loads what mkinitrd
# left for later; dracut has modprobe, and the kernel asks it for most
mod_need() { modprobe -q "$1" 2>/dev/null || :; }

attach_parse || exit 1
# a service has no terminal for our rescue shell; dracut's emergency
# mode has one
nr_shell=
# the trace goes to the journal and the console (see attach.sh)
[ -z "$nr_debug" ] || set -x
attach_setup
run_hooks init-top
module_args nbd
# shellcheck disable=SC2086 # the options are words
modprobe nbd $mod_args || fail "modules: modprobe nbd failed"
attach_and_mount
exit 0
