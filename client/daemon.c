// SPDX-License-Identifier: GPL-2.0
/*
 * What a process that stays behind to serve a root filesystem or swap
 * must do: leave the caller's pipes (an init waiting on our output would
 * wait forever), log to the kernel log, lock its memory, ask the OOM
 * killer to spare it, declare itself part of the I/O path, and mark
 * itself '@' (argv[0][0]), the systemd convention for root storage daemons
 * that survive the initrd and are not killed at shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "nbd-client.h"

static void spare_from_oom_killer(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, "-1000", 5) < 0)
		client_log(NULL, "oom_score_adj: %s", strerror(errno));
	close(fd);
}

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

/*
 * A reconnection happens when the device's socket is dead, so pages
 * written to swap (or a root's dirty pages) wait for us. Were our own
 * allocations (the new socket, the TLS handshake) to reclaim memory by
 * writing pages out, they would wait on the device we are here to repair.
 * PR_SET_IO_FLUSHER (Linux 5.6) makes them reclaim without I/O and spares
 * us the dirty-page throttle. Older kernels say EINVAL: we go on without.
 */
static void join_io_path(void)
{
	if (prctl(PR_SET_IO_FLUSHER, 1UL, 0UL, 0UL, 0UL) < 0)
		client_log(NULL, "PR_SET_IO_FLUSHER: %s", strerror(errno));
}

static void leave_caller_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* foreground: -nofork, where the caller's stdio is ours to keep. */
void daemon_setup(char **argv, int foreground)
{
	argv[0][0] = '@';
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground) {
		setsid();
		client_log_to_kmsg();
		leave_caller_stdio();
	}
	if (chdir("/") < 0)
		client_log(NULL, "chdir /: %s", strerror(errno));
	spare_from_oom_killer();
	join_io_path();
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		client_log(NULL, "mlockall: %s", strerror(errno));
}
