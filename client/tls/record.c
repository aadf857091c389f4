// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 record protection (RFC 8446 5.2-5.3) with ChaCha20-Poly1305 on
 * BearSSL's constant-time ChaCha20 and Poly1305. Records are sealed and
 * opened in caller buffers; nothing here allocates or does I/O.
 *
 *   TLSCiphertext = opaque_type(23) | legacy_version 0x0303 | length |
 *                   AEAD(TLSInnerPlaintext = content | type | zeros)
 *   nonce = iv XOR (64-bit sequence number, left-padded to 12 bytes)
 *   additional data = the 5-byte record header
 */
#include <string.h>
#include <bearssl.h>

#include "byteorder.h"
#include "keysched.h"
#include "record.h"

const char tls13_bad_record_mac[] =
	"record authentication failed (bad_record_mac)";

void tls13_aead_init(struct tls13_aead *a, const uint8_t secret[32])
{
	tls13_traffic_keys(a->key, sizeof(a->key), a->iv, secret);
	a->seq = 0;
}

static void make_nonce(const struct tls13_aead *a, uint8_t nonce[12])
{
	uint8_t seq[8];
	int i;

	put_be64(seq, a->seq);
	memcpy(nonce, a->iv, 12);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

/*
 * Seals len <= TLS13_MAX_PLAINTEXT bytes of type into out, which holds
 * len + TLS13_SEAL_OVERHEAD bytes (data may be out itself); returns the
 * record's length. No padding.
 */
size_t tls13_record_seal(struct tls13_aead *a, uint8_t type,
			 const uint8_t *data, size_t len, uint8_t *out)
{
	size_t inner = len + 1;
	uint8_t nonce[12];

	if (len > TLS13_MAX_PLAINTEXT || a->seq == UINT64_MAX)
		return 0;
	/* data may be out itself: move it before writing the header */
	memmove(out + TLS13_HEADER_LEN, data, len);
	out[0] = TLS13_CT_APPLICATION_DATA;
	put_be16(out + 1, 0x0303);
	put_be16(out + 3, (uint16_t)(inner + TLS13_TAG_LEN));
	out[TLS13_HEADER_LEN + len] = type;
	make_nonce(a, nonce);
	br_poly1305_ctmul_run(a->key, nonce, out + TLS13_HEADER_LEN, inner,
			      out, TLS13_HEADER_LEN,
			      out + TLS13_HEADER_LEN + inner,
			      br_chacha20_ct_run, 1);
	a->seq++;
	return TLS13_HEADER_LEN + inner + TLS13_TAG_LEN;
}

/*
 * Opens one whole protected record rec (header included, rec_len bytes)
 * in place: the content is left at rec + TLS13_HEADER_LEN, *len bytes of
 * *type. Returns NULL, or what is wrong; a failed record is wiped.
 */
const char *tls13_record_open(struct tls13_aead *a, uint8_t *rec,
			      size_t rec_len, uint8_t *type, size_t *len)
{
	uint8_t nonce[12], tag[TLS13_TAG_LEN], *body;
	size_t clen, n;

	if (rec_len < TLS13_HEADER_LEN)
		return "record too short";
	clen = get_be16(rec + 3);
	if (rec[0] != TLS13_CT_APPLICATION_DATA)
		return "unprotected record after keys were set";
	if (clen != rec_len - TLS13_HEADER_LEN)
		return "record length does not match its header";
	if (clen > TLS13_MAX_CIPHERTEXT)
		return "record too long";
	/* at least the inner content type and the tag */
	if (clen < 1 + TLS13_TAG_LEN)
		return "protected record too short";
	/* RFC 8446 5.4: TLSInnerPlaintext (content, type, padding) <= 2^14 + 1 */
	if (clen - TLS13_TAG_LEN > TLS13_MAX_PLAINTEXT + 1)
		return "record plaintext too long (record_overflow)";
	if (a->seq == UINT64_MAX)
		return "record sequence number exhausted";
	body = rec + TLS13_HEADER_LEN;
	n = clen - TLS13_TAG_LEN;
	make_nonce(a, nonce);
	/* decrypt = 0: the tag is computed over the ciphertext first */
	br_poly1305_ctmul_run(a->key, nonce, body, n, rec, TLS13_HEADER_LEN,
			      tag, br_chacha20_ct_run, 0);
	if (!tls13_equal(tag, body + n, TLS13_TAG_LEN)) {
		tls13_wipe(body, clen);
		return tls13_bad_record_mac;
	}
	/* RFC 8446 5.4: the type is the last non-zero byte */
	while (n > 0 && body[n - 1] == 0)
		n--;
	if (n == 0) {
		tls13_wipe(body, clen);
		return "protected record without a content type";
	}
	if (n - 1 > TLS13_MAX_PLAINTEXT) {
		tls13_wipe(body, clen);
		return "record plaintext too long (record_overflow)";
	}
	*type = body[n - 1];
	*len = n - 1;
	a->seq++;
	return NULL;
}

/* RFC 8446 6: the alerts a server may send us, by name */
const char *tls13_alert_name(uint8_t desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 47: return "illegal_parameter";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 90: return "user_canceled";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown alert";
	}
}
