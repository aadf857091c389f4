// SPDX-License-Identifier: GPL-2.0
/*
 * Listening sockets: bound here, or inherited through LISTEN_FDS. The
 * privilege drop that follows binding is in privdrop.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

#define SD_LISTEN_FDS_START 3

/*
 * The accept queue as long as the kernel allows (net.core.somaxconn).
 * When a room of clients connects at once, a short queue overflows; NBD
 * is server-speaks-first, so a client whose handshake the kernel
 * completed (or admitted with a SYN cookie) and then dropped from the
 * full queue waits for a greeting that never comes (issue 15: with 128,
 * 394 of 1000 clients connecting at once waited forever).
 */
static int listen_backlog(void)
{
	char buf[16];
	ssize_t n;
	long v;
	int fd;

	fd = open("/proc/sys/net/core/somaxconn", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SOMAXCONN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return SOMAXCONN;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v <= 65535 ? (int)v : SOMAXCONN;
}

static int bind_one(const struct addrinfo *ai, char *why, size_t whylen,
		    const char *shown)
{
	int fd, one = 1, zero = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		snprintf(why, whylen, "socket %s: %s", shown, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "Every address" is one dual-stack socket where the host has IPv6. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, listen_backlog()) < 0) {
		snprintf(why, whylen, "bind %s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_family(struct listener *l, const char *addr,
			 const char *port, int family, char *why,
			 size_t whylen)
{
	struct addrinfo hints = {
		.ai_family = family, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	}, *res, *ai;
	char shown[300];
	int r, fd;

	l->nfds = 0;
	snprintf(shown, sizeof(shown), "%s:%s", addr ? addr : "*", port);
	r = getaddrinfo(addr, port, &hints, &res);
	if (r != 0) {
		snprintf(why, whylen, "address %s: %s", shown, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && l->nfds < 16; ai = ai->ai_next) {
		fd = bind_one(ai, why, whylen, shown);
		if (fd < 0) {
			while (l->nfds > 0)
				close(l->fds[--l->nfds]);
			break;
		}
		l->fds[l->nfds++] = fd;
	}
	freeaddrinfo(res);
	return l->nfds > 0 ? 0 : -1;
}

/*
 * Binds addr on port; NULL means every address: one dual-stack IPv6
 * socket, or IPv4 only on a host without IPv6. 0, or -1 with why such as
 * "bind 127.0.0.1:10809: Address already in use".
 */
int listen_open(struct listener *l, const char *addr, const char *port,
		char *why, size_t whylen)
{
	if (addr)
		return listen_family(l, addr, port, AF_UNSPEC, why, whylen);
	if (listen_family(l, NULL, port, AF_INET6, why, whylen) == 0)
		return 0;
	return listen_family(l, NULL, port, AF_INET, why, whylen);
}

/* A whole decimal number: 0, or -1 for garbage ("12x", "") or overflow. */
static int parse_int(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (end == s || *end || errno) ? -1 : 0;
}

/*
 * Socket activation (sd_listen_fds(3) protocol): LISTEN_PID must be us.
 * Returns the number of sockets taken over (0: not activated), or -1 with
 * why when the inherited descriptors are not listening sockets.
 */
int listen_from_env(struct listener *l, char *why, size_t whylen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;
	int i, fd, on;
	socklen_t len;

	l->nfds = 0;
	if (!pid || !fds)
		return 0;
	if (parse_int(pid, &n) < 0) {
		snprintf(why, whylen, "LISTEN_PID=%.40s: not a number", pid);
		return -1;
	}
	if (n != (long)getpid())
		return 0;
	if (parse_int(fds, &n) < 0 || n <= 0 || n > 16) {
		snprintf(why, whylen, "LISTEN_FDS=%.40s: expected 1 to 16", fds);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		len = sizeof(on);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 ||
		    !on) {
			snprintf(why, whylen, "LISTEN_FDS: fd %d is not a listening socket",
				 fd);
			return -1;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		l->fds[l->nfds++] = fd;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return l->nfds;
}
