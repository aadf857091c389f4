// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer over what a TLS 1.3 server sends our client (client/tls):
 * ServerHello, ChangeCipherSpec, protected handshake messages, alerts,
 * tickets, application data. The client starts with fixed keys, so the
 * harness can play the server: it seals each item of the input with the
 * key the client will open it with (a copy of the client's receive
 * state), and the fuzzer reaches the parsers behind the encryption.
 *
 * Input: one flags byte, then items: type, u16 length, payload.
 *   flags bit 0: a good server flight first (the scripted server of
 *                tests/unit/tls13-test-server.h), items after it
 *   flags bits 1-3: how many bytes per feed call
 *   item type 0xff: raw bytes, no record framing; other types are
 *   record content types, sealed once the client has keys
 *
 * Build with -DFUZZ_WRITE_SEEDS for a main() that writes the seeds into
 * the directory given as its argument.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tls/tls13.h"
#include "tls13-test-server.h"

static const uint8_t fuzz_random[32] = { 1 };
static const uint8_t fuzz_priv[32] = { 2 };
static const uint8_t fuzz_psk[32] = { 3 };
static const size_t chunks[8] = { 1, 2, 5, 7, 64, 300, 4096, 100000 };

static struct tls13_client c;
static struct srv s;
static uint8_t wire[TLS13_MAX_RECORD + 64];

static void start_once(void)
{
	struct tls13_config cfg = {
		.identity = (const uint8_t *)"fuzz",
		.identity_len = 4,
		.key = fuzz_psk,
		.key_len = sizeof(fuzz_psk),
		.server_name = "server",
		.random = fuzz_random,
		.x25519_priv = fuzz_priv,
	};

	tls13_client_start(&c, &cfg);
	memset(&s, 0, sizeof(s));
	memcpy(s.psk, fuzz_psk, sizeof(fuzz_psk));
	memset(s.priv, 0x77, sizeof(s.priv));
	srv_answer(&s, c.out, c.out_len, SRV_PLAIN);
}

/* the client's first flight and the server's answer never change: made
 * once (three X25519 operations) and copied for each input */
static void start(void)
{
	static struct tls13_client c0;
	static struct srv s0;
	static int ready;

	if (!ready) {
		start_once();
		c0 = c;
		s0 = s;
		ready = 1;
	}
	c = c0;
	s = s0;
}

/* 0: go on; -1: the client failed */
static int feed(const uint8_t *p, size_t len, size_t chunk)
{
	enum tls13_event ev;
	size_t used, n;

	while (len > 0) {
		n = len < chunk ? len : chunk;
		ev = tls13_client_feed(&c, p, n, &used);
		if (ev == TLS13_ERROR)
			return -1;
		/* the client never takes more than one record needs */
		if (used > n)
			__builtin_trap();
		p += used, len -= used;
	}
	return 0;
}

/* a record of type around payload, sealed if the client has keys */
static size_t frame(uint8_t type, const uint8_t *p, size_t len)
{
	struct tls13_aead rx = c.rx;

	if (type == 0xff) {
		memcpy(wire, p, len);
		return len;
	}
	if (c.state == TLS13_WAIT_SERVER_HELLO ||
	    type == TLS13_CT_CHANGE_CIPHER_SPEC) {
		wire[0] = type;
		put_be16(wire + 1, 0x0303);
		put_be16(wire + 3, (uint16_t)len);
		memcpy(wire + 5, p, len);
		return len + 5;
	}
	if (len > TLS13_MAX_PLAINTEXT)
		len = TLS13_MAX_PLAINTEXT;
	return tls13_record_seal(&rx, type, p, len, wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, len;
	uint8_t flags, type;

	if (size < 1)
		return 0;
	flags = data[0];
	chunk = chunks[(flags >> 1) & 7];
	data++, size--;
	start();
	/* the good flight must pass, and the client's Finished verify */
	if ((flags & 1) && (feed(s.out, s.out_len, chunk) < 0 ||
			    !srv_client_finished(&s, c.out, c.out_len)))
		__builtin_trap();
	while (size >= 3) {
		type = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += 3, size -= 3;
		if (len > size)
			len = size;
		if (feed(wire, frame(type, data, len), chunk) < 0)
			break;
		data += len, size -= len;
	}
	tls13_client_wipe(&c);
	return 0;
}

#ifdef FUZZ_WRITE_SEEDS
static void seed(const char *dir, const char *name, const uint8_t *p,
		 size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len)
		perror(path);
	if (f)
		fclose(f);
}

static size_t item(uint8_t *b, uint8_t type, const void *p, size_t len)
{
	b[0] = type;
	put_be16(b + 1, (uint16_t)len);
	memcpy(b + 3, p, len);
	return 3 + len;
}

int main(int argc, char **argv)
{
	static uint8_t b[4096];
	size_t n;

	if (argc != 2)
		return 2;
	start();
	/* the good flight as raw bytes, fed 5 at a time */
	b[0] = 2 << 1;
	n = 1 + item(b + 1, 0xff, s.out, s.out_len);
	seed(argv[1], "good-flight-raw", b, n);
	/* after a good flight: a ticket, data, an alert */
	b[0] = 1;
	n = 1;
	n += item(b + n, TLS13_CT_HANDSHAKE,
		  "\x04\x00\x00\x0d\x00\x00\x0e\x10\x00\x00\x00\x01\x00\x00\x01\x00\x00", 17);
	n += item(b + n, TLS13_CT_APPLICATION_DATA, "\x00\x03\xe8\x89", 4);
	n += item(b + n, TLS13_CT_HANDSHAKE, "\x18\x00\x00\x01\x00", 5);
	seed(argv[1], "after-handshake", b, n);
	/* ServerHello, CCS, then EncryptedExtensions and a Certificate */
	b[0] = 6 << 1;
	n = 1;
	n += item(b + n, TLS13_CT_HANDSHAKE, s.out + 5, 96);
	n += item(b + n, TLS13_CT_CHANGE_CIPHER_SPEC, "\x01", 1);
	n += item(b + n, TLS13_CT_HANDSHAKE,
		  "\x08\x00\x00\x0a\x00\x08\x00\x0a\x00\x04\x00\x02\x00\x1d"
		  "\x0b\x00\x00\x04\x00\x00\x00\x00", 22);
	n += item(b + n, TLS13_CT_ALERT, "\x02\x28", 2);
	seed(argv[1], "encrypted-extensions", b, n);
	return 0;
}
#endif
