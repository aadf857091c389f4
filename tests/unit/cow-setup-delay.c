// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for server-cow.py: widens, to seconds, the moment in
 * which two connections of one client set up the same new copy-on-write
 * pair, so that what the server does there can be seen from outside.
 * Files in $NBDROOT_TEST_DELAY_DIR:
 *
 *   first    the first process to size a file (ftruncate), the first
 *            connection's child, writes its pid here and then sleeps two
 *            seconds before that ftruncate; "done" once it has slept
 *   overlap  made by another process that opens a ".cow" file while the
 *            first sleeps: the two setups did overlap
 *
 * Any process but the first sleeps three seconds before it opens a ".map"
 * file: a second connection that came while the first was sizing its
 * .cow file reaches its map only after the first has set the pair up and
 * its client has written.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

int ftruncate(int fd, off_t len);
int ftruncate64(int fd, off_t len);
int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);

/* DIR/name into buf; NULL without NBDROOT_TEST_DELAY_DIR. */
static const char *in_dir(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("NBDROOT_TEST_DELAY_DIR");

	if (!dir || (size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return NULL;
	return buf;
}

/* Makes DIR/name holding text; whether this call made it. */
static int make_once(const char *name, const char *text)
{
	char path[4096];
	ssize_t n = (ssize_t)strlen(text);
	int fd;

	if (!in_dir(path, sizeof(path), name))
		return 0;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	if (write(fd, text, (size_t)n) != n)
		n = -1;
	close(fd);
	return n >= 0;
}

static int exists(const char *name)
{
	char path[4096];

	return in_dir(path, sizeof(path), name) &&
	       syscall(SYS_faccessat, AT_FDCWD, path, F_OK) == 0;
}

/* Whether a first process has been named, and it is not this one. */
static int is_other(void)
{
	char path[4096], buf[32] = "";
	ssize_t n;
	int fd;

	if (!in_dir(path, sizeof(path), "first"))
		return 0;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && atoi(buf) != (int)getpid();
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && strcmp(s + n - t, tail) == 0;
}

static void before_open(const char *path)
{
	if (ends_with(path, ".cow") && is_other() && !exists("done"))
		make_once("overlap", "");
	if (ends_with(path, ".map") && is_other())
		sleep(3);
}

int ftruncate(int fd, off_t len)
{
	static int sized;
	char pid[32];
	int r;

	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (sized++ || !make_once("first", pid))
		return (int)syscall(SYS_ftruncate, fd, len);
	sleep(2);
	r = (int)syscall(SYS_ftruncate, fd, len);
	make_once("done", "");
	return r;
}

static mode_t mode_of(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
		       (mode_t)va_arg(ap, int) : 0;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	before_open(path);
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return openat(AT_FDCWD, path, flags, mode);
}

/* the names a build with 64-bit file offsets calls (off_t is 64 bits) */
int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));
