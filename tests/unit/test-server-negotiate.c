// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * The server's negotiation against canned client byte streams: every
 * option, every error path, and that the stream stays in sync after each
 * error (the option after it is still answered).
 */
#include <sys/socket.h>

#include "server-stream.h"

#define IMG_SIZE (1u << 20)

static struct config *cfg;

static const uint16_t want_name[] = { NBD_INFO_NAME };

static void setup(void)
{
	struct export *e;

	cfg = config_new();
	cfg->allowlist = true;
	e = config_add_export(cfg, "");
	e->path = make_image(IMG_SIZE);
	e = config_add_export(cfg, "ro");
	e->path = strdup(cfg->exports->path);
	e->readonly = true;
	e->description = strdup("a read-only view");
}

/* A stream that ends with ABORT, so a run is a clean end (0). */
static void abort_opt(struct stream *s)
{
	st_opt(s, NBD_OPT_ABORT, NULL, 0);
}

static bool cur_abort_ack(struct cur *c)
{
	const unsigned char *d;
	uint32_t len;

	return cur_rep(c, NBD_OPT_ABORT, &d, &len) == NBD_REP_ACK &&
	       c->rem == 0;
}

static void test_greeting_and_flags(void)
{
	struct stream in = { 0 }, out = { 0 };
	struct cur c;

	/* Unknown client flags: the server must close (proto.md). */
	st_hello(&in, 0x4);
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(c.rem, 0);

	/* EOF right after the flags is a clean close. */
	in.n = 0;
	st_hello(&in, 3);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);

	/* EOF inside the client flags is an error. */
	in.n = 2;
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	free(in.b);
	free(out.b);
}

static void test_unknown_option(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	st_opt(&in, 99, "hello", 5);
	st_opt(&in, NBD_OPT_STARTTLS, NULL, 0);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, 99, &d, &len), NBD_REP_ERR_UNSUP);
	CHECK_EQ(cur_rep(&c, NBD_OPT_STARTTLS, &d, &len), NBD_REP_ERR_UNSUP);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
}

static void test_list(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	st_opt(&in, NBD_OPT_LIST, "x", 1);	/* LIST takes no data */
	st_opt(&in, NBD_OPT_LIST, NULL, 0);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_SERVER);
	CHECK_EQ(len, 4);
	CHECK_EQ(get_be32(d), 0);
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_SERVER);
	CHECK_EQ(len, 6 + strlen("a read-only view"));
	CHECK_EQ(get_be32(d), 2);
	CHECK(d && memcmp(d + 4, "roa read-only view", len - 4) == 0);
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_ACK);
	CHECK(cur_abort_ack(&c));

	/* nbd-server(5): allowlist off means ERR_POLICY */
	cfg->allowlist = false;
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	cfg->allowlist = true;
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST, &d, &len), NBD_REP_ERR_POLICY);
	free(in.b);
	free(out.b);
}

/* INFO for "ro" with NAME and DESCRIPTION: every reply, in order. */
static void test_info(void)
{
	static const uint16_t types[] = { NBD_INFO_NAME, NBD_INFO_DESCRIPTION };
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	st_info(&in, NBD_OPT_INFO, "ro", 2, types, 2);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(len, 12);
	CHECK_EQ(get_be16(d), NBD_INFO_EXPORT);
	CHECK_EQ(get_be64(d + 2), IMG_SIZE);
	CHECK(get_be16(d + 10) & NBD_FLAG_READ_ONLY);
	CHECK(get_be16(d + 10) & NBD_FLAG_SEND_FLUSH);
	CHECK(get_be16(d + 10) & NBD_FLAG_SEND_FUA);
	CHECK(!(get_be16(d + 10) & NBD_FLAG_SEND_TRIM));
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(len, 4);
	CHECK_EQ(get_be16(d), NBD_INFO_NAME);
	CHECK_MEM(d + 2, "ro", 2);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_DESCRIPTION);
	CHECK_EQ(len, 2 + strlen("a read-only view"));
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(len, 14);
	CHECK_EQ(get_be16(d), NBD_INFO_BLOCK_SIZE);
	CHECK_EQ(get_be32(d + 2), 1);
	CHECK_EQ(get_be32(d + 6), 4096);
	CHECK_EQ(get_be32(d + 10), 32u << 20);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_ACK);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
}

/* Names that are not configured exports, each answered ERR_UNKNOWN. */
static void test_bad_names(void)
{
	static const char *const names[] = {
		"nope", "../ro", "/etc/passwd", "ro/", "RO",
	};
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;
	size_t i;

	st_hello(&in, 3);
	for (i = 0; i < 5; i++)
		st_info(&in, NBD_OPT_GO, names[i], strlen(names[i]), NULL, 0);
	st_info(&in, NBD_OPT_GO, "ro\0x", 4, NULL, 0);	/* embedded NUL */
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	for (i = 0; i < 6; i++)
		CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len),
			 NBD_REP_ERR_UNKNOWN);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
}

/* Malformed INFO/GO data: ERR_INVALID, and the next option still works. */
static void test_malformed_info(void)
{
	struct stream in = { 0 }, out = { 0 }, d0 = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	st_opt(&in, NBD_OPT_GO, "\0\0", 2);		/* no name length */
	st_be32(&d0, 0xffffffff);			/* CVE-2022-26495 */
	st_be16(&d0, 0);
	st_opt(&in, NBD_OPT_GO, d0.b, (uint32_t)d0.n);
	d0.n = 0;
	st_be32(&d0, 0);
	st_be16(&d0, 2);				/* 2 requests, 1 sent */
	st_be16(&d0, NBD_INFO_NAME);
	st_opt(&in, NBD_OPT_INFO, d0.b, (uint32_t)d0.n);
	d0.n = 0;
	st_be32(&d0, 2);
	st_put(&d0, "ro", 2);				/* no count */
	st_opt(&in, NBD_OPT_INFO, d0.b, (uint32_t)d0.n);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_ERR_INVALID);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
	free(d0.b);
}

/* A name over 4096 bytes: ERR_TOO_BIG, not a lookup. */
static void test_long_name(void)
{
	struct stream in = { 0 }, out = { 0 };
	char name[5000];
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	memset(name, 'a', sizeof(name));
	st_hello(&in, 3);
	st_info(&in, NBD_OPT_INFO, name, sizeof(name), NULL, 0);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_ERR_TOO_BIG);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
}

/*
 * Option data over 64 KiB: ERR_TOO_BIG, then a close without reading what
 * was announced (qemu CVE-2017-15119).
 */
static void test_huge_option(void)
{
	struct stream in = { 0 }, out = { 0 };
	unsigned char h[NBD_OPT_HDR_SIZE];
	struct nbd_opt_hdr oh = { .option = NBD_OPT_GO, .length = 0xfffffff0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	nbd_opt_hdr_encode(h, &oh);
	st_put(&in, h, sizeof(h));
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ERR_TOO_BIG);
	CHECK_EQ(c.rem, 0);

	/* EXPORT_NAME cannot carry an error: just the close. */
	in.n = 4;
	oh.option = NBD_OPT_EXPORT_NAME;
	nbd_opt_hdr_encode(h, &oh);
	st_put(&in, h, sizeof(h));
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);
	free(in.b);
	free(out.b);
}

static void test_bad_magic_and_eof(void)
{
	struct stream in = { 0 }, out = { 0 };

	st_hello(&in, 3);
	st_put(&in, "IHAVEOPX\0\0\0\x03\0\0\0\0", 16);
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);

	in.n = 4;
	st_opt(&in, NBD_OPT_LIST, NULL, 0);
	in.n -= 3;					/* EOF in the header */
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);

	in.n = 4;
	st_opt(&in, 99, "abcdef", 6);
	in.n -= 2;					/* EOF in the data */
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);
	free(in.b);
	free(out.b);
}

static void check_export_name(uint32_t flags, size_t want_len)
{
	struct stream in = { 0 }, out = { 0 };
	struct cur c;
	const unsigned char *p;

	st_hello(&in, flags);
	st_opt(&in, NBD_OPT_EXPORT_NAME, "ro", 2);
	st_req(&in, 0, NBD_CMD_DISC, 1, 0, 0);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	p = cur_take(&c, want_len);
	CHECK(p && get_be64(p) == IMG_SIZE);
	CHECK(p && (get_be16(p + 8) & NBD_FLAG_READ_ONLY));
	CHECK_EQ(c.rem, 0);
	free(in.b);
	free(out.b);
}

static void test_export_name(void)
{
	struct stream in = { 0 }, out = { 0 };

	check_export_name(NBD_FLAG_C_FIXED_NEWSTYLE, 134);
	check_export_name(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, 10);

	/* Unknown name: no error reply exists for EXPORT_NAME, so close. */
	st_hello(&in, 3);
	st_opt(&in, NBD_OPT_EXPORT_NAME, "nope", 4);
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	CHECK_EQ(out.n, NBD_GREETING_SIZE);
	free(in.b);
	free(out.b);
}

/* GO with NAME, then transmission starts: a READ gets the file's bytes. */
static void test_go(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len, i;
	struct cur c;

	st_hello(&in, 3);
	st_info(&in, NBD_OPT_INFO, "", 0, NULL, 0);
	st_info(&in, NBD_OPT_GO, "", 0, want_name, 1);
	st_req(&in, 0, NBD_CMD_READ, 7, 1000, 100);
	st_req(&in, 0, NBD_CMD_DISC, 8, 0, 0);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(cur_rep(&c, NBD_OPT_INFO, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_EXPORT);
	CHECK(!(get_be16(d + 10) & NBD_FLAG_READ_ONLY));
	CHECK(get_be16(d + 10) & NBD_FLAG_SEND_TRIM);
	CHECK(get_be16(d + 10) & NBD_FLAG_CAN_MULTI_CONN);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_NAME);
	CHECK_EQ(len, 2);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_BLOCK_SIZE);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_simple(&c, 7), 0);
	d = cur_take(&c, 100);
	for (i = 0; d && i < 100; i++)
		if (d[i] != (1000 + i) % 251)
			break;
	CHECK_EQ(i, 100);
	CHECK_EQ(c.rem, 0);
	free(in.b);
	free(out.b);
}

/*
 * in served with the output on a SOCK_SEQPACKET pair, where each write
 * stays one record: how many writes the server made (at most max), the
 * sizes in lens and the bytes, in order, in out.
 */
static int writes_of(const struct stream *in, struct stream *out,
		     size_t *lens, int max)
{
	int ifd = memfd_create("in", 0), sv[2], n = 0;
	static unsigned char buf[65536];
	struct conn c;
	ssize_t r;

	if (ifd < 0 || write(ifd, in->b, in->n) != (ssize_t)in->n ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		abort();
	lseek(ifd, 0, SEEK_SET);
	conn_init(&c, ifd, sv[0], cfg);
	conn_serve(&c);
	conn_close(&c);
	close(sv[0]);
	out->n = 0;
	while (n < max && (r = recv(sv[1], buf, sizeof(buf), 0)) > 0) {
		lens[n++] = (size_t)r;
		st_put(out, buf, (size_t)r);
	}
	close(ifd);
	close(sv[1]);
	return n;
}

/*
 * The replies to GO leave in one write (one segment, one wakeup of the
 * client); a description too long for the gathering buffer goes out on
 * its own, between what was gathered before it and after it, in order.
 */
static void test_go_replies_together(void)
{
	static const uint16_t types[] = { NBD_INFO_NAME, NBD_INFO_DESCRIPTION };
	struct stream in = { 0 }, out = { 0 };
	struct export *ro = cfg->exports;
	const unsigned char *d;
	char *saved, *lng;
	size_t lens[8];
	uint32_t len;
	struct cur c;
	int n;

	while (ro && strcmp(ro->name, "ro") != 0)
		ro = ro->next;
	if (!ro || !ro->description)
		abort();
	saved = ro->description;
	st_hello(&in, 3);
	st_info(&in, NBD_OPT_GO, "ro", 2, types, 2);
	st_req(&in, 0, NBD_CMD_DISC, 1, 0, 0);
	n = writes_of(&in, &out, lens, 8);
	CHECK_EQ(n, 2);
	CHECK_EQ(lens[0], NBD_GREETING_SIZE);
	CHECK_EQ(lens[1], 4 * NBD_OPT_REPLY_HDR_SIZE + 12 + 4 +
			  2 + strlen(saved) + 14 + NBD_OPT_REPLY_HDR_SIZE);

	lng = malloc(3000);
	memset(lng, 'd', 3000);
	lng[2999] = '\0';
	ro->description = lng;
	n = writes_of(&in, &out, lens, 8);
	CHECK_EQ(n, 4);
	CHECK_EQ(lens[1], 2 * NBD_OPT_REPLY_HDR_SIZE + 12 + 4);
	CHECK_EQ(lens[2], NBD_OPT_REPLY_HDR_SIZE + 2 + 2999);
	CHECK_EQ(lens[3], 2 * NBD_OPT_REPLY_HDR_SIZE + 14);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_EXPORT);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_NAME);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_DESCRIPTION);
	CHECK_EQ(len, 2 + 2999);
	CHECK(d && d[2] == 'd' && d[2 + 2998] == 'd');
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_INFO);
	CHECK_EQ(get_be16(d), NBD_INFO_BLOCK_SIZE);
	CHECK_EQ(cur_rep(&c, NBD_OPT_GO, &d, &len), NBD_REP_ACK);
	CHECK_EQ(c.rem, 0);
	ro->description = saved;
	free(lng);
	free(in.b);
	free(out.b);
}

static void put_meta(struct stream *s, uint32_t opt, const char *query)
{
	struct stream d = { 0 };

	st_be32(&d, 0);				/* export "" */
	st_be32(&d, query ? 1 : 0);
	if (query) {
		st_be32(&d, (uint32_t)strlen(query));
		st_put(&d, query, strlen(query));
	}
	st_opt(s, opt, d.b, (uint32_t)d.n);
	free(d.b);
}

static void test_meta_context(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	put_meta(&in, NBD_OPT_SET_META_CONTEXT, "base:allocation");
	st_opt(&in, NBD_OPT_STRUCTURED_REPLY, "x", 1);
	st_opt(&in, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	put_meta(&in, NBD_OPT_LIST_META_CONTEXT, NULL);
	put_meta(&in, NBD_OPT_LIST_META_CONTEXT, "qemu:dirty-bitmap:x");
	put_meta(&in, NBD_OPT_SET_META_CONTEXT, "base:allocation");
	st_opt(&in, NBD_OPT_SET_META_CONTEXT, "\0\0\0\0\0\0\0\1\0\0\0\x50", 12);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	/* SET before STRUCTURED_REPLY is refused */
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len),
		 NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_STRUCTURED_REPLY, &d, &len),
		 NBD_REP_ERR_INVALID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_STRUCTURED_REPLY, &d, &len),
		 NBD_REP_ACK);
	/* LIST with no query: every context we have */
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST_META_CONTEXT, &d, &len),
		 NBD_REP_META_CONTEXT);
	CHECK_EQ(len, 4 + 15);
	CHECK(d && memcmp(d + 4, "base:allocation", 15) == 0);
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST_META_CONTEXT, &d, &len), NBD_REP_ACK);
	/* a context we do not have: just the ACK */
	CHECK_EQ(cur_rep(&c, NBD_OPT_LIST_META_CONTEXT, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len),
		 NBD_REP_META_CONTEXT);
	CHECK_EQ(get_be32(d), SRV_META_ALLOCATION_ID);
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len), NBD_REP_ACK);
	/* a query length past the end of the data */
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len),
		 NBD_REP_ERR_INVALID);
	CHECK(cur_abort_ack(&c));
	free(in.b);
	free(out.b);
}

/* The type of the next structured reply chunk for cookie, or ~0. */
static uint32_t cur_chunk_type(struct cur *c, uint64_t cookie)
{
	const unsigned char *p = cur_take(c, NBD_CHUNK_HDR_SIZE);

	if (!p || get_be32(p) != NBD_STRUCTURED_REPLY_MAGIC ||
	    get_be64(p + 8) != cookie || !cur_take(c, get_be32(p + 16)))
		return ~0u;
	return get_be16(p + 6);
}

/*
 * proto.md "NBD_OPT_SET_META_CONTEXT": each SET replaces the selection,
 * "including when this command fails". A failed SET after a good one
 * leaves nothing selected, so BLOCK_STATUS is refused.
 */
static void test_failed_set_clears(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;

	st_hello(&in, 3);
	st_opt(&in, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	put_meta(&in, NBD_OPT_SET_META_CONTEXT, "base:allocation");
	st_opt(&in, NBD_OPT_SET_META_CONTEXT, "\0\0\0\0\0\0\0\1\0\0\0\x50", 12);
	st_info(&in, NBD_OPT_GO, "", 0, NULL, 0);
	st_req(&in, 0, NBD_CMD_BLOCK_STATUS, 9, 0, 4096);
	st_req(&in, 0, NBD_CMD_DISC, 10, 0, 0);
	CHECK_EQ(st_run(&in, cfg, &out), 0);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	CHECK_EQ(cur_rep(&c, NBD_OPT_STRUCTURED_REPLY, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len),
		 NBD_REP_META_CONTEXT);
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len), NBD_REP_ACK);
	CHECK_EQ(cur_rep(&c, NBD_OPT_SET_META_CONTEXT, &d, &len),
		 NBD_REP_ERR_INVALID);
	while (cur_rep(&c, NBD_OPT_GO, &d, &len) == NBD_REP_INFO)
		;
	CHECK_EQ(cur_chunk_type(&c, 9), NBD_REPLY_TYPE_ERROR);
	free(in.b);
	free(out.b);
}

/*
 * At most SRV_MAX_OPTIONS options per connection (nbdkit allows 32 too):
 * the one past the cap is answered ERR_POLICY and the connection closed,
 * whatever follows.
 */
static void test_option_cap(void)
{
	struct stream in = { 0 }, out = { 0 };
	const unsigned char *d;
	uint32_t len;
	struct cur c;
	int i;

	st_hello(&in, 3);
	for (i = 0; i < SRV_MAX_OPTIONS + 1; i++)
		st_opt(&in, NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	abort_opt(&in);
	CHECK_EQ(st_run(&in, cfg, &out), -1);
	c = (struct cur){ out.b, out.n };
	CHECK(cur_greeting(&c));
	for (i = 0; i < SRV_MAX_OPTIONS; i++)
		CHECK_EQ(cur_rep(&c, NBD_OPT_STRUCTURED_REPLY, &d, &len),
			 NBD_REP_ACK);
	CHECK_EQ(cur_rep(&c, NBD_OPT_STRUCTURED_REPLY, &d, &len),
		 NBD_REP_ERR_POLICY);
	CHECK(d && len > 0 && memmem(d, len, "too many options", 16));
	CHECK_EQ(c.rem, 0);
	free(in.b);
	free(out.b);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	setup();
	RUN(test_greeting_and_flags);
	RUN(test_unknown_option);
	RUN(test_list);
	RUN(test_info);
	RUN(test_bad_names);
	RUN(test_malformed_info);
	RUN(test_long_name);
	RUN(test_huge_option);
	RUN(test_bad_magic_and_eof);
	RUN(test_export_name);
	RUN(test_go);
	RUN(test_go_replies_together);
	RUN(test_meta_context);
	RUN(test_failed_set_clears);
	RUN(test_option_cap);
	unlink(cfg->exports->path);
	config_free(cfg);
	return unit_done("test-server-negotiate");
}
