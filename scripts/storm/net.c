/*
 * N clients in one poll loop over libnbd's asynchronous API. Each binds
 * its own source address (127.0.0.2, .3, ... so per-address exports such
 * as copy-on-write ones tell them apart), connects, negotiates as a
 * booting machine's client does (NBD_OPT_GO, simple replies), and
 * issues request i of the trace once its recorded time has come and
 * fewer than its recorded in-flight count are outstanding.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "storm.h"

struct inflight {
	struct run *r;
	struct client *c;
	const struct trace_req *q;
	uint64_t issued_us;
	void *buf;
};

static int fail(struct client *c, const char *step, const char *msg)
{
	snprintf(c->why, sizeof(c->why), "%s: %s", step, msg);
	c->state = CL_FAILED;
	return -1;
}

static int open_socket(struct run *r, struct client *c, unsigned int i)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int one = 1;

	src.sin_addr.s_addr = htonl(r->src_base + i);
	dst.sin_port = htons(r->port + (r->port_each ? i : 0));
	if (inet_pton(AF_INET, r->host, &dst.sin_addr) != 1)
		return fail(c, "connect", "server is not an IPv4 address");
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, "socket", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return fail(c, "bind", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS)
		return fail(c, "connect", strerror(errno));
	c->state = CL_CONNECT;
	return 0;
}

/* The TCP connect finished: hand the socket to libnbd to negotiate. */
static int start_nbd(struct run *r, struct client *c)
{
	struct nbd_handle *h;
	socklen_t len = sizeof(int);
	int err = 0;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err)
		return fail(c, "connect", strerror(err));
	h = nbd_create();
	if (!h)
		return fail(c, "nbd_create", nbd_get_error());
	c->nbd = h;
	/*
	 * A booting machine's client (ours, Debian's) asks NBD_OPT_GO alone:
	 * nbd.ko parses simple replies only. So does each client here, so
	 * that every server answers what a room asks of it (libnbd would
	 * otherwise ask for structured replies first: one more round trip,
	 * and reads answered in chunks no kernel receives).
	 */
	if (nbd_set_request_structured_replies(h, false) < 0 ||
	    nbd_set_export_name(h, r->export_name) < 0 ||
	    nbd_aio_connect_socket(h, c->fd) < 0)
		return fail(c, "negotiate", nbd_get_error());
	c->fd = -1;	/* libnbd owns it now */
	c->state = CL_HANDSHAKE;
	return 0;
}

static int completed(void *opaque, int *error)
{
	struct inflight *f = opaque;
	struct client *c = f->c;
	struct run *r = f->r;
	uint64_t took = now_us() - f->issued_us;

	note_latency(r, f->q->type, took);
	note_done(r, c, f->q, took);
	c->busy--;
	if (*error && c->state == CL_RUN) {
		snprintf(c->why, sizeof(c->why), "request at offset %llu: %s",
			 (unsigned long long)f->q->offset, strerror(*error));
		c->state = CL_FAILED;
	} else if (f->q->type == REQ_READ) {
		note_read(r, f->buf, f->q->length, f->q->offset);
	}
	free(f->buf);
	free(f);
	return 1;	/* retire the command */
}

static int64_t submit(struct nbd_handle *h, struct inflight *f)
{
	nbd_completion_callback cb = { .callback = completed, .user_data = f };
	const struct trace_req *q = f->q;
	uint32_t fl = q->fua ? LIBNBD_CMD_FLAG_FUA : 0;

	switch (q->type) {
	case REQ_READ:
		return nbd_aio_pread(h, f->buf, q->length, q->offset, cb, 0);
	case REQ_WRITE:
		return nbd_aio_pwrite(h, f->buf, q->length, q->offset, cb, fl);
	case REQ_FLUSH:
		return nbd_aio_flush(h, cb, 0);
	case REQ_TRIM:
		return nbd_aio_trim(h, q->length, q->offset, cb, fl);
	case REQ_ZERO:
		return nbd_aio_zero(h, q->length, q->offset, cb, fl);
	default:
		return nbd_aio_cache(h, q->length, q->offset, cb, 0);
	}
}

/* Issues request c->next; its completion callback frees what it holds. */
static int issue(struct run *r, struct client *c)
{
	const struct trace_req *q = &r->t->reqs[c->next];
	struct inflight *f = calloc(1, sizeof(*f));

	if (!f)
		return fail(c, "issue", strerror(errno));
	*f = (struct inflight){ .r = r, .c = c, .q = q };
	f->buf = malloc(q->length ? q->length : 1);
	if (!f->buf) {
		free(f);
		return fail(c, "issue", strerror(errno));
	}
	/* writes carry the image's own bytes: the data never changes */
	if (q->type == REQ_WRITE &&
	    image_read(r, f->buf, q->length, q->offset) < 0) {
		free(f->buf);
		free(f);
		return fail(c, "issue: read image", strerror(errno));
	}
	f->issued_us = now_us();
	if (submit(c->nbd, f) < 0) {
		free(f->buf);
		free(f);
		return fail(c, "issue", nbd_get_error());
	}
	c->next++;
	if (++c->busy > r->max_busy)
		r->max_busy = c->busy;
	return 0;
}

/* Moves one client on: connect when due, issue what is due, finish. */
static void advance(struct run *r, struct client *c, unsigned int i,
		    uint64_t t0)
{
	uint64_t now = now_us() - t0;
	const struct trace_req *q;

	if (c->state == CL_WAIT && now >= c->start_us)
		open_socket(r, c, i);
	if (c->state == CL_HANDSHAKE && nbd_aio_is_ready(c->nbd)) {
		c->state = CL_RUN;
		c->ready_us = now;
	}
	if (c->state == CL_HANDSHAKE && (nbd_aio_is_dead(c->nbd) ||
					 nbd_aio_is_closed(c->nbd)))
		fail(c, "negotiate", nbd_get_error() ?: "connection closed");
	while (c->state == CL_RUN && c->next < r->t->n) {
		q = &r->t->reqs[c->next];
		if (now < c->ready_us + due_us(r, c->next) ||
		    c->busy >= q->inflight)
			break;
		note_issue(r, c, now);
		issue(r, c);
	}
	if (c->state == CL_RUN && c->next == r->t->n && c->busy == 0) {
		c->state = CL_DONE;
		c->done_us = now;
		nbd_aio_disconnect(c->nbd, 0);
	}
	if (c->state == CL_RUN && nbd_aio_is_dead(c->nbd))
		fail(c, "replay", nbd_get_error() ?: "connection lost");
}

/* The poll events a client waits for, or 0 when it waits for nothing. */
static short wanted(struct client *c, int *fd)
{
	unsigned int dir;
	short ev = 0;

	*fd = c->fd;
	if (c->state == CL_CONNECT)
		return POLLOUT;
	if (c->state != CL_HANDSHAKE && c->state != CL_RUN)
		return 0;
	*fd = nbd_aio_get_fd(c->nbd);
	dir = nbd_aio_get_direction(c->nbd);
	if (dir & LIBNBD_AIO_DIRECTION_READ)
		ev |= POLLIN;
	if (dir & LIBNBD_AIO_DIRECTION_WRITE)
		ev |= POLLOUT;
	return ev;
}

static void notify(struct run *r, struct client *c, short revents)
{
	if (c->state == CL_CONNECT) {
		start_nbd(r, c);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		nbd_aio_notify_read(c->nbd);
	else if (revents & POLLOUT)
		nbd_aio_notify_write(c->nbd);
}

/*
 * How long poll may sleep: until the next scheduled event, capped at
 * 10 ms. In microseconds, as the floor's nanosleep waits (floor.c): a
 * timeout rounded up to whole milliseconds issued each request up to
 * 1 ms late, as much as one client's whole lead over another.
 */
static struct timespec next_timeout(struct run *r, uint64_t t0)
{
	uint64_t now = now_us() - t0, soonest = now + 10000, t, wait;
	unsigned int i;
	struct client *c;

	for (i = 0; i < r->n; i++) {
		c = &r->cl[i];
		if (c->state == CL_WAIT)
			t = c->start_us;
		else if (c->state == CL_RUN && c->next < r->t->n &&
			 c->busy < r->t->reqs[c->next].inflight)
			t = c->ready_us + due_us(r, c->next);
		else
			continue;	/* a reply wakes it */
		if (t < soonest)
			soonest = t;
	}
	wait = soonest <= now ? 0 : soonest - now;
	return (struct timespec){ .tv_sec = (time_t)(wait / 1000000),
				  .tv_nsec = (long)(wait % 1000000) * 1000 };
}

int replay_net(struct run *r, uint64_t t0)
{
	uint64_t limit = r->deadline_s * 1e6;
	struct pollfd *pfd = calloc(r->n, sizeof(*pfd));
	unsigned int *who = calloc(r->n, sizeof(*who));
	unsigned int i, np, left;
	struct timespec wait;
	int fd;
	short ev;

	if (!pfd || !who)
		goto out_free;
	for (;;) {
		np = left = 0;
		for (i = 0; i < r->n; i++) {
			advance(r, &r->cl[i], i, t0);
			left += r->cl[i].state < CL_DONE;
			ev = wanted(&r->cl[i], &fd);
			if (ev) {
				pfd[np] = (struct pollfd){ .fd = fd, .events = ev };
				who[np++] = i;
			}
		}
		if (!left || now_us() - t0 >= limit)
			break;
		wait = next_timeout(r, t0);
		if (ppoll(pfd, np, &wait, NULL) < 0 && errno != EINTR)
			goto out_free;
		for (i = 0; i < np; i++)
			if (pfd[i].revents)
				notify(r, &r->cl[who[i]], pfd[i].revents);
	}
	free(pfd);
	free(who);
	return 0;

out_free:
	free(pfd);
	free(who);
	return -1;
}

void close_client(struct client *c)
{
	if (c->nbd)
		nbd_close(c->nbd);
	if (c->fd >= 0)
		close(c->fd);
	c->nbd = NULL;
	c->fd = -1;
}
