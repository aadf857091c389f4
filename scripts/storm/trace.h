/* Boot traces: the request list of a recorded boot (format in README). */
#ifndef STORM_TRACE_H
#define STORM_TRACE_H

#include <stdint.h>
#include <stdio.h>

/* Limits on what a trace may hold: a boot reads some hundred MiB at most. */
#define TRACE_MAX_REQS		(1u << 20)
#define TRACE_MAX_LEN		(32u << 20)	/* bytes in one request */
#define TRACE_MAX_INFLIGHT	1024u

enum req_type { REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_TRIM, REQ_ZERO, REQ_CACHE };

struct trace_req {
	uint64_t at_us;		/* issue time since the trace's first connect */
	uint64_t done_us;	/* recorded completion, same clock */
	uint64_t offset;
	uint32_t length;
	uint16_t inflight;	/* outstanding on its connection, itself included */
	uint8_t type;		/* enum req_type */
	uint8_t fua;
};

struct trace {
	struct trace_req *reqs;	/* sorted by at_us */
	uint32_t n;
	uint32_t max_len;	/* largest length, for buffers */
	uint64_t end_us;	/* the last recorded completion */
	uint64_t reads, read_bytes, writes, write_bytes, flushes;
};

/*
 * Reads a trace from f. Returns 0, or -1 with why[] naming the line and
 * what is wrong with it.
 */
int trace_load(FILE *f, struct trace *t, char *why, size_t whylen);
void trace_free(struct trace *t);
/* The highest byte a request touches, for checking against an image size. */
uint64_t trace_extent(const struct trace *t);

#endif
