/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sockets on 127.0.0.1 for the client's unit tests, which talk to no
 * other address.
 */
#ifndef NBDROOT_LOOPBACK_H
#define NBDROOT_LOOPBACK_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

/*
 * A socket of type bound to a free port of 127.0.0.1, listening with
 * backlog when it is a stream socket; exits 2 when it cannot.
 */
static inline int loopback_socket(int type, int backlog, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("127.0.0.1");
		exit(2);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port of 127.0.0.1 where no one listens: connections are refused. */
static inline uint16_t loopback_dead_port(int type)
{
	uint16_t port;

	close(loopback_socket(type, 0, &port));
	return port;
}

#endif
