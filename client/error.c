// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "nbd-client.h"

static char last_error[CLIENT_ERRLEN];

/* Records why the current step failed; always returns -1 for the caller. */
int client_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *client_last_error(void)
{
	return last_error[0] ? last_error : "unknown error";
}

static int log_fd = 2;

/* From now on, client_log() writes to the kernel log. */
void client_log_to_kmsg(void)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		log_fd = fd;
}

/*
 * Progress and trouble of a running daemon: on stderr, or in the kernel
 * log (level 4, warning) once the daemon has left its caller's stdio.
 */
void client_log(const char *device, const char *fmt, ...)
{
	char msg[CLIENT_ERRLEN], line[CLIENT_ERRLEN + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%snbd-client: %s%s%s\n",
		     log_fd == 2 ? "" : "<4>", device ? device : "",
		     device ? ": " : "", msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (write(log_fd, line, (size_t)n) < 0)
		return;	/* nowhere left to complain */
}
