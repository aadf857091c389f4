// SPDX-License-Identifier: GPL-2.0
/*
 * The PSK file of -tls-psk, in psktool's format (GnuTLS, and what nbdkit's
 * --tls-psk and qemu's tls-creds-psk read): one "identity:hexkey" line per
 * key. Every line is checked, the chosen one is kept. Loaded once, before
 * the daemon locks its memory: reconnections use the copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "nbd-client.h"

/* a lab's file holds one key per machine: room for a few thousand */
#define PSK_FILE_MAX	(256u << 10)

/* "identity:hexkey" of len bytes: into psk, or -1 naming what is wrong. */
static int parse_line(const char *path, int line, const char *p, size_t len,
		      struct tls_psk *psk)
{
	const char *colon = memchr(p, ':', len), *hex;
	size_t id_len, hex_len, i;

	if (!colon)
		return client_error("%s:%d: no ':' between identity and key",
				    path, line);
	id_len = (size_t)(colon - p);
	hex = colon + 1;
	hex_len = len - id_len - 1;
	if (id_len == 0 || id_len > TLS_PSK_MAX_IDENTITY)
		return client_error("%s:%d: identity of %zu bytes (1 to %d allowed)",
				    path, line, id_len, TLS_PSK_MAX_IDENTITY);
	if (hex_len == 0 || hex_len % 2 || hex_len / 2 > TLS_PSK_MAX_KEY)
		return client_error("%s:%d: key of %zu hex digits (an even number, 2 to %d)",
				    path, line, hex_len, 2 * TLS_PSK_MAX_KEY);
	for (i = 0; i < hex_len; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return client_error("%s:%d: key is not hexadecimal (at digit %zu)",
					    path, line, i + 1 + (hi >= 0));
		psk->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(psk->identity, p, id_len);
	psk->identity[id_len] = '\0';
	psk->identity_len = id_len;
	psk->key_len = hex_len / 2;
	return 0;
}

/*
 * Walks the lines; keeps the one for identity (NULL: the file must hold
 * exactly one). Returns the number of keys in the file, or -1.
 */
static int pick_key(const char *path, const char *buf, size_t rem,
		    const char *identity, struct tls_psk *psk)
{
	struct tls_psk cur;
	const char *p = buf, *nl;
	int line = 0, count = 0, found = 0;
	size_t len;

	while (rem) {
		nl = memchr(p, '\n', rem);
		len = nl ? (size_t)(nl - p) : rem;
		line++;
		if (len && p[len - 1] == '\r')
			len--;
		if (len && parse_line(path, line, p, len, &cur) < 0)
			return -1;
		if (len && (!identity || strcmp(identity, cur.identity) == 0) &&
		    !found) {
			*psk = cur;
			found = 1;
		}
		count += len != 0;
		len = nl ? (size_t)(nl - p) + 1 : rem;
		p += len, rem -= len;
	}
	memset(&cur, 0, sizeof(cur));
	if (!found)
		return identity ?
			client_error("%s has no key for identity \"%s\"", path,
				     identity) :
			client_error("%s holds no key", path);
	return count;
}

/*
 * The file is mapped, not copied: the -persist daemon locks all of its
 * memory, and a buffer for the largest file would stay locked with it.
 */
int tls_psk_load(const char *path, const char *identity, struct tls_psk *psk)
{
	struct stat st;
	const char *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), count;

	if (fd < 0 || fstat(fd, &st) < 0) {
		count = errno;
		if (fd >= 0)
			close(fd);
		return client_error("-tls-psk: %s: %s", path, strerror(count));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 ||
	    st.st_size > PSK_FILE_MAX) {
		close(fd);
		return client_error("-tls-psk: %s: not a key file of 1 to %u bytes (%lld)",
				    path, PSK_FILE_MAX,
				    (long long)st.st_size);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return client_error("-tls-psk: %s: mmap: %s", path,
				    strerror(errno));
	if (memchr(map, '\0', (size_t)st.st_size))
		count = client_error("-tls-psk: %s holds a NUL byte: not a psktool file",
				     path);
	else
		count = pick_key(path, map, (size_t)st.st_size, identity, psk);
	munmap((void *)(uintptr_t)map, (size_t)st.st_size);
	if (count > 1 && !identity) {
		memset(psk, 0, sizeof(*psk));
		return client_error("%s holds %d keys: choose one with -tls-identity NAME",
				    path, count);
	}
	return count < 0 ? -1 : 0;
}
