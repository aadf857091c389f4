// unit: client
/*
 * The client's TLS 1.3 core against RFC 8448's traces: X25519, every
 * secret of the key schedule, binder, Finished, traffic keys; the
 * ServerHello and EncryptedExtensions parsers on the RFC's messages and
 * on broken ones; ChaCha20-Poly1305 records against an independent
 * implementation's output; the client state machine against a scripted
 * server (tls13-test-server.h), good and broken flights, fed whole and
 * byte by byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <bearssl.h>
#include <linux/auxvec.h>

#include "tls/tls13.h"
#include "unit.h"
#include "rfc8448-vectors.h"
#include "tls13-test-server.h"

static void hash_msgs(uint8_t out[32], const void *a, size_t alen,
		      const void *b, size_t blen, const void *c, size_t clen,
		      const void *d, size_t dlen)
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, a, alen);
	br_sha256_update(&h, b, blen);
	br_sha256_update(&h, c, clen);
	br_sha256_update(&h, d, dlen);
	br_sha256_out(&h, out);
}

/* Derive-Secret(secret, label, h), then its 16-byte key and IV as in
 * the RFC's AES-128-GCM trace */
static void check_traffic(const uint8_t *secret, const char *label,
			  const uint8_t h[32], const uint8_t *expect,
			  const uint8_t *expect_key, const uint8_t *expect_iv)
{
	uint8_t out[32], key[16], iv[12];

	tls13_derive_secret(out, secret, label, h);
	CHECK_MEM(out, expect, 32);
	tls13_traffic_keys(key, sizeof(key), iv, out);
	CHECK_MEM(key, expect_key, 16);
	CHECK_MEM(iv, expect_iv, 12);
}

static void test_x25519(void)
{
	uint8_t pub[32], shared[32];

	br_ec_c25519_m31.mulgen(pub, s4_client_priv, 32, BR_EC_curve25519);
	CHECK_MEM(pub, s4_client_pub, 32);
	memcpy(shared, s4_server_pub, 32);
	CHECK(br_ec_c25519_m31.mul(shared, 32, s4_client_priv, 32,
				   BR_EC_curve25519));
	CHECK_MEM(shared, s4_ecdhe, 32);
}

/* section 3: no PSK (zeros), (EC)DHE only */
static void test_schedule_section3(void)
{
	static const uint8_t zeros[32];
	struct tls13_schedule s;
	uint8_t empty[32], derived[32];

	tls13_early_secret(&s, zeros, sizeof(zeros));
	CHECK_MEM(s.early, s3_early, 32);
	tls13_hash(empty, NULL, 0);
	tls13_derive_secret(derived, s.early, "derived", empty);
	CHECK_MEM(derived, s3_derived, 32);
	tls13_handshake_secret(&s, s3_ecdhe);
	CHECK_MEM(s.handshake, s3_handshake, 32);
	tls13_master_secret(&s);
	CHECK_MEM(s.master, s3_master, 32);
}

/* section 4: PSK + x25519, the binder with the RFC's "res binder" label */
static void test_schedule_section4(void)
{
	const uint8_t *ch = s4_client_hello, *sh = s4_server_hello;
	const uint8_t *ee = s4_encrypted_extensions, *sf = s4_server_finished;
	struct tls13_schedule s;
	uint8_t h[32], out[32];
	size_t chl = sizeof(s4_client_hello);

	tls13_early_secret(&s, s4_psk, sizeof(s4_psk));
	CHECK_MEM(s.early, s4_early, 32);

	tls13_hash(h, ch, chl - TLS13_BINDERS_LEN);
	CHECK_MEM(h, s4_binder_hash, 32);
	tls13_binder(out, s.early, TLS13_RES_BINDER, h);
	CHECK_MEM(out, s4_binder, 32);
	CHECK_MEM(ch + chl - 32, s4_binder, 32);
	/* the same hello with an external PSK's label gives another binder */
	tls13_binder(out, s.early, TLS13_EXT_BINDER, h);
	CHECK(memcmp(out, s4_binder, 32) != 0);

	tls13_handshake_secret(&s, s4_ecdhe);
	CHECK_MEM(s.handshake, s4_handshake, 32);
	hash_msgs(h, ch, chl, sh, sizeof(s4_server_hello), "", 0, "", 0);
	check_traffic(s.handshake, "c hs traffic", h, s4_c_hs, s4_c_hs_key,
		      s4_c_hs_iv);
	check_traffic(s.handshake, "s hs traffic", h, s4_s_hs, s4_s_hs_key,
		      s4_s_hs_iv);

	/* server Finished over CH..EE */
	hash_msgs(h, ch, chl, sh, sizeof(s4_server_hello),
		  ee, sizeof(s4_encrypted_extensions), "", 0);
	tls13_finished_mac(out, s4_s_hs, h);
	CHECK_MEM(out, sf + 4, 32);

	/* application secrets over CH..server Finished */
	tls13_master_secret(&s);
	CHECK_MEM(s.master, s4_master, 32);
	hash_msgs(h, ch, chl, sh, sizeof(s4_server_hello),
		  ee, sizeof(s4_encrypted_extensions),
		  sf, sizeof(s4_server_finished));
	check_traffic(s.master, "c ap traffic", h, s4_c_ap, s4_c_ap_key,
		      s4_c_ap_iv);
	check_traffic(s.master, "s ap traffic", h, s4_s_ap, s4_s_ap_key,
		      s4_s_ap_iv);

	/* client Finished: the RFC's client also sent EndOfEarlyData */
	{
		br_sha256_context t;

		br_sha256_init(&t);
		br_sha256_update(&t, ch, chl);
		br_sha256_update(&t, sh, sizeof(s4_server_hello));
		br_sha256_update(&t, ee, sizeof(s4_encrypted_extensions));
		br_sha256_update(&t, sf, sizeof(s4_server_finished));
		br_sha256_update(&t, s4_end_of_early_data, 4);
		br_sha256_out(&t, h);
	}
	tls13_finished_mac(out, s4_c_hs, h);
	CHECK_MEM(out, s4_client_finished + 4, 32);
}

static void test_expand_limits(void)
{
	uint8_t out[64], prk[32] = { 1 };
	char label[251];

	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = 0;
	/* "tls13 " + 250 bytes > 255 */
	CHECK(tls13_expand_label(out, 32, prk, label, NULL, 0) < 0);
	label[249] = 0;
	CHECK(tls13_expand_label(out, 32, prk, label, NULL, 0) == 0);
	CHECK(tls13_hkdf_expand(out, 64, prk, (const uint8_t *)"x", 1) == 0);
	CHECK(tls13_hkdf_expand(out, 255 * 32 + 1, prk, NULL, 0) < 0);
}

/* the RFC's ServerHello with its cipher suite replaced by ours */
static size_t our_server_hello(uint8_t *b)
{
	memcpy(b, s4_server_hello, sizeof(s4_server_hello));
	b[4 + 2 + 32 + 1] = 0x13;
	b[4 + 2 + 32 + 2] = 0x03;
	return sizeof(s4_server_hello);
}

static const char *parse_sh(const uint8_t *b, size_t n, uint16_t *what)
{
	struct tls13_server_hello sh;

	return tls13_parse_server_hello(b + 4, n - 4, &sh, what);
}

static void test_server_hello(void)
{
	struct tls13_server_hello sh;
	uint8_t b[128];
	const char *err;
	uint16_t what;
	size_t n, i;

	/* the RFC's server chose AES-128-GCM, which we never offer */
	err = parse_sh(s4_server_hello, sizeof(s4_server_hello), &what);
	CHECK(err && strstr(err, "cipher suite"));
	CHECK_EQ(what, 0x1301);

	n = our_server_hello(b);
	err = tls13_parse_server_hello(b + 4, n - 4, &sh, &what);
	CHECK(err == NULL);
	CHECK_MEM(sh.x25519_pub, s4_server_pub, 32);
	CHECK_EQ(sh.selected_identity, 0);

	/* every truncation fails cleanly (ASan checks no read past) */
	for (i = 4; i < n; i++) {
		uint8_t *cut = malloc(i);

		memcpy(cut, b, i);
		CHECK(parse_sh(cut, i, &what) != NULL);
		free(cut);
	}

	/* HelloRetryRequest's magic random */
	n = our_server_hello(b);
	memcpy(b + 6, "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02"
		      "\x1e\x65\xb8\x91\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e"
		      "\x07\x9e\x09\xe2\xc8\xa8\x33\x9c", 32);
	err = parse_sh(b, n, &what);
	CHECK(err && strstr(err, "HelloRetryRequest"));

	/* downgrade sentinel */
	n = our_server_hello(b);
	memcpy(b + 6 + 24, "DOWNGRD\x01", 8);
	err = parse_sh(b, n, &what);
	CHECK(err && strstr(err, "downgrade"));

	/* selected_identity 1: we offered one identity */
	n = our_server_hello(b);
	b[4 + 2 + 32 + 1 + 3 + 2 + 4 + 1] = 1;
	err = parse_sh(b, n, &what);
	CHECK(err && strstr(err, "identity"));
	CHECK_EQ(what, 1);

	/* an unknown extension type, named */
	n = our_server_hello(b);
	b[4 + 2 + 32 + 1 + 3 + 2] = 0x12;
	err = parse_sh(b, n, &what);
	CHECK(err && strstr(err, "unknown extension"));
	CHECK_EQ(what, 0x1229);

	/* key share group secp256r1 */
	n = our_server_hello(b);
	b[4 + 2 + 32 + 1 + 3 + 2 + 6 + 4 + 1] = 0x17;
	err = parse_sh(b, n, &what);
	CHECK(err && strstr(err, "group"));
	CHECK_EQ(what, 0x0017);
}

static void test_encrypted_extensions(void)
{
	const uint8_t *ee = s4_encrypted_extensions;
	const char *err;
	uint16_t what;
	uint8_t b[16];

	/* the RFC's server answers record_size_limit, which we never send */
	err = tls13_parse_encrypted_extensions(ee + 4, sizeof(s4_encrypted_extensions) - 4,
					       1, &what);
	CHECK(err && strstr(err, "unexpected extension"));
	CHECK_EQ(what, 28);
	/* supported_groups and an empty server_name are fine */
	memcpy(b, "\x00\x0c\x00\x0a\x00\x04\x00\x02\x00\x1d\x00\x00\x00\x00", 14);
	CHECK(tls13_parse_encrypted_extensions(b, 14, 1, &what) == NULL);
	CHECK(tls13_parse_encrypted_extensions(b, 14, 0, &what) != NULL);
	CHECK(tls13_parse_encrypted_extensions(b, 13, 1, &what) != NULL);
	b[1] = 0x0b;
	CHECK(tls13_parse_encrypted_extensions(b, 13, 1, &what) != NULL);
	/* RFC 8446 4.2: an extension type twice in a block is refused */
	memcpy(b, "\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00", 10);
	err = tls13_parse_encrypted_extensions(b, 10, 1, &what);
	CHECK(err && strstr(err, "duplicate extension"));
	CHECK_EQ(what, 0);
	memcpy(b, "\x00\x0c\x00\x0a\x00\x02\x00\x1d\x00\x0a\x00\x00", 12);
	b[1] = 10;
	err = tls13_parse_encrypted_extensions(b, 12, 1, &what);
	CHECK(err && strstr(err, "duplicate extension"));
	CHECK_EQ(what, 10);
}

static void test_records(void)
{
	struct tls13_aead a, b;
	uint8_t buf[128], data[50];
	const char *err;
	uint8_t type;
	size_t len, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	tls13_aead_init(&a, s4_s_ap);
	CHECK_MEM(a.key, chacha_key, 32);
	CHECK_MEM(a.iv, chacha_iv, 12);
	b = a;
	len = tls13_record_seal(&a, TLS13_CT_APPLICATION_DATA, data,
				sizeof(data), buf);
	CHECK_EQ(len, sizeof(chacha_record_seq0));
	CHECK_MEM(buf, chacha_record_seq0, sizeof(chacha_record_seq0));
	len = tls13_record_seal(&a, TLS13_CT_APPLICATION_DATA, data,
				sizeof(data), buf);
	CHECK_MEM(buf, chacha_record_seq1, sizeof(chacha_record_seq1));
	CHECK_EQ(a.seq, 2);
	/* sealed in place, the data at the start of the output */
	a.seq = 1;
	memcpy(buf, data, sizeof(data));
	len = tls13_record_seal(&a, TLS13_CT_APPLICATION_DATA, buf,
				sizeof(data), buf);
	CHECK_MEM(buf, chacha_record_seq1, sizeof(chacha_record_seq1));

	/* open what the other implementation sealed, in order */
	memcpy(buf, chacha_record_seq0, sizeof(chacha_record_seq0));
	err = tls13_record_open(&b, buf, sizeof(chacha_record_seq0), &type, &len);
	CHECK(err == NULL);
	CHECK_EQ(type, TLS13_CT_APPLICATION_DATA);
	CHECK_EQ(len, 50);
	CHECK_MEM(buf + 5, data, 50);
	/* replaying record 0 at sequence 1 fails, and is wiped */
	memcpy(buf, chacha_record_seq0, sizeof(chacha_record_seq0));
	err = tls13_record_open(&b, buf, sizeof(chacha_record_seq0), &type, &len);
	CHECK(err && strstr(err, "bad_record_mac"));
	CHECK_EQ(b.seq, 1);
	memcpy(buf, chacha_record_seq1, sizeof(chacha_record_seq1));
	CHECK(tls13_record_open(&b, buf, sizeof(chacha_record_seq1), &type, &len) == NULL);
	memcpy(buf, chacha_alert_seq2, sizeof(chacha_alert_seq2));
	CHECK(tls13_record_open(&b, buf, sizeof(chacha_alert_seq2), &type, &len) == NULL);
	CHECK_EQ(type, TLS13_CT_ALERT);
	CHECK_EQ(len, 2);
	CHECK_MEM(buf + 5, "\x02\x28", 2);

	/* a flipped bit anywhere fails authentication */
	for (i = 0; i < sizeof(chacha_record_seq0); i++) {
		struct tls13_aead c = b;

		c.seq = 0;
		memcpy(buf, chacha_record_seq0, sizeof(chacha_record_seq0));
		buf[i] ^= 0x10;
		CHECK(tls13_record_open(&c, buf, sizeof(chacha_record_seq0),
					&type, &len) != NULL);
	}
	/* length checks before any decryption */
	memcpy(buf, chacha_record_seq0, sizeof(chacha_record_seq0));
	CHECK(tls13_record_open(&b, buf, sizeof(chacha_record_seq0) - 1, &type, &len) != NULL);
	buf[3] = 0, buf[4] = 16;
	CHECK(tls13_record_open(&b, buf, 5 + 16, &type, &len) != NULL);
}

/*
 * RFC 8446 5.4: content, type and padding together at most 2^14 + 1
 * bytes, even when the content alone is shorter. Sealed by hand: our
 * sealer never pads.
 */
static void test_record_inner_limit(void)
{
	static uint8_t rec[TLS13_MAX_RECORD];
	struct tls13_aead a;
	uint8_t nonce[12], type;
	size_t inner, len;
	const char *err;
	int fits;

	for (inner = TLS13_MAX_PLAINTEXT + 1; inner <= TLS13_MAX_PLAINTEXT + 2;
	     inner++) {
		tls13_aead_init(&a, s4_s_ap);
		memset(rec, 0, sizeof(rec));
		rec[0] = TLS13_CT_APPLICATION_DATA;
		put_be16(rec + 1, 0x0303);
		put_be16(rec + 3, (uint16_t)(inner + TLS13_TAG_LEN));
		memset(rec + 5, 'A', 16000);
		rec[5 + 16000] = TLS13_CT_APPLICATION_DATA;
		memcpy(nonce, a.iv, 12);	/* sequence 0 */
		br_poly1305_ctmul_run(a.key, nonce, rec + 5, inner, rec, 5,
				      rec + 5 + inner, br_chacha20_ct_run, 1);
		err = tls13_record_open(&a, rec, 5 + inner + TLS13_TAG_LEN,
					&type, &len);
		fits = inner == TLS13_MAX_PLAINTEXT + 1;
		CHECK(fits ? err == NULL : err && strstr(err, "record_overflow"));
		if (fits)
			CHECK_EQ(len, 16000);
	}
}

static const uint8_t test_random[32] = { 7, 7, 7 };
static const uint8_t test_priv[32] = { 0x42, 1, 2, 3 };
static const uint8_t test_psk[32] = { 0x11, 0x22, 0x33 };

static void client_start(struct tls13_client *c, struct srv *s)
{
	struct tls13_config cfg = {
		.identity = (const uint8_t *)"lab-17",
		.identity_len = 6,
		.key = test_psk,
		.key_len = sizeof(test_psk),
		.server_name = "10.0.2.2",
		.random = test_random,
		.x25519_priv = test_priv,
	};

	memset(s, 0, sizeof(*s));
	memcpy(s->psk, test_psk, sizeof(test_psk));
	memset(s->priv, 0x99, sizeof(s->priv));
	CHECK(tls13_client_start(c, &cfg) == 0);
}

/* feeds the server's bytes in steps of at most step bytes */
static enum tls13_event feed_all(struct tls13_client *c, const uint8_t *p,
				 size_t len, size_t step)
{
	enum tls13_event ev = TLS13_NEED_MORE;
	size_t used, n;

	while (len > 0) {
		n = len < step ? len : step;
		ev = tls13_client_feed(c, p, n, &used);
		if (ev == TLS13_ERROR)
			return ev;
		p += used, len -= used;
		if (ev != TLS13_NEED_MORE && len > 0)
			return TLS13_ERROR;	/* bytes left behind */
	}
	return ev;
}

static struct tls13_client client;	/* 21 KiB: not on the stack */

static const char *handshake_with(int quirks, size_t step)
{
	struct srv s;
	enum tls13_event ev;

	client_start(&client, &s);
	srv_answer(&s, client.out, client.out_len, quirks);
	CHECK(s.binder_ok);
	ev = feed_all(&client, s.out, s.out_len, step);
	if (ev == TLS13_ERROR)
		return client.err;
	CHECK_EQ(ev, TLS13_HANDSHAKE_DONE);
	CHECK(srv_client_finished(&s, client.out, client.out_len));
	return NULL;
}

static void test_client_handshake(void)
{
	static const size_t steps[] = { 1, 3, 5, 6, 100, 100000 };
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK(handshake_with(SRV_PLAIN, steps[i]) == NULL);
		CHECK(handshake_with(SRV_CCS | SRV_SPLIT | SRV_PADDING,
				     steps[i]) == NULL);
	}
	err = handshake_with(SRV_CERTIFICATE, 1000);
	CHECK(err && strstr(err, "Certificate: not allowed"));
	err = handshake_with(SRV_BAD_FINISHED, 1000);
	CHECK(err && strstr(err, "Finished does not verify"));
	err = handshake_with(SRV_HRR, 1000);
	CHECK(err && strstr(err, "HelloRetryRequest"));
	err = handshake_with(SRV_SH_TRAILER, 1000);
	CHECK(err && strstr(err, "after ServerHello in the same record"));
	CHECK_EQ(client.state, TLS13_FAILED);
	CHECK_EQ(tls13_client_want(&client), 0);
}

/*
 * RFC 8446 5.1: no other record between the fragments of a handshake
 * message. The server's Finished is resealed in two records with a
 * ChangeCipherSpec between them.
 */
static void test_client_interleaved(void)
{
	struct srv s;
	struct tls13_aead a;
	uint8_t fin[TLS13_MAX_RECORD], wire[400], type;
	size_t first, last, n, w = 0;

	client_start(&client, &s);
	srv_answer(&s, client.out, client.out_len, SRV_SPLIT);
	/* records: ServerHello, EncryptedExtensions, Finished */
	first = 5 + get_be16(s.out + 3);
	first += 5 + get_be16(s.out + first + 3);
	last = s.out_len - first;
	a = s.tx;
	a.seq--;
	memcpy(fin, s.out + first, last);
	CHECK(tls13_record_open(&a, fin, last, &type, &n) == NULL);
	CHECK_EQ(n, 36);
	CHECK_EQ(fin[5], TLS13_HS_FINISHED);
	a.seq--;
	memcpy(wire, s.out, first);
	w = first;
	w += tls13_record_seal(&a, TLS13_CT_HANDSHAKE, fin + 5, 10, wire + w);
	memcpy(wire + w, "\x14\x03\x03\x00\x01\x01", 6);
	w += 6;
	w += tls13_record_seal(&a, TLS13_CT_HANDSHAKE, fin + 15, 26, wire + w);
	CHECK_EQ(feed_all(&client, wire, w, 1000), TLS13_ERROR);
	CHECK_STR(client.err, "ChangeCipherSpec inside a split Finished");

	/* the same two fragments without it complete the handshake */
	client_start(&client, &s);
	srv_answer(&s, client.out, client.out_len, SRV_SPLIT);
	a.seq = 1;
	memcpy(wire, s.out, first);
	w = first;
	w += tls13_record_seal(&a, TLS13_CT_HANDSHAKE, fin + 5, 10, wire + w);
	w += tls13_record_seal(&a, TLS13_CT_HANDSHAKE, fin + 15, 26, wire + w);
	CHECK_EQ(feed_all(&client, wire, w, 1000), TLS13_HANDSHAKE_DONE);
}

static void test_client_config(void)
{
	char name[300];
	struct tls13_config cfg = {
		.identity = (const uint8_t *)name,
		.identity_len = 256,
		.key = test_psk,
		.key_len = sizeof(test_psk),
		.random = test_random,
		.x25519_priv = test_priv,
	};

	memset(name, 'a', sizeof(name));
	name[sizeof(name) - 1] = 0;
	CHECK(tls13_client_start(&client, &cfg) < 0);
	CHECK_STR(client.err, "PSK identity of 256 bytes (1 to 255 allowed)");
	cfg.identity_len = 255;
	cfg.server_name = name;
	CHECK(tls13_client_start(&client, &cfg) < 0);
	CHECK_STR(client.err, "server name of 299 bytes (1 to 255 allowed)");
	cfg.server_name = NULL;
	cfg.key_len = 65;
	CHECK(tls13_client_start(&client, &cfg) < 0);
	CHECK_STR(client.err, "PSK of 65 bytes (1 to 64 allowed)");
	/* the longest identity and name fit the output buffer */
	cfg.key_len = 32;
	name[255] = 0;
	cfg.server_name = name;
	CHECK(tls13_client_start(&client, &cfg) == 0);
	CHECK(client.out_len <= sizeof(client.out));
}

static void test_client_wrong_psk(void)
{
	struct srv s;

	client_start(&client, &s);
	s.psk[0] ^= 1;
	srv_answer(&s, client.out, client.out_len, SRV_PLAIN);
	CHECK(!s.binder_ok);
	CHECK_EQ(feed_all(&client, s.out, s.out_len, 1000), TLS13_ERROR);
	CHECK(strstr(client.err, "wrong PSK"));
}

static void test_client_alerts(void)
{
	struct srv s;

	/* a plaintext alert where the ServerHello should be */
	client_start(&client, &s);
	CHECK_EQ(feed_all(&client, (const uint8_t *)"\x15\x03\x03\x00\x02\x02\x73",
			  7, 7), TLS13_ERROR);
	CHECK_STR(client.err, "server sent alert unknown_psk_identity (115)");
	/* an NBD reply instead of TLS */
	client_start(&client, &s);
	CHECK_EQ(feed_all(&client, (const uint8_t *)"\x00\x03\xe8\x89\x04\x55",
			  6, 6), TLS13_ERROR);
	CHECK(strstr(client.err, "not a TLS record"));
	/* a record longer than TLS allows */
	client_start(&client, &s);
	CHECK_EQ(feed_all(&client, (const uint8_t *)"\x16\x03\x03\x40\x01", 5, 5),
		 TLS13_ERROR);
	CHECK(strstr(client.err, "16385 bytes"));
}

/*
 * Whether len bytes of secret lie in the 32 KiB of dead stack below the
 * caller, where the client's calls into BearSSL just returned from.
 */
__attribute__((noinline, no_sanitize_address))
static int dead_stack_holds(const uint8_t *secret, size_t len)
{
	const volatile uint8_t *p;
	uintptr_t sp;
	size_t i, j;

	__asm__ volatile ("movq %%rsp, %0" : "=r"(sp));
	p = (const volatile uint8_t *)(sp - 32768);
	for (i = 0; i + len <= 32768 - 256; i++) {
		for (j = 0; j < len && p[i + j] == secret[j]; j++)
			;
		if (j == len)
			return 1;
	}
	return 0;
}

/* the test's own zeroing, independent of the client's */
__attribute__((noinline)) static void forget_stack(void)
{
	volatile uint8_t b[32768];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = 0;
}

/* no copy of a secret stays on the stack once the handshake returns */
static void test_client_stack_scrubbed(void)
{
	struct srv s;

	client_start(&client, &s);
	srv_answer(&s, client.out, client.out_len, SRV_PLAIN);
	forget_stack();		/* what the scripted server left */
	CHECK_EQ(feed_all(&client, s.out, s.out_len, 100000),
		 TLS13_HANDSHAKE_DONE);
	CHECK(!dead_stack_holds(s.c_ap, 32));
	CHECK(!dead_stack_holds(s.s_ap, 32));
	CHECK(!dead_stack_holds(s.c_hs, 32));
	CHECK(!dead_stack_holds(s.s_hs, 32));
	CHECK(!dead_stack_holds(client.tx.key, 32));
	CHECK(!dead_stack_holds(client.rx.key, 32));
	CHECK(!dead_stack_holds(s.ks.handshake, 32));
	CHECK(!dead_stack_holds(s.ks.master, 32));
}

/* after the handshake: data both ways, a ticket skipped, kTLS numbers */
static void test_client_application(void)
{
	struct tls12_crypto_info_chacha20_poly1305 tx, rx;
	struct srv s;
	uint8_t rec[128], type;
	size_t n, used;

	CHECK(handshake_with(SRV_PLAIN, 7) == NULL);
	/* rebuild the same server state for the application phase */
	client_start(&client, &s);
	srv_answer(&s, client.out, client.out_len, SRV_PLAIN);
	/* bytes after the server's Finished stay with the caller (kTLS) */
	memcpy(s.out + s.out_len, "\x17\x03\x03", 3);
	CHECK_EQ(tls13_client_feed(&client, s.out, s.out_len + 3, &used),
		 TLS13_HANDSHAKE_DONE);
	CHECK_EQ(used, s.out_len);
	CHECK(srv_client_finished(&s, client.out, client.out_len));

	s.out_len = 0;
	srv_sealed(&s, TLS13_CT_HANDSHAKE,
		   (const uint8_t *)"\x04\x00\x00\x05\x00\x00\x00\x00\x00", 9, 0);
	srv_sealed(&s, TLS13_CT_APPLICATION_DATA, (const uint8_t *)"hello", 5, 0);
	CHECK_EQ(tls13_client_feed(&client, s.out, s.out_len, &used),
		 TLS13_APP_DATA);
	CHECK_EQ(used, s.out_len);
	CHECK_EQ(client.app_len, 5);
	CHECK(client.app && !memcmp(client.app, "hello", 5));

	n = tls13_client_seal(&client, (const uint8_t *)"world!", 6, rec);
	CHECK_EQ(n, 6 + TLS13_SEAL_OVERHEAD);
	CHECK(tls13_record_open(&s.rx, rec, n, &type, &n) == NULL);
	CHECK_EQ(type, TLS13_CT_APPLICATION_DATA);
	CHECK_MEM(rec + 5, "world!", 6);

	CHECK(tls13_client_ktls(&client, &tx, &rx) == 0);
	CHECK_EQ(tx.info.version, TLS_1_3_VERSION);
	CHECK_EQ(tx.info.cipher_type, TLS_CIPHER_CHACHA20_POLY1305);
	CHECK_MEM(tx.key, s.rx.key, 32);
	CHECK_MEM(tx.iv, s.rx.iv, 12);
	CHECK_MEM(tx.rec_seq, "\0\0\0\0\0\0\0\1", 8);
	CHECK_MEM(rx.key, s.tx.key, 32);
	CHECK_MEM(rx.iv, s.tx.iv, 12);
	CHECK_MEM(rx.rec_seq, "\0\0\0\0\0\0\0\2", 8);

	/* KeyUpdate cannot be followed by the kernel: refused */
	s.out_len = 0;
	srv_sealed(&s, TLS13_CT_HANDSHAKE,
		   (const uint8_t *)"\x18\x00\x00\x01\x00", 5, 0);
	CHECK_EQ(tls13_client_feed(&client, s.out, s.out_len, &used),
		 TLS13_ERROR);
	CHECK(strstr(client.err, "KeyUpdate"));
	tls13_client_wipe(&client);
	CHECK_EQ(client.tx.key[0] | client.rx.key[5] | client.rx.iv[3], 0);
}

/*
 * The stack protector's canary (%fs:0x28, read by Debian's BearSSL
 * objects) is this exec's AT_RANDOM with its low byte zeroed: glibc's
 * rule, and client/tls/klibc.c's under klcc, not a constant anyone knows.
 */
static void test_canary(void)
{
	const uint8_t *r = (const uint8_t *)getauxval(AT_RANDOM);
	uint64_t v, expect;

	__asm__ volatile ("movq %%fs:0x28, %0" : "=r"(v));
	CHECK(r != NULL);
	if (!r)
		return;
	memcpy(&expect, r, sizeof(expect));
	expect &= ~(uint64_t)0xff;
	CHECK_EQ(v, expect);
	CHECK(v != 0x2f8e61b4c7d35a90ULL);
}

/*
 * The _FORTIFY_SOURCE entry points BearSSL's objects call (klibc.c's under
 * klcc, glibc's otherwise) copy within bounds and end the process when
 * asked for more than the destination holds: the child must not live on.
 */
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memset_chk(void *d, int c, size_t n, size_t dlen);

/* called through pointers: the compiler folds direct calls as builtins */
static void *(*volatile memcpy_chk)(void *, const void *, size_t, size_t) =
	__memcpy_chk;
static void *(*volatile memmove_chk)(void *, const void *, size_t, size_t) =
	__memmove_chk;
static void *(*volatile memset_chk)(void *, int, size_t, size_t) =
	__memset_chk;

static int chk_survives(int which)
{
	uint8_t dst[16], src[16] = { 1 };
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_DUMPABLE, 0);	/* no core file */
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		/* dst really holds 16 bytes: only the check can stop this */
		if (which == 0)
			memcpy_chk(dst, src, 16, 8);
		else if (which == 1)
			memmove_chk(dst, src, 16, 15);
		else
			memset_chk(dst, 0, 9, 8);
		_exit(dst[0] == 1 || which == 2 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_fortify_chk(void)
{
	uint8_t dst[16], src[16] = { 5, 6 };
	int i;

	CHECK(memcpy_chk(dst, src, 16, 16) == dst);
	CHECK_MEM(dst, src, 16);
	CHECK(memmove_chk(dst + 1, dst, 8, 15) == dst + 1);
	CHECK_EQ(dst[2], 6);
	CHECK(memset_chk(dst, 0, 16, 16) == dst);
	CHECK_EQ(dst[15] | dst[0], 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(chk_survives(i), 0);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	/* before BearSSL's first call when built with klcc */
	tls13_klibc_init();
	RUN(test_canary);
	RUN(test_fortify_chk);
	RUN(test_x25519);
	RUN(test_schedule_section3);
	RUN(test_schedule_section4);
	RUN(test_expand_limits);
	RUN(test_server_hello);
	RUN(test_encrypted_extensions);
	RUN(test_records);
	RUN(test_record_inner_limit);
	RUN(test_client_handshake);
	RUN(test_client_interleaved);
	RUN(test_client_config);
	RUN(test_client_wrong_psk);
	RUN(test_client_alerts);
	RUN(test_client_stack_scrubbed);
	RUN(test_client_application);
	return unit_done("test-client-tls13");
}
