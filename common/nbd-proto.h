/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NBD wire format, as described by the protocol specification
 * (NetworkBlockDevice/nbd doc/proto.md). Shared by client and server; pure
 * definitions and codecs, no I/O. All integers on the wire are big-endian.
 */
#ifndef NBDROOT_NBD_PROTO_H
#define NBDROOT_NBD_PROTO_H

#include <stdint.h>
#include <stddef.h>

#define NBD_DEFAULT_PORT	10809

/* Handshake (proto.md "Newstyle negotiation") */
#define NBD_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define NBD_IHAVEOPT		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define NBD_OLDSTYLE_MAGIC	0x00420281861253ULL
#define NBD_REP_MAGIC		0x0003e889045565a9ULL

#define NBD_FLAG_FIXED_NEWSTYLE	(1u << 0)
#define NBD_FLAG_NO_ZEROES	(1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE NBD_FLAG_FIXED_NEWSTYLE
#define NBD_FLAG_C_NO_ZEROES	NBD_FLAG_NO_ZEROES

/* Options */
#define NBD_OPT_EXPORT_NAME	1
#define NBD_OPT_ABORT		2
#define NBD_OPT_LIST		3
#define NBD_OPT_STARTTLS	5
#define NBD_OPT_INFO		6
#define NBD_OPT_GO		7
#define NBD_OPT_STRUCTURED_REPLY 8
#define NBD_OPT_LIST_META_CONTEXT 9
#define NBD_OPT_SET_META_CONTEXT 10

/* Option reply types; errors have bit 31 set */
#define NBD_REP_ACK		1
#define NBD_REP_SERVER		2
#define NBD_REP_INFO		3
#define NBD_REP_META_CONTEXT	4
#define NBD_REP_FLAG_ERROR	(1u << 31)
#define NBD_REP_ERR_UNSUP	(NBD_REP_FLAG_ERROR | 1)
#define NBD_REP_ERR_POLICY	(NBD_REP_FLAG_ERROR | 2)
#define NBD_REP_ERR_INVALID	(NBD_REP_FLAG_ERROR | 3)
#define NBD_REP_ERR_PLATFORM	(NBD_REP_FLAG_ERROR | 4)
#define NBD_REP_ERR_TLS_REQD	(NBD_REP_FLAG_ERROR | 5)
#define NBD_REP_ERR_UNKNOWN	(NBD_REP_FLAG_ERROR | 6)
#define NBD_REP_ERR_SHUTDOWN	(NBD_REP_FLAG_ERROR | 7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8)
#define NBD_REP_ERR_TOO_BIG	(NBD_REP_FLAG_ERROR | 9)

/* NBD_REP_INFO types */
#define NBD_INFO_EXPORT		0
#define NBD_INFO_NAME		1
#define NBD_INFO_DESCRIPTION	2
#define NBD_INFO_BLOCK_SIZE	3

/* Transmission flags (u16) */
#define NBD_FLAG_HAS_FLAGS	(1u << 0)
#define NBD_FLAG_READ_ONLY	(1u << 1)
#define NBD_FLAG_SEND_FLUSH	(1u << 2)
#define NBD_FLAG_SEND_FUA	(1u << 3)
#define NBD_FLAG_ROTATIONAL	(1u << 4)
#define NBD_FLAG_SEND_TRIM	(1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF	(1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN	(1u << 8)
#define NBD_FLAG_SEND_CACHE	(1u << 10)
#define NBD_FLAG_SEND_FAST_ZERO	(1u << 11)

/* Commands and command flags */
#define NBD_CMD_READ		0
#define NBD_CMD_WRITE		1
#define NBD_CMD_DISC		2
#define NBD_CMD_FLUSH		3
#define NBD_CMD_TRIM		4
#define NBD_CMD_CACHE		5
#define NBD_CMD_WRITE_ZEROES	6
#define NBD_CMD_BLOCK_STATUS	7

#define NBD_CMD_FLAG_FUA	(1u << 0)
#define NBD_CMD_FLAG_NO_HOLE	(1u << 1)
#define NBD_CMD_FLAG_DF		(1u << 2)
#define NBD_CMD_FLAG_REQ_ONE	(1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO	(1u << 4)

/* Error values on the wire (proto.md "Error values") */
#define NBD_EPERM		1
#define NBD_EIO			5
#define NBD_ENOMEM		12
#define NBD_EINVAL		22
#define NBD_ENOSPC		28
#define NBD_EOVERFLOW		75
#define NBD_ENOTSUP		95
#define NBD_ESHUTDOWN		108

/* Transmission magics */
#define NBD_REQUEST_MAGIC_V	0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

/* Structured reply chunks (proto.md "Structured reply chunk message") */
#define NBD_REPLY_FLAG_DONE	(1u << 0)
#define NBD_REPLY_TYPE_NONE	0
#define NBD_REPLY_TYPE_OFFSET_DATA 1
#define NBD_REPLY_TYPE_OFFSET_HOLE 2
#define NBD_REPLY_TYPE_BLOCK_STATUS 5
#define NBD_REPLY_TYPE_ERROR	((1u << 15) | 1)
#define NBD_REPLY_TYPE_ERROR_OFFSET ((1u << 15) | 2)

/* base:allocation extent flags */
#define NBD_STATE_HOLE		(1u << 0)
#define NBD_STATE_ZERO		(1u << 1)

/* Fixed sizes of wire messages, in bytes */
#define NBD_GREETING_SIZE	18	/* NBDMAGIC, IHAVEOPT, u16 flags */
#define NBD_OPT_HDR_SIZE	16	/* IHAVEOPT, u32 option, u32 length */
#define NBD_OPT_REPLY_HDR_SIZE	20	/* magic, u32 option, u32 type, u32 len */
#define NBD_EXPORT_NAME_REPLY_SIZE 10	/* u64 size, u16 flags (+124 zeroes) */
#define NBD_EXPORT_NAME_PAD	124
#define NBD_REQUEST_SIZE	28
#define NBD_SIMPLE_REPLY_SIZE	16
#define NBD_CHUNK_HDR_SIZE	20	/* magic, u16 flags, u16 type, cookie, len */

/* Limits every interoperable peer honours (proto.md "Size constraints") */
#define NBD_MAX_NAME		4096
#define NBD_MAX_PAYLOAD		(32u << 20)

struct nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
};

struct nbd_simple_reply {
	uint32_t error;
	uint64_t cookie;
};

struct nbd_chunk_hdr {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint32_t length;
};

struct nbd_opt_hdr {
	uint32_t option;
	uint32_t length;
};

struct nbd_opt_reply_hdr {
	uint32_t option;
	uint32_t type;
	uint32_t length;
};

void nbd_request_encode(unsigned char *buf, const struct nbd_request *req);
/* Returns 0, or -1 when the magic is wrong. */
int nbd_request_decode(const unsigned char *buf, struct nbd_request *req);

void nbd_simple_reply_encode(unsigned char *buf,
			     const struct nbd_simple_reply *rep);
int nbd_simple_reply_decode(const unsigned char *buf,
			    struct nbd_simple_reply *rep);

void nbd_chunk_hdr_encode(unsigned char *buf, const struct nbd_chunk_hdr *ch);
int nbd_chunk_hdr_decode(const unsigned char *buf, struct nbd_chunk_hdr *ch);

void nbd_opt_hdr_encode(unsigned char *buf, const struct nbd_opt_hdr *opt);
int nbd_opt_hdr_decode(const unsigned char *buf, struct nbd_opt_hdr *opt);

void nbd_opt_reply_hdr_encode(unsigned char *buf,
			      const struct nbd_opt_reply_hdr *rep);
int nbd_opt_reply_hdr_decode(const unsigned char *buf,
			     struct nbd_opt_reply_hdr *rep);

void nbd_greeting_encode(unsigned char *buf, uint16_t handshake_flags);
/* Returns 0, 1 for an oldstyle server, or -1 when it is not NBD. */
int nbd_greeting_decode(const unsigned char *buf, uint16_t *handshake_flags);

/* errno <-> wire error; unknown errno values travel as EINVAL/EIO. */
uint32_t nbd_errno_to_wire(int err);
int nbd_wire_to_errno(uint32_t err);

/* Names for messages: "GO", "ERR_UNKNOWN", ... never NULL. */
const char *nbd_opt_name(uint32_t option);
const char *nbd_rep_name(uint32_t type);
const char *nbd_cmd_name(uint16_t type);

#endif
