/* SPDX-License-Identifier: GPL-2.0 */
/* The master process: accept loop, children, signals, logging. */
#ifndef NBDROOT_DAEMON_H
#define NBDROOT_DAEMON_H

#include "conn.h"

enum { DAEMON_STOP, DAEMON_RELOAD };

struct daemon {
	struct listener l;
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
int serve_client(int in, int out, const struct config *cfg);
int daemon_run(struct daemon *d);

/* pidfile.c: -1 with errno on failure */
int pidfile_open(const char *path);
int pidfile_write(int fd);
int pidfile_remove(const char *path, int fd);

#endif
