// SPDX-License-Identifier: GPL-2.0
/*
 * NBD_CMD_BLOCK_STATUS for the one context we serve, base:allocation
 * (proto.md "base:allocation metadata context"): the file's holes are
 * HOLE|ZERO, everything else data.
 */
#include <stdlib.h>

#include "byteorder.h"
#include "conn.h"

/* Grows c->buf to n bytes (extents of one reply). 0 or -1. */
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

static void put_extent(unsigned char *p, uint64_t len, uint32_t flags)
{
	put_be32(p, (uint32_t)len);
	put_be32(p + 4, flags);
}

/* At most SRV_MAX_EXTENTS extents; lengths fit u32 (<= the request's). */
int reply_block_status(struct conn *c, const struct nbd_request *rq)
{
	uint64_t pos = rq->offset, end = rq->offset + rq->length, stop;
	size_t n = 0, max = (rq->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 :
			    SRV_MAX_EXTENTS;
	unsigned char pre[4];
	bool hole;

	if (ensure_buf(c, max * 8) < 0)
		return reply_error(c, rq, NBD_ENOMEM);
	while (pos < end && n < max) {
		stop = backend_run_end(&c->be, pos, end, &hole, false);
		put_extent(c->buf + 8 * n++, stop - pos,
			   hole ? NBD_STATE_HOLE | NBD_STATE_ZERO : 0);
		pos = stop;
	}
	put_be32(pre, SRV_META_ALLOCATION_ID);
	return reply_chunk(c, rq, NBD_REPLY_TYPE_BLOCK_STATUS, pre, 4, c->buf,
			   8 * n);
}
