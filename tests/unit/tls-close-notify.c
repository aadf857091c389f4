// SPDX-License-Identifier: GPL-2.0
/*
 * Does our nbd-server end a TLS session with close_notify (RFC 8446 6.1)?
 * A GnuTLS client: NBD greeting, NBD_OPT_STARTTLS, the handshake with the
 * PSK file's first identity:key, NBD_OPT_ABORT inside TLS and its reply;
 * then gnutls_record_recv() returns 0 only for a close_notify (a bare
 * TCP close is GNUTLS_E_PREMATURE_TERMINATION).
 *
 * usage: tls-close-notify PORT PSKFILE. Exit 0 close_notify, 1 not.
 * Built by the tests that use it (server-tls.sh, qemu/45-server-ktls.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#define OPT_MAGIC	0x49484156454F5054ULL
#define STARTTLS	5
#define ABORT		2

static int die(const char *what)
{
	fprintf(stderr, "tls-close-notify: %s\n", what);
	return 1;
}

static int read_all(int fd, void *p, size_t n)
{
	ssize_t r;

	for (; n; n -= (size_t)r, p = (char *)p + r)
		if ((r = read(fd, p, n)) <= 0)
			return -1;
	return 0;
}

static void option(unsigned char *b, uint32_t opt)
{
	uint64_t m = OPT_MAGIC;
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(m >> (56 - 8 * i));
	memset(b + 8, 0, 8);		/* option, then length 0 */
	b[11] = (unsigned char)opt;
}

/* identity:hexkey, the file's first line */
static int load_psk(const char *path, char *id, gnutls_datum_t *key)
{
	char line[400], *colon;
	gnutls_datum_t hex;
	size_t size;
	FILE *f = fopen(path, "r");

	if (!f || !fgets(line, sizeof(line), f))
		return -1;
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	colon = strchr(line, ':');
	if (!colon || colon - line > 255)
		return -1;
	*colon = '\0';
	strcpy(id, line);
	hex.data = (unsigned char *)colon + 1;
	hex.size = (unsigned)strlen(colon + 1);
	size = hex.size / 2 + 1;
	key->data = malloc(size);
	if (!key->data || gnutls_hex_decode(&hex, key->data, &size) < 0)
		return -1;
	key->size = (unsigned)size;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	gnutls_psk_client_credentials_t cred;
	unsigned char b[64];
	gnutls_datum_t key;
	gnutls_session_t s;
	char id[256];
	ssize_t r;
	int fd;

	if (argc != 3 || load_psk(argv[2], id, &key) < 0)
		return die("usage: tls-close-notify PORT PSKFILE (identity:hexkey)");
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("connect");
	if (read_all(fd, b, 18) < 0)
		return die("no greeting");
	memset(b, 0, 4);
	b[3] = 3;			/* FIXED_NEWSTYLE | NO_ZEROES */
	option(b + 4, STARTTLS);
	if (write(fd, b, 20) != 20 || read_all(fd, b, 20) < 0 ||
	    b[11] != STARTTLS || b[15] != 1)
		return die("STARTTLS not acknowledged");
	if (gnutls_psk_allocate_client_credentials(&cred) < 0 ||
	    gnutls_psk_set_client_credentials(cred, id, &key,
					      GNUTLS_PSK_KEY_RAW) < 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) < 0 ||
	    gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+PSK",
				       NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_PSK, cred) < 0)
		return die("GnuTLS setup");
	gnutls_transport_set_int(s, fd);
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal((int)r));
	if (r < 0)
		return die(gnutls_strerror((int)r));
	option(b, ABORT);
	if (gnutls_record_send(s, b, 16) != 16)
		return die("sending ABORT");
	for (size_t got = 0; got < 20; got += (size_t)r)
		if ((r = gnutls_record_recv(s, b + got, 20 - got)) <= 0)
			return die("no reply to ABORT");
	if (b[11] != ABORT || b[15] != 1)
		return die("ABORT not acknowledged");
	r = gnutls_record_recv(s, b, sizeof(b));
	if (r == 0) {
		printf("ok: close_notify after ABORT inside TLS\n");
		return 0;
	}
	fprintf(stderr, "tls-close-notify: no close_notify: %s\n",
		r < 0 ? gnutls_strerror((int)r) : "data after ABORT's reply");
	return 1;
}
