#!/bin/sh
# scripts/ceph-lab end to end, on the host: a one-node Ceph cluster, a
# golden ext4 root and two clones, two NBD gateways on 127.0.0.1. Data
# written through gateway A is read back through gateway B; the other
# clone does not see it; a gateway SIGKILLed during a write+flush loop
# loses no flushed write; stop leaves no process behind. Ceph is in
# scripts/deps, so a missing tool fails the test rather than skipping it.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/ceph-lab-lib
. tests/unit/ceph-lab-lib

t0=$(date +%s.%N)
step() {
	echo "$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%6.1f')s  $*"
}

need ceph-mon ceph-osd ceph rbd qemu-storage-daemon qemu-io qemu-img \
	nbdcopy nbdinfo mke2fs ss bc
# QEMU's rbd driver is a module that qemu-img lists when it is installed
qemu-img --help | grep -i '^supported formats' | grep -qw rbd ||
	fail "QEMU has no rbd driver (scripts/deps installs qemu-block-extra)"

# expect_error WORDS -- ARGS...: ceph-lab ARGS fails and says WORDS
expect_error() {
	words=$1
	shift 2
	out=$("$LAB" "$@" 2>&1) && fail "ceph-lab $* succeeded"
	case $out in
	*"$words"*) ;;
	*) fail "ceph-lab $*: \"$out\" does not say \"$words\"" ;;
	esac
}

# bad input, before anything runs
expect_error "no ceph-lab cluster here" -- clone "$D" gold pc01
expect_error 'port "x": not a number' -- gateway "$D" start x
expect_error "--size \"lots\": not a size" -- start "$D" --size lots
step "bad input refused with its values"

# a small root: ext4 made with mke2fs -d, a marker file in it
mkdir -p "$TMP/root/etc"
echo golden >"$TMP/root/etc/marker"
truncate -s 32M "$TMP/root.img"
mke2fs -q -t ext4 -d "$TMP/root" "$TMP/root.img" || fail "mke2fs"

"$LAB" start "$D" || fail "ceph-lab start"
started=1
step "cluster up"
mon=$(cat "$D/run/mon.pid") osd=$(cat "$D/run/osd.pid")

expect_error "must be a power of two" -- import "$D" "$TMP/root.img" gold --object-size 3M
"$LAB" import "$D" "$TMP/root.img" gold --object-size 1M || fail "ceph-lab import"
step "golden image imported"
expect_error 'client "52:54:00:12:34": not a MAC' -- clone "$D" gold 52:54:00:12:34
# a MAC written with colons becomes its pxelinux form
"$LAB" clone "$D" gold 52:54:00:12:34:56 pc02 || fail "ceph-lab clone"
c1=52-54-00-12-34-56 c2=pc02
expect_error "already exists" -- clone "$D" gold pc02
step "two clones"

A=$(free_port)
"$LAB" gateway "$D" start "$A" || fail "gateway A on $A"
B=$(free_port)
[ "$B" != "$A" ] || B=$((A + 1))
"$LAB" gateway "$D" start "$B" || fail "gateway B on $B"
expect_error "already runs" -- gateway "$D" start "$A"
ga=$(cat "$D/run/gw-$A.pid") gb=$(cat "$D/run/gw-$B.pid")
step "gateways A :$A and B :$B"
timeout 20 nbdinfo --list "nbd://127.0.0.1:$B" >"$TMP/list" || fail "nbdinfo --list B"
for c in "$c1" "$c2"; do
	grep -q "export=\"$c\"" "$TMP/list" ||
		fail "gateway B does not export $c: $(cat "$TMP/list")"
done

# a clone made while the gateways run: both export it at once, and it
# reads as the golden image
"$LAB" clone "$D" gold pc03 || fail "ceph-lab clone with gateways running"
for g in "$A" "$B"; do
	timeout 60 nbdcopy "nbd://127.0.0.1:$g/pc03" "$TMP/c3" ||
		fail "gateway :$g does not serve the new clone pc03"
	cmp "$TMP/root.img" "$TMP/c3" || fail "pc03 through :$g is not the golden image"
done
step "a third clone exported by both running gateways"

# clone 1: 4M written and flushed through A, read through B
head -c 4M /dev/urandom >"$TMP/data"
timeout 60 nbdcopy --flush "$TMP/data" "nbd://127.0.0.1:$A/$c1" || fail "nbdcopy to A"
timeout 60 nbdcopy "nbd://127.0.0.1:$B/$c1" "$TMP/c1" || fail "nbdcopy from B"
cmp -n 4194304 "$TMP/data" "$TMP/c1" || fail "clone 1 through B differs from what A wrote"
cmp -i 4194304 "$TMP/root.img" "$TMP/c1" ||
	fail "clone 1 past the write differs from the golden image"
step "clone 1 written through A, read back through B"
timeout 60 nbdcopy "nbd://127.0.0.1:$B/$c2" "$TMP/c2" || fail "nbdcopy clone 2 from B"
cmp "$TMP/root.img" "$TMP/c2" || fail "clone 2 is not the golden image: it sees clone 1's writes"
step "clone 2 unchanged"

# SIGKILL gateway A during a loop of 64k write + flush into clone 2, one
# qemu-io per round; a round counts as acknowledged once qemu-io exits 0
: >"$TMP/acked"
(
	i=1
	while [ $i -le 2000 ]; do
		timeout 30 qemu-io -f raw -c "write -P $((i % 250 + 1)) $((i * 65536)) 64k" \
			-c flush "nbd://127.0.0.1:$A/$c2" >/dev/null 2>&1 || exit 0
		echo $i >>"$TMP/acked"
		i=$((i + 1))
	done
) &
loop=$!
n=0
while [ "$(wc -l <"$TMP/acked")" -lt 10 ] && [ $n -lt 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
# at a random point of a round, not always between two
sleep "0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)"
"$LAB" status "$D" >"$TMP/status" || fail "status with all running: $(cat "$TMP/status")"
kill -9 "$ga"
step "gateway A killed after $(wc -l <"$TMP/acked") acknowledged rounds"
n=0
while kill -0 "$loop" 2>/dev/null && [ $n -lt 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill -0 "$loop" 2>/dev/null && fail "the write loop still runs 60 s after A died"
acked=$(wc -l <"$TMP/acked")
[ "$acked" -ge 10 ] || fail "only $acked rounds acknowledged before the kill"
[ "$acked" -lt 2000 ] || fail "the loop never noticed that A died"
set --
while read -r i; do
	set -- "$@" -c "read -P $((i % 250 + 1)) $((i * 65536)) 64k"
done <"$TMP/acked"
timeout 60 qemu-io -f raw "$@" "nbd://127.0.0.1:$B/$c2" >"$TMP/verify" 2>&1 ||
	fail "qemu-io read through B: $(tail -n 3 "$TMP/verify")"
grep -q 'Pattern verification failed' "$TMP/verify" &&
	fail "a flushed write is missing through B: $(grep -m1 -B1 'Pattern verification' "$TMP/verify")"
ok=$(grep -c '^read 65536/65536 bytes' "$TMP/verify")
[ "$ok" = "$acked" ] || fail "$ok of $acked reads through B succeeded"
step "all $acked flushed writes read back through B"
"$LAB" status "$D" >"$TMP/status" && fail "status succeeds with gateway A dead"
grep -qx "gateway 127.0.0.1:$A: dead (pid $ga)" "$TMP/status" ||
	fail "status does not report A dead: $(cat "$TMP/status")"

# B still serves after A's death; stop removes B and the cluster
timeout 20 nbdinfo --size "nbd://127.0.0.1:$B/$c1" >/dev/null || fail "B stopped serving"
"$LAB" stop "$D" || fail "ceph-lab stop"
started=
# alive: a process, not a zombie waiting for its adopter to reap it; one
# reaped between the two looks (its stat gone) is not alive either
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	alive_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	case "${alive_st##*) }" in
	Z*) return 1 ;;
	esac
}
for p in "$mon" "$osd" "$ga" "$gb"; do
	alive "$p" && fail "pid $p ($(cat /proc/"$p"/comm 2>/dev/null)) still runs after stop"
done
for p in /proc/[0-9]*; do
	tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$D/ceph.conf" || continue
	[ "${p#/proc/}" = "$$" ] && continue
	fail "process ${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline")) still runs after stop"
done
ss -Hltn "sport = :$B" | grep -q . && fail "port $B still listening after stop"
step "stopped, nothing left"
echo "ok: ceph-lab cluster, two clones, two gateways, failover without loss"
