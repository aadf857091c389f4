#!/bin/sh
# scripts/ceph-lab start --cephx --memstore: the cluster refuses a client
# with the wrong key, and a gateway (which authenticates as client.admin)
# still serves a clone, written and read back. Ceph is in scripts/deps, so
# a missing tool fails the test rather than skipping it.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/ceph-lab-lib
. tests/unit/ceph-lab-lib
need ceph-mon ceph-osd rbd ceph-authtool qemu-storage-daemon nbdcopy \
	mke2fs ss

truncate -s 16M "$TMP/root.img"
mke2fs -q -t ext4 "$TMP/root.img" || fail "mke2fs"
"$LAB" start "$D" --cephx --memstore || fail "ceph-lab start --cephx --memstore"
started=1
grep -qx 'auth_client_required = cephx' "$D/ceph.conf" ||
	fail "ceph.conf does not require cephx"

# a client.admin keyring with a key of its own: refused
ceph-authtool "$TMP/wrong.keyring" --create-keyring --gen-key -n client.admin >/dev/null ||
	fail "ceph-authtool"
timeout 30 rbd -c "$D/ceph.conf" --keyring "$TMP/wrong.keyring" ls >"$TMP/out" 2>&1 &&
	fail "a client with the wrong key listed the pool"
timeout 30 rbd -c "$D/ceph.conf" ls >/dev/null || fail "the lab's own key is refused"

"$LAB" import "$D" "$TMP/root.img" gold || fail "import"
"$LAB" clone "$D" gold 52-54-00-00-00-01 || fail "clone"
P=$(free_port)
"$LAB" gateway "$D" start "$P" || fail "gateway on $P"
head -c 1M /dev/urandom >"$TMP/data"
URI=nbd://127.0.0.1:$P/52-54-00-00-00-01
timeout 60 nbdcopy --flush "$TMP/data" "$URI" || fail "nbdcopy to the gateway"
timeout 60 nbdcopy "$URI" "$TMP/back" || fail "nbdcopy from the gateway"
cmp -n 1048576 "$TMP/data" "$TMP/back" || fail "read back differs"
"$LAB" stop "$D" || fail "stop"
started=
echo "ok: cephx cluster refuses a wrong key and serves through a gateway"
