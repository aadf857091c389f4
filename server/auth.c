// SPDX-License-Identifier: GPL-2.0
/*
 * authfile: one address or address/prefix per line, '#' comments (the
 * nbd-server(5) format). Addresses are compared as bits, never as strings:
 * "10.0.0.1" does not admit 10.0.0.12 (CVE-2013-6410 was exactly that).
 * An IPv4 client arriving on an IPv6 socket as ::ffff:a.b.c.d is matched
 * as IPv4. An authfile that cannot be read or parsed admits nobody.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/*
 * Parses one line. 1 with the network in addr (16 bytes), 0 for a blank or
 * comment line, -1 if malformed.
 */
int auth_parse_line(const char *line, unsigned char *addr, int *family,
		    unsigned *prefix)
{
	char text[128], *slash, *end;
	size_t n;
	unsigned long bits;

	while (*line == ' ' || *line == '\t')
		line++;
	n = strcspn(line, " \t\r\n#");
	if (n == 0)
		return line[0] == '\0' || strchr("#\r\n", line[0]) ? 0 : -1;
	if (line[n + strspn(line + n, " \t\r\n")] &&
	    line[n + strspn(line + n, " \t\r\n")] != '#')
		return -1;
	if (n >= sizeof(text))
		return -1;
	memcpy(text, line, n);
	text[n] = '\0';
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*family = AF_INET6;
	else
		return -1;
	*prefix = *family == AF_INET ? 32 : 128;
	if (!slash)
		return 1;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	if (errno || *end || bits > *prefix)
		return -1;
	*prefix = (unsigned)bits;
	return 1;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b,
			 unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool auth_match(const unsigned char *net, int family, unsigned prefix,
		const struct sockaddr *peer)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	const struct sockaddr_in *in4 = (const void *)peer;
	const struct sockaddr_in6 *in6 = (const void *)peer;
	const unsigned char *a6;

	if (peer->sa_family == AF_INET)
		return family == AF_INET &&
		       prefix_equal(net, (const void *)&in4->sin_addr, prefix);
	if (peer->sa_family != AF_INET6)
		return false;
	a6 = in6->sin6_addr.s6_addr;
	if (family == AF_INET6)
		return prefix_equal(net, a6, prefix);
	return memcmp(a6, mapped, 12) == 0 && prefix_equal(net, a6 + 12, prefix);
}

int auth_check(const char *authfile, const struct sockaddr *peer, char *why,
	       size_t whylen)
{
	char line[512];
	unsigned char net[16];
	unsigned prefix, lineno = 0;
	int family, r, allowed = 0;
	FILE *f;

	f = fopen(authfile, "re");
	if (!f) {
		snprintf(why, whylen, "authfile %s: %s", authfile,
			 strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		r = auth_parse_line(line, net, &family, &prefix);
		if (r < 0) {
			snprintf(why, whylen, "authfile %s:%u: not an address",
				 authfile, lineno);
			allowed = -1;
			break;
		}
		/* Read on to the end: a malformed line denies everyone. */
		if (r == 1 && auth_match(net, family, prefix, peer))
			allowed = 1;
	}
	fclose(f);
	if (allowed == 0)
		snprintf(why, whylen, "not in authfile %s", authfile);
	return allowed;
}
