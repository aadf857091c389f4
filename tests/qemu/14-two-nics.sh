#!/bin/bash
# Two NICs, and only the second (eth1) has a DHCP server: the first, eth0,
# is on a QEMU hub with nothing else on it. Without BOOTIF= every link asks
# at once and eth1's lease wins; with BOOTIF= naming eth1's MAC only eth1
# asks.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image root)
start_server ours "$img"
export VM_NET_BEFORE="-netdev hubport,id=dead,hubid=7 -device virtio-net-pci,netdev=dead,mac=52:54:00:00:00:07"
export VM_MAC=52:54:00:12:34:56
boot_vm all "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=net-dev:eth1"
expect_marker all
boot_vm bootif "BOOTIF=01-52-54-00-12-34-56 root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=net-dev:eth1,only"
expect_marker bootif
