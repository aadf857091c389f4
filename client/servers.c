// SPDX-License-Identifier: GPL-2.0
/*
 * The server list "h1,h2,...": a connection is a TCP socket that has been
 * through negotiation. Used for the first attach and for reconnecting.
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
int nth_server(const char *hosts, int idx, uint16_t defport, char *buf,
	       size_t len, uint16_t *port)
{
	const char *p = hosts, *end, *at;
	unsigned long v;
	size_t n;

	while (idx-- > 0) {
		p = strchr(p, ',');
		if (!p)
			return -1;
		p++;
	}
	end = strchr(p, ',');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*port = defport;
	at = strrchr(buf, '@');
	if (!at)
		return 0;
	v = strtoul(at + 1, (char **)&end, 10);
	if (at == buf || !at[1] || *end || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	buf[at - buf] = '\0';
	return 0;
}

int count_hosts(const char *hosts)
{
	int n = 1;

	for (; *hosts; hosts++)
		n += *hosts == ',';
	return n;
}

/* A connected socket to the idx-th server (or -u's socket); peer names it. */
int connect_nth(const struct client_opts *o, int idx, char *peer,
		size_t peerlen)
{
	char host[256];
	uint16_t port;

	if (o->unix_path) {
		snprintf(peer, peerlen, "%s", o->unix_path);
		return connect_unix(o->unix_path);
	}
	if (nth_server(o->hosts, idx, o->port, host, sizeof(host), &port) < 0)
		return client_error("server %d of \"%s\" is malformed",
				    idx + 1, o->hosts);
	return connect_server(host, port, peer, peerlen);
}

/* A negotiated socket to the idx-th server, or -1 with the reason. */
int open_one(int idx, const struct client_opts *o, struct export_info *e)
{
	char peer[300];
	int fd = connect_nth(o, idx, peer, sizeof(peer));

	if (fd < 0)
		return -1;
	if (negotiate_export(fd, peer, o->name, o->no_optgo, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One pass over the server list for a reconnection, starting with the
 * server at *host: a negotiated socket to the same export with the same
 * size (a server whose export changed size is refused: the filesystem on
 * it is not ours any more). Sets *host to the server that answered.
 */
int reopen_export(const struct client_opts *o, const struct export_info *e,
		  int *host, int quiet)
{
	int n = count_hosts(o->hosts), k;
	struct export_info now;

	for (k = 0; k < n; k++) {
		int idx = (*host + k) % n, fd;

		fd = open_one(idx, o, &now);
		if (fd < 0) {
			if (!quiet)
				client_log(o->device, "reconnect: %s",
					   client_last_error());
			continue;
		}
		if (now.size != e->size) {
			client_log(o->device, "reconnect: refusing server %d: export size is now %llu, was %llu",
				   idx + 1, (unsigned long long)now.size,
				   (unsigned long long)e->size);
			close(fd);
			continue;
		}
		*host = idx;
		return fd;
	}
	return -1;
}

/* Sleeps *delay_ms, then doubles it up to 5 s. */
void backoff_sleep(int *delay_ms)
{
	usleep((unsigned int)*delay_ms * 1000u);
	*delay_ms = *delay_ms * 2 > 5000 ? 5000 : *delay_ms * 2;
}
