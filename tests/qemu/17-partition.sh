#!/bin/bash
# A partitioned export (MBR: a small first partition, the test root in the
# second) boots with the root on /dev/nbd0p2 without udev, written both as
# the nbd: form's partition suffix and as Debian's root=/dev/nbd0p2.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
root=$(test_image root)
disk=$work/disk.img
# p1: sectors 2048..18431 (8 MiB), p2: from 18432, the root image
python3 - "$disk" "$(stat -c %s "$root")" <<'PY' || fail "cannot write the partition table"
import struct, sys
path, size = sys.argv[1], int(sys.argv[2])
p2 = (18432, size // 512)
def entry(start, count):
    return struct.pack('<B3sB3sII', 0, b'\0\0\0', 0x83, b'\0\0\0', start, count)
mbr = bytearray(512)
mbr[446:462] = entry(2048, 16384)
mbr[462:478] = entry(*p2)
mbr[510:512] = b'\x55\xaa'
with open(path, 'wb') as f:
    f.write(mbr)
    f.truncate((p2[0] + p2[1]) * 512)
PY
dd if="$root" of="$disk" bs=512 seek=18432 conv=notrunc,sparse status=none || fail "cannot copy the root into p2"
start_server ours "$disk"
boot_vm suffix "root=nbd:10.0.2.2:$SERVER_PORT#p2 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0p2"
expect_marker suffix
boot_vm debian "nbdroot=10.0.2.2,$SERVER_PORT,nbd0 root=/dev/nbd0p2 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0p2"
expect_marker debian
boot_vm nopart "root=nbd:10.0.2.2:$SERVER_PORT#p3 nbdroot.retry=3"
expect_console nopart "nbdroot: partition: /dev/nbd0p3 did not appear within 5s (the export's partitions: nbd0p1 nbd0p2)"
expect_console nopart "Kernel panic"
