// SPDX-License-Identifier: GPL-2.0
/*
 * DHCPv6 and router advertisement parsers (see parse.h). Every field is
 * read after a check against what remains of its message or option (p,
 * rem); a value that is not what its option says is refused with a
 * reason, since the init writes these values into files. A message for
 * another transaction, client or IA is "not ours": the caller ignores it.
 */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "parse.h"

#define OPT_CLIENTID	1	/* RFC 8415 21 */
#define OPT_SERVERID	2
#define OPT_IA_NA	3
#define OPT_IAADDR	5
#define OPT_STATUS	13
#define OPT_DNS		23	/* RFC 3646 */
#define OPT_SEARCH	24
#define OPT_BOOTURL	59	/* RFC 5970 3.1 */
#define STATUS_NOADDRS	2	/* RFC 8415 21.13: NoAddrsAvail */

#define ND_RA		134	/* RFC 4861 4.2 */
#define ND_OPT_PREFIX	3
#define ND_OPT_RDNSS	25	/* RFC 8106 5.1 */
#define ND_OPT_DNSSL	31

static char why[160];

/*
 * RFC 5952 text (klibc's inet_ntop() writes every group): lower case, no
 * leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::". out holds INET6_ADDRSTRLEN bytes.
 */
void format_ipv6(const unsigned char *a, char *out)
{
	int best = -1, bestlen = 1, i, run;
	char *o = out;

	for (i = 0; i < 8; i += run ? run : 1) {
		for (run = 0; i + run < 8 && !get_be16(a + 2 * (i + run)); run++)
			;
		if (run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			o += sprintf(o, "::");
			i += bestlen - 1;
			continue;
		}
		o += sprintf(o, "%s%x", (i && i != best + bestlen) ? ":" : "",
			     get_be16(a + 2 * i));
	}
	*o = '\0';
}

/* Not multicast, unspecified or loopback: an address a host may hold. */
static int is_unicast(const unsigned char *a)
{
	static const unsigned char zero[15];

	if (a[0] == 0xff)
		return 0;
	return memcmp(a, zero, 15) || a[15] > 1;
}

static int is_link_local(const unsigned char *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;	/* fe80::/10 */
}

/* ::ffff:0:0/96 (RFC 4291 2.5.5.2): an IPv4 address, not ours to set */
static int is_v4_mapped(const unsigned char *a)
{
	static const unsigned char pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/* A global address a server may lease: unicast, not link-local or mapped */
static const char *check_lease_addr(const unsigned char *a)
{
	char t[INET6_ADDRSTRLEN];
	const char *what = NULL;

	if (!is_unicast(a))
		what = "not a unicast address";
	else if (is_link_local(a))
		what = "link-local (fe80::/10)";
	else if (is_v4_mapped(a))
		what = "an IPv4-mapped address (::ffff:0:0/96)";
	if (!what)
		return NULL;
	format_ipv6(a, t);
	snprintf(why, sizeof(why), "IA address %s is %s", t, what);
	return why;
}

/*
 * RFC 3986 2: the characters a URI may hold, less the single quote (it
 * can be percent-encoded) and with no control character, space, quote
 * or backslash, so that no shell or echo reading the value can change it.
 */
static int is_uri_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("-._~:/?#[]@!$&()*+,;=%", c) != NULL;
}

static const char *parse_url(const unsigned char *p, size_t len,
			     struct dhcp6_info *info)
{
	size_t i;

	if (len > MAX_URL) {
		snprintf(why, sizeof(why),
			 "boot-file URL (option 59) of %zu bytes, longer than %d",
			 len, MAX_URL);
		return why;
	}
	for (i = 0; i < len; i++)
		if (!is_uri_char(p[i])) {
			snprintf(why, sizeof(why),
				 "boot-file URL (option 59): byte 0x%02x at %zu is not a URI character (RFC 3986)",
				 p[i], i);
			return why;
		}
	memcpy(info->url, p, len);
	info->url[len] = '\0';
	return NULL;
}

/*
 * Name servers (option 23, RFC 3646): each must be unicast. Link-local
 * ones are dropped: resolv.conf would need them with %LINK, which the
 * init does not write.
 */
static const char *parse_dns(const unsigned char *p, size_t len,
			     struct dhcp6_info *info)
{
	size_t i;

	if (len % 16) {
		snprintf(why, sizeof(why),
			 "name server option (23) of %zu bytes, not a multiple of 16",
			 len);
		return why;
	}
	for (i = 0; i < len; i += 16) {
		if (!is_unicast(p + i)) {
			char t[INET6_ADDRSTRLEN];

			format_ipv6(p + i, t);
			snprintf(why, sizeof(why),
				 "name server option (23): %s is not a unicast address",
				 t);
			return why;
		}
		if (!is_link_local(p + i) && info->ndns < MAX_DNS)
			format_ipv6(p + i, info->dns[info->ndns++]);
	}
	return NULL;
}

/* A status option's code (RFC 8415 21.13), into *code. */
static const char *parse_status(const unsigned char *p, size_t len,
				unsigned int *code)
{
	if (len < 2) {
		snprintf(why, sizeof(why),
			 "status option (13) of %zu bytes, shorter than its code",
			 len);
		return why;
	}
	*code = get_be16(p);
	return NULL;
}

/*
 * The options of an IA or IA address, p holding rem bytes: each status
 * into *status (the last non-zero one), each IA address to parse_iaaddr
 * when info is given (an IA; an address holds no addresses).
 */
static const char *parse_iaaddr(const unsigned char *p, size_t len,
				struct dhcp6_info *info);

static const char *parse_ia_options(const unsigned char *p, size_t rem,
				    const char *what, unsigned int *status,
				    struct dhcp6_info *info)
{
	while (rem > 0) {
		unsigned int code, olen, st = 0;
		const char *err = NULL;

		if (rem < 4) {
			snprintf(why, sizeof(why),
				 "%s: option header beyond its end", what);
			return why;
		}
		code = get_be16(p);
		olen = get_be16(p + 2);
		/* rem >= 4 here, so rem - 4 cannot underflow */
		if (olen > rem - 4) {
			snprintf(why, sizeof(why),
				 "%s: option %u of %u bytes beyond its end",
				 what, code, olen);
			return why;
		}
		if (code == OPT_IAADDR && info)
			err = parse_iaaddr(p + 4, olen, info);
		else if (code == OPT_STATUS)
			err = parse_status(p + 4, olen, &st);
		if (err)
			return err;
		if (st)
			*status = st;
		p += 4 + olen;
		rem -= 4 + (size_t)olen;
	}
	return NULL;
}

static int letter_digit(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9');
}

/*
 * A host name's label (RFC 1123 2.1, RFC 952): letters, digits and '-',
 * beginning and ending with a letter or digit. So no name starts with
 * '-', which a tool that gets it as a word would take for an option.
 */
static int host_label(const unsigned char *p, size_t len)
{
	size_t i;

	if (!letter_digit(p[0]) || !letter_digit(p[len - 1]))
		return 0;
	for (i = 1; i + 1 < len; i++)
		if (!letter_digit(p[i]) && p[i] != '-')
			return 0;
	return 1;
}

/* RFC 1035 3.1 names, uncompressed (RFC 8415 10): the first one only. */
static const char *parse_search(const unsigned char *p, size_t rem,
				char *out)
{
	size_t n = 0;

	while (rem > 0) {
		size_t len = *p++;

		rem--;
		if (len == 0)
			break;
		if (len > 63 || len > rem || n + len + 1 > MAX_SEARCH)
			return "domain search list: label beyond the option";
		if (!host_label(p, len))
			return "domain search list: not a host name";
		if (n)
			out[n++] = '.';
		memcpy(out + n, p, len);
		n += len;
		p += len;
		rem -= len;
	}
	out[n] = '\0';
	return NULL;
}

/*
 * An IA Address (RFC 8415 21.6): the first valid one is kept, unless its
 * own status is not success (then its code is the IA's).
 */
static const char *parse_iaaddr(const unsigned char *p, size_t len,
				struct dhcp6_info *info)
{
	unsigned long pref, valid;
	unsigned int status = 0;
	const char *err;

	if (len < 24) {
		snprintf(why, sizeof(why),
			 "IA address option shorter than 24 bytes (%zu)", len);
		return why;
	}
	err = parse_ia_options(p + 24, len - 24, "IA address", &status, NULL);
	if (err)
		return err;
	if (status) {
		info->ia_status = status;
		return NULL;
	}
	pref = get_be32(p + 16);
	valid = get_be32(p + 20);
	/* 21.6: a preferred lifetime beyond the valid one is discarded */
	if (info->has_addr || !valid || pref > valid)
		return NULL;
	err = check_lease_addr(p);
	if (err)
		return err;
	memcpy(info->addr, p, 16);
	info->preferred = pref;
	info->valid = valid;
	info->has_addr = 1;
	return NULL;
}

/*
 * IA_NA (RFC 8415 21.4): IAID, T1, T2, then options. Another IAID's IA
 * is not ours and skipped, and so is every IA when the client asked for
 * no address (IAID 0: stateless). A non-zero status in the IA or its
 * address (NoAddrsAvail...) is kept and means no address from it.
 */
static const char *parse_ia_na(const unsigned char *p, size_t rem,
			       const struct dhcp6_client *me,
			       struct dhcp6_info *info)
{
	unsigned int status = 0;
	const char *err;

	if (rem < 12) {
		snprintf(why, sizeof(why),
			 "IA_NA shorter than its 12-byte header (%zu)", rem);
		return why;
	}
	if (!me->iaid || get_be32(p) != me->iaid)
		return NULL;
	err = parse_ia_options(p + 12, rem - 12, "IA_NA", &status, info);
	if (err)
		return err;
	if (status)
		info->ia_status = status;
	if (info->ia_status) {
		info->has_addr = 0;
		memset(info->addr, 0, sizeof(info->addr));
	}
	return NULL;
}

static const char *parse_ids(unsigned int code, const unsigned char *p,
			     size_t len, const struct dhcp6_client *me,
			     struct dhcp6_info *info)
{
	if (code == OPT_CLIENTID) {
		if (len != me->duid_len || memcmp(p, me->duid, len))
			return "not ours: another client's identifier";
		return NULL;
	}
	if (len < 1 || len > MAX_DUID) {
		snprintf(why, sizeof(why),
			 "server identifier of %zu bytes, not 1 to %d", len,
			 MAX_DUID);
		return why;
	}
	if (info->server_id_len)
		return "two server identifier options (2)";
	if (me->server_id_len && (len != me->server_id_len ||
				  memcmp(p, me->server_id, len)))
		return "not ours: another server's identifier than the Advertise's";
	memcpy(info->server_id, p, len);
	info->server_id_len = len;
	return NULL;
}

static const char *parse_option(unsigned int code, const unsigned char *p,
				size_t len, unsigned int type,
				const struct dhcp6_client *me,
				struct dhcp6_info *info)
{
	unsigned int st;
	const char *err;

	switch (code) {
	case OPT_CLIENTID:
	case OPT_SERVERID:
		return parse_ids(code, p, len, me, info);
	case OPT_IA_NA:
		return parse_ia_na(p, len, me, info);
	case OPT_DNS:
		return parse_dns(p, len, info);
	case OPT_SEARCH:
		return parse_search(p, len, info->search);
	case OPT_BOOTURL:
		return parse_url(p, len, info);
	case OPT_STATUS:
		/* status code 0 is success (RFC 8415 21.13) */
		err = parse_status(p, len, &st);
		if (err || !st)
			return err;
		/* an Advertise may say "no addresses" here (RFC 3315 17.2.2) */
		if (type == DHCP6_ADVERTISE && st == STATUS_NOADDRS) {
			info->ia_status = STATUS_NOADDRS;
			return NULL;
		}
		snprintf(why, sizeof(why),
			 "the server answered with error status %u", st);
		return why;
	}
	return NULL;
}

/*
 * NULL when b is a message of TYPE for transaction xid and client me,
 * with info filled in; else what is wrong ("not ours: ..." for another
 * type, transaction, client or server). The client identifier the
 * client always sends must come back (RFC 8415 16.3, 16.10); the
 * server's is required when an IA is wanted (an Advertise, or a Reply to
 * a Request). A stateless Reply (IAID 0) may lack it, as QEMU's server
 * (libslirp) sends none; it never yields an address.
 */
const char *dhcp6_parse(const unsigned char *b, size_t len, unsigned int type,
			unsigned long xid, const struct dhcp6_client *me,
			struct dhcp6_info *info)
{
	const unsigned char *p = b + 4;
	int seen_client = 0;
	size_t rem;

	memset(info, 0, sizeof(*info));
	if (len < 4)
		return "not ours: shorter than a DHCPv6 header";
	if (b[0] != type || get_be32(b) % 0x1000000 != xid)
		return "not ours: not an answer to this transaction";
	rem = len - 4;
	while (rem > 0) {
		unsigned int code, olen;
		const char *err;

		if (rem < 4)
			return "option header beyond the message";
		code = get_be16(p);
		olen = get_be16(p + 2);
		/* rem >= 4 here, so rem - 4 cannot underflow */
		if (olen > rem - 4)
			return "option beyond the message";
		err = parse_option(code, p + 4, olen, type, me, info);
		if (err)
			return err;
		seen_client |= code == OPT_CLIENTID;
		p += 4 + olen;
		rem -= 4 + (size_t)olen;
	}
	if ((me->iaid || me->duid_len) && !seen_client)
		return "not ours: no client identifier";
	if (me->iaid && !info->server_id_len)
		return "no server identifier";
	return NULL;
}

static const char *parse_prefix(const unsigned char *p, size_t len,
				struct ra_info *ra)
{
	if (len != 32) {
		snprintf(why, sizeof(why),
			 "prefix information option of %zu bytes, not 32", len);
		return why;
	}
	if (p[2] > 128) {
		snprintf(why, sizeof(why), "prefix length %u beyond 128", p[2]);
		return why;
	}
	/*
	 * L flag (4.6.2) and a valid lifetime: on-link. A length 0 (every
	 * address) or a link-local prefix (4.6.2: ignored) sizes nothing.
	 */
	if (!(p[3] & 0x80) || !get_be32(p + 4) || ra->nprefix >= 4 ||
	    !p[2] || is_link_local(p + 16))
		return NULL;
	memcpy(ra->prefix[ra->nprefix], p + 16, 16);
	ra->prefix_len[ra->nprefix++] = p[2];
	return NULL;
}

/*
 * RDNSS (RFC 8106 5.1): a lifetime 0 withdraws the servers. Link-local
 * ones are dropped: resolv.conf would need them with %LINK, which the
 * init does not write.
 */
static const char *parse_rdnss(const unsigned char *p, size_t len,
			       struct ra_info *ra)
{
	size_t i;

	if (len < 24 || (len - 8) % 16) {
		snprintf(why, sizeof(why),
			 "RDNSS option of %zu bytes, not 8 + 16 per address", len);
		return why;
	}
	if (!get_be32(p + 4))
		return NULL;
	for (i = 8; i < len && ra->ndns < MAX_DNS; i += 16)
		if (is_unicast(p + i) && !is_link_local(p + i))
			format_ipv6(p + i, ra->dns[ra->ndns++]);
	return NULL;
}

static const char *parse_nd_option(const unsigned char *p, size_t len,
				   struct ra_info *ra)
{
	switch (p[0]) {
	case ND_OPT_PREFIX:
		return parse_prefix(p, len, ra);
	case ND_OPT_RDNSS:
		return parse_rdnss(p, len, ra);
	case ND_OPT_DNSSL:
		if (len < 16)
			return "DNSSL option shorter than 16 bytes";
		if (!get_be32(p + 4) || ra->search[0])
			return NULL;
		return parse_search(p + 8, len - 8, ra->search);
	}
	return NULL;
}

/*
 * NULL when b (an ICMPv6 message, from its type on) is a router
 * advertisement, with ra filled in; else what is wrong ("not ours: ..."
 * for other ICMPv6 messages).
 */
const char *ra_parse(const unsigned char *b, size_t len, struct ra_info *ra)
{
	const unsigned char *p = b + 16;
	size_t rem;

	memset(ra, 0, sizeof(*ra));
	if (len < 1 || b[0] != ND_RA)
		return "not ours: not a router advertisement";
	if (len < 16) {
		snprintf(why, sizeof(why),
			 "router advertisement of %zu bytes, shorter than 16", len);
		return why;
	}
	if (b[1]) {
		snprintf(why, sizeof(why),
			 "router advertisement with code %u, not 0", b[1]);
		return why;
	}
	ra->managed = !!(b[5] & 0x80);
	ra->other = !!(b[5] & 0x40);
	rem = len - 16;
	while (rem > 0) {
		size_t olen;
		const char *err;

		if (rem < 2)
			return "router advertisement: option header beyond the message";
		/* 4.6: the length counts 8-byte units; 0 is invalid */
		olen = (size_t)p[1] * 8;
		if (!olen)
			return "router advertisement: option of length 0";
		if (olen > rem)
			return "router advertisement: option beyond the message";
		err = parse_nd_option(p, olen, ra);
		if (err)
			return err;
		p += olen;
		rem -= olen;
	}
	return NULL;
}

/* The length of the on-link prefix holding a, else 128 (a host route). */
unsigned int ra_prefix_len(const struct ra_info *ra, const unsigned char *a)
{
	int i;

	for (i = 0; i < ra->nprefix; i++) {
		unsigned int n = ra->prefix_len[i], full = n / 8;
		unsigned char mask = (unsigned char)(0xff00 >> (n % 8));

		if (memcmp(a, ra->prefix[i], full))
			continue;
		if (n % 8 && (a[full] & mask) != (ra->prefix[i][full] & mask))
			continue;
		return n;
	}
	return 128;
}
