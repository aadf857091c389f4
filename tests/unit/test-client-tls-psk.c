// unit: client
/*
 * tls-psk.c, the -tls-psk file (psktool's "identity:hexkey" lines): the
 * key bytes and identity picked, CRLF and blank lines, and every refusal
 * with its file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbd-client.h"
#include "unit.h"

static char path[] = "/tmp/nbdroot-psk-XXXXXX";

static int load(const char *text, size_t len, const char *identity,
		struct tls_psk *psk)
{
	FILE *f = fopen(path, "w");

	fwrite(text, 1, len, f);
	fclose(f);
	client_error("%s", "");
	memset(psk, 0xaa, sizeof(*psk));
	return tls_psk_load(path, identity, psk);
}

#define LOAD(text, identity, psk) load(text, sizeof(text) - 1, identity, psk)

static void check_refused(const char *text, size_t len, const char *identity,
			  const char *want, int line)
{
	struct tls_psk psk;
	char full[200];

	snprintf(full, sizeof(full), want, path);
	unit_checks++;
	if (load(text, len, identity, &psk) != -1 ||
	    strcmp(client_last_error(), full) != 0) {
		unit_failures++;
		fprintf(stderr, "%s:%d: wanted \"%s\", got \"%s\"\n", __FILE__,
			line, full, client_last_error());
	}
}

#define REFUSED(text, identity, want) \
	check_refused(text, sizeof(text) - 1, identity, want, __LINE__)

static void test_keys(void)
{
	static const uint8_t k1[] = { 0x00, 0x11, 0xab, 0xcd };
	static const uint8_t k2[] = { 0xfe, 0xdc };
	struct tls_psk psk;

	CHECK_EQ(LOAD("lab-17:0011ABcd\n", NULL, &psk), 0);
	CHECK_STR(psk.identity, "lab-17");
	CHECK_EQ(psk.identity_len, 6);
	CHECK_EQ(psk.key_len, 4);
	CHECK_MEM(psk.key, k1, 4);
	/* CRLF, blank lines, no final newline; the identity chooses */
	CHECK_EQ(LOAD("a:0011abcd\r\n\nb:fedc", "b", &psk), 0);
	CHECK_STR(psk.identity, "b");
	CHECK_EQ(psk.key_len, 2);
	CHECK_MEM(psk.key, k2, 2);
	/* the first of two lines with the same identity */
	CHECK_EQ(LOAD("b:0011abcd\nb:fedc\n", "b", &psk), 0);
	CHECK_EQ(psk.key_len, 4);
}

static void test_refusals(void)
{
	REFUSED("lab-17 0011\n", NULL, "%s:1: no ':' between identity and key");
	REFUSED("a:0011\nb:0g11\n", "a", "%s:2: key is not hexadecimal (at digit 2)");
	REFUSED("a:001\n", NULL, "%s:1: key of 3 hex digits (an even number, 2 to 128)");
	REFUSED("a:\n", NULL, "%s:1: key of 0 hex digits (an even number, 2 to 128)");
	REFUSED(":0011\n", NULL, "%s:1: identity of 0 bytes (1 to 255 allowed)");
	REFUSED("a:0011\nb:0011\n", NULL, "%s holds 2 keys: choose one with -tls-identity NAME");
	REFUSED("a:0011\n", "c", "%s has no key for identity \"c\"");
	REFUSED("\n\n", NULL, "%s holds no key");
	REFUSED("a:00\0" "11\n", NULL, "-tls-psk: %s holds a NUL byte: not a psktool file");
}

/* 65-byte key, 256-byte identity: one past each limit; 64 bytes fit */
static void test_limits(void)
{
	struct tls_psk psk;
	char line[600];
	int n;

	n = snprintf(line, sizeof(line), "a:%0130d\n", 0);
	check_refused(line, (size_t)n, NULL,
		      "%s:1: key of 130 hex digits (an even number, 2 to 128)",
		      __LINE__);
	memset(line, 'i', 256);
	n = 256 + snprintf(line + 256, sizeof(line) - 256, ":0011\n");
	check_refused(line, (size_t)n, NULL,
		      "%s:1: identity of 256 bytes (1 to 255 allowed)", __LINE__);
	n = snprintf(line, sizeof(line), "a:%0128d\n", 0);
	CHECK_EQ(load(line, (size_t)n, NULL, &psk), 0);
	CHECK_EQ(psk.key_len, 64);
}

static void test_missing_file(void)
{
	struct tls_psk psk;

	CHECK_EQ(tls_psk_load("/nonexistent/tls.psk", NULL, &psk), -1);
	CHECK_STR(client_last_error(),
		  "-tls-psk: /nonexistent/tls.psk: No such file or directory");
}

int main(int argc, char **argv)
{
	int fd;

	unit_start(argc, argv);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	RUN(test_keys);
	RUN(test_refusals);
	RUN(test_limits);
	RUN(test_missing_file);
	unlink(path);
	return unit_done("test-client-tls-psk");
}
