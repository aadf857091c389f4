// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * A waiting pre-forked child's spare copy-on-write pair (cow.c): the
 * child's first cow_open of the export names it as the client's pair,
 * and nothing after that may take the named pair for the spare. A second
 * cow_open of the same export in the same child (generation_cow_open
 * does one when the base is replaced between its look at the client's
 * record and its open) finds the client's blocks where the first left
 * them, even when the spare map was laid out for another length and so
 * was emptied by the first.
 */
#include <dirent.h>
#include <fcntl.h>

#include "backend.h"
#include "server-stream.h"

#define ADDR "10.0.0.7"

/* How many of this process's descriptors are unnamed files in dir. */
static int unnamed_in(const char *dir)
{
	char link[4200], fdpath[300];
	struct dirent *d;
	DIR *fds = opendir("/proc/self/fd");
	size_t dl = strlen(dir);
	ssize_t n;
	int count = 0;

	if (!fds)
		return -1;
	while ((d = readdir(fds))) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%s", d->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strncmp(link, dir, dl) && link[dl] == '/' &&
		    strstr(link, " (deleted)"))
			count++;
	}
	closedir(fds);
	return count;
}

static void remove_pair(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/" ADDR ",root.cow", dir);
	CHECK_EQ(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/" ADDR ",root.map", dir);
	CHECK_EQ(unlink(p), 0);
	CHECK_EQ(rmdir(dir), 0);
}

/*
 * Spares laid out for a base of base_then bytes, the base then grown to
 * base_now: a client writes a block through the first open, and a second
 * open in the same child must see it.
 */
static void second_open(size_t base_then, size_t base_now)
{
	char dir[] = "/tmp/nbdroot-spares-XXXXXX", why[SRV_ERRLEN];
	struct config *cfg = st_config(base_then);
	struct export *e = cfg->exports;
	struct backend one = { .fd = -1 }, two = { .fd = -1 };
	unsigned char block[SRV_COW_BLOCK], back[SRV_COW_BLOCK];
	const uint64_t off = 3 * SRV_COW_BLOCK;

	CHECK(mkdtemp(dir) != NULL);
	free(e->name);
	e->name = strdup("root");
	e->cow = true;
	e->cowdir = strdup(dir);
	CHECK_EQ(cow_spare_probe(e), 0);
	cow_spares_make(cfg);
	CHECK_EQ(unnamed_in(dir), 2);	/* the spare .cow and .map */
	CHECK_EQ(truncate(e->path, (off_t)base_now), 0);

	CHECK_EQ(cow_open(&one, e, e->path, ADDR, why, sizeof(why)), 0);
	CHECK_EQ(unnamed_in(dir), 0);	/* both taken: the spare was used */
	CHECK(!cow_has_blocks(one.cow));
	memset(block, 0xa5, sizeof(block));
	CHECK_EQ(cow_pwrite(one.cow, block, sizeof(block), off),
		 (ssize_t)sizeof(block));
	CHECK(cow_has_blocks(one.cow));

	CHECK_EQ(cow_open(&two, e, e->path, ADDR, why, sizeof(why)), 0);
	CHECK(cow_has_blocks(two.cow));
	CHECK(cow_has_blocks(one.cow));
	CHECK_EQ(cow_pread(two.cow, back, sizeof(back), off),
		 (ssize_t)sizeof(back));
	CHECK_MEM(back, block, sizeof(block));

	CHECK_EQ(export_close(&two), 0);
	CHECK_EQ(export_close(&one), 0);
	cow_spares_drop();
	remove_pair(dir);
	unlink(e->path);
	config_free(cfg);
}

/*
 * The spare map was emptied by the first open: the second must not. A map
 * is a page of bits per 128 MiB of base, so 1 MiB and 256 MiB (sparse)
 * lay it out for different lengths.
 */
static void test_second_open_spare_of_other_length(void)
{
	second_open(1 << 20, 256 << 20);
}

/* The spare map fit: the second open must not skip the client's map. */
static void test_second_open_spare_that_fit(void)
{
	second_open(1 << 20, 1 << 20);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_second_open_spare_of_other_length);
	RUN(test_second_open_spare_that_fit);
	return unit_done("test-cow-spares");
}
