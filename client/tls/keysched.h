/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS 1.3 key schedule for SHA-256 suites (RFC 8446 section 7): HKDF on
 * BearSSL's HMAC-SHA256, HKDF-Expand-Label, Derive-Secret, the secrets of
 * an external-PSK + (EC)DHE handshake, traffic keys, Finished and binders.
 * Pure functions: buffers in, buffers out.
 */
#ifndef NBDROOT_TLS_KEYSCHED_H
#define NBDROOT_TLS_KEYSCHED_H

#include <stddef.h>
#include <stdint.h>

#define TLS13_HASH_LEN	32	/* SHA-256 */

/* RFC 8446 4.2.11.2: external PSKs use "ext binder", tickets "res binder" */
#define TLS13_EXT_BINDER "ext binder"
#define TLS13_RES_BINDER "res binder"

struct tls13_schedule {
	uint8_t early[TLS13_HASH_LEN];
	uint8_t handshake[TLS13_HASH_LEN];
	uint8_t master[TLS13_HASH_LEN];
};

void tls13_hkdf_extract(uint8_t prk[TLS13_HASH_LEN],
			const uint8_t *salt, size_t salt_len,
			const uint8_t *ikm, size_t ikm_len);
int tls13_hkdf_expand(uint8_t *out, size_t out_len,
		      const uint8_t prk[TLS13_HASH_LEN],
		      const uint8_t *info, size_t info_len);
int tls13_expand_label(uint8_t *out, size_t out_len,
		       const uint8_t secret[TLS13_HASH_LEN], const char *label,
		       const uint8_t *ctx, size_t ctx_len);
void tls13_derive_secret(uint8_t out[TLS13_HASH_LEN],
			 const uint8_t secret[TLS13_HASH_LEN],
			 const char *label, const uint8_t hash[TLS13_HASH_LEN]);
void tls13_hash(uint8_t out[TLS13_HASH_LEN], const void *data, size_t len);

void tls13_early_secret(struct tls13_schedule *s,
			const uint8_t *psk, size_t psk_len);
void tls13_handshake_secret(struct tls13_schedule *s,
			    const uint8_t ecdhe[32]);
void tls13_master_secret(struct tls13_schedule *s);

void tls13_finished_mac(uint8_t out[TLS13_HASH_LEN],
			const uint8_t base_key[TLS13_HASH_LEN],
			const uint8_t transcript_hash[TLS13_HASH_LEN]);
void tls13_binder(uint8_t out[TLS13_HASH_LEN],
		  const uint8_t early[TLS13_HASH_LEN], const char *label,
		  const uint8_t truncated_hello_hash[TLS13_HASH_LEN]);
void tls13_traffic_keys(uint8_t *key, size_t key_len, uint8_t iv[12],
			const uint8_t secret[TLS13_HASH_LEN]);

int tls13_equal(const uint8_t *a, const uint8_t *b, size_t len);
void tls13_wipe(void *p, size_t len);
void tls13_scrub_stack(void);

#endif
