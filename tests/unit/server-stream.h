/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Canned client byte streams for the server's unit tests: build what a
 * client would send, run one connection over memory files (the same path
 * as the server's stdin mode), then walk what the server answered.
 */
#ifndef NBDROOT_SERVER_STREAM_H
#define NBDROOT_SERVER_STREAM_H

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "byteorder.h"
#include "daemon.h"
#include "unit.h"

struct stream {
	unsigned char *b;
	size_t n, cap;
};

static inline void st_put(struct stream *s, const void *p, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2 + 4096;
		s->b = realloc(s->b, s->cap);
		if (!s->b)
			abort();
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static inline void st_be16(struct stream *s, uint16_t v)
{
	unsigned char b[2];

	put_be16(b, v);
	st_put(s, b, 2);
}

static inline void st_be32(struct stream *s, uint32_t v)
{
	unsigned char b[4];

	put_be32(b, v);
	st_put(s, b, 4);
}

static inline void st_be64(struct stream *s, uint64_t v)
{
	unsigned char b[8];

	put_be64(b, v);
	st_put(s, b, 8);
}

/* Client flags, as a client sends them after the greeting. */
static inline void st_hello(struct stream *s, uint32_t flags)
{
	st_be32(s, flags);
}

static inline void st_opt(struct stream *s, uint32_t opt, const void *data,
		   uint32_t len)
{
	unsigned char h[NBD_OPT_HDR_SIZE];
	struct nbd_opt_hdr oh = { .option = opt, .length = len };

	nbd_opt_hdr_encode(h, &oh);
	st_put(s, h, sizeof(h));
	if (len)
		st_put(s, data, len);
}

/* INFO or GO for name, asking for the given information types. */
static inline void st_info(struct stream *s, uint32_t opt, const char *name,
		    size_t namelen, const uint16_t *types, uint16_t ntypes)
{
	struct stream d = { 0 };
	uint16_t i;

	st_be32(&d, (uint32_t)namelen);
	st_put(&d, name, namelen);
	st_be16(&d, ntypes);
	for (i = 0; i < ntypes; i++)
		st_be16(&d, types[i]);
	st_opt(s, opt, d.b, (uint32_t)d.n);
	free(d.b);
}

static inline void st_req(struct stream *s, uint16_t flags, uint16_t type,
		   uint64_t cookie, uint64_t off, uint32_t len)
{
	unsigned char b[NBD_REQUEST_SIZE];
	struct nbd_request rq = {
		.flags = flags, .type = type, .cookie = cookie,
		.offset = off, .length = len,
	};

	nbd_request_encode(b, &rq);
	st_put(s, b, sizeof(b));
}

/* Runs one connection on the stream; out gets all the server wrote. */
static inline int st_run(const struct stream *in, const struct config *cfg,
		  struct stream *out)
{
	int ifd = memfd_create("in", 0), ofd = memfd_create("out", 0);
	unsigned char buf[65536];
	struct conn c;
	ssize_t r;
	int rc;

	if (ifd < 0 || ofd < 0 || write(ifd, in->b, in->n) != (ssize_t)in->n)
		abort();
	lseek(ifd, 0, SEEK_SET);
	conn_init(&c, ifd, ofd, cfg);
	rc = conn_serve(&c);
	conn_close(&c);
	out->n = 0;
	lseek(ofd, 0, SEEK_SET);
	while ((r = read(ofd, buf, sizeof(buf))) > 0)
		st_put(out, buf, (size_t)r);
	close(ifd);
	close(ofd);
	return rc;
}

/* A cursor over the server's answer. */
struct cur {
	const unsigned char *p;
	size_t rem;
};

static inline const unsigned char *cur_take(struct cur *c, size_t n)
{
	const unsigned char *p = c->p;

	if (c->rem < n)
		return NULL;
	c->p += n;
	c->rem -= n;
	return p;
}

static inline bool cur_greeting(struct cur *c)
{
	const unsigned char *p = cur_take(c, NBD_GREETING_SIZE);
	uint16_t flags;

	return p && nbd_greeting_decode(p, &flags) == 0 && flags == 3;
}

/* One option reply: its type, or 0 if none is there; data in *data. */
static inline uint32_t cur_rep(struct cur *c, uint32_t opt,
			const unsigned char **data, uint32_t *len)
{
	const unsigned char *p = cur_take(c, NBD_OPT_REPLY_HDR_SIZE);
	struct nbd_opt_reply_hdr h;

	if (!p || nbd_opt_reply_hdr_decode(p, &h) < 0 || h.option != opt)
		return 0;
	*data = cur_take(c, h.length);
	*len = h.length;
	return *data || h.length == 0 ? h.type : 0;
}

/* A simple reply: its error, or ~0 if the bytes are not one for cookie. */
static inline uint32_t cur_simple(struct cur *c, uint64_t cookie)
{
	const unsigned char *p = cur_take(c, NBD_SIMPLE_REPLY_SIZE);
	struct nbd_simple_reply r;

	if (!p || nbd_simple_reply_decode(p, &r) < 0 || r.cookie != cookie)
		return ~0u;
	return r.error;
}

/* A test export: a file of size bytes, byte i holding i % 251. */
static inline char *make_image(size_t size)
{
	char *path = strdup("/tmp/nbdroot-unit-XXXXXX");
	unsigned char *b = malloc(size);
	size_t i;
	int fd;

	if (!path || !b)
		abort();
	fd = mkstemp(path);
	for (i = 0; i < size; i++)
		b[i] = (unsigned char)(i % 251);
	if (fd < 0 || write(fd, b, size) != (ssize_t)size)
		abort();
	close(fd);
	free(b);
	return path;
}

/* Skips the greeting and every option reply up to GO's ACK. */
static inline bool cur_skip_to_transmission(struct cur *c)
{
	const unsigned char *p;
	struct nbd_opt_reply_hdr h;

	if (!cur_greeting(c))
		return false;
	for (;;) {
		p = cur_take(c, NBD_OPT_REPLY_HDR_SIZE);
		if (!p || nbd_opt_reply_hdr_decode(p, &h) < 0 ||
		    (h.length && !cur_take(c, h.length)))
			return false;
		if (h.option == NBD_OPT_GO && h.type == NBD_REP_ACK)
			return true;
	}
}

/* Runs a stream that GOes; c is left at the first transmission reply. */
static inline int st_run_tx(const struct stream *in, const struct config *cfg,
			    struct stream *out, struct cur *c)
{
	int r = st_run(in, cfg, out);

	*c = (struct cur){ out->b, out->n };
	CHECK(cur_skip_to_transmission(c));
	return r;
}

/*
 * Removes dir/10.0.0.7,root.cow and .map, the copy-on-write pair of
 * client 10.0.0.7 on export "root", and then dir itself.
 */
static inline void st_remove_cow_pair(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/10.0.0.7,root.cow", dir);
	CHECK_EQ(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/10.0.0.7,root.map", dir);
	CHECK_EQ(unlink(p), 0);
	CHECK_EQ(rmdir(dir), 0);
}

/* A configuration with one export "" over a fresh make_image(size). */
static inline struct config *st_config(size_t size)
{
	struct config *cfg = config_new();
	struct export *e = config_add_export(cfg, "");

	e->path = make_image(size);
	return cfg;
}

#endif
