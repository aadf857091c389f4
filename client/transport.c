// SPDX-License-Identifier: GPL-2.0
/*
 * What negotiate.c reads and writes: the socket itself, or, after
 * STARTTLS, application data through client/tls/'s record layer. Records
 * are read with exactly the bytes the record still lacks, never more, so
 * whatever follows the negotiation stays in the socket for the kernel.
 */
#include <errno.h>
#include <string.h>

#include "tls/tls13.h"
#include "nbd-client.h"

/* plaintext per sealed record: negotiation messages are small */
#define SEAL_CHUNK	4096

static uint8_t seal_buf[SEAL_CHUNK + TLS13_SEAL_OVERHEAD];

/*
 * Feeds the TLS client until it reports something: an event, or -1 with
 * t->err (a TLS failure) or errno (a socket failure, 0 for EOF).
 */
/* What the core wants next (a header or the rest of a record), fed. */
static int tls_step(struct transport *t, const struct deadline *d)
{
	uint8_t buf[2048];
	enum tls13_event ev;
	size_t want, used;

	want = tls13_client_want(t->tls);
	if (want == 0) {
		t->err = t->tls->err;
		return -1;
	}
	if (want > sizeof(buf))
		want = sizeof(buf);
	if (read_exact(t->fd, buf, want, d) < 0)
		return -1;
	ev = tls13_client_feed(t->tls, buf, want, &used);
	if (ev == TLS13_ERROR) {
		t->err = t->tls->err;
		return -1;
	}
	return ev;
}

int transport_tls_next(struct transport *t, const struct deadline *d)
{
	int ev;

	t->err = NULL;
	do
		ev = tls_step(t, d);
	while (ev == TLS13_NEED_MORE);
	return ev;
}

/*
 * One whole record, and the rest of a handshake message it begins
 * (RFC 8446 5.1: nothing else may come between its fragments): its
 * event, or -1.
 */
int transport_tls_record(struct transport *t, const struct deadline *d)
{
	int ev;

	t->err = NULL;
	do
		ev = tls_step(t, d);
	while (ev == TLS13_NEED_MORE && (t->tls->rec_len || t->tls->hs_len));
	return ev;
}

static int tls_read(struct transport *t, uint8_t *p, size_t len,
		    const struct deadline *d)
{
	size_t n;
	int ev;

	while (len) {
		if (!t->app_len) {
			ev = transport_tls_next(t, d);
			if (ev < 0)
				return -1;
			if (ev != TLS13_APP_DATA) {
				t->err = "handshake finished twice";
				return -1;
			}
			t->app = t->tls->app;
			t->app_len = t->tls->app_len;
			continue;
		}
		n = len < t->app_len ? len : t->app_len;
		memcpy(p, t->app, n);
		p += n, len -= n;
		t->app += n, t->app_len -= n;
	}
	return 0;
}

static int tls_write(struct transport *t, const uint8_t *p, size_t len,
		     const struct deadline *d)
{
	size_t n, rec;

	t->err = NULL;
	while (len) {
		n = len < SEAL_CHUNK ? len : SEAL_CHUNK;
		rec = tls13_client_seal(t->tls, p, n, seal_buf);
		if (!rec) {
			t->err = "TLS session is not established";
			return -1;
		}
		if (write_exact(t->fd, seal_buf, rec, d) < 0)
			return -1;
		p += n, len -= n;
	}
	return 0;
}

int transport_read(struct transport *t, void *buf, size_t len,
		   const struct deadline *d)
{
	if (t->tls)
		return tls_read(t, buf, len, d);
	return read_exact(t->fd, buf, len, d);
}

int transport_write(struct transport *t, const void *buf, size_t len,
		    const struct deadline *d)
{
	if (t->tls)
		return tls_write(t, buf, len, d);
	return write_exact(t->fd, buf, len, d);
}
