/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DHCPv4 messages (RFC 2131, options RFC 2132) for nbdroot-dhcp4: the
 * client's DISCOVER and REQUEST built, a server's OFFER, ACK or NAK read.
 * Pure code over byte buffers, no I/O: the tests and the fuzzer call it
 * without a network. Addresses are in network byte order throughout.
 */
#ifndef NBDROOT_DHCP4_PACKET_H
#define NBDROOT_DHCP4_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define DHCP_DISCOVER	1	/* option 53's values */
#define DHCP_OFFER	2
#define DHCP_REQUEST	3
#define DHCP_ACK	5
#define DHCP_NAK	6

#define DHCP_FIXED	236	/* the BOOTP header, before the magic cookie */
#define DHCP_MSG_MAX	1500	/* what we send and read at most */
#define DHCP_MAX_ROUTERS 8
#define DHCP_MAX_DNS	8
#define DHCP_TEXT_MAX	255	/* a string option's bytes */
#define DHCP_SEARCH_MAX	1023	/* the search list written out */

/* What the client is and asks for. */
struct dhcp_ask {
	int type;		/* DHCP_DISCOVER or DHCP_REQUEST */
	uint32_t xid;
	unsigned char mac[6];
	unsigned int secs;	/* since the first DISCOVER */
	uint32_t want;		/* REQUEST: the offered address (option 50) */
	uint32_t server;	/* REQUEST: the offer's server (option 54) */
};

/* A server's answer, its strings NUL-terminated (a NUL inside one ends
 * it). has_* say which optional fields it held. */
struct dhcp_reply {
	int type;
	uint32_t yiaddr, siaddr, server;
	uint32_t mask, bcast, lease;
	int has_mask, has_bcast, has_lease;
	uint32_t routers[DHCP_MAX_ROUTERS], dns[DHCP_MAX_DNS];
	int nrouters, ndns;
	char hostname[DHCP_TEXT_MAX + 1], domain[DHCP_TEXT_MAX + 1];
	char rootpath[DHCP_TEXT_MAX + 1], boot_file[DHCP_TEXT_MAX + 1];
	char search[DHCP_SEARCH_MAX + 1];
	/* a domain search list (119) that could not be read, left out
	 * rather than refusing the lease (servers that send it as text
	 * are common): why, until the next dhcp_parse; else NULL */
	const char *search_dropped;
};

/* The message for ask into buf (at least DHCP_MSG_MAX bytes): its length. */
size_t dhcp_build(unsigned char *buf, const struct dhcp_ask *ask);

/*
 * The client's messages go and the server's come on a packet socket, as
 * IPv4 datagrams (before the link has an address the kernel's IP layer
 * would drop a reply: its source is not routable yet, or strict reverse
 * path filtering refuses it). DHCP_IPUDP is the headers' length.
 */
#define DHCP_IPUDP	28

/* IPv4 and UDP headers from 0.0.0.0:68 to 255.255.255.255:67, checksums
 * set, into buf for the len-byte message at buf + DHCP_IPUDP: the
 * datagram's length. */
size_t dhcp_frame(unsigned char *buf, size_t len);

/* The DHCP message in an IPv4 datagram of len bytes: 0 with *msg and
 * *msg_len set when it is an unfragmented UDP datagram to port 68 whose
 * IP header is whole and checked, -1 for anything else (not for us). */
int dhcp_unframe(const unsigned char *pkt, size_t len,
		 const unsigned char **msg, size_t *msg_len);

/*
 * Reads len bytes of a server's message meant for xid and mac into r.
 * NULL when it is one (an OFFER, ACK or NAK with its server identifier;
 * an OFFER or ACK with an address), else why not, for the log: a
 * message for another client or transaction, a malformed one (an option
 * that runs past its area, a field of the wrong length), an unknown type.
 */
const char *dhcp_parse(const unsigned char *msg, size_t len, uint32_t xid,
		       const unsigned char mac[6], struct dhcp_reply *r);

#endif
