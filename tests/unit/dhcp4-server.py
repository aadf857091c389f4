# A scripted DHCPv4 server on the link "vs" (address 10.9.0.1) for
# tests/unit/dhcp4.sh, to play what udhcpd and dnsmasq do not:
#   python3 dhcp4-server.py MODE
#   other      each answer goes first for another transaction (xid + 1)
#              and for another client (chaddr one off), each with another
#              address (10.9.0.66, 10.9.0.67), then the right one
#   nak        the first transaction's REQUEST gets a NAK; the next
#              transaction is offered 10.9.0.51
#   overload   option 52 = 3 (RFC 2131 4.1): the router, the name server
#              and the root path's second half in the file field, the boot
#              file name and the domain in the sname field
#   split      the root path in three option 17s (RFC 3396), a name
#              server option between them
#   search     option 119 compressed (RFC 1035 4.1.4) and split in two
#              options, a pointer in the second to a name in the first
#   malformed  the OFFER first with option 17 running past the message's
#              end, the ACK first with a subnet mask of 3 bytes
#   holes      the subnet mask 255.0.255.0
#   quotes     a root path with quotes, a newline, $(...) and control
#              characters
#   nakall     every REQUEST gets a NAK
#   flood      each DISCOVER gets 200 OFFERs with a 3-byte mask first
#   ackother   each REQUEST gets first an ACK of the same address from
#              another server (identifier 10.9.0.2, root path
#              10.9.0.2:/other) and a NAK from it, then its own
#   slow       the first two DISCOVERs and the first REQUEST go
#              unanswered (the client sends each again); each message's
#              secs field is said ("secs N DISCOVER")
# The lease is 10.9.0.50/24 unless said; a REQUEST for another address
# or server gets a NAK. "ready" once bound, then each message read and
# answer sent is said on stdout.
import socket
import struct
import sys

mode = sys.argv[1]
SERVER = socket.inet_aton('10.9.0.1')
COOKIE = bytes([99, 130, 83, 99])
OFFER, ACK, NAK = 2, 5, 6

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'vs')
s.bind(('0.0.0.0', 67))
print('ready', flush=True)


def say(text):
    print(text, flush=True)


def opt(code, data):
    return bytes([code, len(data)]) + data


def a4(text):
    return socket.inet_aton(text)


def message(xid, chaddr, yiaddr, options, sname=b'', file=b''):
    """A BOOTREPLY with the broadcast flag, siaddr 10.9.0.1."""
    return (struct.pack('!BBBBIHH', 2, 1, 6, 0, xid, 0, 0x8000) +
            bytes(4) + a4(yiaddr) + SERVER + bytes(4) +
            chaddr.ljust(16, b'\0') + sname.ljust(64, b'\0') +
            file.ljust(128, b'\0') + COOKIE + options)


def lease(kind, mask='255.255.255.0'):
    """The options of an OFFER or ACK: type, server, lease time, mask,
    router, name server, end left to the caller."""
    return (opt(53, bytes([kind])) + opt(54, SERVER) +
            opt(51, struct.pack('!I', 3600)) + opt(1, a4(mask)) +
            opt(3, SERVER) + opt(6, a4('10.9.0.53')))


def good(kind, xid, chaddr, addr):
    """The answer of each mode but for what it plays on the side."""
    if mode == 'overload':
        options = (opt(53, bytes([kind])) + opt(54, SERVER) + opt(52, b'\x03') +
                   opt(1, a4('255.255.255.0')) + opt(51, struct.pack('!I', 3600)) +
                   opt(17, b'10.9.0.1:10809/') + b'\xff')
        file = opt(3, SERVER) + opt(6, a4('10.9.0.53')) + opt(17, b'over/root') + b'\xff'
        sname = opt(67, b'pxe.0') + opt(15, b'lab.example') + b'\xff'
        return message(xid, chaddr, addr, options, sname, file)
    options = lease(kind, '255.0.255.0' if mode == 'holes' else '255.255.255.0')
    if mode == 'split':
        options += (opt(17, b'10.9.0.1:10809/') + opt(6, a4('10.9.0.54')) +
                    opt(17, b'split/') + opt(17, b'root'))
    elif mode == 'search':
        # lab.example.com, boot.<pointer to example.com at byte 4>,
        # example.org; cut inside the second name
        names = (b'\x03lab\x07example\x03com\x00' + b'\x04boot\xc0\x04' +
                 b'\x07example\x03org\x00')
        options += opt(119, names[:20]) + opt(119, names[20:])
    elif mode == 'quotes':
        options += opt(17, b'10.9.0.1:/r\'o"ot\n$(touch PWNED)`x`\\\x01\x7f;end')
    else:
        options += opt(17, b'10.9.0.1:10809/root')
    return message(xid, chaddr, addr, options + b'\xff')


def parse(b):
    """xid, chaddr, message type and options of a client's message."""
    xid = struct.unpack('!I', b[4:8])[0]
    found, p = {}, 240
    while p + 1 < len(b) and b[p] != 255:
        if b[p] == 0:
            p += 1
            continue
        found.setdefault(b[p], b[p + 2:p + 2 + b[p + 1]])
        p += 2 + b[p + 1]
    return xid, b[28:34], found.get(53, b'\0')[0], found


def send(what, b):
    s.sendto(b, ('255.255.255.255', 68))
    say('sent ' + what)


def other(chaddr):
    return chaddr[:5] + bytes([chaddr[5] ^ 1])


xids = []     # the transactions in the order met
seen = {}     # messages met of each type
while True:
    b = s.recvfrom(2048)[0]
    if len(b) < 240 or b[0] != 1 or b[236:240] != COOKIE:
        continue
    xid, chaddr, kind, o = parse(b)
    if xid not in xids:
        xids.append(xid)
    addr = '10.9.0.51' if mode == 'nak' and len(xids) > 1 else '10.9.0.50'
    seen[kind] = seen.get(kind, 0) + 1
    if mode == 'slow':
        say('secs %d %s' % (struct.unpack('!H', b[8:10])[0],
                            'DISCOVER' if kind == 1 else 'REQUEST'))
        if (kind == 1 and seen[1] <= 2) or (kind == 3 and seen[3] == 1):
            continue
    if kind == 1:
        say('DISCOVER xid %08x transaction %d' % (xid, len(xids)))
        if mode == 'other':
            send('OFFER for another transaction',
                 good(OFFER, xid ^ 1, chaddr, '10.9.0.66'))
            send('OFFER for another client',
                 good(OFFER, xid, other(chaddr), '10.9.0.67'))
        elif mode == 'flood':
            bad = message(xid, chaddr, addr, opt(53, bytes([OFFER])) + opt(54, SERVER) +
                          opt(1, b'\xff\xff\xff') + b'\xff')
            for _ in range(200):
                s.sendto(bad, ('255.255.255.255', 68))
            say('sent 200 OFFERs with a 3-byte mask')
        elif mode == 'malformed':
            cut = lease(OFFER) + bytes([17, 200]) + b'10.9.0.1:/x'
            send('OFFER cut inside option 17', message(xid, chaddr, addr, cut))
        send('OFFER of ' + addr, good(OFFER, xid, chaddr, addr))
    elif kind == 3:
        want = socket.inet_ntoa(o.get(50, bytes(4)))
        server = socket.inet_ntoa(o.get(54, bytes(4)))
        say('REQUEST xid %08x for %s from %s' % (xid, want, server))
        nak = message(xid, chaddr, '0.0.0.0', opt(53, bytes([NAK])) + opt(54, SERVER) + b'\xff')
        if (want != addr or o.get(54) != SERVER or mode == 'nakall' or
                (mode == 'nak' and len(xids) == 1)):
            send('NAK', nak)
            continue
        if mode == 'other':
            send('ACK for another transaction',
                 good(ACK, xid ^ 1, chaddr, '10.9.0.66'))
            send('ACK for another client',
                 good(ACK, xid, other(chaddr), '10.9.0.67'))
        elif mode == 'ackother':
            them = a4('10.9.0.2')
            send('ACK from another server',
                 message(xid, chaddr, addr, opt(53, bytes([ACK])) + opt(54, them) +
                         opt(1, a4('255.255.255.0')) + opt(17, b'10.9.0.2:/other') +
                         b'\xff'))
            send('NAK from another server',
                 message(xid, chaddr, '0.0.0.0', opt(53, bytes([NAK])) + opt(54, them) +
                         b'\xff'))
        elif mode == 'malformed':
            bad = (opt(53, bytes([ACK])) + opt(54, SERVER) + opt(1, b'\xff\xff\xff') +
                   b'\xff')
            send('ACK with a 3-byte mask', message(xid, chaddr, addr, bad))
        send('ACK of ' + addr, good(ACK, xid, chaddr, addr))
