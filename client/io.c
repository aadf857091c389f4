// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking-socket transfers with a deadline: the socket keeps no
 * SO_RCVTIMEO, because nbd.ko would inherit it and drop the connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nbd-client.h"

int client_timeout = CLIENT_CONNECT_TIMEOUT;
int client_dead_peer_ms;

/*
 * One write that never blocks on a socket: a blocking write() of more
 * than the send buffer holds waits for the peer to read, past any
 * deadline (a server that stops reading would hold the client forever).
 * Not a socket (a test's pipe): write().
 */
static ssize_t write_some(int fd, const unsigned char *p, size_t len)
{
	ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, p, len);
	return n;
}

/*
 * Moves exactly len bytes in one direction. Returns 0, or -1 with errno
 * (0 when the peer closed the connection; ETIMEDOUT at the deadline).
 */
static int transfer(int fd, unsigned char *p, size_t len,
		    const struct deadline *d, int out)
{
	ssize_t n;

	while (len) {
		if (deadline_poll(fd, out ? POLLOUT : POLLIN, d) < 0)
			return -1;
		n = out ? write_some(fd, p, len) : read(fd, p, len);
		if (n == 0 && !out)
			return errno = 0, -1;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_exact(int fd, void *buf, size_t len, const struct deadline *d)
{
	return transfer(fd, buf, len, d, 0);
}

int write_exact(int fd, const void *buf, size_t len, const struct deadline *d)
{
	/* transfer() does not write through p when out is set */
	return transfer(fd, (unsigned char *)(uintptr_t)buf, len, d, 1);
}
