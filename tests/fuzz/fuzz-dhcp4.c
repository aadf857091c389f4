// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer over nbdroot-dhcp4's packet code (initramfs/dhcp4/packet.c):
 * what the boot link sends the initrd before it has an address. The
 * first byte picks what the rest is:
 *   0  a DHCP message, read for xid 0x12345678 and 52:54:00:12:34:56
 *   1  an IPv4 datagram, unframed, its payload read as 0
 *   2  the same with its IP header checksum made right first, so that
 *      the fuzzer gets past it
 *   3  the makings of a model's message: well-formed option areas, each
 *      option's pieces joined here as RFC 3396 says; the parse must
 *      accept it exactly when its values are valid, and give them back
 *   4  the client's own DISCOVER or REQUEST, framed and unframed again:
 *      the same bytes, the checksums right
 * Whatever is accepted is checked: strings ended within their buffers,
 * the address lists within bounds, a host's address, a search list of
 * printable names with single blanks between them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "packet.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define ENDED(s) (memchr((s), '\0', sizeof(s)) != NULL)

#define XID	0x12345678u
static const unsigned char mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* RFC 1071's sum, folded (0xffff over a header whose checksum is right) */
static uint16_t sum16(uint32_t s, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int host_addr(const unsigned char *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

static void check_reply(const struct dhcp_reply *r)
{
	const char *s = r->search;
	size_t i, n;

	CHECK(r->type == DHCP_OFFER || r->type == DHCP_ACK || r->type == DHCP_NAK);
	CHECK(r->nrouters >= 0 && r->nrouters <= DHCP_MAX_ROUTERS);
	CHECK(r->ndns >= 0 && r->ndns <= DHCP_MAX_DNS);
	CHECK(ENDED(r->hostname) && ENDED(r->domain) && ENDED(r->rootpath) &&
	      ENDED(r->boot_file) && ENDED(r->search));
	if (r->type != DHCP_NAK)
		CHECK(host_addr((const unsigned char *)&r->yiaddr));
	n = strlen(s);
	CHECK(!r->search_dropped || !n);
	CHECK(!n || (s[0] != ' ' && s[n - 1] != ' '));
	for (i = 0; i < n; i++)
		CHECK(s[i] == ' ' ? s[i + 1] != ' ' : s[i] > ' ' && s[i] < 0x7f);
}

static const char *parse(const unsigned char *msg, size_t len,
			 struct dhcp_reply *r)
{
	const char *err = dhcp_parse(msg, len, XID, mac, r);

	if (err)
		CHECK(*err && strlen(err) < 160);
	else
		check_reply(r);
	return err;
}

static void unframe(const uint8_t *data, size_t len, int fix)
{
	unsigned char *pkt = malloc(len ? len : 1);	/* ASan sees past len */
	const unsigned char *msg;
	struct dhcp_reply r;
	size_t n, ihl;

	memcpy(pkt, data, len);
	ihl = len ? (size_t)(pkt[0] & 0x0f) * 4 : 0;
	if (fix && ihl >= 20 && ihl <= len) {
		put_be16(pkt + 10, 0);
		put_be16(pkt + 10, (uint16_t)~sum16(0, pkt, ihl));
	}
	if (!dhcp_unframe(pkt, len, &msg, &n)) {
		CHECK(ihl >= 20 && msg == pkt + ihl + 8 && n <= len - ihl - 8);
		CHECK(pkt[0] >> 4 == 4 && pkt[9] == 17 && sum16(0, pkt, ihl) == 0xffff);
		CHECK(get_be16(pkt + ihl + 2) == 68 && !(get_be16(pkt + 6) & 0x3fff));
		parse(msg, n, &r);
	}
	free(pkt);
}

/* The model: its message, and each code's data joined in RFC 3396's
 * order (the options field, file, sname) from the pieces it put. */
struct piece {
	int area;
	unsigned int code;
	size_t off, len;
};

static struct model {
	unsigned char msg[DHCP_MSG_MAX];
	size_t at[3], end[3];		/* each area's cursor and end */
	struct piece pieces[DHCP_MSG_MAX / 2];
	int npieces;
	unsigned char joined[256][DHCP_MSG_MAX];
	size_t jlen[256];
	int has[256];
} m;

static const uint8_t *in;
static size_t left;

static unsigned int next(void)
{
	return left ? (left--, *in++) : 0;
}

/* Option code with n bytes (from the input when v is NULL) in area a,
 * if it fits with the end option after it. */
static void put(int a, unsigned int code, size_t n, const unsigned char *v)
{
	unsigned char *p = m.msg + m.at[a];
	size_t i;

	if (m.end[a] - m.at[a] < n + 3)
		return;
	p[0] = (unsigned char)code;
	p[1] = (unsigned char)n;
	for (i = 0; i < n; i++)
		p[2 + i] = v ? v[i] : (unsigned char)next();
	m.pieces[m.npieces++] = (struct piece){ a, code, m.at[a] + 2, n };
	m.at[a] += 2 + n;
}

/* The header from the input: addresses, a name in the file field; the
 * areas that hold options. */
static void model_header(unsigned int overload)
{
	size_t i, n;

	/* joined[] is read only as far as jlen[] says */
	memset(m.msg, 0, sizeof(m.msg));
	memset(m.jlen, 0, sizeof(m.jlen));
	memset(m.has, 0, sizeof(m.has));
	m.npieces = 0;
	m.msg[0] = 2;
	m.msg[1] = 1;
	m.msg[2] = 6;
	put_be32(m.msg + 4, XID);
	for (i = 16; i < 24; i++)		/* yiaddr, siaddr */
		m.msg[i] = (unsigned char)next();
	memcpy(m.msg + 28, mac, 6);
	for (i = 0, n = next() % 129; i < n; i++)	/* the file field's name */
		m.msg[108 + i] = (unsigned char)next();
	memcpy(m.msg + 236, "\x63\x82\x53\x63", 4);
	m.at[0] = 240, m.end[0] = DHCP_MSG_MAX;
	m.at[1] = 108, m.end[1] = overload & 1 ? 236 : 108;
	m.at[2] = 44, m.end[2] = overload & 2 ? 108 : 44;
	if (overload & 1)
		memset(m.msg + 108, 0, 128);
}

/* Each code's pieces joined: the options field's, file's, then sname's. */
static void model_join(void)
{
	int a, k;

	for (a = 0; a < 3; a++)
		for (k = 0; k < m.npieces; k++) {
			struct piece *p = &m.pieces[k];

			if (p->area != a)
				continue;
			memcpy(m.joined[p->code] + m.jlen[p->code], m.msg + p->off, p->len);
			m.jlen[p->code] += p->len;
			m.has[p->code] = 1;
		}
}

/* A type and server identifier, then options from the input, each in
 * the area it names (the options field if that holds none), some after
 * a pad; an end option closing each area. */
static void build_model(unsigned int overload)
{
	static const unsigned char types[3] = { DHCP_OFFER, DHCP_ACK, DHCP_NAK };
	unsigned char v[4];
	size_t i, n;
	int a;

	model_header(overload);
	v[0] = types[next() % 3];
	put(0, 53, 1, v);
	for (i = 0; i < 4; i++)
		v[i] = (unsigned char)next();
	put(0, 54, 4, v);
	if (overload) {
		v[0] = (unsigned char)overload;
		put(0, 52, 1, v);
	}
	while (left) {
		unsigned int ctl = next(), code = next();

		a = (int)(ctl % 3);
		if (m.end[a] == m.at[a])
			a = 0;
		if (ctl & 0x80 && m.end[a] - m.at[a] > 3)
			m.msg[m.at[a]++] = 0;	/* a pad before it */
		n = next();
		if (code == 0 || code == 52 || code == 255)
			continue;
		put(a, code, n < left ? n : left, NULL);
	}
	for (a = 0; a < 3; a++)
		if (m.end[a] > m.at[a])
			m.msg[m.at[a]++] = 255;
	model_join();
}

/* A string option as the client should take it (NULL if too long). */
static const char *text(unsigned int code, char *buf)
{
	const unsigned char *v = m.joined[code];
	size_t n = strnlen((const char *)v, m.jlen[code]);

	if (n > DHCP_TEXT_MAX)
		return NULL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

static int addrs_ok(unsigned int code)
{
	return !m.has[code] || (m.jlen[code] && m.jlen[code] % 4 == 0);
}

static int addr_ok(unsigned int code)
{
	return !m.has[code] || m.jlen[code] == 4;
}

static void same_addrs(unsigned int code, const uint32_t *a, int n, int max)
{
	int want = (int)(m.jlen[code] / 4) < max ? (int)(m.jlen[code] / 4) : max;

	CHECK(n == want && !memcmp(a, m.joined[code], 4 * (size_t)n));
}

static void same_text(unsigned int code, const char *got)
{
	char want[DHCP_TEXT_MAX + 1];

	CHECK(!strcmp(got, text(code, want)));
}

/* Whether the model's values are all valid, search list aside. */
static int model_valid(int nak)
{
	static const unsigned int texts[] = { 12, 15, 17, 67 };
	char buf[DHCP_TEXT_MAX + 1];
	size_t i;

	if (m.jlen[53] != 1 || !addr_ok(54))
		return 0;
	if (nak)
		return 1;
	if (!host_addr(m.msg + 16) || !addr_ok(1) || !addr_ok(28) ||
	    !addr_ok(51) || !addrs_ok(3) || !addrs_ok(6))
		return 0;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!text(texts[i], buf))
			return 0;
	return 1;
}

/* An accepted model's message gave back what the model put. */
static void same_values(const struct dhcp_reply *r, unsigned int overload)
{
	char file[129];

	CHECK(r->type == m.joined[53][0] && !memcmp(&r->server, m.joined[54], 4));
	if (r->type == DHCP_NAK)
		return;
	CHECK(!memcmp(&r->yiaddr, m.msg + 16, 4) && !memcmp(&r->siaddr, m.msg + 20, 4));
	CHECK(r->has_mask == m.has[1] && r->has_bcast == m.has[28] &&
	      r->has_lease == m.has[51]);
	CHECK(!r->has_mask || !memcmp(&r->mask, m.joined[1], 4));
	CHECK(!r->has_bcast || !memcmp(&r->bcast, m.joined[28], 4));
	CHECK(!r->has_lease || r->lease == get_be32(m.joined[51]));
	same_addrs(3, r->routers, r->nrouters, DHCP_MAX_ROUTERS);
	same_addrs(6, r->dns, r->ndns, DHCP_MAX_DNS);
	same_text(12, r->hostname);
	same_text(15, r->domain);
	same_text(17, r->rootpath);
	if (m.has[67]) {
		same_text(67, r->boot_file);
	} else if (overload & 1) {
		CHECK(!r->boot_file[0]);
	} else {
		memcpy(file, m.msg + 108, 128);
		file[128] = '\0';
		CHECK(!strcmp(r->boot_file, file));
	}
	CHECK(m.has[119] || !r->search[0]);
}

static void model(unsigned int overload)
{
	struct dhcp_reply r;
	unsigned char *msg;
	const char *err;
	size_t len;
	int nak, valid;

	build_model(overload);
	len = m.at[0] < 300 ? 300 : m.at[0];
	msg = malloc(len);		/* ASan sees past len */
	memcpy(msg, m.msg, len);
	err = parse(msg, len, &r);
	free(msg);
	/* never a message that is malformed: only its values may be bad */
	CHECK(!err || (!strstr(err, "runs past the end of the") &&
		       !strstr(err, "no length") && !strstr(err, "option 52") &&
		       !strstr(err, "another client") && !strstr(err, "cookie") &&
		       !strstr(err, "not a reply")));
	nak = m.joined[53][0] == DHCP_NAK;
	valid = model_valid(nak);
	/* refused exactly for a bad value (a bad search list, which the
	 * model does not judge, is left out, not refused) */
	CHECK((err == NULL) == (valid != 0));
	if (!err)
		same_values(&r, overload);
}

/* The client's message from the input, framed, unframed with the ports
 * turned round (as the server's answer comes): the same message. */
static void round_trip(void)
{
	static unsigned char buf[DHCP_IPUDP + DHCP_MSG_MAX];
	unsigned char pseudo[12] = { 0, 0, 0, 0, 255, 255, 255, 255, 0, 17 };
	const unsigned char *msg;
	struct dhcp_ask ask;
	size_t len, total, n, i;

	memset(&ask, 0, sizeof(ask));
	ask.type = next() & 1 ? DHCP_REQUEST : DHCP_DISCOVER;
	for (i = 0; i < 4; i++)
		ask.xid = ask.xid << 8 | next();
	for (i = 0; i < 6; i++)
		ask.mac[i] = (unsigned char)next();
	for (i = 0; i < 3; i++)
		ask.secs = ask.secs << 8 | next();
	for (i = 0; i < 4; i++)
		((unsigned char *)&ask.want)[i] = (unsigned char)next();
	for (i = 0; i < 4; i++)
		((unsigned char *)&ask.server)[i] = (unsigned char)next();
	len = dhcp_build(buf + DHCP_IPUDP, &ask);
	msg = buf + DHCP_IPUDP;
	CHECK(len >= 300 && len <= DHCP_MSG_MAX && msg[0] == 1);
	CHECK(get_be32(msg + 4) == ask.xid && !memcmp(msg + 28, ask.mac, 6));
	CHECK(get_be16(msg + 8) == (ask.secs > 0xffff ? 0xffff : ask.secs));
	CHECK(!memcmp(msg + 236, "\x63\x82\x53\x63", 4));
	total = dhcp_frame(buf, len);
	CHECK(total == DHCP_IPUDP + len && get_be16(buf + 2) == total);
	CHECK(sum16(0, buf, 20) == 0xffff);
	put_be16(pseudo + 10, (uint16_t)(total - 20));
	CHECK(sum16(sum16(0, pseudo, 12), buf + 20, total - 20) == 0xffff);
	/* the same two words swapped: the UDP checksum still holds */
	put_be16(buf + 20, 67);
	put_be16(buf + 22, 68);
	CHECK(!dhcp_unframe(buf, total, &msg, &n));
	CHECK(msg == buf + DHCP_IPUDP && n == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_reply r;

	if (size < 1 || size > DHCP_IPUDP + DHCP_MSG_MAX + 64)
		return 0;
	in = data + 1;
	left = size - 1;
	switch (data[0] % 5) {
	case 0:
		parse(in, left, &r);	/* libFuzzer's copy ends where it does */
		break;
	case 1:
	case 2:
		unframe(in, left, data[0] % 5 == 2);
		break;
	case 3:
		model(data[0] / 5 % 4);
		break;
	default:
		round_trip();
	}
	return 0;
}
