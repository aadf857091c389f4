// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * A waiting pre-forked child's spare copy-on-write pair (cow.c): the
 * child's first cow_open of the export names it as the client's pair,
 * and nothing after that may take the named pair for the spare. No path
 * opens an export twice in one child today (conn_preopen opens each once,
 * GO takes that one); spare_state's guard ("had") keeps a second open
 * safe should one come: closed and opened again, as generation_cow_open
 * does when it moves to the recorded base, it finds the client's blocks
 * where the first left them, whether or not the spare map fitted the
 * export's length (and so was emptied by the first open).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "backend.h"
#include "server-stream.h"

#define ADDR "10.0.0.7"

/*
 * The inodes of this process's unnamed files in dir, at most max, into
 * inos: how many.
 */
static int unnamed_in(const char *dir, ino_t *inos, int max)
{
	char link[4200], fdpath[300];
	struct dirent *d;
	struct stat st;
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
		if (strncmp(link, dir, dl) || link[dl] != '/' ||
		    !strstr(link, " (deleted)") || stat(fdpath, &st) < 0)
			continue;
		if (count < max)
			inos[count] = st.st_ino;
		count++;
	}
	closedir(fds);
	return count;
}

/* Whether dir/ADDR,root.EXT is one of the n files of inos. */
static bool named_from(const char *dir, const char *ext, const ino_t *inos,
		       int n)
{
	char p[128];
	struct stat st;
	int i;

	snprintf(p, sizeof(p), "%s/" ADDR ",root.%s", dir, ext);
	if (stat(p, &st) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (inos[i] == st.st_ino)
			return true;
	return false;
}

/*
 * Spares laid out for a base of base_then bytes, the base then sized to
 * base_now: a client writes a block through the first open, which is
 * closed, and the second open in the same child must see the block.
 */
static void second_open(size_t base_then, size_t base_now)
{
	char dir[] = "/tmp/nbdroot-spares-XXXXXX", why[SRV_ERRLEN];
	struct config *cfg = st_config(base_then);
	struct export *e = cfg->exports;
	struct backend one = { .fd = -1 }, two = { .fd = -1 };
	unsigned char block[SRV_COW_BLOCK], back[SRV_COW_BLOCK];
	const uint64_t off = 3 * SRV_COW_BLOCK;
	ino_t spare[2];

	CHECK(mkdtemp(dir) != NULL);
	free(e->name);
	e->name = strdup("root");
	e->cow = true;
	e->cowdir = strdup(dir);
	if (cow_spare_probe(e) < 0)
		unit_skip("test-cow-spares", "no O_TMPFILE in /tmp: no spares");
	cow_spares_make(cfg);
	CHECK_EQ(unnamed_in(dir, spare, 2), 2);	/* the spare .cow and .map */
	CHECK_EQ(truncate(e->path, (off_t)base_now), 0);

	CHECK_EQ(cow_open(&one, e, e->path, ADDR, why, sizeof(why)), 0);
	if (!one.cow)
		goto out;
	/* the spare named: no unnamed file left, the pair's are the spare's */
	CHECK_EQ(unnamed_in(dir, NULL, 0), 0);
	CHECK(named_from(dir, "cow", spare, 2));
	CHECK(named_from(dir, "map", spare, 2));
	CHECK(!cow_has_blocks(one.cow));
	memset(block, 0xa5, sizeof(block));
	CHECK_EQ(cow_pwrite(one.cow, block, sizeof(block), off),
		 (ssize_t)sizeof(block));
	CHECK(cow_has_blocks(one.cow));
	CHECK_EQ(export_close(&one), 0);

	CHECK_EQ(cow_open(&two, e, e->path, ADDR, why, sizeof(why)), 0);
	if (!two.cow)
		goto out;
	CHECK(cow_has_blocks(two.cow));
	CHECK_EQ(cow_pread(two.cow, back, sizeof(back), off),
		 (ssize_t)sizeof(back));
	CHECK_MEM(back, block, sizeof(block));
	CHECK_EQ(export_close(&two), 0);
out:
	cow_spares_drop();
	st_remove_cow_pair(dir);
	unlink(e->path);
	config_free(cfg);
}

/*
 * The spare map laid out for another length (a map is a page of bits per
 * 128 MiB of base: 1 MiB and 256 MiB, sparse, differ), which the first
 * open emptied before naming it.
 */
static void test_second_open_spare_of_other_length(void)
{
	second_open(1 << 20, 256 << 20);
}

/* The spare map laid out for this length, taken as it was. */
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
