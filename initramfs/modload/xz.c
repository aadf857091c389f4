// SPDX-License-Identifier: GPL-2.0
/*
 * Modules that mkinitrd packs with xz: the NIC drivers for machines other
 * than virtual ones, most of the bytes the kernel would otherwise unpack
 * into the initramfs on every boot for drivers that boot does not load.
 * Debian's kernel does not unpack a module itself (it is built without
 * MODULE_DECOMPRESS), so the one a machine needs is unpacked here, by
 * busybox's unxz in a child, into memory for init_module(2).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xz.h"

/* unxz -c with fd as its input: the read end of its output, or -1. */
static int spawn_unxz(int fd, pid_t *pid)
{
	int p[2];

	if (pipe(p))
		return -1;
	*pid = fork();
	if (*pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*pid == 0) {
		if (dup2(fd, 0) < 0 || dup2(p[1], 1) < 0)
			_exit(126);
		close(p[0]);
		close(p[1]);
		execlp("unxz", "unxz", "-c", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	return p[0];
}

/* All of in into a growing buffer, at most XZ_MAX bytes; NULL: why. */
static char *read_all(int in, size_t *len, const char **why)
{
	size_t cap = 0, n = 0, next;
	char *buf = NULL, *more;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap >= XZ_MAX) {
				*why = "unpacks to more than 64 MiB";
				break;
			}
			next = cap ? cap * 2 : 1u << 20;
			more = realloc(buf, next);
			if (!more) {
				*why = "out of memory";
				break;
			}
			buf = more;
			cap = next;
		}
		r = read(in, buf + n, cap - n);
		if (r == 0) {
			*len = n;
			return buf;
		}
		if (r > 0)
			n += (size_t)r;
		else if (errno != EINTR) {
			*why = strerror(errno);
			break;
		}
	}
	free(buf);
	return NULL;
}

void *xz_unpack(int fd, size_t *len, char *why, size_t whylen)
{
	const char *err = NULL;
	char *buf;
	pid_t pid;
	int in, status;

	in = spawn_unxz(fd, &pid);
	if (in < 0) {
		snprintf(why, whylen, "unxz: %s", strerror(errno));
		return NULL;
	}
	buf = read_all(in, len, &err);
	close(in);
	if (!buf)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (buf && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return buf;
	if (!err && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		err = "no unxz program (busybox's) on PATH";
	if (!err)
		err = "not a whole xz file";
	snprintf(why, whylen, "unxz: %s", err);
	free(buf);
	return NULL;
}
