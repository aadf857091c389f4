#!/bin/bash
# The init loads only the NIC drivers whose PCI or virtio modalias matches
# a device of the machine (initramfs/lib/modules.sh): a guest with an
# e1000 gets e1000 alone and boots; one with a virtio-net NIC behind an
# rtl8139, whose driver the initrd lacks, gets virtio_pci then virtio_net
# (a second pass over the virtio devices that virtio_pci added), boots
# from the virtio link, and names the rtl8139 with no driver. The guest
# checks /proc/modules against the whole default NIC set.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
img=$(test_image)
start_server ours "$img"
VM_NIC=e1000 boot_vm e1000 "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=nic-drivers:e1000"
expect_marker e1000
expect_console e1000 "] nbdroot: modules: drivers for this machine's devices: e1000"
VM_NET_BEFORE="-netdev hubport,id=none0,hubid=3 -device rtl8139,netdev=none0" \
	boot_vm virtio "root=nbd:10.0.2.2:$SERVER_PORT nbdroot.retry=30 nbdtest=nic-drivers:virtio_pci+virtio_net"
expect_marker virtio
expect_console virtio "] nbdroot: modules: drivers for this machine's devices: virtio_pci virtio_net"
expect_console virtio "] nbdroot: modules: no driver in this initrd for network controller 0000:00:0"
expect_console virtio "(pci:v000010ECd00008139"
