// SPDX-License-Identifier: GPL-2.0
/*
 * DHCPv4 messages for nbdroot-dhcp4 (packet.h). Every read is bounded by
 * the length it was given: the header's fields by DHCP_FIXED, each option
 * by its own length byte checked against what is left of its area.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "packet.h"

#define OFF_OP		0
#define OFF_XID		4
#define OFF_SECS	8
#define OFF_FLAGS	10
#define OFF_YIADDR	16
#define OFF_SIADDR	20
#define OFF_CHADDR	28
#define OFF_SNAME	44
#define OFF_FILE	108
#define OFF_COOKIE	DHCP_FIXED
#define OFF_OPTIONS	(DHCP_FIXED + 4)
#define SNAME_LEN	64
#define FILE_LEN	128
#define BOOTP_MIN	300	/* RFC 1542 2.1: relays may drop shorter */

#define OPT_PAD		0
#define OPT_MASK	1
#define OPT_ROUTER	3
#define OPT_DNS		6
#define OPT_HOSTNAME	12
#define OPT_DOMAIN	15
#define OPT_ROOTPATH	17
#define OPT_BCAST	28
#define OPT_WANT	50
#define OPT_LEASE	51
#define OPT_OVERLOAD	52
#define OPT_TYPE	53
#define OPT_SERVER	54
#define OPT_PARAMS	55
#define OPT_MAXSIZE	57
#define OPT_VENDOR	60
#define OPT_CLIENTID	61
#define OPT_BOOTFILE	67
#define OPT_SEARCH	119	/* RFC 3397 */
#define OPT_END		255

#define VENDOR		"nbdroot"
#define CLIENT_PORT	68
#define SERVER_PORT	67
#define MAX_JUMPS	64	/* compression pointers followed in one name */

static const unsigned char cookie[4] = { 99, 130, 83, 99 };

static unsigned char *put_opt(unsigned char *p, unsigned int code,
			      const void *v, size_t n)
{
	p[0] = (unsigned char)code;
	p[1] = (unsigned char)n;
	memcpy(p + 2, v, n);
	return p + 2 + n;
}

size_t dhcp_build(unsigned char *buf, const struct dhcp_ask *ask)
{
	static const unsigned char params[] = {
		OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN,
		OPT_ROOTPATH, OPT_BCAST, OPT_LEASE, OPT_SERVER, OPT_BOOTFILE,
		OPT_SEARCH
	};
	unsigned char type = (unsigned char)ask->type, id[7], max[2];
	unsigned char *p = buf + OFF_OPTIONS;
	size_t len;

	memset(buf, 0, DHCP_MSG_MAX);
	buf[OFF_OP] = 1;		/* BOOTREQUEST */
	buf[1] = 1;			/* Ethernet */
	buf[2] = 6;
	put_be32(buf + OFF_XID, ask->xid);
	put_be16(buf + OFF_SECS, (uint16_t)(ask->secs > 0xffff ? 0xffff : ask->secs));
	/* RFC 2131 4.1: without an address we cannot take a unicast reply */
	put_be16(buf + OFF_FLAGS, 0x8000);
	memcpy(buf + OFF_CHADDR, ask->mac, 6);
	memcpy(buf + OFF_COOKIE, cookie, 4);
	p = put_opt(p, OPT_TYPE, &type, 1);
	id[0] = 1;			/* RFC 2132 9.14: hardware type, MAC */
	memcpy(id + 1, ask->mac, 6);
	p = put_opt(p, OPT_CLIENTID, id, sizeof(id));
	put_be16(max, DHCP_MSG_MAX);
	p = put_opt(p, OPT_MAXSIZE, max, sizeof(max));
	p = put_opt(p, OPT_VENDOR, VENDOR, sizeof(VENDOR) - 1);
	if (ask->type == DHCP_REQUEST) {
		p = put_opt(p, OPT_WANT, &ask->want, 4);
		p = put_opt(p, OPT_SERVER, &ask->server, 4);
	}
	p = put_opt(p, OPT_PARAMS, params, sizeof(params));
	*p++ = OPT_END;
	len = (size_t)(p - buf);
	return len < BOOTP_MIN ? BOOTP_MIN : len;
}

/* The Internet checksum's ones'-complement sum of len bytes, from sum. */
static uint32_t csum_add(uint32_t sum, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t dhcp_frame(unsigned char *buf, size_t len)
{
	unsigned char *ip = buf, *udp = buf + 20, pseudo[12];
	size_t total = DHCP_IPUDP + len;
	uint16_t sum;

	memset(buf, 0, DHCP_IPUDP);
	ip[0] = 0x45;			/* IPv4, 20-byte header */
	ip[1] = 0x10;			/* low delay, as BOOTP clients ask */
	put_be16(ip + 2, (uint16_t)total);
	ip[8] = 64;			/* TTL */
	ip[9] = 17;			/* UDP */
	memset(ip + 16, 0xff, 4);	/* to 255.255.255.255, from 0.0.0.0 */
	put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put_be16(udp, CLIENT_PORT);
	put_be16(udp + 2, SERVER_PORT);
	put_be16(udp + 4, (uint16_t)(8 + len));
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put_be16(pseudo + 10, (uint16_t)(8 + len));
	sum = csum_fold(csum_add(csum_add(0, pseudo, 12), udp, 8 + len));
	put_be16(udp + 6, sum ? sum : 0xffff);	/* 0 would say "none" */
	return total;
}

int dhcp_unframe(const unsigned char *pkt, size_t len,
		 const unsigned char **msg, size_t *msg_len)
{
	size_t ihl, total, ulen;

	if (len < 20 || pkt[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = get_be16(pkt + 2);
	if (ihl < 20 || total > len || total < ihl + 8 || pkt[9] != 17)
		return -1;
	/* a fragment (more to come, or an offset) is not read whole */
	if (get_be16(pkt + 6) & 0x3fff)
		return -1;
	if (csum_fold(csum_add(0, pkt, ihl)))
		return -1;
	if (get_be16(pkt + ihl + 2) != CLIENT_PORT)
		return -1;
	ulen = get_be16(pkt + ihl + 4);
	if (ulen < 8 || ulen > total - ihl)
		return -1;
	/* the UDP checksum is not checked (the link's own CRC is): with
	 * checksum offloading a packet socket may see it unfinished; the
	 * kernel's own ipconfig checks only the IP header too */
	*msg = pkt + ihl + 8;
	*msg_len = ulen - 8;
	return 0;
}

/* The options of one message, each code's occurrences joined in the
 * order met (RFC 3396): code c's bytes are data[off[c]..off[c]+len[c]). */
struct options {
	unsigned char data[DHCP_MSG_MAX];
	size_t off[256], len[256];
	int seen[256];
};

struct area {
	const unsigned char *p;
	size_t len;
	const char *name;
};

static char why[160];

static const char *__attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return why;
}

/*
 * One pass over an area's options: counting each code's bytes (copy 0)
 * or copying them after those counted before (copy 1). NULL, or why the
 * area is malformed.
 */
static const char *walk(const struct area *a, struct options *o, int copy,
			size_t *at)
{
	size_t i = 0, n;
	unsigned int code;

	while (i < a->len) {
		code = a->p[i];
		if (code == OPT_END)
			return NULL;
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (a->len - i < 2)
			return say("option %u at the end of the %s has no length",
				   code, a->name);
		n = a->p[i + 1];
		if (n > a->len - i - 2)
			return say("option %u of %u bytes runs past the end of the %s",
				   code, (unsigned int)n, a->name);
		if (copy) {
			memcpy(o->data + o->off[code] + at[code], a->p + i + 2, n);
			at[code] += n;
		} else {
			o->len[code] += n;
			o->seen[code] = 1;
		}
		i += 2 + n;
	}
	/* no end option: what was read is whole, RFC 2131's "should" aside */
	return NULL;
}

/* The first byte of option code's first occurrence in an area walk()
 * found whole (its length is 1, checked by the caller). */
static unsigned int first_byte(const struct area *a, unsigned int code)
{
	size_t i = 0;

	while (i + 2 < a->len && a->p[i] != OPT_END) {
		if (a->p[i] == OPT_PAD) {
			i++;
			continue;
		}
		if (a->p[i] == code && a->p[i + 1])
			return a->p[i + 2];
		i += 2u + a->p[i + 1];
	}
	return 0;
}

/* The areas options are in: the options field, then file and sname when
 * option 52 says they hold options (RFC 2131 4.1). */
static const char *gather(const unsigned char *msg, size_t len,
			  struct options *o)
{
	struct area areas[3] = {
		{ msg + OFF_OPTIONS, len - OFF_OPTIONS, "options field" },
		{ msg + OFF_FILE, FILE_LEN, "file field" },
		{ msg + OFF_SNAME, SNAME_LEN, "sname field" },
	};
	size_t at[256] = { 0 }, next = 0;
	unsigned int overload = 0, i, c;
	const char *err;

	memset(o->len, 0, sizeof(o->len));
	memset(o->seen, 0, sizeof(o->seen));
	err = walk(&areas[0], o, 0, at);
	if (err)
		return err;
	if (o->seen[OPT_OVERLOAD]) {
		if (o->len[OPT_OVERLOAD] != 1)
			return say("option 52 (overload) has %u bytes, not 1",
				   (unsigned int)o->len[OPT_OVERLOAD]);
		overload = first_byte(&areas[0], OPT_OVERLOAD);
		if (overload < 1 || overload > 3)
			return say("option 52 (overload) is %u, not 1, 2 or 3",
				   overload);
	}
	for (i = 1; i < 3; i++)
		if (overload & i) {
			err = walk(&areas[i], o, 0, at);
			if (err)
				return err;
		}
	for (c = 0; c < 256; c++) {
		o->off[c] = next;
		next += o->len[c];
	}
	/* each byte counted lies in msg, whose len is at most DHCP_MSG_MAX */
	walk(&areas[0], o, 1, at);
	for (i = 1; i < 3; i++)
		if (overload & i)
			walk(&areas[i], o, 1, at);
	o->seen[OPT_OVERLOAD] = overload;
	return NULL;
}

static const char *const opt_names[256] = {
	[OPT_MASK] = "subnet mask", [OPT_ROUTER] = "router",
	[OPT_DNS] = "name server", [OPT_HOSTNAME] = "host name",
	[OPT_DOMAIN] = "domain name", [OPT_ROOTPATH] = "root path",
	[OPT_BCAST] = "broadcast address", [OPT_LEASE] = "lease time",
	[OPT_TYPE] = "message type", [OPT_SERVER] = "server identifier",
	[OPT_BOOTFILE] = "boot file name", [OPT_SEARCH] = "domain search",
};

/* A 4-byte option into *v: 1 when present, 0 when absent, -1 when of
 * another length (the reason in why). */
static int get_addr(const struct options *o, unsigned int code, uint32_t *v)
{
	if (!o->seen[code])
		return 0;
	if (o->len[code] != 4) {
		say("option %u (%s) has %u bytes, not 4", code,
		    opt_names[code], (unsigned int)o->len[code]);
		return -1;
	}
	memcpy(v, o->data + o->off[code], 4);
	return 1;
}

/* A list of addresses (at least one, whole) into v, at most max of them. */
static const char *get_addrs(const struct options *o, unsigned int code,
			     uint32_t *v, int max, int *n)
{
	size_t len = o->len[code], i;

	*n = 0;
	if (!o->seen[code])
		return NULL;
	if (!len || len % 4)
		return say("option %u (%s) has %u bytes, not a multiple of 4",
			   code, opt_names[code], (unsigned int)len);
	for (i = 0; i < len / 4 && *n < max; i++)
		memcpy(&v[(*n)++], o->data + o->off[code] + 4 * i, 4);
	return NULL;
}

/* A string option into buf (DHCP_TEXT_MAX + 1), up to a NUL in it. */
static const char *get_text(const struct options *o, unsigned int code,
			    char *buf)
{
	const unsigned char *v = o->data + o->off[code];
	size_t len = o->len[code];
	const void *nul = memchr(v, 0, len);

	if (nul)
		len = (size_t)((const unsigned char *)nul - v);
	if (len > DHCP_TEXT_MAX)
		return say("option %u (%s) holds %u bytes, more than %u",
			   code, opt_names[code], (unsigned int)len, DHCP_TEXT_MAX);
	memcpy(buf, v, len);
	buf[len] = '\0';
	return NULL;
}

/* A label byte that may stand in a written-out name list. */
static int label_char(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

/* One name of a search list (RFC 1035 3.1, pointers 4.1.4) from v[*pos],
 * appended to out (at *olen, a dot between labels); *pos past it. */
static const char *search_name(const unsigned char *v, size_t n, size_t *pos,
			       char *out, size_t *olen)
{
	size_t p = *pos, next = 0, ptr;
	unsigned int c, jumps = 0, labels = 0;

	for (;;) {
		if (p >= n)
			return say("option 119 (domain search): a name runs past its %u bytes",
				   (unsigned int)n);
		c = v[p];
		if (!c)
			break;
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= n)
				return say("option 119 (domain search): a pointer at byte %u is cut",
					   (unsigned int)p);
			ptr = (size_t)(c & 0x3f) << 8 | v[p + 1];
			if (!next)
				next = p + 2;
			/* backward only, and few: no loop */
			if (ptr >= p || ++jumps > MAX_JUMPS)
				return say("option 119 (domain search): the pointer at byte %u to %u is not to an earlier name, or loops",
					   (unsigned int)p, (unsigned int)ptr);
			p = ptr;
			continue;
		}
		if (c & 0xc0)
			return say("option 119 (domain search): label type 0x%x at byte %u",
				   c & 0xc0, (unsigned int)p);
		if (c > n - p - 1)
			return say("option 119 (domain search): a label of %u bytes at byte %u runs past the end",
				   c, (unsigned int)p);
		/* the label and the dot before it, if any, in the room left */
		if (*olen + (labels ? 1 : 0) + c > DHCP_SEARCH_MAX)
			return say("option 119 (domain search): longer than %u bytes written out",
				   DHCP_SEARCH_MAX);
		if (labels++)
			out[(*olen)++] = '.';
		for (p++; c--; p++) {
			if (!label_char(v[p]))
				return say("option 119 (domain search): byte 0x%02x at %u is not a name's",
					   v[p], (unsigned int)p);
			out[(*olen)++] = (char)v[p];
		}
	}
	*pos = next ? next : p + 1;
	return NULL;
}

/* Option 119 as names separated by blanks into buf (DHCP_SEARCH_MAX + 1). */
static const char *get_search(const struct options *o, char *buf)
{
	const unsigned char *v = o->data + o->off[OPT_SEARCH];
	size_t n = o->len[OPT_SEARCH], pos = 0, olen = 0;
	const char *err;

	while (pos < n) {
		size_t mark = olen;

		if (olen) {
			if (olen + 1 > DHCP_SEARCH_MAX)
				return say("option 119 (domain search): longer than %u bytes written out",
					   DHCP_SEARCH_MAX);
			buf[olen++] = ' ';
		}
		err = search_name(v, n, &pos, buf, &olen);
		if (err)
			return err;
		/* the root name writes nothing, nor the blank before it */
		if (olen == mark + (mark ? 1 : 0))
			olen = mark;
	}
	buf[olen] = '\0';
	return NULL;
}

/* The header's NUL-padded file field, when it is not holding options. */
static void header_file(const unsigned char *msg, char *buf)
{
	const void *nul = memchr(msg + OFF_FILE, 0, FILE_LEN);
	size_t len = nul ? (size_t)((const unsigned char *)nul - (msg + OFF_FILE))
			 : FILE_LEN;

	memcpy(buf, msg + OFF_FILE, len);
	buf[len] = '\0';
}

static int usable_addr(uint32_t a)
{
	const unsigned char *b = (const unsigned char *)&a;

	return a != 0 && a != 0xffffffffu && b[0] < 224 && b[0] != 127 &&
	       b[0] != 0;
}

static const char *read_options(const unsigned char *msg,
				const struct options *o, struct dhcp_reply *r)
{
	const char *err;

	if (get_addr(o, OPT_MASK, &r->mask) < 0 ||
	    get_addr(o, OPT_BCAST, &r->bcast) < 0 ||
	    get_addr(o, OPT_LEASE, &r->lease) < 0)
		return why;
	r->has_mask = o->seen[OPT_MASK];
	r->has_bcast = o->seen[OPT_BCAST];
	r->has_lease = o->seen[OPT_LEASE];
	if (r->has_lease)
		r->lease = get_be32((const unsigned char *)&r->lease);
	err = get_addrs(o, OPT_ROUTER, r->routers, DHCP_MAX_ROUTERS, &r->nrouters);
	if (!err)
		err = get_addrs(o, OPT_DNS, r->dns, DHCP_MAX_DNS, &r->ndns);
	if (!err)
		err = get_text(o, OPT_HOSTNAME, r->hostname);
	if (!err)
		err = get_text(o, OPT_DOMAIN, r->domain);
	if (!err)
		err = get_text(o, OPT_ROOTPATH, r->rootpath);
	if (!err && o->seen[OPT_BOOTFILE])
		err = get_text(o, OPT_BOOTFILE, r->boot_file);
	else if (!err && !(o->seen[OPT_OVERLOAD] & 1))
		header_file(msg, r->boot_file);
	if (err)
		return err;
	/* optional, and the init does not read it: a bad one is left out */
	if (get_search(o, r->search)) {
		r->search[0] = '\0';
		r->search_dropped = why;
	}
	return NULL;
}

const char *dhcp_parse(const unsigned char *msg, size_t len, uint32_t xid,
		       const unsigned char mac[6], struct dhcp_reply *r)
{
	static struct options o;
	const char *err;
	int got;

	memset(r, 0, sizeof(*r));
	if (len < OFF_OPTIONS)
		return say("%u bytes, shorter than a DHCP message's %u",
			   (unsigned int)len, OFF_OPTIONS);
	if (len > DHCP_MSG_MAX)
		return say("%u bytes, longer than the %u asked for",
			   (unsigned int)len, DHCP_MSG_MAX);
	if (msg[OFF_OP] != 2 || msg[1] != 1 || msg[2] != 6)
		return say("not a reply for an Ethernet address (op %u, htype %u, hlen %u)",
			   msg[OFF_OP], msg[1], msg[2]);
	if (get_be32(msg + OFF_XID) != xid || memcmp(msg + OFF_CHADDR, mac, 6))
		return "for another client or transaction";
	if (memcmp(msg + OFF_COOKIE, cookie, 4))
		return "a BOOTP reply without DHCP's magic cookie";
	err = gather(msg, len, &o);
	if (err)
		return err;
	/* RFC 2131 table 3: every answer has one, a BOOTP server's none */
	if (!o.seen[OPT_TYPE])
		return "no message type (option 53): a BOOTP reply";
	if (o.len[OPT_TYPE] != 1)
		return say("option 53 (message type) has %u bytes, not 1",
			   (unsigned int)o.len[OPT_TYPE]);
	r->type = o.data[o.off[OPT_TYPE]];
	if (r->type != DHCP_OFFER && r->type != DHCP_ACK && r->type != DHCP_NAK)
		return say("message type %u, not an offer, ack or nak",
			   (unsigned int)r->type);
	got = get_addr(&o, OPT_SERVER, &r->server);
	if (got < 0)
		return why;
	if (!got)
		return "no server identifier (option 54)";
	if (r->type == DHCP_NAK)
		return NULL;
	memcpy(&r->yiaddr, msg + OFF_YIADDR, 4);
	memcpy(&r->siaddr, msg + OFF_SIADDR, 4);
	if (!usable_addr(r->yiaddr)) {
		const unsigned char *b = msg + OFF_YIADDR;

		snprintf(why, sizeof(why), "offers %u.%u.%u.%u, not a host's address",
			 b[0], b[1], b[2], b[3]);
		return why;
	}
	return read_options(msg, &o, r);
}
