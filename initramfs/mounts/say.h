/* SPDX-License-Identifier: GPL-2.0 */
/* What nbdroot-early and nbdroot-switch tell the console. */
#ifndef NBDROOT_MOUNTS_SAY_H
#define NBDROOT_MOUNTS_SAY_H

#include <stddef.h>
#include <unistd.h>

/*
 * Writes line, which snprintf made n (its return value) long in a buffer
 * of size bytes, to stderr: cut to the buffer when longer, nothing when
 * n < 0. With no console either, there is nothing else to tell.
 */
static inline void say_line(char *line, int n, size_t size)
{
	if (n < 0)
		return;
	if ((size_t)n >= size) {
		n = (int)size - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#endif
