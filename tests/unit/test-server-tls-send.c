// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * server/tls.c's writes against a GnuTLS client that stops reading, on a
 * socketpair with a small send buffer: a send still goes through while
 * there is room; one that cannot finish gives up with ETIMEDOUT at its
 * deadline; and the session's end (close_notify) does not wait for the
 * client at all. SIGALRM ends the test if a call hangs.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "server.h"
#include "unit.h"

#define PSK_ID		"alice"
#define PSK_HEX		"00112233445566778899aabbccddeeff" \
			"00112233445566778899aabbccddeeff"
#define HELLO		"hello, client"
#define BIG		(4u << 20)	/* far more than the socket holds */

static char psk_path[] = "/tmp/nbdroot-tls-send.XXXXXX";

static int psk_file(void)
{
	int fd = mkstemp(psk_path);
	static const char line[] = PSK_ID ":" PSK_HEX "\n";

	if (fd < 0)
		return -1;
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)(sizeof(line) - 1)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* The client: handshake, reads HELLO, then exits (its socket stays open
 * in the parent, which never reads it). Exit 0 when HELLO came whole. */
static int client(int fd)
{
	gnutls_psk_client_credentials_t cred;
	gnutls_datum_t key = { .data = NULL };
	gnutls_datum_t hex = { (unsigned char *)PSK_HEX, sizeof(PSK_HEX) - 1 };
	char buf[sizeof(HELLO)];
	size_t got = 0;
	gnutls_session_t s;
	ssize_t r;

	if (gnutls_hex_decode2(&hex, &key) < 0 ||
	    gnutls_psk_allocate_client_credentials(&cred) < 0 ||
	    gnutls_psk_set_client_credentials(cred, PSK_ID, &key,
					      GNUTLS_PSK_KEY_RAW) < 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) < 0 ||
	    gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+PSK",
				       NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_PSK, cred) < 0)
		return 1;
	gnutls_transport_set_int(s, fd);
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal((int)r));
	if (r < 0)
		return 2;
	while (got < sizeof(HELLO) - 1) {
		r = gnutls_record_recv(s, buf + got, sizeof(HELLO) - 1 - got);
		if (r <= 0)
			return 3;
		got += (size_t)r;
	}
	return memcmp(buf, HELLO, got) ? 4 : 0;
}

/* cnt 1: records straight from the buffer; 2: a header and data corked */
static void stall(int cnt)
{
	struct tls_server *ts = NULL;
	struct tls_session *t = NULL;
	struct iovec iov[2];
	char why[256] = "";
	int sv[2], small = 16384, status = -1;
	unsigned char *big;
	pid_t pid;

	CHECK_EQ(psk_file(), 0);
	CHECK_EQ(tls_server_psk(&ts, psk_path, NULL, why, sizeof(why)), 0);
	CHECK_EQ(tls_server_prio(ts, NULL, why, sizeof(why)), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
			    sizeof(small)), 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(client(sv[1]));
	}
	CHECK(pid > 0);
	CHECK_EQ(tls_session_start(ts, sv[0], sv[0], now_ms() + 10000, &t,
				   why, sizeof(why)), 0);
	if (!t) {
		fprintf(stderr, "handshake: %s\n", why);
		return;
	}
	/* room: sent, and the client read it */
	iov[0] = (struct iovec){ .iov_base = HELLO, .iov_len = 7 };
	iov[1] = (struct iovec){ .iov_base = HELLO + 7,
				 .iov_len = sizeof(HELLO) - 8 };
	if (cnt == 1)
		iov[0].iov_len = sizeof(HELLO) - 1;
	CHECK_EQ(tls_send(t, iov, cnt, now_ms() + 10000), 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* nobody reads sv[1] now: the send gives up at its deadline */
	big = calloc(1, BIG);
	iov[0] = (struct iovec){ .iov_base = big, .iov_len = 20 };
	iov[1] = (struct iovec){ .iov_base = big + 20, .iov_len = BIG - 20 };
	if (cnt == 1)
		iov[0].iov_len = BIG;
	errno = 0;
	CHECK_EQ(tls_send(t, iov, cnt, now_ms() + 300), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	/* and close_notify is tried once, not waited for */
	tls_session_end(t, true);
	CHECK(1);	/* reached: neither call blocked */
	free(big);
	close(sv[0]);
	close(sv[1]);
	tls_server_free(ts);
	unlink(psk_path);
	strcpy(psk_path + strlen(psk_path) - 6, "XXXXXX");
}

static void test_stall_one_buffer(void)
{
	stall(1);
}

static void test_stall_corked(void)
{
	stall(2);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	alarm(20);	/* a blocked send fails the test instead of hanging it */
	RUN(test_stall_one_buffer);
	RUN(test_stall_corked);
	return unit_done("test-server-tls-send");
}
