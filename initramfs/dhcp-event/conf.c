// SPDX-License-Identifier: GPL-2.0
/*
 * net-LINK.conf and resolv.conf from a lease. The values are the DHCP
 * server's (through udhcpc's environment): quoted so that sourcing the
 * file runs nothing, and the resolver's lines checked before use.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define BLANKS	" \t\n"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

void lease_from_env(struct lease *l)
{
	l->interface = env("interface");
	l->ip = env("ip");
	l->mask = env("mask");
	l->subnet = env("subnet");
	l->broadcast = env("broadcast");
	l->router = env("router");
	l->dns = env("dns");
	l->domain = env("domain");
	l->hostname = env("hostname");
	l->siaddr = env("siaddr");
	l->serverid = env("serverid");
	l->rootpath = env("rootpath");
	l->boot_file = env("boot_file");
	l->lease = env("lease");
	l->search = env("search");
	l->ip6 = env("ip6");
	l->router6 = env("router6");
}

/* A control character would start a line of its own in the file (a
 * server's newline), which line readers such as net_conf take for a key:
 * it is written as '?'. */
static void put_value(FILE *f, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fputc((unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i], f);
}

void conf_kv(FILE *f, const char *name, const char *value)
{
	const char *q;

	fprintf(f, "%s='", name);
	while ((q = strchr(value, '\'')) != NULL) {
		put_value(f, value, (size_t)(q - value));
		fputs("'\\''", f);
		value = q + 1;
	}
	put_value(f, value, strlen(value));
	fputs("'\n", f);
}

int conf_word(const char *s, int n, char *buf, size_t sz)
{
	size_t len;

	buf[0] = '\0';
	for (;;) {
		s += strspn(s, BLANKS);
		len = strcspn(s, BLANKS);
		if (!len)
			return 0;
		if (!n--)
			break;
		s += len;
	}
	if (len >= sz)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 1;
}

/* ip6 "ADDRESS/LEN": the address, then the length ("" without one). */
static void put_ip6(FILE *f, const char *ip6)
{
	const char *slash = strrchr(ip6, '/');
	char addr[64] = "";
	size_t n = slash ? (size_t)(slash - ip6) : strlen(ip6);

	if (n < sizeof(addr)) {
		memcpy(addr, ip6, n);
		addr[n] = '\0';
	}
	conf_kv(f, "IPV6ADDR", addr);
	conf_kv(f, "IPV6PREFIXLEN", slash ? slash + 1 : "");
}

void conf_write(FILE *f, const struct lease *l, const char *proto)
{
	char dns0[64], dns1[64], gw[64];
	int v4 = l->ip[0] != '\0', v6 = l->ip6[0] != '\0';

	conf_word(l->dns, 0, dns0, sizeof(dns0));
	conf_word(l->dns, 1, dns1, sizeof(dns1));
	conf_word(l->router, 0, gw, sizeof(gw));
	conf_kv(f, "DEVICE", l->interface);
	conf_kv(f, "PROTO", proto);
	conf_kv(f, "IPV4ADDR", l->ip);
	conf_kv(f, "IPV4BROADCAST", l->broadcast);
	conf_kv(f, "IPV4NETMASK", l->subnet);
	conf_kv(f, "IPV4GATEWAY", gw);
	conf_kv(f, "IPV4DNS0", v4 ? dns0 : "");
	conf_kv(f, "IPV4DNS1", v4 ? dns1 : "");
	conf_kv(f, "HOSTNAME", l->hostname);
	conf_kv(f, "DNSDOMAIN", l->domain);
	conf_kv(f, "ROOTSERVER", l->siaddr[0] ? l->siaddr : l->serverid);
	conf_kv(f, "ROOTPATH", l->rootpath);
	conf_kv(f, "filename", l->boot_file);
	conf_kv(f, "DHCPLEASETIME", l->lease);
	conf_kv(f, "DOMAINSEARCH", l->search);
	put_ip6(f, l->ip6);
	conf_kv(f, "IPV6GATEWAY", l->router6);
	conf_kv(f, "IPV6DNS0", v6 ? dns0 : "");
	conf_kv(f, "IPV6DNS1", v6 ? dns1 : "");
}

/* s is non-empty and holds only characters from chars. */
static int made_of(const char *s, size_t len, const char *chars)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(chars, s[i]))
			return 0;
	return len > 0;
}

#define DIGITS		"0123456789"
#define HEX		DIGITS "abcdefABCDEF"
#define NAME_CHARS	DIGITS "abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_"
#define MAX_NS		63	/* longer than any address written out */

void conf_resolv(FILE *f, const struct lease *l)
{
	const char *s = l->dns;
	size_t len;

	if (made_of(l->domain, strlen(l->domain), NAME_CHARS))
		fprintf(f, "search %s\n", l->domain);
	for (;; s += len) {
		s += strspn(s, BLANKS);
		len = strcspn(s, BLANKS);
		if (!len)
			break;
		if (len <= MAX_NS && made_of(s, len, HEX ".:"))
			fprintf(f, "nameserver %.*s\n", (int)len, s);
	}
}
