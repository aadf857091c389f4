# DHCPv4 server messages for tests/unit/dhcp4-vectors.sh and the seeds
# of tests/fuzz/corpus-dhcp4, built byte by byte from the RFCs (2131
# section 2 for the header, 2132 for the options, 3396 for split options,
# 3397 and 1035 4.1.4 for the search list), not from packet.c: python3
# dhcp4-craft.py DIR writes each message into DIR/NAME. All are for xid
# 0x12345678 and client 52:54:00:12:34:56 unless their name says not.
# With --seeds, DIR gets the fuzzer's seeds instead (tests/fuzz/
# fuzz-dhcp4.c: a byte saying what follows, then a message or an IPv4
# datagram that carries one).
import os
import struct
import sys

XID = 0x12345678
MAC = bytes.fromhex('525400123456')
COOKIE = bytes([99, 130, 83, 99])	# RFC 2131 3, RFC 2132 2


def ip(s):
    return bytes(int(x) for x in s.split('.'))


def opt(code, data):
    assert len(data) <= 255
    return bytes([code, len(data)]) + data


def opts(code, data, piece=255):
    """One option split into instances of at most piece bytes (RFC 3396)."""
    return b''.join(opt(code, data[i:i + piece])
                    for i in range(0, len(data), piece))


def name(*labels):
    """A domain name uncompressed (RFC 1035 3.1): labels, then the root."""
    return b''.join(bytes([len(l)]) + l for l in labels) + b'\0'


def bootp(op=2, htype=1, hlen=6, xid=XID, chaddr=MAC, yiaddr='10.0.0.42',
          siaddr='0.0.0.0', sname=b'', file=b''):
    """The fixed header, RFC 2131 figure 1: 236 bytes, sname and file
    NUL-padded."""
    h = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', op, htype, hlen, 0, xid,
                    0, 0x8000, ip('0.0.0.0'), ip(yiaddr), ip(siaddr),
                    ip('0.0.0.0'), chaddr, sname, file)
    assert len(h) == 236
    return h


def dhcp(options, end=True, cookie=COOKIE, **hdr):
    """A whole message: header, cookie, options, the end option (255) and
    zeros to BOOTP's 300 bytes as servers send it; end=False: the
    message stops where the options do."""
    m = bootp(**hdr) + cookie + options
    if end:
        m += b'\xff'
        m += b'\0' * max(0, 300 - len(m))
    return m


def typ(t):
    return opt(53, bytes([t]))


SID = opt(54, ip('10.0.0.1'))


def ack(*options, **hdr):
    return dhcp(typ(5) + SID + b''.join(options), **hdr)


EVERY = (opt(1, ip('255.255.252.0')) +
         opt(3, ip('10.0.0.1') + ip('10.0.0.254')) +
         opt(6, ip('10.0.0.53') + ip('10.0.0.54') + ip('10.0.0.55')) +
         opt(12, b'client42') + opt(15, b'lab.example') +
         opt(17, b'nbd:10.0.0.2:10809:root') + opt(28, ip('10.0.3.255')) +
         opt(51, struct.pack('!I', 3600)) + opt(67, b'boot/pxelinux.0') +
         opt(119, name(b'lab', b'example') + name(b'example', b'org')))

# 64 one-letter labels: a 127-byte name (RFC 1035's 255 at most)
def letters(c, last=b''):
    return name(*([c] * 63 + [c + last]))

cases = {
    # what a server answers: every field we read, siaddr for the root
    # server; the same as an OFFER; a NAK (yiaddr 0, RFC 2131 4.3.2)
    'ack-every': ack(EVERY, siaddr='10.0.0.2'),
    'offer': dhcp(typ(2) + SID + opt(1, ip('255.255.255.0')),
                  siaddr='10.0.0.2'),
    'nak': dhcp(typ(6) + SID + opt(56, b'wrong network'), yiaddr='0.0.0.0'),
    # no siaddr: the server identifier serves; the header's file field
    # names the boot file when no option 67 does (RFC 2131 2)
    'ack-minimal': ack(),
    'ack-header-file': ack(file=b'pxelinux.0'),
    'ack-both-files': ack(opt(67, b'from-option'), file=b'from-header'),
    # without option 52 the file field is a name, whatever it holds
    'ack-file-not-options': ack(file=opt(17, b'evil')),
    # options after the end option are not read; pads are skipped
    'ack-after-end': dhcp(typ(5) + SID + b'\xff' + opt(12, b'late'),
                          end=False),
    'ack-pads': ack(b'\0\0' + opt(12, b'padded') + b'\0'),
    # RFC 2131 4.1 asks for an end option; a server that forgets it
    'ack-no-end': dhcp(typ(5) + SID + opt(12, b'noend'), end=False),
    # more than 8 routers and name servers: the first 8 kept
    # 0xffffffff is "infinity" (RFC 2131 3.3), an unsigned 32 bits
    'lease-infinite': ack(opt(51, b'\xff' * 4)),
    'ack-ten-dns': ack(opt(6, b''.join(ip('10.0.1.%d' % i)
                                       for i in range(1, 11)))),

    # not for us, or not a DHCP reply
    'wrong-xid': ack(xid=XID + 1),
    'wrong-mac': ack(chaddr=bytes.fromhex('525400123457')),
    'request': ack(op=1),
    'htype-6': ack(htype=6),
    'no-cookie': ack(cookie=b'\0\0\0\0'),
    'no-type': dhcp(SID),
    'type-empty': dhcp(opt(53, b'') + SID),
    'type-two': dhcp(opt(53, b'\x05\x05') + SID),
    'type-request': dhcp(typ(3) + SID),
    'no-server-id': dhcp(typ(5)),
    'short': ack()[:239],
    'header-only': ack()[:240],
    'long': ack() + b'\0' * (1501 - 300),
    'yiaddr-0': ack(yiaddr='0.0.0.0'),
    'yiaddr-bcast': ack(yiaddr='255.255.255.255'),
    'yiaddr-multicast': ack(yiaddr='224.0.0.1'),
    'yiaddr-class-e': ack(yiaddr='240.0.0.1'),
    'yiaddr-loopback': ack(yiaddr='127.0.0.1'),

    # fixed sizes (RFC 2132 3.3, 3.5, 3.8, 5.3, 9.2, 9.3, 9.7)
    'mask-3': ack(opt(1, b'\xff\xff\xff')),
    'bcast-5': ack(opt(28, ip('10.0.0.255') + b'\0')),
    'lease-2': ack(opt(51, b'\0\1')),
    'server-id-6': dhcp(typ(5) + opt(54, ip('10.0.0.1') + b'\0\0')),
    'router-6': ack(opt(3, ip('10.0.0.1') + b'\0\0')),
    'dns-0': ack(opt(6, b'')),
    'overload-2-bytes': ack(opt(52, b'\1\1')),
    # an option past its area: its data, its length byte
    'past-end': dhcp(typ(5) + SID + b'\x11\x14' + b'nbd:srv', end=False),
    'no-length': dhcp(typ(5) + SID + b'\x11', end=False),

    # option 52 (RFC 2132 9.3): 1 file, 2 sname, 3 both hold options
    'overload-file': ack(opt(52, b'\1'), file=opt(17, b'nbd:srv:root') + b'\xff',
                         sname=b'server-name'),
    'overload-sname': ack(opt(52, b'\2'), sname=opt(12, b'from-sname') + b'\xff',
                          file=b'pxelinux.0'),
    'overload-both': ack(opt(52, b'\3'),
                         file=opt(17, b'nbd:srv:root') + b'\xff',
                         sname=opt(67, b'boot.0') + b'\xff'),
    'overload-4': ack(opt(52, b'\4')),
    'overload-0': ack(opt(52, b'\0')),
    'overload-file-past': ack(opt(52, b'\1'),
                              file=b'\x11\x7f' + b'x' * 126),

    # RFC 3396: instances joined in order, options field, file, sname
    'split-rootpath': ack(opt(17, b'nbd:10.0.0.2:'), opt(12, b'between'),
                          opt(17, b'10809:root')),
    'split-into-file': ack(opt(17, b'nbd:10.0.0.2:'), opt(52, b'\1'),
                           file=opt(17, b'10809:root') + b'\xff'),
    'split-order': ack(opt(52, b'\3'), opt(17, b'A'),
                       file=opt(17, b'B') + b'\xff',
                       sname=opt(17, b'C') + b'\xff'),
    'split-mask': ack(opt(1, b'\xff\xff'), opt(1, b'\xff\0')),
    'split-mask-8': ack(opt(1, ip('255.0.0.0')), opt(1, ip('255.0.0.0'))),
    'rootpath-255': ack(opts(17, b'r' * 255, 200)),
    'rootpath-300': ack(opts(17, b'r' * 300, 200)),

    # strings: a NUL ends one (RFC 2132 2: trailing NULs deleted); a
    # server's control characters and quotes reach the conf file
    'nul-hostname': ack(opt(12, b'client\0junk')),
    'nul-trailing': ack(opt(17, b'nbd:srv:root\0\0')),
    'nul-long': ack(opts(17, b'short\0' + b'x' * 294)),
    'rootpath-quote': ack(opt(17, b"nbd:srv:/x'y\nIPV4ADDR=1\t\x7f"),
                          opt(12, b'$(reboot)'), opt(15, b'lab\nevil')),

    # option 119: names, a pointer to an earlier one, a loop, bad ones
    'search': ack(opt(119, name(b'lab', b'example') +
                      name(b'example', b'org'))),
    'search-pointer': ack(opt(119, name(b'lab', b'example') +
                              b'\x03dev\xc0\x04')),
    'search-forward': ack(opt(119, b'\x03dev\xc0\x06\x03lab\x00')),
    'search-self': ack(opt(119, b'\x03dev\xc0\x04')),
    'search-loop': ack(opt(119, b'\x01a\xc0\x00')),
    'search-pointer-cut': ack(opt(119, b'\x03lab\xc0')),
    'search-label-past': ack(opt(119, b'\x09lab\x00')),
    'search-unended': ack(opt(119, b'\x03lab')),
    'search-label-type': ack(opt(119, b'\x43lab\x00')),
    'search-control': ack(opt(119, b'\x03l\x01b\x00')),
    'search-space': ack(opt(119, b'\x03l b\x00')),
    'search-text': ack(opt(119, b'lab.example.com'), opt(12, b'client42')),
    'search-root-inside': ack(opt(119, name(b'lab') + b'\0' + name(b'dev'))),
    'search-root-last': ack(opt(119, name(b'lab') + b'\0')),
    'search-root-first': ack(opt(119, b'\0' + name(b'lab'))),
    # 8 names of 127 bytes and 7 blanks: 1023 bytes written out, the
    # most packet.h allows; one more letter is too many
    'search-1023': ack(opts(119, b''.join(letters(c) for c in
                                           (b'a', b'b', b'c', b'd',
                                            b'e', b'f', b'g', b'h')))),
    'search-1024': ack(opts(119, b''.join(letters(c) for c in
                                           (b'a', b'b', b'c', b'd',
                                            b'e', b'f', b'g')) +
                            letters(b'h', b'h'))),
}



def csum(b):
    """RFC 1071: the ones' complement of the ones' complement sum."""
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def datagram(msg, src='10.0.0.1'):
    """msg from src:67 to 255.255.255.255:68 (RFC 791, RFC 768), no
    UDP checksum (0: none, RFC 768)."""
    udp = struct.pack('!HHHH', 67, 68, 8 + len(msg), 0) + msg
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                    0, ip(src), ip('255.255.255.255'))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + udp


if sys.argv[1] == '--seeds':
    os.chdir(sys.argv[2])
    for k in ('ack-every', 'offer', 'nak', 'overload-both', 'split-order',
              'search-pointer', 'rootpath-quote', 'rootpath-300',
              'search-1023'):
        with open(k, 'wb') as f:
            f.write(b'\0' + cases[k])
    for k in ('ack-every', 'overload-file'):
        with open('ip-' + k, 'wb') as f:
            f.write(b'\1' + datagram(cases[k]))
    # the model's makings: overload 3 (3 + 5 * 3), yiaddr, siaddr, a
    # file name of 4 bytes, type and server, then one router option
    # in the options field and a root path in file
    with open('model', 'wb') as f:
        f.write(bytes([18]) + ip('10.0.0.42') + ip('10.0.0.2') +
                b'\4boot' + b'\1' + ip('10.0.0.1') +
                b'\0\3\4' + ip('10.0.0.254') + b'\1\x11\4root')
    # the same, no overload, a root path of 300 bytes in two pieces
    with open('model-long', 'wb') as f:
        f.write(bytes([3]) + ip('10.0.0.42') + ip('10.0.0.2') + b'\0' +
                b'\1' + ip('10.0.0.1') + b'\0\x11\xc8' + b'r' * 200 +
                b'\0\x11\x64' + b'r' * 100)
    with open('round-trip', 'wb') as f:
        f.write(b'\4\1' + struct.pack('!I', XID) + MAC + b'\0\0\3' +
                ip('10.0.0.42') + ip('10.0.0.1'))
    sys.exit(0)

os.chdir(sys.argv[1])
for k, v in cases.items():
    with open(k, 'wb') as f:
        f.write(v)
