#!/bin/bash
# The client's first connect succeeds: the init waits for the static IPv6
# address to pass duplicate address detection (tentative for about a
# second after it is set) instead of connecting from it at once and
# retrying. The console shows the attach and no failed attempt: no
# "nbdroot: attach:" retry line and no client "connect to" error.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
ipv6_only_lab
boot_vm firstconnect "ip=[fec0::16]::[fec0::2]:64::eth0:none root=nbd:[fec0::2]:$SERVER_PORT nbdroot.retry=30 nbdtest=net6:eth0,none,fec0::16/64,-"
expect_marker firstconnect
expect_console firstconnect "nbdroot: attached /dev/nbd0 from [fec0::2]:$SERVER_PORT"
for bad in "nbdroot: attach:" "connect to " "still tentative"; do
	if grep -aF -- "$bad" "$work/firstconnect.log"; then
		show_vm firstconnect
		fail "firstconnect: console shows a failed attempt: \"$bad\""
	fi
done
echo "ok: no failed connect attempt on the console"
