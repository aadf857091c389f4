#!/bin/bash
# A server that sends a TLS 1.3 NewSessionTicket (our server under
# tests/unit/ticket-shim.c; GnuTLS's record path on this host): its
# ticket comes right after the handshake, inside the negotiation. The
# guest's nbd-client (kTLS) must drop it in its TLS core and attach;
# /dev/nbd2 then reads back what the host wrote, twice (two connections,
# a ticket each), with no decryption error in /proc/net/tls_stat. The
# host checks that each ticket really went out (the shim's log: the
# session's send sequence moved). A ticket sent after the kTLS handover
# breaks the kernel's read: 52-tls-ticket-after-go.sh asserts that -p
# recovers from it.
# shellcheck source=tests/qemu/ticket-lab.sh
. "$(dirname "$0")/ticket-lab.sh"
sum=$(head -c 1M "$work/data.img" | md5sum | cut -d' ' -f1)

export LD_PRELOAD=$work/ticket-shim.so NBDROOT_TICKET=handshake
start_server ours "$work/data.img" -C "$work/tls.conf"
hs_port=$SERVER_PORT
unset LD_PRELOAD NBDROOT_TICKET

boot_vm ticket "root=nbd:10.0.2.2:$root_port nbdroot.tls=off nbdtest=tls-ticket:$hs_port:$sum"
expect_marker ticket
tickets_sent "$hs_port" handshake
[ "$TICKETS" -ge 2 ] || fail "the server did not send a ticket on each of two connections"
[ -z "$failed" ] && echo "ok: a ticket per connection went out, and the client dropped each"
