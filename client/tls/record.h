/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS 1.3 record protection with ChaCha20-Poly1305 (RFC 8446 5.2-5.3,
 * RFC 8439): one direction's key, IV and sequence number.
 */
#ifndef NBDROOT_TLS_RECORD_H
#define NBDROOT_TLS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define TLS13_KEY_LEN		32
#define TLS13_IV_LEN		12
#define TLS13_TAG_LEN		16
#define TLS13_HEADER_LEN	5
/* RFC 8446 5.1, 5.2: plaintext up to 2^14, ciphertext up to 2^14 + 256 */
#define TLS13_MAX_PLAINTEXT	16384
#define TLS13_MAX_CIPHERTEXT	(16384 + 256)
#define TLS13_MAX_RECORD	(TLS13_HEADER_LEN + TLS13_MAX_CIPHERTEXT)
/* what seal adds to the data: header, inner content type, tag */
#define TLS13_SEAL_OVERHEAD	(TLS13_HEADER_LEN + 1 + TLS13_TAG_LEN)

/* RFC 8446 5.1 ContentType */
#define TLS13_CT_CHANGE_CIPHER_SPEC	20
#define TLS13_CT_ALERT			21
#define TLS13_CT_HANDSHAKE		22
#define TLS13_CT_APPLICATION_DATA	23

struct tls13_aead {
	uint8_t key[TLS13_KEY_LEN];
	uint8_t iv[TLS13_IV_LEN];
	uint64_t seq;
};

/* what tls13_record_open returns when the tag does not verify */
extern const char tls13_bad_record_mac[];

void tls13_aead_init(struct tls13_aead *a, const uint8_t secret[32]);
size_t tls13_record_seal(struct tls13_aead *a, uint8_t type,
			 const uint8_t *data, size_t len, uint8_t *out);
const char *tls13_record_open(struct tls13_aead *a, uint8_t *rec,
			      size_t rec_len, uint8_t *type, size_t *len);
const char *tls13_alert_name(uint8_t desc);

#endif
