// SPDX-License-Identifier: GPL-2.0
/*
 * A TLS 1.3 session for one connection (after NBD_OPT_STARTTLS): the
 * handshake with a fresh ephemeral X25519 key from getrandom, then, once
 * the negotiation inside TLS is done, the handover to the kernel (kTLS):
 * TCP_ULP "tls", then TLS_TX and TLS_RX with the session's keys and its
 * current record sequence numbers. From then on nbd.ko reads and writes
 * plaintext and the kernel protects the records.
 *
 * The client's state (about 22 KiB) is static: allocated with the binary,
 * locked by the -persist daemon's mlockall, reused by every reconnection.
 * Connections are opened one after the other, so one state is enough.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "tls/tls13.h"
#include "nbd-client.h"

#ifndef SOL_TLS
#define SOL_TLS		282	/* include/linux/socket.h */
#endif
#ifndef TCP_ULP
#define TCP_ULP		31	/* include/uapi/linux/tcp.h */
#endif

static struct tls13_client session;
static char reason[160];

#ifdef __KLIBC__
/* klibc has no getrandom(): the x86-64 system call itself */
#define SYS_GETRANDOM	318

static long getrandom(void *buf, size_t len, unsigned int flags)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a"(ret)
			  : "0"((long)SYS_GETRANDOM), "D"(buf), "S"(len),
			    "d"((long)flags)
			  : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#else
#include <sys/random.h>
#endif

/* blocks until the kernel's generator is seeded, as a key must */
static int random_bytes(uint8_t *p, size_t len)
{
	long n;

	while (len) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

static const char *socket_reason(const char *step)
{
	if (errno == 0)
		return "server closed the connection during the TLS handshake (wrong key or unknown identity?)";
	snprintf(reason, sizeof(reason), "%s: %s", step, strerror(errno));
	return reason;
}

static const char *handshake(struct transport *t, const struct deadline *d)
{
	if (write_exact(t->fd, session.out, session.out_len, d) < 0)
		return socket_reason("sending ClientHello");
	if (transport_tls_next(t, d) != TLS13_HANDSHAKE_DONE)
		return t->err ? t->err : socket_reason("TLS handshake");
	if (write_exact(t->fd, session.out, session.out_len, d) < 0)
		return socket_reason("sending Finished");
	return NULL;
}

const char *tls_session_start(struct transport *t, const struct tls_psk *psk,
			      const struct deadline *d)
{
	uint8_t rnd[64];
	struct tls13_config cfg = {
		.identity = (const uint8_t *)psk->identity,
		.identity_len = psk->identity_len,
		.key = psk->key,
		.key_len = psk->key_len,
		.server_name = psk->server_name,
		.random = rnd,
		.x25519_priv = rnd + 32,
	};
	const char *err;
	int r;

	if (random_bytes(rnd, sizeof(rnd)) < 0) {
		snprintf(reason, sizeof(reason), "getrandom: %s",
			 strerror(errno));
		return reason;
	}
	r = tls13_client_start(&session, &cfg);
	tls13_wipe(rnd, sizeof(rnd));
	if (r < 0)
		return session.err;
	t->tls = &session;
	t->app = NULL;
	t->app_len = 0;
	err = handshake(t, d);
	if (!err)
		return NULL;
	/* the core's reason lives in the state that is wiped now */
	if (err != reason) {
		snprintf(reason, sizeof(reason), "%s", err);
		err = reason;
	}
	tls_session_end(t);
	return err;
}

/* TCP_ULP "tls" fails with ENOENT when no tls module can be loaded */
static const char *ulp_reason(void)
{
	if (errno == ENOENT || errno == ENOPROTOOPT)
		return "kernel has no TLS (tls module not loaded?)";
	snprintf(reason, sizeof(reason), "setsockopt TCP_ULP tls: %s",
		 strerror(errno));
	return reason;
}

/* TLS_TX/TLS_RX: ENOENT when the kernel cannot find the cipher */
static const char *cipher_reason(const char *dir)
{
	if (errno == ENOENT)
		snprintf(reason, sizeof(reason),
			 "kernel has no ChaCha20-Poly1305 for %s (chacha20poly1305 module not loaded?)",
			 dir);
	else
		snprintf(reason, sizeof(reason), "setsockopt %s: %s", dir,
			 strerror(errno));
	return reason;
}

/*
 * Records the server sent after its last reply that have already
 * arrived: a NewSessionTicket (RFC 8446 4.6.1, which a server may send at
 * any time after the handshake) is read and dropped by the core here,
 * where the kernel could not take it (any record but data fails nbd.ko's
 * read with EIO and the link dies). One that comes after the handover
 * still does: -persist reconnects then. A record begun is read whole,
 * within the deadline; data is an error (nothing may follow GO's reply
 * before the first request).
 */
static const char *drain_records(struct transport *t, const struct deadline *d)
{
	uint8_t b;
	int ev;

	while (recv(t->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
		ev = transport_tls_record(t, d);
		if (ev < 0 && !t->err && errno == 0)
			return "server closed the connection inside a record after the negotiation";
		if (ev < 0)
			return t->err ? t->err : socket_reason("reading a record after the negotiation");
		if (ev == TLS13_APP_DATA)
			return "server sent data after the negotiation";
	}
	return NULL;
}

/*
 * Everything the record layer read was used (the core reads records
 * whole and no further), and every record already here was read: the
 * kernel starts at a record boundary with the next sequence numbers.
 */
const char *tls_session_hand_over(struct transport *t, const struct deadline *d)
{
	struct tls12_crypto_info_chacha20_poly1305 tx, rx;
	const char *err = NULL;

	if (!t->tls)
		return "no TLS session to hand over";
	if (t->app_len)
		return "server sent data after the negotiation";
	err = drain_records(t, d);
	if (err)
		return err;
	if (tls13_client_ktls(t->tls, &tx, &rx) < 0)
		return "a TLS record is half read at the handover";
	if (setsockopt(t->fd, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0)
		err = ulp_reason();
	else if (setsockopt(t->fd, SOL_TLS, TLS_TX, &tx, sizeof(tx)) < 0)
		err = cipher_reason("TLS_TX");
	else if (setsockopt(t->fd, SOL_TLS, TLS_RX, &rx, sizeof(rx)) < 0)
		err = cipher_reason("TLS_RX");
	tls13_wipe(&tx, sizeof(tx));
	tls13_wipe(&rx, sizeof(rx));
	return err;
}

void tls_session_end(struct transport *t)
{
	if (t->tls)
		tls13_client_wipe(t->tls);
	t->tls = NULL;
	t->app = NULL;
	t->app_len = 0;
}
