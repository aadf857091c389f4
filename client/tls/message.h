/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TLS 1.3 handshake messages of a client with an external PSK and
 * X25519 (RFC 8446 4.1-4.4): ClientHello out; ServerHello,
 * EncryptedExtensions and Finished in. Each parser walks the body with a
 * pointer and a remaining count and returns NULL or what is wrong; it
 * never reads past the length it is given.
 */
#ifndef NBDROOT_TLS_MESSAGE_H
#define NBDROOT_TLS_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8446 4: HandshakeType */
#define TLS13_HS_CLIENT_HELLO		1
#define TLS13_HS_SERVER_HELLO		2
#define TLS13_HS_NEW_SESSION_TICKET	4
#define TLS13_HS_END_OF_EARLY_DATA	5
#define TLS13_HS_ENCRYPTED_EXTENSIONS	8
#define TLS13_HS_CERTIFICATE		11
#define TLS13_HS_CERTIFICATE_REQUEST	13
#define TLS13_HS_CERTIFICATE_VERIFY	15
#define TLS13_HS_FINISHED		20
#define TLS13_HS_KEY_UPDATE		24

#define TLS13_HS_HEADER_LEN	4
#define TLS13_BINDERS_LEN	(2 + 1 + 32)	/* one SHA-256 binder */
#define TLS13_MAX_IDENTITY	255
#define TLS13_MAX_SERVER_NAME	255
/* the longest ClientHello we build, with the longest identity and name */
#define TLS13_MAX_CLIENT_HELLO	(200 + TLS13_MAX_IDENTITY + TLS13_MAX_SERVER_NAME)

struct tls13_hello {
	const uint8_t *random;		/* 32 bytes */
	const uint8_t *x25519_pub;	/* 32 bytes */
	const uint8_t *identity;
	size_t identity_len;		/* 1..TLS13_MAX_IDENTITY */
	const char *server_name;	/* NULL: no server_name extension */
};

struct tls13_server_hello {
	uint8_t x25519_pub[32];
	uint16_t selected_identity;
};

size_t tls13_build_client_hello(uint8_t *out, size_t cap,
				const struct tls13_hello *h);
const char *tls13_parse_server_hello(const uint8_t *p, size_t rem,
				     struct tls13_server_hello *sh,
				     uint16_t *what);
const char *tls13_parse_encrypted_extensions(const uint8_t *p, size_t rem,
					     int sent_server_name,
					     uint16_t *what);
const char *tls13_hs_name(uint8_t type);

#endif
