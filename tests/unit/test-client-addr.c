// unit: client
/*
 * The client's own address parser (klibc's inet_pton knows no IPv6)
 * checked against glibc's inet_pton on a table of valid and invalid forms.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nbd-client.h"
#include "unit.h"

static const char *const cases[] = {
	"0.0.0.0", "10.0.2.2", "255.255.255.255", "192.168.1.1",
	"::", "::1", "1::", "fe80::1", "2001:db8::5", "2001:DB8:0:0:8:800:200C:417A",
	"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::8",
	"::ffff:10.0.2.2", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4",
	"::1.2.3.4",
	/* invalid */
	"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "01234.1.1.1",
	":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
	"1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "g::1",
	"::1.2.3", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
	"fe80::1%eth0", "[::1]", "010.0.0.1", "1.2.3.04",
};

/* every case parses as glibc's inet_pton says, to the same bytes */
static void test_against_inet_pton(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		union sockaddr_any sa;
		unsigned char ref[16];
		int ours = addr_parse(cases[i], &sa), want4, want6;

		want4 = inet_pton(AF_INET, cases[i], ref) == 1;
		want6 = !want4 && inet_pton(AF_INET6, cases[i], ref) == 1;
		unit_checks++;
		if ((ours == 0) != (want4 || want6) ||
		    (want4 && (sa.sa.sa_family != AF_INET ||
			       memcmp(&sa.in.sin_addr, ref, 4))) ||
		    (want6 && (sa.sa.sa_family != AF_INET6 ||
			       memcmp(&sa.in6.sin6_addr, ref, 16)))) {
			unit_failures++;
			fprintf(stderr, "\"%s\": ours %d, glibc v4 %d v6 %d\n",
				cases[i], ours, want4, want6);
		}
	}
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_against_inet_pton);
	return unit_done("test-client-addr");
}
