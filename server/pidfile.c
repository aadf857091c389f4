// SPDX-License-Identifier: GPL-2.0
/*
 * -p PIDFILE: the master's pid, for init scripts and monitors. The file
 * is created before privileges are dropped (so that /run works) and
 * written once the process that stays is known (after daemonizing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/*
 * Creates or truncates path; O_NOFOLLOW, so that a link planted in a
 * shared directory does not make us truncate another file. The
 * descriptor, or -1 with errno.
 */
int pidfile_open(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
}

/* Writes our pid as "PID\n". 0, or -1 with errno. */
int pidfile_write(int fd)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	ssize_t w = write(fd, buf, (size_t)n);

	if (w == n)
		return 0;
	if (w >= 0)
		errno = EIO;
	return -1;
}

/*
 * Removes the file at exit. After the privilege drop the directory may
 * no longer be ours: then the file is emptied, so that no stale pid
 * stays in it. 0, or -1 with errno from unlink when it was only emptied.
 */
int pidfile_remove(const char *path, int fd)
{
	int r = 0, err = 0;

	if (unlink(path) < 0) {
		err = errno;
		r = -1;
		if (ftruncate(fd, 0) < 0)
			err = errno;
	}
	close(fd);
	errno = err;
	return r;
}
