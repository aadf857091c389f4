// SPDX-License-Identifier: GPL-2.0
/*
 * Host names for a client linked against klibc, which has no resolver:
 * /etc/hosts first, then A and AAAA queries over UDP to the name servers
 * of /etc/resolv.conf (RFC 1035), each bounded by a timeout. Replies are
 * walked with a length check before every field; names in them are
 * skipped, never followed beyond the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "byteorder.h"
#include "nbd-client.h"

#define DNS_PORT	53
#define DNS_TYPE_A	1
#define DNS_TYPE_AAAA	28
#define DNS_CLASS_IN	1
#define DNS_MAX_NAME	253
#define DNS_MAX_SERVERS	3
#define DNS_TRIES	2
#define DNS_HDR		12

int client_dns_wait_ms = 2000;	/* per question and server */
/* Where resolve_host() looks names up; tests point these at their own. */
const char *client_hosts_file = "/etc/hosts";
const char *client_resolv_file = "/etc/resolv.conf";
uint16_t client_dns_port = DNS_PORT;

struct dns_config {
	union sockaddr_any servers[DNS_MAX_SERVERS];
	int nservers;
	char search[DNS_MAX_NAME + 1];
};

static int parse_literal(const char *s, uint16_t port, union sockaddr_any *sa)
{
	if (addr_parse(s, sa) < 0)
		return -1;
	addr_set_port(sa, port);
	return 0;
}

/* Reads the next whitespace-separated word of line into w; the rest. */
static const char *word(const char *line, char *w, size_t len)
{
	size_t n = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	while (*line && *line != ' ' && *line != '\t' && *line != '\n') {
		if (n + 1 < len)
			w[n++] = *line;
		line++;
	}
	w[n] = '\0';
	return line;
}

static void read_resolv_conf(const char *path, uint16_t port,
			     struct dns_config *c)
{
	char buf[4096], key[32], val[DNS_MAX_NAME + 1];
	const char *line, *rest;

	memset(c, 0, sizeof(*c));
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	for (line = buf; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		rest = word(line, key, sizeof(key));
		word(rest, val, sizeof(val));
		if (!strcmp(key, "nameserver") && c->nservers < DNS_MAX_SERVERS &&
		    parse_literal(val, port, &c->servers[c->nservers]) == 0)
			c->nservers++;
		else if (!strcmp(key, "search") || !strcmp(key, "domain"))
			memcpy(c->search, val, sizeof(c->search));
	}
}

/* /etc/hosts: "address name alias..." lines. */
static int lookup_hosts(const char *path, const char *name,
			union sockaddr_any *sa)
{
	char buf[8192], addr[64], w[DNS_MAX_NAME + 1];
	const char *line, *rest;

	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (*line == '#')
			continue;
		rest = word(line, addr, sizeof(addr));
		for (rest = word(rest, w, sizeof(w)); *w;
		     rest = word(rest, w, sizeof(w))) {
			if (*w == '#')
				break;
			if (!strcasecmp(w, name) && parse_literal(addr, 0, sa) == 0)
				return 0;
		}
	}
	return -1;
}

/* A query for name/type; its length, or -1 for a malformed name. */
static int build_query(unsigned char *q, size_t cap, uint16_t id,
		       const char *name, uint16_t type)
{
	size_t off = DNS_HDR, n = strlen(name);
	const char *label = name, *dot;

	if (n == 0 || n > DNS_MAX_NAME || cap < DNS_HDR + n + 2 + 4)
		return -1;
	memset(q, 0, DNS_HDR);
	put_be16(q, id);
	put_be16(q + 2, 0x0100);	/* standard query, recursion desired */
	put_be16(q + 4, 1);		/* one question */
	while (*label) {
		dot = strchr(label, '.');
		n = dot ? (size_t)(dot - label) : strlen(label);
		if (n == 0 || n > 63)
			return -1;
		q[off++] = (unsigned char)n;
		memcpy(q + off, label, n);
		off += n;
		label += n + (dot != NULL);
	}
	q[off++] = 0;
	put_be16(q + off, type);
	put_be16(q + off + 2, DNS_CLASS_IN);
	return (int)(off + 4);
}

/* Offset just past the (possibly compressed) name at off, or 0. */
static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
	while (off < len) {
		if (m[off] == 0)
			return off + 1;
		if ((m[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (m[off] & 0xc0)
			return 0;
		off += 1 + m[off];
	}
	return 0;
}

/*
 * The first answer of the wanted type: 0 with *sa set, 1 when the name
 * does not exist or has no such record, -1 for a malformed reply.
 */
static int parse_reply(const unsigned char *m, size_t len, uint16_t id,
		       uint16_t type, union sockaddr_any *sa)
{
	size_t off;
	uint16_t ancount, qdcount, rtype, rdlen;

	if (len < DNS_HDR || get_be16(m) != id || !(m[2] & 0x80))
		return -1;
	if ((m[3] & 0x0f) == 3)
		return 1;		/* NXDOMAIN */
	if (m[3] & 0x0f)
		return -1;
	qdcount = get_be16(m + 4);
	ancount = get_be16(m + 6);
	for (off = DNS_HDR; qdcount--; off += 4) {
		off = skip_name(m, len, off);
		if (!off || off + 4 > len)
			return -1;
	}
	while (ancount--) {
		off = skip_name(m, len, off);
		if (!off || off + 10 > len)
			return -1;
		rtype = get_be16(m + off);
		rdlen = get_be16(m + off + 8);
		off += 10;
		if (rdlen > len - off)
			return -1;
		if (rtype == type && type == DNS_TYPE_A && rdlen == 4) {
			memset(sa, 0, sizeof(*sa));
			sa->in.sin_family = AF_INET;
			memcpy(&sa->in.sin_addr, m + off, 4);
			return 0;
		}
		if (rtype == type && type == DNS_TYPE_AAAA && rdlen == 16) {
			memset(sa, 0, sizeof(*sa));
			sa->in6.sin6_family = AF_INET6;
			memcpy(&sa->in6.sin6_addr, m + off, 16);
			return 0;
		}
		off += rdlen;
	}
	return 1;
}

static socklen_t sa_len(const union sockaddr_any *sa)
{
	return sa->sa.sa_family == AF_INET ? sizeof(sa->in) : sizeof(sa->in6);
}

/*
 * One question to one server: as parse_reply, or -1 with errno (ETIMEDOUT
 * when no usable answer came in time).
 */
static int ask(const union sockaddr_any *server, const char *name,
	       uint16_t type, union sockaddr_any *sa)
{
	unsigned char q[512], r[1500];
	uint16_t id = (uint16_t)(uptime_ms() ^ getpid() ^ type);
	int qlen = build_query(q, sizeof(q), id, name, type), fd, res = -1;
	int err;
	struct deadline d;
	ssize_t n;

	if (qlen < 0)
		return errno = EINVAL, -1;
	fd = socket(server->sa.sa_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, &server->sa, sa_len(server)) < 0)
		goto out;
	n = send(fd, q, (size_t)qlen, 0);
	if (n != qlen) {
		if (n >= 0)
			errno = EMSGSIZE;
		goto out;
	}
	deadline_start(&d, client_dns_wait_ms);
	while (deadline_poll(fd, POLLIN, &d) == 0) {
		n = recv(fd, r, sizeof(r), 0);
		if (n < 0)
			break;
		res = parse_reply(r, (size_t)n, id, type, sa);
		if (res >= 0)
			break;	/* else a stray or broken datagram: wait on */
	}
out:
	err = errno;
	close(fd);
	errno = err;
	return res;
}

/*
 * Whether this machine has a route to the address: a datagram socket's
 * connect() sends nothing and fails with ENETUNREACH when no route leads
 * there (an IPv4 answer on an IPv6-only network).
 */
static int routable(const union sockaddr_any *sa)
{
	int fd = socket(sa->sa.sa_family, SOCK_DGRAM, 0), r, err;

	if (fd < 0)
		return 0;
	r = connect(fd, &sa->sa, sa_len(sa));
	err = errno;
	close(fd);
	return r == 0 || err != ENETUNREACH;
}

/* One type from every server in turn: as query. */
static int query_type(const struct dns_config *c, const char *name,
		      uint16_t type, union sockaddr_any *sa, int *err)
{
	int s, try, r;

	for (try = 0; try < DNS_TRIES; try++) {
		for (s = 0; s < c->nservers; s++) {
			r = ask(&c->servers[s], name, type, sa);
			if (r >= 0)
				return r;
			*err = errno;
		}
	}
	return -1;
}

/*
 * A, then AAAA, from every server in turn; an A answer this machine has
 * no route to (an IPv6-only network) gives way to an AAAA answer, and is
 * kept if there is none. 0, 1 if unknown, or -1 with the errno of the
 * last question that got no answer.
 */
static int query(const struct dns_config *c, const char *name,
		 union sockaddr_any *sa)
{
	union sockaddr_any v4;
	int r4, r6, err = ETIMEDOUT;

	r4 = query_type(c, name, DNS_TYPE_A, &v4, &err);
	if (r4 == 0 && routable(&v4))
		return *sa = v4, 0;
	r6 = query_type(c, name, DNS_TYPE_AAAA, sa, &err);
	if (r6 == 0)
		return 0;
	if (r4 == 0)
		return *sa = v4, 0;
	if (r4 == 1 || r6 == 1)
		return 1;
	return errno = err, -1;
}

/* RFC 1123 host names: labels of 1 to 63 letters, digits and '-'. */
static int valid_name(const char *name)
{
	size_t label = 0, n = strlen(name);

	if (n == 0 || n > DNS_MAX_NAME)
		return 0;
	for (; *name; name++) {
		if (*name == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*name >= 'a' && *name <= 'z') ||
		      (*name >= 'A' && *name <= 'Z') ||
		      (*name >= '0' && *name <= '9') || *name == '-' ||
		      *name == '_') || ++label > 63)
			return 0;
	}
	return 1;
}

int resolve_host_with(const char *name, const char *hosts_path,
		      const char *resolv_path, uint16_t dns_port,
		      union sockaddr_any *sa)
{
	struct dns_config c;
	char full[DNS_MAX_NAME + 2];
	int r;

	if (!valid_name(name))
		return client_error("\"%s\" is not an IP address or a host name",
				    name);
	if (lookup_hosts(hosts_path, name, sa) == 0)
		return 0;
	read_resolv_conf(resolv_path, dns_port, &c);
	if (c.nservers == 0)
		return client_error("cannot resolve \"%s\": no nameserver in %s",
				    name, resolv_path);
	r = query(&c, name, sa);
	if (r == 1 && !strchr(name, '.') && c.search[0] &&
	    snprintf(full, sizeof(full), "%s.%s", name, c.search) <
	    (int)sizeof(full))
		r = query(&c, full, sa);
	if (r == 0)
		return 0;
	if (r == 1)
		return client_error("host \"%s\" not found", name);
	return client_error("cannot resolve \"%s\": no answer from the name servers in %s: %s",
			    name, resolv_path, strerror(errno));
}

/*
 * The last answer for each name. A -persist daemon started in the initrd
 * outlives it: after switch_root its /etc is gone, so a reconnection falls
 * back to the address the name had when it was last resolved.
 */
#define CACHE_SLOTS	CLIENT_MAX_SERVERS

static struct {
	char name[DNS_MAX_NAME + 1];
	union sockaddr_any sa;
} cache[CACHE_SLOTS];

static void remember(const char *name, const union sockaddr_any *sa)
{
	int i, free_slot = -1;

	for (i = 0; i < CACHE_SLOTS; i++) {
		if (!strcmp(cache[i].name, name))
			break;
		if (!cache[i].name[0] && free_slot < 0)
			free_slot = i;
	}
	if (i == CACHE_SLOTS)
		i = free_slot < 0 ? 0 : free_slot;
	snprintf(cache[i].name, sizeof(cache[i].name), "%s", name);
	cache[i].sa = *sa;
}

static int recall(const char *name, union sockaddr_any *sa)
{
	int i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].name[0] && !strcmp(cache[i].name, name)) {
			*sa = cache[i].sa;
			return 0;
		}
	}
	return -1;
}

int resolve_host_cached(const char *name, const char *hosts_path,
			const char *resolv_path, uint16_t dns_port,
			union sockaddr_any *sa)
{
	if (resolve_host_with(name, hosts_path, resolv_path, dns_port,
			      sa) == 0) {
		remember(name, sa);
		return 0;
	}
	return recall(name, sa);	/* keeps the lookup's error otherwise */
}

int resolve_host(const char *name, union sockaddr_any *sa)
{
	return resolve_host_cached(name, client_hosts_file, client_resolv_file,
				   client_dns_port, sa);
}
