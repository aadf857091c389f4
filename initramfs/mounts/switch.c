// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-switch: the shell init's last step, the hand-over to the real
 * root, without a busybox exec per mount (each about 12 ms under QEMU
 * TCG):
 *
 *   nbdroot-switch ROOT INIT [ARG...]
 *
 * moves /dev, /proc, /sys and /run onto ROOT's directories of the same
 * name (those ROOT has), then execs "/sbin/run-init ROOT INIT ARG...",
 * which empties the initramfs, makes ROOT the root and execs INIT. A
 * move that fails is said ("nbdroot: switch: move /run to /root/run: No
 * such file or directory") and the others still happen: the real init
 * then mounts what it lacks itself. Exit 1 when run-init cannot be
 * run, 2 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "say.h"

#define RUN_INIT	"/sbin/run-init"

static void say(const char *what, const char *from, const char *to, int err)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "nbdroot: switch: %s %s%s%s: %s\n",
		     what, from, to ? " to " : "", to ? to : "", strerror(err));
	say_line(line, n, sizeof(line));
}

static void move_into(const char *root, const char *dir)
{
	char to[4096];
	struct stat st;
	int n;

	n = snprintf(to, sizeof(to), "%s%s", root, dir);
	if (n < 0 || (size_t)n >= sizeof(to)) {
		say("move", dir, root, ENAMETOOLONG);
		return;
	}
	if (stat(to, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	if (mount(dir, to, NULL, MS_MOVE, NULL) < 0)
		say("move", dir, to, errno);
}

int main(int argc, char **argv, char **envp)
{
	static const char *const dirs[] = { "/dev", "/proc", "/sys", "/run" };
	size_t i;

	if (argc < 3) {
		if (write(STDERR_FILENO,
			  "usage: nbdroot-switch ROOT INIT [ARG...]\n", 41) < 0)
			return 2;
		return 2;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		move_into(argv[1], dirs[i]);
	/* run-init ROOT INIT ARG...: our own arguments, renamed */
	argv[0] = (char *)"run-init";
	execve(RUN_INIT, argv, envp);
	say("exec", RUN_INIT, NULL, errno);
	return 1;
}
