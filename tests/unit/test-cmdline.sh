#!/bin/bash
# The init's boot-line parser (initramfs/lib/cmdline.sh), run by the shells
# it must work under (busybox sh and dash), against a table of real lines.
# Each row: kernel command line <TAB> expected result, where a result is
# KEY=VALUE pairs separated by '|' (each must match exactly; keys not named
# are not checked), or "ERR " and the start of the message. Keys: root host
# port name fstype flags nbdopts part dev ro init net ipaddr ipserver ipgw
# ipmask iphost ipdev dns0 dns1 ntp bootif retry timeout conns shell debug
# swap overlay toram tls identity. A row "RP <root-path>" after a root=dhcp row parses
# that DHCP root-path in the same shell, as the init does after DHCP.
cd "$(dirname "$0")/../.." || exit 1
lib=initramfs/lib/cmdline.sh

table=$(cat <<'EOT'
root=nbd:10.0.2.2:1234	host=10.0.2.2|port=1234|name=|fstype=|flags=|nbdopts=|ro=|net=auto|retry=60|init=/sbin/init|dev=0|part=
root=nbd:10.0.2.2:1234/root	host=10.0.2.2|port=1234|name=root
root=nbd:srv:1234/root:ext4:noatime,data=journal:bs=4096,timeout=30 ro	host=srv|port=1234|name=root|fstype=ext4|flags=noatime,data=journal|nbdopts=bs=4096,timeout=30|ro=ro
root=nbd:server1:myexport	host=server1|port=10809|name=myexport|fstype=
root=nbd:server1:myexport:xfs	host=server1|port=10809|name=myexport|fstype=xfs
root=nbd:server1:myexport:xfs:noatime:bs=1024	name=myexport|fstype=xfs|flags=noatime|nbdopts=bs=1024
netroot=nbd:10.0.0.1:10809/r rw	root=nbd:10.0.0.1:10809/r|host=10.0.0.1|port=10809|name=r|ro=rw
root=nbd:[fe80::1]:99/x	host=[fe80::1]|port=99|name=x
root=nbd:[2001:db8::1]:/x	host=[2001:db8::1]|port=10809|name=x
root=nbd:a,[::1],b.example:7/n	host=a,[::1],b.example|port=7|name=n
root=nbd:10.0.2.2@10810,[::1]@99,b:7/n	host=10.0.2.2@10810,[::1]@99,b|port=7|name=n
root=nbd:h@x:1	ERR root=nbd:h@x:1: port "x" is not a number from 1 to 65535
root=nbd::/name	host=|port=10809|name=name
root=nbd:dhcp	host=|port=10809|name=
root=nbd:dhcp:/img	host=|name=img
root=nbd:nbd.example.org:10809/debian-12	host=nbd.example.org|name=debian-12
root=nbd:10.0.2.2:10809/disk#p2	host=10.0.2.2|name=disk|part=2|dev=0
root=nbd:10.0.2.2:10809#p1:ext4	port=10809|name=|part=1|fstype=ext4
root=nbd:srv:disk#p3	name=disk|port=10809|part=3
root=/dev/nbd0p2 netroot=nbd:srv:10809/disk	host=srv|name=disk|dev=0|part=2
root=nbd:h:1 ip=10.0.2.15::10.0.2.2:255.255.255.0:box:eth0:off nbdroot.retry=5 init=/bin/sh	net=static|ipaddr=10.0.2.15|ipserver=|ipgw=10.0.2.2|ipmask=255.255.255.0|iphost=box|ipdev=eth0|retry=5|init=/bin/sh
root=nbd:h:1 ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:box:eth1:none:10.0.2.3:8.8.8.8:10.0.2.4	net=static|ipserver=10.0.2.2|ipdev=eth1|dns0=10.0.2.3|dns1=8.8.8.8|ntp=10.0.2.4
root=nbd:h:1 ip=10.0.2.15::10.0.2.2:255.255.255.0	net=static|ipaddr=10.0.2.15|ipdev=
root=nbd:h:1 ip=::::::dhcp	net=dhcp|ipaddr=|ipdev=
root=nbd:h:1 ip=:::::eth1:dhcp	net=dhcp|ipdev=eth1
root=nbd:h:1 ip=eth1:dhcp	net=dhcp|ipdev=eth1
root=nbd:h:1 ip=dhcp	net=dhcp
root=nbd:h:1 ip=on	net=dhcp
root=nbd:h:1 ip=any	net=dhcp
root=nbd:h:1 ip=bootp	net=dhcp
root=nbd:h:1 ip=off	net=off
root=nbd:h:1 ip=dhcp6	net=dhcp6|ipdev=
root=nbd:h:1 ip=auto6	net=auto6|ipdev=
root=nbd:h:1 ip=eth1:auto6	net=auto6|ipdev=eth1
root=nbd:h:1 ip=eth0:dhcp6	net=dhcp6|ipdev=eth0
root=nbd:h:1 ip=:::::eth1:dhcp6	net=dhcp6|ipdev=eth1|ipaddr=
root=nbd:[fec0::2]:1 ip=[fec0::15]::[fec0::2]:64:box6:eth0:none	net=static6|ipaddr=fec0::15|ipserver=|ipgw=fec0::2|ipmask=64|iphost=box6|ipdev=eth0|host=[fec0::2]
root=nbd:h:1 ip=[2001:db8::5]:[2001:db8::1]::48::eth0:off:[2001:db8::53]:[fec0::3]	net=static6|ipaddr=2001:db8::5|ipserver=2001:db8::1|ipgw=|ipmask=48|dns0=2001:db8::53|dns1=fec0::3
root=nbd:h:1 ip=[fec0::15]::::::none	net=static6|ipaddr=fec0::15|ipmask=|ipdev=
root=nbd:h:1 ip=[2001:db8:0:0:1:2:3:4]:::128::eth0:none:10.0.2.3	net=static6|ipaddr=2001:db8:0:0:1:2:3:4|ipmask=128|dns0=10.0.2.3
root=nbd:h:1 ip=[fec0::15]::[fec0::2]:64:box:eth0	net=static6|ipaddr=fec0::15
root=nbd:h:1 ip=none	net=off
root=nbd:h:1	net=auto|bootif=
root=nbd:h:1 BOOTIF=01-52-54-00-12-34-56	bootif=52:54:00:12:34:56
root=nbd:h:1 BOOTIF=01-52-54-00-AB-CD-EF	bootif=52:54:00:ab:cd:ef
root=nbd:h:1 rootfstype=btrfs rootflags=subvol=@ rd.retry=7	fstype=btrfs|flags=subvol=@|retry=7
rootfstype=btrfs rootflags=compress root=nbd:h:1	fstype=btrfs|flags=compress
root=nbd:h:1/n:ext4 rootfstype=btrfs	fstype=ext4
quiet splash root=nbd:h:2 console=ttyS0,115200n8 BOOT_IMAGE=/vmlinuz	host=h|port=2|init=/sbin/init
root=nbd:h:1 nbdroot.swap=nbd:10.0.2.2:10809/swap	swap=nbd:10.0.2.2:10809/swap
root=nbd:h:1 nbdroot.swap=nbd:h:2/s1 nbdroot.swap=nbd:[::1]:3/s2	swap=nbd:h:2/s1 nbd:[::1]:3/s2|host=h|port=1
root=nbd:h:1 nbdroot.overlay=tmpfs	overlay=tmpfs|toram=
root=nbd:gw1,gw2:10809/client-${mac}	host=gw1,gw2|port=10809|name=client-${mac}
root=nbd:gw1:10809/${hostname}-${mac}.img:ext4	name=${hostname}-${mac}.img|fstype=ext4
root=nbd:h:1 nbdroot.swap=nbd:gw1,gw2:10809/swap-${mac}	swap=nbd:gw1,gw2:10809/swap-${mac}
nbdroot=srv,client-${hostname}	host=srv|name=client-${hostname}
root=nbd:gw1:10809/client-${ip}	ERR root=nbd:gw1:10809/client-${ip}: unknown template "${ip}" in export name "client-${ip}" (known: ${mac}, ${hostname})
root=nbd:gw1:10809/c-${MAC}	ERR root=nbd:gw1:10809/c-${MAC}: unknown template "${MAC}"
root=nbd:h:1 nbdroot.swap=nbd:h:1/s-${mca}	ERR nbdroot.swap=nbd:h:1/s-${mca}: unknown template "${mca}"
root=nbd:gw1:10809/client-$mac	ERR root=nbd:gw1:10809/client-$mac: a '$' that starts no template in export name "client-$mac"
root=nbd:gw1:10809/client-${mac	ERR root=nbd:gw1:10809/client-${mac: a '$' that starts no template
root=nbd:h:1 nbdroot.toram	toram=1|overlay=
root=nbd:h:1 nbdroot.conns=4 nbdroot.timeout=30	conns=4|timeout=30
root=nbd:h:1 nbdroot.retry=0	retry=0
root=nbd:h:1 nbdroot.shell nbdroot.debug	shell=1|debug=1
root=nbd:h:1 rd.shell	shell=1|debug=
root=nbd:h:1 rd.shell=1 rd.shell=0	shell=
root=nbd:h:1 rd.debug	debug=1
root=nbd:h:1	tls=|identity=
root=nbd:h:1 nbdroot.tls=off	tls=off|identity=
root=nbd:h:1 nbdroot.tls.identity=lab-17	tls=|identity=lab-17
root=nbd:h:1 nbdroot.tls=off nbdroot.tls.identity=a.b_c@d+e	tls=off|identity=a.b_c@d+e
nbdroot=10.0.2.2,root,nbd0 root=/dev/nbd0	root=10.0.2.2,root,nbd0|host=10.0.2.2|port=10809|name=root|dev=0|part=
nbdroot=10.0.2.2,root,nbd1 root=/dev/nbd1p2	host=10.0.2.2|name=root|dev=1|part=2
nbdroot=10.0.2.2,2000,nbd0 root=/dev/nbd0	host=10.0.2.2|port=2000|name=
nbdroot=10.0.2.2,root	host=10.0.2.2|name=root|dev=0
nbdroot=srv:2000/root root=/dev/nbd0	host=srv|port=2000|name=root|dev=0
nbdroot=srv:/root root=/dev/nbd0p1	host=srv|port=10809|name=root|part=1
nbdroot=[2001:db8::1]:2000/root root=/dev/nbd0	host=[2001:db8::1]|port=2000|name=root
nbdroot=,root,nbd0 root=/dev/nbd0	host=|port=10809|name=root
nbdroot=:2000/root root=/dev/nbd0	host=|port=2000|name=root
nbdroot=dhcp root=/dev/nbd0	root=dhcp|host=|dev=0
root=dhcp	root=dhcp|host=|port=10809|name=
RP nbd:10.0.2.2:2000/root:ext4	host=10.0.2.2|port=2000|name=root|fstype=ext4
root=dhcp	root=dhcp
RP nbd::/img#p2	host=|name=img|part=2
root=dhcp	root=dhcp
RP nbd:gw1,gw2:10809/c-${mac}	host=gw1,gw2|name=c-${mac}
root=dhcp	root=dhcp
RP nbd:gw1:10809/c-${x}	ERR DHCP root-path nbd:gw1:10809/c-${x}: unknown template "${x}"
root=dhcp	root=dhcp
RP 10.0.2.2,img,nbd0	host=10.0.2.2|name=img
netroot=dhcp rootfstype=xfs	root=dhcp
RP [::1]:99/img	host=[::1]|port=99|name=img|fstype=xfs
root=dhcp	root=dhcp
RP 	ERR DHCP root-path: the DHCP server sent none
RP nbd://[fec0::2]:10810/root6	host=[fec0::2]|port=10810|name=root6
RP nbd://srv.example/disk	host=srv.example|port=10809|name=disk
RP nbd://10.0.2.2	host=10.0.2.2|port=10809|name=
RP nbd://[2001:db8::1]/a/b	host=[2001:db8::1]|port=10809|name=a/b
RP nbd://srv/x%20y	ERR DHCP root-path nbd://srv/x%20y: export "x%20y" has '%', '?' or '#'
RP nbd://:99/x	ERR DHCP root-path nbd://:99/x: no server in the URI
RP nbd://[fec0::2]:x/r	ERR DHCP root-path nbd://[fec0::2]:x/r: port "x" is not a number
RP tftp://[fec0::2]/nbdroot	ERR DHCP root-path tftp://[fec0::2]/nbdroot: not an NBD URI
root=dhcp	root=dhcp
RP nbd:h:x/y	ERR DHCP root-path nbd:h:x/y: port "x" is not a number
root=nbd:h:1 *	host=h|port=1
root=nbd:h:abc/x	ERR root=nbd:h:abc/x: port "abc" is not a number
root=nbd:h:0	ERR root=nbd:h:0: port "0" is not a number from 1 to 65535
root=nbd:h:70000/x	ERR root=nbd:h:70000/x: port "70000"
root=nbd:h:99999999999999999999/x	ERR root=nbd:h:99999999999999999999/x: port "99999999999999999999"
root=nbd:[fe80::1:1234	ERR root=nbd:[fe80::1:1234: unterminated '[' in host
root=nbd:[::1]x:1	ERR root=nbd:[::1]x:1: unexpected "x:1" after host
root=nbd:h$x:1	ERR root=nbd:h$x:1: host "h$x" is not an address or a name
root=nbd:h:1/n:e$t	ERR root=nbd:h:1/n:e$t: filesystem type "e$t" is not a name
root=nbd:h:1/n:ext4::bs=3000	ERR root=nbd:h:1/n:ext4::bs=3000: block size "3000" is not 512, 1024, 2048 or 4096
root=nbd:h:1/n:ext4::timeout=soon	ERR root=nbd:h:1/n:ext4::timeout=soon: timeout "soon" is not a number
root=nbd:h:1/n#2	ERR root=nbd:h:1/n#2: partition "#2" is not #pN
root=nbd:h:1/n#p0	ERR root=nbd:h:1/n#p0: partition "#p0" is not #pN
root=nbd:h:1/n#p256	ERR root=nbd:h:1/n#p256: partition "#p256" is not #pN (N from 1 to 255)
root=nbd:srv:disk#p10809108091080910809	ERR root=nbd:srv:disk#p10809108091080910809: partition "#p10809108091080910809" is not #pN
root=nbd:h:1080910809/x	ERR root=nbd:h:1080910809/x: port "1080910809" is not a number
root=nbd:h:1 init=	host=h|port=1|init=/sbin/init
root=nbd:h:1 nbdroot.retry=soon	ERR nbdroot.retry=soon: not a number
root=nbd:h:1 rd.retry=-1	ERR rd.retry=-1: not a number
root=nbd:h:1 nbdroot.timeout=1m	ERR nbdroot.timeout=1m: not a number
root=nbd:h:1 nbdroot.conns=0	ERR nbdroot.conns=0: not a number from 1 to 64
root=nbd:h:1 nbdroot.conns=many	ERR nbdroot.conns=many: not a number
root=nbd:h:1 nbdroot.swap=nbd:h:swap:x/y	ERR nbdroot.swap=nbd:h:swap:x/y: filesystem type "x/y" is not a name
root=nbd:h:1 nbdroot.swap=/dev/sdb	ERR nbdroot.swap=/dev/sdb: not an nbd: root
root=nbd:h:1 nbdroot.overlay=disk	ERR nbdroot.overlay=disk: the only overlay is nbdroot.overlay=tmpfs
root=nbd:h:1 nbdroot.tmpfs	ERR nbdroot.tmpfs: unknown nbdroot option
root=nbd:h:1 nbdroot.swap	ERR nbdroot.swap: needs a value (nbdroot.swap=...)
root=nbd:h:1 nbdroot.tls=on	ERR nbdroot.tls=on: the only value is nbdroot.tls=off (a key in the initrd turns TLS on)
root=nbd:h:1 nbdroot.tls=	ERR nbdroot.tls=: the only value is nbdroot.tls=off
root=nbd:h:1 nbdroot.tls	ERR nbdroot.tls: needs a value (nbdroot.tls=...)
root=nbd:h:1 nbdroot.tls.identity	ERR nbdroot.tls.identity: needs a value (nbdroot.tls.identity=...)
root=nbd:h:1 nbdroot.tls.identity=	ERR nbdroot.tls.identity=: empty: give the key file's identity (nbdroot.tls.identity=NAME)
root=nbd:h:1 nbdroot.tls.identity=lab:17	ERR nbdroot.tls.identity=lab:17: "lab:17" is not an identity (letters, digits and . _ @ + - only)
root=nbd:h:1 nbdroot.tls.identity=a/b	ERR nbdroot.tls.identity=a/b: "a/b" is not an identity
root=nbd:h:1 nbdroot.tls.identity=kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk	ERR nbdroot.tls.identity=kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: longer than 128 characters
root=nbd:h:1 rd.retry	ERR rd.retry: needs a value (rd.retry=...)
root=nbd:h:1 ip=10.0.2.300::10.0.2.2:255.255.255.0::eth0:off	ERR ip=10.0.2.300::10.0.2.2:255.255.255.0::eth0:off: client address "10.0.2.300" is not an IPv4 address
root=nbd:h:1 ip=10.0.2.15::gw:255.255.255.0::eth0:off	ERR ip=10.0.2.15::gw:255.255.255.0::eth0:off: gateway "gw" is not an IPv4 address
root=nbd:h:1 ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off	ERR ip=10.0.2.15::10.0.2.2:255.0.255.0::eth0:off: netmask "255.0.255.0" is not a netmask
root=nbd:h:1 ip=10.0.2.15::::b_x:eth0:off	ERR ip=10.0.2.15::::b_x:eth0:off: hostname "b_x" is not a host name
root=nbd:h:1 ip=10.0.2.15:::::eth0:static	ERR ip=10.0.2.15:::::eth0:static: autoconf "static" is not off
root=nbd:h:1 ip=::::::off	ERR ip=::::::off: autoconf "off" needs a client address
root=nbd:h:1 ip=10.0.2.15:::::eth0:off:1.2.3	ERR ip=10.0.2.15:::::eth0:off:1.2.3: dns0 "1.2.3" is not an IPv4 address
root=nbd:h:1 ip=1:2:3:4:5:6:7:8:9:10:11	ERR ip=1:2:3:4:5:6:7:8:9:10:11: more than 10 fields
root=nbd:h:1 ip=static	ERR ip=static: not off, dhcp, dhcp6, auto6 or CLIENT:SERVER
root=nbd:h:1 ip=[fec0::15]::[fec0::2]:129::eth0:none	ERR ip=[fec0::15]::[fec0::2]:129::eth0:none: prefix length "129" is not a number from 1 to 128
root=nbd:h:1 ip=[fec0::15]::[fec0::2]:255.255.255.0::eth0:none	ERR ip=[fec0::15]::[fec0::2]:255.255.255.0::eth0:none: prefix length "255.255.255.0" is not
root=nbd:h:1 ip=[fec0::15]::10.0.2.2:64::eth0:none	ERR ip=[fec0::15]::10.0.2.2:64::eth0:none: gateway "10.0.2.2" is not an IPv6 address (the client address is IPv6)
root=nbd:h:1 ip=10.0.2.15::[fec0::2]:255.255.255.0::eth0:none	ERR ip=10.0.2.15::[fec0::2]:255.255.255.0::eth0:none: gateway "[fec0::2]" is not an IPv4 address (the client address is IPv4)
root=nbd:h:1 ip=[fec0::1::2]::::::none	ERR ip=[fec0::1::2]::::::none: client address "[fec0::1::2]" is not an IPv6 address
root=nbd:h:1 ip=[1:2:3]::::::none	ERR ip=[1:2:3]::::::none: client address "[1:2:3]" is not an IPv6 address
root=nbd:h:1 ip=[fec0::12345]::::::none	ERR ip=[fec0::12345]::::::none: client address "[fec0::12345]" is not an IPv6 address
root=nbd:h:1 ip=[fec0::15::::::none	ERR ip=[fec0::15::::::none: unterminated '['
root=nbd:h:1 ip=[fec0::15]x::::::none	ERR ip=[fec0::15]x::::::none: unexpected "x::::::none" after "[fec0::15]"
root=nbd:h:1 ip=[fec0::15]:::64::eth0:none:[10.0.2.3]	ERR ip=[fec0::15]:::64::eth0:none:[10.0.2.3]: dns0 "[10.0.2.3]" is not an IPv6 address
root=nbd:h:1 ip=eth0:auto7	ERR ip=eth0:auto7: autoconf "auto7" is not off, none, on, any, dhcp, bootp, rarp, both, dhcp6 or auto6
root=nbd:h:1 ip=dhcp7	ERR ip=dhcp7: not off, dhcp, dhcp6, auto6
root=nbd:h:1 BOOTIF=52-54-00-12-34-56	ERR BOOTIF=52-54-00-12-34-56: not 01-xx-xx-xx-xx-xx-xx
root=nbd:h:1 BOOTIF=01-52-54-00-12-34	ERR BOOTIF=01-52-54-00-12-34: not 01-xx-xx-xx-xx-xx-xx
root=nbd:h:1 rootfstype=ext4;reboot	ERR rootfstype=ext4;reboot: not a filesystem type
nbdroot=10.0.2.2,root,nbd1 root=/dev/nbd0	ERR root=/dev/nbd0: nbdroot= attaches /dev/nbd1
nbdroot=10.0.2.2,root,sda root=/dev/nbd0	ERR nbdroot=10.0.2.2,root,sda: device "sda" is not nbdN
nbdroot=10.0.2.2,root,nbd0,x	ERR nbdroot=10.0.2.2,root,nbd0,x: more than three fields
nbdroot=srv:2000/root:ext4 root=/dev/nbd0	ERR nbdroot=srv:2000/root:ext4: unexpected ":ext4" after the export name
nbdroot=srv root=/dev/nbd0	ERR nbdroot=srv: not SERVER,NAME,nbdX or SERVER:PORT/NAME
nbdroot=srv:x/y root=/dev/nbd0	ERR nbdroot=srv:x/y: port "x" is not a number
root=/dev/nbd0	ERR root=/dev/nbd0: needs nbdroot=SERVER,NAME or netroot=nbd:... to say where it comes from
root=/dev/nbdx nbdroot=srv,n	ERR root=/dev/nbdx: not /dev/nbdN or /dev/nbdNpM
root=/dev/nbd0p1 netroot=nbd:srv:1/n#p2	ERR root=/dev/nbd0p1: the nbd: spec says partition 2
netroot=iscsi:srv::::iqn.x	ERR netroot=iscsi:srv::::iqn.x: not an nbd: root
root=/dev/sda1 quiet	ERR root=/dev/sda1: not an NBD root
quiet	ERR root: no root=nbd:HOST:PORT[/NAME] on the kernel command line
EOT
)

# shellcheck disable=SC2016 # the driver runs in the shell under test
driver='. "$1"
check() {
	case $want in
	"ERR "*) case $got in "$want"*) ok=1 ;; *) ok= ;; esac ;;
	*)	ok=1
		rest=$want
		while [ -n "$rest" ]; do
			pair=${rest%%|*}
			case "|$got|" in *"|$pair|"*) ;; *) ok= ;; esac
			case $rest in *"|"*) rest=${rest#*|} ;; *) rest= ;; esac
		done ;;
	esac
	if [ -n "$ok" ]; then
		echo "ok"
	else
		echo "MISMATCH [$line]: got [$got], want [$want]"
	fi
}
dump() {
	got="root=$nr_root|host=$nr_host|port=$nr_port|name=$nr_name|fstype=$nr_fstype|flags=$nr_flags|nbdopts=$nr_nbdopts|part=$nr_part|dev=$nr_dev|ro=$nr_ro|init=$nr_init|net=$nr_net|ipaddr=$nr_ip_addr|ipserver=$nr_ip_server|ipgw=$nr_ip_gw|ipmask=$nr_ip_mask|iphost=$nr_ip_host|ipdev=$nr_ip_dev|dns0=$nr_ip_dns0|dns1=$nr_ip_dns1|ntp=$nr_ip_ntp|bootif=$nr_bootif|retry=$nr_retry|timeout=$nr_timeout|conns=$nr_conns|shell=$nr_shell|debug=$nr_debug|swap=$nr_swap|overlay=$nr_overlay|toram=$nr_toram|tls=$nr_tls|identity=$nr_tls_identity"
}
while IFS="	" read -r line want; do
	case $line in
	"RP "*) ok=nbdroot_parse_rootpath; line=${line#RP } ;;
	*) ok=nbdroot_parse_cmdline ;;
	esac
	if $ok "$line"; then dump; else got="ERR $nr_error"; fi
	check
done'

failures=0
rows=$(printf '%s\n' "$table" | wc -l)
for sh in "busybox sh" dash; do
	if ! command -v "${sh%% *}" >/dev/null; then
		echo "FAIL: ${sh%% *} not installed (scripts/deps)"
		exit 1
	fi
	out=$(printf '%s\n' "$table" | $sh -c "$driver" sh "$lib")
	passed=$(printf '%s\n' "$out" | grep -c '^ok$')
	printf '%s\n' "$out" | grep -v '^ok$' | sed "s/^/$sh: /"
	echo "$sh: $passed of $rows lines parsed as expected"
	[ "$passed" -eq "$rows" ] || failures=$((failures + 1))
done
[ "$failures" -eq 0 ]
