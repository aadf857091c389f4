#!/bin/bash
# A partitioned export (MBR: a small first partition, the test root in the
# second) boots with the root on /dev/nbd0p2 without udev, written both as
# the nbd: form's partition suffix and as Debian's root=/dev/nbd0p2.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
root=$(test_image root)
disk=$work/disk.img
partitioned_image "$root" "$disk"
start_server ours "$disk"
boot_vm suffix "root=nbd:10.0.2.2:$SERVER_PORT#p2 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0p2"
expect_marker suffix
boot_vm debian "nbdroot=10.0.2.2,$SERVER_PORT,nbd0 root=/dev/nbd0p2 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0p2"
expect_marker debian
boot_vm nopart "root=nbd:10.0.2.2:$SERVER_PORT#p3 nbdroot.retry=3"
expect_console nopart "nbdroot: partition: /dev/nbd0p3 did not appear within 5s (the export's partitions: nbd0p1 nbd0p2)"
expect_console nopart "Kernel panic"
