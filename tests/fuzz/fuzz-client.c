// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer over nbd-client's negotiation parser: the input is everything
 * a server says, fed through a socketpair before the client reads it. The
 * first byte picks the path: GO (with EXPORT_NAME fallback), EXPORT_NAME
 * only, or LIST.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nbd-client.h"

#define MAX_INPUT (64 << 10)	/* fits the socket buffer: no reader needed */

static void ignore_export(const char *name, const char *desc)
{
	(void)name;
	(void)desc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct export_info info;
	int sv[2], sndbuf = 4 * MAX_INPUT;
	uint8_t mode;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	mode = data[0] % 3;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1))
		goto out;
	shutdown(sv[1], SHUT_WR);
	client_timeout = 2;
	if (mode == 2)
		list_exports(sv[0], "fuzz", NULL, ignore_export);
	else
		negotiate_export(sv[0], "fuzz", "export", mode, NULL, &info);
out:
	close(sv[0]);
	close(sv[1]);
	return 0;
}
