// SPDX-License-Identifier: GPL-2.0
/*
 * Exports: deciding whether a client may use one, and opening its backing
 * file. Finding one by the name a client sent is export_find() in
 * config.c: names are only ever compared with configured names, never used
 * as paths, so "../x" or "/etc/passwd" are simply unknown unless an
 * administrator named an export that way.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"

/* 1 allowed; 0 or -1 not, with the reason in why. peer NULL: stdin. */
int export_allowed(const struct export *e, const struct sockaddr *peer,
		   char *why, size_t whylen)
{
	if (!e->authfile)
		return 1;
	if (!peer) {
		snprintf(why, whylen, "authfile %s: no network peer",
			 e->authfile);
		return 0;
	}
	return auth_check(e->authfile, peer, why, whylen);
}

/* Replaces each "%s" in pattern with addr. 0, or -1 if it does not fit. */
int expand_path(const char *pattern, const char *addr, char *out,
		size_t outlen)
{
	size_t o = 0, alen = strlen(addr);
	const char *p;

	for (p = pattern; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			if (o + alen >= outlen)
				return -1;
			memcpy(out + o, addr, alen);
			o += alen;
			p++;
			continue;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

uint16_t export_flags(const struct export *e, bool structured)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		     NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_CACHE;

	if (e->readonly)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
	/* A trimmed copy-on-write block would show the base again. */
	if (e->trim && !e->readonly && !e->cow)
		f |= NBD_FLAG_SEND_TRIM;
	if (e->rotational)
		f |= NBD_FLAG_ROTATIONAL;
	if (structured)
		f |= NBD_FLAG_SEND_DF;
	/*
	 * fdatasync on a shared file flushes what every process wrote to
	 * it, so a FLUSH on one connection covers the others: multi-conn
	 * is safe unless each connection has its own file. A client's
	 * copy-on-write files are shared by its connections (cow.c).
	 */
	if (!e->temporary && !strstr(e->path, "%s"))
		f |= NBD_FLAG_CAN_MULTI_CONN;
	return f;
}

/* A per-client file of e->filesize bytes, gone once closed. */
static int open_temporary(const struct export *e, const char *path,
			  char *why, size_t whylen)
{
	char tmpl[4096];
	int n, fd;

	n = snprintf(tmpl, sizeof(tmpl), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmpl)) {
		snprintf(why, whylen, "%.200s...: temporary file name too long (%d > %zu)",
			 path, n, sizeof(tmpl) - 1);
		return -1;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", tmpl, strerror(errno));
		return -1;
	}
	/* Unlinked at once: gone on disconnect, even if this child dies. */
	unlink(tmpl);
	if (ftruncate(fd, (off_t)e->filesize) < 0) {
		snprintf(why, whylen, "%s: size %llu: %s", tmpl,
			 (unsigned long long)e->filesize, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The size of an open regular file or block device. 0, or -1 with why. */
static int size_of(struct backend *b, int fd, const char *path, char *why,
		   size_t whylen)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			snprintf(why, whylen, "%s: size: %s", path,
				 strerror(errno));
			return -1;
		}
		b->size = bytes;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file or block device",
			 path);
		return -1;
	}
	b->size = (uint64_t)st.st_size;
	return 0;
}

/*
 * NBD_OPT_INFO only wants the size: a regular file is not opened (nor a
 * temporary one created); a block device is opened read-only to ask.
 */
static int probe_size(struct backend *b, const struct export *e,
		      const char *path, char *why, size_t whylen)
{
	struct stat st;
	int fd, r;

	if (e->temporary) {
		b->size = e->filesize;
		return 0;
	}
	if (stat(path, &st) < 0)
		goto out_errno;
	if (S_ISREG(st.st_mode)) {
		b->size = (uint64_t)st.st_size;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out_errno;
	r = size_of(b, fd, path, why, whylen);
	close(fd);
	return r;
out_errno:
	snprintf(why, whylen, "%s: %s", path, strerror(errno));
	return -1;
}

/* e's file for reading and writing, or a temporary one. fd, or -1. */
static int open_file(struct backend *b, const struct export *e,
		     const char *path, char *why, size_t whylen)
{
	int fd;

	if (e->temporary)
		fd = open_temporary(e, path, why, whylen);
	else
		fd = open(path, (e->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		if (!e->temporary)
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (size_of(b, fd, path, why, whylen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Opens e for a client at addr (NULL: none, stdin mode) and sets b->fd,
 * b->cow and b->size; with probe (NBD_OPT_INFO) only b->size. 0, or -1
 * with why.
 */
int export_open(struct backend *b, const struct export *e, const char *addr,
		bool probe, char *why, size_t whylen)
{
	const char *a = addr ? addr : "";
	char path[4096];
	int r;

	if (strstr(e->path, "%s") && !addr) {
		snprintf(why, whylen, "%s: no client address for %%s", e->path);
		return -1;
	}
	if (expand_path(e->path, a, path, sizeof(path)) < 0) {
		snprintf(why, whylen, "%.200s: path too long for client %s (pattern %zu bytes, address %zu, limit %zu)",
			 e->path, a, strlen(e->path), strlen(a),
			 sizeof(path) - 1);
		return -1;
	}
	if (probe)
		return probe_size(b, e, path, why, whylen);
	if (e->cow && e->gendir)
		return generation_cow_open(b, e, path, addr ? addr : "-", why,
					   whylen);
	if (e->cow)
		r = cow_open(b, e, path, addr ? addr : "-", why, whylen);
	else
		r = (b->fd = open_file(b, e, path, why, whylen)) < 0 ? -1 : 0;
	if (r == 0 && e->gendir &&
	    generation_attach(b, e, addr, why, whylen) < 0) {
		export_close(b);
		return -1;
	}
	return r;
}

/*
 * Undoes export_open. 0, or -1 with errno when the copy-on-write files
 * could not be marked as just used (the sweeper may then take them early).
 */
int export_close(struct backend *b)
{
	int r = 0;

	if (b->cow)
		r = cow_close(b->cow);
	else if (b->fd >= 0)
		close(b->fd);
	if (generation_close(b->gen) < 0)
		r = -1;
	b->gen = NULL;
	b->cow = NULL;
	b->fd = -1;
	b->data_lo = b->data_hi = 0;
	b->wb_lo = b->wb_hi = b->wb_bytes = 0;
	b->sync_failed = false;
	return r;
}
