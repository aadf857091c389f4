// SPDX-License-Identifier: GPL-2.0
/*
 * Exports: finding one by the name a client sent, deciding whether that
 * client may use it, and opening its backing file. Names are only ever
 * compared with configured names, never used as paths, so "../x" or
 * "/etc/passwd" are simply unknown unless an administrator named an export
 * that way.
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

#include "server.h"

/*
 * The export a client names. "" is the command-line export if there is
 * one, else the one [generic] default names.
 */
const struct export *export_find(const struct config *cfg, const char *name,
				 size_t len)
{
	const struct export *e;

	if (memchr(name, '\0', len))
		return NULL;
	for (e = cfg->exports; e; e = e->next)
		if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
			return e;
	if (len == 0 && cfg->default_name && cfg->default_name[0])
		return export_find(cfg, cfg->default_name,
				   strlen(cfg->default_name));
	return NULL;
}

/* 1 allowed; 0 or -1 not, with the reason in why. */
int export_allowed(const struct conn *c, const struct export *e, char *why,
		   size_t whylen)
{
	if (!e->authfile)
		return 1;
	if (c->peer_len == 0) {
		snprintf(why, whylen, "authfile %s: no network peer",
			 e->authfile);
		return 0;
	}
	return auth_check(e->authfile, (const struct sockaddr *)&c->peer_sa,
			  why, whylen);
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

uint16_t export_flags(const struct conn *c, const struct export *e)
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
	if (c->structured)
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

static int open_temporary(struct conn *c, const char *path)
{
	char tmpl[4096];
	int fd;

	if (snprintf(tmpl, sizeof(tmpl), "%s.XXXXXX", path) >= (int)sizeof(tmpl))
		return conn_fail(c, "%s: path too long", path);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return conn_fail(c, "%s: %s", tmpl, strerror(errno));
	/* Unlinked at once: gone on disconnect, even if this child dies. */
	unlink(tmpl);
	if (ftruncate(fd, (off_t)c->exp->filesize) < 0) {
		conn_fail(c, "%s: size %llu: %s", tmpl,
			  (unsigned long long)c->exp->filesize, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int size_of(struct conn *c, int fd, const char *path)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) < 0)
		return conn_fail(c, "%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return conn_fail(c, "%s: size: %s", path,
					 strerror(errno));
		c->size = bytes;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return conn_fail(c, "%s: not a regular file or block device",
				 path);
	c->size = (uint64_t)st.st_size;
	return 0;
}

/*
 * NBD_OPT_INFO only wants the size: a regular file is not opened (nor a
 * temporary one created); a block device is opened read-only to ask.
 */
static int probe_size(struct conn *c, const struct export *e,
		      const char *path)
{
	struct stat st;
	int fd, r;

	if (e->temporary) {
		c->size = e->filesize;
		return 0;
	}
	if (stat(path, &st) < 0)
		return conn_fail(c, "%s: %s", path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		c->size = (uint64_t)st.st_size;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return conn_fail(c, "%s: %s", path, strerror(errno));
	r = size_of(c, fd, path);
	close(fd);
	return r;
}

/*
 * Opens e for this connection and sets c->exp, c->fd, c->size, c->tflags;
 * with probe (NBD_OPT_INFO) only the size and flags. 0, or -1 with c->why.
 */
int export_open(struct conn *c, const struct export *e, bool probe)
{
	char path[4096];
	int fd;

	if (expand_path(e->path, c->peer_addr, path, sizeof(path)) < 0)
		return conn_fail(c, "%s: path too long", e->path);
	if (strstr(e->path, "%s") && c->peer_len == 0)
		return conn_fail(c, "%s: no client address for %%s", e->path);
	c->exp = e;
	if (probe) {
		if (probe_size(c, e, path) < 0) {
			c->exp = NULL;
			return -1;
		}
		c->tflags = export_flags(c, e);
		return 0;
	}
	if (e->cow) {
		if (cow_open(c, e, path) < 0) {
			c->exp = NULL;
			return -1;
		}
		goto out_opened;
	}
	if (e->temporary)
		fd = open_temporary(c, path);
	else
		fd = open(path, (e->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		c->exp = NULL;
		if (!e->temporary)
			conn_fail(c, "%s: %s", path, strerror(errno));
		return -1;
	}
	c->fd = fd;
	if (size_of(c, fd, path) < 0) {
		close(fd);
		c->fd = -1;
		c->exp = NULL;
		return -1;
	}
out_opened:
	c->tflags = export_flags(c, e);
	snprintf(c->exp_name, sizeof(c->exp_name), "%s", e->name);
	c->why[0] = '\0';
	return 0;
}

/* Undoes export_open (after NBD_OPT_INFO): negotiation goes on. */
void export_close(struct conn *c)
{
	if (c->cow)
		cow_close(c->cow);
	else if (c->fd >= 0)
		close(c->fd);
	c->cow = NULL;
	c->fd = -1;
	c->exp = NULL;
	c->exp_name[0] = '\0';
	c->why[0] = '\0';
}
