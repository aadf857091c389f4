/* The storm driver's shared state: N clients replaying one boot trace. */
#ifndef STORM_H
#define STORM_H

#include <stdint.h>

#include "trace.h"

enum client_state {
	CL_WAIT,	/* its start time has not come */
	CL_CONNECT,	/* TCP connect in progress */
	CL_HANDSHAKE,	/* NBD negotiation in progress */
	CL_RUN,		/* replaying */
	CL_DONE,	/* every request completed */
	CL_FAILED,	/* connect, negotiation or a request failed */
};

struct client {
	enum client_state state;
	int fd;
	void *nbd;		/* struct nbd_handle *, NULL in floor mode */
	uint64_t start_us;	/* when it is due to connect, run clock */
	uint64_t ready_us;	/* negotiation done: the schedule starts */
	uint64_t done_us;	/* last reply */
	uint32_t next;		/* next request of the trace to issue */
	uint32_t busy;		/* requests outstanding */
	uint64_t late_us;	/* the most a request was issued after its time */
	uint64_t last_us;	/* the trace's last request took this long */
	char why[160];		/* what failed */
};

struct run {
	const struct trace *t;
	unsigned int n;
	double spread_s;	/* clients start evenly over this many seconds */
	double deadline_s;	/* whoever is not done by then is stuck */
	double speed;		/* schedule times are divided by this */
	uint32_t src_base;	/* first source address, host order */
	const char *host;	/* server, numeric IPv4 */
	unsigned int port;
	int port_each;		/* -P: client i connects to port + i */
	const char *export_name;
	int img_fd;		/* the image: write payloads, read checks, floor */
	int verify;		/* compare every read with the image */
	struct client *cl;
	uint32_t *lat_us;	/* one latency per completed request */
	uint64_t nlat;
	uint32_t *rlat_us;	/* the reads' alone: what a boot waits on */
	uint64_t nrlat;
	uint32_t max_busy;	/* most requests one client had outstanding */
	uint64_t mismatches;	/* reads that differ from the image */
	uint64_t first_mismatch;
};

uint64_t now_us(void);
/* When request i of the trace is due, relative to its client's start. */
uint64_t due_us(const struct run *r, uint32_t i);
/* Fills buf with the image's bytes at offset (zeros past its end). */
int image_read(const struct run *r, void *buf, uint32_t len, uint64_t off);
void note_read(struct run *r, const void *buf, uint32_t len, uint64_t off);
/* One completed request of this type that took us microseconds. */
void note_latency(struct run *r, enum req_type type, uint64_t us);
/* c issues request c->next now (run clock): how late it is. */
void note_issue(const struct run *r, struct client *c, uint64_t now);
/* c's request q completed in us: the last one's time is kept. */
void note_done(const struct run *r, struct client *c,
	       const struct trace_req *q, uint64_t us);

/* Replays against a server; returns when all are done or at the deadline. */
int replay_net(struct run *r, uint64_t t0);
/* Drops a client's connection (and its handle). */
void close_client(struct client *c);
/* Replays against the image file: no network, no server. */
int replay_floor(struct run *r, uint64_t t0);

#endif
