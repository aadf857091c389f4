// SPDX-License-Identifier: GPL-2.0
/*
 * What requests do to the export's file: read and write (through the
 * copy-on-write layer when there is one), sync, trim, write zeroes, and
 * the data and hole runs that structured READs and BLOCK_STATUS report.
 * Each returns 0 or the wire error for the reply (proto.md "Error values").
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "server.h"

#define ZERO_CHUNK	(64u << 10)

/* fdatasync, with a failure remembered: the kernel forgets it after one. */
uint32_t sync_file(struct conn *c)
{
	int r = c->cow ? cow_sync(c->cow) : fdatasync(c->fd);

	if (r < 0)
		c->sync_failed = true;
	return c->sync_failed ? NBD_EIO : 0;
}

/* The export's bytes as this client sees them (base plus its own blocks). */
uint32_t backend_read(struct conn *c, void *buf, size_t len, uint64_t off)
{
	if (c->cow)
		return cow_pread(c->cow, buf, len, off) < 0 ?
		       nbd_errno_to_wire(errno) : 0;
	return pread_full(c->fd, buf, len, off) < 0 ?
	       nbd_errno_to_wire(errno) : 0;
}

/*
 * A large WRITE starts its own writeback at once (without waiting for
 * it): the disk then works while the next payloads arrive instead of all
 * at the client's FLUSH. Small writes are left to the page cache, where
 * rewrites of one block cost nothing.
 */
static void start_writeback(int fd, uint64_t off, size_t len)
{
	if (len >= SRV_WRITEBACK_MIN)
		sync_file_range(fd, (off_t)off, (off_t)len,
				SYNC_FILE_RANGE_WRITE);
}

uint32_t backend_write(struct conn *c, const void *buf, size_t len,
		       uint64_t off)
{
	if (c->cow)
		return cow_pwrite(c->cow, buf, len, off) < 0 ?
		       nbd_errno_to_wire(errno) : 0;
	if (pwrite_full(c->fd, buf, len, off) < 0)
		return nbd_errno_to_wire(errno);
	start_writeback(c->fd, off, len);
	return 0;
}

uint32_t do_trim(struct conn *c, const struct nbd_request *rq)
{
	c->data_lo = c->data_hi = 0;
	/* TRIM is advisory: a file system without holes just keeps data. */
	if (fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)rq->offset, (off_t)rq->length) < 0 &&
	    errno != EOPNOTSUPP)
		return nbd_errno_to_wire(errno);
	return (rq->flags & NBD_CMD_FLAG_FUA) ? sync_file(c) : 0;
}

/* Never written: reading it maps the zero page, costing no memory. */
static unsigned char zero_block[ZERO_CHUNK];

static uint32_t write_zero_buffers(struct conn *c, uint64_t off, uint64_t len)
{
	uint32_t err = 0;
	size_t n;

	while (len > 0 && !err) {
		n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		err = backend_write(c, zero_block, n, off);
		off += n;
		len -= n;
	}
	return err;
}

/*
 * Without NO_HOLE a hole is the cheapest zero; with it, ZERO_RANGE keeps
 * the blocks allocated. FAST_ZERO: fail with ENOTSUP rather than write.
 */
uint32_t do_write_zeroes(struct conn *c, const struct nbd_request *rq)
{
	off_t off = (off_t)rq->offset, len = (off_t)rq->length;
	uint32_t err = 0;

	c->data_lo = c->data_hi = 0;
	/* A hole in the copy-on-write file would show the base through. */
	if (c->cow)
		goto out_write;
	if (!(rq->flags & NBD_CMD_FLAG_NO_HOLE) &&
	    fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len) == 0)
		goto out_sync;
	if (fallocate(c->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      off, len) == 0)
		goto out_sync;
out_write:
	if (rq->flags & NBD_CMD_FLAG_FAST_ZERO)
		return NBD_ENOTSUP;
	err = write_zero_buffers(c, rq->offset, rq->length);
out_sync:
	if (!err && (rq->flags & NBD_CMD_FLAG_FUA))
		err = sync_file(c);
	return err;
}

/*
 * The end of the data or hole run that starts at pos (at most end), from
 * SEEK_DATA/SEEK_HOLE; a file system without them is all data.
 */
uint64_t run_end(struct conn *c, uint64_t pos, uint64_t end, bool *hole,
		 bool cached)
{
	off_t next;

	*hole = false;
	if (c->cow)
		return end;
	/* READ inside the data run found last time: no lseek (data_lo). */
	if (cached && pos >= c->data_lo && pos < c->data_hi)
		return c->data_hi < end ? c->data_hi : end;
	next = lseek(c->fd, (off_t)pos, SEEK_DATA);
	if (next < 0 && errno == ENXIO)
		next = (off_t)end;
	else if (next < 0)
		next = (off_t)pos;
	*hole = (uint64_t)next > pos;
	if (!*hole) {
		next = lseek(c->fd, (off_t)pos, SEEK_HOLE);
		if (next < 0 || (uint64_t)next <= pos)
			next = (off_t)end;
		else {
			c->data_lo = pos;
			c->data_hi = (uint64_t)next;
		}
	}
	return (uint64_t)next < end ? (uint64_t)next : end;
}
