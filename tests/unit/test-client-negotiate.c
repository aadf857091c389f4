// unit: client
/*
 * The client's negotiation against canned server byte streams. The whole
 * server side is written into a socketpair before negotiate_export() runs
 * (the client's requests fit in the socket buffer), then what the client
 * sent is read back and checked byte by byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "byteorder.h"
#include "nbd-proto.h"
#include "nbd-client.h"
#include "unit.h"

struct bytes {
	unsigned char b[4096];
	size_t n;
};

static void put8(struct bytes *s, const void *p, size_t n)
{
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void p16(struct bytes *s, uint16_t v)
{
	put_be16(s->b + s->n, v);
	s->n += 2;
}

static void p32(struct bytes *s, uint32_t v)
{
	put_be32(s->b + s->n, v);
	s->n += 4;
}

static void p64(struct bytes *s, uint64_t v)
{
	put_be64(s->b + s->n, v);
	s->n += 8;
}

static void greeting(struct bytes *s, uint16_t flags)
{
	p64(s, NBD_MAGIC);
	p64(s, NBD_IHAVEOPT);
	p16(s, flags);
}

static void rep(struct bytes *s, uint32_t opt, uint32_t type, uint32_t len)
{
	p64(s, NBD_REP_MAGIC);
	p32(s, opt);
	p32(s, type);
	p32(s, len);
}

static void info_export(struct bytes *s, uint64_t size, uint16_t flags)
{
	rep(s, NBD_OPT_GO, NBD_REP_INFO, 12);
	p16(s, NBD_INFO_EXPORT);
	p64(s, size);
	p16(s, flags);
}

struct run {
	int rc;
	struct export_info info;
	unsigned char sent[8192];
	size_t sent_len;
	char error[CLIENT_ERRLEN];
};

/* Feeds the canned stream to negotiate_export(); collects what it sent. */
static void run(const struct bytes *server, const char *name, int no_optgo,
		struct run *r)
{
	int sv[2];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		_exit(2);
	}
	if (write(sv[1], server->b, server->n) != (ssize_t)server->n) {
		perror("write");
		_exit(2);
	}
	shutdown(sv[1], SHUT_WR);
	client_error("%s", "");
	r->rc = negotiate_export(sv[0], "srv:10809", name, no_optgo, NULL,
				 &r->info);
	snprintf(r->error, sizeof(r->error), "%s", client_last_error());
	close(sv[0]);
	while ((n = read(sv[1], r->sent + r->sent_len,
			 sizeof(r->sent) - r->sent_len)) > 0)
		r->sent_len += (size_t)n;
	close(sv[1]);
}

#define CHECK_ERROR(r, text) do {					\
	CHECK_EQ((r)->rc, -1);						\
	if (!strstr((r)->error, (text))) {				\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n",	\
			__FILE__, __LINE__, (r)->error, (text));	\
	}								\
} while (0)

static void test_go_success(void)
{
	struct bytes s = { .n = 0 };
	struct run r;
	const unsigned char *p;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	info_export(&s, 1 << 20, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 14);
	p16(&s, NBD_INFO_BLOCK_SIZE);
	p32(&s, 1);
	p32(&s, 4096);
	p32(&s, 32 << 20);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 2 + 8);
	p16(&s, NBD_INFO_NAME);
	put8(&s, "disk@1-2", 8);
	rep(&s, NBD_OPT_GO, NBD_REP_ACK, 0);
	run(&s, "disk", 0, &r);
	CHECK_EQ(r.rc, 0);
	CHECK(strcmp(r.info.canon, "disk@1-2") == 0);
	CHECK_EQ(r.info.size, 1 << 20);
	CHECK_EQ(r.info.flags, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH);
	CHECK_EQ(r.info.min_bs, 1);
	CHECK_EQ(r.info.pref_bs, 4096);
	CHECK_EQ(r.info.max_bs, 32 << 20);
	/* client flags, then GO "disk" asking for BLOCK_SIZE and NAME */
	CHECK_EQ(r.sent_len, 4 + 16 + 4 + 4 + 2 + 2 + 2);
	p = r.sent;
	CHECK_EQ(get_be32(p), NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	CHECK_EQ(get_be64(p + 4), NBD_IHAVEOPT);
	CHECK_EQ(get_be32(p + 12), NBD_OPT_GO);
	CHECK_EQ(get_be32(p + 16), 14);
	CHECK_EQ(get_be32(p + 20), 4);
	CHECK_MEM(p + 24, "disk", 4);
	CHECK_EQ(get_be16(p + 28), 2);
	CHECK_EQ(get_be16(p + 30), NBD_INFO_BLOCK_SIZE);
	CHECK_EQ(get_be16(p + 32), NBD_INFO_NAME);
}

/* A canonical name with a NUL in it names no export: refused. */
static void test_info_name_with_nul(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 2 + 3);
	p16(&s, NBD_INFO_NAME);
	put8(&s, "a\0b", 3);
	run(&s, "a", 0, &r);
	CHECK_ERROR(&r, "sent an NBD_INFO_NAME of 3 bytes that is no export name");
}

static void test_go_unsupported_falls_back(void)
{
	struct bytes s = { .n = 0 };
	unsigned char zeroes[NBD_EXPORT_NAME_PAD] = { 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE);
	rep(&s, NBD_OPT_GO, NBD_REP_ERR_UNSUP, 0);
	p64(&s, 8192);
	p16(&s, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY);
	put8(&s, zeroes, sizeof(zeroes));
	run(&s, "", 0, &r);
	CHECK_EQ(r.rc, 0);
	CHECK_EQ(r.info.size, 8192);
	CHECK_EQ(r.info.flags, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY);
	/* flags without NO_ZEROES, GO (10 bytes of data), EXPORT_NAME "" */
	CHECK_EQ(r.sent_len, 4 + 16 + 10 + 16);
	CHECK_EQ(get_be32(r.sent), NBD_FLAG_C_FIXED_NEWSTYLE);
	CHECK_EQ(get_be32(r.sent + 30 + 8), NBD_OPT_EXPORT_NAME);
	CHECK_EQ(get_be32(r.sent + 30 + 12), 0);
}

static void test_no_optgo_sends_export_name(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	p64(&s, 4096);
	p16(&s, NBD_FLAG_HAS_FLAGS);
	run(&s, "x", 1, &r);
	CHECK_EQ(r.rc, 0);
	CHECK_EQ(r.info.size, 4096);
	CHECK_EQ(r.sent_len, 4 + 16 + 1);
	CHECK_EQ(get_be32(r.sent + 12), NBD_OPT_EXPORT_NAME);
}

static void test_unknown_export(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, 5);
	put8(&s, "nope!", 5);
	run(&s, "x", 0, &r);
	CHECK_ERROR(&r, "server srv:10809 has no export \"x\"");
}

static void test_policy_text_is_sanitised(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_ERR_POLICY, 6);
	put8(&s, "no\033[2J", 6);
	run(&s, "x", 0, &r);
	CHECK_ERROR(&r, "refused export \"x\": no?[2J");
}

static void test_export_name_close_means_unknown(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	run(&s, "gone", 1, &r);
	CHECK_ERROR(&r, "has no export \"gone\" (it closed the connection)");
}

static void test_bad_magic(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	p64(&s, 0x1122334455667788ULL);
	p64(&s, NBD_IHAVEOPT);
	p16(&s, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "is not an NBD server (bad magic 0x1122334455667788)");
}

static void test_bad_second_magic(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	p64(&s, NBD_MAGIC);
	p64(&s, 0x0102030405060708ULL);
	p16(&s, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "is not a newstyle NBD server (bad magic 0x0102030405060708 after NBDMAGIC)");
}

static void test_oldstyle(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	p64(&s, NBD_MAGIC);
	p64(&s, NBD_OLDSTYLE_MAGIC);
	p16(&s, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "oldstyle");
}

static void test_truncated_greeting(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	p64(&s, NBD_MAGIC);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "closed the connection before its greeting");
}

static void test_reply_to_other_option(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_LIST, NBD_REP_ACK, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "replied to option LIST while GO was asked");
}

static void test_bad_reply_magic(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	p64(&s, NBD_MAGIC);
	p32(&s, NBD_OPT_GO);
	p32(&s, NBD_REP_ACK);
	p32(&s, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "option reply with a bad magic 0x4e42444d41474943");
}

static void test_oversized_reply(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 0xffffffffu);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "oversized GO reply (4294967295 bytes)");
}

static void test_info_export_wrong_length(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 10);
	p16(&s, NBD_INFO_EXPORT);
	p64(&s, 4096);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "NBD_INFO_EXPORT of 10 bytes (expected 12)");
}

static void test_ack_without_export(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_ACK, 0);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "acknowledged GO without describing the export");
}

static void test_size_zero(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	info_export(&s, 0, NBD_FLAG_HAS_FLAGS);
	rep(&s, NBD_OPT_GO, NBD_REP_ACK, 0);
	run(&s, "e", 0, &r);
	CHECK_ERROR(&r, "export \"e\" has size 0");
}

static void test_eof_mid_reply(void)
{
	struct bytes s = { .n = 0 };
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_INFO, 12);
	p16(&s, NBD_INFO_EXPORT);
	run(&s, "", 0, &r);
	CHECK_ERROR(&r, "closed the connection during option negotiation");
}

static void test_name_too_long(void)
{
	static char name[NBD_MAX_NAME + 2];
	struct bytes s = { .n = 0 };
	struct run r;

	memset(name, 'a', sizeof(name) - 1);
	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE);
	run(&s, name, 0, &r);
	CHECK_ERROR(&r, "export name too long (4097 > 4096)");
	CHECK_EQ(r.sent_len, 0);
}

static void test_silent_server_times_out(void)
{
	int sv[2];
	struct export_info info;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	client_timeout = 1;
	CHECK_EQ(negotiate_export(sv[0], "srv:10809", "", 0, NULL, &info), -1);
	CHECK(strstr(client_last_error(), "before its greeting: Connection timed out") != NULL);
	client_timeout = CLIENT_CONNECT_TIMEOUT;
	close(sv[0]);
	close(sv[1]);
}

static int listed;
static char listed_names[256];

static void collect(const char *name, const char *desc)
{
	listed++;
	strncat(listed_names, name, sizeof(listed_names) - strlen(listed_names) - 1);
	strncat(listed_names, "=", sizeof(listed_names) - strlen(listed_names) - 1);
	strncat(listed_names, desc, sizeof(listed_names) - strlen(listed_names) - 1);
	strncat(listed_names, ";", sizeof(listed_names) - strlen(listed_names) - 1);
}

static int run_list(const struct bytes *server, unsigned char *sent,
		    size_t *sent_len)
{
	int sv[2], r;
	ssize_t n;

	listed = 0;
	listed_names[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -2;
	if (write(sv[1], server->b, server->n) != (ssize_t)server->n)
		return -2;
	shutdown(sv[1], SHUT_WR);
	r = list_exports(sv[0], "srv:10809", NULL, collect);
	close(sv[0]);
	*sent_len = 0;
	while ((n = read(sv[1], sent + *sent_len, 512 - *sent_len)) > 0)
		*sent_len += (size_t)n;
	close(sv[1]);
	return r;
}

static void test_list(void)
{
	struct bytes s = { .n = 0 };
	unsigned char sent[512];
	size_t sent_len;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_LIST, NBD_REP_SERVER, 4 + 5 + 4);
	p32(&s, 5);
	put8(&s, "alpha", 5);
	put8(&s, "desc", 4);
	rep(&s, NBD_OPT_LIST, NBD_REP_SERVER, 4 + 4);
	p32(&s, 4);
	put8(&s, "b\nta", 4);
	rep(&s, NBD_OPT_LIST, NBD_REP_ACK, 0);
	CHECK_EQ(run_list(&s, sent, &sent_len), 2);
	CHECK_STR(listed_names, "alpha=desc;b?ta=;");
	/* flags, LIST, then the courtesy ABORT */
	CHECK_EQ(sent_len, 4 + 16 + 16);
	CHECK_EQ(get_be32(sent + 4 + 8), NBD_OPT_LIST);
	CHECK_EQ(get_be32(sent + 20 + 8), NBD_OPT_ABORT);
}

static void test_list_name_overrun(void)
{
	struct bytes s = { .n = 0 };
	unsigned char sent[512];
	size_t sent_len;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_LIST, NBD_REP_SERVER, 6);
	p32(&s, 0xfffffff0u);
	put8(&s, "ab", 2);
	CHECK_EQ(run_list(&s, sent, &sent_len), -1);
	CHECK(strstr(client_last_error(), "overruns it") != NULL);
}

static void test_list_refused(void)
{
	struct bytes s = { .n = 0 };
	unsigned char sent[512];
	size_t sent_len;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_LIST, NBD_REP_ERR_POLICY, 2);
	put8(&s, "no", 2);
	CHECK_EQ(run_list(&s, sent, &sent_len), -1);
	CHECK(strstr(client_last_error(), "refused to list its exports: ERR_POLICY: no") != NULL);
}

/* The export was listed, then is gone by the time GO names it. */
static void test_listed_export_disappears(void)
{
	struct bytes s = { .n = 0 };
	unsigned char sent[512];
	size_t sent_len;
	struct run r;

	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_LIST, NBD_REP_SERVER, 4 + 3);
	p32(&s, 3);
	put8(&s, "vol", 3);
	rep(&s, NBD_OPT_LIST, NBD_REP_ACK, 0);
	CHECK_EQ(run_list(&s, sent, &sent_len), 1);
	s.n = 0;
	greeting(&s, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rep(&s, NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, 0);
	run(&s, "vol", 0, &r);
	CHECK_ERROR(&r, "has no export \"vol\"");
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_go_success);
	RUN(test_info_name_with_nul);
	RUN(test_go_unsupported_falls_back);
	RUN(test_no_optgo_sends_export_name);
	RUN(test_unknown_export);
	RUN(test_policy_text_is_sanitised);
	RUN(test_export_name_close_means_unknown);
	RUN(test_bad_magic);
	RUN(test_bad_second_magic);
	RUN(test_oldstyle);
	RUN(test_truncated_greeting);
	RUN(test_reply_to_other_option);
	RUN(test_bad_reply_magic);
	RUN(test_oversized_reply);
	RUN(test_info_export_wrong_length);
	RUN(test_ack_without_export);
	RUN(test_size_zero);
	RUN(test_eof_mid_reply);
	RUN(test_name_too_long);
	RUN(test_silent_server_times_out);
	RUN(test_list);
	RUN(test_list_name_overrun);
	RUN(test_list_refused);
	RUN(test_listed_export_disappears);
	return unit_done("test-client-negotiate");
}
