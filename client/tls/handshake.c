// SPDX-License-Identifier: GPL-2.0
/*
 * The client's TLS 1.3 handshake (RFC 8446 2.2, 4) with an external PSK
 * and X25519, as a state machine over whole records:
 *
 *   start:  ClientHello (binder over the truncated hello) -> c->out
 *   feed:   ServerHello (plaintext) -> handshake keys
 *           [ChangeCipherSpec, dropped] EncryptedExtensions, Finished
 *           -> verify, client Finished -> c->out, application keys
 *   then:   application data records; NewSessionTicket ignored
 *
 * The caller reads at most tls13_client_want() bytes at a time, so it
 * never reads past the record it needs: after the handshake the socket
 * can be handed to the kernel (kTLS) without a byte left behind here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "tls13.h"

static enum tls13_event fail(struct tls13_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum tls13_event fail(struct tls13_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->state = TLS13_FAILED;
	tls13_wipe(c->x25519_priv, sizeof(c->x25519_priv));
	tls13_wipe(&c->ks, sizeof(c->ks));
	tls13_wipe(c->c_hs, sizeof(c->c_hs));
	tls13_wipe(c->s_hs, sizeof(c->s_hs));
	tls13_wipe(&c->rx, sizeof(c->rx));
	tls13_wipe(&c->tx, sizeof(c->tx));
	return TLS13_ERROR;
}

static void transcript_hash(const struct tls13_client *c,
			    uint8_t out[TLS13_HASH_LEN])
{
	/* br_sha256_out leaves the running hash as it is */
	br_sha256_out(&c->transcript, out);
}

static void put_record_header(uint8_t *p, uint8_t type, uint16_t version,
			      size_t len)
{
	p[0] = type;
	put_be16(p + 1, version);
	put_be16(p + 3, (uint16_t)len);
}

int tls13_client_start(struct tls13_client *c, const struct tls13_config *cfg)
{
	uint8_t pub[32], hash[TLS13_HASH_LEN], *msg;
	struct tls13_hello h;
	size_t n;

	tls13_klibc_init();
	memset(c, 0, sizeof(*c));
	if (cfg->key_len == 0 || cfg->key_len > TLS13_MAX_PSK) {
		fail(c, "PSK of %zu bytes (1 to %d allowed)", cfg->key_len,
		     TLS13_MAX_PSK);
		return -1;
	}
	if (cfg->identity_len == 0 || cfg->identity_len > TLS13_MAX_IDENTITY) {
		fail(c, "PSK identity of %zu bytes (1 to %d allowed)",
		     cfg->identity_len, TLS13_MAX_IDENTITY);
		return -1;
	}
	memcpy(c->x25519_priv, cfg->x25519_priv, 32);
	br_ec_c25519_m31.mulgen(pub, c->x25519_priv, 32, BR_EC_curve25519);
	h.random = cfg->random;
	h.x25519_pub = pub;
	h.identity = cfg->identity;
	h.identity_len = cfg->identity_len;
	h.server_name = cfg->server_name;
	msg = c->out + TLS13_HEADER_LEN;
	n = tls13_build_client_hello(msg, TLS13_MAX_CLIENT_HELLO, &h);
	if (!n) {
		fail(c, "server name of %zu bytes (1 to %d allowed)",
		     cfg->server_name ? strlen(cfg->server_name) : 0,
		     TLS13_MAX_SERVER_NAME);
		return -1;
	}
	c->sent_server_name = cfg->server_name != NULL;
	tls13_early_secret(&c->ks, cfg->key, cfg->key_len);
	/* RFC 8446 4.2.11.2: the binder covers the hello without binders */
	tls13_hash(hash, msg, n - TLS13_BINDERS_LEN);
	tls13_binder(msg + n - TLS13_HASH_LEN, c->ks.early,
		     cfg->binder_label ? cfg->binder_label : TLS13_EXT_BINDER,
		     hash);
	br_sha256_init(&c->transcript);
	br_sha256_update(&c->transcript, msg, n);
	/* RFC 8446 5.1: legacy_record_version 0x0301 in the first hello */
	put_record_header(c->out, TLS13_CT_HANDSHAKE, 0x0301, n);
	c->out_len = TLS13_HEADER_LEN + n;
	c->state = TLS13_WAIT_SERVER_HELLO;
	tls13_wipe(hash, sizeof(hash));
	tls13_scrub_stack();	/* the X25519 scalar, the binder key */
	return 0;
}

/* how many bytes the record being received still lacks */
size_t tls13_client_want(const struct tls13_client *c)
{
	if (c->state == TLS13_FAILED || c->state == TLS13_IDLE)
		return 0;
	if (c->rec_len < TLS13_HEADER_LEN)
		return TLS13_HEADER_LEN - c->rec_len;
	return TLS13_HEADER_LEN + get_be16(c->rec + 3) - c->rec_len;
}

static enum tls13_event on_server_hello(struct tls13_client *c,
					const uint8_t *msg, size_t len)
{
	struct tls13_server_hello sh;
	uint8_t shared[32], zero = 0, hash[TLS13_HASH_LEN];
	const char *err;
	uint16_t what;
	int i;

	err = tls13_parse_server_hello(msg + TLS13_HS_HEADER_LEN,
				       len - TLS13_HS_HEADER_LEN, &sh, &what);
	if (err)
		return what ? fail(c, "%s (0x%04x)", err, what)
			    : fail(c, "%s", err);
	memcpy(shared, sh.x25519_pub, 32);
	if (!br_ec_c25519_m31.mul(shared, 32, c->x25519_priv, 32,
				  BR_EC_curve25519)) {
		tls13_wipe(shared, sizeof(shared));
		return fail(c, "bad x25519 key share from server");
	}
	tls13_wipe(c->x25519_priv, sizeof(c->x25519_priv));
	/* RFC 8446 7.4.2: an all-zero shared secret must be refused */
	for (i = 0; i < 32; i++)
		zero |= shared[i];
	if (!zero)
		return fail(c, "x25519 shared secret is zero (bad server key share)");
	br_sha256_update(&c->transcript, msg, len);
	tls13_handshake_secret(&c->ks, shared);
	tls13_wipe(shared, sizeof(shared));
	transcript_hash(c, hash);
	tls13_derive_secret(c->c_hs, c->ks.handshake, "c hs traffic", hash);
	tls13_derive_secret(c->s_hs, c->ks.handshake, "s hs traffic", hash);
	tls13_aead_init(&c->rx, c->s_hs);
	tls13_aead_init(&c->tx, c->c_hs);
	c->state = TLS13_WAIT_ENCRYPTED_EXTENSIONS;
	return TLS13_NEED_MORE;
}

static enum tls13_event on_encrypted_extensions(struct tls13_client *c,
						const uint8_t *msg, size_t len)
{
	const char *err;
	uint16_t what;

	err = tls13_parse_encrypted_extensions(msg + TLS13_HS_HEADER_LEN,
					       len - TLS13_HS_HEADER_LEN,
					       c->sent_server_name, &what);
	if (err)
		return what ? fail(c, "%s (%u)", err, what)
			    : fail(c, "%s", err);
	br_sha256_update(&c->transcript, msg, len);
	c->state = TLS13_WAIT_FINISHED;
	return TLS13_NEED_MORE;
}

/* client Finished, protected with the client handshake key, into c->out */
static void send_finished(struct tls13_client *c,
			  const uint8_t hash[TLS13_HASH_LEN])
{
	uint8_t fin[TLS13_HS_HEADER_LEN + TLS13_HASH_LEN];

	fin[0] = TLS13_HS_FINISHED;
	fin[1] = 0;
	fin[2] = 0;
	fin[3] = TLS13_HASH_LEN;
	tls13_finished_mac(fin + TLS13_HS_HEADER_LEN, c->c_hs, hash);
	c->out_len = tls13_record_seal(&c->tx, TLS13_CT_HANDSHAKE, fin,
				       sizeof(fin), c->out);
	tls13_wipe(fin, sizeof(fin));
}

static enum tls13_event on_finished(struct tls13_client *c,
				    const uint8_t *msg, size_t len)
{
	uint8_t hash[TLS13_HASH_LEN], expect[TLS13_HASH_LEN];
	uint8_t c_ap[TLS13_HASH_LEN], s_ap[TLS13_HASH_LEN];
	int ok;

	if (len != TLS13_HS_HEADER_LEN + TLS13_HASH_LEN)
		return fail(c, "server Finished of %zu bytes (expected %d)",
			    len - TLS13_HS_HEADER_LEN, TLS13_HASH_LEN);
	transcript_hash(c, hash);
	tls13_finished_mac(expect, c->s_hs, hash);
	ok = tls13_equal(expect, msg + TLS13_HS_HEADER_LEN, TLS13_HASH_LEN);
	tls13_wipe(expect, sizeof(expect));
	if (!ok)
		return fail(c, "server Finished does not verify (wrong PSK?)");
	br_sha256_update(&c->transcript, msg, len);
	transcript_hash(c, hash);
	/* RFC 8446 7.1: application secrets hash up to the server Finished */
	tls13_master_secret(&c->ks);
	tls13_derive_secret(c_ap, c->ks.master, "c ap traffic", hash);
	tls13_derive_secret(s_ap, c->ks.master, "s ap traffic", hash);
	send_finished(c, hash);
	/* no KeyUpdate, no exporters: only the keys outlive this */
	tls13_aead_init(&c->rx, s_ap);
	tls13_aead_init(&c->tx, c_ap);
	tls13_wipe(c_ap, sizeof(c_ap));
	tls13_wipe(s_ap, sizeof(s_ap));
	tls13_wipe(&c->ks, sizeof(c->ks));
	tls13_wipe(c->c_hs, sizeof(c->c_hs));
	tls13_wipe(c->s_hs, sizeof(c->s_hs));
	c->state = TLS13_CONNECTED;
	return TLS13_HANDSHAKE_DONE;
}

static enum tls13_event on_message(struct tls13_client *c,
				   const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];
	enum tls13_state want;

	switch (c->state) {
	case TLS13_WAIT_SERVER_HELLO:
		if (type == TLS13_HS_SERVER_HELLO)
			return on_server_hello(c, msg, len);
		want = c->state;
		break;
	case TLS13_WAIT_ENCRYPTED_EXTENSIONS:
		if (type == TLS13_HS_ENCRYPTED_EXTENSIONS)
			return on_encrypted_extensions(c, msg, len);
		want = c->state;
		break;
	case TLS13_WAIT_FINISHED:
		if (type == TLS13_HS_FINISHED)
			return on_finished(c, msg, len);
		if (type == TLS13_HS_CERTIFICATE ||
		    type == TLS13_HS_CERTIFICATE_REQUEST ||
		    type == TLS13_HS_CERTIFICATE_VERIFY)
			return fail(c, "server sent %s: not allowed in a PSK handshake",
				    tls13_hs_name(type));
		want = c->state;
		break;
	case TLS13_CONNECTED:
		/* RFC 8446 4.6.1: a ticket we do not use is dropped */
		if (type == TLS13_HS_NEW_SESSION_TICKET)
			return TLS13_NEED_MORE;
		if (type == TLS13_HS_KEY_UPDATE)
			return fail(c, "server sent KeyUpdate: the kernel's TLS cannot rekey");
		return fail(c, "unexpected %s (%u) after the handshake",
			    tls13_hs_name(type), type);
	default:
		return fail(c, "handshake message in state %d", c->state);
	}
	return fail(c, "unexpected %s (%u) while waiting for %s",
		    tls13_hs_name(type), type,
		    want == TLS13_WAIT_SERVER_HELLO ? "ServerHello" :
		    want == TLS13_WAIT_FINISHED ? "Finished" :
		    "EncryptedExtensions");
}

/*
 * Handshake bytes from one record: whole messages are handled, a partial
 * one waits for the next record. RFC 8446 5.1: a message must not span a
 * key change, so none may be left after ServerHello or Finished.
 */
static enum tls13_event on_handshake(struct tls13_client *c,
				     const uint8_t *p, size_t len)
{
	enum tls13_event ev = TLS13_NEED_MORE;
	enum tls13_state before;
	size_t mlen;

	if (len == 0)
		return fail(c, "empty handshake record");
	if (len > sizeof(c->hs) - c->hs_len)
		return fail(c, "handshake message longer than %d bytes",
			    TLS13_MAX_HANDSHAKE);
	memcpy(c->hs + c->hs_len, p, len);
	c->hs_len += len;
	while (c->hs_len >= TLS13_HS_HEADER_LEN) {
		mlen = (size_t)c->hs[1] << 16 | (size_t)c->hs[2] << 8 | c->hs[3];
		if (mlen > sizeof(c->hs) - TLS13_HS_HEADER_LEN)
			return fail(c, "%s of %zu bytes (at most %d)",
				    tls13_hs_name(c->hs[0]), mlen,
				    TLS13_MAX_HANDSHAKE - TLS13_HS_HEADER_LEN);
		if (c->hs_len < TLS13_HS_HEADER_LEN + mlen)
			break;
		before = c->state;
		ev = on_message(c, c->hs, TLS13_HS_HEADER_LEN + mlen);
		c->hs_len -= TLS13_HS_HEADER_LEN + mlen;
		memmove(c->hs, c->hs + TLS13_HS_HEADER_LEN + mlen, c->hs_len);
		if (ev == TLS13_ERROR)
			return ev;
		if ((before == TLS13_WAIT_SERVER_HELLO ||
		     before == TLS13_WAIT_FINISHED) && c->state != before &&
		    c->hs_len)
			return fail(c, "handshake data after %s in the same record",
				    before == TLS13_WAIT_SERVER_HELLO ?
				    "ServerHello" : "Finished");
	}
	return ev;
}

static enum tls13_event on_alert(struct tls13_client *c,
				 const uint8_t *p, size_t len)
{
	if (len != 2)
		return fail(c, "alert record of %zu bytes", len);
	if (p[1] == 0)
		return fail(c, "server closed the TLS session (close_notify)");
	return fail(c, "server sent alert %s (%u)", tls13_alert_name(p[1]),
		    p[1]);
}

static enum tls13_event on_protected(struct tls13_client *c)
{
	const char *err;
	uint8_t type, *body = c->rec + TLS13_HEADER_LEN;
	size_t len;

	err = tls13_record_open(&c->rx, c->rec, c->rec_len, &type, &len);
	/* the first protected record is where a PSK mismatch shows */
	if (err == tls13_bad_record_mac &&
	    c->state == TLS13_WAIT_ENCRYPTED_EXTENSIONS)
		return fail(c, "%s: server's handshake keys differ from ours (wrong PSK?)",
			    err);
	if (err)
		return fail(c, "%s", err);
	switch (type) {
	case TLS13_CT_HANDSHAKE:
		return on_handshake(c, body, len);
	case TLS13_CT_ALERT:
		return on_alert(c, body, len);
	case TLS13_CT_APPLICATION_DATA:
		if (c->state != TLS13_CONNECTED)
			return fail(c, "application data before the handshake finished");
		if (c->hs_len)
			return fail(c, "application data inside a handshake message");
		c->app = body;
		c->app_len = len;
		return TLS13_APP_DATA;
	default:
		return fail(c, "protected record of unknown type %u", type);
	}
}

static enum tls13_event on_record(struct tls13_client *c)
{
	const uint8_t *body = c->rec + TLS13_HEADER_LEN;
	size_t len = c->rec_len - TLS13_HEADER_LEN;

	switch (c->rec[0]) {
	case TLS13_CT_CHANGE_CIPHER_SPEC:
		/* RFC 8446 5: middlebox compatibility, dropped until Finished */
		if (c->state != TLS13_WAIT_ENCRYPTED_EXTENSIONS &&
		    c->state != TLS13_WAIT_FINISHED)
			return fail(c, "unexpected ChangeCipherSpec");
		if (len != 1 || body[0] != 1)
			return fail(c, "bad ChangeCipherSpec record");
		/* RFC 8446 5.1: nothing between a message's fragments */
		if (c->hs_len)
			return fail(c, "ChangeCipherSpec inside a split %s",
				    tls13_hs_name(c->hs[0]));
		return TLS13_NEED_MORE;
	case TLS13_CT_ALERT:
		/* a server that fails before its keys alerts in plaintext */
		if (c->state == TLS13_CONNECTED)
			return fail(c, "unprotected alert after the handshake");
		return on_alert(c, body, len);
	case TLS13_CT_HANDSHAKE:
		if (c->state != TLS13_WAIT_SERVER_HELLO)
			return fail(c, "unprotected handshake record after ServerHello");
		return on_handshake(c, body, len);
	default:	/* application_data: checked by on_record_header */
		if (c->state == TLS13_WAIT_SERVER_HELLO)
			return fail(c, "protected record before ServerHello");
		return on_protected(c);
	}
}

static enum tls13_event on_record_header(struct tls13_client *c)
{
	uint8_t type = c->rec[0];
	uint16_t version = get_be16(c->rec + 1), len = get_be16(c->rec + 3);
	size_t max = type == TLS13_CT_APPLICATION_DATA ?
		     TLS13_MAX_CIPHERTEXT : TLS13_MAX_PLAINTEXT;

	if (type < TLS13_CT_CHANGE_CIPHER_SPEC ||
	    type > TLS13_CT_APPLICATION_DATA || (version >> 8) != 3)
		return fail(c, "not a TLS record (type %u, version 0x%04x)",
			    type, version);
	if (len > max)
		return fail(c, "record of %u bytes (at most %zu)", len, max);
	if (len == 0 && type != TLS13_CT_APPLICATION_DATA)
		return fail(c, "empty record of type %u", type);
	return TLS13_NEED_MORE;
}

/*
 * Takes up to len bytes (never more than the current record needs) and
 * handles each complete record; stops at the first record that reports
 * an event. *used is what was consumed.
 */
/* not inlined: every frame that held a secret lies below the scrub */
static __attribute__((noinline)) enum tls13_event
feed_records(struct tls13_client *c, const uint8_t *in, size_t len,
	     size_t *used)
{
	enum tls13_event ev;
	size_t n;

	*used = 0;
	c->app = NULL;
	c->app_len = 0;
	if (c->state == TLS13_FAILED || c->state == TLS13_IDLE)
		return TLS13_ERROR;
	while (len > 0) {
		n = tls13_client_want(c);
		if (n > len)
			n = len;
		memcpy(c->rec + c->rec_len, in, n);
		c->rec_len += n;
		in += n, len -= n, *used += n;
		if (c->rec_len == TLS13_HEADER_LEN &&
		    on_record_header(c) == TLS13_ERROR)
			return TLS13_ERROR;
		if (tls13_client_want(c) > 0)
			continue;
		ev = on_record(c);
		c->rec_len = 0;
		if (ev != TLS13_NEED_MORE)
			return ev;
	}
	return TLS13_NEED_MORE;
}

enum tls13_event tls13_client_feed(struct tls13_client *c, const uint8_t *in,
				   size_t len, size_t *used)
{
	enum tls13_state before = c->state;
	enum tls13_event ev;

	ev = feed_records(c, in, len, used);
	/* new secrets were derived (or wiped): no copy stays on the stack */
	if (c->state != before)
		tls13_scrub_stack();
	return ev;
}

/* protects len <= TLS13_MAX_PLAINTEXT bytes of application data */
size_t tls13_client_seal(struct tls13_client *c, const uint8_t *data,
			 size_t len, uint8_t *out)
{
	if (c->state != TLS13_CONNECTED)
		return 0;
	return tls13_record_seal(&c->tx, TLS13_CT_APPLICATION_DATA, data, len,
				 out);
}

static void ktls_info(const struct tls13_aead *a,
		      struct tls12_crypto_info_chacha20_poly1305 *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
	memcpy(ci->iv, a->iv, sizeof(ci->iv));
	memcpy(ci->key, a->key, sizeof(ci->key));
	put_be64(ci->rec_seq, a->seq);
}

/*
 * The kernel's TLS_TX and TLS_RX parameters: key, the whole 12-byte IV
 * (ChaCha20 has no salt) and the next record sequence numbers. Only with
 * no partial record pending: what follows belongs to the kernel.
 */
int tls13_client_ktls(const struct tls13_client *c,
		      struct tls12_crypto_info_chacha20_poly1305 *tx,
		      struct tls12_crypto_info_chacha20_poly1305 *rx)
{
	if (c->state != TLS13_CONNECTED || c->rec_len || c->hs_len)
		return -1;
	ktls_info(&c->tx, tx);
	ktls_info(&c->rx, rx);
	return 0;
}

void tls13_client_wipe(struct tls13_client *c)
{
	tls13_wipe(c, sizeof(*c));
	tls13_scrub_stack();	/* what sealing and opening left there */
}
