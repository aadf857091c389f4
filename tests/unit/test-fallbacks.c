// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * What the server does when the file system says no: fallocate without
 * hole punching (TRIM becomes a no-op, WRITE_ZEROES writes zeroes,
 * FAST_ZERO fails fast with ENOTSUP), and pwrite/pread errors mapped to
 * the wire errors proto.md names (EDQUOT and EFBIG are ENOSPC).
 *
 * Copy-on-write: a file name that does not fit is refused naming the
 * lengths, and a map whose time cannot be set is reported.
 *
 * fallocate, pwrite and pread are interposed: this executable's
 * definitions win over the C library's for the server code linked in.
 */
#include <errno.h>
#include <fcntl.h>

#include "server-stream.h"

static int fallocate_errno;	/* 0: behave; else fail with it */
static int pwrite_errno;
static int pread_errno;		/* -1: return 0 (end of file) */

int fallocate(int fd, int mode, off_t off, off_t len)
{
	(void)fd; (void)mode; (void)off; (void)len;
	errno = fallocate_errno ? fallocate_errno : EOPNOTSUPP;
	return -1;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (pwrite_errno) {
		errno = pwrite_errno;
		return -1;
	}
	if (lseek(fd, off, SEEK_SET) < 0)
		return -1;
	return write(fd, buf, n);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	if (pread_errno < 0)
		return 0;
	if (pread_errno) {
		errno = pread_errno;
		return -1;
	}
	if (lseek(fd, off, SEEK_SET) < 0)
		return -1;
	return read(fd, buf, n);
}

static struct config *cfg;

static void go(struct stream *s, bool structured)
{
	st_hello(s, 3);
	if (structured)
		st_opt(s, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	st_info(s, NBD_OPT_GO, "", 0, NULL, 0);
}

static void file_bytes(size_t off, unsigned char *buf, size_t len)
{
	int fd = open(cfg->exports->path, O_RDONLY);

	CHECK(fd >= 0 && lseek(fd, (off_t)off, SEEK_SET) == (off_t)off &&
	      read(fd, buf, len) == (ssize_t)len);
	close(fd);
}

static void test_no_hole_punching(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char buf[8192], zero[8192] = { 0 };
	struct cur c;

	go(&in, false);
	st_req(&in, 0, NBD_CMD_TRIM, 1, 0, 8192);
	st_req(&in, 0, NBD_CMD_WRITE_ZEROES, 2, 8192, 8192);
	st_req(&in, NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_WRITE_ZEROES, 3, 16384, 8192);
	st_req(&in, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_WRITE_ZEROES, 4, 24576, 100);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);		/* advisory: ignored */
	CHECK_EQ(cur_simple(&c, 2), 0);		/* written as zeroes */
	CHECK_EQ(cur_simple(&c, 3), NBD_ENOTSUP);	/* not fast: refused */
	CHECK_EQ(cur_simple(&c, 4), 0);
	file_bytes(0, buf, sizeof(buf));
	CHECK(buf[1] == 1 && buf[8191] == 8191 % 251);	/* TRIM kept data */
	file_bytes(8192, buf, sizeof(buf));
	CHECK_MEM(buf, zero, sizeof(buf));
	file_bytes(16384, buf, sizeof(buf));
	CHECK_EQ(buf[1], 16385 % 251);			/* FAST_ZERO: untouched */
	file_bytes(24576, buf, 101);
	CHECK_MEM(buf, zero, 100);
	CHECK_EQ(buf[100], 24676 % 251);

	/* A real fallocate failure on TRIM is reported, not swallowed. */
	in.n = 0;
	go(&in, false);
	st_req(&in, 0, NBD_CMD_TRIM, 1, 0, 4096);
	fallocate_errno = EIO;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	fallocate_errno = 0;
	CHECK_EQ(cur_simple(&c, 1), NBD_EIO);
	free(in.b);
	free(out.b);
}

static void test_write_errors(void)
{
	static const struct { int err; uint32_t wire; } map[] = {
		{ ENOSPC, NBD_ENOSPC }, { EDQUOT, NBD_ENOSPC },
		{ EFBIG, NBD_ENOSPC }, { EIO, NBD_EIO }, { EROFS, NBD_EPERM },
	};
	struct stream in = { 0 }, out = { 0 };
	unsigned char block[512] = { 0 };
	struct cur c;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		in.n = 0;
		go(&in, false);
		st_req(&in, 0, NBD_CMD_WRITE, 1, 0, 512);
		st_put(&in, block, 512);
		st_req(&in, 0, NBD_CMD_WRITE_ZEROES, 2, 0, 512);
		pwrite_errno = map[i].err;
		CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
		pwrite_errno = 0;
		CHECK_EQ(cur_simple(&c, 1), map[i].wire);
		CHECK_EQ(cur_simple(&c, 2), map[i].wire);
	}
	free(in.b);
	free(out.b);
}

static void test_read_errors(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *p;
	struct nbd_chunk_hdr ch;
	struct cur c;

	/* simple reply: the error, and no payload after it */
	go(&in, false);
	st_req(&in, 0, NBD_CMD_READ, 1, 0, 4096);
	st_req(&in, 0, NBD_CMD_READ, 2, 0, 4096);
	pread_errno = EIO;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 2), NBD_EIO);
	CHECK_EQ(c.rem, 0);

	/* the file shrank under us: EIO, not a short reply */
	pread_errno = -1;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), NBD_EIO);

	/* structured: one ERROR chunk, DONE */
	in.n = 0;
	go(&in, true);
	st_req(&in, NBD_CMD_FLAG_DF, NBD_CMD_READ, 3, 0, 4096);
	pread_errno = EIO;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	pread_errno = 0;
	p = cur_take(&c, NBD_CHUNK_HDR_SIZE);
	CHECK(p && nbd_chunk_hdr_decode(p, &ch) == 0);
	CHECK(p && ch.type == NBD_REPLY_TYPE_ERROR && ch.cookie == 3 &&
	      ch.flags == NBD_REPLY_FLAG_DONE && ch.length == 6);
	p = cur_take(&c, 6);
	CHECK(p && get_be32(p) == NBD_EIO);
	CHECK_EQ(c.rem, 0);
	free(in.b);
	free(out.b);
}

static void test_cow_files(void)
{
	const char *base = cfg->exports->path;
	char dir[] = "/tmp/nbdroot-cow-XXXXXX", why[SRV_ERRLEN];
	struct backend b = { .fd = -1 };
	struct export e = { .name = "root", .cow = true };
	char *longdir = malloc(4091);

	CHECK(mkdtemp(dir) != NULL && longdir != NULL);
	memset(longdir, 'd', 4090);
	longdir[0] = '/';
	longdir[4090] = '\0';
	e.cowdir = longdir;
	CHECK_EQ(cow_open(&b, &e, base, "10.0.0.7", why, sizeof(why)), -1);
	/* 4090 + "/10.0.0.7,root.cow" */
	CHECK(strstr(why, ": file name too long (4108 > 4095)") != NULL);
	e.cowdir = dir;
	CHECK_EQ(cow_open(&b, &e, base, "10.0.0.7", why, sizeof(why)), 0);
	pwrite_errno = EROFS;	/* the byte that sets the map's mtime */
	CHECK_EQ(export_close(&b), -1);
	CHECK_EQ(errno, EROFS);
	pwrite_errno = 0;
	CHECK_EQ(cow_open(&b, &e, base, "10.0.0.7", why, sizeof(why)), 0);
	CHECK_EQ(export_close(&b), 0);
	st_remove_cow_pair(dir);
	free(longdir);
}

int main(int argc, char **argv)
{
	struct export *e;

	unit_start(argc, argv);
	cfg = st_config(1 << 20);
	e = cfg->exports;
	e->rotational = true;
	CHECK(export_flags(e, false) & NBD_FLAG_ROTATIONAL);
	RUN(test_no_hole_punching);
	RUN(test_write_errors);
	RUN(test_read_errors);
	RUN(test_cow_files);
	unlink(e->path);
	config_free(cfg);
	return unit_done("test-fallbacks");
}
