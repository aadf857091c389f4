// SPDX-License-Identifier: GPL-2.0
/*
 * ClientHello, ServerHello and EncryptedExtensions for a TLS 1.3 client
 * that offers exactly one thing: an external PSK with X25519 (psk_dhe_ke)
 * and TLS_CHACHA20_POLY1305_SHA256. Anything a server answers outside
 * that offer is refused by name.
 */
#include <string.h>

#include "byteorder.h"
#include "message.h"

/* RFC 8446 4.2: ExtensionType */
#define EXT_SERVER_NAME			0
#define EXT_SUPPORTED_GROUPS		10
#define EXT_PRE_SHARED_KEY		41
#define EXT_SUPPORTED_VERSIONS		43
#define EXT_PSK_KEY_EXCHANGE_MODES	45
#define EXT_KEY_SHARE			51

#define TLS_CHACHA20_POLY1305_SHA256	0x1303
#define GROUP_X25519			0x001d
#define TLS13_VERSION			0x0304
#define PSK_DHE_KE			1

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") as ServerHello.random */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* RFC 8446 4.1.3: "DOWNGRD" then 01 (TLS 1.2) or 00 (older) */
static const uint8_t downgrade[7] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44 };

struct writer {
	uint8_t *p;
	size_t n, cap;
};

static void w_bytes(struct writer *w, const void *b, size_t len)
{
	if (w->n + len > w->cap) {
		w->cap = 0;	/* overflow: remembered, checked at the end */
		return;
	}
	memcpy(w->p + w->n, b, len);
	w->n += len;
}

static void w_u8(struct writer *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2];

	put_be16(b, v);
	w_bytes(w, b, 2);
}

/* a 16-bit length to be filled in by w_end16 */
static size_t w_begin16(struct writer *w)
{
	w_u16(w, 0);
	return w->n;
}

static void w_end16(struct writer *w, size_t start)
{
	if (w->cap)
		put_be16(w->p + start - 2, (uint16_t)(w->n - start));
}

static void w_ext_header(struct writer *w, uint16_t type, size_t *start)
{
	w_u16(w, type);
	*start = w_begin16(w);
}

static void client_extensions(struct writer *w, const struct tls13_hello *h)
{
	size_t e, l, l2, name_len;

	if (h->server_name) {
		/* RFC 6066 3: one host_name */
		name_len = strlen(h->server_name);
		w_ext_header(w, EXT_SERVER_NAME, &e);
		l = w_begin16(w);
		w_u8(w, 0);
		w_u16(w, (uint16_t)name_len);
		w_bytes(w, h->server_name, name_len);
		w_end16(w, l);
		w_end16(w, e);
	}
	w_ext_header(w, EXT_SUPPORTED_GROUPS, &e);
	l = w_begin16(w);
	w_u16(w, GROUP_X25519);
	w_end16(w, l);
	w_end16(w, e);

	w_ext_header(w, EXT_SUPPORTED_VERSIONS, &e);
	w_u8(w, 2);
	w_u16(w, TLS13_VERSION);
	w_end16(w, e);

	w_ext_header(w, EXT_PSK_KEY_EXCHANGE_MODES, &e);
	w_u8(w, 1);
	w_u8(w, PSK_DHE_KE);
	w_end16(w, e);

	w_ext_header(w, EXT_KEY_SHARE, &e);
	l = w_begin16(w);
	w_u16(w, GROUP_X25519);
	w_u16(w, 32);
	w_bytes(w, h->x25519_pub, 32);
	w_end16(w, l);
	w_end16(w, e);

	/* RFC 8446 4.2.11: pre_shared_key MUST be the last extension */
	w_ext_header(w, EXT_PRE_SHARED_KEY, &e);
	l = w_begin16(w);
	w_u16(w, (uint16_t)h->identity_len);
	w_bytes(w, h->identity, h->identity_len);
	w_bytes(w, "\0\0\0\0", 4);	/* obfuscated_ticket_age: external */
	w_end16(w, l);
	l2 = w_begin16(w);
	w_u8(w, 32);
	w_bytes(w, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
		   "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);
	w_end16(w, l2);
	w_end16(w, e);
}

/*
 * Writes the ClientHello handshake message (header included) with a
 * zero binder in its last TLS13_HASH_LEN bytes; the caller computes the
 * binder over all but the last TLS13_BINDERS_LEN bytes (RFC 8446
 * 4.2.11.2) and writes it there. Returns its length, 0 if it does not fit
 * or an argument is out of range.
 */
size_t tls13_build_client_hello(uint8_t *out, size_t cap,
				const struct tls13_hello *h)
{
	struct writer w = { out, 0, cap };
	size_t ext;

	if (h->identity_len == 0 || h->identity_len > TLS13_MAX_IDENTITY ||
	    (h->server_name && (!h->server_name[0] ||
	     strlen(h->server_name) > TLS13_MAX_SERVER_NAME)))
		return 0;
	w_u8(&w, TLS13_HS_CLIENT_HELLO);
	w_bytes(&w, "\0\0\0", 3);		/* length, filled in below */
	w_u16(&w, 0x0303);			/* legacy_version */
	w_bytes(&w, h->random, 32);
	w_u8(&w, 0);				/* legacy_session_id */
	w_u16(&w, 2);
	w_u16(&w, TLS_CHACHA20_POLY1305_SHA256);
	w_u8(&w, 1);				/* legacy_compression */
	w_u8(&w, 0);
	ext = w_begin16(&w);
	client_extensions(&w, h);
	w_end16(&w, ext);
	if (!w.cap || w.n - TLS13_HS_HEADER_LEN > 0xffffff)
		return 0;
	out[1] = (uint8_t)((w.n - 4) >> 16);
	out[2] = (uint8_t)((w.n - 4) >> 8);
	out[3] = (uint8_t)(w.n - 4);
	return w.n;
}

/* *what is the extension type, or the value a failure is about */
static const char *sh_extension(uint16_t type, const uint8_t *p, size_t len,
				struct tls13_server_hello *sh, uint16_t *what)
{
	switch (type) {
	case EXT_SUPPORTED_VERSIONS:
		if (len != 2)
			return "bad supported_versions length in ServerHello";
		*what = get_be16(p);
		if (*what != TLS13_VERSION)
			return "server chose a TLS version other than 1.3";
		return NULL;
	case EXT_KEY_SHARE:
		/* KeyShareEntry: group, opaque key_exchange<1..2^16-1> */
		if (len < 4)
			return "key_share in ServerHello too short";
		*what = get_be16(p);
		if (*what != GROUP_X25519)
			return "server chose a key share group other than x25519";
		if (get_be16(p + 2) != 32 || len != 4 + 32)
			return "bad x25519 key share length in ServerHello";
		memcpy(sh->x25519_pub, p + 4, 32);
		return NULL;
	case EXT_PRE_SHARED_KEY:
		if (len != 2)
			return "bad pre_shared_key length in ServerHello";
		sh->selected_identity = get_be16(p);
		*what = sh->selected_identity;
		if (sh->selected_identity != 0)
			return "server selected a PSK identity we did not offer";
		return NULL;
	default:
		return "unknown extension in ServerHello";
	}
}

static int ext_bit(uint16_t type)
{
	switch (type) {
	case EXT_SUPPORTED_VERSIONS: return 1;
	case EXT_KEY_SHARE: return 2;
	case EXT_PRE_SHARED_KEY: return 4;
	default: return 0;
	}
}

/*
 * One Extension (RFC 8446 4.2): uint16 type, opaque data<0..2^16-1>.
 * Returns 0 when what remains is too short for it.
 */
static int next_extension(const uint8_t **p, size_t *rem, uint16_t *type,
			  const uint8_t **data, uint16_t *len)
{
	if (*rem < 4)
		return 0;
	*type = get_be16(*p);
	*len = get_be16(*p + 2);
	/* *rem >= 4 here: no underflow */
	if (*len > *rem - 4)
		return 0;
	*data = *p + 4;
	*p += 4 + (size_t)*len;
	*rem -= 4 + (size_t)*len;
	return 1;
}

static const char *sh_extensions(const uint8_t *p, size_t rem,
				 struct tls13_server_hello *sh,
				 uint16_t *what)
{
	const uint8_t *data;
	const char *err;
	uint16_t type, len;
	int seen = 0;

	while (rem > 0) {
		if (!next_extension(&p, &rem, &type, &data, &len))
			return "ServerHello extensions truncated";
		*what = type;
		if (seen & ext_bit(type))
			return "duplicate extension in ServerHello";
		seen |= ext_bit(type);
		err = sh_extension(type, data, len, sh, what);
		if (err)
			return err;
	}
	*what = 0;
	if (!(seen & 1))
		return "server does not speak TLS 1.3 (no supported_versions)";
	if (!(seen & 4))
		return "server did not accept our PSK (no pre_shared_key)";
	if (!(seen & 2))
		return "server chose PSK without (EC)DHE (no key_share)";
	return NULL;
}

/*
 * RFC 8446 4.1.3: p is the ServerHello body (after the 4-byte header).
 * *what gets the value a failure is about (cipher suite, extension type).
 */
const char *tls13_parse_server_hello(const uint8_t *p, size_t rem,
				     struct tls13_server_hello *sh,
				     uint16_t *what)
{
	uint16_t ext_len;
	uint8_t sid_len;

	memset(sh, 0, sizeof(*sh));
	*what = 0;
	/* version 2, random 32, session id length 1 */
	if (rem < 2 + 32 + 1)
		goto too_short;
	if (get_be16(p) != 0x0303) {
		*what = get_be16(p);
		return "bad legacy_version in ServerHello";
	}
	if (memcmp(p + 2, hrr_random, 32) == 0)
		return "server sent HelloRetryRequest (it wants another key share group or a cookie; we offer x25519 only)";
	if (memcmp(p + 2 + 24, downgrade, 7) == 0 &&
	    (p[2 + 31] == 0 || p[2 + 31] == 1))
		return "server signals a downgrade to TLS 1.2 or older";
	sid_len = p[34];
	p += 35, rem -= 35;
	/* we sent an empty legacy_session_id: the echo must be empty */
	if (sid_len != 0)
		return "ServerHello echoes a session id we did not send";
	/* cipher 2, compression 1, extensions length 2 */
	if (rem < 5)
		goto too_short;
	if (get_be16(p) != TLS_CHACHA20_POLY1305_SHA256) {
		*what = get_be16(p);
		return "server chose a cipher suite we did not offer";
	}
	if (p[2] != 0)
		return "server chose a compression method";
	ext_len = get_be16(p + 3);
	p += 5, rem -= 5;
	if (ext_len != rem)
		return "ServerHello extensions length does not match the message";
	return sh_extensions(p, rem, sh, what);
too_short:
	return "ServerHello truncated";
}

/*
 * RFC 8446 4.3.1: only responses to what we sent may appear: server_name
 * (empty) if we sent one; supported_groups, which a server may send to
 * tell its preference.
 */
const char *tls13_parse_encrypted_extensions(const uint8_t *p, size_t rem,
					     int sent_server_name,
					     uint16_t *what)
{
	const uint8_t *data;
	uint16_t type, len, list;
	int seen = 0, bit;

	*what = 0;
	if (rem < 2)
		goto too_short;
	list = get_be16(p);
	p += 2, rem -= 2;
	if (list != rem)
		return "EncryptedExtensions length does not match the message";
	while (rem > 0) {
		if (!next_extension(&p, &rem, &type, &data, &len))
			goto too_short;
		*what = type;
		if (type == EXT_SERVER_NAME && sent_server_name) {
			if (len != 0)
				return "server_name in EncryptedExtensions not empty";
			bit = 1;
		} else if (type == EXT_SUPPORTED_GROUPS) {
			bit = 2;
		} else {
			return "unexpected extension in EncryptedExtensions";
		}
		/* RFC 8446 4.2: one extension of a type per block */
		if (seen & bit)
			return "duplicate extension in EncryptedExtensions";
		seen |= bit;
	}
	return NULL;
too_short:
	return "EncryptedExtensions truncated";
}

const char *tls13_hs_name(uint8_t type)
{
	switch (type) {
	case TLS13_HS_CLIENT_HELLO: return "ClientHello";
	case TLS13_HS_SERVER_HELLO: return "ServerHello";
	case TLS13_HS_NEW_SESSION_TICKET: return "NewSessionTicket";
	case TLS13_HS_END_OF_EARLY_DATA: return "EndOfEarlyData";
	case TLS13_HS_ENCRYPTED_EXTENSIONS: return "EncryptedExtensions";
	case TLS13_HS_CERTIFICATE: return "Certificate";
	case TLS13_HS_CERTIFICATE_REQUEST: return "CertificateRequest";
	case TLS13_HS_CERTIFICATE_VERIFY: return "CertificateVerify";
	case TLS13_HS_FINISHED: return "Finished";
	case TLS13_HS_KEY_UPDATE: return "KeyUpdate";
	default: return "unknown handshake message";
	}
}
