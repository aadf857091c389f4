// SPDX-License-Identifier: GPL-2.0
/*
 * IP address literals. klibc's inet_pton() knows no IPv6 at all, so both
 * families are parsed here (RFC 4291 section 2.2 text forms: hex groups,
 * one "::", an optional dotted IPv4 tail), the same under klibc and glibc.
 */
#include <string.h>

#include "nbd-client.h"

/* Dotted quad into out[4]; 0, or -1. */
static int parse_v4(const char *s, unsigned char *out)
{
	int part = 0, digits = 0;
	unsigned int v = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			/* "010" is octal to some parsers: refuse, as glibc does */
			if (digits == 1 && v == 0)
				return -1;
			v = v * 10 + (unsigned int)(*s - '0');
			if (++digits > 3 || v > 255)
				return -1;
		} else if ((*s == '.' || !*s) && digits) {
			out[part++] = (unsigned char)v;
			if (!*s)
				return part == 4 ? 0 : -1;
			if (part == 4)
				return -1;
			v = 0;
			digits = 0;
		} else {
			return -1;
		}
	}
}

/* a hexadecimal digit's value, or -1 */
int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 16-bit groups of s (no "::" inside) into g; count, or -1. */
static int parse_groups(const char *s, const char *end, uint16_t *g, int max,
			int *v4_tail, unsigned char *v4)
{
	int n = 0, digits;
	unsigned int v;

	*v4_tail = 0;
	while (s < end) {
		const char *colon = memchr(s, ':', (size_t)(end - s));
		const char *stop = colon ? colon : end;

		if (!colon && memchr(s, '.', (size_t)(end - s))) {
			char tail[16];

			if (end - s >= (long)sizeof(tail) || n + 2 > max)
				return -1;
			memcpy(tail, s, (size_t)(end - s));
			tail[end - s] = '\0';
			if (parse_v4(tail, v4) < 0)
				return -1;
			*v4_tail = 1;
			return n + 2;
		}
		for (v = 0, digits = 0; s < stop; s++, digits++) {
			if (digits == 4 || hex_digit(*s) < 0)
				return -1;
			v = v << 4 | (unsigned int)hex_digit(*s);
		}
		if (!digits || n == max)
			return -1;
		g[n++] = (uint16_t)v;
		if (colon && colon + 1 == end)
			return -1;	/* trailing single ':' */
		s = colon ? colon + 1 : end;
	}
	return n;
}

static void put_groups(unsigned char *out, const uint16_t *g, int n,
		       int v4_tail, const unsigned char *v4)
{
	int i, words = v4_tail ? n - 2 : n;

	for (i = 0; i < words; i++) {
		out[2 * i] = (unsigned char)(g[i] >> 8);
		out[2 * i + 1] = (unsigned char)g[i];
	}
	if (v4_tail)
		memcpy(out + 2 * words, v4, 4);
}

/* IPv6 text into out[16]; 0, or -1. */
static int parse_v6(const char *s, unsigned char *out)
{
	const char *gap = strstr(s, "::"), *end = s + strlen(s);
	uint16_t head[8], tail[8];
	unsigned char v4h[4], v4t[4];
	int nh, nt = 0, v4_head, v4_tail = 0;

	memset(out, 0, 16);
	if (!gap) {
		nh = parse_groups(s, end, head, 8, &v4_head, v4h);
		if (nh != 8)
			return -1;
		put_groups(out, head, nh, v4_head, v4h);
		return 0;
	}
	if (strstr(gap + 2, "::"))
		return -1;
	nh = parse_groups(s, gap, head, 7, &v4_head, v4h);
	if (nh < 0 || v4_head)
		return -1;
	if (gap + 2 < end) {
		nt = parse_groups(gap + 2, end, tail, 7 - nh, &v4_tail, v4t);
		if (nt < 0)
			return -1;
	}
	put_groups(out, head, nh, 0, NULL);
	put_groups(out + 2 * (8 - nt), tail, nt, v4_tail, v4t);
	return 0;
}

/* An IPv4 or IPv6 literal (no brackets) into sa, port 0; 0, or -1. */
int addr_parse(const char *s, union sockaddr_any *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (parse_v4(s, (unsigned char *)&sa->in.sin_addr) == 0) {
		sa->in.sin_family = AF_INET;
		return 0;
	}
	if (strchr(s, ':') && parse_v6(s, sa->in6.sin6_addr.s6_addr) == 0) {
		sa->in6.sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Sets the port of an address addr_parse() filled; its socklen. */
socklen_t addr_set_port(union sockaddr_any *sa, uint16_t port)
{
	if (sa->sa.sa_family == AF_INET) {
		sa->in.sin_port = htons(port);
		return sizeof(sa->in);
	}
	sa->in6.sin6_port = htons(port);
	return sizeof(sa->in6);
}
