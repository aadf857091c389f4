/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A scripted TLS 1.3 PSK server for tests, built from the same key
 * schedule the client uses (its values are checked against RFC 8448 in
 * test-client-tls13): it answers one ClientHello with a ServerHello,
 * EncryptedExtensions and Finished, and can break the flight in chosen
 * ways. It checks the client's binder and Finished itself.
 */
#ifndef NBDROOT_TLS13_TEST_SERVER_H
#define NBDROOT_TLS13_TEST_SERVER_H

#include <string.h>
#include <bearssl.h>

#include "byteorder.h"
#include "tls/tls13.h"

enum srv_quirk {
	SRV_PLAIN = 0,
	SRV_CCS = 1 << 0,		/* compat ChangeCipherSpec after SH */
	SRV_CERTIFICATE = 1 << 1,	/* Certificate before Finished */
	SRV_BAD_FINISHED = 1 << 2,	/* one bit off */
	SRV_SPLIT = 1 << 3,		/* EE and Finished in two records */
	SRV_HRR = 1 << 4,		/* HelloRetryRequest random */
	SRV_PADDING = 1 << 5,		/* padded inner plaintext */
	SRV_SH_TRAILER = 1 << 6,	/* EE in the ServerHello's record */
};

struct srv {
	uint8_t psk[32];
	uint8_t priv[32];
	br_sha256_context t;
	struct tls13_schedule ks;
	uint8_t c_hs[32], s_hs[32], c_ap[32], s_ap[32];
	struct tls13_aead tx, rx;
	uint8_t out[2048];
	size_t out_len;
	int binder_ok;
};

static void srv_hash(struct srv *s, uint8_t h[32])
{
	br_sha256_out(&s->t, h);
}

static void srv_plain(struct srv *s, uint8_t type, const uint8_t *p,
		      size_t len)
{
	s->out[s->out_len] = type;
	put_be16(s->out + s->out_len + 1, 0x0303);
	put_be16(s->out + s->out_len + 3, (uint16_t)len);
	memcpy(s->out + s->out_len + 5, p, len);
	s->out_len += 5 + len;
}

static void srv_sealed(struct srv *s, uint8_t type, const uint8_t *p,
		       size_t len, size_t pad)
{
	uint8_t buf[600];

	memcpy(buf, p, len);
	if (pad) {
		/* padding: content, type, zeros; sealed as if type were 0 */
		buf[len] = type;
		memset(buf + len + 1, 0, pad);
		s->out_len += tls13_record_seal(&s->tx, 0, buf, len + 1 + pad - 1,
						s->out + s->out_len);
		return;
	}
	s->out_len += tls13_record_seal(&s->tx, type, buf, len,
					s->out + s->out_len);
}

static size_t srv_server_hello(struct srv *s, uint8_t *m, int quirks)
{
	uint8_t pub[32];
	size_t n = 0;

	br_ec_c25519_m31.mulgen(pub, s->priv, 32, BR_EC_curve25519);
	memcpy(m, "\x02\x00\x00\x00\x03\x03", 6);
	n = 6;
	memset(m + n, 0x5a, 32);
	if (quirks & SRV_HRR)
		memcpy(m + n, "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02"
			      "\x1e\x65\xb8\x91\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e"
			      "\x07\x9e\x09\xe2\xc8\xa8\x33\x9c", 32);
	n += 32;
	memcpy(m + n, "\x00\x13\x03\x00\x00\x34", 6);
	n += 6;
	memcpy(m + n, "\x00\x2b\x00\x02\x03\x04", 6);
	n += 6;
	memcpy(m + n, "\x00\x33\x00\x24\x00\x1d\x00\x20", 8);
	n += 8;
	memcpy(m + n, pub, 32);
	n += 32;
	memcpy(m + n, "\x00\x29\x00\x02\x00\x00", 6);
	n += 6;
	m[3] = (uint8_t)(n - 4);
	return n;
}

/*
 * Answers the client's first flight ch (one plaintext record); the
 * client's key share is taken from the hello at its fixed offset.
 */
static void srv_answer(struct srv *s, const uint8_t *ch, size_t ch_len,
		       int quirks)
{
	const uint8_t *msg = ch + 5, *cpub;
	size_t mlen = ch_len - 5, n;
	uint8_t m[600], h[32], binder[32], shared[32];
	static const uint8_t cert[] = { 11, 0, 0, 4, 0, 0, 0, 0 };

	s->out_len = 0;
	tls13_early_secret(&s->ks, s->psk, sizeof(s->psk));
	tls13_hash(h, msg, mlen - TLS13_BINDERS_LEN);
	tls13_binder(binder, s->ks.early, TLS13_EXT_BINDER, h);
	s->binder_ok = memcmp(binder, msg + mlen - 32, 32) == 0;
	br_sha256_init(&s->t);
	br_sha256_update(&s->t, msg, mlen);

	/* key_share: 00 33 len 00 24 00 1d 00 20 <pub>, found by search */
	for (cpub = msg; cpub + 40 <= msg + mlen; cpub++)
		if (!memcmp(cpub, "\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20", 10))
			break;
	cpub += 10;
	n = srv_server_hello(s, m, quirks);
	br_sha256_update(&s->t, m, n);
	if (quirks & SRV_SH_TRAILER) {
		memcpy(m + n, "\x08\x00\x00\x02\x00\x00", 6);
		srv_plain(s, TLS13_CT_HANDSHAKE, m, n + 6);
	} else {
		srv_plain(s, TLS13_CT_HANDSHAKE, m, n);
	}
	memcpy(shared, cpub, 32);
	br_ec_c25519_m31.mul(shared, 32, s->priv, 32, BR_EC_curve25519);
	tls13_handshake_secret(&s->ks, shared);
	srv_hash(s, h);
	tls13_derive_secret(s->c_hs, s->ks.handshake, "c hs traffic", h);
	tls13_derive_secret(s->s_hs, s->ks.handshake, "s hs traffic", h);
	tls13_aead_init(&s->tx, s->s_hs);
	tls13_aead_init(&s->rx, s->c_hs);
	if (quirks & SRV_CCS)
		srv_plain(s, TLS13_CT_CHANGE_CIPHER_SPEC, (const uint8_t *)"\x01", 1);

	n = 0;
	memcpy(m, "\x08\x00\x00\x02\x00\x00", 6);
	n = 6;
	if (quirks & SRV_CERTIFICATE) {
		memcpy(m + n, cert, sizeof(cert));
		n += sizeof(cert);
	}
	br_sha256_update(&s->t, m, n);
	if (quirks & SRV_SPLIT) {
		srv_sealed(s, TLS13_CT_HANDSHAKE, m, n, 0);
		n = 0;
	}
	srv_hash(s, h);
	memcpy(m + n, "\x14\x00\x00\x20", 4);
	tls13_finished_mac(m + n + 4, s->s_hs, h);
	if (quirks & SRV_BAD_FINISHED)
		m[n + 4 + 7] ^= 1;
	br_sha256_update(&s->t, m + n, 36);
	n += 36;
	srv_sealed(s, TLS13_CT_HANDSHAKE, m, n,
		   quirks & SRV_PADDING ? 100 : 0);

	srv_hash(s, h);
	tls13_master_secret(&s->ks);
	tls13_derive_secret(s->c_ap, s->ks.master, "c ap traffic", h);
	tls13_derive_secret(s->s_ap, s->ks.master, "s ap traffic", h);
}

/* checks the client's Finished record and switches to application keys */
static int srv_client_finished(struct srv *s, uint8_t *rec, size_t len)
{
	uint8_t h[32], expect[32], type;
	size_t n;

	if (tls13_record_open(&s->rx, rec, len, &type, &n) ||
	    type != TLS13_CT_HANDSHAKE || n != 36)
		return 0;
	srv_hash(s, h);
	tls13_finished_mac(expect, s->c_hs, h);
	if (memcmp(rec + 5, "\x14\x00\x00\x20", 4) ||
	    memcmp(rec + 9, expect, 32))
		return 0;
	tls13_aead_init(&s->tx, s->s_ap);
	tls13_aead_init(&s->rx, s->c_ap);
	return 1;
}

#endif
