// SPDX-License-Identifier: GPL-2.0
/*
 * Pre-forked children ([generic] prefork = N): N children wait for
 * clients before any comes, each takes one connection and serves it as
 * a child forked after accept would. When a room boots at once, the
 * forks were done while the server was idle, so 200 connections wait
 * for nothing but their negotiations (at N = 200 under a storm: the
 * slowest connect 28 to 33 ms against 54 to 60 forking after accept).
 *
 * An idle child waits in ppoll() on the listening sockets, which are
 * non-blocking so that a child woken for a connection another took
 * goes back to waiting, and on the read end of a "hold" pipe whose
 * write end only the master has: when the master closes it (SIGHUP's
 * new configuration, SIGTERM), every idle child exits. A child that
 * takes a connection writes its pid to the "report" pipe (one write of
 * a pid_t, atomic under PIPE_BUF) and the master forks a new one. The
 * pool never holds more children than maxconnections leaves room for,
 * so a connection an idle child takes is within the limit; when the
 * pool is empty, the master accepts as it does without a pool (and
 * refuses over maxconnections). The master still reads nothing from a
 * client.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* 0, or -1 with errno: the pipes and non-blocking listening sockets. */
int pool_open(struct daemon *d)
{
	struct pool *p = &d->pool;
	int i, fl;

	p->report[0] = p->report[1] = p->hold[0] = p->hold[1] = -1;
	p->nidle = 0;
	if (d->nofork || !d->cfg->prefork)
		return 0;
	p->idle = calloc(d->cfg->prefork, sizeof(*p->idle));
	if (!p->idle)
		return -1;
	if (pipe2(p->report, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(p->hold, O_CLOEXEC) < 0)
		goto out_close;
	for (i = 0; i < d->l.nfds; i++) {
		fl = fcntl(d->l.fds[i], F_GETFL);
		if (fl < 0 || fcntl(d->l.fds[i], F_SETFL, fl | O_NONBLOCK) < 0)
			goto out_close;
	}
	return 0;

out_close:
	close_pair(p->report);
	close_pair(p->hold);
	free(p->idle);
	p->idle = NULL;
	return -1;
}

/* Whether the pool is in use (prefork set, its pipes open). */
bool pool_active(const struct daemon *d)
{
	return d->pool.idle != NULL;
}

/* Waits for a connection; never returns to the master's code. */
static void idle_child(struct daemon *d, const sigset_t *orig)
{
	static const struct timespec backoff = { .tv_nsec = 100000000 };
	struct pollfd pfd[17];
	int hold = d->pool.hold[0], report = d->pool.report[1];
	pid_t me = getpid();
	int i, n = d->l.nfds, fd;

	close(d->pool.report[0]);
	close(d->pool.hold[1]);
	signal(SIGHUP, SIG_IGN);
	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = d->l.fds[i], .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = hold, .events = POLLIN };
	for (;;) {
		/* SIGTERM (on_stop) may end the wait: then it ends the child */
		if (ppoll(pfd, (nfds_t)n + 1, NULL, orig) < 0 &&
		    errno != EINTR)
			_exit(1);
		if (srv_stopping || pfd[n].revents)
			_exit(0);
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				goto took;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				nanosleep(&backoff, NULL);
		}
	}
took:
	/* the master forks the next one; a short write cannot happen */
	if (write(report, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(report);
	close(hold);
	daemon_tune_socket(d->cfg, fd);
	daemon_child(d, fd, orig);
}

/* How many idle children now: prefork, within maxconnections. */
static size_t pool_want(const struct daemon *d)
{
	size_t busy = d->npids - d->pool.nidle, want = d->cfg->prefork;
	unsigned max = d->cfg->maxconn;

	if (max && busy + want > max)
		want = busy < max ? max - busy : 0;
	return want;
}

/* Forks idle children up to pool_want(). */
void pool_fill(struct daemon *d, const sigset_t *orig)
{
	struct pool *p = &d->pool;
	pid_t pid;

	while (pool_active(d) && p->nidle < pool_want(d)) {
		pid = fork();
		if (pid == 0)
			idle_child(d, orig);
		if (pid < 0) {
			srv_log("prefork: fork: %s", strerror(errno));
			return;
		}
		if (daemon_track(d, pid) < 0) {
			srv_log("out of memory tracking child %d", (int)pid);
			kill(pid, SIGKILL);
			return;
		}
		p->idle[p->nidle++] = pid;
	}
}

/* PID is no longer idle: it took a client, or it is gone. */
void pool_forget(struct daemon *d, pid_t pid)
{
	struct pool *p = &d->pool;
	size_t i;

	for (i = 0; i < p->nidle; i++) {
		if (p->idle[i] == pid) {
			p->idle[i] = p->idle[--p->nidle];
			return;
		}
	}
}

/* The report pipe's fd for the master's poll; -1 without a pool. */
int pool_report_fd(const struct daemon *d)
{
	return pool_active(d) ? d->pool.report[0] : -1;
}

/* The children that took a client since the last call. */
void pool_read_reports(struct daemon *d)
{
	pid_t pids[64];
	ssize_t n;
	size_t i;

	while ((n = read(d->pool.report[0], pids, sizeof(pids))) > 0)
		for (i = 0; i < (size_t)n / sizeof(pid_t); i++)
			pool_forget(d, pids[i]);
}

/*
 * Every idle child exits (it sees the hold pipe close); the listening
 * sockets block again. The children serving clients are left to the
 * caller.
 */
void pool_close(struct daemon *d)
{
	struct pool *p = &d->pool;
	int i, fl;

	if (!pool_active(d))
		return;
	close_pair(p->hold);
	close_pair(p->report);
	free(p->idle);
	p->idle = NULL;
	p->nidle = 0;
	for (i = 0; i < d->l.nfds; i++) {
		fl = fcntl(d->l.fds[i], F_GETFL);
		if (fl >= 0)
			fcntl(d->l.fds[i], F_SETFL, fl & ~O_NONBLOCK);
	}
}
