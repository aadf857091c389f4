// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-dhcp6: IPv6 configuration the kernel does not do itself, for
 * the init. It asks the link's router for an advertisement (RFC 4861
 * 6.3.7) and reads its name servers and search domain (RDNSS and DNSSL,
 * RFC 8106); then DHCPv6 (RFC 8415): with -a and a router that says
 * "managed" (M flag), or no router, an address (Solicit, Advertise,
 * Request, Reply: 18.2.1, 18.2.2), else, or when no server offers one,
 * the stateless Information-Request (18.2.6) for name servers (option
 * 23, RFC 3646), the domain search list (24) and the boot-file URL (59,
 * RFC 5970).
 *
 *   nbdroot-dhcp6 -i LINK [-t SECONDS] [-a]   ask on LINK
 *   nbdroot-dhcp6 -r [advertise:|reply:]XID[:SERVERID]
 *                                            parse a message on stdin
 *   nbdroot-dhcp6 -R                          parse a router advertisement
 *
 * prints "address ADDRESS/LEN" (LEN from the advertisement's on-link
 * prefix, else 128), "dns ADDRESS", "search NAME", "bootfile-url URL"
 * from DHCPv6 and "rdnss ADDRESS", "dnssl NAME" from the router. Exit 0
 * with a DHCPv6 answer (with -a: an address, or a stateless Reply), 1
 * without one (said on stderr; the router's lines are still printed),
 * 2 on usage. The parsers are in parse.c.
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
#include "parse.h"
#include "rng.h"

#ifndef SO_BINDTODEVICE
#define SO_BINDTODEVICE		25
#endif
#ifndef IPV6_RECVHOPLIMIT
#define IPV6_RECVHOPLIMIT	51	/* include/uapi/linux/in6.h */
#define IPV6_HOPLIMIT		52
#endif

#define CLIENT_PORT	546	/* RFC 8415 7.2 */
#define SERVER_PORT	547
#define OPT_CLIENTID	1	/* RFC 8415 21 */
#define OPT_SERVERID	2
#define OPT_IA_NA	3
#define OPT_IAADDR	5
#define OPT_ORO		6
#define OPT_ELAPSED	8
#define OPT_DNS		23
#define OPT_SEARCH	24
#define OPT_REFRESH	32	/* RFC 8415 21.23: an Information-Request asks for it */
#define OPT_BOOTURL	59
#define IAID		1	/* the one IA_NA of this client */
#define RA_WAIT		4	/* seconds: RTR_SOLICITATION_INTERVAL (RFC 4861 10) */

/* klibc's inet_pton() reads "ff02::1:2" as ::1: the groups as bytes */
static const unsigned char all_servers[16] = {	/* RFC 8415 7.1 */
	0xff, 0x02, [13] = 0x01, [15] = 0x02
};
static const unsigned char all_routers[16] = {	/* RFC 4291 2.7.1 */
	0xff, 0x02, [15] = 0x02
};

static unsigned char *put_opt(unsigned char *p, unsigned int code,
			      size_t len)
{
	put_be16(p, (uint16_t)code);
	put_be16(p + 2, (uint16_t)len);
	return p + 4;
}

/*
 * A client message: TYPE and transaction, our DUID, elapsed time 0, the
 * options we want; for a stateful one an IA_NA, holding the address and
 * naming the server of info when it has them (a Request). b holds
 * MAX_MSG bytes; every part is bounded (MAX_DUID, 16-byte address).
 */
static size_t build_msg(unsigned char *b, unsigned int type,
			unsigned long xid, const struct dhcp6_client *me,
			const struct dhcp6_info *info)
{
	static const unsigned int oro[] = { OPT_DNS, OPT_SEARCH, OPT_BOOTURL,
					    OPT_REFRESH };
	unsigned char *p = b;
	size_t i, n = sizeof(oro) / sizeof(oro[0]) - (type != DHCP6_INFO_REQ);

	put_be32(p, (uint32_t)((type << 24) | (xid & 0xffffff)));
	p = put_opt(p + 4, OPT_CLIENTID, me->duid_len);
	memcpy(p, me->duid, me->duid_len);
	p = put_opt(p + me->duid_len, OPT_ELAPSED, 2);
	put_be16(p, 0);
	p = put_opt(p + 2, OPT_ORO, 2 * n);
	for (i = 0; i < n; i++, p += 2)
		put_be16(p, (uint16_t)oro[i]);
	if (type == DHCP6_INFO_REQ)
		return (size_t)(p - b);
	if (info && info->server_id_len) {
		p = put_opt(p, OPT_SERVERID, info->server_id_len);
		memcpy(p, info->server_id, info->server_id_len);
		p += info->server_id_len;
	}
	/* IAID, T1 and T2 0: the server chooses (RFC 8415 21.4) */
	p = put_opt(p, OPT_IA_NA, 12 + (info && info->has_addr ? 28 : 0));
	put_be32(p, IAID);
	memset(p + 4, 0, 8);
	p += 12;
	if (info && info->has_addr) {
		p = put_opt(p, OPT_IAADDR, 24);
		memcpy(p, info->addr, 16);
		memset(p + 16, 0, 8);
		p += 24;
	}
	return (size_t)(p - b);
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

/* DUID-LL (RFC 8415 11.4) from a MAC address, IAID for a stateful ask. */
static void set_client(struct dhcp6_client *me, const unsigned char mac[6],
		       int stateful)
{
	memset(me, 0, sizeof(*me));
	put_be16(me->duid, 3);		/* DUID-LL */
	put_be16(me->duid + 2, 1);	/* Ethernet */
	memcpy(me->duid + 4, mac, 6);
	me->duid_len = 10;
	me->iaid = stateful ? IAID : 0;
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

/*
 * A transaction id, never 0 (rng.h: not /dev/urandom, which makes the
 * boot wait a second; RFC 8415 16.1 asks for one not easily guessed,
 * and the Solicit carries it in the clear to the whole link).
 */
static unsigned long random_xid(void)
{
	static int seeded;
	unsigned long xid;

	if (!seeded) {
		rng_seed(NULL, 0);
		seeded = 1;
	}
	do
		xid = rng_next() & 0xffffff;
	while (!xid);
	return xid;
}


/* Multicast to this link only, hop limit HOPS; NULL or the failed step. */
static const char *on_link(int s, unsigned int index, int hops,
			   const char *link)
{
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
		       sizeof(index)) < 0 ||
	    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
		       sizeof(hops)) < 0)
		return "choosing the link";
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, link,
		       strlen(link) + 1) < 0)
		return "binding to the link";
	return NULL;
}

static int open_dhcp_socket(const char *link, unsigned int index,
			    const char **why)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6,
				   .sin6_port = htons(CLIENT_PORT) };
	int s = socket(AF_INET6, SOCK_DGRAM, 0);

	if (s < 0) {
		*why = "socket";
		return -1;
	}
	*why = on_link(s, index, 1, link);
	if (!*why && bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		*why = "bind to port 546";
	if (!*why)
		return s;
	close(s);
	return -1;
}

/*
 * One question asked every second (RFC 8415 15: IRT 1 s, RFC 4861 6.3.7;
 * the doubling is left out, the waits are short) until an answer comes
 * or secs have passed. take() says NULL for the answer, "not ours..." for
 * a message to ignore, else why it refused one.
 */
struct ask {
	int s;
	const void *req;
	size_t reqlen;
	struct sockaddr_in6 to;
	ssize_t (*recv)(int s, unsigned char *buf, size_t sz, void *arg);
	const char *(*take)(const unsigned char *buf, size_t n, void *arg);
	void *arg;
	const char *none;	/* the reason when nothing came */
};

static const char *ask(const struct ask *a, int secs)
{
	unsigned char buf[MAX_MSG];
	long end = now_ms() + secs * 1000L, next = 0;
	static char why[240];

	snprintf(why, sizeof(why), "%s", a->none);
	for (;;) {
		long t = now_ms();
		struct pollfd pfd = { .fd = a->s, .events = POLLIN };
		ssize_t n;
		const char *err;

		if (t >= end)
			return why;
		if (t >= next) {
			if (sendto(a->s, a->req, a->reqlen, 0,
				   (const struct sockaddr *)&a->to,
				   sizeof(a->to)) < 0)
				snprintf(why, sizeof(why), "%s (send: %s)",
					 a->none, strerror(errno));
			next = t + 1000;
		}
		if (poll(&pfd, 1, (int)((next < end ? next : end) - t)) <= 0)
			continue;
		n = a->recv(a->s, buf, sizeof(buf), a->arg);
		if (n < 0)
			continue;
		err = a->take(buf, (size_t)n, a->arg);
		if (!err)
			return NULL;
		if (strncmp(err, "not ours", 8))
			snprintf(why, sizeof(why), "an answer was refused: %s",
				 err);
	}
}

/*
 * What a DHCPv6 exchange waits for: a message of TYPE for xid and me.
 * An Advertise without an address does not end the wait (another server
 * may offer one); its status is kept in noaddr_status, seen_noaddr set.
 */
struct dhcp6_wait {
	unsigned int type;
	unsigned long xid;
	const struct dhcp6_client *me;
	struct dhcp6_info *info;
	int seen_noaddr;
	unsigned int noaddr_status;
};

/*
 * From any port: QEMU's server answers from port 8962 (547 without
 * htons()). From a link-local address (RFC 8415 7.5: a server on the
 * link answers from one) when an address is wanted; a stateless answer
 * may come from any, as QEMU's comes from its fec0::2.
 */
static ssize_t recv_dhcp6(int s, unsigned char *buf, size_t sz, void *arg)
{
	const struct dhcp6_wait *w = arg;
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, buf, sz, 0, (struct sockaddr *)&from, &fl);

	if (n < 0 || (size_t)fl < sizeof(from) || from.sin6_family != AF_INET6)
		return -1;
	if (w->me->iaid && (from.sin6_addr.s6_addr[0] != 0xfe ||
			    (from.sin6_addr.s6_addr[1] & 0xc0) != 0x80))
		return -1;
	return n;
}

static const char *take_dhcp6(const unsigned char *buf, size_t n, void *arg)
{
	struct dhcp6_wait *w = arg;
	const char *err = dhcp6_parse(buf, n, w->type, w->xid, w->me, w->info);

	if (err || w->type != DHCP6_ADVERTISE || w->info->has_addr)
		return err;
	w->seen_noaddr = 1;
	w->noaddr_status = w->info->ia_status;
	return "not ours: an Advertise without an address";
}

/* req to the link's servers until w's answer, within secs. */
static const char *exchange(int s, unsigned int index, const unsigned char *req,
			    size_t reqlen, struct dhcp6_wait *w, int secs)
{
	struct ask a = { .s = s, .req = req, .reqlen = reqlen,
			 .to = { .sin6_family = AF_INET6,
				 .sin6_port = htons(SERVER_PORT),
				 .sin6_scope_id = index },
			 .recv = recv_dhcp6, .take = take_dhcp6, .arg = w,
			 .none = "no DHCPv6 reply" };

	memcpy(&a.to.sin6_addr, all_servers, sizeof(all_servers));
	return ask(&a, secs);
}

/* ICMPv6 on LINK for router solicitations; -1 with *why on error. */
static int open_nd_socket(const char *link, unsigned int index,
			  const char **why)
{
	int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), on = 1;

	if (s < 0) {
		*why = "raw ICMPv6 socket";
		return -1;
	}
	/* RFC 4861 6.1.2: an advertisement must come with hop limit 255 */
	*why = on_link(s, index, 255, link);
	if (!*why && setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
				sizeof(on)) < 0)
		*why = "asking for the hop limit";
	if (!*why)
		return s;
	close(s);
	return -1;
}

/* One ICMPv6 message into buf, -1 unless from a link-local address with
 * hop limit 255 (RFC 4861 6.1.2: from a router on this link). */
static ssize_t recv_nd(int s, unsigned char *buf, size_t sz, void *arg)
{
	struct sockaddr_in6 from;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sz };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(s, &m, 0);
	int hops = -1;

	(void)arg;
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_HOPLIMIT &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&hops, CMSG_DATA(c), sizeof(int));
	if (hops != 255 || from.sin6_addr.s6_addr[0] != 0xfe ||
	    (from.sin6_addr.s6_addr[1] & 0xc0) != 0x80)
		return -1;
	return n;
}

static const char *take_ra(const unsigned char *buf, size_t n, void *arg)
{
	return ra_parse(buf, n, arg);
}

/* Router solicitations until an advertisement: NULL with ra, or why not. */
static const char *solicit_router(int s, unsigned int index, int secs,
				  struct ra_info *ra)
{
	static const unsigned char rs[8] = { 133 };	/* RFC 4861 4.1 */
	/* the kernel fills in the ICMPv6 checksum */
	struct ask a = { .s = s, .req = rs, .reqlen = sizeof(rs),
			 .to = { .sin6_family = AF_INET6,
				 .sin6_scope_id = index },
			 .recv = recv_nd, .take = take_ra, .arg = ra,
			 .none = "no router advertisement" };

	memcpy(&a.to.sin6_addr, all_routers, sizeof(all_routers));
	return ask(&a, secs);
}

static void print_ra(const struct ra_info *ra)
{
	int i;

	for (i = 0; i < ra->ndns; i++)
		printf("rdnss %s\n", ra->dns[i]);
	if (ra->search[0])
		printf("dnssl %s\n", ra->search);
	fflush(stdout);
}

/* -R: the on-link prefixes kept, "prefix PREFIX/LEN" */
static void print_prefixes(const struct ra_info *ra)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < ra->nprefix; i++) {
		format_ipv6(ra->prefix[i], a);
		printf("prefix %s/%u\n", a, ra->prefix_len[i]);
	}
}

static void print_info(const struct dhcp6_info *info,
		       const struct ra_info *ra)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	if (info->has_addr) {
		format_ipv6(info->addr, a);
		printf("address %s/%u\n", a, ra_prefix_len(ra, info->addr));
		printf("lifetime preferred %lu valid %lu\n", info->preferred,
		       info->valid);
	}
	for (i = 0; i < info->ndns; i++)
		printf("dns %s\n", info->dns[i]);
	if (info->search[0])
		printf("search %s\n", info->search);
	if (info->url[0])
		printf("bootfile-url %s\n", info->url);
}

/*
 * Stateful DHCPv6 (RFC 8415 18.2.1, 18.2.2): the first Advertise that
 * offers an address (preferences are not compared; one without an
 * address does not end the wait), then a Request for it to that server.
 * NULL with info holding the Reply's address; "no address offered" when
 * servers answered without one, else what failed.
 */
static const char *ask_address(int s, unsigned int index, unsigned char *msg,
			       struct dhcp6_client *me, int secs,
			       struct dhcp6_info *info)
{
	static char why[240];
	struct dhcp6_info adv;
	struct dhcp6_wait w = { .type = DHCP6_ADVERTISE, .me = me,
				.info = &adv };
	const char *err;
	size_t len;

	w.xid = random_xid();
	len = build_msg(msg, DHCP6_SOLICIT, w.xid, me, NULL);
	err = exchange(s, index, msg, len, &w, secs);
	if (err && w.seen_noaddr) {
		snprintf(why, sizeof(why), "no address offered (status %u)",
			 w.noaddr_status);
		return why;
	}
	if (err)
		return err;
	/* 18.2.10: the Reply must come from the server chosen */
	memcpy(me->server_id, adv.server_id, adv.server_id_len);
	me->server_id_len = adv.server_id_len;
	w = (struct dhcp6_wait){ .type = DHCP6_REPLY, .me = me, .info = info };
	w.xid = random_xid();
	len = build_msg(msg, DHCP6_REQUEST, w.xid, me, &adv);
	err = exchange(s, index, msg, len, &w, secs);
	if (err) {
		snprintf(why, sizeof(why), "request: %s", err);
		return why;
	}
	if (!info->has_addr) {
		snprintf(why, sizeof(why),
			 "request: the Reply holds no address (status %u)",
			 info->ia_status);
		return why;
	}
	return NULL;
}

/* -a: an address when the router says "managed" or there is no router;
 * stateless otherwise, or when no server offers an address. */
static const char *configure(int s, unsigned int index,
			     const unsigned char mac[6], int want_addr,
			     const struct ra_info *ra, int have_ra, int secs,
			     struct dhcp6_info *info)
{
	unsigned char msg[MAX_MSG];
	struct dhcp6_client me;
	struct dhcp6_wait w = { .type = DHCP6_REPLY, .me = &me, .info = info };
	const char *err = NULL;
	size_t len;

	if (want_addr && (ra->managed || !have_ra)) {
		set_client(&me, mac, 1);
		err = ask_address(s, index, msg, &me, secs, info);
		if (!err)
			return NULL;
		if (strncmp(err, "no ", 3))
			return err;
	}
	set_client(&me, mac, 0);
	w.xid = random_xid();
	len = build_msg(msg, DHCP6_INFO_REQ, w.xid, &me, NULL);
	if (!exchange(s, index, msg, len, &w, secs))
		return NULL;
	return err ? err : "no DHCPv6 reply";
}

static int usage(void)
{
	fprintf(stderr, "usage: nbdroot-dhcp6 -i LINK [-t SECONDS] [-a] | -r [advertise:|reply:]XID[:SERVERID] | -R\n");
	return 2;
}

/* SERVERID in hex into me, the server a Reply must name; -1 if not hex. */
static int set_server(struct dhcp6_client *me, const char *hex)
{
	unsigned int b;

	while (hex[0] && me->server_id_len < MAX_DUID) {
		if (sscanf(hex, "%2x", &b) != 1 || !hex[1])
			return -1;
		me->server_id[me->server_id_len++] = (unsigned char)b;
		hex += 2;
	}
	return hex[0] ? -1 : 0;
}

/* -r and -R: a message on stdin, from the client 52:54:00:12:34:56. */
static int parse_stdin(const char *what)
{
	static const unsigned char mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	unsigned int type = DHCP6_REPLY;
	unsigned char buf[MAX_MSG];
	struct dhcp6_client me;
	struct dhcp6_info info;
	struct ra_info ra;
	const char *err;
	unsigned long xid;
	char *end;
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) && (r = read(0, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	set_client(&me, mac, strchr(what, ':') != NULL);
	if (!strncmp(what, "advertise:", 10))
		type = DHCP6_ADVERTISE;
	xid = strtoul(strchr(what, ':') ? strchr(what, ':') + 1 : what, &end,
		      16);
	if (*end == ':' && set_server(&me, end + 1) < 0)
		return usage();
	err = what[0] == '-' ? ra_parse(buf, n, &ra) :
		dhcp6_parse(buf, n, type, xid, &me, &info);
	if (err) {
		fprintf(stderr, "nbdroot-dhcp6: %s: %s\n",
			what[0] == '-' ? "router advertisement" : "reply", err);
		return 1;
	}
	if (what[0] == '-') {
		printf("flags%s%s\n", ra.managed ? " managed" : "",
		       ra.other ? " other" : "");
		print_ra(&ra);
		print_prefixes(&ra);
		return 0;
	}
	memset(&ra, 0, sizeof(ra));
	print_info(&info, &ra);
	if (info.ia_status)
		printf("ia-status %u\n", info.ia_status);
	return 0;
}

static int run(const char *link, int secs, int want_addr)
{
	const char *why = NULL, *step = "router";
	struct dhcp6_info info;
	struct ra_info ra;
	unsigned int index;
	unsigned char mac[6];
	int s, have_ra;

	if (link_identity(link, &index, mac) < 0) {
		fprintf(stderr, "nbdroot-dhcp6: %s: no such Ethernet link\n", link);
		return 1;
	}
	s = open_nd_socket(link, index, &why);
	if (s < 0)
		goto out_err;
	why = solicit_router(s, index, secs < RA_WAIT ? secs : RA_WAIT, &ra);
	close(s);
	have_ra = !why;
	/* a refused advertisement is named; the rest goes on without it */
	if (why && strncmp(why, "no ", 3))
		fprintf(stderr, "nbdroot-dhcp6: %s: router: %s\n", link, why);
	if (!have_ra)
		memset(&ra, 0, sizeof(ra));
	print_ra(&ra);
	step = "DHCPv6";
	s = open_dhcp_socket(link, index, &why);
	if (s < 0)
		goto out_err;
	why = configure(s, index, mac, want_addr, &ra, have_ra, secs, &info);
	close(s);
	if (why) {
		fprintf(stderr, "nbdroot-dhcp6: %s: %s within %ds\n", link, why,
			secs);
		return 1;
	}
	print_info(&info, &ra);
	return 0;
out_err:
	fprintf(stderr, "nbdroot-dhcp6: %s: %s: %s: %s\n", link, step, why,
		strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *link = NULL;
	int secs = 3, want_addr = 0, ch;

	while ((ch = getopt(argc, argv, "ai:t:r:R")) != -1) {
		switch (ch) {
		case 'a':
			want_addr = 1;
			break;
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
		case 'R':
			return parse_stdin("-");
		default:
			return usage();
		}
	}
	if (!link || optind != argc)
		return usage();
	return run(link, secs, want_addr);
}
