// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded waits. A deadline is a point on a clock that never steps, and
 * each decision about it (is time left, how long may poll() wait) reads
 * that clock once: with two readings, a tick between them turns "a little
 * time left" into a negative poll() timeout, and poll() then waits forever.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/times.h>

#include "nbd-client.h"

/*
 * klibc has no clock_gettime(), but times() counts USER_HZ ticks since
 * boot, and USER_HZ is 100 on every architecture's syscall ABI.
 */
long long uptime_ms(void)
{
	return (long long)(unsigned long)times(NULL) * 10;
}

void deadline_start(struct deadline *d, long long ms)
{
	d->end_ms = uptime_ms() + ms;
}

/* Milliseconds left: 0 once the deadline has passed, never negative. */
int deadline_left_ms(const struct deadline *d)
{
	long long left = d->end_ms - uptime_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Waits until fd is ready for events: 0, or -1 with errno (ETIMEDOUT once
 * the deadline has passed, even if it passed before the call).
 */
int deadline_poll(int fd, short events, const struct deadline *d)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left, r;

	do {
		left = deadline_left_ms(d);
		if (left == 0)
			return errno = ETIMEDOUT, -1;
		r = poll(&p, 1, left);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return errno = ETIMEDOUT, -1;
	return r < 0 ? -1 : 0;
}
