/* SPDX-License-Identifier: GPL-2.0 */
/* What nbdroot-early and nbdroot-switch tell the console. */
#ifndef NBDROOT_MOUNTS_SAY_H
#define NBDROOT_MOUNTS_SAY_H

#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define SAY_KMSG	"/dev/kmsg"	/* the initrd carries the node */
#define SAY_LEVEL	"<3>"		/* KERN_ERR, as the shell init's */

/*
 * The same line in the kernel log (one write is one record), so dmesg
 * and journalctl -k show it once the console has scrolled away.
 */
static inline void say_kmsg(const char *line, size_t n)
{
	char rec[sizeof(SAY_LEVEL) + 512];
	size_t lv = sizeof(SAY_LEVEL) - 1;
	int fd;

	if (n > sizeof(rec) - lv)
		n = sizeof(rec) - lv;
	memcpy(rec, SAY_LEVEL, lv);
	memcpy(rec + lv, line, n);
	fd = open(SAY_KMSG, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (write(fd, rec, lv + n) < 0) {
		/* rate-limited or refused: the console has the line */
	}
	close(fd);
}

/*
 * Writes line, which snprintf made n (its return value) long in a buffer
 * of size bytes, to stderr and the kernel log: cut to the buffer when
 * longer, nothing when n < 0. With neither, there is nothing else to
 * tell.
 */
static inline void say_line(char *line, int n, size_t size)
{
	if (n < 0)
		return;
	if ((size_t)n >= size) {
		n = (int)size - 1;
		line[n - 1] = '\n';
	}
	say_kmsg(line, (size_t)n);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#endif
