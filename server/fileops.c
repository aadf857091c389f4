// SPDX-License-Identifier: GPL-2.0
/*
 * What requests do to the export's file: read and write (through the
 * copy-on-write layer when there is one), sync, trim, write zeroes, and
 * the data and hole runs that structured READs and BLOCK_STATUS report.
 * Each returns 0, or -1 with errno for the reply's error (proto.md "Error
 * values").
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "backend.h"

#define ZERO_CHUNK	(64u << 10)

/* fdatasync, with a failure remembered: the kernel forgets it after one. */
int backend_sync(struct backend *b)
{
	int r = b->cow ? cow_sync(b->cow) : fdatasync(b->fd);

	/* the sync wrote everything: large WRITEs gather anew */
	b->wb_bytes = 0;
	if (r < 0)
		b->sync_failed = true;
	if (!b->sync_failed)
		return 0;
	errno = EIO;
	return -1;
}

/* The export's bytes as this client sees them (base plus its own blocks). */
int backend_read(struct backend *b, void *buf, size_t len, uint64_t off)
{
	if (b->cow)
		return cow_pread(b->cow, buf, len, off) < 0 ? -1 : 0;
	return pread_full(b->fd, buf, len, off);
}

/*
 * Large WRITEs start writeback once 8 MiB of them have gathered (without
 * waiting for it): the disk then works while the next payloads arrive
 * instead of all at the client's FLUSH. One call per WRITE was the
 * slowest request of a storm: 200 children rewriting the same blocks
 * each queued behind the others' writeback. Small writes are left to
 * the page cache, where rewrites of one block cost nothing.
 *
 * A WRITE that would stretch the span past twice the batch starts a new
 * one: writeback over a span that wide would take the small writes and
 * other clients' pages with it. The old span's pages are left to the
 * kernel's flusher and the FLUSH.
 */
void backend_wrote(struct backend *b, uint64_t off, uint64_t len)
{
	uint64_t lo = off, hi = off + len;

	if (b->cow || len < SRV_WRITEBACK_MIN)
		return;
	if (b->wb_bytes > 0) {
		lo = b->wb_lo < lo ? b->wb_lo : lo;
		hi = b->wb_hi > hi ? b->wb_hi : hi;
		if (hi - lo > 2 * (uint64_t)SRV_WRITEBACK_BATCH) {
			lo = off;
			hi = off + len;
			b->wb_bytes = 0;
		}
	}
	b->wb_lo = lo;
	b->wb_hi = hi;
	b->wb_bytes += len;
	if (b->wb_bytes < SRV_WRITEBACK_BATCH)
		return;
	sync_file_range(b->fd, (off_t)lo, (off_t)(hi - lo),
			SYNC_FILE_RANGE_WRITE);
	b->wb_bytes = 0;
}

int backend_write(struct backend *b, const void *buf, size_t len,
		  uint64_t off)
{
	if (b->cow)
		return cow_pwrite(b->cow, buf, len, off) < 0 ? -1 : 0;
	return pwrite_full(b->fd, buf, len, off);
}

int backend_trim(struct backend *b, uint64_t off, uint64_t len, bool fua)
{
	b->data_lo = b->data_hi = 0;
	/* TRIM is advisory: a file system without holes just keeps data. */
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		return -1;
	return fua ? backend_sync(b) : 0;
}

/* Never written: reading it maps the zero page, costing no memory. */
static unsigned char zero_block[ZERO_CHUNK];

static int write_zero_buffers(struct backend *b, uint64_t off, uint64_t len)
{
	size_t n;

	while (len > 0) {
		n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		if (backend_write(b, zero_block, n, off) < 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Without NO_HOLE a hole is the cheapest zero; with it, ZERO_RANGE keeps
 * the blocks allocated. FAST_ZERO: fail with ENOTSUP rather than write.
 */
int backend_write_zeroes(struct backend *b, uint64_t off, uint64_t len,
			 uint16_t flags)
{
	b->data_lo = b->data_hi = 0;
	/* A hole in the copy-on-write file would show the base through. */
	if (b->cow)
		goto out_write;
	if (!(flags & NBD_CMD_FLAG_NO_HOLE) &&
	    fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		goto out_sync;
	if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		goto out_sync;
out_write:
	if (flags & NBD_CMD_FLAG_FAST_ZERO) {
		errno = ENOTSUP;
		return -1;
	}
	if (write_zero_buffers(b, off, len) < 0)
		return -1;
out_sync:
	return (flags & NBD_CMD_FLAG_FUA) ? backend_sync(b) : 0;
}

/*
 * The end of the data or hole run that starts at pos (at most end), from
 * SEEK_DATA/SEEK_HOLE; a file system without them is all data. cached: a
 * READ, which may use the data run found last time (data_lo) unchecked.
 */
uint64_t backend_run_end(struct backend *b, uint64_t pos, uint64_t end,
			 bool *hole, bool cached)
{
	off_t next;

	*hole = false;
	if (b->cow)
		return end;
	if (cached && pos >= b->data_lo && pos < b->data_hi)
		return b->data_hi < end ? b->data_hi : end;
	next = lseek(b->fd, (off_t)pos, SEEK_DATA);
	if (next < 0 && errno == ENXIO)
		next = (off_t)end;
	else if (next < 0)
		next = (off_t)pos;
	*hole = (uint64_t)next > pos;
	if (!*hole) {
		next = lseek(b->fd, (off_t)pos, SEEK_HOLE);
		if (next < 0 || (uint64_t)next <= pos)
			next = (off_t)end;
		else {
			b->data_lo = pos;
			b->data_hi = (uint64_t)next;
		}
	}
	return (uint64_t)next < end ? (uint64_t)next : end;
}
