// unit: client
/*
 * The client's resolver against /etc/hosts-style files and a fake DNS
 * server on 127.0.0.1 (a child process answering from a table), including
 * compressed names, CNAME chains, NXDOMAIN, search domains, AAAA-only
 * names, and broken replies it must survive.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "byteorder.h"
#include "nbd-client.h"
#include "unit.h"

static char dir[] = "/tmp/nbdroot-resolve.XXXXXX";
static char hosts[128], resolv[128], empty[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* The question's name in dotted form and its type. */
static size_t question(const unsigned char *q, size_t len, char *name,
		       uint16_t *type)
{
	size_t off = 12, n = 0;

	while (off < len && q[off]) {
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + off + 1, q[off]);
		n += q[off];
		off += 1 + q[off];
	}
	name[n] = '\0';
	*type = get_be16(q + off + 1);
	return off + 5;
}

static size_t answer_rr(unsigned char *r, size_t off, uint16_t type,
			const void *data, uint16_t len)
{
	r[off++] = 0xc0;	/* name: pointer to the question */
	r[off++] = 12;
	put_be16(r + off, type);
	put_be16(r + off + 2, 1);
	put_be32(r + off + 4, 60);
	put_be16(r + off + 8, len);
	memcpy(r + off + 10, data, len);
	return off + 10 + len;
}

/* Builds the reply for one query; 0 means stay silent. */
static size_t respond(const unsigned char *q, size_t qlen, unsigned char *r)
{
	static const unsigned char v4[4] = { 192, 0, 2, 7 };
	static const unsigned char lab[4] = { 198, 51, 100, 9 };
	static const unsigned char cname[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
	char name[300];
	uint16_t type;
	size_t off = question(q, qlen, name, &type);

	memcpy(r, q, off);
	r[2] = 0x81;
	r[3] = 0x80;
	put_be16(r + 6, 0);
	if (!strcmp(name, "silent.example"))
		return 0;
	if (!strcmp(name, "nbd.example") && type == 1) {
		put_be16(r + 6, 2);
		off = answer_rr(r, off, 5, cname, sizeof(cname));
		return answer_rr(r, off, 1, v4, 4);
	}
	if (!strcmp(name, "six.example") && type == 28) {
		put_be16(r + 6, 1);
		return answer_rr(r, off, 28, v6, 16);
	}
	if (!strcmp(name, "srv.lab") && type == 1) {
		put_be16(r + 6, 1);
		return answer_rr(r, off, 1, lab, 4);
	}
	if (!strcmp(name, "broken.example")) {
		/* an answer whose length runs past the datagram */
		put_be16(r + 6, 1);
		off = answer_rr(r, off, 1, v4, 4);
		put_be16(r + off - 6, 400);
		return off;
	}
	if (!strcmp(name, "six.example") || !strcmp(name, "nbd.example"))
		return off;	/* the name exists, not with this type */
	r[3] = 0x83;		/* NXDOMAIN */
	return off;
}

static pid_t start_fake_dns(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	pid_t pid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("fake dns");
		exit(2);
	}
	*port = ntohs(sa.sin_port);
	pid = fork();
	if (pid == 0) {
		unsigned char q[512], r[1024];
		struct sockaddr_in from;
		ssize_t n;
		size_t rl;

		for (;;) {
			len = sizeof(from);
			n = recvfrom(fd, q, sizeof(q), 0,
				     (struct sockaddr *)&from, &len);
			if (n < 17)
				continue;
			rl = respond(q, (size_t)n, r);
			if (rl)
				sendto(fd, r, rl, 0, (struct sockaddr *)&from,
				       len);
		}
	}
	close(fd);
	return pid;
}

static const char *resolved(const char *name, uint16_t port)
{
	static char out[INET6_ADDRSTRLEN + 8];
	union sockaddr_any sa;

	client_error("%s", "");
	if (resolve_host_with(name, hosts, resolv, port, &sa) < 0)
		return client_last_error();
	if (sa.sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &sa.in.sin_addr, out, sizeof(out));
	else
		inet_ntop(AF_INET6, &sa.in6.sin6_addr, out, sizeof(out));
	return out;
}

static void test_resolve(void)
{
	uint16_t port;
	pid_t dns;
	union sockaddr_any sa;

	CHECK(mkdtemp(dir) != NULL);
	if (unit_failures)
		return;
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	snprintf(empty, sizeof(empty), "%s/empty.conf", dir);
	write_file(hosts, "# comment\n10.1.2.3 server1 nbdhost # trailing\n::1 v6host\n");
	write_file(resolv, "search lab\nnameserver 127.0.0.1\n");
	write_file(empty, "# no name server\n");
	dns = start_fake_dns(&port);
	client_dns_wait_ms = 300;

	CHECK_STR(resolved("nbdhost", port), "10.1.2.3");
	CHECK_STR(resolved("V6HOST", port), "::1");
	CHECK_STR(resolved("nbd.example", port), "192.0.2.7");
	CHECK_STR(resolved("six.example", port), "2001:db8::5");
	CHECK_STR(resolved("srv", port), "198.51.100.9");
	CHECK_STR(resolved("nosuch.example", port),
		  "host \"nosuch.example\" not found");
	CHECK(strstr(resolved("silent.example", port), "no answer from the name servers") != NULL);
	CHECK(strstr(resolved("broken.example", port), "no answer from the name servers") != NULL);
	CHECK_STR(resolved("bad..name", port),
		  "\"bad..name\" is not an IP address or a host name");
	CHECK_STR(resolved("a;b", port),
		  "\"a;b\" is not an IP address or a host name");
	CHECK_EQ(resolve_host_with("x.example", hosts, empty, port, &sa), -1);
	CHECK(strstr(client_last_error(), "no nameserver in") != NULL);

	/* a daemon after switch_root: /etc is gone, the last answer stays */
	CHECK_EQ(resolve_host_cached("nbdhost", hosts, resolv, port, &sa), 0);
	unlink(hosts);
	unlink(resolv);
	memset(&sa, 0, sizeof(sa));
	CHECK_EQ(resolve_host_cached("nbdhost", hosts, resolv, port, &sa), 0);
	CHECK_EQ(sa.in.sin_addr.s_addr, htonl(0x0a010203));
	CHECK_EQ(resolve_host_cached("other", hosts, resolv, port, &sa), -1);

	kill(dns, SIGKILL);
	waitpid(dns, NULL, 0);
	unlink(hosts);
	unlink(resolv);
	unlink(empty);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_resolve);
	return unit_done("test-client-resolve");
}
