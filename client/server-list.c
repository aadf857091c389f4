// SPDX-License-Identifier: GPL-2.0
/*
 * The server list "h1,h2@port,[v6]@port" of the command line, in failover
 * order: how many servers it names, the host and port of one, a socket to
 * one, and a session with one (a socket through negotiation, ready for the
 * kernel), for the first attach and for reconnect.c alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbd-client.h"

/*
 * The idx-th server of "a,b@port,[v6]@port": its host in buf and its port
 * (the list's default unless "@PORT" follows the host, as in nbd-server's
 * ip@port). 0, or -1 past the end or for a malformed entry.
 */
int server_list_entry(const char *hosts, int idx, uint16_t defport,
		      char *buf, size_t len, uint16_t *port)
{
	const char *p = hosts, *end, *at;
	unsigned long v;
	size_t n;
	int k;

	for (k = 0; k < idx; k++) {
		p = strchr(p, ',');
		if (!p)
			return client_error("the server list \"%s\" has no server %d",
					    hosts, idx + 1);
		p++;
	}
	end = strchr(p, ',');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n == 0)
		return client_error("server %d of \"%s\" is empty", idx + 1,
				    hosts);
	if (n >= len)
		return client_error("server %d of \"%s\" is too long (%zu > %zu)",
				    idx + 1, hosts, n, len - 1);
	memcpy(buf, p, n);
	buf[n] = '\0';
	*port = defport;
	at = strrchr(buf, '@');
	if (!at)
		return 0;
	if (at == buf)
		return client_error("server %d of \"%s\" has no host before '@'",
				    idx + 1, hosts);
	v = strtoul(at + 1, (char **)&end, 10);
	if (at[1] < '0' || at[1] > '9' || *end || v == 0 || v > 65535)
		return client_error("server %d of \"%s\": port \"%s\" is not a number from 1 to 65535",
				    idx + 1, hosts, at + 1);
	*port = (uint16_t)v;
	buf[at - buf] = '\0';
	return 0;
}

/* The k-th server tried in a pass of n that starts at server start. */
int server_list_nth(int n, int start, int k)
{
	return (start + k) % n;
}

int server_list_count(const char *hosts)
{
	int n = 1;

	for (; *hosts; hosts++)
		n += *hosts == ',';
	return n;
}

/* A connected socket to the idx-th server (or -u's socket); peer names it. */
int server_list_connect(const struct client_opts *o, int idx, char *peer,
			size_t peerlen)
{
	char host[256];
	uint16_t port;

	if (o->unix_path) {
		snprintf(peer, peerlen, "%s", o->unix_path);
		return connect_unix(o->unix_path);
	}
	if (server_list_entry(o->hosts, idx, o->port, host, sizeof(host),
			      &port) < 0)
		return -1;
	return connect_server(host, port, peer, peerlen);
}

/*
 * A session with the idx-th server: a socket through negotiation, or -1
 * with the reason. Every socket the kernel gets comes from here, at the
 * first attach and at each reconnection: the place for STARTTLS.
 */
static int open_named(const struct client_opts *o, int idx, const char *name,
		      struct export_info *e)
{
	char peer[300];
	int fd = server_list_connect(o, idx, peer, sizeof(peer));

	if (fd < 0)
		return -1;
	if (negotiate_export(fd, peer, name, o->no_optgo, o->psk, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int server_list_open(const struct client_opts *o, int idx,
		     struct export_info *e)
{
	return open_named(o, idx, o->name, e);
}

/*
 * A session for a reconnect: by the canonical name the first GO gave
 * (had->canon), so that a server whose image was replaced hands back the
 * generation under our filesystem, or refuses; by the name we were given
 * when the server named none.
 */
int server_list_reopen(const struct client_opts *o, int idx,
		       const struct export_info *had, struct export_info *now)
{
	char why[300];
	int fd;

	if (!had->canon[0])
		return open_named(o, idx, o->name, now);
	fd = open_named(o, idx, had->canon, now);
	if (fd >= 0 || !strstr(client_last_error(), "has no export"))
		return fd;
	snprintf(why, sizeof(why), "%s", client_last_error());
	return client_error("%s: the image this device was attached to is gone from the server; waiting for it, never attaching another",
			    why);
}
