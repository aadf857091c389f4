// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * server/tls.c's writes against a GnuTLS client that stops reading, on a
 * socketpair with a small send buffer: a send still goes through while
 * there is room; one that cannot finish gives up with ETIMEDOUT at its
 * deadline; and the session's end (close_notify) does not wait for the
 * client at all. A client that reads late and slowly gets every byte of a
 * send that had to wait for room, once and in order. SIGALRM ends the
 * test if a call hangs.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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

/* byte i of the big send */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

/* After HELLO, the resuming client waits until the server's send has
 * filled the socket, then reads BIG bytes in small pieces and checks them. */
static int read_big(gnutls_session_t s)
{
	static unsigned char buf[3000];
	size_t got = 0, i;
	ssize_t r;

	usleep(200 * 1000);
	while (got < BIG) {
		r = gnutls_record_recv(s, buf, sizeof(buf));
		if (r <= 0)
			return 5;
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pattern(got + i))
				return 6;
		got += (size_t)r;
	}
	return 0;
}

/* The client: handshake, reads HELLO, then exits (its socket stays open
 * in the parent, which never reads it), or with resume reads the big send
 * too. Exit 0 when all it read came whole. */
static int client(int fd, bool resume)
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
	if (memcmp(buf, HELLO, got))
		return 4;
	return resume ? read_big(s) : 0;
}

/* cnt 1: records straight from the buffer; 2: a header and data corked.
 * resume: the client reads the big send late; else never. */
static void stall(int cnt, bool resume)
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
		_exit(client(sv[1], resume));
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
	big = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		big[i] = pattern(i);
	if (resume) {
		/* waits for room several times, then completes */
		iov[0] = (struct iovec){ .iov_base = big, .iov_len = 20 };
		iov[1] = (struct iovec){ .iov_base = big + 20,
					 .iov_len = BIG - 20 };
		if (cnt == 1)
			iov[0].iov_len = BIG;
		CHECK_EQ(tls_send(t, iov, cnt, now_ms() + 15000), 0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (resume) {
		tls_session_end(t, true);
		goto out;
	}

	/* nobody reads sv[1] now: the send gives up at its deadline */
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
out:
	free(big);
	close(sv[0]);
	close(sv[1]);
	tls_server_free(ts);
	unlink(psk_path);
	strcpy(psk_path + strlen(psk_path) - 6, "XXXXXX");
}

static void test_stall_one_buffer(void)
{
	stall(1, false);
}

static void test_stall_corked(void)
{
	stall(2, false);
}

static void test_resume_one_buffer(void)
{
	stall(1, true);
}

static void test_resume_corked(void)
{
	stall(2, true);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	alarm(20);	/* a blocked send fails the test instead of hanging it */
	RUN(test_stall_one_buffer);
	RUN(test_stall_corked);
	RUN(test_resume_one_buffer);
	RUN(test_resume_corked);
	return unit_done("test-server-tls-send");
}
