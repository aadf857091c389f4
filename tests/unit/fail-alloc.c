// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for server-cli.sh: strdup and strndup fail with ENOMEM,
 * as they do on a machine out of memory, so the command-line parser's
 * error path can be seen from outside.
 */
#include <errno.h>
#include <stddef.h>

char *strdup(const char *s);
char *strndup(const char *s, size_t n);

char *strdup(const char *s)
{
	(void)s;
	errno = ENOMEM;
	return NULL;
}

char *strndup(const char *s, size_t n)
{
	(void)s;
	(void)n;
	errno = ENOMEM;
	return NULL;
}
