// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-message reads and writes on a client's descriptors, with an
 * optional deadline so that a client that stops talking during the
 * handshake cannot hold a child forever (qemu CVE-2024-7409).
 *
 * The descriptors may be sockets, pipes or regular files (stdin mode, unit
 * tests, the fuzzer), so this uses read/write, never recv/send.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

/* Set by SIGTERM: a read that has not started a message gives up. */
volatile int srv_stopping;

/*
 * With io_wait_mask() set, SIGTERM is blocked except while waiting for the
 * first byte of a message, so it can neither be lost between a check of
 * srv_stopping and a blocking read, nor cut a message in half.
 */
static sigset_t wait_mask;
static bool have_wait_mask;
static bool ignore_stop;	/* answering one last option after SIGTERM */

void io_ignore_stop(bool on)
{
	ignore_stop = on;
}

void io_wait_mask(const sigset_t *unblocked)
{
	wait_mask = *unblocked;
	have_wait_mask = true;
}

/*
 * SIGTERM or SIGINT has arrived, even if it is still blocked (pending):
 * a busy connection then learns of it before reading more.
 */
bool io_stopping(void)
{
	sigset_t set;

	if (!srv_stopping && have_wait_mask && sigpending(&set) == 0 &&
	    (sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1))
		srv_stopping = 1;
	return srv_stopping && !ignore_stop;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * 0 when fd is ready; -1 with ETIMEDOUT once the deadline has passed, or
 * with EINTR at the start of a message once SIGTERM arrived.
 */
static int wait_ready(int fd, short events, int64_t deadline, bool start)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	const sigset_t *mask = start && have_wait_mask ? &wait_mask : NULL;
	struct timespec ts, *tsp;
	int64_t left;
	int r;

	if (!deadline && !mask)
		return 0;
	for (;;) {
		if (start && srv_stopping && !ignore_stop) {
			errno = EINTR;
			return -1;
		}
		tsp = NULL;
		if (deadline) {
			left = deadline - now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		r = ppoll(&pfd, 1, tsp, mask);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * For a writer that never blocks (GnuTLS's records, tls.c): waits until
 * fd takes more bytes, however long when deadline is 0. 0, or -1 with
 * errno (ETIMEDOUT once the deadline has passed).
 */
int wait_writable(int fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int64_t left = -1;
	int r;

	for (;;) {
		if (deadline) {
			left = deadline - now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Reads n bytes. Returns n, fewer on end of file (0: EOF before the first
 * byte, a clean close between messages), or -1 with errno. SIGTERM makes
 * a read that has nothing yet return -1 with EINTR; a message already
 * started is finished.
 */
ssize_t read_full(int fd, void *buf, size_t n, int64_t deadline)
{
	unsigned char *p = buf;
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		if (wait_ready(fd, POLLIN, deadline, done == 0) < 0)
			return -1;
		r = read(fd, p + done, n - done);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno != EINTR)
			return -1;
		if (srv_stopping && !ignore_stop && done == 0)
			return -1;
	}
	return (ssize_t)done;
}

/*
 * One read of at most n bytes for a buffered reader, waiting as read_full
 * does; start says no message has begun, so SIGTERM may end the wait.
 * Returns what read returned: n or fewer, 0 at EOF, or -1 with errno.
 */
ssize_t read_some(int fd, void *buf, size_t n, bool start)
{
	ssize_t r;

	for (;;) {
		if (wait_ready(fd, POLLIN, 0, start) < 0)
			return -1;
		r = read(fd, buf, n);
		if (r >= 0 || errno != EINTR)
			return r;
		if (start && srv_stopping)
			return -1;
	}
}

static int writev_full(int fd, struct iovec *iov, int cnt, int64_t deadline)
{
	ssize_t r;

	while (cnt > 0) {
		if (wait_ready(fd, POLLOUT, deadline, false) < 0)
			return -1;
		r = writev(fd, iov, cnt);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (cnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Writes all of buf: 0, or -1 with errno. */
int write_full(int fd, const void *buf, size_t n, int64_t deadline)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

	return writev_full(fd, &iov, 1, deadline);
}

/* A header and its payload in one system call where possible. */
int write2_full(int fd, const void *a, size_t alen, const void *b,
		size_t blen, int64_t deadline)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)a, .iov_len = alen },
		{ .iov_base = (void *)b, .iov_len = blen },
	};

	return writev_full(fd, iov, blen ? 2 : 1, deadline);
}

/*
 * The same over a transport: a TLS session's records are read when the
 * socket is ready, or at once when GnuTLS already holds decrypted bytes;
 * the rest of a record that has begun must come before the deadline.
 */
static ssize_t tls_read_once(const struct xport *x, void *buf, size_t n,
			     int64_t deadline, bool start)
{
	int64_t left = 0;

	if (!tls_pending(x->tls) &&
	    wait_ready(x->in, POLLIN, deadline, start) < 0)
		return -1;
	if (deadline) {
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return tls_recv(x->tls, buf, n, left);
}

ssize_t xp_read_full(const struct xport *x, void *buf, size_t n,
		     int64_t deadline)
{
	unsigned char *p = buf;
	size_t done = 0;
	ssize_t r;

	if (!x->tls)
		return read_full(x->in, buf, n, deadline);
	while (done < n) {
		r = tls_read_once(x, p + done, n - done, deadline, done == 0);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t xp_read_some(const struct xport *x, void *buf, size_t n, bool start)
{
	if (!x->tls)
		return read_some(x->in, buf, n, start);
	return tls_read_once(x, buf, n, 0, start);
}

int xp_write_full(const struct xport *x, const void *buf, size_t n,
		  int64_t deadline)
{
	return xp_write2_full(x, buf, n, NULL, 0, deadline);
}

int xp_write2_full(const struct xport *x, const void *a, size_t alen,
		   const void *b, size_t blen, int64_t deadline)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)a, .iov_len = alen },
		{ .iov_base = (void *)b, .iov_len = blen },
	};

	if (!x->tls)
		return writev_full(x->out, iov, blen ? 2 : 1, deadline);
	return tls_send(x->tls, iov, blen ? 2 : 1, deadline);
}

/*
 * All len bytes at off read or written: 0, or -1 with errno (EIO when the
 * file ends first).
 */
static int pio_full(int fd, void *buf, size_t len, uint64_t off, bool wr)
{
	unsigned char *p = buf;
	size_t done = 0;
	ssize_t r;

	while (done < len) {
		if (wr)
			r = pwrite(fd, p + done, len - done, (off_t)(off + done));
		else
			r = pread(fd, p + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return pio_full(fd, buf, len, off, false);
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return pio_full(fd, (void *)buf, len, off, true);
}
