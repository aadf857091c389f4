// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer over what nbdroot-dhcp-event writes from a DHCP server's
 * values (initramfs/dhcp-event/conf.c). The input is the lease's fields,
 * separated by NUL bytes. Checked on every input:
 * - net-LINK.conf is one NAME='...' line per key, in order, and each
 *   value reads back (sh's quoting undone: '\'' is ') as the field with
 *   its control characters as '?', or for the keys made from fields, as
 *   a model here makes them (the Nth word, the IPv6 address's parts);
 * - resolv.conf holds only "search NAME" and "nameserver ADDRESS" lines
 *   of name and address characters.
 * A difference aborts, which libFuzzer reports with the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define NFIELDS	17

static const char *const keys[] = {
	"DEVICE", "PROTO", "IPV4ADDR", "IPV4BROADCAST", "IPV4NETMASK",
	"IPV4GATEWAY", "IPV4DNS0", "IPV4DNS1", "HOSTNAME", "DNSDOMAIN",
	"ROOTSERVER", "ROOTPATH", "filename", "DHCPLEASETIME",
	"DOMAINSEARCH", "IPV6ADDR", "IPV6PREFIXLEN", "IPV6GATEWAY",
	"IPV6DNS0", "IPV6DNS1",
};

/* The value as written: control characters as '?'. */
static char *as_written(const char *v)
{
	char *w = strdup(v), *p;

	for (p = w; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return w;
}

/*
 * One line of the file at *pos: NAME='...' with '\'' inside; the value
 * undone into out (as long as the line). Aborts on any other shape.
 */
static void read_line(const char **pos, const char *key, char *out)
{
	const char *p = *pos, *end = strchr(p, '\n');
	size_t k = strlen(key), n = 0;

	if (!end || strncmp(p, key, k) || p[k] != '=' || p[k + 1] != '\'')
		abort();
	for (p += k + 2; p < end; p++) {
		if (*p != '\'') {
			out[n++] = *p;
			continue;
		}
		if (p + 1 == end)
			break;		/* the closing quote */
		if (strncmp(p, "'\\''", 4))
			abort();	/* a quote that ends the string early */
		out[n++] = '\'';
		p += 3;
	}
	if (p != end - 1 || *p != '\'')
		abort();
	out[n] = '\0';
	*pos = end + 1;
}

static void check_value(const char *got, const char *field)
{
	char *want = as_written(field);

	if (strcmp(got, want))
		abort();
	free(want);
}

/* The field a key holds as it is, or NULL for a key made from fields. */
static const char *field_of(const struct lease *l, const char *key)
{
	const struct { const char *key, *v; } direct[] = {
		{ "DEVICE", l->interface }, { "IPV4ADDR", l->ip },
		{ "IPV4BROADCAST", l->broadcast }, { "IPV4NETMASK", l->subnet },
		{ "HOSTNAME", l->hostname }, { "DNSDOMAIN", l->domain },
		{ "ROOTPATH", l->rootpath }, { "filename", l->boot_file },
		{ "DHCPLEASETIME", l->lease }, { "DOMAINSEARCH", l->search },
		{ "IPV6GATEWAY", l->router6 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (!strcmp(direct[i].key, key))
			return direct[i].v;
	return NULL;
}

/* The model of a made key: the Nth blank-separated word of s when it is
 * shorter than 64 bytes, else "". */
static void nth_word(const char *s, int n, char *out)
{
	char *copy = strdup(s), *save = NULL, *w;

	out[0] = '\0';
	for (w = strtok_r(copy, " \t\n", &save); w && n > 0; n--)
		w = strtok_r(NULL, " \t\n", &save);
	if (w && strlen(w) < 64)
		strcpy(out, w);
	free(copy);
}

/* What a made key holds for l, into want (as long as the input). */
static int made_key(const struct lease *l, const char *key, char *want)
{
	const char *slash = strrchr(l->ip6, '/');
	int v4 = l->ip[0] != '\0', v6 = l->ip6[0] != '\0';

	want[0] = '\0';
	if (!strcmp(key, "IPV4GATEWAY"))
		nth_word(l->router, 0, want);
	else if (!strcmp(key, "IPV4DNS0") && v4)
		nth_word(l->dns, 0, want);
	else if (!strcmp(key, "IPV4DNS1") && v4)
		nth_word(l->dns, 1, want);
	else if (!strcmp(key, "IPV6DNS0") && v6)
		nth_word(l->dns, 0, want);
	else if (!strcmp(key, "IPV6DNS1") && v6)
		nth_word(l->dns, 1, want);
	else if (!strcmp(key, "ROOTSERVER"))
		strcpy(want, l->siaddr[0] ? l->siaddr : l->serverid);
	else if (!strcmp(key, "IPV6PREFIXLEN") && slash)
		strcpy(want, slash + 1);
	else if (!strcmp(key, "IPV6ADDR")) {
		size_t n = slash ? (size_t)(slash - l->ip6) : strlen(l->ip6);

		if (n < 64) {
			memcpy(want, l->ip6, n);
			want[n] = '\0';
		}
	} else if (!strcmp(key, "PROTO"))
		strcpy(want, "dhcp");
	return 0;
}

static void check_conf(const struct lease *l, const char *text)
{
	const char *pos = text, *field, *c;
	char *v = malloc(strlen(text) + 1), *want = malloc(strlen(text) + 1);
	unsigned int i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		read_line(&pos, keys[i], v);
		field = field_of(l, keys[i]);
		if (!field)
			made_key(l, keys[i], want);
		check_value(v, field ? field : want);
		for (c = v; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
	}
	if (*pos)
		abort();	/* a line after the last key */
	free(want);
	free(v);
}

static void check_resolv(const char *text)
{
	const char *line = text, *end, *arg, *ok;

	for (; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			abort();
		if (!strncmp(line, "search ", 7)) {
			arg = line + 7;
			ok = "0123456789abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_";
		} else if (!strncmp(line, "nameserver ", 11)) {
			arg = line + 11;
			ok = "0123456789abcdefABCDEF.:";
		} else {
			abort();
		}
		if (arg == end)
			abort();
		for (; arg < end; arg++)
			if (!strchr(ok, *arg))
				abort();
	}
}

/* The fields of the input, NUL-separated, into l (owned by buf). */
static void split(char *buf, size_t n, struct lease *l)
{
	const char **f[NFIELDS] = {
		&l->interface, &l->ip, &l->mask, &l->subnet, &l->broadcast,
		&l->router, &l->dns, &l->domain, &l->hostname, &l->siaddr,
		&l->serverid, &l->rootpath, &l->boot_file, &l->lease,
		&l->search, &l->ip6, &l->router6,
	};
	size_t i, at = 0;

	for (i = 0; i < NFIELDS; i++) {
		*f[i] = at < n ? buf + at : "";
		at += at < n ? strlen(buf + at) + 1 : 0;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *buf = malloc(size + 1), *text = NULL;
	size_t len = 0;
	struct lease l;
	FILE *f;

	memcpy(buf, data, size);
	buf[size] = '\0';
	split(buf, size, &l);
	f = open_memstream(&text, &len);
	conf_write(f, &l, "dhcp");
	fclose(f);
	check_conf(&l, text);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	conf_resolv(f, &l);
	fclose(f);
	check_resolv(text);
	free(text);
	free(buf);
	return 0;
}
