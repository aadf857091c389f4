// unit: client
/*
 * The client's last steps before the kTLS handover, on a socketpair with
 * the scripted server of tls13-test-server.h (handshake in memory):
 * records the server sent after its last reply and that already arrived
 * are read before the keys go to the kernel. A NewSessionTicket (RFC 8446
 * 4.6.1; here with the shape of RFC 8448 section 3's: lifetime 30 s,
 * age_add fad6aac5, a 2-byte nonce, a 178-byte ticket, early_data) is
 * dropped, whole or split over two records, and the receive sequence
 * number given to the kernel counts it; data, a KeyUpdate, or a record
 * that never ends are errors. The handover itself then fails here (no
 * TCP on a socketpair), which shows the drain got through. Also: a write
 * to a peer that never reads ends at the deadline.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nbd-client.h"
#include "tls/tls13.h"
#include "unit.h"
#include "tls13-test-server.h"

static const uint8_t test_random[32] = { 9, 9, 9 };
static const uint8_t test_priv[32] = { 0x24, 4, 3, 2 };
static const uint8_t test_psk[32] = { 0x33, 0x22, 0x11 };

static struct tls13_client client;
static struct srv srv;
static int sv[2] = { -1, -1 };

/* A connected client on sv[0]; the server's records go into sv[1]. */
static void connected(struct transport *t)
{
	struct tls13_config cfg = {
		.identity = (const uint8_t *)"lab-17",
		.identity_len = 6,
		.key = test_psk,
		.key_len = sizeof(test_psk),
		.random = test_random,
		.x25519_priv = test_priv,
	};
	size_t used;

	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(&srv, 0, sizeof(srv));
	memcpy(srv.psk, test_psk, sizeof(test_psk));
	memset(srv.priv, 0x77, sizeof(srv.priv));
	CHECK(tls13_client_start(&client, &cfg) == 0);
	srv_answer(&srv, client.out, client.out_len, SRV_PLAIN);
	CHECK_EQ(tls13_client_feed(&client, srv.out, srv.out_len, &used),
		 TLS13_HANDSHAKE_DONE);
	CHECK(srv_client_finished(&srv, client.out, client.out_len));
	memset(t, 0, sizeof(*t));
	t->fd = sv[0];
	t->tls = &client;
	srv.out_len = 0;
}

/* NewSessionTicket laid out as RFC 8448 section 3's; the ticket a pattern */
static size_t ticket(uint8_t *m)
{
	static const uint8_t head[] = {
		0x04, 0x00, 0x00, 0xc9,		/* NewSessionTicket, 201 */
		0x00, 0x00, 0x00, 0x1e,		/* ticket_lifetime */
		0xfa, 0xd6, 0xaa, 0xc5,		/* ticket_age_add */
		0x02, 0x00, 0x00,		/* ticket_nonce */
		0x00, 0xb2,			/* ticket: 178 bytes */
	};
	static const uint8_t ext[] = {
		0x00, 0x08, 0x00, 0x2a, 0x00, 0x04, 0x00, 0x00, 0x04, 0x00,
	};
	size_t i, n = sizeof(head);

	memcpy(m, head, n);
	for (i = 0; i < 0xb2; i++)
		m[n++] = (uint8_t)(i * 7 + 1);
	memcpy(m + n, ext, sizeof(ext));
	return n + sizeof(ext);		/* 4 + 201 */
}

static void send_srv(void)
{
	CHECK_EQ(write(sv[1], srv.out, srv.out_len), (ssize_t)srv.out_len);
	srv.out_len = 0;
}

/* the handover, which must get past the drain to the kernel's part */
static const char *hand_over(struct transport *t, long long ms)
{
	struct deadline d;

	deadline_start(&d, ms);
	return tls_session_hand_over(t, &d);
}

static int reached_kernel(const char *err)
{
	return err && (strstr(err, "TCP_ULP") || strstr(err, "kernel has no TLS"));
}

/* the receive sequence number the kernel would be given */
static uint8_t rx_seq(void)
{
	struct tls12_crypto_info_chacha20_poly1305 tx, rx;

	CHECK(tls13_client_ktls(&client, &tx, &rx) == 0);
	return rx.rec_seq[7];
}

static void test_nothing_pending(void)
{
	struct transport t;
	const char *err;

	connected(&t);
	err = hand_over(&t, 1000);
	CHECK(reached_kernel(err));
	CHECK_EQ(rx_seq(), 0);
}

/*
 * Tickets already here are dropped: two whole ones (as OpenSSL sends),
 * and one split over two records (RFC 8446 5.1 lets a message span
 * records; the drain reads it all). The kernel's receive sequence
 * number counts both records.
 */
static void test_ticket_dropped(void)
{
	static const size_t split[] = { 0, 100 };
	uint8_t m[256];
	struct transport t;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		connected(&t);
		n = ticket(m);
		CHECK_EQ(n, 205);
		srv_sealed(&srv, TLS13_CT_HANDSHAKE, m, split[i] ? split[i] : n, 0);
		srv_sealed(&srv, TLS13_CT_HANDSHAKE, m + split[i],
			   n - split[i], 0);
		send_srv();
		CHECK(reached_kernel(hand_over(&t, 1000)));
		CHECK_EQ(rx_seq(), 2);
	}
}

/* what the server queued before the handover, and how it must end */
enum pending {
	TICKET_THEN_DATA,
	KEY_UPDATE,
	HALF_RECORD,		/* and nothing more: the deadline ends it */
	HALF_RECORD_EOF,	/* and the server closes */
};

static const char *refused(enum pending what)
{
	uint8_t m[256];
	struct transport t;
	const char *err;

	connected(&t);
	if (what == KEY_UPDATE)
		srv_sealed(&srv, TLS13_CT_HANDSHAKE,
			   (const uint8_t *)"\x18\x00\x00\x01\x00", 5, 0);
	else
		srv_sealed(&srv, TLS13_CT_HANDSHAKE, m, ticket(m), 0);
	if (what == TICKET_THEN_DATA)
		srv_sealed(&srv, TLS13_CT_APPLICATION_DATA,
			   (const uint8_t *)"x", 1, 0);
	if (what == HALF_RECORD || what == HALF_RECORD_EOF)
		srv.out_len -= 10;
	send_srv();
	if (what == HALF_RECORD_EOF)
		shutdown(sv[1], SHUT_WR);
	alarm(10);		/* a hang fails the test instead of stalling it */
	err = hand_over(&t, 200);
	alarm(0);
	return err ? err : "";
}

static void test_refused(void)
{
	CHECK(strstr(refused(TICKET_THEN_DATA),
		     "server sent data after the negotiation"));
	CHECK(strstr(refused(KEY_UPDATE), "KeyUpdate"));
	CHECK(strstr(refused(HALF_RECORD), "timed out"));
	CHECK(strstr(refused(HALF_RECORD_EOF),
		     "server closed the connection inside a record"));
}

/*
 * A peer that never reads: the client's writes (plaintext and sealed
 * records alike go through write_exact) end at the deadline, with
 * ETIMEDOUT, instead of blocking once the socket's buffer is full.
 */
static void test_write_deadline(void)
{
	static uint8_t big[1 << 20];
	struct transport t;
	struct deadline d;
	int sz = 4096;

	connected(&t);
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == 0);
	alarm(10);
	deadline_start(&d, 200);
	errno = 0;
	CHECK_EQ(write_exact(sv[0], big, sizeof(big), &d), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	deadline_start(&d, 200);
	errno = 0;
	CHECK_EQ(transport_write(&t, big, sizeof(big), &d), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	alarm(0);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	RUN(test_nothing_pending);
	RUN(test_ticket_dropped);
	RUN(test_refused);
	RUN(test_write_deadline);
	return unit_done("test-client-tls-handover");
}
