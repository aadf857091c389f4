// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 key schedule (RFC 8446 7.1) for SHA-256, on BearSSL's HMAC.
 *
 *   PSK -> HKDF-Extract(0, PSK) = Early Secret
 *          -> Derive-Secret(., "ext binder" | "res binder", "")
 *          -> Derive-Secret(., "derived", "") = salt
 *   (EC)DHE -> HKDF-Extract(salt, ECDHE) = Handshake Secret
 *          -> Derive-Secret(., "derived", "") = salt
 *   0 -> HKDF-Extract(salt, 0) = Master Secret
 */
#include <string.h>
#include <bearssl.h>

#include "keysched.h"

#define LABEL_PREFIX "tls13 "

void tls13_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}

/*
 * BearSSL's HMAC, ChaCha20, Poly1305 and X25519 keep copies of their keys
 * in locals they do not wipe (HMAC's padded key and last output, the
 * ChaCha20 state, the X25519 scalar): this overwrites the stack below the
 * caller, where those dead frames were. Call it from the entry point
 * that called them, after they returned.
 */
#define TLS13_SCRUB_STACK	16384

__attribute__((noinline)) void tls13_scrub_stack(void)
{
	uint8_t below[TLS13_SCRUB_STACK];

	tls13_wipe(below, sizeof(below));
	__asm__ volatile ("" : : "r"(below) : "memory");
}

/* Constant time: the time taken depends on len only. */
int tls13_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

void tls13_hash(uint8_t out[TLS13_HASH_LEN], const void *data, size_t len)
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, data, len);
	br_sha256_out(&h, out);
}

static void hmac(uint8_t out[TLS13_HASH_LEN], const uint8_t *key,
		 size_t key_len, const uint8_t *a, size_t a_len,
		 const uint8_t *b, size_t b_len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, a, a_len);
	br_hmac_update(&hc, b, b_len);
	br_hmac_out(&hc, out);
	tls13_wipe(&kc, sizeof(kc));
	tls13_wipe(&hc, sizeof(hc));
}

/* RFC 5869 2.2; an absent salt is HashLen zero bytes. */
void tls13_hkdf_extract(uint8_t prk[TLS13_HASH_LEN],
			const uint8_t *salt, size_t salt_len,
			const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t zeros[TLS13_HASH_LEN];

	if (!salt) {
		salt = zeros;
		salt_len = sizeof(zeros);
	}
	hmac(prk, salt, salt_len, ikm, ikm_len, NULL, 0);
}

/* RFC 5869 2.3: T(i) = HMAC(PRK, T(i-1) | info | i); L <= 255 * HashLen. */
int tls13_hkdf_expand(uint8_t *out, size_t out_len,
		      const uint8_t prk[TLS13_HASH_LEN],
		      const uint8_t *info, size_t info_len)
{
	uint8_t t[TLS13_HASH_LEN], buf[600];
	size_t prev = 0, n;
	uint8_t i;

	if (out_len > 255 * TLS13_HASH_LEN ||
	    info_len > sizeof(buf) - TLS13_HASH_LEN - 1)
		return -1;
	for (i = 1; out_len; i++) {
		/* buf = T(i-1) | info | i */
		memcpy(buf, t, prev);
		if (info_len)
			memcpy(buf + prev, info, info_len);
		buf[prev + info_len] = i;
		hmac(t, prk, TLS13_HASH_LEN, buf, prev + info_len + 1,
		     NULL, 0);
		n = out_len < TLS13_HASH_LEN ? out_len : TLS13_HASH_LEN;
		memcpy(out, t, n);
		out += n;
		out_len -= n;
		prev = TLS13_HASH_LEN;
	}
	tls13_wipe(t, sizeof(t));
	tls13_wipe(buf, sizeof(buf));
	return 0;
}

/*
 * RFC 8446 7.1: HkdfLabel = uint16 length, opaque label<7..255> ("tls13 "
 * + Label), opaque context<0..255>.
 */
int tls13_expand_label(uint8_t *out, size_t out_len,
		       const uint8_t secret[TLS13_HASH_LEN], const char *label,
		       const uint8_t *ctx, size_t ctx_len)
{
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t plen = strlen(LABEL_PREFIX), llen = strlen(label), n = 0;
	int ret;

	if (out_len > 0xffff || plen + llen > 255 || ctx_len > 255)
		return -1;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(plen + llen);
	memcpy(info + n, LABEL_PREFIX, plen);
	n += plen;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = (uint8_t)ctx_len;
	if (ctx_len)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;
	ret = tls13_hkdf_expand(out, out_len, secret, info, n);
	tls13_wipe(info, sizeof(info));
	return ret;
}

/* Derive-Secret(Secret, Label, Messages), with Hash(Messages) given. */
void tls13_derive_secret(uint8_t out[TLS13_HASH_LEN],
			 const uint8_t secret[TLS13_HASH_LEN],
			 const char *label, const uint8_t hash[TLS13_HASH_LEN])
{
	tls13_expand_label(out, TLS13_HASH_LEN, secret, label,
			   hash, TLS13_HASH_LEN);
}

static void derived_salt(uint8_t salt[TLS13_HASH_LEN],
			 const uint8_t secret[TLS13_HASH_LEN])
{
	uint8_t empty[TLS13_HASH_LEN];

	tls13_hash(empty, NULL, 0);
	tls13_derive_secret(salt, secret, "derived", empty);
}

void tls13_early_secret(struct tls13_schedule *s,
			const uint8_t *psk, size_t psk_len)
{
	tls13_hkdf_extract(s->early, NULL, 0, psk, psk_len);
}

void tls13_handshake_secret(struct tls13_schedule *s,
			    const uint8_t ecdhe[32])
{
	uint8_t salt[TLS13_HASH_LEN];

	derived_salt(salt, s->early);
	tls13_hkdf_extract(s->handshake, salt, sizeof(salt), ecdhe, 32);
	tls13_wipe(salt, sizeof(salt));
}

void tls13_master_secret(struct tls13_schedule *s)
{
	static const uint8_t zeros[TLS13_HASH_LEN];
	uint8_t salt[TLS13_HASH_LEN];

	derived_salt(salt, s->handshake);
	tls13_hkdf_extract(s->master, salt, sizeof(salt),
			   zeros, sizeof(zeros));
	tls13_wipe(salt, sizeof(salt));
}

/*
 * RFC 8446 4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished",
 * "", Hash.length); verify_data = HMAC(finished_key, transcript hash).
 */
void tls13_finished_mac(uint8_t out[TLS13_HASH_LEN],
			const uint8_t base_key[TLS13_HASH_LEN],
			const uint8_t transcript_hash[TLS13_HASH_LEN])
{
	uint8_t fk[TLS13_HASH_LEN];

	tls13_expand_label(fk, sizeof(fk), base_key, "finished", NULL, 0);
	hmac(out, fk, sizeof(fk), transcript_hash, TLS13_HASH_LEN, NULL, 0);
	tls13_wipe(fk, sizeof(fk));
}

/*
 * RFC 8446 4.2.11.2: binder_key = Derive-Secret(Early, label, ""), then
 * the binder is computed like Finished over the truncated ClientHello.
 */
void tls13_binder(uint8_t out[TLS13_HASH_LEN],
		  const uint8_t early[TLS13_HASH_LEN], const char *label,
		  const uint8_t truncated_hello_hash[TLS13_HASH_LEN])
{
	uint8_t empty[TLS13_HASH_LEN], bk[TLS13_HASH_LEN];

	tls13_hash(empty, NULL, 0);
	tls13_derive_secret(bk, early, label, empty);
	tls13_finished_mac(out, bk, truncated_hello_hash);
	tls13_wipe(bk, sizeof(bk));
}

/* RFC 8446 7.3: key = Expand-Label(secret, "key", "", key_length). */
void tls13_traffic_keys(uint8_t *key, size_t key_len, uint8_t iv[12],
			const uint8_t secret[TLS13_HASH_LEN])
{
	tls13_expand_label(key, key_len, secret, "key", NULL, 0);
	tls13_expand_label(iv, 12, secret, "iv", NULL, 0);
}
