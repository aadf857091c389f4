// SPDX-License-Identifier: GPL-2.0
/*
 * The transmission phase (proto.md "Transmission"): one request at a time,
 * each checked completely before anything touches the file. A rejected
 * WRITE still has its payload read and dropped so the next request header
 * is where the client put it; a wrong magic closes the connection, since
 * nothing after it can be trusted to be in step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"
#include "server.h"

#define KNOWN_CMD_FLAGS (NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | \
			 NBD_CMD_FLAG_DF | NBD_CMD_FLAG_REQ_ONE | \
			 NBD_CMD_FLAG_FAST_ZERO)
#define ZERO_CHUNK	(1u << 20)

/* Grows c->buf to n bytes (n is at most SRV_BLOCK_MAX). 0 or -1. */
static int ensure_buf(struct conn *c, size_t n)
{
	unsigned char *p;

	if (n <= c->bufsize)
		return 0;
	p = realloc(c->buf, n);
	if (!p)
		return -1;
	c->buf = p;
	c->bufsize = n;
	return 0;
}

/* offset + length inside the export, without overflowing. */
static bool in_bounds(const struct conn *c, const struct nbd_request *rq)
{
	return rq->offset <= c->size && rq->length <= c->size - rq->offset;
}

/*
 * The wire error for a request, before any I/O (proto.md "Error values":
 * EINVAL for a flag not documented for the command; FUA is valid on all).
 */
static uint32_t check_request(const struct conn *c,
			      const struct nbd_request *rq)
{
	bool ro = c->exp->readonly;

	if (rq->flags & ~KNOWN_CMD_FLAGS)
		return NBD_EINVAL;
	if ((rq->flags & NBD_CMD_FLAG_DF) &&
	    (!c->structured || rq->type != NBD_CMD_READ))
		return NBD_EINVAL;
	if ((rq->flags & (NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO)) &&
	    rq->type != NBD_CMD_WRITE_ZEROES)
		return NBD_EINVAL;
	if ((rq->flags & NBD_CMD_FLAG_REQ_ONE) &&
	    rq->type != NBD_CMD_BLOCK_STATUS)
		return NBD_EINVAL;
	switch (rq->type) {
	case NBD_CMD_READ:
		if (rq->length == 0 || rq->length > SRV_BLOCK_MAX)
			return NBD_EINVAL;
		return in_bounds(c, rq) ? 0 : NBD_EINVAL;
	case NBD_CMD_WRITE:
		if (ro)
			return NBD_EPERM;
		if (rq->length == 0 || rq->length > SRV_BLOCK_MAX)
			return NBD_EINVAL;
		return in_bounds(c, rq) ? 0 : NBD_ENOSPC;
	case NBD_CMD_FLUSH:
		return 0;
	case NBD_CMD_TRIM:
		if (ro)
			return NBD_EPERM;
		if (!(c->tflags & NBD_FLAG_SEND_TRIM))
			return NBD_EINVAL;
		return in_bounds(c, rq) ? 0 : NBD_EINVAL;
	case NBD_CMD_WRITE_ZEROES:
		if (ro)
			return NBD_EPERM;
		return in_bounds(c, rq) ? 0 : NBD_ENOSPC;
	case NBD_CMD_CACHE:
		return in_bounds(c, rq) ? 0 : NBD_EINVAL;
	case NBD_CMD_BLOCK_STATUS:
		if (!c->structured || !c->meta_alloc || rq->length == 0)
			return NBD_EINVAL;
		return in_bounds(c, rq) ? 0 : NBD_EINVAL;
	default:
		return NBD_EINVAL;
	}
}

static int send_simple(struct conn *c, const struct nbd_request *rq,
		       uint32_t err, const void *data, size_t len)
{
	unsigned char hdr[NBD_SIMPLE_REPLY_SIZE];
	struct nbd_simple_reply rep = { .error = err, .cookie = rq->cookie };

	nbd_simple_reply_encode(hdr, &rep);
	if (write2_full(c->out, hdr, sizeof(hdr), data, err ? 0 : len, 0) < 0)
		return conn_fail(c, "sending %s reply: %s",
				 nbd_cmd_name(rq->type), strerror(errno));
	return 0;
}

/* One chunk: header, a small prefix (offset, context id...) and data. */
static int send_chunk_flags(struct conn *c, const struct nbd_request *rq,
			    uint16_t flags, uint16_t type,
			    const unsigned char *pre, size_t prelen,
			    const void *data, size_t len)
{
	unsigned char hdr[NBD_CHUNK_HDR_SIZE + 12];
	struct nbd_chunk_hdr ch = {
		.flags = flags, .type = type,
		.cookie = rq->cookie, .length = (uint32_t)(prelen + len),
	};

	nbd_chunk_hdr_encode(hdr, &ch);
	memcpy(hdr + NBD_CHUNK_HDR_SIZE, pre, prelen);
	if (write2_full(c->out, hdr, NBD_CHUNK_HDR_SIZE + prelen, data, len,
			0) < 0)
		return conn_fail(c, "sending %s chunk: %s",
				 nbd_cmd_name(rq->type), strerror(errno));
	return 0;
}

/* The final chunk of a reply. */
static int send_chunk(struct conn *c, const struct nbd_request *rq,
		      uint16_t type, const unsigned char *pre, size_t prelen,
		      const void *data, size_t len)
{
	return send_chunk_flags(c, rq, NBD_REPLY_FLAG_DONE, type, pre, prelen,
				data, len);
}

/*
 * Errors: READ and BLOCK_STATUS on a structured connection need an ERROR
 * chunk (the client parses chunks for them); everything else may take a
 * simple reply (proto.md "Structured replies").
 */
static int send_error(struct conn *c, const struct nbd_request *rq,
		      uint32_t err)
{
	unsigned char body[6];

	if (!c->structured || (rq->type != NBD_CMD_READ &&
			       rq->type != NBD_CMD_BLOCK_STATUS))
		return send_simple(c, rq, err, NULL, 0);
	put_be32(body, err);
	put_be16(body + 4, 0);
	return send_chunk(c, rq, NBD_REPLY_TYPE_ERROR, body, 6, NULL, 0);
}

/* fdatasync, with a failure remembered: the kernel forgets it after one. */
static uint32_t sync_file(struct conn *c)
{
	if (fdatasync(c->fd) < 0)
		c->sync_failed = true;
	return c->sync_failed ? NBD_EIO : 0;
}

/* len bytes at off into c->buf (which holds at least len). */
static uint32_t pread_all(struct conn *c, uint64_t off, size_t len)
{
	size_t done = 0;
	ssize_t r;

	while (done < len) {
		r = pread(c->fd, c->buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? nbd_errno_to_wire(errno) : NBD_EIO;
		done += (size_t)r;
	}
	return 0;
}

static uint32_t pwrite_all(struct conn *c, const void *buf, size_t len,
			   uint64_t offset)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (len > 0) {
		r = pwrite(c->fd, p, len, (off_t)offset);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? nbd_errno_to_wire(errno) : NBD_EIO;
		p += r;
		len -= (size_t)r;
		offset += (uint64_t)r;
	}
	return 0;
}

static uint32_t do_write(struct conn *c, const struct nbd_request *rq)
{
	uint32_t err = pwrite_all(c, c->buf, rq->length, rq->offset);

	if (!err && (rq->flags & NBD_CMD_FLAG_FUA))
		err = sync_file(c);
	return err;
}

static uint32_t do_trim(struct conn *c, const struct nbd_request *rq)
{
	/* TRIM is advisory: a file system without holes just keeps data. */
	if (fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)rq->offset, (off_t)rq->length) < 0 &&
	    errno != EOPNOTSUPP)
		return nbd_errno_to_wire(errno);
	return (rq->flags & NBD_CMD_FLAG_FUA) ? sync_file(c) : 0;
}

static uint32_t write_zero_buffers(struct conn *c, uint64_t off, uint64_t len)
{
	unsigned char *zero = calloc(1, ZERO_CHUNK);
	uint32_t err = 0;
	size_t n;

	if (!zero)
		return NBD_ENOMEM;
	while (len > 0 && !err) {
		n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		err = pwrite_all(c, zero, n, off);
		off += n;
		len -= n;
	}
	free(zero);
	return err;
}

/*
 * Without NO_HOLE a hole is the cheapest zero; with it, ZERO_RANGE keeps
 * the blocks allocated. FAST_ZERO: fail with ENOTSUP rather than write.
 */
static uint32_t do_write_zeroes(struct conn *c, const struct nbd_request *rq)
{
	off_t off = (off_t)rq->offset, len = (off_t)rq->length;
	uint32_t err = 0;

	if (!(rq->flags & NBD_CMD_FLAG_NO_HOLE) &&
	    fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len) == 0)
		goto out_sync;
	if (fallocate(c->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      off, len) == 0)
		goto out_sync;
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
static uint64_t run_end(const struct conn *c, uint64_t pos, uint64_t end,
			bool *hole)
{
	off_t next = lseek(c->fd, (off_t)pos, SEEK_DATA);

	if (next < 0 && errno == ENXIO)
		next = (off_t)end;
	else if (next < 0)
		next = (off_t)pos;
	*hole = (uint64_t)next > pos;
	if (!*hole) {
		next = lseek(c->fd, (off_t)pos, SEEK_HOLE);
		if (next < 0 || (uint64_t)next <= pos)
			next = (off_t)end;
	}
	return (uint64_t)next < end ? (uint64_t)next : end;
}

static void put_extent(unsigned char *p, uint64_t len, uint32_t flags)
{
	put_be32(p, (uint32_t)len);
	put_be32(p + 4, flags);
}

/* base:allocation from SEEK_DATA/SEEK_HOLE; lengths fit u32 (<= request). */
static int do_block_status(struct conn *c, const struct nbd_request *rq)
{
	uint64_t pos = rq->offset, end = rq->offset + rq->length, stop;
	size_t n = 0, max = (rq->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 :
			    SRV_MAX_EXTENTS;
	unsigned char pre[4];
	bool hole;

	if (ensure_buf(c, max * 8) < 0)
		return send_error(c, rq, NBD_ENOMEM);
	while (pos < end && n < max) {
		stop = run_end(c, pos, end, &hole);
		put_extent(c->buf + 8 * n++, stop - pos,
			   hole ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0);
		pos = stop;
	}
	put_be32(pre, SRV_META_ALLOCATION_ID);
	return send_chunk(c, rq, NBD_REPLY_TYPE_BLOCK_STATUS, pre, 4, c->buf,
			  8 * n);
}

/*
 * Structured READ without DF: holes travel as OFFSET_HOLE chunks (12
 * bytes however long), data as OFFSET_DATA; only the last chunk is DONE.
 */
static int read_chunks(struct conn *c, const struct nbd_request *rq)
{
	uint64_t pos = rq->offset, end = rq->offset + rq->length, stop;
	unsigned char pre[12];
	uint16_t flags;
	uint32_t err;
	bool hole;

	while (pos < end) {
		stop = run_end(c, pos, end, &hole);
		flags = stop == end ? NBD_REPLY_FLAG_DONE : 0;
		put_be64(pre, pos);
		put_be32(pre + 8, (uint32_t)(stop - pos));
		if (hole) {
			if (send_chunk_flags(c, rq, flags,
					     NBD_REPLY_TYPE_OFFSET_HOLE, pre,
					     12, NULL, 0) < 0)
				return -1;
		} else {
			err = pread_all(c, pos, (size_t)(stop - pos));
			if (err)
				return send_error(c, rq, err);
			if (send_chunk_flags(c, rq, flags,
					     NBD_REPLY_TYPE_OFFSET_DATA, pre, 8,
					     c->buf, (size_t)(stop - pos)) < 0)
				return -1;
		}
		pos = stop;
	}
	return 0;
}

static int reply_read(struct conn *c, const struct nbd_request *rq)
{
	unsigned char off[8];
	uint32_t err;

	if (ensure_buf(c, rq->length) < 0)
		return send_error(c, rq, NBD_ENOMEM);
	if (c->structured && !(rq->flags & NBD_CMD_FLAG_DF))
		return read_chunks(c, rq);
	err = pread_all(c, rq->offset, rq->length);
	if (err)
		return send_error(c, rq, err);
	if (!c->structured)
		return send_simple(c, rq, 0, c->buf, rq->length);
	put_be64(off, rq->offset);
	return send_chunk(c, rq, NBD_REPLY_TYPE_OFFSET_DATA, off, 8, c->buf,
			  rq->length);
}

/* A WRITE's payload: into c->buf, or drained if the request was refused. */
static int read_payload(struct conn *c, const struct nbd_request *rq,
			uint32_t *err)
{
	ssize_t r;

	if (!*err && ensure_buf(c, rq->length) < 0)
		*err = NBD_ENOMEM;
	if (*err) {
		if (drain(c->in, rq->length, 0) < 0)
			return conn_fail(c, "draining refused WRITE of %u bytes: %s",
					 rq->length, strerror(errno));
		return 0;
	}
	r = read_full(c->in, c->buf, rq->length, 0);
	if (r < 0 || (size_t)r < rq->length)
		return conn_fail(c, "reading WRITE payload of %u bytes: %s",
				 rq->length, r < 0 ? strerror(errno) : "EOF");
	return 0;
}

static int handle_request(struct conn *c, const struct nbd_request *rq)
{
	uint32_t err = check_request(c, rq);

	if (rq->type == NBD_CMD_WRITE && read_payload(c, rq, &err) < 0)
		return -1;
	if (err)
		return send_error(c, rq, err);
	switch (rq->type) {
	case NBD_CMD_READ:
		return reply_read(c, rq);
	case NBD_CMD_BLOCK_STATUS:
		return do_block_status(c, rq);
	case NBD_CMD_WRITE:
		err = do_write(c, rq);
		break;
	case NBD_CMD_FLUSH:
		err = sync_file(c);
		break;
	case NBD_CMD_TRIM:
		err = do_trim(c, rq);
		break;
	case NBD_CMD_WRITE_ZEROES:
		err = do_write_zeroes(c, rq);
		break;
	case NBD_CMD_CACHE:
		posix_fadvise(c->fd, (off_t)rq->offset, (off_t)rq->length,
			      POSIX_FADV_WILLNEED);
		break;
	}
	return send_simple(c, rq, err, NULL, 0);
}

/* Reads one request header. 1: the client is gone or we are stopping. */
static int read_request(struct conn *c, struct nbd_request *rq)
{
	unsigned char hdr[NBD_REQUEST_SIZE];
	ssize_t r;

	r = read_full(c->in, hdr, sizeof(hdr), 0);
	if (r == 0) {
		c->outcome = "closed without DISC";
		return 1;
	}
	if (r < 0 && errno == EINTR && srv_stopping) {
		c->outcome = "stopped by SIGTERM";
		return 1;
	}
	if (r < 0)
		return conn_fail(c, "reading request: %s", strerror(errno));
	if ((size_t)r < sizeof(hdr))
		return conn_fail(c, "EOF inside a request header");
	if (nbd_request_decode(hdr, rq) < 0)
		return conn_fail(c, "wrong request magic 0x%08x",
				 get_be32(hdr));
	return 0;
}

int transmit(struct conn *c)
{
	struct nbd_request rq;
	int r;

	c->outcome = "failed in transmission";
	for (;;) {
		r = read_request(c, &rq);
		if (r != 0)
			return r < 0 ? -1 : 0;
		c->requests++;
		if (rq.type == NBD_CMD_DISC) {
			c->outcome = "disconnected";
			return 0;
		}
		if (handle_request(c, &rq) < 0)
			return -1;
	}
}
