// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer over nbdroot-dhcp6's parsers (initramfs/dhcp6/parse.c): what
 * DHCPv6 servers and routers on the boot link send. The first byte picks
 * the parser: an Advertise or a Reply to a Request (stateful, IAID 1), a
 * Reply to an Information-Request, or a router advertisement; the rest is
 * the message. What a parser accepts is used as the tool uses it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"

/* Whether a taken search name is a host name: no label begins or ends
 * with '-', none is empty. */
static int host_name(const char *name)
{
	const char *label = name, *end;

	if (!*name)
		return 1;
	for (;;) {
		end = strchr(label, '.');
		if (!end)
			end = label + strlen(label);
		if (end == label || label[0] == '-' || end[-1] == '-')
			return 0;
		if (!*end)
			return 1;
		label = end + 1;
	}
}

static void use_info(const struct dhcp6_info *info, const struct ra_info *ra)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	if (info->has_addr) {
		format_ipv6(info->addr, a);
		if (strlen(a) >= sizeof(a) || ra_prefix_len(ra, info->addr) > 128)
			__builtin_trap();
	}
	for (i = 0; i < info->ndns; i++)
		if (strlen(info->dns[i]) >= INET6_ADDRSTRLEN)
			__builtin_trap();
	if (strlen(info->search) > MAX_SEARCH || !host_name(info->search) ||
	    strlen(info->url) > MAX_URL || info->server_id_len > MAX_DUID)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct dhcp6_client me = { .duid_len = 10 };
	struct dhcp6_info info;
	struct ra_info ra;
	unsigned int type;

	if (size < 1 || size > MAX_MSG + 1)
		return 0;
	memcpy(me.duid, "\0\3\0\1", 4);
	memcpy(me.duid + 4, mac, 6);
	switch (data[0] % 4) {
	case 3:
		if (ra_parse(data + 1, size - 1, &ra))
			return 0;
		for (int i = 0; i < ra.ndns; i++)
			if (strlen(ra.dns[i]) >= INET6_ADDRSTRLEN)
				__builtin_trap();
		if (strlen(ra.search) > MAX_SEARCH || !host_name(ra.search))
			__builtin_trap();
		return 0;
	case 2:
		type = DHCP6_REPLY;
		break;
	default:
		me.iaid = 1;
		type = data[0] % 4 ? DHCP6_REPLY : DHCP6_ADVERTISE;
	}
	/* an advertisement with one on-link prefix, to size the address */
	memset(&ra, 0, sizeof(ra));
	ra.nprefix = 1;
	ra.prefix_len[0] = data[0] % 129;
	if (!dhcp6_parse(data + 1, size - 1, type, 0x123456, &me, &info))
		use_info(&info, &ra);
	return 0;
}
