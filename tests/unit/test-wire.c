// unit: common
// SPDX-License-Identifier: GPL-2.0
/*
 * The wire codec in common/: every fixed-size message against bytes
 * written out by hand from proto.md, round trips, wrong magics, and the
 * errno mapping.
 */
#include <errno.h>

#include "byteorder.h"
#include "nbd-proto.h"
#include "unit.h"

static void test_request(void)
{
	static const unsigned char want[NBD_REQUEST_SIZE] = {
		0x25, 0x60, 0x95, 0x13,			/* magic */
		0x00, 0x01,				/* flags: FUA */
		0x00, 0x01,				/* WRITE */
		1, 2, 3, 4, 5, 6, 7, 8,			/* cookie */
		0, 0, 0, 1, 0, 0, 0x02, 0x00,		/* offset */
		0x00, 0x00, 0x10, 0x00,			/* length */
	};
	struct nbd_request rq = {
		.flags = NBD_CMD_FLAG_FUA, .type = NBD_CMD_WRITE,
		.cookie = 0x0102030405060708ULL, .offset = 0x100000200ULL,
		.length = 4096,
	}, back;
	unsigned char buf[NBD_REQUEST_SIZE];

	nbd_request_encode(buf, &rq);
	CHECK_MEM(buf, want, sizeof(want));
	CHECK_EQ(nbd_request_decode(buf, &back), 0);
	CHECK_EQ(back.flags, rq.flags);
	CHECK_EQ(back.type, rq.type);
	CHECK_EQ(back.cookie, rq.cookie);
	CHECK_EQ(back.offset, rq.offset);
	CHECK_EQ(back.length, rq.length);
	/* the pre-2.2 kernels' magic is refused */
	put_be32(buf, 0x12560953);
	CHECK_EQ(nbd_request_decode(buf, &back), -1);
}

static void test_simple_reply(void)
{
	static const unsigned char want[NBD_SIMPLE_REPLY_SIZE] = {
		0x67, 0x44, 0x66, 0x98, 0, 0, 0, 28,
		0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	};
	struct nbd_simple_reply rep = {
		.error = NBD_ENOSPC, .cookie = 0xffeeddccbbaa9988ULL,
	}, back;
	unsigned char buf[NBD_SIMPLE_REPLY_SIZE];

	nbd_simple_reply_encode(buf, &rep);
	CHECK_MEM(buf, want, sizeof(want));
	CHECK_EQ(nbd_simple_reply_decode(buf, &back), 0);
	CHECK_EQ(back.error, NBD_ENOSPC);
	CHECK_EQ(back.cookie, rep.cookie);
	buf[3] ^= 1;
	CHECK_EQ(nbd_simple_reply_decode(buf, &back), -1);
}

static void test_chunk(void)
{
	static const unsigned char want[NBD_CHUNK_HDR_SIZE] = {
		0x66, 0x8e, 0x33, 0xef, 0, 1, 0x80, 0x01,
		0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 6,
	};
	struct nbd_chunk_hdr ch = {
		.flags = NBD_REPLY_FLAG_DONE, .type = NBD_REPLY_TYPE_ERROR,
		.cookie = 9, .length = 6,
	}, back;
	unsigned char buf[NBD_CHUNK_HDR_SIZE];

	nbd_chunk_hdr_encode(buf, &ch);
	CHECK_MEM(buf, want, sizeof(want));
	CHECK_EQ(nbd_chunk_hdr_decode(buf, &back), 0);
	CHECK_EQ(back.flags, ch.flags);
	CHECK_EQ(back.type, ch.type);
	CHECK_EQ(back.cookie, 9);
	CHECK_EQ(back.length, 6);
	buf[0] = 0;
	CHECK_EQ(nbd_chunk_hdr_decode(buf, &back), -1);
}

static void test_options(void)
{
	static const unsigned char want_opt[NBD_OPT_HDR_SIZE] = {
		'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
		0, 0, 0, 7, 0, 0, 0x01, 0x00,
	};
	static const unsigned char want_rep[NBD_OPT_REPLY_HDR_SIZE] = {
		0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9,
		0, 0, 0, 7, 0x80, 0, 0, 6, 0, 0, 0, 0,
	};
	struct nbd_opt_hdr oh = { .option = NBD_OPT_GO, .length = 256 }, ob;
	struct nbd_opt_reply_hdr rh = {
		.option = NBD_OPT_GO, .type = NBD_REP_ERR_UNKNOWN,
	}, rb;
	unsigned char buf[NBD_OPT_REPLY_HDR_SIZE];

	nbd_opt_hdr_encode(buf, &oh);
	CHECK_MEM(buf, want_opt, sizeof(want_opt));
	CHECK_EQ(nbd_opt_hdr_decode(buf, &ob), 0);
	CHECK_EQ(ob.option, NBD_OPT_GO);
	CHECK_EQ(ob.length, 256);
	buf[0] = 'i';
	CHECK_EQ(nbd_opt_hdr_decode(buf, &ob), -1);

	nbd_opt_reply_hdr_encode(buf, &rh);
	CHECK_MEM(buf, want_rep, sizeof(want_rep));
	CHECK_EQ(nbd_opt_reply_hdr_decode(buf, &rb), 0);
	CHECK_EQ(rb.type, NBD_REP_ERR_UNKNOWN);
	CHECK_EQ(rb.length, 0);
	buf[7] = 0;
	CHECK_EQ(nbd_opt_reply_hdr_decode(buf, &rb), -1);
}

static void test_greeting(void)
{
	static const unsigned char want[NBD_GREETING_SIZE] = {
		'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',
		'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0, 3,
	};
	unsigned char buf[NBD_GREETING_SIZE];
	uint16_t flags = 0;

	nbd_greeting_encode(buf, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	CHECK_MEM(buf, want, sizeof(want));
	CHECK_EQ(nbd_greeting_decode(buf, &flags), 0);
	CHECK_EQ(flags, 3);
	put_be64(buf + 8, NBD_OLDSTYLE_MAGIC);
	CHECK_EQ(nbd_greeting_decode(buf, &flags), 1);
	put_be64(buf, 0);
	CHECK_EQ(nbd_greeting_decode(buf, &flags), -1);
}

static void test_errno(void)
{
	static const int errs[] = {
		0, EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ESHUTDOWN,
	};
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		CHECK_EQ(nbd_wire_to_errno(nbd_errno_to_wire(errs[i])),
			 errs[i]);
	CHECK_EQ(nbd_errno_to_wire(EROFS), NBD_EPERM);
	CHECK_EQ(nbd_errno_to_wire(EFBIG), NBD_ENOSPC);
	CHECK_EQ(nbd_errno_to_wire(EBADF), NBD_EIO);
	CHECK_EQ(nbd_wire_to_errno(12345), EINVAL);
}

static void test_names(void)
{
	CHECK_STR(nbd_opt_name(NBD_OPT_GO), "GO");
	CHECK_STR(nbd_opt_name(4), "unknown option");
	CHECK_STR(nbd_opt_name(0xffffffff), "unknown option");
	CHECK_STR(nbd_rep_name(NBD_REP_ERR_TOO_BIG), "ERR_TOO_BIG");
	CHECK_STR(nbd_rep_name(NBD_REP_ACK), "ACK");
	CHECK_STR(nbd_rep_name(NBD_REP_FLAG_ERROR | 77), "unknown reply");
	CHECK_STR(nbd_cmd_name(NBD_CMD_BLOCK_STATUS), "BLOCK_STATUS");
	CHECK_STR(nbd_cmd_name(99), "unknown command");
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_request);
	RUN(test_simple_reply);
	RUN(test_chunk);
	RUN(test_options);
	RUN(test_greeting);
	RUN(test_errno);
	RUN(test_names);
	return unit_done("test-wire");
}
