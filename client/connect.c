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
			return client_error("IPv6 address too long: %s", host);
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

static int wait_connected(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0, r;
	socklen_t len = sizeof(err);

	do
		r = poll(&p, 1, (int)(deadline - now_ms()));
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return errno = ETIMEDOUT, -1;
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err)
		return errno = err, -1;
	return 0;
}

/*
 * Returns a connected blocking socket, or -1. "peer" receives "host:port"
 * for messages.
 */
int connect_server(const char *host, uint16_t port, char *peer,
		   size_t peerlen)
{
	union sockaddr_any sa;
	socklen_t salen = 0;
	int fd, one = 1, flags;
	long long deadline = now_ms() + client_timeout * 1000;

	snprintf(peer, peerlen, "%s:%u", host, (unsigned)port);
	if (parse_address(host, port, &sa, &salen) < 0)
		return -1;
	fd = socket(sa.sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
	if (fd < 0)
		return client_error("socket: %s", strerror(errno));
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, &sa.sa, salen) < 0 &&
	    (errno != EINPROGRESS || wait_connected(fd, deadline) < 0))
		goto out_close;
	fcntl(fd, F_SETFL, flags);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return fd;

out_close:
	client_error("connect to %s: %s", peer, strerror(errno));
	close(fd);
	return -1;
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
