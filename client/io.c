// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking-socket transfers with a deadline: the socket keeps no
 * SO_RCVTIMEO, because nbd.ko would inherit it and drop the connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/times.h>
#include <unistd.h>

#include "nbd-client.h"

/*
 * Milliseconds on a clock that never steps: klibc has no clock_gettime(),
 * but times() counts USER_HZ ticks since boot, and USER_HZ is 100 on every
 * architecture's syscall ABI.
 */
int client_timeout = CLIENT_CONNECT_TIMEOUT;

long long now_ms(void)
{
	return (long long)(unsigned long)times(NULL) * 10;
}

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left = deadline - now_ms();
	int r;

	if (left <= 0)
		return errno = ETIMEDOUT, -1;
	do
		r = poll(&p, 1, (int)left);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return errno = ETIMEDOUT, -1;
	return r < 0 ? -1 : 0;
}

/*
 * Moves exactly len bytes in one direction. Returns 0, or -1 with errno
 * (0 when the peer closed the connection).
 */
static int transfer(int fd, unsigned char *p, size_t len, long long deadline,
		    int out)
{
	ssize_t n;

	while (len) {
		if (wait_fd(fd, out ? POLLOUT : POLLIN, deadline) < 0)
			return -1;
		n = out ? write(fd, p, len) : read(fd, p, len);
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

int read_full(int fd, void *buf, size_t len, long long deadline)
{
	return transfer(fd, buf, len, deadline, 0);
}

int write_full(int fd, const void *buf, size_t len, long long deadline)
{
	/* transfer() does not write through p when out is set */
	return transfer(fd, (unsigned char *)(uintptr_t)buf, len, deadline, 1);
}
