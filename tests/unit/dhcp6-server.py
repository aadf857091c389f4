# A scripted DHCPv6 server on the link "vs" for tests/unit/dhcp6-dnsmasq.sh,
# to play what dnsmasq does not: python3 dhcp6-server.py MODE
#   late    the first Solicit gets an Advertise without an address
#           (NoAddrsAvail, server A), the next ones an address (server B)
#   global  answers from the global 2001:db8:69::1, not a link-local one
#   badra   as late, and a router solicitation gets a router
#           advertisement with an option of length 0
# A Request gets a Reply with 2001:db8:69::77 from the server it names,
# an Information-Request one with the name server 2001:db8:69::53.
import select
import socket
import struct
import sys

mode = sys.argv[1]
A6 = socket.AF_INET6
idx = socket.if_nametoindex('vs')
s = socket.socket(A6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'vs')
s.bind(('::', 547))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(A6, 'ff02::1:2') + struct.pack('@I', idx))
out = s
if mode == 'global':
    out = socket.socket(A6, socket.SOCK_DGRAM)
    out.bind(('2001:db8:69::1', 0))
nd = socket.socket(A6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
nd.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'vs')
nd.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
nd.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
nd.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
              socket.inet_pton(A6, 'ff02::2') + struct.pack('@I', idx))
print('ready', flush=True)


def router():
    b, peer = nd.recvfrom(1500)
    if mode == 'badra' and b[:1] == bytes([133]):
        ra = bytes([134, 0, 0, 0, 64, 0, 0, 0]) + bytes(8) + bytes([1, 0]) + bytes(6)
        nd.sendto(ra, (peer[0], 0, 0, idx))
        print('bad RA to %s' % peer[0], flush=True)


def opt(code, data):
    return struct.pack('>HH', code, len(data)) + data


def options(b):
    found, p = {}, 4
    while p + 4 <= len(b):
        code, n = struct.unpack('>HH', b[p:p + 4])
        found.setdefault(code, b[p + 4:p + 4 + n])
        p += 4 + n
    return found


def ia(addr):
    a = socket.inet_pton(A6, addr) + struct.pack('>II', 300, 600)
    return opt(3, struct.pack('>III', 1, 0, 0) + opt(5, a))


SID_A = b'\x00\x01' + b'A' * 12
SID_B = b'\x00\x01' + b'B' * 12
solicits = 0
while True:
    if nd in select.select([s, nd], [], [])[0]:
        router()
        continue
    b, peer = s.recvfrom(1500)
    if len(b) < 4:
        continue
    t, xid, o = b[0], b[1:4], options(b)
    cid = opt(1, o.get(1, b''))
    if t == 1:
        solicits += 1
        if mode in ('late', 'badra') and solicits == 1:
            ans = bytes([2]) + xid + cid + opt(2, SID_A) + opt(13, b'\x00\x02none')
        else:
            ans = bytes([2]) + xid + cid + opt(2, SID_B) + ia('2001:db8:69::77')
    elif t == 3:
        ans = bytes([7]) + xid + cid + opt(2, o.get(2, SID_B)) + ia('2001:db8:69::77')
    elif t == 11:
        ans = bytes([7]) + xid + cid + opt(2, SID_B) + opt(23, socket.inet_pton(A6, '2001:db8:69::53'))
    else:
        continue
    print('type %d from %s' % (t, peer[0]), flush=True)
    out.sendto(ans, peer)
