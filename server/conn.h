/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One client connection: its state (conn.c), negotiation (negotiate.c),
 * then transmission: request intake and dispatch (transmit.c), replies and
 * READ encoding (reply.c), BLOCK_STATUS (block-status.c). These record a
 * failure in c->why for the connection's log line and return -1; they
 * never print.
 */
#ifndef NBDROOT_CONN_H
#define NBDROOT_CONN_H

#include "backend.h"

/* An export opened before the privilege drop (conn_preopen). */
struct preopened {
	const struct export *e;
	int allowed;		/* export_allowed(), denied says why */
	char denied[SRV_ERRLEN];
	struct backend be;
	bool failed;		/* why says why */
	char why[SRV_ERRLEN];
};

/* One client, from accept to close. */
struct conn {
	struct xport xp;	/* the client's descriptors, TLS after STARTTLS */
	const struct config *cfg;
	struct sockaddr_storage peer_sa;
	socklen_t peer_len;	/* 0: not a network peer (stdin mode) */
	char peer_addr[64];	/* address only: "%s" and authfile */
	char peer[80];		/* address:port, for the log */
	int64_t deadline;	/* CLOCK_MONOTONIC ms; 0 none */
	size_t greeted;		/* greeting bytes sent at accept */

	bool no_zeroes;
	bool structured;
	bool meta_alloc;	/* base:allocation selected */
	bool tls_on;		/* STARTTLS done: the session in xp, or ktls */
	bool ktls;		/* the kernel has the session: xp is plain */
	bool tls_psk;		/* the peer proved a PSK identity */
	struct tls_chain *chain;	/* or sent these certificates */
	char identity[SRV_ERRLEN];	/* TLS peer: PSK identity or CN */
	char tlsdesc[48];		/* version and cipher */
	char owner[SRV_ERRLEN + 8];	/* "tls=identity": its cow files */

	const struct export *exp;
	char exp_name[NBD_MAX_NAME + 1];	/* NAME@ID with generations */
	char want_gen[SRV_GEN_IDLEN];	/* GO for NAME@ID: ID */
	char gen_note[200];	/* once per client: it runs an older base,
				   logged once in transmission */
	struct backend be;	/* exp's file */
	uint16_t tflags;
	struct preopened *pre;	/* every export, or NULL: opened at GO */
	size_t npre;

	unsigned char *buf;	/* option data, BLOCK_STATUS extents */
	size_t bufsize;
	unsigned char *ibuf;	/* transmission: requests as they arrive */
	size_t ipos, ilen;
	unsigned char *obuf;	/* replies not yet sent */
	size_t olen;
	bool in_sock;		/* recv's MSG_DONTWAIT may be used */
	uint64_t requests;
	const char *outcome;	/* for the log line */
	char why[SRV_ERRLEN];
};

/* conn.c */
void conn_init(struct conn *c, int in, int out, const struct config *cfg);
int conn_fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool export_tls_only(const struct export *e);
int conn_export_allowed(const struct conn *c, const struct export *e,
			char *why, size_t whylen);
int conn_preopen(struct conn *c);
int conn_open_export(struct conn *c, const struct export *e, bool probe);
void conn_close_export(struct conn *c);
int conn_finish(struct conn *c);
void conn_log_line(const struct conn *c, char *line, size_t len);
void conn_close(struct conn *c);
size_t escape_string(char *dst, size_t dstlen, const char *src, size_t len);
int peer_describe(const struct sockaddr *sa, char *addr, size_t addrlen,
		  char *full, size_t fulllen);

/* negotiate.c: 0 go to transmission, 1 clean end, -1 error in c->why */
int negotiate(struct conn *c);
int negotiate_refuse(struct conn *c, uint32_t type, const char *msg);
size_t negotiate_greet_early(int fd);

/* transmit.c: 0 clean end, -1 error in c->why */
int transmit(struct conn *c);

/* reply.c: replies collected in c->obuf; 0, or -1 with c->why */
int reply_flush(struct conn *c);
int reply_simple(struct conn *c, const struct nbd_request *rq, uint32_t err);
int reply_chunk(struct conn *c, const struct nbd_request *rq, uint16_t type,
		const unsigned char *pre, size_t prelen, const void *data,
		size_t len);
int reply_error(struct conn *c, const struct nbd_request *rq, uint32_t err);
int reply_read(struct conn *c, const struct nbd_request *rq);

/* block-status.c: the base:allocation reply; 0, or -1 with c->why */
int reply_block_status(struct conn *c, const struct nbd_request *rq);

#endif
