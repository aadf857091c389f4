// SPDX-License-Identifier: GPL-2.0
/*
 * The master's accept loop and the per-connection child. The master never
 * reads a byte from a client: each connection is negotiated and served in
 * its own child (CVE-2013-7441 was negotiation in the parent), so a client
 * can only ever crash or stall its own process.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static volatile sig_atomic_t got_hup;
static bool use_syslog;

/*
 * One line per call, written with one write(2): children share stderr,
 * and a line written in pieces interleaves with theirs. A line longer
 * than the buffer is cut, never split.
 */
void srv_log(const char *fmt, ...)
{
	static const char prefix[] = "nbd-server: ";
	char line[1024];
	size_t n = sizeof(prefix) - 1;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(LOG_INFO, fmt, ap);
		va_end(ap);
		return;
	}
	memcpy(line, prefix, n);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = 0;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r :
	     sizeof(line) - n - 2;
	line[n++] = '\n';
	/* stderr may be gone (a closed terminal): nothing else to tell. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void srv_log_to_syslog(void)
{
	openlog("nbd-server", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

static void on_stop(int sig)
{
	(void)sig;
	srv_stopping = 1;
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void log_line(const char *line)
{
	srv_log("%s", line);
}

/* Generations: changes logged once, old ones swept, SIGUSR1's report. */
static void generation_tick(const struct config *cfg, bool sweep)
{
	const struct export *e;
	char msg[600];

	for (e = cfg->exports; e; e = e->next)
		if (generation_check(e, msg, sizeof(msg)))
			srv_log("%s", msg);
	if (sweep)
		generation_sweep(cfg);
	if (got_usr1) {
		got_usr1 = 0;
		srv_log("SIGUSR1: generations and their clients:");
		generation_report(cfg, log_line);
	}
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static void on_chld(int sig)
{
	(void)sig;
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	/* No SA_RESTART: a blocked read or poll must see the signal. */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void srv_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	set_handler(SIGTERM, on_stop);
	set_handler(SIGINT, on_stop);
	set_handler(SIGHUP, on_hup);
	set_handler(SIGUSR1, on_usr1);
	set_handler(SIGCHLD, on_chld);
}

/*
 * Runs one connection: negotiation under the handshake deadline, then
 * transmission. 0 clean end, -1 failure (c->why); either way c->outcome
 * is set.
 */
int conn_serve(struct conn *c)
{
	unsigned secs = c->cfg->handshake_secs;
	int r;

	c->deadline = now_ms() + (secs ? secs : SRV_HANDSHAKE_SECS) * 1000;
	r = negotiate(c);
	if (r != 0)
		return r < 0 ? -1 : 0;
	c->deadline = 0;
	/* Now, not with the closing line: a SIGKILL would lose it. */
	if (c->gen_note[0]) {
		srv_log("%s export '%s': %s", c->peer, c->exp_name,
			c->gen_note);
		c->gen_note[0] = '\0';
		generation_noted(&c->be);
	}
	return transmit(c);
}

/*
 * Root without a configured user (privdrop_per_child): the exports are
 * opened, then the process becomes SRV_DEFAULT_USER, before the client's
 * first byte is read. 0, or -1 with c->why.
 */
static int drop_before_client(struct conn *c)
{
	const struct config *cfg = c->cfg;
	char why[SRV_ERRLEN];

	c->outcome = "not served";
	if (conn_preopen(c) < 0)
		return -1;
	if (drop_privileges(privdrop_user(cfg), cfg->group, why,
			    sizeof(why)) < 0)
		return conn_fail(c, "%s", why);
	return 0;
}

/*
 * The client is gone and this process only cleans up and exits: it
 * yields the core to the children still serving. When a room's boots
 * end together, 200 children exiting (closing, logging, tearing down
 * their memory) on the server's core delayed the last requests of the
 * clients still finishing: at N = 200 they took 10 to 17 ms on average
 * against 0.6 to 1.2 with this (scripts/storm -c, interleaved rounds).
 */
static void yield_to_clients(void)
{
	/* raising one's own nice value is always allowed: nothing to check */
	setpriority(PRIO_PROCESS, 0, SRV_DONE_NICE);
}

/*
 * Serves one client on in/out and logs how it went. 0 or -1.
 * exits_after: the process ends with this client (a forked child, inetd).
 */
int serve_client(int in, int out, const struct config *cfg, bool exits_after,
		 size_t greeted)
{
	char line[600];
	struct conn c;
	int r = -1;

	conn_init(&c, in, out, cfg);
	c.greeted = greeted;
	if (!privdrop_per_child(cfg) || drop_before_client(&c) == 0)
		r = conn_serve(&c);
	if (exits_after)
		yield_to_clients();
	if (conn_finish(&c) < 0)
		r = -1;
	conn_log_line(&c, line, sizeof(line));
	srv_log("%s", line);
	conn_close(&c);
	return r;
}

static unsigned or_default(unsigned v, unsigned dflt)
{
	return v ? v : dflt;
}

/*
 * A client that vanished without a FIN (powered off, cable pulled, a
 * half-open connection after it negotiated) must not keep its child and
 * its maxconnections slot: keepalive finds it after keepaliveidle +
 * keepaliveinterval * keepalivecount seconds (defaults: 60 + 30 * 10, six
 * minutes, instead of the kernel's two hours), so a rebooted machine
 * finds its slot free while a shorter network outage does not cost a
 * root file system its connection. The user timeout gives up after the
 * same time when our data stays unacknowledged, where keepalive does
 * not probe.
 *
 * Set on the listening sockets (tune_listeners): Linux gives an accepted
 * socket its listener's options, so a connection costs no system call
 * for them (six were 40 to 60 us of a pre-forked child's connect on a
 * virtual machine where one system call is several microseconds).
 */
static void tune_socket(const struct config *cfg, int fd)
{
	int one = 1;
	int idle = (int)or_default(cfg->keepidle, SRV_KEEPIDLE);
	int intvl = (int)or_default(cfg->keepintvl, SRV_KEEPINTVL);
	int cnt = (int)or_default(cfg->keepcnt, SRV_KEEPCNT);
	unsigned user_ms = (unsigned)(idle + intvl * cnt) * 1000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms,
		   sizeof(user_ms));
}

/* Every listening socket, again after each reload (the values may have
 * changed): what its connections inherit. */
static void tune_listeners(const struct daemon *d)
{
	int i;

	for (i = 0; i < d->l.nfds; i++)
		tune_socket(d->cfg, d->l.fds[i]);
}

static void reap(struct daemon *d)
{
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		slots_release(pid);
		pool_reaped(d, pid);
		for (i = 0; i < d->nrefusers; i++) {
			if (d->refusers[i] == pid) {
				d->refusers[i] = d->refusers[--d->nrefusers];
				break;
			}
		}
		for (i = 0; i < d->npids; i++) {
			if (d->pids[i] == pid) {
				d->pids[i] = d->pids[--d->npids];
				break;
			}
		}
	}
}

/*
 * A child's signals, set before its client comes where it can be (a
 * pre-forked child: pool.c). The child keeps SIGTERM blocked (inherited
 * from daemon_run) except while it waits for a client's next message: see
 * io_wait_mask().
 */
void daemon_child_signals(const sigset_t *orig)
{
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	io_wait_mask(orig);
}

/* Serves the client on fd in a child whose signals are set. */
void daemon_child_serve(struct daemon *d, int fd, size_t greeted)
{
	int i;

	for (i = 0; i < d->l.nfds; i++)
		close(d->l.fds[i]);
	pool_child_close(d);
	_exit(serve_client(fd, fd, d->cfg, true, greeted) < 0 ? 1 : 0);
}

void daemon_child(struct daemon *d, int fd, size_t greeted,
		  const sigset_t *orig)
{
	daemon_child_signals(orig);
	daemon_child_serve(d, fd, greeted);
}

/*
 * Over maxconnections: a child (the master reads nothing from clients)
 * answers the client's first option with ERR_POLICY and closes. At most
 * SRV_MAX_REFUSERS at once, each for at most SRV_REFUSE_SECS; beyond
 * that, a flood of connections is simply closed.
 */
static void refuse(struct daemon *d, int fd, const sigset_t *orig)
{
	char msg[64], line[600];
	struct conn c;
	pid_t pid;
	int i;

	snprintf(msg, sizeof(msg), "too many connections (maxconnections %u)",
		 d->cfg->maxconn);
	if (d->nofork || d->nrefusers >= SRV_MAX_REFUSERS) {
		srv_log("connection refused: %s", msg);
		return;
	}
	pid = fork();
	if (pid < 0) {
		srv_log("fork: %s", strerror(errno));
		return;
	}
	if (pid > 0) {
		d->refusers[d->nrefusers++] = pid;
		return;
	}
	for (i = 0; i < d->l.nfds; i++)
		close(d->l.fds[i]);
	pool_child_close(d);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	io_wait_mask(orig);
	/* It reads the client's first option: not as root either. */
	if (privdrop_per_child(d->cfg) &&
	    drop_privileges(privdrop_user(d->cfg), d->cfg->group, line,
			    sizeof(line)) < 0) {
		srv_log("refusing a client: %s", line);
		_exit(1);
	}
	conn_init(&c, fd, fd, d->cfg);
	negotiate_refuse(&c, NBD_REP_ERR_POLICY, msg);
	conn_log_line(&c, line, sizeof(line));
	srv_log("%s", line);
	conn_close(&c);
	_exit(0);
}

int daemon_track(struct daemon *d, pid_t pid)
{
	pid_t *p;

	if (d->npids == d->cap) {
		p = realloc(d->pids, (d->cap ? d->cap * 2 : 16) * sizeof(*p));
		if (!p)
			return -1;
		d->pids = p;
		d->cap = d->cap ? d->cap * 2 : 16;
	}
	d->pids[d->npids++] = pid;
	return 0;
}

static void accept_one(struct daemon *d, int lfd, const sigset_t *orig)
{
	static const struct timespec backoff = { .tv_nsec = 100000000 };
	unsigned max = d->cfg->maxconn;
	size_t greeted;
	pid_t pid;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* The connection stays queued: back off, do not spin. */
			srv_log("accept: %s", strerror(errno));
			nanosleep(&backoff, NULL);
		}
		return;
	}
	if (max && pool_busy(d) >= max) {
		refuse(d, fd, orig);
		close(fd);
		return;
	}
	/* after the limit: a refused client gets the greeting from refuse() */
	greeted = negotiate_greet_early(fd);
	if (d->nofork) {
		io_wait_mask(orig);
		serve_client(fd, fd, d->cfg, false, greeted);
		close(fd);
		return;
	}
	pid = fork();
	if (pid == 0)
		daemon_child(d, fd, greeted, orig);
	if (pid < 0)
		srv_log("fork: %s", strerror(errno));
	else if (daemon_track(d, pid) < 0)
		srv_log("out of memory tracking child %d", (int)pid);
	close(fd);
}

static void signal_children(struct daemon *d, int sig)
{
	size_t i;

	for (i = 0; i < d->npids; i++)
		kill(d->pids[i], sig);
	for (i = 0; i < d->nrefusers; i++)
		kill(d->refusers[i], sig);
}

/*
 * SIGTERM: no new clients; children finish the request they hold and
 * exit. One stuck on a client that stopped reading is killed after
 * SRV_STOP_SECS so that the server always ends.
 */
static void stop_children(struct daemon *d)
{
	int64_t deadline = now_ms() + SRV_STOP_SECS * 1000;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
	sigset_t chld;

	while (d->l.nfds > 0)
		close(d->l.fds[--d->l.nfds]);
	signal_children(d, SIGTERM);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (reap(d); d->npids + d->nrefusers > 0 && now_ms() < deadline;
	     reap(d))
		sigtimedwait(&chld, NULL, &ts);
	if (d->npids + d->nrefusers > 0) {
		srv_log("SIGTERM: killing %zu children still busy after %d s",
			d->npids, SRV_STOP_SECS);
		signal_children(d, SIGKILL);
	}
	while (d->npids + d->nrefusers > 0 && waitpid(-1, NULL, 0) > 0)
		reap(d);
}

/*
 * What the master waits on: the listening sockets, unless idle children
 * of the pool wait on them, and the pool's report pipe. The count.
 */
static int wait_set(const struct daemon *d, struct pollfd *pfd)
{
	int i, n = 0;

	if (!pool_active(d) || d->pool.nidle == 0)
		for (i = 0; i < d->l.nfds; i++)
			pfd[n++] = (struct pollfd){ .fd = d->l.fds[i],
						    .events = POLLIN };
	if (pool_active(d))
		pfd[n++] = (struct pollfd){ .fd = pool_report_fd(d),
					    .events = POLLIN };
	return n;
}

/*
 * ppoll's timeout into ts: the sweep's period (seconds, 0: none), or
 * FILL_MS when the pool's refill wants to run sooner (-1: it does not).
 * NULL: no timeout.
 */
static const struct timespec *wait_timeout(unsigned sweep, int64_t fill_ms,
					   struct timespec *ts)
{
	if (fill_ms >= 0 && (!sweep || fill_ms < (int64_t)sweep * 1000)) {
		*ts = (struct timespec){ .tv_sec = fill_ms / 1000,
					 .tv_nsec = fill_ms % 1000 * 1000000 };
		return ts;
	}
	if (!sweep)
		return NULL;
	*ts = (struct timespec){ .tv_sec = sweep };
	return ts;
}

static void open_pool(struct daemon *d)
{
	if (pool_open(d) < 0)
		srv_log("prefork: %s: children are forked per client instead",
			strerror(errno));
}

/* Accepts until SIGHUP (DAEMON_RELOAD) or SIGTERM (DAEMON_STOP). */
int daemon_run(struct daemon *d)
{
	unsigned sweep = cow_sweep_secs(d->cfg),
		 gsweep = generation_sweep_secs(d->cfg);
	struct timespec ts;
	struct pollfd pfd[17];
	sigset_t block, orig;
	int64_t next_sweep = 0, fill_ms;
	int i, n, r;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &orig);
	if (gsweep && (!sweep || gsweep < sweep))
		sweep = gsweep;
	tune_listeners(d);
	open_pool(d);
	while (!srv_stopping && !got_hup) {
		reap(d);
		fill_ms = -1;
		if (pool_active(d)) {
			pool_read_reports(d);
			fill_ms = pool_fill(d, &orig);
		}
		/* Copy-on-write data of clients gone for cowtimeout. */
		if (sweep && now_ms() >= next_sweep) {
			cow_sweep(d->cfg);
			next_sweep = now_ms() + sweep * 1000;
		}
		generation_tick(d->cfg, gsweep != 0);
		n = wait_set(d, pfd);
		r = ppoll(pfd, (nfds_t)n, wait_timeout(sweep, fill_ms, &ts),
			  &orig);
		for (i = 0; r > 0 && i < n; i++) {
			if ((pfd[i].revents & POLLIN) &&
			    pfd[i].fd != pool_report_fd(d))
				accept_one(d, pfd[i].fd, &orig);
			sigprocmask(SIG_BLOCK, &block, NULL);
		}
	}
	/* idle children exit; those serving clients go on (or are stopped) */
	pool_close(d);
	if (got_hup) {
		got_hup = 0;
		sigprocmask(SIG_SETMASK, &orig, NULL);
		return DAEMON_RELOAD;
	}
	stop_children(d);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return DAEMON_STOP;
}
