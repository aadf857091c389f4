// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * Durability: a failed fdatasync reaches the client as EIO, for FLUSH and
 * for FUA writes, and keeps failing later FLUSHes even once the kernel
 * would report success again (it forgets a writeback error after one
 * report, so a server that retried would tell the client a lie).
 *
 * fdatasync is interposed here: this executable's definition wins over
 * the C library's for the server code linked into it.
 */
#include <errno.h>

#include "server-stream.h"

static int sync_calls;
static int failures_left;	/* this many calls fail; negative: all */

int fdatasync(int fd)
{
	(void)fd;
	sync_calls++;
	if (failures_left == 0)
		return 0;
	if (failures_left > 0)
		failures_left--;
	errno = EIO;
	return -1;
}

static struct config *cfg;

static void go(struct stream *s)
{
	st_hello(s, 3);
	st_info(s, NBD_OPT_GO, "", 0, NULL, 0);
}

static void test_flush_and_fua(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char block[512] = { 7 };
	struct cur c;

	go(&in);
	st_req(&in, 0, NBD_CMD_WRITE, 1, 0, 512);		/* no sync */
	st_put(&in, block, 512);
	st_req(&in, 0, NBD_CMD_FLUSH, 2, 0, 0);			/* syncs */
	st_req(&in, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 3, 512, 512);
	st_put(&in, block, 512);
	st_req(&in, NBD_CMD_FLAG_FUA, NBD_CMD_WRITE_ZEROES, 4, 0, 4096);
	st_req(&in, NBD_CMD_FLAG_FUA, NBD_CMD_TRIM, 5, 8192, 4096);
	sync_calls = 0;
	failures_left = 0;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(cur_simple(&c, 2), 0);
	CHECK_EQ(cur_simple(&c, 3), 0);
	CHECK_EQ(cur_simple(&c, 4), 0);
	CHECK_EQ(cur_simple(&c, 5), 0);
	CHECK_EQ(sync_calls, 4);	/* FLUSH and three FUAs, not the WRITE */

	/* Every sync fails: each of them is EIO, the plain WRITE is not. */
	failures_left = -1;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	CHECK_EQ(cur_simple(&c, 2), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 3), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 4), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 5), NBD_EIO);
	free(in.b);
	free(out.b);
}

/* One failure poisons the connection: later FLUSHes stay EIO. */
static void test_sticky(void)
{
	struct stream in = { 0 }, out = { 0 };
	struct cur c;

	go(&in);
	st_req(&in, 0, NBD_CMD_FLUSH, 1, 0, 0);
	st_req(&in, 0, NBD_CMD_FLUSH, 2, 0, 0);
	st_req(&in, 0, NBD_CMD_FLUSH, 3, 0, 0);
	sync_calls = 0;
	failures_left = 1;	/* then the kernel reports success again */
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 2), NBD_EIO);
	CHECK_EQ(cur_simple(&c, 3), NBD_EIO);
	CHECK_EQ(sync_calls, 3);

	/* a new connection starts clean */
	failures_left = 0;
	CHECK_EQ(st_run_tx(&in, cfg, &out, &c), 0);
	CHECK_EQ(cur_simple(&c, 1), 0);
	free(in.b);
	free(out.b);
}

int main(int argc, char **argv)
{
	struct export *e;

	unit_start(argc, argv);
	cfg = st_config(1 << 20);
	e = cfg->exports;
	RUN(test_flush_and_fua);
	RUN(test_sticky);
	unlink(e->path);
	config_free(cfg);
	return unit_done("test-durability");
}
