/*
 * Loads a boot trace. Format (scripts/storm/README):
 *
 *   nbdroot-trace 1
 *   c CONN START_US
 *   r CONN ISSUE_US TYPE FLAGS OFFSET LENGTH DONE_US INFLIGHT
 *
 * Times of an "r" line count from its connection's connect; "c" gives
 * that connect's time since the first one. All connections of a trace
 * are one machine's boot, so they are merged into one schedule.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define TRACE_MAX_CONNS	64

struct loader {
	struct trace *t;
	uint32_t cap;
	uint64_t conn_start[TRACE_MAX_CONNS];
	uint8_t conn_seen[TRACE_MAX_CONNS];
};

static int type_of(const char *s)
{
	static const char *const names[] = {
		[REQ_READ] = "R", [REQ_WRITE] = "W", [REQ_FLUSH] = "F",
		[REQ_TRIM] = "T", [REQ_ZERO] = "Z", [REQ_CACHE] = "C",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int add_conn(struct loader *ld, const char *line, char *why,
		    size_t whylen)
{
	unsigned int conn;
	uint64_t start;
	char end;

	if (sscanf(line, "c %u %" SCNu64 " %c", &conn, &start, &end) != 2) {
		snprintf(why, whylen, "bad connection line \"%.80s\"", line);
		return -1;
	}
	if (conn >= TRACE_MAX_CONNS) {
		snprintf(why, whylen, "connection %u out of range (> %u)",
			 conn, TRACE_MAX_CONNS - 1);
		return -1;
	}
	ld->conn_start[conn] = start;
	ld->conn_seen[conn] = 1;
	return 0;
}

static int check_req(const struct trace_req *r, const char *flags,
		     char *why, size_t whylen)
{
	if (strcmp(flags, "-") && strcmp(flags, "F")) {
		snprintf(why, whylen, "unknown flags \"%s\" (- or F)", flags);
		return -1;
	}
	if (r->length > TRACE_MAX_LEN) {
		snprintf(why, whylen, "length %" PRIu32 " over %u",
			 r->length, TRACE_MAX_LEN);
		return -1;
	}
	if (r->offset > UINT64_MAX - r->length) {
		snprintf(why, whylen, "offset %" PRIu64 " + length %" PRIu32
			 " overflows", r->offset, r->length);
		return -1;
	}
	if (r->inflight < 1 || r->inflight > TRACE_MAX_INFLIGHT) {
		snprintf(why, whylen, "in-flight count %u out of 1..%u",
			 r->inflight, TRACE_MAX_INFLIGHT);
		return -1;
	}
	if (r->done_us < r->at_us) {
		snprintf(why, whylen, "completion %" PRIu64 " before issue %"
			 PRIu64, r->done_us, r->at_us);
		return -1;
	}
	return 0;
}

static int add_req(struct loader *ld, const char *line, char *why,
		   size_t whylen)
{
	struct trace *t = ld->t;
	struct trace_req r = { 0 };
	char type[4], flags[4], end;
	unsigned int conn, inflight;
	int ty;

	if (sscanf(line, "r %u %" SCNu64 " %3s %3s %" SCNu64 " %" SCNu32
		   " %" SCNu64 " %u %c", &conn, &r.at_us, type, flags,
		   &r.offset, &r.length, &r.done_us, &inflight, &end) != 8) {
		snprintf(why, whylen, "bad request line \"%.80s\"", line);
		return -1;
	}
	if (conn >= TRACE_MAX_CONNS || !ld->conn_seen[conn]) {
		snprintf(why, whylen, "request on connection %u, which no \"c\" line opened",
			 conn);
		return -1;
	}
	ty = type_of(type);
	if (ty < 0) {
		snprintf(why, whylen, "unknown request type \"%s\" (R W F T Z C)",
			 type);
		return -1;
	}
	r.type = ty;
	r.fua = flags[0] == 'F';
	r.inflight = inflight > 0xffff ? 0xffff : inflight;
	if (check_req(&r, flags, why, whylen) < 0)
		return -1;
	r.at_us += ld->conn_start[conn];
	r.done_us += ld->conn_start[conn];
	if (t->n == TRACE_MAX_REQS) {
		snprintf(why, whylen, "more than %u requests", TRACE_MAX_REQS);
		return -1;
	}
	if (t->n == ld->cap) {
		uint32_t cap = ld->cap ? ld->cap * 2 : 1024;
		struct trace_req *p = realloc(t->reqs, cap * sizeof(*p));

		if (!p) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
		t->reqs = p;
		ld->cap = cap;
	}
	t->reqs[t->n++] = r;
	return 0;
}

static int by_issue(const void *a, const void *b)
{
	const struct trace_req *x = a, *y = b;

	return (x->at_us > y->at_us) - (x->at_us < y->at_us);
}

static void summarise(struct trace *t)
{
	uint32_t i;

	/* stable enough: equal times keep no meaning across connections */
	qsort(t->reqs, t->n, sizeof(*t->reqs), by_issue);
	for (i = 0; i < t->n; i++) {
		const struct trace_req *r = &t->reqs[i];

		if (r->length > t->max_len)
			t->max_len = r->length;
		if (r->done_us > t->end_us)
			t->end_us = r->done_us;
		if (r->type == REQ_READ) {
			t->reads++;
			t->read_bytes += r->length;
		} else if (r->type == REQ_WRITE) {
			t->writes++;
			t->write_bytes += r->length;
		} else if (r->type == REQ_FLUSH) {
			t->flushes++;
		}
	}
}

static int load_line(struct loader *ld, char *line, unsigned long lineno,
		     char *why, size_t whylen)
{
	char sub[200];
	int rc = 0;

	line[strcspn(line, "\n")] = '\0';
	if (lineno == 1) {
		if (strcmp(line, "nbdroot-trace 1")) {
			snprintf(why, whylen, "line 1: not an nbdroot trace (want \"nbdroot-trace 1\", got \"%.40s\")",
				 line);
			return -1;
		}
		return 0;
	}
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (line[0] == 'c')
		rc = add_conn(ld, line, sub, sizeof(sub));
	else if (line[0] == 'r')
		rc = add_req(ld, line, sub, sizeof(sub));
	else
		snprintf(sub, sizeof(sub), "unknown line \"%.40s\"", line), rc = -1;
	if (rc < 0)
		snprintf(why, whylen, "line %lu: %s", lineno, sub);
	return rc;
}

int trace_load(FILE *f, struct trace *t, char *why, size_t whylen)
{
	struct loader ld = { .t = t };
	unsigned long lineno = 0;
	char line[512];

	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, whylen, "line %lu: longer than %zu bytes",
				 lineno, sizeof(line) - 2);
			goto out_free;
		}
		if (load_line(&ld, line, lineno, why, whylen) < 0)
			goto out_free;
	}
	if (ferror(f)) {
		snprintf(why, whylen, "read: %s", strerror(errno));
		goto out_free;
	}
	if (t->n == 0) {
		snprintf(why, whylen, "no requests (%lu lines)", lineno);
		goto out_free;
	}
	summarise(t);
	return 0;

out_free:
	trace_free(t);
	return -1;
}

void trace_free(struct trace *t)
{
	free(t->reqs);
	memset(t, 0, sizeof(*t));
}

uint64_t trace_extent(const struct trace *t)
{
	uint64_t max = 0;
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->reqs[i].offset + t->reqs[i].length > max)
			max = t->reqs[i].offset + t->reqs[i].length;
	return max;
}
