// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * Access control and the strings built from peer data: authfile entries
 * are matched as address bits, never as string prefixes (CVE-2013-6410),
 * a broken authfile admits nobody, "%s" expands to the client address,
 * and peer strings are escaped and bounded in the log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"
#include "unit.h"

static struct sockaddr_storage peer(const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (void *)&ss;
	struct sockaddr_in6 *in6 = (void *)&ss;

	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		return ss;
	}
	CHECK_EQ(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
	in6->sin6_family = AF_INET6;
	return ss;
}

static bool allowed(const char *entry, const char *addr)
{
	struct sockaddr_storage ss = peer(addr);
	unsigned char net[16];
	unsigned prefix;
	int family;

	if (auth_parse_line(entry, net, &family, &prefix) != 1)
		return false;
	return auth_match(net, family, prefix, (struct sockaddr *)&ss);
}

static void test_match(void)
{
	CHECK(allowed("10.0.0.1", "10.0.0.1"));
	CHECK(!allowed("10.0.0.1", "10.0.0.12"));	/* not a prefix */
	CHECK(!allowed("10.0.0.1", "10.0.0.10"));
	CHECK(!allowed("10.0.0.1", "110.0.0.1"));
	CHECK(allowed("192.168.1.0/24", "192.168.1.77"));
	CHECK(!allowed("192.168.1.0/24", "192.168.2.77"));
	CHECK(allowed("192.168.1.128/25", "192.168.1.200"));
	CHECK(!allowed("192.168.1.128/25", "192.168.1.100"));
	CHECK(allowed("10.0.0.0/7", "11.255.0.1"));
	CHECK(!allowed("10.0.0.0/7", "12.0.0.1"));
	CHECK(allowed("0.0.0.0/0", "203.0.113.9"));
	CHECK(allowed("  10.0.0.1  # the lab server\n", "10.0.0.1"));
	CHECK(allowed("2001:db8::/32", "2001:db8:1::5"));
	CHECK(!allowed("2001:db8::/32", "2001:db9::5"));
	CHECK(allowed("::1", "::1"));
	/* IPv4 clients on a dual-stack socket */
	CHECK(allowed("10.0.0.0/8", "::ffff:10.1.2.3"));
	CHECK(!allowed("10.0.0.0/8", "::ffff:11.1.2.3"));
	CHECK(!allowed("10.0.0.0/8", "::10.1.2.3"));
}

static void test_parse(void)
{
	unsigned char net[16];
	unsigned prefix;
	int family;

	CHECK_EQ(auth_parse_line("\n", net, &family, &prefix), 0);
	CHECK_EQ(auth_parse_line("# only a comment\n", net, &family, &prefix), 0);
	CHECK_EQ(auth_parse_line("10.0.0.1/33", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("10.0.0.1/", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("10.0.0.1/-1", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("10.0.0/24", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("lab.example", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("10.0.0.1 10.0.0.2", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("::1/129", net, &family, &prefix), -1);
	CHECK_EQ(auth_parse_line("::1/128", net, &family, &prefix), 1);
	CHECK_EQ(prefix, 128);
	CHECK_EQ(family, AF_INET6);
}

static void test_file(void)
{
	char path[] = "/tmp/nbdroot-auth-XXXXXX", why[SRV_ERRLEN];
	struct sockaddr_storage a = peer("10.0.0.5"), b = peer("10.0.0.55");
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "# lab\n10.0.0.5\n\n192.168.0.0/16\n", 31) == 31);
	CHECK_EQ(auth_check(path, (struct sockaddr *)&a, why, sizeof(why)), 1);
	CHECK_EQ(auth_check(path, (struct sockaddr *)&b, why, sizeof(why)), 0);
	CHECK(strstr(why, "not in authfile") != NULL);
	/* a malformed line anywhere admits nobody */
	CHECK(write(fd, "10.0.0.300\n", 11) == 11);
	CHECK_EQ(auth_check(path, (struct sockaddr *)&a, why, sizeof(why)), -1);
	CHECK(strstr(why, ":5: not an address") != NULL);
	close(fd);
	unlink(path);
	CHECK_EQ(auth_check(path, (struct sockaddr *)&a, why, sizeof(why)), -1);
	CHECK(strstr(why, "No such file") != NULL);
}

static void test_expand(void)
{
	char out[32];

	CHECK_EQ(expand_path("/srv/%s.img", "10.0.0.5", out, sizeof(out)), 0);
	CHECK_STR(out, "/srv/10.0.0.5.img");
	CHECK_EQ(expand_path("/a/%s/%s", "::1", out, sizeof(out)), 0);
	CHECK_STR(out, "/a/::1/::1");
	CHECK_EQ(expand_path("/srv/100%", "x", out, sizeof(out)), 0);
	CHECK_STR(out, "/srv/100%");
	CHECK_EQ(expand_path("/a/very/long/path/%s", "2001:db8::1234:5678",
			     out, sizeof(out)), -1);
	/* 31 bytes and the terminator fit in 32; 32 do not */
	CHECK_EQ(expand_path("/012345678901234567890123456789", "",
			     out, sizeof(out)), 0);
	CHECK_EQ(expand_path("/0123456789012345678901234567890", "",
			     out, sizeof(out)), -1);
}

static void test_escape(void)
{
	char out[32];
	char big[100];

	escape_string(out, sizeof(out), "root", 4);
	CHECK_STR(out, "root");
	escape_string(out, sizeof(out), "a\nb\0c'\\", 7);
	CHECK_STR(out, "a\\x0ab\\x00c\\x27\\x5c");
	memset(big, 'x', sizeof(big));
	CHECK(escape_string(out, sizeof(out), big, sizeof(big)) < sizeof(out));
	CHECK(strstr(out, "...") != NULL);
	escape_string(out, sizeof(out), "\xff\xfe\x1b[2J", 6);
	CHECK_STR(out, "\\xff\\xfe\\x1b[2J");
	/* Buffers too small for "...": cut, never written past dstlen. */
	memset(out, '#', sizeof(out));
	CHECK_EQ(escape_string(out, 2, "abc", 3), 0);
	CHECK(out[0] == '\0' && out[1] == '#' && out[3] == '#');
	memset(out, '#', sizeof(out));
	CHECK_EQ(escape_string(out, 4, "abc", 3), 3);
	CHECK_STR(out, "...");
	CHECK(out[4] == '#');
}

/* Peers as the log and "%s" show them; mapped IPv4 as plain IPv4. */
static void test_peer_names(void)
{
	struct sockaddr_storage ss;
	char addr[64], full[80];

	ss = peer("10.1.2.3");
	((struct sockaddr_in *)&ss)->sin_port = htons(40000);
	CHECK_EQ(peer_describe((struct sockaddr *)&ss, addr, sizeof(addr),
			       full, sizeof(full)), 0);
	CHECK_STR(addr, "10.1.2.3");
	CHECK_STR(full, "10.1.2.3:40000");
	ss = peer("::ffff:10.1.2.3");
	((struct sockaddr_in6 *)&ss)->sin6_port = htons(40001);
	CHECK_EQ(peer_describe((struct sockaddr *)&ss, addr, sizeof(addr),
			       full, sizeof(full)), 0);
	CHECK_STR(addr, "10.1.2.3");
	CHECK_STR(full, "10.1.2.3:40001");
	ss = peer("2001:db8::7");
	((struct sockaddr_in6 *)&ss)->sin6_port = htons(10809);
	CHECK_EQ(peer_describe((struct sockaddr *)&ss, addr, sizeof(addr),
			       full, sizeof(full)), 0);
	CHECK_STR(addr, "2001:db8::7");
	CHECK_STR(full, "[2001:db8::7]:10809");
	ss.ss_family = AF_UNIX;
	CHECK_EQ(peer_describe((struct sockaddr *)&ss, addr, sizeof(addr),
			       full, sizeof(full)), -1);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_peer_names);
	RUN(test_match);
	RUN(test_parse);
	RUN(test_file);
	RUN(test_expand);
	RUN(test_escape);
	return unit_done("test-auth");
}
