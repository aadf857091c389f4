// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer entry for nbd-server: each input is everything a client sends
 * on one connection (client flags, options, requests, payloads), served
 * through the same path as the stdin mode (-s) against a small export.
 * Build and run: make fuzz FUZZ_SECONDS=N.
 * Built with FUZZ_TLS (make fuzz-tls): force_tls and a tlspsk file, and an
 * export with tlsidentities, so that the plaintext negotiation before
 * STARTTLS is what is fuzzed; after STARTTLS the bytes go to GnuTLS as a
 * ClientHello.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"

#define IMG_SIZE (256u << 10)

static struct config *cfg;
static int img = -1, devnull = -1, in = -1;

static void add(const char *name, const char *path, bool ro, bool tmp)
{
	struct export *e = config_add_export(cfg, name);

	if (!e || !(e->path = strdup(path)))
		abort();
	e->readonly = ro;
	e->temporary = tmp;
	e->filesize = tmp ? IMG_SIZE : 0;
	e->description = strdup("fuzz export");
}

#ifdef FUZZ_TLS
/*
 * A PSK file in a memfd, read as the server reads it at startup, for
 * [generic] and as the export's own tlspsk.
 */
static void setup_tls(void)
{
	static const char psk[] = "alice:00112233445566778899aabbccddeeff\n";
	struct export *e = config_add_export(cfg, "alice");
	char path[64], why[256];
	int fd = memfd_create("fuzz-psk", 0);

	if (!e || fd < 0 || write(fd, psk, sizeof(psk) - 1) != sizeof(psk) - 1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
	e->path = strdup(path);
	e->tlsids = calloc(1, sizeof(*e->tlsids));
	if (!e->path || !e->tlsids || !(e->tlsids[0] = strdup("alice")))
		abort();
	e->ntlsids = 1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* [generic]'s file, and the same as the export's own (union) */
	if (tls_server_psk(&cfg->tls, path, NULL, why, sizeof(why)) < 0 ||
	    tls_server_psk(&cfg->tls, path, &e->pskids, why, sizeof(why)) < 0 ||
	    tls_server_prio(cfg->tls, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz-server: %s\n", why);
		abort();
	}
	close(fd);
	e->own_psk = true;
	cfg->force_tls = true;
}
#else
static void setup_tls(void)
{
}
#endif

static void setup(void)
{
	char path[64];

	cfg = config_new();
	img = memfd_create("fuzz-img", 0);
	in = memfd_create("fuzz-in", 0);
	devnull = open("/dev/null", O_WRONLY);
	if (!cfg || img < 0 || in < 0 || devnull < 0)
		abort();
	cfg->allowlist = true;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
	add("", path, false, false);
	add("ro", path, true, false);
	add("swap", "/tmp/nbdroot-fuzz-swap", false, true);
	setup_tls();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn c;

	if (!cfg)
		setup();
	/* A fresh, sparse image for every input: runs do not interact. */
	if (ftruncate(img, 0) < 0 || ftruncate(img, IMG_SIZE) < 0 ||
	    ftruncate(in, 0) < 0 || pwrite(in, data, size, 0) != (ssize_t)size ||
	    lseek(in, 0, SEEK_SET) != 0)
		abort();
	conn_init(&c, in, devnull, cfg);
	conn_serve(&c);
	conn_close(&c);
	return 0;
}
