# Crafted DHCPv6 messages and router advertisements for tests/unit/dhcp6.sh
# (from the review of the stateful DHCPv6 client): python3 dhcp6-craft.py
# DIR writes each into DIR/NAME.
import struct, sys, os
os.chdir(sys.argv[1])
def opt(c, d): return struct.pack('>HH', c, len(d)) + d
DUID = bytes.fromhex('00030001525400123456')
SID = opt(2, b'\x00\x01' + b'S'*12)
CID = opt(1, DUID)
def hdr(t, xid=0x123456): return struct.pack('>I', (t<<24)|xid)
def a6(s):
    import ipaddress; return ipaddress.IPv6Address(s).packed
def iaaddr(addr, pref=3600, valid=7200, sub=b''): return opt(5, a6(addr)+struct.pack('>II', pref, valid)+sub)
def ia_na(iaid, inner): return opt(3, struct.pack('>III', iaid, 0, 0)+inner)
def status(code, msg=b''): return opt(13, struct.pack('>H', code)+msg)
def name(*labels): return b''.join(bytes([len(l)])+l for l in labels)+b'\0'
cases = {
 # stateless Reply to an Information-Request carrying an IA_NA with IAID 0
 'stateless-ia0': hdr(7)+CID+SID+ia_na(0, iaaddr('2001:db8::bad')),
 # stateless Reply with neither client nor server identifier
 'stateless-noids': hdr(7)+opt(23, a6('2001:db8::53')),
 # stateless Reply with another client's identifier? (must be refused)
 'stateless-otherclient': hdr(7)+opt(1, b'\x00\x03\x00\x01ABCDEF')+SID,
 # stateful Reply: IA status NoAddrsAvail and an address in the same IA
 'ia-status-plus-addr': hdr(7)+CID+SID+ia_na(1, status(2)+iaaddr('2001:db8::5')),
 'ia-status-unspecfail': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5')+status(1)),
 # IAADDR whose own status says NoAddrsAvail
 'iaaddr-status': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5', sub=status(2))),
 'linklocal-addr': hdr(7)+CID+SID+ia_na(1, iaaddr('fe80::1')),
 'v4mapped-addr': hdr(7)+CID+SID+ia_na(1, iaaddr('::ffff:10.0.0.1')),
 'multicast-addr': hdr(7)+CID+SID+ia_na(1, iaaddr('ff02::1')),
 'pref-gt-valid': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5', 9000, 10)),
 'dns-bogus': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5'))+opt(23, a6('ff02::1')+a6('::')+a6('::1')),
 'url-meta': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5'))+opt(59, b"nbd://h/$(reboot)`id`;'\"\\nx|&<>"),
 'search-long-label': hdr(7)+CID+SID+opt(24, name(b'a'*64)),
 'search-unterminated': hdr(7)+CID+SID+opt(24, bytes([3])+b'lab'+bytes([7])+b'exa'),
 'search-dashes': hdr(7)+CID+SID+opt(24, name(b'-rf', b'-')),
 'search-toolong': hdr(7)+CID+SID+opt(24, name(*([b'a'*63]*4))),
 'search-empty-first': hdr(7)+CID+SID+opt(24, b'\0'+name(b'lab')),
 'adv-noaddrs': hdr(2)+CID+SID+status(2),
 'valid0': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5', 0, 0)),
 'url-inject': hdr(7)+CID+SID+ia_na(1, iaaddr('2001:db8::5'))+opt(59, b"nbd://h/x\\0047;touch${IFS}/tmp/PWNED;\\0047\\nIPV6GATEWAY=\\0047fe80::bad"),
 'url-quote': hdr(7)+CID+SID+opt(59, b"nbd://h/x'y"),
 'url-space': hdr(7)+CID+SID+opt(59, b"nbd://h/x y"),
 'dns-linklocal': hdr(7)+CID+SID+opt(23, a6('fe80::1')+a6('2001:db8::53')),
 'adv-ia-noaddrs': hdr(2)+CID+SID+ia_na(1, status(2, b'none')),
 'two-serverids': hdr(7)+CID+SID+opt(2, b'\x00\x01ZZ')+ia_na(1, iaaddr('2001:db8::5')),
}
for k, v in cases.items():
    open(k, 'wb').write(v)
# RAs (ICMPv6 from type on)
def ra(flags, opts): return bytes([134, 0, 0, 0, 64, flags, 0, 0]) + b'\0'*8 + opts
def ndopt(t, body):
    assert (len(body)+2) % 8 == 0; return bytes([t, (len(body)+2)//8]) + body
pio = lambda plen, pfx, L=0xc0: ndopt(3, bytes([plen, L]) + struct.pack('>III', 86400, 14400, 0) + a6(pfx))
rd = lambda life, *addrs: ndopt(25, b'\0\0' + struct.pack('>I', life) + b''.join(a6(a) for a in addrs))
ras = {
 'ra-len0': ra(0x80, bytes([1, 0]) + b'\0'*6),
 'ra-len0-after': ra(0x80, rd(600, '2001:db8::53') + bytes([25, 0, 0, 0])),
 'ra-prefix0': ra(0x80, pio(0, '::')),
 'ra-rdnss-ll': ra(0, rd(600, 'fe80::1', '2001:db8::53')),
 'ra-rdnss-0': ra(0, rd(0, '2001:db8::53')),
 'ra-odd-tail': ra(0, rd(600, '2001:db8::53') + b'\x19'),
 'ra-pio-not32': ra(0, ndopt(3, b'\0'*38)),
}
for k, v in ras.items():
    open(k, 'wb').write(v)
