/*
 * The floor: every client replays the trace against the image file with
 * pread/pwrite (the page cache), one thread, no network, no server. What
 * a server adds is measured against this.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storm.h"

static int floor_one(struct run *r, const struct trace_req *q, void *buf)
{
	ssize_t n;

	switch (q->type) {
	case REQ_READ:
		n = pread(r->img_fd, buf, q->length, q->offset);
		if (n < 0)
			return -1;
		if ((size_t)n < q->length)
			memset((char *)buf + n, 0, q->length - n);
		note_read(r, buf, q->length, q->offset);
		return 0;
	case REQ_WRITE:
		/* the image's own bytes: replays never change the data */
		if (image_read(r, buf, q->length, q->offset) < 0)
			return -1;
		n = pwrite(r->img_fd, buf, q->length, q->offset);
		return n == (ssize_t)q->length ? 0 : -1;
	case REQ_FLUSH:
		return fdatasync(r->img_fd);
	default:
		return 0;	/* trim, zero, cache: nothing to move */
	}
}

/* Issues every request of c that is due; completion is immediate. */
static void floor_step(struct run *r, struct client *c, uint64_t t0,
		       void *buf)
{
	uint64_t now = now_us() - t0, t;

	if (c->state == CL_WAIT && now >= c->start_us) {
		c->state = CL_RUN;
		c->ready_us = now;
	}
	while (c->state == CL_RUN && c->next < r->t->n &&
	       now >= c->ready_us + due_us(r, c->next)) {
		note_issue(r, c, now);
		t = now_us();
		if (floor_one(r, &r->t->reqs[c->next], buf) < 0) {
			snprintf(c->why, sizeof(c->why), "request %u: %s",
				 c->next, strerror(errno));
			c->state = CL_FAILED;
			return;
		}
		t = now_us() - t;
		note_latency(r, r->t->reqs[c->next].type, t);
		note_done(r, c, &r->t->reqs[c->next], t);
		r->max_busy = 1;
		c->next++;
		now = now_us() - t0;
	}
	if (c->state == CL_RUN && c->next == r->t->n) {
		c->state = CL_DONE;
		c->done_us = now;
	}
}

/* Sleeps until the next client or request is due, 10 ms at most. */
static void floor_wait(struct run *r, uint64_t t0)
{
	uint64_t now = now_us() - t0, soonest = now + 10000, t;
	struct timespec nap;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		struct client *c = &r->cl[i];

		if (c->state == CL_WAIT)
			t = c->start_us;
		else if (c->state == CL_RUN && c->next < r->t->n)
			t = c->ready_us + due_us(r, c->next);
		else
			continue;
		if (t < soonest)
			soonest = t;
	}
	if (soonest <= now)
		return;
	nap.tv_sec = (soonest - now) / 1000000;
	nap.tv_nsec = (soonest - now) % 1000000 * 1000;
	nanosleep(&nap, NULL);
}

int replay_floor(struct run *r, uint64_t t0)
{
	uint64_t limit = r->deadline_s * 1e6;
	unsigned int i, left;
	void *buf;

	buf = malloc(r->t->max_len ? r->t->max_len : 1);
	if (!buf)
		return -1;
	do {
		left = 0;
		for (i = 0; i < r->n; i++) {
			floor_step(r, &r->cl[i], t0, buf);
			left += r->cl[i].state < CL_DONE;
		}
		if (left)
			floor_wait(r, t0);
	} while (left && now_us() - t0 < limit);
	free(buf);
	return 0;
}
