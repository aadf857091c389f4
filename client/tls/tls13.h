/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A TLS 1.3 client for one external PSK with ephemeral X25519 (psk_dhe_ke)
 * and TLS_CHACHA20_POLY1305_SHA256, as a state machine without I/O: the
 * caller sends what it produces and feeds what the server sent. When the
 * handshake is done it gives the application traffic keys in the form
 * the kernel's TLS_TX/TLS_RX want (kTLS), or protects records itself.
 *
 * Memory: everything lives in struct tls13_client (about 22 KiB), no
 * allocation. Lower layers never print: a failure leaves its reason in
 * c->err.
 */
#ifndef NBDROOT_TLS_TLS13_H
#define NBDROOT_TLS_TLS13_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>
#include <linux/tls.h>

#include "keysched.h"
#include "klibc.h"
#include "message.h"
#include "record.h"

#define TLS13_MAX_PSK		64	/* psktool writes 32 bytes by default */
/* handshake reassembly; a PSK server's messages are far smaller */
#define TLS13_MAX_HANDSHAKE	4096

enum tls13_state {
	TLS13_IDLE,
	TLS13_WAIT_SERVER_HELLO,
	TLS13_WAIT_ENCRYPTED_EXTENSIONS,
	TLS13_WAIT_FINISHED,
	TLS13_CONNECTED,
	TLS13_FAILED,
};

/* what tls13_client_feed() reports */
enum tls13_event {
	TLS13_ERROR = -1,
	TLS13_NEED_MORE = 0,	/* all input used; tls13_client_want() more */
	TLS13_HANDSHAKE_DONE,	/* send c->out, then data may flow */
	TLS13_APP_DATA,		/* c->app, c->app_len: valid until next feed */
};

struct tls13_config {
	const uint8_t *identity;
	size_t identity_len;		/* 1..TLS13_MAX_IDENTITY */
	const uint8_t *key;
	size_t key_len;			/* 1..TLS13_MAX_PSK */
	const char *server_name;	/* optional (SNI) */
	const uint8_t *random;		/* 32 bytes from getrandom */
	const uint8_t *x25519_priv;	/* 32 bytes from getrandom */
	const char *binder_label;	/* NULL: "ext binder" */
};

struct tls13_client {
	enum tls13_state state;
	char err[160];
	int sent_server_name;
	uint8_t x25519_priv[32];
	br_sha256_context transcript;
	struct tls13_schedule ks;
	uint8_t c_hs[TLS13_HASH_LEN], s_hs[TLS13_HASH_LEN];
	struct tls13_aead rx, tx;
	/* the record being received: header, then body */
	uint8_t rec[TLS13_MAX_RECORD];
	size_t rec_len;
	uint8_t hs[TLS13_MAX_HANDSHAKE];
	size_t hs_len;
	/* bytes to send: ClientHello, then the client's Finished */
	uint8_t out[TLS13_HEADER_LEN + TLS13_MAX_CLIENT_HELLO];
	size_t out_len;
	const uint8_t *app;
	size_t app_len;
};

int tls13_client_start(struct tls13_client *c, const struct tls13_config *cfg);
size_t tls13_client_want(const struct tls13_client *c);
enum tls13_event tls13_client_feed(struct tls13_client *c, const uint8_t *in,
				   size_t len, size_t *used);
size_t tls13_client_seal(struct tls13_client *c, const uint8_t *data,
			 size_t len, uint8_t *out);
int tls13_client_ktls(const struct tls13_client *c,
		      struct tls12_crypto_info_chacha20_poly1305 *tx,
		      struct tls12_crypto_info_chacha20_poly1305 *rx);
void tls13_client_wipe(struct tls13_client *c);

#endif
