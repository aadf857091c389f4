#!/bin/bash
# root=dhcp: the root comes from DHCP option 17. QEMU's own DHCP server
# cannot send a root-path, so the test's initrd brings its own: eth0 and
# eth1 share a QEMU hub, a pre-network hook starts busybox udhcpd on eth1
# with the root-path named by the boot line's nbdtest.rootpath= and puts
# eth2 (QEMU's user network) on 10.0.2.15 so the server is reachable;
# ip=eth0:dhcp asks on eth0 only. Both root-path forms are tried: an nbd:
# spec and Debian's SERVER:PORT/NAME.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$work/hooks/pre-network"
cat >"$work/hooks/pre-network/50-dhcp-server" <<'HOOK'
#!/bin/sh
rp=
for w in $(cat /proc/cmdline); do
	case $w in nbdtest.rootpath=*) rp=${w#*=} ;; esac
done
i=0
while [ ! -e /sys/class/net/eth2 ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth1 up && ip addr add 192.168.9.1/24 dev eth1 || exit 1
ip link set eth2 up && ip addr add 10.0.2.15/24 dev eth2 || exit 1
cat >/run/udhcpd.conf <<CONF
start 192.168.9.10
end 192.168.9.20
interface eth1
lease_file /run/udhcpd.leases
siaddr 192.168.9.1
opt subnet 255.255.255.0
opt rootpath $rp
CONF
: >/run/udhcpd.leases
udhcpd /run/udhcpd.conf
HOOK
chmod +x "$work/hooks/pre-network/50-dhcp-server"
make -C "$top" -s initrd OUT="$work/initrd.img" HOOKS="$work/hooks" \
	>"$work/mkinitrd.log" 2>&1 || fail "make initrd: $(tail -n 3 "$work/mkinitrd.log")"
INITRD=$work/initrd.img
img=$(test_image root)
start_named_server root "$img"
export VM_NET_BEFORE="-netdev hubport,id=h0,hubid=5 -device virtio-net-pci,netdev=h0
-netdev hubport,id=h1,hubid=5 -device virtio-net-pci,netdev=h1"
boot_vm nbdspec "root=dhcp ip=eth0:dhcp nbdtest.rootpath=nbd:10.0.2.2:$SERVER_PORT/root:ext4 nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker nbdspec
expect_console nbdspec "nbdroot: network: eth0 192.168.9."
expect_console nbdspec "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"root\""
boot_vm debian "netroot=dhcp ip=eth0:dhcp nbdtest.rootpath=10.0.2.2:$SERVER_PORT/root nbdroot.retry=20 nbdtest=root-is:/dev/nbd0"
expect_marker debian
expect_console debian "nbdroot: attached /dev/nbd0 from 10.0.2.2:$SERVER_PORT \"root\""
