// SPDX-License-Identifier: GPL-2.0
/*
 * Pre-forked children ([generic] prefork = N): N children wait for
 * clients before any comes, each takes one connection and serves it as
 * a child forked after accept would. When a room boots at once, the
 * forks were done while the server was idle, so 200 connections wait
 * for nothing but their negotiations (at N = 200 under a storm: the
 * slowest connect 28 to 33 ms against 54 to 60 forking after accept).
 *
 * An idle child waits in epoll on the listening sockets (EPOLLEXCLUSIVE:
 * a connection wakes one waiter, not all N; the sockets are non-blocking
 * so that one woken for a connection another took waits again) and on
 * the read end of a "hold" pipe whose write end only the master keeps
 * (every other child closes both pipes): when the master closes it
 * (SIGHUP's new configuration, SIGTERM), every idle child exits. A child
 * that takes a connection writes its pid to the "report" pipe (one write
 * of a pid_t, atomic under PIPE_BUF) and the master forks a new one; one
 * that cannot report (the master closed the pipe for a reload) serves
 * its client all the same. The master refills after a lull: only when
 * no child has taken a client for POOL_LULL_MS (or POOL_DEFER_MAX_MS
 * after the first take it has not refilled for), so its forks do not
 * take the core from the negotiations of the clients just taken (one
 * fork is 1.8 ms on the core a lone client's child negotiates on). The
 * pool never holds more children than maxconnections leaves room for,
 * so a connection an idle child takes is within the limit; when the pool is empty, the master accepts as it
 * does without a pool (and refuses over maxconnections). The master
 * still reads nothing from a client.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define POOL_LULL_MS		20	/* no take for this long: refill */
#define POOL_DEFER_MAX_MS	250	/* refill at the latest after */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Says once for each copy-on-write export whose cowdir cannot hold a
 * waiting child's spare files (cow.c) that its new pairs are created as
 * clients connect.
 */
static void check_spares(const struct config *cfg)
{
	const struct export *e;

	if (cfg->tls)
		return;
	for (e = cfg->exports; e; e = e->next)
		if (e->cow && cow_spare_probe(e) < 0)
			srv_log("prefork: export [%s]: no spare files in cowdir %s (%s): a new client's pair is created as it connects",
				e->name, e->cowdir, strerror(errno));
}

/*
 * 0, or -1 with errno: the pipes, and non-blocking listening sockets
 * (they stay so: the master's accept takes EAGAIN as "another took it").
 */
int pool_open(struct daemon *d)
{
	struct pool *p = &d->pool;
	int i;

	p->report[0] = p->report[1] = p->hold[0] = p->hold[1] = -1;
	p->nidle = 0;
	p->defer_since = 0;
	if (d->nofork && d->cfg->prefork)
		srv_log("prefork: not with -d, which serves one client at a time in the server itself");
	if (d->nofork || !d->cfg->prefork)
		return 0;
	p->idle = calloc(d->cfg->prefork, sizeof(*p->idle));
	if (!p->idle)
		return -1;
	if (pipe2(p->report, O_CLOEXEC) < 0 || pipe2(p->hold, O_CLOEXEC) < 0 ||
	    set_nonblock(p->report[0]) < 0)
		goto out_close;
	for (i = 0; i < d->l.nfds; i++)
		if (set_nonblock(d->l.fds[i]) < 0)
			goto out_close;
	check_spares(d->cfg);
	return 0;

out_close:
	pool_child_close(d);
	free(p->idle);
	p->idle = NULL;
	return -1;
}

/* Whether the pool is in use (prefork set, its pipes open). */
bool pool_active(const struct daemon *d)
{
	return d->pool.idle != NULL;
}

/* In every child: the pool's pipes are the master's and idle children's. */
void pool_child_close(struct daemon *d)
{
	close_fd(&d->pool.report[0]);
	close_fd(&d->pool.report[1]);
	close_fd(&d->pool.hold[0]);
	close_fd(&d->pool.hold[1]);
}

/* The idle child's epoll set: listening sockets, hold pipe. -1 or fd. */
static int idle_epoll(const struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int ep, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	for (i = 0; i < d->l.nfds; i++) {
		ev.data.fd = d->l.fds[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, d->l.fds[i], &ev) < 0)
			goto out_close;
	}
	/* not exclusive: its closing must wake every idle child */
	ev = (struct epoll_event){ .events = EPOLLIN,
				   .data.fd = d->pool.hold[0] };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, d->pool.hold[0], &ev) < 0)
		goto out_close;
	return ep;
out_close:
	close(ep);
	return -1;
}

/* Waits for a connection: the accepted socket. Exits when told to. */
static int idle_wait(const struct daemon *d, int ep, const sigset_t *orig)
{
	static const struct timespec backoff = { .tv_nsec = 100000000 };
	struct epoll_event ev[17];
	int n, i, fd;

	for (;;) {
		/* SIGTERM (on_stop) may end the wait: then it ends the child */
		n = epoll_pwait(ep, ev, 17, -1, orig);
		if (n < 0 && errno != EINTR)
			_exit(1);
		if (srv_stopping)
			_exit(0);
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == d->pool.hold[0])
				_exit(0);
			fd = accept4(ev[i].data.fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				return fd;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				nanosleep(&backoff, NULL);
		}
	}
}

/* A child of the pool: waits, takes one client, serves it. */
static __attribute__((noreturn)) void idle_child(struct daemon *d,
						 const sigset_t *orig)
{
	pid_t me = getpid();
	size_t greeted;
	int ep, fd;

	close_fd(&d->pool.report[0]);
	close_fd(&d->pool.hold[1]);
	daemon_child_signals(orig);
	cow_spares_make(d->cfg);
	prefault_child(d->cfg);
	ep = idle_epoll(d);
	if (ep < 0)
		_exit(1);
	fd = idle_wait(d, ep, orig);
	greeted = negotiate_greet_early(fd);
	close(ep);
	/*
	 * The master forks the next one. A report that cannot be written
	 * (the master closed the pipe for a reload) changes nothing for
	 * this client: the master forgets the pid when it reaps it.
	 */
	if (write(d->pool.report[1], &me, sizeof(me)) != sizeof(me))
		srv_log("prefork: child %d could not report its client: %s",
			(int)me, strerror(errno));
	daemon_child_serve(d, fd, greeted);
}

/* Children that serve clients (not idle, not leaving an old pool). */
size_t pool_busy(const struct daemon *d)
{
	return d->npids - d->pool.nidle - d->pool.nleaving;
}

/* How many idle children now: prefork, within maxconnections. */
static size_t pool_want(const struct daemon *d)
{
	size_t busy = pool_busy(d), want = d->cfg->prefork;
	unsigned max = d->cfg->maxconn;

	if (max && busy + want > max)
		want = busy < max ? max - busy : 0;
	return want;
}

/*
 * Whether refilling waits: idle children that die without a client
 * (killed, or failing at once) more than the pool's size within a
 * second pause it for that second, so nothing forks in a loop.
 */
static bool fill_paused(struct pool *p, unsigned prefork)
{
	int64_t now = now_ms();

	if (now >= p->window_end) {
		p->window_end = now + 1000;
		p->deaths = 0;
	}
	if (p->deaths <= prefork)
		return false;
	if (!p->said_paused)
		srv_log("prefork: %u waiting children died without a client within a second: forking per client until the next second",
			p->deaths);
	p->said_paused = true;
	return true;
}

/* ms until the refill may run (a lull after the latest take), 0: now */
static int64_t fill_delay(const struct pool *p)
{
	int64_t now = now_ms(), lull, cap;

	if (!p->defer_since)
		return 0;
	lull = p->last_take + POOL_LULL_MS - now;
	cap = p->defer_since + POOL_DEFER_MAX_MS - now;
	if (lull <= 0 || cap <= 0)
		return 0;
	return lull < cap ? lull : cap;
}

/*
 * Forks idle children up to pool_want(), after the lull fill_delay()
 * waits for: -1 when it need not be called again before the next
 * wakeup, or the ms after which it wants to be.
 */
int64_t pool_fill(struct daemon *d, const sigset_t *orig)
{
	struct pool *p = &d->pool;
	int64_t delay;
	pid_t pid;

	if (!pool_active(d))
		return -1;
	if (p->nidle >= pool_want(d)) {
		p->defer_since = 0;
		return -1;
	}
	delay = fill_delay(p);
	if (delay > 0)
		return delay;
	p->defer_since = 0;
	if (fill_paused(p, d->cfg->prefork))
		return -1;
	p->said_paused = false;
	while (p->nidle < pool_want(d)) {
		pid = fork();
		if (pid == 0)
			idle_child(d, orig);
		if (pid < 0) {
			if (!p->said_fork)
				srv_log("prefork: fork: %s", strerror(errno));
			p->said_fork = true;
			return -1;
		}
		p->said_fork = false;
		if (daemon_track(d, pid) < 0) {
			srv_log("out of memory tracking child %d", (int)pid);
			kill(pid, SIGKILL);
			return -1;
		}
		p->idle[p->nidle++] = pid;
	}
	return -1;
}

static bool remove_pid(pid_t *set, size_t *n, pid_t pid)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (set[i] == pid) {
			set[i] = set[--*n];
			return true;
		}
	}
	return false;
}

/* PID took a client: no longer idle. */
static void pool_took(struct daemon *d, pid_t pid)
{
	remove_pid(d->pool.idle, &d->pool.nidle, pid);
}

/* PID is gone (reaped): an idle one died without a client. */
void pool_reaped(struct daemon *d, pid_t pid)
{
	struct pool *p = &d->pool;

	if (p->idle && remove_pid(p->idle, &p->nidle, pid))
		p->deaths++;
	else if (p->leaving)
		remove_pid(p->leaving, &p->nleaving, pid);
}

/* The report pipe's fd for the master's poll; -1 without a pool. */
int pool_report_fd(const struct daemon *d)
{
	return pool_active(d) ? d->pool.report[0] : -1;
}

/* The children that took a client since the last call. */
void pool_read_reports(struct daemon *d)
{
	struct pool *p = &d->pool;
	pid_t pids[64];
	ssize_t n;
	size_t i;

	while ((n = read(p->report[0], pids, sizeof(pids))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(pid_t); i++)
			pool_took(d, pids[i]);
		p->last_take = now_ms();
		if (!p->defer_since)
			p->defer_since = p->last_take;
	}
}

/*
 * Every idle child exits (it sees the hold pipe close); until each is
 * reaped it counts as leaving, not as serving a client. The children
 * serving clients are left to the caller.
 */
void pool_close(struct daemon *d)
{
	struct pool *p = &d->pool;
	pid_t *l;

	if (!pool_active(d))
		return;
	pool_read_reports(d);
	pool_child_close(d);
	l = realloc(p->leaving, (p->nleaving + p->nidle) * sizeof(*l));
	if (l) {
		memcpy(l + p->nleaving, p->idle, p->nidle * sizeof(*l));
		p->leaving = l;
		p->nleaving += p->nidle;
	}
	free(p->idle);
	p->idle = NULL;
	p->nidle = 0;
}
