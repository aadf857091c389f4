// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-dhcp6: stateless DHCPv6 for the init (RFC 8415 18.2.6, the
 * Information-Request that RFC 3736 described). The kernel configures
 * the link's addresses from router advertisements; this asks the link's
 * DHCPv6 servers for what they add: name servers (option 23, RFC 3646),
 * the domain search list (24) and the boot-file URL (59, RFC 5970).
 *
 *   nbdroot-dhcp6 -i LINK [-t SECONDS]   ask on LINK, wait up to SECONDS
 *   nbdroot-dhcp6 -r XID                  parse a Reply on stdin (tests)
 *
 * prints "dns ADDRESS", "search NAME" and "bootfile-url URL" lines.
 * Exit 0 with a Reply, 1 without one (said on stderr), 2 on usage.
 *
 * A Reply is walked with a length check before every field; a value that
 * is not what its option says (a name server list that is not whole
 * addresses, a URL with bytes outside printable ASCII) is refused, not
 * printed: the init writes these values into files.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/times.h>

#include "byteorder.h"

#ifndef INET6_ADDRSTRLEN
#define INET6_ADDRSTRLEN 46	/* klibc's <netinet/in.h> lacks it */
#endif

#define CLIENT_PORT	546	/* RFC 8415 7.2 */
#define SERVER_PORT	547
#define MSG_REPLY	7	/* RFC 8415 7.3 */
#define MSG_INFO_REQ	11
#define OPT_CLIENTID	1	/* RFC 8415 21 */
#define OPT_ORO		6
#define OPT_ELAPSED	8
#define OPT_STATUS	13
#define OPT_DNS		23	/* RFC 3646 */
#define OPT_SEARCH	24
#define OPT_REFRESH	32	/* RFC 8415 21.23: an Information-Request asks for it */
#define OPT_BOOTURL	59	/* RFC 5970 3.1 */
#define MAX_DNS		3
#define MAX_URL		1024
#define MAX_SEARCH	253
#define MAX_MSG		1500

struct dhcp6_info {
	char dns[MAX_DNS][INET6_ADDRSTRLEN];
	int ndns;
	char search[MAX_SEARCH + 1];
	char url[MAX_URL + 1];
};

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Information-Request with a DUID-LL client identifier (RFC 8415 11.4). */
static size_t build_request(unsigned char *b, unsigned long xid,
			    const unsigned char mac[6])
{
	static const unsigned int oro[] = { OPT_DNS, OPT_SEARCH, OPT_BOOTURL,
					    OPT_REFRESH };
	unsigned char *p = b;
	size_t i;

	*p++ = MSG_INFO_REQ;
	*p++ = (unsigned char)(xid >> 16);
	*p++ = (unsigned char)(xid >> 8);
	*p++ = (unsigned char)xid;
	put16(p, OPT_CLIENTID);
	put16(p + 2, 10);
	put16(p + 4, 3);	/* DUID-LL */
	put16(p + 6, 1);	/* Ethernet */
	memcpy(p + 8, mac, 6);
	p += 14;
	put16(p, OPT_ELAPSED);
	put16(p + 2, 2);
	put16(p + 4, 0);
	p += 6;
	put16(p, OPT_ORO);
	put16(p + 2, 2 * (sizeof(oro) / sizeof(oro[0])));
	p += 4;
	for (i = 0; i < sizeof(oro) / sizeof(oro[0]); i++, p += 2)
		put16(p, oro[i]);
	return (size_t)(p - b);
}

/*
 * RFC 5952 text (klibc's inet_ntop() writes every group): lower case, no
 * leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::". out holds INET6_ADDRSTRLEN bytes.
 */
static void format_ipv6(const unsigned char *a, char *out)
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
		if (n)
			out[n++] = '.';
		for (; len > 0; len--, rem--) {
			unsigned char c = *p++;

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return "domain search list: not a host name";
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return NULL;
}

static const char *parse_option(unsigned int code, const unsigned char *p,
				size_t len, struct dhcp6_info *info)
{
	size_t i;

	switch (code) {
	case OPT_DNS:
		if (len % 16)
			return "name server option: length not a multiple of 16";
		for (i = 0; i < len && info->ndns < MAX_DNS; i += 16)
			format_ipv6(p + i, info->dns[info->ndns++]);
		return NULL;
	case OPT_SEARCH:
		return parse_search(p, len, info->search);
	case OPT_BOOTURL:
		if (len > MAX_URL)
			return "boot-file URL longer than 1024 bytes";
		for (i = 0; i < len; i++)
			if (p[i] <= ' ' || p[i] > '~')
				return "boot-file URL: a byte that is not printable ASCII";
		memcpy(info->url, p, len);
		info->url[len] = '\0';
		return NULL;
	case OPT_STATUS:
		/* status code 0 is success (RFC 8415 21.13) */
		if (len < 2)
			return "status option shorter than its code";
		return get_be16(p) ? "the server answered with an error status" : NULL;
	}
	return NULL;
}

/*
 * NULL when b is a Reply to transaction xid, with info filled in; else
 * what is wrong. "not ours" replies (another type or transaction) say so.
 */
static const char *parse_reply(const unsigned char *b, size_t len,
			       unsigned long xid, struct dhcp6_info *info)
{
	const unsigned char *p = b + 4;
	size_t rem;

	memset(info, 0, sizeof(*info));
	if (len < 4)
		return "not ours: shorter than a DHCPv6 header";
	if (b[0] != MSG_REPLY ||
	    (((unsigned long)b[1] << 16) | (b[2] << 8) | b[3]) != xid)
		return "not ours: not a Reply to this transaction";
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
		err = parse_option(code, p + 4, olen, info);
		if (err)
			return err;
		p += 4 + olen;
		rem -= 4 + (size_t)olen;
	}
	return NULL;
}

static void print_info(const struct dhcp6_info *info)
{
	int i;

	for (i = 0; i < info->ndns; i++)
		printf("dns %s\n", info->dns[i]);
	if (info->search[0])
		printf("search %s\n", info->search);
	if (info->url[0])
		printf("bootfile-url %s\n", info->url);
}

/* The first line of /sys/class/net/LINK/NAME, or "" on error. */
static void read_sys(const char *link, const char *name, char *buf, size_t sz)
{
	char path[128];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", link, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sz - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int link_identity(const char *link, unsigned int *index,
			 unsigned char mac[6])
{
	unsigned int m[6];
	char buf[64];
	int i;

	read_sys(link, "ifindex", buf, sizeof(buf));
	*index = (unsigned int)strtoul(buf, NULL, 10);
	read_sys(link, "address", buf, sizeof(buf));
	if (!*index || sscanf(buf, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2],
			      &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)m[i];
	return 0;
}

/* klibc has no clock_gettime(); times() counts USER_HZ (100) ticks. */
static long now_ms(void)
{
	return (long)(unsigned long)times(NULL) * 10;
}

static unsigned long random_xid(void)
{
	unsigned char r[3] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
			r[0] = (unsigned char)getpid();
		close(fd);
	}
	return ((unsigned long)r[0] << 16) | (r[1] << 8) | r[2];
}

static int open_socket(unsigned int index, const char **why)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6,
				   .sin6_port = htons(CLIENT_PORT) };
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	int hops = 1;

	if (s < 0) {
		*why = "socket";
		return -1;
	}
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
		       sizeof(index)) < 0 ||
	    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
		       sizeof(hops)) < 0) {
		*why = "choosing the link";
		goto out_close;
	}
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		*why = "bind to port 546";
		goto out_close;
	}
	return s;
out_close:
	close(s);
	return -1;
}

/*
 * Sends the request every second (RFC 8415 18.2.6: INF_TIMEOUT 1 s; the
 * doubling is left out, the wait is short) until a Reply comes or secs
 * have passed. NULL with info filled in, or what failed.
 */
static const char *exchange(int s, unsigned int index, const unsigned char *req,
			    size_t reqlen, unsigned long xid, int secs,
			    struct dhcp6_info *info)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6,
				   .sin6_port = htons(SERVER_PORT),
				   .sin6_scope_id = index };
	unsigned char buf[MAX_MSG];
	long end = now_ms() + secs * 1000L, next = 0;
	static char why[160];

	/*
	 * All_DHCP_Relay_Agents_and_Servers, ff02::1:2 (RFC 8415 7.1), as
	 * bytes: klibc's inet_pton() reads "ff02::1:2" as ::1.
	 */
	static const unsigned char all_servers[16] = {
		0xff, 0x02, [13] = 0x01, [15] = 0x02
	};

	memcpy(&to.sin6_addr, all_servers, sizeof(all_servers));
	why[0] = '\0';
	for (;;) {
		long t = now_ms();
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		ssize_t n;
		const char *err;

		if (t >= end)
			return why[0] ? why : "no DHCPv6 reply";
		if (t >= next) {
			if (sendto(s, req, reqlen, 0, (struct sockaddr *)&to,
				   sizeof(to)) < 0)
				snprintf(why, sizeof(why), "send: %s",
					 strerror(errno));
			next = t + 1000;
		}
		if (poll(&pfd, 1, (int)((next < end ? next : end) - t)) <= 0)
			continue;
		/*
		 * From any address and port: QEMU's server answers from
		 * port 8962 (547 without htons()); the transaction id
		 * matches the Reply to this request.
		 */
		n = recv(s, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		err = parse_reply(buf, (size_t)n, xid, info);
		if (!err)
			return NULL;
		if (strncmp(err, "not ours", 8))
			snprintf(why, sizeof(why), "a reply was refused: %s", err);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: nbdroot-dhcp6 -i LINK [-t SECONDS] | -r XID\n");
	return 2;
}

static int parse_stdin(const char *xidtext)
{
	unsigned char buf[MAX_MSG];
	struct dhcp6_info info;
	const char *err;
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) && (r = read(0, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	err = parse_reply(buf, n, strtoul(xidtext, NULL, 16), &info);
	if (err) {
		fprintf(stderr, "nbdroot-dhcp6: reply: %s\n", err);
		return 1;
	}
	print_info(&info);
	return 0;
}

int main(int argc, char **argv)
{
	const char *link = NULL, *why = NULL;
	unsigned char req[64], mac[6];
	struct dhcp6_info info;
	unsigned int index;
	unsigned long xid;
	int secs = 3, s, ch;
	size_t len;

	while ((ch = getopt(argc, argv, "i:t:r:")) != -1) {
		switch (ch) {
		case 'i':
			link = optarg;
			break;
		case 't':
			secs = atoi(optarg);
			if (secs < 1 || secs > 3600)
				return usage();
			break;
		case 'r':
			return parse_stdin(optarg);
		default:
			return usage();
		}
	}
	if (!link || optind != argc)
		return usage();
	if (link_identity(link, &index, mac) < 0) {
		fprintf(stderr, "nbdroot-dhcp6: %s: no such Ethernet link\n", link);
		return 1;
	}
	s = open_socket(index, &why);
	if (s < 0) {
		fprintf(stderr, "nbdroot-dhcp6: %s: %s: %s\n", link, why,
			strerror(errno));
		return 1;
	}
	xid = random_xid();
	len = build_request(req, xid, mac);
	why = exchange(s, index, req, len, xid, secs, &info);
	close(s);
	if (why) {
		fprintf(stderr, "nbdroot-dhcp6: %s: %s within %ds\n", link, why,
			secs);
		return 1;
	}
	print_info(&info);
	return 0;
}
