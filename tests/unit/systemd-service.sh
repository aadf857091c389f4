#!/bin/bash
# nbd-server's systemd units: systemd-analyze verify finds nothing, and
# under a real systemd (a Debian 12 container booted with systemd-nspawn,
# sharing this machine's network, the server on 127.0.0.1 only) the
# nbdroot-server package's service serves nbdinfo and nbdcopy from the
# host, runs as the nbdroot user with no capabilities, no new
# privileges, / read-only but its export writable, its own /tmp, logs to
# the journal, reloads its exports on "systemctl reload"; and
# nbd-server.socket starts it on the first connection.
# Exit 77 only when a tool or root is missing, and it says which.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
	echo "systemd-service: SKIP: $*"
	exit 77
}
fail() {
	echo "systemd-service: FAIL: $*"
	[ -n "${work:-}" ] && [ -s "$work/nspawn.log" ] &&
		{ echo "--- container console (tail):"; tail -n 20 "$work/nspawn.log"; }
	exit 1
}

for t in systemd-analyze systemd-nspawn nsenter mmdebstrap dpkg-buildpackage dh \
    nbdinfo nbdcopy; do
	command -v "$t" >/dev/null || skip "$t not installed (scripts/deps installs it)"
done

work=$(mktemp -d /tmp/nbdroot-systemd.XXXXXX)
root=$work/root
nspawn_pid=
cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		kill -TERM "$nspawn_pid"
		for _ in $(seq 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$nspawn_pid" 2>/dev/null
	fi
	wait 2>/dev/null
	[ -n "${KEEP_WORK:-}" ] && { echo "kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

# 1. systemd-analyze verify over the installed units, with their man pages
make -C "$top" -s install DESTDIR= PREFIX="$work/inst/usr" \
	SYSTEMDUNITDIR="$work/inst/units" SYSCONFDIR="$work/inst/etc" \
	DRACUTMODDIR="$work/inst/dracut" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "make install"; }
v=$(cd "$work/inst/units" && MANPATH="$work/inst/usr/share/man" \
	systemd-analyze verify ./nbd-server.service ./nbd-server.socket 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$v" ] || { echo "$v"; fail "systemd-analyze verify (exit $rc)"; }
echo "ok: systemd-analyze verify: clean"

[ "$(id -u)" = 0 ] || skip "booting a container needs root"

# 2. the package, from a copy of the tree
mkdir "$work/src"
(cd "$top" && git ls-files -co --exclude-standard -z) |
	(cd "$top" && tar --null -cf - -T -) | tar -xf - -C "$work/src"
(cd "$work/src" && make -s clean && nice dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/nbdroot-server_*_amd64.deb)

# 3. a Debian 12 container with systemd, cached
# shellcheck source=tests/unit/debian-chroot-lib
. "$top/tests/unit/debian-chroot-lib"
debian_root systemd-test minbase systemd,systemd-sysv,dbus,adduser,procps
cp "$deb" "$root/tmp/"
chroot "$root" dpkg -i "/tmp/${deb##*/}" >"$work/dpkg.log" 2>&1 ||
	{ cat "$work/dpkg.log"; fail "dpkg -i ${deb##*/}"; }

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
port=$(free_port)
sport=$(free_port)
cat >"$root/etc/nbdroot/nbd-server.conf" <<EOF
[generic]
listenaddr = 127.0.0.1
port = $port

[root]
exportname = /srv/nbdroot/root.img
EOF
mkdir -p "$root/srv/nbdroot"
truncate -s 64M "$root/srv/nbdroot/root.img"
chroot "$root" chown nbdroot:nbdroot /srv/nbdroot/root.img
uid=$(chroot "$root" id -u nbdroot)
ln -s /lib/systemd/system/nbd-server.service \
	"$root/etc/systemd/system/multi-user.target.wants/nbd-server.service"
mkdir -p "$root/etc/systemd/system/nbd-server.socket.d"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$sport" \
	>"$root/etc/systemd/system/nbd-server.socket.d/test.conf"

# 4. boot it; --register=no --keep-unit: no machined in this machine
timeout 600 systemd-nspawn -D "$root" --register=no --keep-unit -b \
	>"$work/nspawn.log" 2>&1 </dev/null &
nspawn_pid=$!
up=
for _ in $(seq 240); do
	nbdinfo --size "nbd://127.0.0.1:$port/root" >"$work/size" 2>/dev/null &&
		{ up=1; break; }
	kill -0 "$nspawn_pid" 2>/dev/null || fail "the container ended"
	sleep 0.5
done
[ -n "$up" ] || fail "nbd-server.service did not serve 127.0.0.1:$port within 120 s"
[ "$(cat "$work/size")" = 67108864 ] || fail "export size $(cat "$work/size"), expected 67108864"
echo "ok: nbd-server.service serves nbd://127.0.0.1:$port/root (64 MiB)"

leader=$(pgrep -x systemd -P "$(pgrep -P "$nspawn_pid" | tr '\n' , | sed 's/,$//')" | head -n 1)
[ -n "$leader" ] || fail "no systemd inside the container"
in_ct() {
	nsenter -t "$leader" -m -u -i -n -p "$@"
}

# writes land in the image through ProtectSystem=strict + ReadWritePaths
head -c 1048576 /dev/urandom >"$work/data"
nbdcopy "$work/data" "nbd://127.0.0.1:$port/root" || fail "nbdcopy to the export"
cmp -n 1048576 "$work/data" "$root/srv/nbdroot/root.img" ||
	fail "the image does not hold what nbdcopy wrote"
echo "ok: nbdcopy wrote 1 MiB into /srv/nbdroot/root.img"

pid=$(in_ct systemctl show -p MainPID --value nbd-server)
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "nbd-server.service has no main pid"
st=$(in_ct cat "/proc/$pid/status")
grep -q "^Uid:[[:space:]]*${uid}[[:space:]]" <<<"$st" || fail "the server does not run as nbdroot ($uid): $(grep ^Uid <<<"$st")"
grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$st" || fail "NoNewPrivs is not set"
grep -q '^CapBnd:[[:space:]]*0000000000000000' <<<"$st" || fail "capabilities left: $(grep ^CapBnd <<<"$st")"
in_ct awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | grep -q '^ro' ||
	fail "/ is not read-only for the service"
[ "$(in_ct stat -c %i "/proc/$pid/root/tmp")" != "$(in_ct stat -c %i /tmp)" ] ||
	fail "the service shares the container's /tmp"
echo "ok: runs as nbdroot, NoNewPrivs, no capabilities, / read-only, private /tmp"

# reload: a new export appears without a restart, and the journal says so
printf '\n[second]\nexportname = /srv/nbdroot/root.img\nreadonly = true\n' \
	>>"$root/etc/nbdroot/nbd-server.conf"
in_ct systemctl reload nbd-server || fail "systemctl reload nbd-server"
ok=
for _ in $(seq 20); do
	nbdinfo --size "nbd://127.0.0.1:$port/second" >/dev/null 2>&1 && { ok=1; break; }
	sleep 0.5
done
[ -n "$ok" ] || fail "after reload, the export \"second\" is not served"
[ "$(in_ct systemctl show -p MainPID --value nbd-server)" = "$pid" ] ||
	fail "reload restarted the server"
in_ct journalctl -u nbd-server --no-pager >"$work/journal" 2>&1
grep -q 'nbd-server.*SIGHUP: configuration reloaded' "$work/journal" ||
	{ cat "$work/journal"; fail "the journal has no \"configuration reloaded\" from nbd-server"; }
echo "ok: systemctl reload: export \"second\" served, same pid, logged in the journal"

# socket activation: systemd listens, the first client starts the server
in_ct systemctl stop nbd-server || fail "systemctl stop nbd-server"
in_ct systemctl daemon-reload
in_ct systemctl start nbd-server.socket || fail "systemctl start nbd-server.socket"
[ "$(in_ct systemctl is-active nbd-server.service)" != active ] ||
	fail "the service runs before any client"
size=$(nbdinfo --size "nbd://127.0.0.1:$sport/root" 2>&1) ||
	fail "nbdinfo through nbd-server.socket: $size"
[ "$size" = 67108864 ] || fail "through the socket: size $size"
[ "$(in_ct systemctl is-active nbd-server.service)" = active ] ||
	fail "the socket did not start nbd-server.service"
in_ct journalctl -u nbd-server --no-pager | grep -q 'LISTEN_FDS' &&
	fail "the server refused systemd's socket"
echo "ok: nbd-server.socket on 127.0.0.1:$sport started the server for nbdinfo"

in_ct systemctl poweroff
for _ in $(seq 100); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.3
done
kill -0 "$nspawn_pid" 2>/dev/null && fail "the container did not power off within 30 s"
nspawn_pid=
echo "systemd-service: PASS"
