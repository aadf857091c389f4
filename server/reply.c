// SPDX-License-Identifier: GPL-2.0
/*
 * Replies of the transmission phase (proto.md "Simple reply message",
 * "Structured replies"): collected in c->obuf and sent in one system call
 * when the server is about to wait for the client, so that a queue of
 * requests (the kernel keeps up to 128 in flight) costs one write, not one
 * each. READ data is read from the export straight into that buffer.
 */
#include <errno.h>
#include <string.h>

#include "byteorder.h"
#include "conn.h"

/* Sends what c->obuf holds. 0, or -1 (c->why). */
int reply_flush(struct conn *c)
{
	if (c->olen == 0)
		return 0;
	if (xp_write_full(&c->xp, c->obuf, c->olen, 0) < 0)
		return conn_fail(c, "sending replies: %s", strerror(errno));
	c->olen = 0;
	return 0;
}

/* Appends n bytes to the pending replies. 0 or -1 (c->why). */
static int reply_add(struct conn *c, const void *p, size_t n)
{
	if (c->olen + n > SRV_OBUF_SIZE && reply_flush(c) < 0)
		return -1;
	if (n > SRV_OBUF_SIZE) {
		if (xp_write_full(&c->xp, p, n, 0) < 0)
			return conn_fail(c, "sending reply: %s",
					 strerror(errno));
		return 0;
	}
	memcpy(c->obuf + c->olen, p, n);
	c->olen += n;
	return 0;
}

int reply_simple(struct conn *c, const struct nbd_request *rq, uint32_t err)
{
	unsigned char hdr[NBD_SIMPLE_REPLY_SIZE];
	struct nbd_simple_reply rep = { .error = err, .cookie = rq->cookie };

	nbd_simple_reply_encode(hdr, &rep);
	return reply_add(c, hdr, sizeof(hdr));
}

/*
 * The final chunk of a reply: header, a small prefix (offset, context
 * id...) and data.
 */
int reply_chunk(struct conn *c, const struct nbd_request *rq, uint16_t type,
		const unsigned char *pre, size_t prelen, const void *data,
		size_t len)
{
	unsigned char hdr[NBD_CHUNK_HDR_SIZE + 12];
	struct nbd_chunk_hdr ch = {
		.flags = NBD_REPLY_FLAG_DONE, .type = type,
		.cookie = rq->cookie, .length = (uint32_t)(prelen + len),
	};

	nbd_chunk_hdr_encode(hdr, &ch);
	memcpy(hdr + NBD_CHUNK_HDR_SIZE, pre, prelen);
	if (reply_add(c, hdr, NBD_CHUNK_HDR_SIZE + prelen) < 0)
		return -1;
	return len ? reply_add(c, data, len) : 0;
}

/*
 * Errors: READ and BLOCK_STATUS on a structured connection need an ERROR
 * chunk (the client parses chunks for them); everything else may take a
 * simple reply (proto.md "Structured replies").
 */
int reply_error(struct conn *c, const struct nbd_request *rq, uint32_t err)
{
	unsigned char body[6];

	if (!c->structured || (rq->type != NBD_CMD_READ &&
			       rq->type != NBD_CMD_BLOCK_STATUS))
		return reply_simple(c, rq, err);
	put_be32(body, err);
	put_be16(body + 4, 0);
	return reply_chunk(c, rq, NBD_REPLY_TYPE_ERROR, body, 6, NULL, 0);
}

/* len bytes at off after what c->obuf holds, through c->obuf. */
static int send_chunks(struct conn *c, uint64_t off, size_t len)
{
	size_t n, room;

	while (len > 0) {
		room = SRV_OBUF_SIZE - c->olen;
		if (room < SRV_OBUF_SIZE / 2) {
			if (reply_flush(c) < 0)
				return -1;
			room = SRV_OBUF_SIZE;
		}
		n = len < room ? len : room;
		if (backend_read(&c->be, c->obuf + c->olen, n, off) < 0)
			return conn_fail(c, "reading %zu bytes at %llu: %s",
					 n, (unsigned long long)off,
					 strerror(errno));
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

	if (c->olen + hlen + n > SRV_OBUF_SIZE && reply_flush(c) < 0)
		return -1;
	if (backend_read(&c->be, c->obuf + c->olen + hlen, n, off) < 0)
		return (int)nbd_errno_to_wire(errno);
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
		stop = backend_run_end(&c->be, pos, end, &hole, true);
		ch.flags = stop == end ? NBD_REPLY_FLAG_DONE : 0;
		ch.type = hole ? NBD_REPLY_TYPE_OFFSET_HOLE :
				 NBD_REPLY_TYPE_OFFSET_DATA;
		ch.length = hole ? 12 : (uint32_t)(8 + stop - pos);
		nbd_chunk_hdr_encode(hdr, &ch);
		put_be64(hdr + NBD_CHUNK_HDR_SIZE, pos);
		put_be32(hdr + NBD_CHUNK_HDR_SIZE + 8, (uint32_t)(stop - pos));
		if (hole)
			r = reply_add(c, hdr, NBD_CHUNK_HDR_SIZE + 12);
		else
			r = send_data(c, hdr, NBD_CHUNK_HDR_SIZE + 8, pos,
				      (size_t)(stop - pos));
		if (r > 0)
			return reply_error(c, rq, (uint32_t)r);
		if (r < 0)
			return -1;
		pos = stop;
	}
	return 0;
}

/* A READ's reply: simple, one OFFSET_DATA chunk (DF), or data and holes. */
int reply_read(struct conn *c, const struct nbd_request *rq)
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
		return reply_error(c, rq, (uint32_t)r);
	return r;
}
