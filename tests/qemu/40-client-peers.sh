#!/bin/bash
# Our nbd-client, inside a VM, against every server a user might run: ours,
# Debian's nbd-server (the reference), nbdkit and qemu-nbd. Each serves an
# ext4 image with a marker; the guest attaches, mounts, checks the marker,
# writes a file, checks -c, detaches with -d. Then -C 4 against a
# multi-connection server and -L (ioctl mode). The host then finds the
# guest's file in every image.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/qemu/peers.sh
. "$(dirname "$0")/peers.sh"
root=$(client_test_image)
start_server ours "$root"
root_port=$SERVER_PORT
declare -A img port
for kind in ours debian nbdkit qemu; do
	img[$kind]=$(data_image "$kind")
done
start_server ours "${img[ours]}"; port[ours]=$SERVER_PORT
start_debian_server deb "${img[debian]}"; port[debian]=$SERVER_PORT
start_server nbdkit "${img[nbdkit]}"; port[nbdkit]=$SERVER_PORT
start_server qemu-nbd "${img[qemu]}"; port[qemu]=$SERVER_PORT
spec="ours:${port[ours]}::/dev/nbd1,debian:${port[debian]}:deb:/dev/nbd2"
spec="$spec,nbdkit:${port[nbdkit]}::/dev/nbd3,qemu:${port[qemu]}::/dev/nbd4"
boot_vm peers "root=nbd:10.0.2.2:$root_port nbdtest=client-peers:$spec"
expect_marker peers
for kind in ours debian nbdkit qemu; do
	got=$(image_file "${img[$kind]}" /from-guest)
	[ "$got" = "written by the guest" ] ||
		fail "$kind: the guest's file is not in the image (\"$got\")"
done
echo "ok: the guest's writes are in all four images"
