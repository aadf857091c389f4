// SPDX-License-Identifier: GPL-2.0
/*
 * Codecs for the fixed-size NBD messages. Buffers are exactly the size the
 * matching NBD_*_SIZE constant names; callers own the I/O.
 */
#include <errno.h>
#include <string.h>

#ifndef ENOTSUP
#define ENOTSUP EOPNOTSUPP	/* klibc names only the kernel spelling */
#endif

#include "byteorder.h"
#include "nbd-proto.h"

void nbd_request_encode(unsigned char *buf, const struct nbd_request *req)
{
	put_be32(buf, NBD_REQUEST_MAGIC_V);
	put_be16(buf + 4, req->flags);
	put_be16(buf + 6, req->type);
	put_be64(buf + 8, req->cookie);
	put_be64(buf + 16, req->offset);
	put_be32(buf + 24, req->length);
}

int nbd_request_decode(const unsigned char *buf, struct nbd_request *req)
{
	if (get_be32(buf) != NBD_REQUEST_MAGIC_V)
		return -1;
	req->flags = get_be16(buf + 4);
	req->type = get_be16(buf + 6);
	req->cookie = get_be64(buf + 8);
	req->offset = get_be64(buf + 16);
	req->length = get_be32(buf + 24);
	return 0;
}

void nbd_simple_reply_encode(unsigned char *buf,
			     const struct nbd_simple_reply *rep)
{
	put_be32(buf, NBD_SIMPLE_REPLY_MAGIC);
	put_be32(buf + 4, rep->error);
	put_be64(buf + 8, rep->cookie);
}

int nbd_simple_reply_decode(const unsigned char *buf,
			    struct nbd_simple_reply *rep)
{
	if (get_be32(buf) != NBD_SIMPLE_REPLY_MAGIC)
		return -1;
	rep->error = get_be32(buf + 4);
	rep->cookie = get_be64(buf + 8);
	return 0;
}

void nbd_chunk_hdr_encode(unsigned char *buf, const struct nbd_chunk_hdr *ch)
{
	put_be32(buf, NBD_STRUCTURED_REPLY_MAGIC);
	put_be16(buf + 4, ch->flags);
	put_be16(buf + 6, ch->type);
	put_be64(buf + 8, ch->cookie);
	put_be32(buf + 16, ch->length);
}

int nbd_chunk_hdr_decode(const unsigned char *buf, struct nbd_chunk_hdr *ch)
{
	if (get_be32(buf) != NBD_STRUCTURED_REPLY_MAGIC)
		return -1;
	ch->flags = get_be16(buf + 4);
	ch->type = get_be16(buf + 6);
	ch->cookie = get_be64(buf + 8);
	ch->length = get_be32(buf + 16);
	return 0;
}

void nbd_opt_hdr_encode(unsigned char *buf, const struct nbd_opt_hdr *opt)
{
	put_be64(buf, NBD_IHAVEOPT);
	put_be32(buf + 8, opt->option);
	put_be32(buf + 12, opt->length);
}

int nbd_opt_hdr_decode(const unsigned char *buf, struct nbd_opt_hdr *opt)
{
	if (get_be64(buf) != NBD_IHAVEOPT)
		return -1;
	opt->option = get_be32(buf + 8);
	opt->length = get_be32(buf + 12);
	return 0;
}

void nbd_opt_reply_hdr_encode(unsigned char *buf,
			      const struct nbd_opt_reply_hdr *rep)
{
	put_be64(buf, NBD_REP_MAGIC);
	put_be32(buf + 8, rep->option);
	put_be32(buf + 12, rep->type);
	put_be32(buf + 16, rep->length);
}

int nbd_opt_reply_hdr_decode(const unsigned char *buf,
			     struct nbd_opt_reply_hdr *rep)
{
	if (get_be64(buf) != NBD_REP_MAGIC)
		return -1;
	rep->option = get_be32(buf + 8);
	rep->type = get_be32(buf + 12);
	rep->length = get_be32(buf + 16);
	return 0;
}

void nbd_greeting_encode(unsigned char *buf, uint16_t handshake_flags)
{
	put_be64(buf, NBD_MAGIC);
	put_be64(buf + 8, NBD_IHAVEOPT);
	put_be16(buf + 16, handshake_flags);
}

int nbd_greeting_decode(const unsigned char *buf, uint16_t *handshake_flags)
{
	if (get_be64(buf) != NBD_MAGIC)
		return -1;
	if (get_be64(buf + 8) == NBD_OLDSTYLE_MAGIC)
		return 1;
	if (get_be64(buf + 8) != NBD_IHAVEOPT)
		return -1;
	*handshake_flags = get_be16(buf + 16);
	return 0;
}

uint32_t nbd_errno_to_wire(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

int nbd_wire_to_errno(uint32_t err)
{
	switch (err) {
	case 0:
		return 0;
	case NBD_EPERM:
		return EPERM;
	case NBD_EIO:
		return EIO;
	case NBD_ENOMEM:
		return ENOMEM;
	case NBD_EINVAL:
		return EINVAL;
	case NBD_ENOSPC:
		return ENOSPC;
	case NBD_EOVERFLOW:
		return EOVERFLOW;
	case NBD_ENOTSUP:
		return ENOTSUP;
	case NBD_ESHUTDOWN:
		return ESHUTDOWN;
	default:
		/* proto.md: unknown errors are treated as EINVAL */
		return EINVAL;
	}
}

const char *nbd_opt_name(uint32_t option)
{
	static const char *const names[] = {
		[NBD_OPT_EXPORT_NAME] = "EXPORT_NAME",
		[NBD_OPT_ABORT] = "ABORT",
		[NBD_OPT_LIST] = "LIST",
		[NBD_OPT_STARTTLS] = "STARTTLS",
		[NBD_OPT_INFO] = "INFO",
		[NBD_OPT_GO] = "GO",
		[NBD_OPT_STRUCTURED_REPLY] = "STRUCTURED_REPLY",
		[NBD_OPT_LIST_META_CONTEXT] = "LIST_META_CONTEXT",
		[NBD_OPT_SET_META_CONTEXT] = "SET_META_CONTEXT",
	};

	if (option < sizeof(names) / sizeof(names[0]) && names[option])
		return names[option];
	return "unknown option";
}

const char *nbd_rep_name(uint32_t type)
{
	static const char *const names[] = {
		"ERR_0", "ERR_UNSUP", "ERR_POLICY", "ERR_INVALID",
		"ERR_PLATFORM", "ERR_TLS_REQD", "ERR_UNKNOWN", "ERR_SHUTDOWN",
		"ERR_BLOCK_SIZE_REQD", "ERR_TOO_BIG",
	};
	uint32_t code = type & ~NBD_REP_FLAG_ERROR;

	switch (type) {
	case NBD_REP_ACK:
		return "ACK";
	case NBD_REP_SERVER:
		return "SERVER";
	case NBD_REP_INFO:
		return "INFO";
	case NBD_REP_META_CONTEXT:
		return "META_CONTEXT";
	}
	if ((type & NBD_REP_FLAG_ERROR) && code > 0 &&
	    code < sizeof(names) / sizeof(names[0]))
		return names[code];
	return "unknown reply";
}

const char *nbd_cmd_name(uint16_t type)
{
	static const char *const names[] = {
		"READ", "WRITE", "DISC", "FLUSH", "TRIM", "CACHE",
		"WRITE_ZEROES", "BLOCK_STATUS",
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "unknown command";
}
