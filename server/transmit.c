// SPDX-License-Identifier: GPL-2.0
/*
 * The transmission phase (proto.md "Transmission"): requests are taken in
 * order from a buffer that one read fills with as many as the client has
 * sent, each checked completely before anything touches the file; the
 * replies go back together when the buffer runs dry. A rejected
 * WRITE still has its payload read and dropped so the next request header
 * is where the client put it; a wrong magic closes the connection, since
 * nothing after it can be trusted to be in step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteorder.h"
#include "server.h"

#define KNOWN_CMD_FLAGS (NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | \
			 NBD_CMD_FLAG_DF | NBD_CMD_FLAG_REQ_ONE | \
			 NBD_CMD_FLAG_FAST_ZERO)
#define ZERO_CHUNK	(64u << 10)

/* Grows c->buf to n bytes (extents of one BLOCK_STATUS reply). 0 or -1. */
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

/*
 * Replies are collected in c->obuf and sent in one system call when the
 * server is about to wait for the client, so that a queue of requests
 * (the kernel keeps up to 128 in flight) costs one send, not one each.
 */
static int out_flush_flags(struct conn *c, int flags)
{
	size_t done = 0;
	ssize_t r;

	if (!c->out_sock || !flags) {
		r = write_full(c->out, c->obuf, c->olen, 0);
		c->olen = 0;
		return r < 0 ? -1 : 0;
	}
	while (done < c->olen) {
		r = send(c->out, c->obuf + done, c->olen - done, flags);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	c->olen = 0;
	return 0;
}

static int out_flush(struct conn *c)
{
	if (c->olen == 0)
		return 0;
	if (out_flush_flags(c, 0) < 0)
		return conn_fail(c, "sending replies: %s", strerror(errno));
	return 0;
}

/* Appends n bytes to the pending replies. 0 or -1 (c->why). */
static int out_add(struct conn *c, const void *p, size_t n)
{
	if (c->olen + n > SRV_OBUF_SIZE && out_flush(c) < 0)
		return -1;
	if (n > SRV_OBUF_SIZE) {
		if (write_full(c->out, p, n, 0) < 0)
			return conn_fail(c, "sending reply: %s",
					 strerror(errno));
		return 0;
	}
	memcpy(c->obuf + c->olen, p, n);
	c->olen += n;
	return 0;
}

static int send_simple(struct conn *c, const struct nbd_request *rq,
		       uint32_t err)
{
	unsigned char hdr[NBD_SIMPLE_REPLY_SIZE];
	struct nbd_simple_reply rep = { .error = err, .cookie = rq->cookie };

	nbd_simple_reply_encode(hdr, &rep);
	return out_add(c, hdr, sizeof(hdr));
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
	if (out_add(c, hdr, NBD_CHUNK_HDR_SIZE + prelen) < 0)
		return -1;
	return len ? out_add(c, data, len) : 0;
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
		return send_simple(c, rq, err);
	put_be32(body, err);
	put_be16(body + 4, 0);
	return send_chunk(c, rq, NBD_REPLY_TYPE_ERROR, body, 6, NULL, 0);
}

/* fdatasync, with a failure remembered: the kernel forgets it after one. */
static uint32_t sync_file(struct conn *c)
{
	int r = c->cow ? cow_sync(c->cow) : fdatasync(c->fd);

	if (r < 0)
		c->sync_failed = true;
	return c->sync_failed ? NBD_EIO : 0;
}

/* The export's bytes as this client sees them (base plus its own blocks). */
static uint32_t backend_read(struct conn *c, void *buf, size_t len,
			     uint64_t off)
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

static uint32_t backend_write(struct conn *c, const void *buf, size_t len,
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

static uint32_t do_trim(struct conn *c, const struct nbd_request *rq)
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
static uint32_t do_write_zeroes(struct conn *c, const struct nbd_request *rq)
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
static uint64_t run_end(struct conn *c, uint64_t pos, uint64_t end,
			bool *hole, bool cached)
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
		stop = run_end(c, pos, end, &hole, false);
		put_extent(c->buf + 8 * n++, stop - pos,
			   hole ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0);
		pos = stop;
	}
	put_be32(pre, SRV_META_ALLOCATION_ID);
	return send_chunk(c, rq, NBD_REPLY_TYPE_BLOCK_STATUS, pre, 4, c->buf,
			  8 * n);
}

/* len bytes at off after what c->obuf holds, through c->obuf. */
static int send_chunks(struct conn *c, uint64_t off, size_t len)
{
	size_t n, room;
	uint32_t err;

	while (len > 0) {
		room = SRV_OBUF_SIZE - c->olen;
		if (room < SRV_OBUF_SIZE / 2) {
			if (out_flush(c) < 0)
				return -1;
			room = SRV_OBUF_SIZE;
		}
		n = len < room ? len : room;
		err = backend_read(c, c->obuf + c->olen, n, off);
		if (err)
			return conn_fail(c, "reading %zu bytes at %llu: error %u",
					 n, (unsigned long long)off, err);
		c->olen += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Sends hdr (a simple reply or a chunk header) followed by len bytes of
 * the export at off, read straight into the pending replies. 0 sent, -1
 * connection failure, or a wire error when the data could not be read and
 * nothing was sent (the caller then replies with the error). A READ larger
 * than c->obuf goes out in pieces; an error after its header left can
 * only be told by closing (proto.md "Simple reply message").
 *
 * No sendfile: on loopback here, pread plus one large write measured
 * faster than sendfile's page-sized pieces (scripts/bench-server).
 */
static int send_data(struct conn *c, const unsigned char *hdr, size_t hlen,
		     uint64_t off, size_t len)
{
	size_t n = len < SRV_OBUF_SIZE - hlen ? len : SRV_OBUF_SIZE - hlen;
	uint32_t err;

	if (c->olen + hlen + n > SRV_OBUF_SIZE && out_flush(c) < 0)
		return -1;
	err = backend_read(c, c->obuf + c->olen + hlen, n, off);
	if (err)
		return (int)err;
	memcpy(c->obuf + c->olen, hdr, hlen);
	c->olen += hlen + n;
	return n < len ? send_chunks(c, off + n, len - n) : 0;
}

/*
 * Structured READ without DF: holes travel as OFFSET_HOLE chunks (12
 * bytes however long), data as OFFSET_DATA; only the last chunk is DONE.
 */
static int read_chunks(struct conn *c, const struct nbd_request *rq)
{
	uint64_t pos = rq->offset, end = rq->offset + rq->length, stop;
	unsigned char hdr[NBD_CHUNK_HDR_SIZE + 12];
	struct nbd_chunk_hdr ch = { .cookie = rq->cookie };
	bool hole;
	int r;

	while (pos < end) {
		stop = run_end(c, pos, end, &hole, true);
		ch.flags = stop == end ? NBD_REPLY_FLAG_DONE : 0;
		ch.type = hole ? NBD_REPLY_TYPE_OFFSET_HOLE :
				 NBD_REPLY_TYPE_OFFSET_DATA;
		ch.length = hole ? 12 : (uint32_t)(8 + stop - pos);
		nbd_chunk_hdr_encode(hdr, &ch);
		put_be64(hdr + NBD_CHUNK_HDR_SIZE, pos);
		put_be32(hdr + NBD_CHUNK_HDR_SIZE + 8, (uint32_t)(stop - pos));
		if (hole)
			r = out_add(c, hdr, NBD_CHUNK_HDR_SIZE + 12);
		else
			r = send_data(c, hdr, NBD_CHUNK_HDR_SIZE + 8, pos,
				      (size_t)(stop - pos));
		if (r > 0)
			return send_error(c, rq, (uint32_t)r);
		if (r < 0)
			return -1;
		pos = stop;
	}
	return 0;
}

static int reply_read(struct conn *c, const struct nbd_request *rq)
{
	unsigned char hdr[NBD_CHUNK_HDR_SIZE + 8];
	struct nbd_simple_reply rep = { .cookie = rq->cookie };
	struct nbd_chunk_hdr ch = {
		.flags = NBD_REPLY_FLAG_DONE,
		.type = NBD_REPLY_TYPE_OFFSET_DATA,
		.cookie = rq->cookie, .length = 8 + rq->length,
	};
	size_t hlen = NBD_SIMPLE_REPLY_SIZE;
	int r;

	if (c->structured && !(rq->flags & NBD_CMD_FLAG_DF))
		return read_chunks(c, rq);
	if (c->structured) {
		nbd_chunk_hdr_encode(hdr, &ch);
		put_be64(hdr + NBD_CHUNK_HDR_SIZE, rq->offset);
		hlen = NBD_CHUNK_HDR_SIZE + 8;
	} else {
		nbd_simple_reply_encode(hdr, &rep);
	}
	r = send_data(c, hdr, hlen, rq->offset, rq->length);
	if (r > 0)
		return send_error(c, rq, (uint32_t)r);
	return r;
}

/*
 * Makes at least need bytes of the request stream available at c->ipos;
 * msg_start: they begin a message, so EOF or SIGTERM before them is a
 * clean end.
 * The pending replies go out first, all in one send; what the socket
 * already holds is then taken without a poll. 0, 1 on EOF before the first byte of a
 * message, -1 with errno (EPIPE: EOF inside one; EINTR: SIGTERM).
 */
static int in_fill(struct conn *c, size_t need, bool msg_start)
{
	size_t have = c->ilen - c->ipos;
	bool start;
	ssize_t r;

	while (have < need) {
		start = msg_start && have == 0;
		if (c->ipos + need > SRV_IBUF_SIZE || have == 0) {
			memmove(c->ibuf, c->ibuf + c->ipos, have);
			c->ipos = 0;
			c->ilen = have;
		}
		/* Replies wait no longer than it takes to read more. */
		if (out_flush(c) < 0) {
			errno = EPIPE;
			return -1;
		}
		r = -1;
		errno = EAGAIN;
		if (c->in_sock && !(start && srv_stopping))
			r = recv(c->in, c->ibuf + c->ilen,
				 SRV_IBUF_SIZE - c->ilen, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			r = read_some(c->in, c->ibuf + c->ilen,
				      SRV_IBUF_SIZE - c->ilen, start);
		if (r < 0 && errno == EINTR && !start)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 && start)
			return 1;
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		c->ilen += (size_t)r;
		have += (size_t)r;
	}
	return 0;
}

/*
 * A WRITE's payload, written as it arrives so that a request of any size
 * needs no more memory than c->ibuf; refused (err set), it is drained. A
 * failed write is remembered and the rest still read.
 */
static int write_payload(struct conn *c, const struct nbd_request *rq,
			 uint32_t *err)
{
	uint64_t off = rq->offset;
	size_t left = rq->length, have, want;

	while (left > 0) {
		have = c->ilen - c->ipos;
		/* Gather the whole payload when it fits: one pwrite. */
		want = left <= SRV_IBUF_SIZE - c->ipos ? left :
		       have ? have : (left < SRV_IBUF_SIZE ? left : SRV_IBUF_SIZE);
		if (have < want && in_fill(c, want, false) != 0)
			return conn_fail(c, "reading WRITE payload of %u bytes: %s",
					 rq->length, errno == EPIPE ? "EOF" :
					 strerror(errno));
		have = c->ilen - c->ipos;
		if (have > left)
			have = left;
		if (!*err)
			*err = backend_write(c, c->ibuf + c->ipos, have, off);
		c->ipos += have;
		off += have;
		left -= have;
	}
	return 0;
}

static int handle_request(struct conn *c, const struct nbd_request *rq)
{
	uint32_t err = check_request(c, rq);

	if (rq->type == NBD_CMD_WRITE && write_payload(c, rq, &err) < 0)
		return -1;
	if (err)
		return send_error(c, rq, err);
	switch (rq->type) {
	case NBD_CMD_READ:
		return reply_read(c, rq);
	case NBD_CMD_BLOCK_STATUS:
		return do_block_status(c, rq);
	case NBD_CMD_WRITE:
		if (rq->flags & NBD_CMD_FLAG_FUA)
			err = sync_file(c);
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
	return send_simple(c, rq, err);
}

/* Takes one request header. 1: the client is gone or we are stopping. */
static int read_request(struct conn *c, struct nbd_request *rq)
{
	const unsigned char *hdr;
	int r;

	r = in_fill(c, NBD_REQUEST_SIZE, true);
	if (r == 1) {
		c->outcome = "closed without DISC";
		return 1;
	}
	if (r < 0 && errno == EINTR && srv_stopping) {
		c->outcome = "stopped by SIGTERM";
		return 1;
	}
	if (r < 0 && errno == EPIPE)
		return conn_fail(c, "EOF inside a request header");
	if (r < 0)
		return conn_fail(c, "reading request: %s", strerror(errno));
	hdr = c->ibuf + c->ipos;
	c->ipos += NBD_REQUEST_SIZE;
	if (nbd_request_decode(hdr, rq) < 0)
		return conn_fail(c, "wrong request magic 0x%08x",
				 get_be32(hdr));
	return 0;
}

static bool is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int serve_requests(struct conn *c)
{
	struct nbd_request rq;
	int r;

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

int transmit(struct conn *c)
{
	int r;

	c->outcome = "failed in transmission";
	c->ibuf = malloc(SRV_IBUF_SIZE);
	c->obuf = malloc(SRV_OBUF_SIZE);
	if (!c->ibuf || !c->obuf)
		return conn_fail(c, "no memory for request buffers");
	c->in_sock = is_socket(c->in);
	c->out_sock = is_socket(c->out);
	r = serve_requests(c);
	/* Replies to what came before DISC, EOF or SIGTERM still go out. */
	if (out_flush(c) < 0)
		r = -1;
	return r;
}
