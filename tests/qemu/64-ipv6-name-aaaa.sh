#!/bin/bash
# A server named on the boot line, resolved to its AAAA record in an
# IPv6-only lab: a small DNS responder on the host's ::1 port 53 (the
# guest's fec0::2, named as the name server by the static ip='s DNS field)
# answers nbd6.test with fec0::2 and no A record. The client resolves the
# name itself (klibc has no resolver) and attaches; the responder's log
# shows the guest's AAAA question.
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skip: port 53 needs root"; exit 77; }
if ss -Hlun 2>/dev/null | grep -q '\[::1\]:53 \|\*:53 \|\[::\]:53 '; then
	echo "skip: UDP port 53 on ::1 is taken"
	exit 77
fi
ipv6_only_lab

cat >"$work/dns.py" <<'PY'
# One name, nbd6.test, AAAA fec0::2 (RFC 1035 4.1, RFC 3596); an A
# question gets an empty answer, any other name NXDOMAIN. Each question
# is logged as "TYPE NAME".
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::1', 53))
log = open(sys.argv[1], 'a', buffering=1)
log.write('ready\n')
while True:
    m, peer = s.recvfrom(512)
    if len(m) < 12:
        continue
    off, labels = 12, []
    while off < len(m) and m[off]:
        labels.append(m[off + 1:off + 1 + m[off]].decode('ascii', 'replace'))
        off += 1 + m[off]
    qtype = struct.unpack('>H', m[off + 1:off + 3])[0]
    name = '.'.join(labels).lower()
    q = m[12:off + 5]
    log.write('%s %s\n' % ({1: 'A', 28: 'AAAA'}.get(qtype, qtype), name))
    rcode, answers = 0, b''
    if name != 'nbd6.test':
        rcode = 3
    elif qtype == 28:
        answers = (b'\xc0\x0c' + struct.pack('>HHIH', 28, 1, 60, 16) +
                   socket.inet_pton(socket.AF_INET6, 'fec0::2'))
    head = struct.pack('>HHHHHH', struct.unpack('>H', m[:2])[0],
                       0x8180 | rcode, 1, 1 if answers else 0, 0, 0)
    s.sendto(head + q + answers, peer)
PY
setsid python3 "$work/dns.py" "$work/dns.log" >"$work/dns.out" 2>&1 </dev/null &
server_pids+=("$!")
for _ in $(seq 50); do
	grep -q ready "$work/dns.log" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$work/dns.log" 2>/dev/null || fail "the DNS responder did not start: $(cat "$work/dns.out")"

boot_vm aaaa "ip=[fec0::17]::[fec0::2]:64:nbdbox6:eth0:none:[fec0::2] root=nbd:nbd6.test:$SERVER_PORT nbdroot.retry=30 nbdtest=root-is:/dev/nbd0"
expect_marker aaaa
expect_console aaaa "nbdroot: attached /dev/nbd0 from nbd6.test:$SERVER_PORT"
if grep -qx "AAAA nbd6.test" "$work/dns.log"; then
	echo "ok: the responder answered the guest's AAAA question for nbd6.test"
else
	fail "the responder saw no AAAA question: $(tr '\n' ' ' <"$work/dns.log")"
fi
