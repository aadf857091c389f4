// SPDX-License-Identifier: GPL-2.0
/*
 * The transmission phase (proto.md "Transmission"): request intake, checks
 * and dispatch. Requests are taken in order from a buffer that one read
 * fills with as many as the client has sent, each checked completely
 * before anything touches the file; the replies (reply.c) go back together
 * when the buffer runs dry. A rejected WRITE still has its payload read
 * and dropped so the next request header is where the client put it; a
 * wrong magic closes the connection, since nothing after it can be trusted
 * to be in step. What each command does to the file is in fileops.c and
 * block-status.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteorder.h"
#include "conn.h"

#define KNOWN_CMD_FLAGS (NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | \
			 NBD_CMD_FLAG_DF | NBD_CMD_FLAG_REQ_ONE | \
			 NBD_CMD_FLAG_FAST_ZERO)

/* offset + length inside the export, without overflowing. */
static bool in_bounds(const struct conn *c, const struct nbd_request *rq)
{
	return rq->offset <= c->be.size &&
	       rq->length <= c->be.size - rq->offset;
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
 * One read of at most room bytes into c->ibuf: what the socket already
 * holds is taken without a poll. What read returned.
 */
static ssize_t in_read(struct conn *c, size_t room, bool msg_start)
{
	ssize_t r = -1;

	errno = EAGAIN;
	if (c->in_sock)
		r = recv(c->xp.in, c->ibuf + c->ilen, room, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		r = xp_read_some(&c->xp, c->ibuf + c->ilen, room, msg_start);
	return r;
}

/*
 * Makes at least need bytes of the request stream available at c->ipos;
 * msg_start: they begin a request, so EOF or SIGTERM before them is a
 * clean end. The pending replies go out first, all in one send. 0, 1 on
 * EOF before the first byte of a request, -1 with errno (EPIPE: EOF
 * inside one; EINTR: SIGTERM).
 *
 * SIGTERM (a server restart) deliberately fails nothing: a request read
 * whole, header and payload, is carried out and answered; one not yet
 * read whole, even in part, is left unanswered and goes with the
 * connection, and after SIGTERM nothing is read beyond the request in
 * hand. proto.md says a server shutting down SHOULD answer outstanding
 * requests with ESHUTDOWN, but nbd.ko passes any error reply to the file
 * system as an I/O error (ext4 may turn read-only), while it sends the
 * requests a closed connection left unanswered again once it reconnects.
 */
static int in_fill(struct conn *c, size_t need, bool msg_start)
{
	size_t have = c->ilen - c->ipos;
	bool stop;
	ssize_t r;

	while (have < need) {
		if (c->ipos + need > SRV_IBUF_SIZE || have == 0) {
			memmove(c->ibuf, c->ibuf + c->ipos, have);
			c->ipos = 0;
			c->ilen = have;
		}
		/* Replies wait no longer than it takes to read more. */
		if (reply_flush(c) < 0) {
			errno = EPIPE;
			return -1;
		}
		stop = io_stopping();
		if (stop && msg_start) {
			errno = EINTR;
			return -1;
		}
		r = in_read(c, stop ? need - have : SRV_IBUF_SIZE - c->ilen,
			    msg_start);
		if (r < 0 && errno == EINTR && !msg_start)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 && msg_start && have == 0)
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
		if (!*err && backend_write(&c->be, c->ibuf + c->ipos, have,
					   off) < 0)
			*err = nbd_errno_to_wire(errno);
		c->ipos += have;
		off += have;
		left -= have;
	}
	/* the whole WRITE, however its payload arrived */
	if (!*err)
		backend_wrote(&c->be, rq->offset, rq->length);
	return 0;
}

/* What the command does to the file: 0, or -1 with errno. */
static int do_command(struct conn *c, const struct nbd_request *rq)
{
	bool fua = rq->flags & NBD_CMD_FLAG_FUA;

	switch (rq->type) {
	case NBD_CMD_WRITE:
		return fua ? backend_sync(&c->be) : 0;
	case NBD_CMD_FLUSH:
		return backend_sync(&c->be);
	case NBD_CMD_TRIM:
		return backend_trim(&c->be, rq->offset, rq->length, fua);
	case NBD_CMD_WRITE_ZEROES:
		return backend_write_zeroes(&c->be, rq->offset, rq->length,
					    rq->flags);
	case NBD_CMD_CACHE:
		posix_fadvise(c->be.fd, (off_t)rq->offset, (off_t)rq->length,
			      POSIX_FADV_WILLNEED);
		return 0;
	}
	return 0;
}

static int handle_request(struct conn *c, const struct nbd_request *rq)
{
	uint32_t err = check_request(c, rq);

	if (rq->type == NBD_CMD_WRITE && write_payload(c, rq, &err) < 0)
		return -1;
	if (err)
		return reply_error(c, rq, err);
	if (rq->type == NBD_CMD_READ)
		return reply_read(c, rq);
	if (rq->type == NBD_CMD_BLOCK_STATUS)
		return reply_block_status(c, rq);
	if (do_command(c, rq) < 0)
		err = nbd_errno_to_wire(errno);
	return reply_simple(c, rq, err);
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
	c->in_sock = !c->xp.tls && is_socket(c->xp.in);
	r = serve_requests(c);
	/* Replies to what came before DISC, EOF or SIGTERM still go out. */
	if (reply_flush(c) < 0)
		r = -1;
	return r;
}
