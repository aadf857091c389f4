// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

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
