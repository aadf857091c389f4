/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers of what nbdroot-dhcp6 receives from the link: DHCPv6 Advertise
 * and Reply messages (RFC 8415) and router advertisements (RFC 4861 4.2,
 * RDNSS and DNSSL of RFC 8106). Pure code without I/O: the tool, its host
 * test (-r, -R) and the fuzzer (tests/fuzz/fuzz-dhcp6.c) share it.
 */
#ifndef NBDROOT_DHCP6_PARSE_H
#define NBDROOT_DHCP6_PARSE_H

#include <stddef.h>

#ifndef INET6_ADDRSTRLEN
#define INET6_ADDRSTRLEN 46	/* klibc's <netinet/in.h> lacks it */
#endif

#define DHCP6_SOLICIT	1	/* RFC 8415 7.3 */
#define DHCP6_ADVERTISE	2
#define DHCP6_REQUEST	3
#define DHCP6_REPLY	7
#define DHCP6_INFO_REQ	11

#define MAX_DNS		3
#define MAX_URL		1024
#define MAX_SEARCH	253
#define MAX_DUID	128	/* RFC 8415 11.1 */
#define MAX_MSG		1500

/*
 * What the client asks with: its DUID and its IA_NA's IAID, 0 when it
 * asks for no address (stateless: the Reply to an Information-Request).
 */
struct dhcp6_client {
	unsigned char duid[MAX_DUID];
	size_t duid_len;
	unsigned long iaid;
	/* the chosen Advertise's server, which a Reply must name; 0 = any */
	unsigned char server_id[MAX_DUID];
	size_t server_id_len;
};

struct dhcp6_info {
	char dns[MAX_DNS][INET6_ADDRSTRLEN];
	int ndns;
	char search[MAX_SEARCH + 1];
	char url[MAX_URL + 1];
	/* IA_NA (RFC 8415 21.4, 21.6): the first address, if any */
	int has_addr;
	unsigned char addr[16];
	unsigned long preferred, valid;
	/* the server's DUID, which a Request names (18.2.2) */
	unsigned char server_id[MAX_DUID];
	size_t server_id_len;
	/* a non-zero status (21.13) of the IA or its address, which then
	 * yields none; 0 = none */
	unsigned int ia_status;
};

struct ra_info {
	int managed, other;	/* the M and O flags (RFC 4861 4.2) */
	/* on-link prefixes (4.6.2, L flag), to size a DHCPv6 address */
	int nprefix;
	unsigned char prefix[4][16];
	unsigned int prefix_len[4];
	char dns[MAX_DNS][INET6_ADDRSTRLEN];	/* RDNSS, RFC 8106 5.1 */
	int ndns;
	char search[MAX_SEARCH + 1];		/* DNSSL, 5.2: the first */
};

void format_ipv6(const unsigned char *a, char *out);
const char *dhcp6_parse(const unsigned char *b, size_t len, unsigned int type,
			unsigned long xid, const struct dhcp6_client *me,
			struct dhcp6_info *info);
const char *ra_parse(const unsigned char *b, size_t len, struct ra_info *ra);
unsigned int ra_prefix_len(const struct ra_info *ra, const unsigned char *a);

#endif
