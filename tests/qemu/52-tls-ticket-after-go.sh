#!/bin/bash
# Servers that send a TLS 1.3 NewSessionTicket after NBD_OPT_GO (ours
# under tests/unit/ticket-shim.c, read-at mode; GnuTLS's record path on
# this host), on their first connection only, right before the reply to
# a read: for /dev/nbd2 and /dev/nbd4 the first read of all (the
# partition scan that nbd-client runs before it returns; nbd4 with -n,
# the daemon in the foreground), for /dev/nbd3 the guest's read of byte
# 1.5 MiB. The guest's nbd-client -p has handed the session to kTLS by
# then: nbd.ko's read fails on the ticket and the connection dies with
# that read in flight. The guest passes only if each attach returns, the
# second MiB reads back intact, nbd.ko logged each failed read, the
# daemon logged each reconnection and no I/O error was logged
# (guest/tests/tls-ticket-after-go). The host checks that each server
# sent exactly one ticket and served exactly two connections.
VM_TIMEOUT=${VM_TIMEOUT:-300}
# shellcheck source=tests/qemu/ticket-lab.sh
. "$(dirname "$0")/ticket-lab.sh"
sum=$(dd if="$work/data.img" bs=1M skip=1 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
# ticket_server AT: a server whose first connection sends its ticket
# before the reply to the read of byte AT; adds its port to ports
ports=()
ticket_server() {
	LD_PRELOAD=$work/ticket-shim.so NBDROOT_TICKET=read-at \
		NBDROOT_TICKET_AT=$1 \
		NBDROOT_TICKET_ONCE=$work/ticket-sent-${#ports[@]} \
		start_server ours "$work/data.img" -C "$work/tls.conf"
	ports+=("$SERVER_PORT")
}
ticket_server 0		# /dev/nbd2: the partition scan's read
ticket_server 1572864	# /dev/nbd3: the guest's own
ticket_server 0		# /dev/nbd4: the scan's, -n

boot_vm ticket "root=nbd:10.0.2.2:$root_port nbdroot.tls=off nbdtest=tls-ticket-after-go:$(IFS=:; echo "${ports[*]}"):$sum"
grep -a 'nbd[234]\|nbd-client' "$work/ticket.log" | grep -v 'Possible stuck' |
	tr -d '\r' | sed 's/^/    guest: /'
expect_marker ticket
for port in "${ports[@]}"; do
	tickets_sent "$port" read-at
	[ "$TICKETS" -eq 1 ] || fail "the server on $port sent $TICKETS tickets, not one"
	[ "$(grep -c "export 'lab'" "$work/server-ours-$port.log")" -eq 2 ] ||
		fail "the server on $port did not serve exactly two connections (the first and the reconnection)"
done
[ -z "$failed" ] && echo "ok: each server sent one ticket after GO and served the reconnection"
