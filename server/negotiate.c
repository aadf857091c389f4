// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed newstyle negotiation (proto.md "Newstyle negotiation", "Option
 * types"). Runs in the child that owns the connection, under a deadline.
 *
 * Every option's data is read whole (it is at most SRV_MAX_OPT_DATA) before
 * it is parsed, so a rejected option never leaves the stream out of sync;
 * a larger announced length is refused without reading it, and the
 * connection closed (qemu CVE-2017-15119 drained such lengths for minutes).
 * Fields are then taken with a remaining-length check before each one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "byteorder.h"
#include "conn.h"

#define KNOWN_CLIENT_FLAGS	(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)

/* What to do after an option: keep negotiating, transmit, or stop. */
enum { OPT_NEXT, OPT_TRANSMIT, OPT_END };

struct opt {
	uint32_t option;
	uint32_t len;
	const unsigned char *data;
};

/*
 * A reader over one option's data, which was read whole: every field is
 * taken only after checking what remains, and a false return means the
 * data ended first.
 */
struct rd {
	const unsigned char *p;
	uint32_t rem;
};

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (r->rem < 2)
		return false;
	*v = get_be16(r->p);
	r->p += 2;
	r->rem -= 2;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->rem < 4)
		return false;
	*v = get_be32(r->p);
	r->p += 4;
	r->rem -= 4;
	return true;
}

/* u32 length, then that many bytes (a name or a query). */
static bool rd_string(struct rd *r, const unsigned char **s, uint32_t *len)
{
	if (!rd_u32(r, len) || *len > r->rem)
		return false;
	*s = r->p;
	r->p += *len;
	r->rem -= *len;
	return true;
}

static int send_reply(struct conn *c, uint32_t option, uint32_t type,
		      const void *data, uint32_t len)
{
	unsigned char hdr[NBD_OPT_REPLY_HDR_SIZE];
	struct nbd_opt_reply_hdr rep = {
		.option = option, .type = type, .length = len,
	};

	nbd_opt_reply_hdr_encode(hdr, &rep);
	if (xp_write2_full(&c->xp, hdr, sizeof(hdr), data, len, c->deadline) < 0)
		return conn_fail(c, "sending %s reply to %s: %s",
				 nbd_rep_name(type), nbd_opt_name(option),
				 strerror(errno));
	return 0;
}

/* An error reply carries a human-readable message (proto.md allows it). */
static int send_error(struct conn *c, uint32_t option, uint32_t type,
		      const char *msg)
{
	if (send_reply(c, option, type, msg, (uint32_t)strlen(msg)) < 0)
		return -1;
	return OPT_NEXT;
}

static int send_ack(struct conn *c, uint32_t option)
{
	return send_reply(c, option, NBD_REP_ACK, NULL, 0) < 0 ? -1 : OPT_NEXT;
}

/*
 * Why an export was refused: the reply type, a message for the client
 * (never a path or an authfile name) and one for our log.
 */
struct refusal {
	uint32_t type;
	char client[96];
	char log[SRV_ERRLEN];
};

static uint32_t refuse(struct refusal *rf, uint32_t type, const char *msg)
{
	rf->type = type;
	snprintf(rf->client, sizeof(rf->client), "%s", msg);
	if (!rf->log[0])
		snprintf(rf->log, sizeof(rf->log), "%s", msg);
	return type;
}

/*
 * Looks up a client-supplied name and checks the client may use it: 0 with
 * *out set, or the option error to send, explained in rf.
 */
static uint32_t resolve_export(struct conn *c, const unsigned char *name,
			       uint32_t len, const struct export **out,
			       struct refusal *rf)
{
	const struct export *e;
	char msg[64];

	rf->log[0] = '\0';
	if (len > NBD_MAX_NAME) {
		snprintf(msg, sizeof(msg), "export name too long (%u > %u)",
			 len, NBD_MAX_NAME);
		return refuse(rf, NBD_REP_ERR_TOO_BIG, msg);
	}
	e = export_find(c->cfg, (const char *)name, len);
	c->want_gen[0] = '\0';
	if (!e)
		e = generation_find(c->cfg, (const char *)name, len,
				    c->want_gen);
	if (!e)
		return refuse(rf, NBD_REP_ERR_UNKNOWN, "no such export");
	if (conn_export_allowed(c, e, rf->log, sizeof(rf->log)) == 1)
		goto found;
	/* proto.md "TLS support": a TLS-only export asked for in plaintext */
	if (!c->tls_on && export_tls_only(e))
		return refuse(rf, NBD_REP_ERR_TLS_REQD, "TLS required");
	return refuse(rf, NBD_REP_ERR_POLICY, "access denied");
found:
	*out = e;
	return 0;
}

/* maxconnections of the export: ERR_POLICY when it is full. */
static uint32_t claim_export(const struct export *e, struct refusal *rf)
{
	char msg[64];

	if (slots_claim(e->name, e->maxconn) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "export has its maxconnections (%u)",
		 e->maxconn);
	return refuse(rf, NBD_REP_ERR_POLICY, msg);
}

/* For the log line: which name was refused, and why. */
static void remember_refusal(struct conn *c, uint32_t option,
			     const unsigned char *name, uint32_t len,
			     const struct refusal *rf)
{
	char shown[140];

	escape_string(shown, sizeof(shown), (const char *)name, len);
	conn_fail(c, "%s '%s' refused: %.100s", nbd_opt_name(option), shown,
		  rf->log);
}

/* proto.md "NBD_OPT_EXPORT_NAME": no error reply exists, so close. */
static int opt_export_name(struct conn *c, const struct opt *o)
{
	unsigned char rep[NBD_EXPORT_NAME_REPLY_SIZE + NBD_EXPORT_NAME_PAD];
	const struct export *e = NULL;
	struct refusal rf;
	size_t replen = sizeof(rep);

	if (resolve_export(c, o->data, o->len, &e, &rf) ||
	    claim_export(e, &rf)) {
		remember_refusal(c, o->option, o->data, o->len, &rf);
		c->outcome = "refused";
		return -1;
	}
	if (conn_open_export(c, e, false) < 0)
		return -1;
	memset(rep, 0, sizeof(rep));
	put_be64(rep, c->be.size);
	put_be16(rep + 8, c->tflags);
	if (c->no_zeroes)
		replen = NBD_EXPORT_NAME_REPLY_SIZE;
	if (xp_write_full(&c->xp, rep, replen, c->deadline) < 0)
		return conn_fail(c, "sending export reply: %s", strerror(errno));
	return OPT_TRANSMIT;
}

/* proto.md "NBD_REP_SERVER": u32 name length, name, then a description. */
static int send_server_entry(struct conn *c, const struct export *e)
{
	unsigned char buf[4 + 2 * NBD_MAX_NAME];
	size_t n = strnlen(e->name, NBD_MAX_NAME), d = 0;

	put_be32(buf, (uint32_t)n);
	memcpy(buf + 4, e->name, n);
	if (e->description) {
		d = strnlen(e->description, NBD_MAX_NAME);
		memcpy(buf + 4 + n, e->description, d);
	}
	return send_reply(c, NBD_OPT_LIST, NBD_REP_SERVER, buf,
			  (uint32_t)(4 + n + d));
}

static int opt_list(struct conn *c, const struct opt *o)
{
	const struct export *e;
	char msg[SRV_ERRLEN];

	if (o->len != 0)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "LIST takes no data");
	if (!c->cfg->allowlist)
		return send_error(c, o->option, NBD_REP_ERR_POLICY,
				  "listing exports is disabled");
	for (e = c->cfg->exports; e; e = e->next) {
		if (conn_export_allowed(c, e, msg, sizeof(msg)) != 1)
			continue;
		if (send_server_entry(c, e) < 0)
			return -1;
	}
	return send_ack(c, o->option);
}

/*
 * The replies to INFO and GO, gathered to go out in one write: one
 * segment and one wakeup of the client instead of one per reply, which a
 * storm of clients negotiating at once pays for on the server's core.
 * The buffer holds the usual replies; a long name or description goes
 * out on its own, after what was gathered before it.
 */
struct info_batch {
	struct conn *c;
	uint32_t option;
	size_t len;
	unsigned char b[512];
};

static int batch_flush(struct info_batch *q)
{
	if (q->len &&
	    xp_write_full(&q->c->xp, q->b, q->len, q->c->deadline) < 0)
		return conn_fail(q->c, "sending the %s replies: %s",
				 nbd_opt_name(q->option), strerror(errno));
	q->len = 0;
	return 0;
}

/* Appends one reply, or sends what is gathered and then it. 0 or -1. */
static int batch_reply(struct info_batch *q, uint32_t type,
		       const void *data, uint32_t len)
{
	struct nbd_opt_reply_hdr rep = {
		.option = q->option, .type = type, .length = len,
	};

	if (NBD_OPT_REPLY_HDR_SIZE + (size_t)len > sizeof(q->b) - q->len) {
		if (batch_flush(q) < 0)
			return -1;
		if (NBD_OPT_REPLY_HDR_SIZE + (size_t)len > sizeof(q->b))
			return send_reply(q->c, q->option, type, data, len);
	}
	nbd_opt_reply_hdr_encode(q->b + q->len, &rep);
	q->len += NBD_OPT_REPLY_HDR_SIZE;
	if (len)
		memcpy(q->b + q->len, data, len);
	q->len += len;
	return 0;
}

/* An NBD_REP_INFO: u16 type, then the body (at most NBD_MAX_NAME). */
static int batch_info(struct info_batch *q, uint16_t type, const void *body,
		      size_t len)
{
	unsigned char buf[2 + NBD_MAX_NAME];

	if (len > NBD_MAX_NAME)
		len = NBD_MAX_NAME;
	put_be16(buf, type);
	memcpy(buf + 2, body, len);
	return batch_reply(q, NBD_REP_INFO, buf, (uint32_t)(2 + len));
}

/* Replies for INFO and GO once the export is open (proto.md "NBD_REP_INFO"). */
static int send_infos(struct conn *c, uint32_t option, bool want_name,
		      bool want_desc)
{
	const struct export *e = c->exp;
	struct info_batch q = { .c = c, .option = option };
	unsigned char body[12];

	put_be64(body, c->be.size);
	put_be16(body + 8, c->tflags);
	if (batch_info(&q, NBD_INFO_EXPORT, body, 10) < 0)
		return -1;
	/* With generations, the canonical NAME@ID a reconnect asks for. */
	if (want_name && batch_info(&q, NBD_INFO_NAME, c->exp_name,
				    strlen(c->exp_name)) < 0)
		return -1;
	if (want_desc && e->description &&
	    batch_info(&q, NBD_INFO_DESCRIPTION, e->description,
		       strlen(e->description)) < 0)
		return -1;
	/* Sent unrequested too: minimum 1 constrains nobody. */
	put_be32(body, SRV_BLOCK_MIN);
	put_be32(body + 4, SRV_BLOCK_PREF);
	put_be32(body + 8, SRV_BLOCK_MAX);
	if (batch_info(&q, NBD_INFO_BLOCK_SIZE, body, 12) < 0 ||
	    batch_reply(&q, NBD_REP_ACK, NULL, 0) < 0)
		return -1;
	return batch_flush(&q);
}

/*
 * INFO and GO: u32 name length, name, u16 count, count x u16 requests
 * (proto.md "NBD_OPT_INFO").
 */
static int opt_info_go(struct conn *c, const struct opt *o)
{
	struct rd r = { o->data, o->len };
	const unsigned char *name;
	uint32_t namelen, type;
	const struct export *e = NULL;
	bool want_name = false, want_desc = false;
	struct refusal rf;
	uint16_t count, info;

	if (!rd_string(&r, &name, &namelen) || !rd_u16(&r, &count))
		goto too_short;
	/* r.rem < 64 KiB here, so 2 * count cannot overflow the test. */
	if (r.rem != 2u * count)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "information request count does not match length");
	while (rd_u16(&r, &info)) {
		want_name |= info == NBD_INFO_NAME;
		want_desc |= info == NBD_INFO_DESCRIPTION;
	}
	type = resolve_export(c, name, namelen, &e, &rf);
	if (!type && o->option == NBD_OPT_GO)
		type = claim_export(e, &rf);
	if (type) {
		remember_refusal(c, o->option, name, namelen, &rf);
		return send_error(c, o->option, type, rf.client);
	}
	/*
	 * c->why says what failed; the client only learns that it did.
	 * A GO that failed gives its maxconnections slot back: the client
	 * may go on negotiating for as long as it likes.
	 */
	if (conn_open_export(c, e, o->option == NBD_OPT_INFO) < 0) {
		if (o->option == NBD_OPT_GO)
			slots_release(getpid());
		return send_error(c, o->option, NBD_REP_ERR_UNKNOWN,
				  "export cannot be opened");
	}
	if (send_infos(c, o->option, want_name, want_desc) < 0)
		return -1;
	if (o->option == NBD_OPT_GO)
		return OPT_TRANSMIT;
	conn_close_export(c);
	return OPT_NEXT;

too_short:
	return send_error(c, o->option, NBD_REP_ERR_INVALID,
			  "option data too short");
}

static int opt_structured_reply(struct conn *c, const struct opt *o)
{
	if (o->len != 0)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "STRUCTURED_REPLY takes no data");
	c->structured = true;
	return send_ack(c, o->option);
}

static int send_meta_context(struct conn *c, uint32_t option)
{
	static const char ctx[] = SRV_META_ALLOCATION;
	unsigned char buf[4 + sizeof(ctx)];

	put_be32(buf, SRV_META_ALLOCATION_ID);
	memcpy(buf + 4, ctx, sizeof(ctx) - 1);
	return send_reply(c, option, NBD_REP_META_CONTEXT, buf,
			  (uint32_t)(4 + sizeof(ctx) - 1));
}

/* Does this query select base:allocation? "base:" lists the namespace. */
static bool query_matches(const unsigned char *q, uint32_t len, bool list)
{
	static const char ctx[] = SRV_META_ALLOCATION;

	if (len == sizeof(ctx) - 1 && memcmp(q, ctx, len) == 0)
		return true;
	return list && len == 5 && memcmp(q, "base:", 5) == 0;
}

/*
 * LIST_META_CONTEXT and SET_META_CONTEXT: u32 name length, name, u32
 * query count, then count x (u32 length, query) (proto.md "Metadata
 * querying"). Only base:allocation exists here.
 */
static int opt_meta_context(struct conn *c, const struct opt *o)
{
	struct rd r = { o->data, o->len };
	const unsigned char *name, *query;
	uint32_t namelen, count, qlen, i;
	bool list = o->option == NBD_OPT_LIST_META_CONTEXT, found = false;
	const struct export *e = NULL;
	struct refusal rf;
	uint32_t err;

	/*
	 * proto.md: a SET replaces the selection "including when this
	 * command fails", so a failed SET leaves nothing selected.
	 */
	if (!list)
		c->meta_alloc = false;
	if (!list && !c->structured)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "SET_META_CONTEXT needs STRUCTURED_REPLY first");
	if (!rd_string(&r, &name, &namelen) || !rd_u32(&r, &count))
		goto too_short;
	for (i = 0; i < count; i++) {
		if (!rd_string(&r, &query, &qlen))
			goto too_short;
		found |= query_matches(query, qlen, list);
	}
	if (r.rem != 0)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "trailing bytes after the queries");
	err = resolve_export(c, name, namelen, &e, &rf);
	if (err)
		return send_error(c, o->option, err, rf.client);
	if (!list)
		c->meta_alloc = found;
	if ((found || (list && count == 0)) &&
	    send_meta_context(c, o->option) < 0)
		return -1;
	return send_ack(c, o->option);

too_short:
	return send_error(c, o->option, NBD_REP_ERR_INVALID,
			  "option data too short");
}

/*
 * The session to the kernel (kTLS) where it can take it: then the
 * socket itself is the transport, as without TLS. Where it cannot (no
 * tls module, TLS 1.2, a cipher it lacks) GnuTLS stays in the path.
 * 0, or -1 (c->why) when the kernel took half and the connection is lost.
 */
static int to_kernel(struct conn *c)
{
	char why[SRV_ERRLEN];
	int r;

	if (c->xp.in != c->xp.out)
		return 0;
	r = tls_session_to_kernel(c->xp.tls, c->xp.in, why, sizeof(why));
	if (r < 0)
		return conn_fail(c, "%s", why);
	if (r == 0)
		return 0;
	tls_session_end(c->xp.tls, false);
	c->xp.tls = NULL;
	c->ktls = true;
	return 0;
}

/*
 * proto.md "TLS support": ACK, then the handshake under the negotiation's
 * deadline; the negotiation starts over inside TLS and nothing agreed
 * before survives (nbdkit CVE-2021-3716 kept structured replies).
 */
static int opt_starttls(struct conn *c, const struct opt *o)
{
	char why[SRV_ERRLEN];

	if (!c->cfg->tls)
		return send_error(c, o->option, NBD_REP_ERR_UNSUP,
				  "TLS is not configured on this server");
	if (c->tls_on)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "TLS is already on");
	if (o->len != 0)
		return send_error(c, o->option, NBD_REP_ERR_INVALID,
				  "STARTTLS takes no data");
	if (send_ack(c, o->option) < 0)
		return -1;
	if (tls_session_start(c->cfg->tls, c->xp.in, c->xp.out, c->deadline,
			      &c->xp.tls, why, sizeof(why)) < 0) {
		c->outcome = "refused";
		return conn_fail(c, "%s", why);
	}
	snprintf(c->identity, sizeof(c->identity), "%s",
		 tls_session_identity(c->xp.tls));
	c->tls_psk = tls_session_psk(c->xp.tls);
	if (tls_session_chain(c->xp.tls, &c->chain) < 0)
		return conn_fail(c, "no memory for the client's certificates");
	tls_session_describe(c->xp.tls, c->tlsdesc, sizeof(c->tlsdesc));
	c->tls_on = true;
	if (to_kernel(c) < 0)
		return -1;
	c->structured = false;
	c->meta_alloc = false;
	return OPT_NEXT;
}

/* force_tls: before STARTTLS, only STARTTLS and ABORT are taken. */
static bool tls_missing(const struct conn *c, const struct opt *o)
{
	return c->cfg->force_tls && !c->tls_on &&
	       o->option != NBD_OPT_STARTTLS && o->option != NBD_OPT_ABORT;
}

/* EXPORT_NAME has no error reply: it is closed. */
static int tls_required(struct conn *c, const struct opt *o)
{
	if (o->option == NBD_OPT_EXPORT_NAME) {
		c->outcome = "refused";
		return conn_fail(c, "EXPORT_NAME without TLS, which is required");
	}
	conn_fail(c, "%s without TLS: ERR_TLS_REQD", nbd_opt_name(o->option));
	return send_error(c, o->option, NBD_REP_ERR_TLS_REQD,
			  "TLS is required: send STARTTLS first");
}

static int handle_option(struct conn *c, const struct opt *o)
{
	if (tls_missing(c, o))
		return tls_required(c, o);
	switch (o->option) {
	case NBD_OPT_STARTTLS:
		return opt_starttls(c, o);
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(c, o);
	case NBD_OPT_ABORT:
		/* proto.md: the server SHOULD ack, then close. */
		c->outcome = "aborted";
		send_reply(c, o->option, NBD_REP_ACK, NULL, 0);
		return OPT_END;
	case NBD_OPT_LIST:
		return opt_list(c, o);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(c, o);
	case NBD_OPT_STRUCTURED_REPLY:
		return opt_structured_reply(c, o);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta_context(c, o);
	default:
		return send_error(c, o->option, NBD_REP_ERR_UNSUP,
				  "option not supported");
	}
}

static void answer_next(struct conn *c, uint32_t type, const char *msg);

/* Reads one option header and its data into c->buf. 1: EOF or SIGTERM. */
static int read_option(struct conn *c, struct opt *o)
{
	unsigned char hdr[NBD_OPT_HDR_SIZE];
	struct nbd_opt_hdr h;
	ssize_t r;

	r = xp_read_full(&c->xp, hdr, sizeof(hdr), c->deadline);
	if (r == 0) {
		c->outcome = "closed in negotiation";
		return 1;
	}
	if (r < 0 && errno == EINTR && srv_stopping) {
		answer_next(c, NBD_REP_ERR_SHUTDOWN, "server is shutting down");
		c->outcome = "stopped by SIGTERM in negotiation";
		return 1;
	}
	if (r < 0)
		return conn_fail(c, "reading option: %s", strerror(errno));
	if ((size_t)r < sizeof(hdr))
		return conn_fail(c, "EOF inside an option header");
	if (nbd_opt_hdr_decode(hdr, &h) < 0)
		return conn_fail(c, "option magic 0x%016llx, not IHAVEOPT",
				 (unsigned long long)get_be64(hdr));
	o->option = h.option;
	o->len = h.length;
	o->data = c->buf;
	if (h.length > SRV_MAX_OPT_DATA) {
		if (h.option != NBD_OPT_EXPORT_NAME)
			send_reply(c, h.option, NBD_REP_ERR_TOO_BIG, NULL, 0);
		return conn_fail(c, "%s: option data too long (%u > %u)",
				 nbd_opt_name(h.option), h.length,
				 SRV_MAX_OPT_DATA);
	}
	r = xp_read_full(&c->xp, c->buf, h.length, c->deadline);
	if (r < 0)
		return conn_fail(c, "reading %s data: %s",
				 nbd_opt_name(h.option), strerror(errno));
	if ((size_t)r < h.length)
		return conn_fail(c, "EOF inside %s data",
				 nbd_opt_name(h.option));
	return 0;
}

/*
 * The client's next option gets the error type, whatever it asks
 * (proto.md: NBD_REP_ERR_SHUTDOWN "MAY" answer any option of a server
 * going down; ERR_POLICY is what a server refusing the client sends).
 * EXPORT_NAME cannot carry an error, so that one is just closed. Waits at
 * most SRV_REFUSE_SECS, even after SIGTERM: a client silent that long is
 * closed without its answer.
 */
static void answer_next(struct conn *c, uint32_t type, const char *msg)
{
	int64_t soon = now_ms() + SRV_REFUSE_SECS * 1000;
	const char *outcome = c->outcome;
	struct opt o;

	if (!c->deadline || soon < c->deadline)
		c->deadline = soon;
	io_ignore_stop(true);
	if (read_option(c, &o) == 0 && o.option != NBD_OPT_EXPORT_NAME)
		send_error(c, o.option, type, msg);
	io_ignore_stop(false);
	c->outcome = outcome;
	c->why[0] = '\0';
}

/* The one greeting this server sends, whole or in two parts. */
static void greeting_encode(unsigned char buf[NBD_GREETING_SIZE])
{
	nbd_greeting_encode(buf, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

/*
 * The greeting is the same for every client, so it goes out as soon as the
 * connection is accepted: the client's flags and first option travel
 * while the child opens the exports and drops its privileges, instead of
 * after (nothing is read before the drop). A child that then cannot open
 * or drop closes after the greeting. Never blocks: returns the bytes
 * sent, 0 to NBD_GREETING_SIZE, for conn.greeted; greet() sends the rest.
 */
size_t negotiate_greet_early(int fd)
{
	unsigned char buf[NBD_GREETING_SIZE];
	ssize_t r;

	greeting_encode(buf);
	r = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
	return r > 0 ? (size_t)r : 0;
}

/*
 * The greeting, or what negotiate_greet_early left of it (all of it for a
 * refused client and in inetd mode), and the client's flags; c->buf is
 * for option data.
 */
static int greet(struct conn *c)
{
	unsigned char buf[NBD_GREETING_SIZE];
	uint32_t flags;
	ssize_t r;

	c->buf = malloc(SRV_MAX_OPT_DATA);
	if (!c->buf)
		return conn_fail(c, "no memory for option data");
	c->bufsize = SRV_MAX_OPT_DATA;
	greeting_encode(buf);
	if (c->greeted < sizeof(buf) &&
	    xp_write_full(&c->xp, buf + c->greeted, sizeof(buf) - c->greeted,
			  c->deadline) < 0)
		return conn_fail(c, "sending greeting: %s", strerror(errno));
	r = xp_read_full(&c->xp, buf, 4, c->deadline);
	if (r < 0 && errno == EINTR && srv_stopping) {
		/* The client's flags, then its first option, get the answer. */
		io_ignore_stop(true);
		r = xp_read_full(&c->xp, buf, 4, now_ms() + SRV_REFUSE_SECS * 1000);
		io_ignore_stop(false);
		if (r == 4)
			answer_next(c, NBD_REP_ERR_SHUTDOWN,
				    "server is shutting down");
		c->outcome = "stopped by SIGTERM in negotiation";
		return 1;
	}
	if (r < 0)
		return conn_fail(c, "reading client flags: %s",
				 strerror(errno));
	if (r < 4)
		return conn_fail(c, "EOF before client flags");
	flags = get_be32(buf);
	/* proto.md: unknown client flags mean the server must close. */
	if (flags & ~KNOWN_CLIENT_FLAGS)
		return conn_fail(c, "unknown client flags 0x%x", flags);
	c->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;
	return 0;
}

/*
 * Besides the handshake deadline, a client gets SRV_MAX_OPTIONS options:
 * a legitimate one needs a handful, and each option may cost us a file
 * open or an authfile read. The one past the cap is told why.
 */
static int too_many_options(struct conn *c, const struct opt *o)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "too many options (more than %u)",
		 SRV_MAX_OPTIONS);
	if (o->option != NBD_OPT_EXPORT_NAME)
		send_error(c, o->option, NBD_REP_ERR_POLICY, msg);
	return conn_fail(c, "%s: %s", nbd_opt_name(o->option), msg);
}

int negotiate(struct conn *c)
{
	unsigned n;
	struct opt o;
	int r;

	c->outcome = "failed in negotiation";
	r = greet(c);
	if (r != 0)
		return r;
	for (n = 0;; n++) {
		r = read_option(c, &o);
		if (r == 1)
			return 1;
		if (r < 0)
			return -1;
		if (n == SRV_MAX_OPTIONS)
			return too_many_options(c, &o);
		r = handle_option(c, &o);
		if (r < 0)
			return -1;
		if (r == OPT_END)
			return 1;
		if (r == OPT_TRANSMIT)
			return 0;
	}
}

/*
 * A client the server will not serve (maxconnections in total): the
 * greeting, then its first option answered with type, so that it learns
 * why instead of seeing a bare close. 1 (a clean end), or -1.
 */
int negotiate_refuse(struct conn *c, uint32_t type, const char *msg)
{
	int r;

	c->outcome = "refused";
	c->deadline = now_ms() + SRV_REFUSE_SECS * 1000;
	r = greet(c);
	if (r != 0)
		return r;
	answer_next(c, type, msg);
	c->outcome = "refused";
	return conn_fail(c, "%s", msg);
}
