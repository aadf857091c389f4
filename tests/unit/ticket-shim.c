// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim that turns our nbd-server (GnuTLS record path, as on
 * the host) into a server that sends a TLS 1.3 NewSessionTicket, which
 * the server itself never does (GNUTLS_NO_TICKETS): for the tests of a
 * client that must tolerate one (tests/qemu/59-tls-ticket.sh).
 *
 *   NBDROOT_TICKET=handshake  one ticket right after the handshake, before
 *                             any reply inside TLS
 *   NBDROOT_TICKET=after-go   one ticket after the reply that ends
 *                             NBD_OPT_GO, once NBDROOT_TICKET_DELAY_MS
 *                             (default 0) have passed: by then a kTLS
 *                             client has handed its session to the kernel
 *   NBDROOT_TICKET_ONCE=PATH  only while PATH does not exist; the
 *                             connection that sends a ticket creates it,
 *                             so a reconnection gets none
 *
 * Each ticket is logged on stderr (the server's log): "ticket-shim:
 * NewSessionTicket sent MODE rc RC", "sent" only when the session's send
 * sequence number moved by one record (else "NOT sent").
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#define REPLY_MAGIC	0x0003e889045565a9ULL	/* proto.md option reply */
#define OPT_GO		7

static gnutls_datum_t ticket_key;
static gnutls_session_t go_done;	/* GO answered, ticket not yet sent */

static const char *mode(void)
{
	const char *m = getenv("NBDROOT_TICKET");

	return m ? m : "";
}

/* may this connection send one? (NBDROOT_TICKET_ONCE) */
static int ticket_allowed(void)
{
	const char *once = getenv("NBDROOT_TICKET_ONCE");
	int fd;

	if (!once)
		return 1;
	fd = open(once, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 && errno != EEXIST)	/* e.g. after the privilege drop */
		fprintf(stderr, "ticket-shim: %s: %s\n", once, strerror(errno));
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* the session's send sequence number: a record sent moves it */
static uint64_t tx_seq(gnutls_session_t s)
{
	unsigned char seq[8];
	uint64_t v = 0;
	int i;

	if (gnutls_record_get_state(s, 0, NULL, NULL, NULL, seq) < 0)
		return 0;
	for (i = 0; i < 8; i++)
		v = v << 8 | seq[i];
	return v;
}

static void send_ticket(gnutls_session_t s)
{
	const char *delay = getenv("NBDROOT_TICKET_DELAY_MS");
	long ms = delay ? atol(delay) : 0;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	uint64_t before;
	int rc;

	if (!ticket_allowed())
		return;
	if (ms > 0)
		nanosleep(&ts, NULL);
	before = tx_seq(s);
	rc = gnutls_session_ticket_send(s, 1, 0);
	fprintf(stderr, "ticket-shim: NewSessionTicket %s %s rc %d\n",
		tx_seq(s) == before + 1 ? "sent" : "NOT sent", mode(), rc);
}

int gnutls_init(gnutls_session_t *s, unsigned int flags)
{
	int (*real)(gnutls_session_t *, unsigned int) =
		(int (*)(gnutls_session_t *, unsigned int))dlsym(RTLD_NEXT,
								  "gnutls_init");
	int r;

	if (!*mode() || !(flags & GNUTLS_SERVER))
		return real(s, flags);
	/* tickets on, but none sent unless we say so */
	flags &= ~(unsigned)GNUTLS_NO_TICKETS;
	flags |= GNUTLS_NO_AUTO_SEND_TICKET;
	r = real(s, flags);
	if (r < 0)
		return r;
	if (!ticket_key.data && gnutls_session_ticket_key_generate(&ticket_key) < 0)
		return GNUTLS_E_MEMORY_ERROR;
	return gnutls_session_ticket_enable_server(*s, &ticket_key);
}

int gnutls_handshake(gnutls_session_t s)
{
	int (*real)(gnutls_session_t) =
		(int (*)(gnutls_session_t))dlsym(RTLD_NEXT, "gnutls_handshake");
	int r = real(s);

	if (r == 0 && !strcmp(mode(), "handshake"))
		send_ticket(s);
	return r;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* NBD_REP_ACK to GO (type 1), the reply that ends it */
ssize_t gnutls_record_send(gnutls_session_t s, const void *data, size_t len)
{
	ssize_t (*real)(gnutls_session_t, const void *, size_t) =
		(ssize_t (*)(gnutls_session_t, const void *, size_t))
		dlsym(RTLD_NEXT, "gnutls_record_send");
	const unsigned char *p = data;

	if (!strcmp(mode(), "after-go") && len >= 20 &&
	    be64(p) == REPLY_MAGIC && be32(p + 8) == OPT_GO && be32(p + 12) == 1)
		go_done = s;
	return real(s, data, len);
}

int gnutls_record_uncork(gnutls_session_t s, unsigned int flags)
{
	int (*real)(gnutls_session_t, unsigned int) =
		(int (*)(gnutls_session_t, unsigned int))dlsym(RTLD_NEXT,
							"gnutls_record_uncork");
	int r = real(s, flags);

	if (r >= 0 && go_done == s) {
		go_done = NULL;
		send_ticket(s);
	}
	return r;
}
