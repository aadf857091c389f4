#!/bin/bash
# The server's kTLS handover, where the kernel has the tls module (the
# host here has not: tests/unit/server-tls.sh covers the GnuTLS path). The
# test kernel boots a small initramfs of its own (busybox, our nbd-server
# with its libraries, the tls and ChaCha20-Poly1305 modules), which serves
# a PSK TLS export on 10809; the host reaches it through a QEMU hostfwd
# and copies data in and out with nbdcopy, and a GnuTLS client
# (tests/unit/tls-close-notify.c) gets close_notify after an ABORT inside
# TLS (the alert written through the kernel). Passes only if the bytes come back, the guest's server logged both connections as kTLS, and the
# guest's /proc/net/tls_stat counts software TX and RX contexts with no
# decrypt error.
# shellcheck disable=SC2034 # INITRD: this test boots its own initramfs
INITRD=/dev/null
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
for t in cpio nbdcopy cmp; do
	command -v "$t" >/dev/null || fail "$t not installed (run scripts/deps)"
done
[ -x "$top/server/nbd-server" ] || fail "server/nbd-server not built (make)"
gcc -O2 -Wall -Wextra -Werror -o "$work/tls-close-notify" \
	"$top/tests/unit/tls-close-notify.c" -lgnutls ||
	fail "building tests/unit/tls-close-notify.c"

root=$work/initramfs
moddir=/lib/modules/$KVER
mkdir -p "$root"/{bin,etc,proc,sys,dev,modules,lib64,lib/x86_64-linux-gnu}
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$top/server/nbd-server" "$root/nbd-server"
ldd "$top/server/nbd-server" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/lib64/ { print $1 }' |
while read -r lib; do
	cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# modules with their dependencies first, in modules.dep's order
: >"$root/modules.order"
add_module() {
	local line path dep
	line=$(grep -m1 "/$1\.ko[^:]*:" "$moddir/modules.dep") ||
		fail "module $1 not in $moddir/modules.dep"
	path=${line%%:*}
	for dep in $(echo "${line#*:}" | tr ' ' '\n' | tac); do
		add_path "$dep"
	done
	add_path "$path"
}
add_path() {
	grep -qxF "${1##*/}" "$root/modules.order" && return 0
	cp "$moddir/$1" "$root/modules/"
	echo "${1##*/}" >>"$root/modules.order"
}
for m in virtio_pci virtio_net chacha_generic poly1305_generic \
	chacha20poly1305 tls; do
	add_module "$m"
done

psk=alice:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
echo "$psk" >"$root/keys.psk"
echo "$psk" >"$work/alice.psk"
printf '[generic]\ntlspsk = /keys.psk\nforce_tls = true\n[disk]\nexportname = /disk.img\n' \
	>"$root/cfg"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do
	insmod "/modules/$m" 2>/dev/null
done
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
truncate -s 16M /disk.img
# the log exists before the loop reads it: the background shell opens it
# only when it runs, and an empty count ends the loop at once
: >/server.log
/nbd-server -n 0.0.0.0@10809 -C /cfg 2>>/server.log &
echo "NBDROOT-STEP serving"
i=0
while [ "$(grep -c disconnected /server.log)" -lt 2 ] && [ $i -lt 240 ]; do
	sleep 1
	i=$((i + 1))
done
sed 's/^/guest server: /' /server.log
sed 's/^/guest tls_stat: /' /proc/net/tls_stat
stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }
if [ "$(grep -c '(kTLS "alice" TLS1.3 [A-Z0-9-]*) export .disk.: .* disconnected' /server.log)" -lt 2 ]; then
	echo "NBDROOT-TEST server-ktls: FAIL the server did not log two kTLS connections"
elif [ "${stat_tx:=$(stat TlsTxSw)}" -lt 1 ] || [ "${stat_rx:=$(stat TlsRxSw)}" -lt 1 ]; then
	echo "NBDROOT-TEST server-ktls: FAIL TlsTxSw=$stat_tx TlsRxSw=$stat_rx"
elif [ "$(stat TlsDecryptError)" != 0 ]; then
	echo "NBDROOT-TEST server-ktls: FAIL TlsDecryptError=$(stat TlsDecryptError)"
else
	echo "NBDROOT-TEST server-ktls: PASS TlsTxSw=$stat_tx TlsRxSw=$stat_rx, two kTLS connections"
fi
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz" ||
	fail "cannot build the initramfs"

port=$(random_port)
head -c 8M /dev/urandom >"$work/data"
VM_MEM=512 run_vm ktls "boot ktls: our server in the guest on 127.0.0.1:$port" \
	-kernel "$KERNEL" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 panic=1 quiet" \
	-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-10.0.2.15:10809" \
	-device virtio-net-pci,netdev=net0 &
vm=$!
await_console ktls "$vm" "NBDROOT-STEP serving"
uri="nbds://alice@127.0.0.1:$port/disk?tls-psk-file=$work/alice.psk"
ok=1
for _ in $(seq 30); do
	timeout 120 nbdcopy --connections=1 --flush "$work/data" "$uri" 2>"$work/copy.err" && ok=0 && break
	sleep 1
done
[ $ok = 0 ] || { stop_vm ktls; fail "nbdcopy to the guest: $(cat "$work/copy.err")"; }
# RFC 8446 6.1: close_notify through the kernel (TLS_SET_RECORD_TYPE)
timeout 60 "$work/tls-close-notify" "$port" "$work/alice.psk" ||
	{ stop_vm ktls; fail "no close_notify from the guest's kTLS session"; }
timeout 120 nbdcopy --connections=1 "$uri" "$work/back" ||
	{ stop_vm ktls; fail "nbdcopy from the guest"; }
cmp -n 8388608 "$work/data" "$work/back" || { stop_vm ktls; fail "read back over kTLS differs"; }
echo "ok: 8 MiB written and read back byte for byte over the guest's kTLS"
wait "$vm"
grep -a "guest server:\|guest tls_stat: Tls\(Curr\)\?\(Tx\|Rx\)Sw\|DecryptError" "$work/ktls.log" | tr -d '\r' | sed 's/^/    /'
expect_marker ktls
