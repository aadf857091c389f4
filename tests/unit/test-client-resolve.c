// unit: client
/*
 * The client's resolver against /etc/hosts-style files and a fake DNS
 * server on 127.0.0.1 (a child process answering from a table), including
 * compressed names, CNAME chains, NXDOMAIN, search domains, AAAA-only
 * names, and broken replies it must survive; and the bounded waits of the
 * lookup and of the connect that follows it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>

#include "byteorder.h"
#include "nbd-client.h"
#include "loopback.h"
#include "unit.h"

/*
 * The client's clock and poll() as this test sees them: definitions in the
 * test program take precedence over the C library's. The clock is the real
 * one plus what a test adds; poll() records the timeouts it is given and
 * never waits forever, so a negative one shows up as a count, not a hang.
 */
static long fake_ticks;		/* added to the real clock */
static long ticks_per_read;	/* a clock that moves at each reading */
static long ticks_per_poll;	/* what a poll() "took" beyond real time */
static int polls, negative_polls, last_poll_timeout;

clock_t times(struct tms *buf)
{
	fake_ticks += ticks_per_read;
	return (clock_t)syscall(SYS_times, buf) + fake_ticks;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts = { 0, 0 };
	int r;

	polls++;
	last_poll_timeout = timeout;
	if (timeout < 0)
		negative_polls++;
	else
		ts = (struct timespec){ timeout / 1000,
					(timeout % 1000) * 1000000L };
	r = ppoll(fds, n, &ts, NULL);
	fake_ticks += ticks_per_poll;
	return r;
}

/* fcntl(F_SETFL) as the client sees it: fails with EINVAL when asked. */
static int fail_setfl;

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (cmd == F_SETFL && fail_setfl)
		return errno = EINVAL, -1;
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

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
	static const unsigned char loop[4] = { 127, 0, 0, 1 };
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
	if (!strcmp(name, "dual.example")) {
		static const unsigned char v6loop[16] = { [15] = 1 };

		put_be16(r + 6, 1);
		return type == 1 ? answer_rr(r, off, 1, v4, 4) :
		       answer_rr(r, off, 28, v6loop, 16);
	}
	if (!strcmp(name, "srv.lab") && type == 1) {
		put_be16(r + 6, 1);
		return answer_rr(r, off, 1, lab, 4);
	}
	if (!strcmp(name, "loop.example") && type == 1) {
		put_be16(r + 6, 1);
		return answer_rr(r, off, 1, loop, 4);
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
	int fd = loopback_socket(SOCK_DGRAM, 0, port);
	socklen_t len;
	pid_t pid;

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

/*
 * A clock that ticks between two readings must not turn the wait for a
 * DNS answer into poll(-N), which waits forever: one reading decides.
 */
static void test_dns_wait_reads_clock_once(uint16_t port)
{
	ticks_per_read = 1;		/* 10 ms at each reading */
	client_dns_wait_ms = 15;	/* not a whole number of ticks */
	polls = negative_polls = 0;
	CHECK(strstr(resolved("silent.example", port), "no answer from the name servers") != NULL);
	CHECK(polls > 0);
	CHECK_EQ(negative_polls, 0);
	ticks_per_read = 0;
	client_dns_wait_ms = 1000;	/* generous: a loaded machine answers late */
}

/* Brings up lo in a network namespace of its own: no route but loopback. */
static int loopback_only_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * An IPv6-only network: a name with both records resolves to its AAAA
 * address, since no route leads to its A address (192.0.2.7); a name with
 * an A record only still gives it. In a child, in its own namespace.
 */
static void test_ipv6_only_network(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		uint16_t port;
		pid_t dns;
		int bad = 0;

		if (loopback_only_netns() < 0) {
			printf("cannot make a network namespace: %s\n",
			       strerror(errno));
			_exit(3);
		}
		dns = start_fake_dns(&port);
		bad |= strcmp(resolved("dual.example", port), "::1") != 0;
		printf("dual.example on a network without IPv4: %s\n",
		       resolved("dual.example", port));
		bad |= strcmp(resolved("nbd.example", port), "192.0.2.7") != 0;
		kill(dns, SIGKILL);
		waitpid(dns, NULL, 0);
		_exit(bad);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A name server that does not listen: its ICMP error is in the message. */
static void test_dns_refused(void)
{
	CHECK(strstr(resolved("x.example", loopback_dead_port(SOCK_DGRAM)),
		     "no answer from the name servers in") != NULL);
	CHECK(strstr(client_last_error(), ": Connection refused") != NULL);
}

/* A deadline that has passed leaves 0 ms, and no poll() is made. */
static void test_deadline_passed(void)
{
	struct deadline d;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(2);
	}
	deadline_start(&d, 15);
	fake_ticks += 100;
	polls = 0;
	CHECK_EQ(deadline_left_ms(&d), 0);
	CHECK_EQ(deadline_poll(sv[0], POLLIN, &d), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	CHECK_EQ(polls, 0);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A listener whose accept queue is full: the kernel drops the SYNs of
 * further connections, which stay pending until they time out.
 */
static uint16_t full_listener(int *lfd, int *filler)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint16_t port;

	*lfd = loopback_socket(SOCK_STREAM, 0, &port);
	*filler = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (*filler < 0 ||
	    connect(*filler, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("full listener");
		exit(2);
	}
	return port;
}

/*
 * A name whose lookup takes longer than the whole connect timeout: the
 * connect that follows still waits with a timeout of its own, never with
 * poll(-N), which would hang on a server that does not answer.
 */
static void test_connect_after_slow_lookup(uint16_t port)
{
	char peer[300];
	int lfd, filler, fd;
	uint16_t lport = full_listener(&lfd, &filler);

	client_hosts_file = hosts;
	client_resolv_file = resolv;
	client_dns_port = port;
	client_timeout = 1;
	ticks_per_poll = 300;	/* each wait "takes" 3 s more than it did */
	polls = negative_polls = 0;
	fd = connect_server("loop.example", lport, peer, sizeof(peer));
	CHECK_EQ(fd, -1);
	CHECK(strstr(client_last_error(), "timed out") != NULL);
	CHECK(polls >= 2);	/* the DNS answer, then the connect */
	CHECK_EQ(negative_polls, 0);
	CHECK(last_poll_timeout > 0);
	ticks_per_poll = 0;
	if (fd >= 0)
		close(fd);
	close(filler);
	close(lfd);
}

/* A socket that cannot be made non-blocking is not connected unbounded. */
static void test_connect_fcntl_fails(void)
{
	char peer[300];
	uint16_t lport;
	int lfd = loopback_socket(SOCK_STREAM, 0, &lport), fd;

	fail_setfl = 1;
	fd = connect_server("127.0.0.1", lport, peer, sizeof(peer));
	fail_setfl = 0;
	CHECK_EQ(fd, -1);
	CHECK(strstr(client_last_error(), "making the socket non-blocking: Invalid argument") != NULL);
	if (fd >= 0)
		close(fd);
	close(lfd);
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
	client_dns_wait_ms = 1000;	/* generous: a loaded machine answers late */

	CHECK_STR(resolved("nbdhost", port), "10.1.2.3");
	CHECK_STR(resolved("V6HOST", port), "::1");
	CHECK_STR(resolved("nbd.example", port), "192.0.2.7");
	CHECK_STR(resolved("six.example", port), "2001:db8::5");
	test_ipv6_only_network();
	CHECK_STR(resolved("srv", port), "198.51.100.9");
	CHECK_STR(resolved("nosuch.example", port),
		  "host \"nosuch.example\" not found");
	CHECK(strstr(resolved("silent.example", port), "no answer from the name servers") != NULL);
	CHECK(strstr(client_last_error(), ": Connection timed out") != NULL);
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

	write_file(hosts, "10.1.2.3 server1\n");
	write_file(resolv, "nameserver 127.0.0.1\n");
	test_dns_wait_reads_clock_once(port);
	test_dns_refused();
	test_deadline_passed();
	test_connect_after_slow_lookup(port);
	test_connect_fcntl_fails();

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
