// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write exports (copyonwrite = true): every client sees the base
 * file plus its own writes; the base is opened read-only and never
 * written. A client's blocks live in cowdir as two files named after its
 * address and the export:
 *
 *   ADDR,EXPORT.cow  sparse, as large as the export, data at its offsets
 *   ADDR,EXPORT.map  one bit per SRV_COW_BLOCK: set once the block's
 *                    current contents are in the .cow file; then the
 *                    bits a FLUSH made durable (the layout is below)
 *
 * Unlike upstream nbd-server, which discards a client's writes when it
 * disconnects (a reconnecting root then sees them vanish), the files stay
 * until cowtimeout seconds after the client's last connection ended. Each
 * connection holds a shared flock on the .cow file; the sweeper deletes a
 * pair only under an exclusive one, so never while a client uses it. The
 * map is a shared mapping, so two connections of one client see each
 * other's blocks, and a write that must first own a block holds a lock on
 * the blocks' range of the .cow file (an open file description lock,
 * which each connection's own open of the file contends for): one
 * connection's copy from the base never lands on the other's write. A
 * connection sets the pair up under such a lock on the whole .cow file,
 * so a second one waits until the first has, and finds the pair in use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

/*
 * Spare files. A waiting pre-forked child (pool.c) makes, before any
 * client comes, two unnamed files (O_TMPFILE) in the cowdir of each
 * copy-on-write export; a client whose pair is new gets them linked in
 * under its names. The inodes are allocated while the server is idle,
 * not while a room connects at once, where 200 children creating 400
 * files took the server's core for longer than all their negotiations
 * (N = 200, one request each: the slowest connect 127 to 140 ms creating
 * the pairs, 57 to 62 with the pairs already there). Spares are empty,
 * as a file just created is, but for the .map's length and tail, laid
 * out for the export's size as it was then (spare_lay): the connect then
 * writes nothing to it. One never linked goes with its process.
 */
struct spare {
	const struct export *e;
	int fd[2];		/* .cow, .map; -1 once taken or not made */
	dev_t dev;		/* the .map's */
	ino_t ino;
	size_t maplen;		/* its regions' length, laid out; 0: not */
};

static struct spare *spares;
static size_t nspares;

/*
 * The .map file, in regions of maplen bytes (a multiple of 4 KiB):
 *
 *   [0, maplen)             live bits, what reads and writes go by
 *   [maplen, 2 maplen)      flushed bits, set only after the .cow data
 *                           they stand for was synced (cow_sync)
 *   MAP_TAIL bytes          MAP_MAGIC and the boot id of the host that
 *                           last set the live bits up
 *   one byte more           cow_close's mark (its mtime), once written
 *
 * Nothing orders the writeback of the live bits before the data's, so
 * after the host went down a live bit may stand for a block whose data
 * never reached the disk (it would read as zeros): in another boot the
 * live bits are set up again from the flushed ones, and the writes not
 * flushed before are gone, as on a disk. A restart of the server alone
 * keeps them, and so every write it answered (the page cache outlives
 * the process). The map of an older server, its bits alone, is taken as
 * flushed, as it was.
 */
#define MAP_MAGIC	"nbdroot-map1"
#define MAP_MAGIC_LEN	12
#define MAP_BOOT_LEN	36	/* /proc/sys/kernel/random/boot_id */
#define MAP_TAIL	(MAP_MAGIC_LEN + MAP_BOOT_LEN)

struct cow {
	int base;		/* read-only */
	int data;		/* the .cow file */
	int mapfd;
	unsigned char *map;	/* mmap of the .map file's two regions */
	uint64_t *snap;		/* maplen bytes: cow_sync's copy of the live bits */
	size_t maplen;		/* of one region */
	uint64_t size;
};

static bool has_block(const struct cow *w, uint64_t b)
{
	return __atomic_load_n(&w->map[b >> 3], __ATOMIC_ACQUIRE) &
	       (1u << (b & 7));
}

static void set_block(struct cow *w, uint64_t b)
{
	__atomic_fetch_or(&w->map[b >> 3], (unsigned char)(1u << (b & 7)),
			  __ATOMIC_RELEASE);
}

/* The export as this client sees it: runs of blocks from one file each. */
ssize_t cow_pread(struct cow *w, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	uint64_t b, end = off + len, stop;
	bool mine;
	int fd;

	while (off < end) {
		b = off / SRV_COW_BLOCK;
		mine = has_block(w, b);
		stop = (b + 1) * SRV_COW_BLOCK;
		while (stop < end && has_block(w, stop / SRV_COW_BLOCK) == mine)
			stop += SRV_COW_BLOCK;
		if (stop > end)
			stop = end;
		fd = mine ? w->data : w->base;
		if (pread_full(fd, p, (size_t)(stop - off), off) < 0)
			return -1;
		p += stop - off;
		off = stop;
	}
	return (ssize_t)len;
}

/*
 * A write that covers part of a block not yet ours first copies the
 * block from the base, so that the rest of it keeps the base's bytes.
 */
static int own_block(struct cow *w, uint64_t b)
{
	unsigned char block[SRV_COW_BLOCK];
	uint64_t off = b * SRV_COW_BLOCK;
	size_t n = SRV_COW_BLOCK;

	if (off + n > w->size)
		n = (size_t)(w->size - off);
	if (pread_full(w->base, block, n, off) < 0 ||
	    pwrite_full(w->data, block, n, off) < 0)
		return -1;
	return 0;
}

/*
 * F_WRLCK or F_UNLCK on len bytes of fd from start (0: to the end and
 * beyond), an open file description lock, waiting for it; 0 or -1.
 */
static int lock_range(int fd, off_t start, off_t len, short type)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET,
		.l_start = start, .l_len = len,
	};
	int r;

	do
		r = fcntl(fd, F_OFD_SETLKW, &fl);
	while (r < 0 && errno == EINTR);
	return r;
}

/* F_WRLCK or F_UNLCK on blocks first..last of the .cow file; 0 or -1. */
static int lock_blocks(struct cow *w, uint64_t first, uint64_t last,
		       short type)
{
	return lock_range(w->data, (off_t)(first * SRV_COW_BLOCK),
			  (off_t)((last - first + 1) * SRV_COW_BLOCK), type);
}

static bool owns_all(const struct cow *w, uint64_t first, uint64_t last)
{
	uint64_t b;

	for (b = first; b <= last; b++)
		if (!has_block(w, b))
			return false;
	return true;
}

/* The write itself; blocks not yet owned are locked by the caller. */
static ssize_t write_blocks(struct cow *w, const void *buf, size_t len,
			    uint64_t off)
{
	uint64_t end = off + len, first = off / SRV_COW_BLOCK,
		 last = (end - 1) / SRV_COW_BLOCK, b;
	bool head, tail;

	head = off % SRV_COW_BLOCK != 0;
	tail = end % SRV_COW_BLOCK != 0 && end < w->size;
	if (head && !has_block(w, first) && own_block(w, first) < 0)
		return -1;
	if (tail && (last != first || !head) && !has_block(w, last) &&
	    own_block(w, last) < 0)
		return -1;
	if (pwrite_full(w->data, buf, len, off) < 0)
		return -1;
	/* Data first, then the bit: a reader never sees a bit without it. */
	for (b = first; b <= last; b++)
		set_block(w, b);
	return (ssize_t)len;
}

ssize_t cow_pwrite(struct cow *w, const void *buf, size_t len, uint64_t off)
{
	uint64_t first = off / SRV_COW_BLOCK,
		 last = (off + len - 1) / SRV_COW_BLOCK;
	ssize_t r;
	int e;

	if (len == 0)
		return 0;
	if (owns_all(w, first, last))
		return write_blocks(w, buf, len, off);
	if (lock_blocks(w, first, last, F_WRLCK) < 0)
		return -1;
	r = write_blocks(w, buf, len, off);
	e = errno;
	lock_blocks(w, first, last, F_UNLCK);
	errno = e;
	return r;
}

/* ORs n words of from into to, each only where it sets a bit. */
static void map_or(uint64_t *to, const uint64_t *from, size_t n)
{
	uint64_t f;
	size_t i;

	for (i = 0; i < n; i++) {
		f = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
		if (f & ~__atomic_load_n(&to[i], __ATOMIC_RELAXED))
			__atomic_fetch_or(&to[i], f, __ATOMIC_RELEASE);
	}
}

/*
 * MS_SYNC of len bytes of the mapping from p, widened to whole pages:
 * regions are whole 4 KiB blocks, a page may be larger (64 KiB).
 */
static int map_msync(const struct cow *w, unsigned char *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)p - (uintptr_t)w->map) & ~(page - 1);

	return msync(w->map + from, (size_t)((uintptr_t)p + len -
					     (uintptr_t)w->map - from), MS_SYNC);
}

/*
 * Drops the .cow file's clean pages from the page cache. A client reads
 * back almost none of what it wrote: its own page cache holds it (the
 * recorded Debian boot reads 1 of its 162 writes' blocks again). Kept,
 * a room's overlays (500 clients of that boot: 7.3 GiB) push the base
 * image that every client reads out of the server's memory, and each
 * client's writes take fresh pages, where dropped ones are handed to the
 * next writer. Pages another connection of the client wrote since the
 * fdatasync are dirty: the advice starts their writeback, and they stay.
 */
static void overlay_drop(const struct cow *w)
{
	(void)posix_fadvise(w->data, 0, 0, POSIX_FADV_DONTNEED);
}

/*
 * FLUSH and FUA: a copy of the live bits as they are now, then the data,
 * then the copy into the flushed bits. A bit is set only once its block's
 * data was written (cow_pwrite), so every bit of the copy stands for data
 * the fdatasync covers, whichever connection of the client wrote it; one
 * set meanwhile waits for the next flush. Bits are only ever set, so two
 * connections flushing at once merge theirs with atomic ORs. On Linux,
 * MS_SYNC of a shared mapping is a datasync of the file's mapped range
 * (mm/msync.c: vfs_fsync_range), which reports writeback errors as
 * fdatasync does.
 *
 * The data synced leaves the server's page cache (overlay_drop).
 */
int cow_sync(struct cow *w)
{
	uint64_t *live = (uint64_t *)w->map, *flushed = live + w->maplen / 8;
	size_t i, n = w->maplen / 8;	/* maplen: whole pages */

	for (i = 0; i < n; i++)
		w->snap[i] = __atomic_load_n(&live[i], __ATOMIC_ACQUIRE);
	if (fdatasync(w->data) < 0)
		return -1;
	overlay_drop(w);
	map_or(flushed, w->snap, n);
	return map_msync(w, (unsigned char *)flushed, w->maplen);
}

/* "ADDR,EXPORT": bytes other than [A-Za-z0-9._-] become %XX. */
static int cow_key(char *out, size_t outlen, const char *addr,
		   const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *parts[2] = { addr, name };
	size_t o = 0;
	const char *p;
	int i;

	for (i = 0; i < 2; i++) {
		if (i && o + 1 < outlen)
			out[o++] = ',';
		for (p = parts[i]; *p; p++) {
			unsigned char ch = (unsigned char)*p;

			if (o + 4 >= outlen)
				return -1;
			if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
			    ch == '_') {
				out[o++] = (char)ch;
				continue;
			}
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/*
 * Gives the unnamed file fd the name path. 0, or -1 with errno. A process
 * with CAP_DAC_READ_SEARCH names it directly; any other one through
 * /proc (where that, too, is refused, the caller creates the file).
 */
static int link_spare(int fd, const char *path)
{
	char proc[40];

	if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

/*
 * Opens path read-write, never through a symbolic link (cowdir may be
 * the dropped user's, the opener root), creating it if new: by naming
 * *spare path when there is a spare (it is then used up: -1), else with
 * O_CREAT. A named spare is opened again by its name, so that the
 * connection's files do not show as deleted (lsof +L1). fd, or -1 with
 * errno.
 */
static int open_create(const char *path, int *spare)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	int fd, linked;

	if (!spare || *spare < 0)
		return open(path, flags | O_CREAT, 0600);
	fd = open(path, flags);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	linked = link_spare(*spare, path);
	close(*spare);
	*spare = -1;
	/*
	 * Named (then the sweeper may already have taken it: it is as old as
	 * the spare, and open_locked looks again), or made meanwhile by
	 * another connection of the client, or no link at all: as without.
	 */
	fd = linked == 0 ? open(path, flags) : -1;
	return fd >= 0 ? fd : open(path, flags | O_CREAT, 0600);
}

/*
 * Opens (creating) the .cow file and takes the shared lock; a file the
 * sweeper unlinked between our open and our lock is opened again.
 */
static int open_locked(const char *path, int *spare)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		fd = open_create(path, spare);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_SH) < 0)
			goto out_close;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
out_close:
	close(fd);
	return -1;
}

static size_t map_bytes(uint64_t size)
{
	uint64_t blocks = (size + SRV_COW_BLOCK - 1) / SRV_COW_BLOCK;
	size_t n = (size_t)((blocks + 7) / 8);

	return n ? (n + 4095) & ~(size_t)4095 : 4096;
}

/* DIR/KEY.EXT into path. 0, or -1 with why when it does not fit. */
static int cow_path(char *path, size_t len, const char *dir, const char *key,
		    const char *ext, char *why, size_t whylen)
{
	int n = snprintf(path, len, "%s/%s.%s", dir, key, ext);

	if (n >= 0 && (size_t)n < len)
		return 0;
	snprintf(why, whylen, "copy-on-write: cowdir %.100s...: file name too long (%d > %zu)",
		 dir, n, len - 1);
	return -1;
}

/* DIR/KEY.EXT of the client at addr (generation.c keeps KEY.gen there). */
int cow_client_path(const struct export *e, const char *addr,
		    const char *ext, char *out, size_t len)
{
	char key[600], why[SRV_ERRLEN];

	if (cow_key(key, sizeof(key), addr, e->name) < 0 ||
	    cow_path(out, len, e->cowdir, key, ext, why, sizeof(why)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Gives fd the size len; with empty, what it holds is dropped first. An
 * empty file is not truncated to 0: ext4 takes that for a file being
 * rewritten and writes its blocks out when it is closed (auto_da_alloc).
 */
static int size_file(int fd, off_t len, bool empty)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (empty && st.st_size > 0) {
		if (ftruncate(fd, 0) < 0)
			return -1;
		st.st_size = 0;
	}
	return st.st_size == len ? 0 : ftruncate(fd, len);
}

/*
 * This host's boot id into id (MAP_BOOT_LEN bytes), read once; false when
 * /proc does not tell it (the live bits are then kept, as they were
 * before there were flushed ones).
 */
static bool boot_id(char *id)
{
	static char cached[MAP_BOOT_LEN];
	static int state;	/* 0 not read yet, 1 read, -1 unknown */
	int fd;

	if (!state) {
		fd = open("/proc/sys/kernel/random/boot_id",
			  O_RDONLY | O_CLOEXEC);
		state = fd >= 0 && read(fd, cached, sizeof(cached)) ==
				   (ssize_t)sizeof(cached) ? 1 : -1;
		if (fd >= 0)
			close(fd);
	}
	if (state > 0)
		memcpy(id, cached, sizeof(cached));
	return state > 0;
}

/* MAP_MAGIC and this boot's id after the two regions. */
static int map_put_tail(int fd, size_t maplen)
{
	char tail[MAP_TAIL];

	memcpy(tail, MAP_MAGIC, MAP_MAGIC_LEN);
	if (!boot_id(tail + MAP_MAGIC_LEN))
		memset(tail + MAP_MAGIC_LEN, '-', MAP_BOOT_LEN);
	return pwrite_full(fd, tail, sizeof(tail), 2 * (uint64_t)maplen);
}

/*
 * Where the map of st_size bytes stands: 1 set up in this boot (or a
 * boot not known, then or now), 0 in another one or with its tail lost,
 * -1 not in this layout (empty, or an older server's bits alone).
 */
static int map_boot(int fd, size_t maplen, off_t st_size)
{
	char tail[MAP_TAIL], now[MAP_BOOT_LEN], unknown[MAP_BOOT_LEN];
	off_t end = (off_t)(2 * maplen + MAP_TAIL);

	if (st_size != end && st_size != end + 1)
		return -1;
	if (pread_full(fd, tail, sizeof(tail), 2 * (uint64_t)maplen) < 0 ||
	    memcmp(tail, MAP_MAGIC, MAP_MAGIC_LEN))
		return 0;
	memset(unknown, '-', sizeof(unknown));
	if (!boot_id(now) ||
	    !memcmp(tail + MAP_MAGIC_LEN, unknown, MAP_BOOT_LEN))
		return 1;
	return memcmp(tail + MAP_MAGIC_LEN, now, MAP_BOOT_LEN) == 0;
}

/*
 * A map kept as set up: the flushed bits are in the live ones (a no-op in
 * the boot that set them, where live holds them all already; where the
 * boot is not known, a flushed bit whose live one never reached the disk
 * before a crash is kept).
 */
static void map_keep(struct cow *w)
{
	uint64_t *live = (uint64_t *)w->map;

	map_or(live, live + w->maplen / 8, w->maplen / 8);
}

/*
 * Brings a map not in this layout to it, before it is mapped. Empty (a
 * new pair): its length and tail. An older server's bits: they are both
 * the live and the flushed ones, made durable (data first) before the
 * tail is written, since with the tail a lost copy would read as no
 * block at all. A crash on the way leaves a length of neither layout,
 * and this is done again.
 */
static int map_convert(struct cow *w, off_t st_size)
{
	size_t i;
	bool any = false;

	if (st_size == 0)
		return map_put_tail(w->mapfd, w->maplen);
	if ((st_size != (off_t)w->maplen &&
	     ftruncate(w->mapfd, (off_t)w->maplen) < 0) ||
	    pread_full(w->mapfd, w->snap, w->maplen, 0) < 0)
		return -1;
	for (i = 0; i < w->maplen / 8; i++)
		any |= w->snap[i] != 0;
	if (any && (fdatasync(w->data) < 0 ||
		    pwrite_full(w->mapfd, w->snap, w->maplen, w->maplen) < 0 ||
		    fdatasync(w->mapfd) < 0))
		return -1;
	return map_put_tail(w->mapfd, w->maplen);
}

/*
 * Is the map open at fd sp's spare, taken by this connect (had: sp held
 * it before)? 1 yes, laid out for regions of maplen (its bits all 0, its
 * tail of this boot: a spare never outlives its process); 0 yes, but not
 * laid out for this length (emptied before it was named, see
 * spare_fit); -1 no.
 */
static int spare_state(const struct spare *sp, bool had, int fd,
		       size_t maplen)
{
	struct stat st;

	if (!had || sp->fd[1] >= 0 || fstat(fd, &st) < 0 ||
	    st.st_dev != sp->dev || st.st_ino != sp->ino)
		return -1;
	return sp->maplen == maplen &&
	       st.st_size == (off_t)(2 * maplen + MAP_TAIL);
}

/*
 * Empties sp's map, still unnamed, when it is not laid out for regions
 * of maplen (a base replaced since, a layout cut short): once named, a
 * length or tail of another layout beside a .cow in use would be read as
 * an older server's bits if this connect went down before emptying it.
 */
static void spare_fit(struct spare *sp, size_t maplen)
{
	if (sp && sp->fd[1] >= 0 && sp->maplen != maplen &&
	    size_file(sp->fd[1], 0, true) == 0)
		sp->maplen = 0;
}

/* "copy-on-write PATH: why" for errno into why; -1. */
static int file_error(const char *path, char *why, size_t whylen)
{
	snprintf(why, whylen, "copy-on-write %.200s: %s", path,
		 strerror(errno));
	return -1;
}

/*
 * cow_files' work under its lock, on the open .cow file (cowpath): opens
 * the map (mappath; from sp's spare when there is one), empties the pair
 * if it is fresh, sizes and maps the map. A fresh pair's map is emptied
 * before its .cow file gets the base's size, which is what says the pair
 * is set up: a setup cut short in between is done again, and old map bits
 * never stand for blocks of an emptied .cow file. The client's spare map
 * is kept when laid out for this length, else emptied (whatever the .cow
 * file: its length or tail must not be taken for an older server's bits).
 */
static int cow_setup(struct cow *w, const char *cowpath, const char *mappath,
		     struct spare *sp, char *why, size_t whylen)
{
	bool fresh, had = sp && sp->fd[1] >= 0;
	int booted = -1, spare;
	struct stat st;

	if (fstat(w->data, &st) < 0)
		return file_error(cowpath, why, whylen);
	fresh = (uint64_t)st.st_size != w->size;
	w->maplen = map_bytes(w->size);
	spare_fit(sp, w->maplen);
	w->mapfd = open_create(mappath, sp ? &sp->fd[1] : NULL);
	if (w->mapfd < 0)
		return file_error(mappath, why, whylen);
	spare = spare_state(sp, had, w->mapfd, w->maplen);
	if ((spare == 0 || (fresh && spare < 0)) &&
	    size_file(w->mapfd, 0, true) < 0)
		return file_error(mappath, why, whylen);
	if (fresh && size_file(w->data, (off_t)w->size, true) < 0)
		return file_error(cowpath, why, whylen);
	w->snap = malloc(w->maplen);
	if (!w->snap)
		return file_error(mappath, why, whylen);
	if (spare != 1) {
		if (fstat(w->mapfd, &st) < 0)
			return file_error(mappath, why, whylen);
		booted = map_boot(w->mapfd, w->maplen, st.st_size);
		if (booted < 0 && map_convert(w, st.st_size) < 0)
			return file_error(mappath, why, whylen);
	}
	w->map = mmap(NULL, 2 * w->maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
		      w->mapfd, 0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		return file_error(mappath, why, whylen);
	}
	/* another boot: the flushed bits are the live ones again */
	if (booted == 0) {
		memcpy(w->map, w->map + w->maplen, w->maplen);
		if (map_put_tail(w->mapfd, w->maplen) < 0)
			return file_error(mappath, why, whylen);
	} else if (booted == 1) {
		map_keep(w);	/* not when converted or laid out: all equal */
	}
	return 0;
}

/*
 * Sets up the client's copy for a connection. A .cow file of another size
 * than the base (new, or the base was replaced) starts empty again, map
 * included. The whole .cow file is locked from the look at its size to
 * the map's mapping: a second connection of the client that came while
 * the first set the pair up would otherwise take it for new too, and
 * clear the map (and so lose the blocks) the first has begun to write.
 */
static int cow_files(struct cow *w, const char *dir, const char *key,
		     struct spare *sp, char *why, size_t whylen)
{
	char cowpath[4096], mappath[4096];
	int r;

	if (cow_path(cowpath, sizeof(cowpath), dir, key, "cow", why,
		     whylen) < 0 ||
	    cow_path(mappath, sizeof(mappath), dir, key, "map", why,
		     whylen) < 0)
		return -1;
	w->data = open_locked(cowpath, sp ? &sp->fd[0] : NULL);
	if (w->data < 0 || lock_range(w->data, 0, 0, F_WRLCK) < 0)
		return file_error(cowpath, why, whylen);
	r = cow_setup(w, cowpath, mappath, sp, why, whylen);
	lock_range(w->data, 0, 0, F_UNLCK);
	return r;
}

/* An unnamed file in dir (a spare): fd, or -1 with errno. */
static int open_spare(const char *dir)
{
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* e's spare pair, or NULL when it has none. */
static struct spare *spare_of(const struct export *e)
{
	size_t i;

	for (i = 0; i < nspares; i++)
		if (spares[i].e == e)
			return &spares[i];
	return NULL;
}

/*
 * Notes which file sp's .map is and lays it out for the export's size as
 * it is now: length and tail, as map_convert does on a connect. Not where
 * the base's path depends on the client ("%s"), nor when anything fails:
 * the connect empties the map then, and lays it out.
 */
static void spare_lay(struct spare *sp)
{
	const struct export *e = sp->e;
	struct stat base, map;
	size_t maplen;

	if (sp->fd[1] < 0 || fstat(sp->fd[1], &map) < 0)
		return;
	sp->dev = map.st_dev;
	sp->ino = map.st_ino;
	if (strstr(e->path, "%s") || stat(e->path, &base) < 0 ||
	    !S_ISREG(base.st_mode))
		return;
	maplen = map_bytes((uint64_t)base.st_size);
	if (map_put_tail(sp->fd[1], maplen) == 0)
		sp->maplen = maplen;
}

/*
 * In a waiting pre-forked child: the boot id read for the maps' tails,
 * and a spare pair in the cowdir of each copy-on-write export, its map
 * laid out. Where a spare cannot be made (no cowdir yet, a file system
 * without O_TMPFILE) that export's pairs are created as before. No
 * spares over TLS: its pairs are created after the privilege drop, by a
 * user that could not open a spare made by root again (conn.c).
 */
void cow_spares_make(const struct config *cfg)
{
	char id[MAP_BOOT_LEN];
	const struct export *e;
	size_t n = 0;
	int i;

	for (e = cfg->exports; e; e = e->next)
		if (e->cow)
			n++;
	if (!n || spares)
		return;
	boot_id(id);	/* read once, now, for the tails of its maps */
	if (cfg->tls || !(spares = calloc(n, sizeof(*spares))))
		return;
	for (e = cfg->exports; e; e = e->next) {
		if (!e->cow)
			continue;
		spares[nspares].e = e;
		for (i = 0; i < 2; i++)
			spares[nspares].fd[i] = open_spare(e->cowdir);
		spare_lay(&spares[nspares++]);
	}
}

/* Whether e's cowdir can hold spares: 0, or -1 with errno. */
int cow_spare_probe(const struct export *e)
{
	int fd = open_spare(e->cowdir);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Closes the spares not used: the client's pairs are open (conn.c, after
 * conn_preopen, or after the first export opened for GO).
 */
void cow_spares_drop(void)
{
	size_t i;
	int k;

	for (i = 0; i < nspares; i++)
		for (k = 0; k < 2; k++)
			if (spares[i].fd[k] >= 0)
				close(spares[i].fd[k]);
	free(spares);
	spares = NULL;
	nspares = 0;
}

/*
 * Opens base read-only and the copy of the client at addr; sets b->fd (the
 * base), b->cow and b->size. 0, or -1 with why.
 */
int cow_open(struct backend *b, const struct export *e, const char *base,
	     const char *addr, char *why, size_t whylen)
{
	char key[600];
	struct stat st;
	struct cow *w;

	if (cow_key(key, sizeof(key), addr, e->name) < 0) {
		snprintf(why, whylen, "copy-on-write: export name of %zu bytes too long for a file name (escaped, at most %zu)",
			 strlen(e->name), sizeof(key) - 1);
		return -1;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(why, whylen, "copy-on-write: out of memory");
		return -1;
	}
	w->data = w->mapfd = -1;
	w->base = open(base, O_RDONLY | O_CLOEXEC);
	if (w->base < 0 || fstat(w->base, &st) < 0) {
		snprintf(why, whylen, "%s: %s", base, strerror(errno));
		goto out_free;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: copyonwrite needs a regular file",
			 base);
		goto out_free;
	}
	w->size = (uint64_t)st.st_size;
	if (cow_files(w, e->cowdir, key, spare_of(e), why, whylen) < 0)
		goto out_free;
	b->cow = w;
	b->fd = w->base;
	b->size = w->size;
	return 0;
out_free:
	cow_close(w);
	return -1;
}

/*
 * Another base under the client's blocks: an older generation, opened
 * before the privilege drop (generation.c). It must have the size the
 * copy was made for, else -1 with EINVAL; the former base is closed.
 */
int cow_rebase(struct cow *w, int base)
{
	struct stat st;

	if (fstat(base, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != w->size) {
		errno = EINVAL;
		return -1;
	}
	close(w->base);
	w->base = base;
	return 0;
}

/* What cow_open allocates for a connection (prefault.c makes it once). */
size_t cow_struct_size(void)
{
	return sizeof(struct cow);
}

/* Has the client any block of its own: a bit set in its map. */
bool cow_has_blocks(const struct cow *w)
{
	size_t i;

	for (i = 0; i < w->maplen; i++)
		if (__atomic_load_n(&w->map[i], __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/*
 * Has the client written anything: a bit set in its .map at mappath, read
 * without mapping it (generation.c; conn_preopen makes empty files for
 * every client of every export, and those pin nothing). The tail, at a
 * page boundary plus MAP_TAIL (and the mark), is no bits.
 */
bool cow_map_written(const char *mappath)
{
	unsigned char buf[4096];
	int fd = open(mappath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	off_t left, pos = 0;
	ssize_t n, i;
	bool any = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return false;
	}
	left = st.st_size;
	if (left % 4096 == MAP_TAIL || left % 4096 == MAP_TAIL + 1)
		left -= left % 4096;
	while (!any && left > 0 &&
	       (n = pread(fd, buf, left < (off_t)sizeof(buf) ? (size_t)left :
			  sizeof(buf), pos)) > 0) {
		for (i = 0; i < n && !any; i++)
			any = buf[i] != 0;
		left -= n;
		pos += n;
	}
	close(fd);
	return any;
}

/*
 * The mtime of the map marks the end of the last connection. It is set by
 * writing a byte past the tail, not with futimens: that checks access
 * again, against the user the child has become since it opened a file
 * that may be root's (privdrop.c). 0, or -1 with errno when it could not
 * be set (everything is closed anyway).
 */
int cow_close(struct cow *w)
{
	int r = 0, e = 0;

	if (!w)
		return 0;
	if (w->map)
		munmap(w->map, 2 * w->maplen);
	free(w->snap);
	/*
	 * Marked only once mapped, so in the layout: a byte past an older
	 * server's map whose conversion failed would make it look like one
	 * of another boot, and its bits would be taken from an empty region.
	 */
	if (w->map && w->mapfd >= 0) {
		r = pwrite(w->mapfd, "", 1,
			   (off_t)(2 * w->maplen + MAP_TAIL)) == 1 ? 0 : -1;
		e = errno;
	}
	if (w->mapfd >= 0)
		close(w->mapfd);
	if (w->data >= 0)
		close(w->data);	/* drops the lock */
	if (w->base >= 0)
		close(w->base);
	free(w);
	errno = e;
	return r;
}

/*
 * Deletes one pair of export e (its name ends in ",EXPORT.cow": exports
 * sharing a cowdir keep their own timeouts) whose client is gone and whose
 * time is up.
 */
static void sweep_one(int dirfd, const char *name, const char *suffix,
		      unsigned timeout, time_t now)
{
	size_t len = strlen(name), slen = strlen(suffix);
	char map[300];
	struct stat st, ms;
	time_t last;
	int fd;

	if (len < slen + 4 || len > 250 || strcmp(name + len - 4, ".cow") ||
	    strncmp(name + len - 4 - slen, suffix, slen))
		return;
	snprintf(map, sizeof(map), "%.*s.map", (int)(len - 4), name);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0)
		goto out_close;
	last = st.st_mtime;
	if (fstatat(dirfd, map, &ms, AT_SYMLINK_NOFOLLOW) == 0 &&
	    ms.st_mtime > last)
		last = ms.st_mtime;
	if (now - last < (time_t)timeout)
		goto out_close;
	/* Map first: a .cow without a map is empty, never misread. */
	unlinkat(dirfd, map, 0);
	unlinkat(dirfd, name, 0);
out_close:
	close(fd);
}

/* Every cowdir: pairs unused for longer than cowtimeout are deleted. */
void cow_sweep(const struct config *cfg)
{
	const struct export *e;
	struct dirent *d;
	time_t now = time(NULL);
	char suffix[600];
	DIR *dir;

	for (e = cfg->exports; e; e = e->next) {
		if (!e->cow || cow_key(suffix, sizeof(suffix), "", e->name) < 0)
			continue;
		dir = opendir(e->cowdir);
		if (!dir)
			continue;
		while ((d = readdir(dir)))
			sweep_one(dirfd(dir), d->d_name, suffix, e->cowtimeout,
				  now);
		closedir(dir);
	}
}

/* How often the master sweeps: 0 when no export copies on write. */
unsigned cow_sweep_secs(const struct config *cfg)
{
	const struct export *e;
	unsigned secs = 0, s;

	for (e = cfg->exports; e; e = e->next) {
		if (!e->cow)
			continue;
		s = e->cowtimeout / 4;
		s = s < 1 ? 1 : s > 60 ? 60 : s;
		if (!secs || s < secs)
			secs = s;
	}
	return secs;
}
