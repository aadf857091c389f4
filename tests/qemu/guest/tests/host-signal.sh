# shellcheck shell=sh
# Sourced by guest checks that run until the host tells them to stop: the
# host serves NBD on a port when it is done, and the guest polls it.
# (Not executable: not a check of its own.)

# seconds since boot
now() { cut -d. -f1 /proc/uptime; }

# host_says_stop PORT: true once an NBD server answers on 10.0.2.2:PORT.
host_says_stop() {
	timeout 2 nc 10.0.2.2 "$1" </dev/null 2>/dev/null | grep -q NBDMAGIC
}
