// SPDX-License-Identifier: GPL-2.0
/*
 * TCP connection to one server, bounded by the client's timeout. Hosts are
 * IPv4 literals, bracketed IPv6 literals, or names (resolve.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "nbd-client.h"

static int parse_address(const char *host, uint16_t port,
			 union sockaddr_any *sa, socklen_t *len)
{
	char buf[64];
	size_t n = strlen(host);

	memset(sa, 0, sizeof(*sa));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return client_error("IPv6 address too long: %s (%zu > %zu)",
					    host, n - 2, sizeof(buf) - 1);
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (addr_parse(host, sa) < 0) {
		if (host == buf)
			return client_error("[%s]: not an IPv6 address", host);
		if (resolve_host(host, sa) < 0)
			return -1;
	}
	*len = addr_set_port(sa, port);
	return 0;
}

static int wait_connected(int fd, const struct deadline *d)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (deadline_poll(fd, POLLOUT, d) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err)
		return errno = err, -1;
	return 0;
}

/* A connect() bounded by d: non-blocking for it, blocking again after. */
static int connect_by(int fd, const union sockaddr_any *sa, socklen_t salen,
		      const char *peer, const struct deadline *d)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return client_error("connect to %s: making the socket non-blocking: %s",
				    peer, strerror(errno));
	if (connect(fd, &sa->sa, salen) < 0 &&
	    (errno != EINPROGRESS || wait_connected(fd, d) < 0))
		return client_error("connect to %s: %s", peer, strerror(errno));
	if (fcntl(fd, F_SETFL, flags) < 0)
		return client_error("connect to %s: making the socket blocking again: %s",
				    peer, strerror(errno));
	return 0;
}

/*
 * Returns a connected blocking socket, or -1. "peer" receives "host:port"
 * for messages. The connect timeout starts once the name is resolved: the
 * resolver bounds its own waits.
 */
/*
 * A peer that stops acknowledging for ms (sent data unacknowledged, or
 * an idle connection's keepalive probes unanswered) ends the connection,
 * so the kernel sees it dead without a request timeout; a server that
 * is merely slow to reply still acknowledges and is left alone. Best
 * effort: without these TCP gives up after minutes.
 */
static void set_dead_peer(int fd, int ms)
{
	int idle = ms / 3000 > 0 ? ms / 3000 : 1, cnt = 2;

	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int connect_server(const char *host, uint16_t port, char *peer,
		   size_t peerlen)
{
	union sockaddr_any sa;
	socklen_t salen = 0;
	struct deadline d;
	int fd, one = 1;

	snprintf(peer, peerlen, "%s:%u", host, (unsigned)port);
	if (parse_address(host, port, &sa, &salen) < 0)
		return -1;
	deadline_start(&d, client_timeout * 1000LL);
	fd = socket(sa.sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
	if (fd < 0)
		return client_error("socket: %s", strerror(errno));
	if (connect_by(fd, &sa, salen, peer, &d) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (client_dead_peer_ms)
		set_dead_peer(fd, client_dead_peer_ms);
	return fd;
}

/* -u: the server's Unix socket; no timeout is needed to connect it. */
int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return client_error("%s: socket path too long (%zu > %zu)",
				    path, strlen(path), sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return client_error("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		client_error("connect to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
