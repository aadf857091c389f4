# shellcheck shell=bash
# shellcheck disable=SC2154 # top, work and server_pids come from lib.sh
# Helpers for the client's QEMU tests (sourced after lib.sh): a test root
# that also carries our nbd-client, small data images, and the third-party
# servers the client must work with, each on 127.0.0.1 and a free port.

# A private test root with /sbin/nbd-client, for guests that attach more
# devices themselves.
client_test_image() {
	local img=$work/root-client.img
	mkdir -p "$work/client-overlay/sbin"
	cp "$top/client/nbd-client" "$work/client-overlay/sbin/"
	"$top/scripts/mkrootfs" busybox --out "$img" --size 64M \
		--overlay "$top/tests/qemu/guest" \
		--overlay "$work/client-overlay" >&2 ||
		fail "could not build the client test root"
	echo "$img"
}

# data_image NAME: an 8 MiB ext4 image whose /marker holds NAME.
data_image() {
	local img=$work/data-$1.img
	mkdir -p "$work/data-$1"
	echo "$1" >"$work/data-$1/marker"
	mkfs.ext4 -q -F -d "$work/data-$1" "$img" 8M >/dev/null ||
		fail "mkfs.ext4 of $img failed"
	echo "$img"
}

# image_file IMAGE PATH: prints PATH from inside the ext4 IMAGE.
image_file() {
	debugfs -R "cat $2" "$1" 2>/dev/null
}

# start_debian_server NAME IMAGE: Debian's nbd-server (the reference
# implementation) serving IMAGE as export NAME, foreground, loopback only.
start_debian_server() {
	local name=$1 img=$2 conf=$work/debian-$1.conf log pid
	for _ in 1 2 3 4 5 6 7 8; do
		SERVER_PORT=$(random_port)
		log=$work/server-debian-$SERVER_PORT.log
		printf '[generic]\nlistenaddr = 127.0.0.1\nport = %s\nuser = root\ngroup = root\n[%s]\nexportname = %s\nflush = true\nfua = true\n' \
			"$SERVER_PORT" "$name" "$img" >"$conf"
		# -d serves one connection and exits: probe with ss, not connect
		setsid /usr/bin/nbd-server -C "$conf" -d >"$log" 2>&1 </dev/null &
		pid=$!
		server_pids+=("$pid")
		for _ in $(seq 50); do
			ss -tln "sport = :$SERVER_PORT" | grep -q LISTEN && return 0
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM -- "-$pid" 2>/dev/null
	done
	fail "Debian's nbd-server did not start: $(tail -n 3 "$log")"
}
