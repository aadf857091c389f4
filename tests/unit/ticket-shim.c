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
 *   NBDROOT_TICKET=read-at    one ticket as the READ request covering
 *                             byte NBDROOT_TICKET_AT (default 0) of the
 *                             export arrives after NBD_OPT_GO, before its
 *                             reply: the kernel's read meets the ticket
 *                             while that request is in flight
 *   NBDROOT_TICKET_ONCE=PATH  a ticket on the server's first connection
 *                             that would send one, none after (each
 *                             appends a byte to PATH, which it empties
 *                             at start): a reconnection gets none
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
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#define REPLY_MAGIC	0x0003e889045565a9ULL	/* proto.md option reply */
#define OPT_GO		7
#define REQUEST_MAGIC	0x25609513u	/* proto.md request */
#define REQUEST_LEN	28
#define CMD_READ	0

static gnutls_datum_t ticket_key;
static gnutls_session_t go_done;	/* GO answered, ticket not yet sent */
static gnutls_session_t read_armed;	/* read-at: GO answered, no ticket yet */

static const char *mode(void)
{
	const char *m = getenv("NBDROOT_TICKET");

	return m ? m : "";
}

/*
 * NBDROOT_TICKET_ONCE: opened at load, while the server is still root
 * (its connections run after a privilege drop, in a directory they may
 * not enter), and inherited by every connection's process.
 */
static int once_fd = -1;

__attribute__((constructor)) static void open_once(void)
{
	const char *once = getenv("NBDROOT_TICKET_ONCE");

	if (!once)
		return;
	once_fd = open(once, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		       0600);
	if (once_fd < 0)
		fprintf(stderr, "ticket-shim: %s: %s\n", once, strerror(errno));
}

/* may this connection send one? The first byte appended says yes. */
static int ticket_allowed(void)
{
	struct stat st;

	if (!getenv("NBDROOT_TICKET_ONCE"))
		return 1;
	if (once_fd < 0 || write(once_fd, "t", 1) != 1 ||
	    fstat(once_fd, &st) < 0)
		return 0;
	return st.st_size == 1;
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

/*
 * Whether the record holds NBD_REP_ACK to GO (type 1), the reply that
 * ends it: the server sends GO's replies together, so the ACK is the
 * last of the option replies the record holds, each a 20-byte header
 * and its length of data.
 */
static int holds_go_ack(const unsigned char *p, size_t len)
{
	size_t off = 0, n;

	while (len - off >= 20 && be64(p + off) == REPLY_MAGIC) {
		if (be32(p + off + 8) == OPT_GO && be32(p + off + 12) == 1)
			return 1;
		n = be32(p + off + 16);
		if (n > len - off - 20)
			break;
		off += 20 + n;
	}
	return 0;
}

ssize_t gnutls_record_send(gnutls_session_t s, const void *data, size_t len)
{
	ssize_t (*real)(gnutls_session_t, const void *, size_t) =
		(ssize_t (*)(gnutls_session_t, const void *, size_t))
		dlsym(RTLD_NEXT, "gnutls_record_send");
	const unsigned char *p = data;

	if (holds_go_ack(p, len)) {
		if (!strcmp(mode(), "after-go"))
			go_done = s;
		if (!strcmp(mode(), "read-at"))
			read_armed = s;
	}
	return real(s, data, len);
}

/* read-at: does this request read byte NBDROOT_TICKET_AT? */
static int reads_target(const unsigned char *p, ssize_t n)
{
	const char *at = getenv("NBDROOT_TICKET_AT");
	uint64_t target = at ? strtoull(at, NULL, 0) : 0, off;

	if (n < REQUEST_LEN || be32(p) != REQUEST_MAGIC ||
	    (be32(p + 4) & 0xffff) != CMD_READ)
		return 0;
	off = be64(p + 16);
	return target >= off && target - off < be32(p + 24);
}

/* our server reads one record at most per call: a request header whole */
ssize_t gnutls_record_recv(gnutls_session_t s, void *data, size_t len)
{
	ssize_t (*real)(gnutls_session_t, void *, size_t) =
		(ssize_t (*)(gnutls_session_t, void *, size_t))
		dlsym(RTLD_NEXT, "gnutls_record_recv");
	ssize_t r = real(s, data, len);

	if (read_armed == s && reads_target(data, r)) {
		read_armed = NULL;
		send_ticket(s);
	}
	return r;
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
