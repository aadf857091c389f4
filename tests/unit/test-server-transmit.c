// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * The transmission phase against canned request streams: data written is
 * in the file, every error the spec names, a refused WRITE's payload
 * drained (the request after it is answered), structured replies only
 * after they were negotiated, and base:allocation from the file's holes.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "server-stream.h"

#define IMG_SIZE (1u << 20)

static struct config *cfg;

static void setup(void)
{
	struct export *e;

	cfg = config_new();
	e = config_add_export(cfg, "");
	e->path = make_image(IMG_SIZE);
	e = config_add_export(cfg, "ro");
	e->path = strdup(cfg->exports->path);
	e->readonly = true;
	e = config_add_export(cfg, "notrim");
	e->path = strdup(cfg->exports->path);
	e->trim = false;
}

/* Hello and GO for name (structured: negotiate structured replies first). */
static void go(struct stream *s, const char *name, bool structured)
{
	struct stream d = { 0 };

	st_hello(s, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	if (structured) {
		st_opt(s, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
		st_be32(&d, 0);
		st_be32(&d, 1);
		st_be32(&d, 15);
		st_put(&d, "base:allocation", 15);
		st_opt(s, NBD_OPT_SET_META_CONTEXT, d.b, (uint32_t)d.n);
		free(d.b);
	}
	st_info(s, NBD_OPT_GO, name, strlen(name), NULL, 0);
}

static void read_image(size_t off, unsigned char *buf, size_t len)
{
	int fd = open(cfg->exports->path, O_RDONLY);

	CHECK(fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static void test_write_read_flush(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char data[4096], back[4096];
	const unsigned char *d;
	struct cur c;

	memset(data, 0x5a, sizeof(data));
	go(&in, "", false);
	st_req(&in, 0, NBD_CMD_WRITE, 1, 8192, sizeof(data));
	st_put(&in, data, sizeof(data));
	st_req(&in, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 2, 0, 10);
	st_put(&in, data, 10);
	st_req(&in, 0, NBD_CMD_FLUSH, 3, 0, 0);
	st_req(&in, 0, NBD_CMD_READ, 4, 8190, 8);
	st_req(&in, 0, NBD_CMD_CACHE, 5, 0, IMG_SIZE);
	st_req(&in, 0, NBD_CMD_DISC, 6, 0, 0);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(cur_simple(&c, 2), 0);
	CHECK_EQ(cur_simple(&c, 3), 0);
	CHECK_EQ(cur_simple(&c, 4), 0);
	d = cur_take(&c, 8);
	CHECK(d && d[0] == 8190 % 251 && d[1] == 8191 % 251);
	CHECK(d && d[2] == 0x5a && d[7] == 0x5a);
	CHECK_EQ(cur_simple(&c, 5), 0);
	CHECK_EQ(c.rem, 0);
	read_image(8192, back, sizeof(back));
	CHECK_MEM(back, data, sizeof(back));
	read_image(0, back, 11);
	CHECK_MEM(back, data, 10);
	CHECK_EQ(back[10], 10);
	free(in.b);
	free(out.b);
}

/*
 * Every request the spec says to refuse, each followed by a READ whose
 * answer proves the stream is still in step.
 */
static void test_errors(void)
{
	static const struct {
		uint16_t flags, type;
		uint64_t off;
		uint32_t len;
		uint32_t err;
	} bad[] = {
		{ 0, NBD_CMD_READ, IMG_SIZE - 4, 8, NBD_EINVAL },
		{ 0, NBD_CMD_READ, ~0ULL - 2, 8, NBD_EINVAL },	/* wraps */
		{ 0, NBD_CMD_READ, 0, 0, NBD_EINVAL },
		{ 0, NBD_CMD_READ, 0, (32u << 20) + 1, NBD_EINVAL },
		{ 0, NBD_CMD_WRITE, IMG_SIZE - 4, 8, NBD_ENOSPC },
		{ 0, NBD_CMD_WRITE, 0, (32u << 20) + 512, NBD_EINVAL },
		{ 0, NBD_CMD_TRIM, IMG_SIZE, 1, NBD_EINVAL },
		{ 0, NBD_CMD_WRITE_ZEROES, IMG_SIZE, 1, NBD_ENOSPC },
		{ 0, NBD_CMD_CACHE, IMG_SIZE, 1, NBD_EINVAL },
		{ 0, NBD_CMD_BLOCK_STATUS, 0, 512, NBD_EINVAL },
		{ 0, 42, 0, 512, NBD_EINVAL },
		{ 1u << 9, NBD_CMD_READ, 0, 512, NBD_EINVAL },
		{ NBD_CMD_FLAG_DF, NBD_CMD_READ, 0, 512, NBD_EINVAL },
		{ NBD_CMD_FLAG_NO_HOLE, NBD_CMD_WRITE, 0, 512, NBD_EINVAL },
		{ NBD_CMD_FLAG_REQ_ONE, NBD_CMD_READ, 0, 512, NBD_EINVAL },
		{ NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_TRIM, 0, 512, NBD_EINVAL },
	};
	struct stream in = { 0 }, out = { 0 };
	unsigned char *payload = calloc(1, (32u << 20) + 512);
	size_t i, n = sizeof(bad) / sizeof(bad[0]);
	const unsigned char *d;
	struct cur c;

	go(&in, "", false);
	for (i = 0; i < n; i++) {
		st_req(&in, bad[i].flags, bad[i].type, 100 + i, bad[i].off,
		       bad[i].len);
		if (bad[i].type == NBD_CMD_WRITE)
			st_put(&in, payload, bad[i].len);
		st_req(&in, 0, NBD_CMD_READ, 200 + i, 251, 1);
	}
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	for (i = 0; i < n; i++) {
		CHECK_EQ(cur_simple(&c, 100 + i), bad[i].err);
		CHECK_EQ(cur_simple(&c, 200 + i), 0);
		d = cur_take(&c, 1);
		CHECK(d && d[0] == 0);
	}
	CHECK_EQ(c.rem, 0);
	free(payload);
	free(in.b);
	free(out.b);
}

static void test_read_only(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char before[512], after[512];
	struct cur c;

	read_image(0, before, sizeof(before));
	go(&in, "ro", false);
	st_req(&in, 0, NBD_CMD_WRITE, 1, 0, 512);
	st_put(&in, after, 512);
	st_req(&in, 0, NBD_CMD_TRIM, 2, 0, 512);
	st_req(&in, 0, NBD_CMD_WRITE_ZEROES, 3, 0, 512);
	st_req(&in, 0, NBD_CMD_FLUSH, 4, 0, 0);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), NBD_EPERM);
	CHECK_EQ(cur_simple(&c, 2), NBD_EPERM);
	CHECK_EQ(cur_simple(&c, 3), NBD_EPERM);
	CHECK_EQ(cur_simple(&c, 4), 0);
	read_image(0, after, sizeof(after));
	CHECK_MEM(before, after, sizeof(after));
	free(in.b);
	free(out.b);
}

/* A wrong magic or a truncated request ends the connection (-1). */
static void test_bad_requests(void)
{
	struct stream in = { 0 }, out = { 0 };
	struct cur c;

	go(&in, "", false);
	st_req(&in, 0, NBD_CMD_READ, 1, 0, 1);
	st_put(&in, "\x12\x56\x09\x53", 4);		/* the old magic */
	st_put(&in, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	st_req(&in, 0, NBD_CMD_READ, 2, 0, 1);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), -1);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK(cur_take(&c, 1) != NULL);
	CHECK_EQ(c.rem, 0);

	in.n = 0;
	go(&in, "", false);
	st_req(&in, 0, NBD_CMD_WRITE, 1, 0, 512);
	st_put(&in, "short", 5);			/* EOF in payload */
	CHECK_EQ(st_run(&in, cfg, &out), -1);

	in.n = 0;
	go(&in, "", false);
	st_put(&in, "\x25\x60\x95\x13\0\0", 6);		/* EOF in header */
	CHECK_EQ(st_run(&in, cfg, &out), -1);

	in.n = 0;
	go(&in, "", false);				/* EOF, no DISC */
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	free(in.b);
	free(out.b);
}

static size_t file_blocks(void)
{
	struct stat st;

	CHECK_EQ(stat(cfg->exports->path, &st), 0);
	return (size_t)st.st_blocks;
}

/* TRIM punches a hole; WRITE_ZEROES zeroes, with or without one. */
static void test_trim_and_zeroes(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char back[65536], zero[65536] = { 0 };
	size_t before = file_blocks();
	struct cur c;

	go(&in, "", false);
	st_req(&in, 0, NBD_CMD_TRIM, 1, 65536, 65536);
	st_req(&in, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE_ZEROES, 2, 131072, 65536);
	st_req(&in, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO,
	       NBD_CMD_WRITE_ZEROES, 3, 196608, 65536);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(cur_simple(&c, 2), 0);
	CHECK_EQ(cur_simple(&c, 3), 0);
	read_image(65536, back, sizeof(back));
	CHECK_MEM(back, zero, sizeof(back));
	read_image(131072, back, sizeof(back));
	CHECK_MEM(back, zero, sizeof(back));
	read_image(196608, back, sizeof(back));
	CHECK_MEM(back, zero, sizeof(back));
	/* two 64 KiB holes: 256 sectors fewer (tmpfs and ext4 both punch) */
	CHECK(file_blocks() + 256 <= before);

	/* An export with trim off refuses TRIM. */
	in.n = 0;
	go(&in, "notrim", false);
	st_req(&in, 0, NBD_CMD_TRIM, 1, 0, 512);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), NBD_EINVAL);
	free(in.b);
	free(out.b);
}

/* One structured chunk with these flags: its type, payload in *data. */
static uint16_t cur_chunk_flags(struct cur *c, uint64_t cookie,
				uint16_t flags, const unsigned char **data,
				uint32_t *len)
{
	const unsigned char *p = cur_take(c, NBD_CHUNK_HDR_SIZE);
	struct nbd_chunk_hdr h;

	if (!p || nbd_chunk_hdr_decode(p, &h) < 0 || h.cookie != cookie ||
	    h.flags != flags)
		return 0xffff;
	*len = h.length;
	*data = cur_take(c, h.length);
	return *data ? h.type : 0xffff;
}

/* The final chunk of a reply. */
static uint16_t cur_chunk(struct cur *c, uint64_t cookie,
			  const unsigned char **data, uint32_t *len)
{
	return cur_chunk_flags(c, cookie, NBD_REPLY_FLAG_DONE, data, len);
}

static void test_structured(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	go(&in, "", true);
	st_req(&in, NBD_CMD_FLAG_DF, NBD_CMD_READ, 1, 300, 4);
	st_req(&in, 0, NBD_CMD_READ, 2, IMG_SIZE, 4);
	/* offsets 64K..256K were zeroed by test_trim_and_zeroes */
	st_req(&in, 0, NBD_CMD_BLOCK_STATUS, 3, 0, 262144);
	st_req(&in, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 4, 0, 262144);
	st_req(&in, 0, NBD_CMD_BLOCK_STATUS, 5, IMG_SIZE, 1);
	st_req(&in, 0, NBD_CMD_FLUSH, 6, 0, 0);
	/* without DF: data, then the 128 KiB hole as one 12-byte chunk */
	st_req(&in, 0, NBD_CMD_READ, 7, 60000, 196608 - 60000);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_chunk(&c, 1, &d, &len), NBD_REPLY_TYPE_OFFSET_DATA);
	CHECK_EQ(len, 12);
	CHECK(d && get_be64(d) == 300 && d[8] == 300 % 251);
	CHECK_EQ(cur_chunk(&c, 2, &d, &len), NBD_REPLY_TYPE_ERROR);
	CHECK(d && len == 6 && get_be32(d) == NBD_EINVAL);
	CHECK_EQ(cur_chunk(&c, 3, &d, &len), NBD_REPLY_TYPE_BLOCK_STATUS);
	CHECK(d && get_be32(d) == SRV_META_ALLOCATION_ID);
	/* data, then a hole (trimmed, punched; the NO_HOLE range may stay) */
	CHECK(len >= 4 + 16);
	CHECK(d && get_be32(d + 4) == 65536 && get_be32(d + 8) == 0);
	CHECK(d && get_be32(d + 12) >= 65536 &&
	      get_be32(d + 16) == (NBD_STATE_HOLE | NBD_STATE_ZERO));
	CHECK_EQ(cur_chunk(&c, 4, &d, &len), NBD_REPLY_TYPE_BLOCK_STATUS);
	CHECK_EQ(len, 12);
	CHECK_EQ(cur_chunk(&c, 5, &d, &len), NBD_REPLY_TYPE_ERROR);
	CHECK_EQ(cur_simple(&c, 6), 0);
	CHECK_EQ(cur_chunk_flags(&c, 7, 0, &d, &len),
		 NBD_REPLY_TYPE_OFFSET_DATA);
	CHECK_EQ(len, 8 + 65536 - 60000);
	CHECK(d && get_be64(d) == 60000 && d[8] == 60000 % 251);
	CHECK_EQ(cur_chunk(&c, 7, &d, &len), NBD_REPLY_TYPE_OFFSET_HOLE);
	CHECK_EQ(len, 12);
	CHECK(d && get_be64(d) == 65536 && get_be32(d + 8) == 131072);
	CHECK_EQ(c.rem, 0);
	free(in.b);
	free(out.b);
}

/* temporary exports: a private file of filesize bytes, gone afterwards. */
static void test_temporary(void)
{
	struct stream in = { 0 }, out = { 0 };
	char dir[] = "/tmp/nbdroot-unit-tmpXXXXXX", path[64];
	unsigned char block[512] = { 1 };
	struct export *e = config_add_export(cfg, "swap");
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/swap", dir);
	e->path = strdup(path);
	e->temporary = true;
	e->filesize = 4 << 20;
	go(&in, "swap", false);
	st_req(&in, 0, NBD_CMD_WRITE, 1, (4 << 20) - 512, 512);
	st_put(&in, block, sizeof(block));
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK(d && get_be64(d + 2) == 4 << 20);
	CHECK(d && !(get_be16(d + 10) & NBD_FLAG_CAN_MULTI_CONN));
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(rmdir(dir), 0);	/* empty: the file is already gone */
	free(in.b);
	free(out.b);
}

/*
 * Requests larger than the read-ahead and reply buffers, and many small
 * ones queued behind them: a WRITE of 700 KiB at an odd offset (written
 * while it arrives, in pieces), then READs of it and around it, whole and
 * in order, on both reply kinds.
 */
static void test_large_and_queued(void)
{
	struct stream in = { 0 }, out = { 0 };
	size_t big = 700u << 10, off = 12345, i;
	unsigned char *data = malloc(big), *back = malloc(big);
	const unsigned char *d;
	struct cur c;

	CHECK(data && back);
	for (i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	go(&in, "", false);
	st_req(&in, 0, NBD_CMD_WRITE, 1, off, (uint32_t)big);
	st_put(&in, data, big);
	st_req(&in, 0, NBD_CMD_READ, 2, off, (uint32_t)big);
	for (i = 0; i < 64; i++)
		st_req(&in, 0, NBD_CMD_READ, 100 + i, off + i * 512, 512);
	st_req(&in, 0, NBD_CMD_DISC, 3, 0, 0);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(cur_simple(&c, 2), 0);
	d = cur_take(&c, big);
	CHECK(d && memcmp(d, data, big) == 0);
	for (i = 0; i < 64; i++) {
		CHECK_EQ(cur_simple(&c, 100 + i), 0);
		d = cur_take(&c, 512);
		CHECK(d && memcmp(d, data + i * 512, 512) == 0);
	}
	CHECK_EQ(c.rem, 0);
	read_image(off, back, big);
	CHECK(memcmp(back, data, big) == 0);

	/* Structured: one OFFSET_DATA chunk carrying all of it. */
	in.n = 0;
	go(&in, "", true);
	st_req(&in, 0, NBD_CMD_READ, 4, off, (uint32_t)big);
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	d = cur_take(&c, NBD_CHUNK_HDR_SIZE + 8);
	CHECK(d && get_be16(d + 6) == NBD_REPLY_TYPE_OFFSET_DATA);
	CHECK(d && get_be32(d + 16) == big + 8 && get_be64(d + 20) == off);
	d = cur_take(&c, big);
	CHECK(d && memcmp(d, data, big) == 0);
	free(data);
	free(back);
	free(in.b);
	free(out.b);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	setup();
	RUN(test_write_read_flush);
	RUN(test_errors);
	RUN(test_read_only);
	RUN(test_bad_requests);
	RUN(test_trim_and_zeroes);
	RUN(test_structured);
	RUN(test_temporary);
	RUN(test_large_and_queued);
	unlink(cfg->exports->path);
	config_free(cfg);
	return unit_done("test-server-transmit");
}
