/* SPDX-License-Identifier: GPL-2.0 */
/* The master process: accept loop, children, signals, logging. */
#ifndef NBDROOT_DAEMON_H
#define NBDROOT_DAEMON_H

#include <signal.h>

#include "conn.h"

enum { DAEMON_STOP, DAEMON_RELOAD };

/* pool.c: children forked before their clients ([generic] prefork) */
struct pool {
	pid_t *idle;		/* waiting for a client; NULL: no pool */
	size_t nidle;
	pid_t *leaving;		/* idle children of a closed pool, unreaped */
	size_t nleaving;
	int report[2];		/* pids of children that took a client */
	int hold[2];		/* idle children exit when [1] closes */
	unsigned deaths;	/* idle children that died, this second */
	int64_t window_end;	/* of that second (now_ms) */
	int64_t last_take;	/* now_ms of the latest report */
	int64_t defer_since;	/* refill waiting since (now_ms), 0: not */
	bool said_paused, said_fork;	/* logged once, not per wakeup */
};

struct daemon {
	struct listener l;
	struct pool pool;
	const struct config *cfg;	/* for new connections */
	bool nofork;			/* -d: serve in the master, one by one */
	pid_t *pids;			/* live children */
	size_t npids;
	size_t cap;
	pid_t refusers[SRV_MAX_REFUSERS];	/* telling clients "too many" */
	size_t nrefusers;
};

void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void srv_log_to_syslog(void);
void srv_signals(void);
int conn_serve(struct conn *c);
int serve_client(int in, int out, const struct config *cfg, bool exits_after,
		 size_t greeted);
int daemon_run(struct daemon *d);
int daemon_track(struct daemon *d, pid_t pid);
void daemon_child(struct daemon *d, int fd, size_t greeted,
		  const sigset_t *orig)
	__attribute__((noreturn));
void daemon_child_signals(const sigset_t *orig);
void daemon_child_serve(struct daemon *d, int fd, size_t greeted)
	__attribute__((noreturn));
/* prefault.c */
void prefault_child(const struct config *cfg);

int pool_open(struct daemon *d);
bool pool_active(const struct daemon *d);
void pool_child_close(struct daemon *d);
size_t pool_busy(const struct daemon *d);
int64_t pool_fill(struct daemon *d, const sigset_t *orig);
void pool_reaped(struct daemon *d, pid_t pid);
int pool_report_fd(const struct daemon *d);
void pool_read_reports(struct daemon *d);
void pool_close(struct daemon *d);

/* pidfile.c: -1 with errno on failure */
int pidfile_open(const char *path);
int pidfile_write(int fd);
int pidfile_remove(const char *path, int fd);

#endif
