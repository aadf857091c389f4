// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-dhcp4: the init's DHCPv4 client (RFC 2131), in place of
 * busybox udhcpc, its event program and their execs on every boot.
 *
 *   nbdroot-dhcp4 -i LINK [-t SECONDS] [-p PIDFILE] [-n FIFO]
 *   nbdroot-dhcp4 -r XID MAC       read one server message on stdin
 *
 * sets LINK up and flushes its IPv4 addresses (as udhcpc's deconfig
 * did), then DISCOVER, the first OFFER, REQUEST and its ACK, and sets
 * the lease on the link and writes /run/net-LINK.conf and resolv.conf
 * (initramfs/dhcp-event/apply.c, shared with udhcpc's event program).
 * Each message goes again after 1, 2, then 4 s, each wait a random
 * tenth longer, so a room that booted at once does not ask in step (the
 * first waits for the link's carrier). A NAK starts again from DISCOVER
 * after such a wait (no storm from a server that NAKs every REQUEST).
 * After SECONDS (default 60) without a lease it gives up. It asks with
 * the broadcast flag (RFC 2131 4.1: without an address it cannot take a
 * unicast answer), and sends and reads IPv4 datagrams on a packet
 * socket (packet.h says why). Replies to its transaction that it
 * ignores (malformed) are said on stderr (the first 32), the first few
 * in the kernel log too; other clients' are passed over silently. It
 * logs "nbdroot: time: dhcp-deconfig" and "dhcp-bound" as the event
 * program did, for the boot's breakdown.
 *
 * -p writes its pid to PIDFILE (removed at exit); -n writes "LINK" and a
 * newline to FIFO as it exits, however it exits (a crash included) but
 * SIGTERM and SIGKILL, for a caller that waits on one FIFO for the first
 * of several links' clients. The init itself runs it in a subshell that
 * writes the line, SIGKILL included (lib/network.sh).
 *
 * Exit 0 with the lease set, 1 without one (said on stderr; a lease
 * that cannot be set is also in /run/nbdroot/dhcp-error-LINK), 2 on
 * usage. -r prints the net-LINK.conf an answer would give (tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/times.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "apply.h"
#include "conf.h"
#include "packet.h"
#include "rng.h"
#include "rtnl.h"

#define REQUEST_TRIES	3	/* REQUESTs before asking from DISCOVER again */
#define WAIT_MAX_MS	4000
#define KMSG_IGNORED	3	/* ignored replies also said in the kernel log */
#define LOG_IGNORED	32	/* and on stderr (a file in /run, in RAM) */

static const char *pidfile, *notify;

/* klibc has no clock_gettime(); times() counts USER_HZ (100) ticks. */
static long now_ms(void)
{
	return (long)(unsigned long)times(NULL) * 10;
}

/* The link's Ethernet address from sysfs: 0, or -1. */
static int link_mac(const char *link, unsigned char mac[6])
{
	char path[96], buf[64];
	unsigned int m[6];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", link);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n != 18 || sscanf(buf, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2],
			      &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)m[i];
	return 0;
}

/* The link's carrier as sysfs says it: 1, 0, or -1 (unreadable: the
 * link is down, or gone). */
static int link_carrier(const char *link)
{
	char path[96], c = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", link);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

/*
 * Until the link has a carrier: a NIC negotiating its link (a second or
 * more on hardware) drops what is sent before, and the first message
 * would go again only after its retransmission wait. A driver without
 * carrier detection says 1 at once. 0, or -1 at the deadline.
 */
static int wait_carrier(const char *link, long deadline)
{
	int carrier;

	while ((carrier = link_carrier(link)) != 1) {
		if (now_ms() >= deadline) {
			fprintf(stderr, "nbdroot-dhcp4: %s: no carrier (%s)\n", link,
				carrier ? "the link is down" : "is a cable plugged in?");
			return -1;
		}
		poll(NULL, 0, 5);
	}
	return 0;
}

/* A packet socket for IPv4 on the link (packet.h says why not UDP). */
static int open_socket(int index)
{
	struct sockaddr_ll me = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = index };
	int s = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));

	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* An address as text into buf (16 bytes). */
static const char *ntoa(uint32_t a, char *buf)
{
	const unsigned char *b = (const unsigned char *)&a;

	snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

static unsigned int prefix_len(uint32_t mask)
{
	uint32_t m = ntohl(mask);
	unsigned int n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return m ? 33 : n;	/* 33: not a prefix (holes in the mask) */
}

/* The text of a lease, what udhcpc put in its event's environment. */
struct lease_text {
	char ip[16], mask[16], subnet[16], bcast[16], siaddr[16], server[16];
	char lease[12];
	char routers[DHCP_MAX_ROUTERS * 16], dns[DHCP_MAX_DNS * 16];
};

static void addr_list(const uint32_t *a, int n, char *buf)
{
	char one[16];
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, ntoa(a[i], one));
	}
}

static void to_lease(const char *link, const struct dhcp_reply *r,
		     struct lease_text *t, struct lease *l)
{
	unsigned int plen = r->has_mask ? prefix_len(r->mask) : 0;

	memset(t, 0, sizeof(*t));
	memset(l, 0, sizeof(*l));
	ntoa(r->yiaddr, t->ip);
	if (r->has_mask) {
		ntoa(r->mask, t->subnet);
		/* a mask with holes is said as it came: it is refused */
		if (plen <= 32)
			snprintf(t->mask, sizeof(t->mask), "%u", plen);
		else
			ntoa(r->mask, t->mask);
	}
	if (r->has_bcast)
		ntoa(r->bcast, t->bcast);
	if (r->siaddr)
		ntoa(r->siaddr, t->siaddr);
	ntoa(r->server, t->server);
	if (r->has_lease)
		snprintf(t->lease, sizeof(t->lease), "%u", (unsigned int)r->lease);
	addr_list(r->routers, r->nrouters, t->routers);
	addr_list(r->dns, r->ndns, t->dns);
	l->interface = link;
	l->ip = t->ip;
	l->mask = t->mask;
	l->subnet = t->subnet;
	l->broadcast = t->bcast;
	l->router = t->routers;
	l->dns = t->dns;
	l->domain = r->domain;
	l->hostname = r->hostname;
	l->siaddr = t->siaddr;
	l->serverid = t->server;
	l->rootpath = r->rootpath;
	l->boot_file = r->boot_file;
	l->lease = t->lease;
	l->search = r->search;
	l->ip6 = "";
	l->router6 = "";
}

/* The exchange on one link. */
struct client {
	const char *link;
	int s, index;
	unsigned char mac[6];
	long start, deadline;
	unsigned int ignored;
	struct dhcp_ask ask;
	struct dhcp_reply reply;
};

/* The wait before sending again: 1, 2, then 4 s, and a random tenth. */
static long backoff(int tries)
{
	long ms = tries >= 3 ? WAIT_MAX_MS : 1000L << tries;

	return ms + ms * (long)(rng_next() % 256) / 2550;
}

static void ignored(struct client *c, const char *why)
{
	char line[300];
	int n;

	/* a host that floods the link with replies for our transaction
	 * must not fill /run with their reasons */
	if (c->ignored < LOG_IGNORED)
		fprintf(stderr, "nbdroot-dhcp4: %s: ignored a reply: %s\n", c->link, why);
	else if (c->ignored == LOG_IGNORED)
		fprintf(stderr, "nbdroot-dhcp4: %s: ignored %d replies: the others are not said\n",
			c->link, LOG_IGNORED);
	if (c->ignored < ~0u)
		c->ignored++;
	if (c->ignored > KMSG_IGNORED)
		return;
	n = snprintf(line, sizeof(line), "<4>nbdroot: dhcp: %s: ignored a reply: %s\n",
		     c->link, why);
	if (n > 0 && (size_t)n < sizeof(line) && kmsg(line, (size_t)n) < 0)
		fprintf(stderr, "nbdroot-dhcp4: kernel log: %s\n", strerror(errno));
}

/*
 * Sends c->ask and waits for a reply of type want (or a NAK from the
 * server asked) until it comes, tries run out or the deadline passes:
 * the reply's type, or 0.
 */
static int exchange(struct client *c, int want, int tries)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = c->index, .sll_halen = 6 };
	unsigned char buf[DHCP_IPUDP + DHCP_MSG_MAX + 1];
	long next = 0, t;
	int sent = 0;

	memset(to.sll_addr, 0xff, 6);
	for (;;) {
		struct pollfd pfd = { .fd = c->s, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		const unsigned char *msg;
		const char *err;
		size_t len;
		ssize_t n;

		t = now_ms();
		if (t >= c->deadline)
			return 0;
		if (t >= next) {
			if (tries && sent >= tries)
				return 0;
			/* RFC 2131 3.1: a REQUEST keeps its DISCOVER's */
			if (c->ask.type == DHCP_DISCOVER)
				c->ask.secs = (unsigned int)((t - c->start) / 1000);
			len = dhcp_frame(buf, dhcp_build(buf + DHCP_IPUDP, &c->ask));
			if (sendto(c->s, buf, len, 0, (struct sockaddr *)&to,
				   sizeof(to)) < 0)
				fprintf(stderr, "nbdroot-dhcp4: %s: send: %s\n",
					c->link, strerror(errno));
			next = t + backoff(sent++);
		}
		if (poll(&pfd, 1, (int)((next < c->deadline ? next : c->deadline) - t)) <= 0)
			continue;
		n = recvfrom(c->s, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &fromlen);
		/* our own messages come back to a packet socket too */
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING ||
		    dhcp_unframe(buf, (size_t)n, &msg, &len) < 0)
			continue;
		err = dhcp_parse(msg, len, c->ask.xid, c->mac, &c->reply);
		if (err) {
			if (strcmp(err, "for another client or transaction"))
				ignored(c, err);
			continue;
		}
		/* an ACK or NAK counts from the server we asked only */
		if (want == DHCP_ACK && c->reply.server != c->ask.server)
			continue;
		if (c->reply.type == want)
			return want;
		if (c->reply.type == DHCP_NAK && want == DHCP_ACK)
			return DHCP_NAK;
	}
}

/* ms milliseconds, or until the deadline if that comes first: what
 * arrives meanwhile waits in the socket, for another transaction. */
static void pause_ms(const struct client *c, long ms)
{
	long t = now_ms(), end = t + ms < c->deadline ? t + ms : c->deadline;

	while ((t = now_ms()) < end)
		poll(NULL, 0, (int)(end - t));
}

/* DISCOVER, OFFER, REQUEST, ACK until a lease or the deadline: 0 or -1.
 * After a NAK or an ACK for another address, the next DISCOVER waits as
 * a retransmission would: a server that refuses every REQUEST makes no
 * storm of them (udhcpc waits 3 s). */
static int get_lease(struct client *c)
{
	int got, refused = 0;

	for (;;) {
		if (refused)
			pause_ms(c, backoff(refused - 1));
		c->ask.xid = rng_next();
		c->ask.type = DHCP_DISCOVER;
		c->ask.want = c->ask.server = 0;
		if (exchange(c, DHCP_OFFER, 0) != DHCP_OFFER)
			return -1;
		c->ask.type = DHCP_REQUEST;
		c->ask.want = c->reply.yiaddr;
		c->ask.server = c->reply.server;
		got = exchange(c, DHCP_ACK, REQUEST_TRIES);
		if (got == DHCP_ACK && c->reply.yiaddr == c->ask.want) {
			if (c->reply.search_dropped)
				fprintf(stderr, "nbdroot-dhcp4: %s: the lease without its %s\n",
					c->link, c->reply.search_dropped);
			return 0;
		}
		if (got == DHCP_ACK) {
			char a[16], b[16];

			ignored(c, "the ACK's address is not the one offered");
			fprintf(stderr, "nbdroot-dhcp4: %s: offered %s, acknowledged %s\n",
				c->link, ntoa(c->ask.want, a), ntoa(c->reply.yiaddr, b));
			refused++;
		} else if (got == DHCP_NAK) {
			fprintf(stderr, "nbdroot-dhcp4: %s: the server refused the offered address (NAK): asking again\n",
				c->link);
			refused++;
		}
	}
}

/* SIGTERM: the pid file goes, the FIFO is not told (above). Set before
 * the file is written: a SIGTERM sent once it is there removes it. */
static void drop_pidfile(int sig)
{
	(void)sig;
	if (pidfile)
		unlink(pidfile);
	_exit(1);
}

/* "LINK\n" for the init's FIFO, made before anything can fail */
static char notify_line[24];
static int notify_len;

/* The line on the FIFO: 0, or -1. Opened read-write: no wait for a
 * reader, and none that has gone blocks the exit. Async-signal-safe. */
static int tell_init(void)
{
	int fd = open(notify, O_RDWR | O_NONBLOCK | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, notify_line, (size_t)notify_len) == notify_len;
	close(fd);
	return ok ? 0 : -1;
}

/* At every exit, a lease that cannot be set (lease_fail) included: the
 * pid file goes, the init hears of it. */
static void at_exit(void)
{
	if (pidfile)
		unlink(pidfile);
	if (notify && tell_init() < 0)
		fprintf(stderr, "nbdroot-dhcp4: %s: %s\n", notify, strerror(errno));
}

/* A crash too: the init waits on the FIFO with no bound of its own, and
 * a client that died without a line there would hang the boot. */
static void crashed(int sig)
{
	(void)sig;
	if (pidfile)
		unlink(pidfile);
	if (notify)
		tell_init();
	_exit(1);
}

static void write_pidfile(void)
{
	char buf[24];
	int fd, n;

	if (!pidfile)
		return;
	fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "nbdroot-dhcp4: %s: %s\n", pidfile, strerror(errno));
		pidfile = NULL;
		return;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		fprintf(stderr, "nbdroot-dhcp4: %s: %s\n", pidfile, strerror(errno));
	close(fd);
}

static int run(const char *link, int secs)
{
	struct client c;
	struct lease_text text;
	struct lease l = { .interface = link };
	int rc;

	memset(&c, 0, sizeof(c));
	c.link = link;
	if (link_mac(link, c.mac) < 0) {
		fprintf(stderr, "nbdroot-dhcp4: %s: no Ethernet address in /sys/class/net/%s/address\n",
			link, link);
		return 1;
	}
	memcpy(c.ask.mac, c.mac, 6);
	rng_seed(c.mac, 6);
	c.start = now_ms();
	c.deadline = c.start + secs * 1000L;
	log_time("deconfig");
	link_deconfig(&l);
	c.index = rtnl_link_index(link);
	if (c.index < 0) {
		fprintf(stderr, "nbdroot-dhcp4: %s: %s\n", link, strerror(-c.index));
		return 1;
	}
	c.s = open_socket(c.index);
	if (c.s < 0) {
		fprintf(stderr, "nbdroot-dhcp4: %s: a packet socket on it: %s\n",
			link, strerror(errno));
		return 1;
	}
	rc = wait_carrier(link, c.deadline);
	if (!rc)
		rc = get_lease(&c);
	close(c.s);
	if (rc < 0) {
		fprintf(stderr, "nbdroot-dhcp4: %s: no lease within %ds\n", link, secs);
		return 1;
	}
	log_time("bound");
	to_lease(link, &c.reply, &text, &l);
	lease_configure(&l);
	lease_describe(&l, "dhcp");
	return 0;
}

/* -r XID MAC: the net-LINK.conf that the message on stdin would give. */
static int read_one(const char *xid, const char *mac_text)
{
	static unsigned char buf[DHCP_MSG_MAX + 1];
	struct dhcp_reply r;
	struct lease_text text;
	struct lease l;
	unsigned int m[6];
	unsigned char mac[6];
	size_t len = 0;
	ssize_t n;
	const char *err;
	int i;

	if (sscanf(mac_text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5]) != 6) {
		fprintf(stderr, "nbdroot-dhcp4: -r: \"%s\" is not a MAC address\n", mac_text);
		return 2;
	}
	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)m[i];
	while (len < sizeof(buf) &&
	       (n = read(0, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	err = dhcp_parse(buf, len, (uint32_t)strtoul(xid, NULL, 0), mac, &r);
	if (err) {
		printf("refused: %s\n", err);
		return 1;
	}
	printf("type %d\n", r.type);
	if (r.search_dropped)
		printf("left out: %s\n", r.search_dropped);
	if (r.type == DHCP_NAK)
		return 0;
	to_lease("eth0", &r, &text, &l);
	conf_write(stdout, &l, "dhcp");
	conf_resolv(stdout, &l);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: nbdroot-dhcp4 -i LINK [-t SECONDS] [-p PIDFILE] [-n FIFO]\n"
		"       nbdroot-dhcp4 -r XID MAC < MESSAGE\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *link = NULL, *secs_arg = NULL;
	long secs = 60;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "i:t:p:n:r")) != -1) {
		switch (opt) {
		case 'i':
			link = optarg;
			break;
		case 't':
			secs_arg = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'n':
			notify = optarg;
			break;
		case 'r':
			if (argc - optind != 2)
				return usage();
			return read_one(argv[optind], argv[optind + 1]);
		default:
			return usage();
		}
	}
	if (!link || optind != argc)
		return usage();
	/* a link name refused as too long is still said, cut */
	notify_len = snprintf(notify_line, sizeof(notify_line), "%.15s\n", link);
	atexit(at_exit);
	{
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
					     SIGABRT, SIGPIPE };
		struct sigaction sa;
		size_t i;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = crashed;
		sa.sa_flags = SA_RESETHAND;
		for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &sa, NULL);
	}
	/* checked after atexit: a link name or -t refused is said on the
	 * FIFO too, where the init waits for every client with no bound of
	 * its own (ip=.:dhcp names a link "." that sysfs has) */
	if (!link_name_ok(link)) {
		fprintf(stderr, "nbdroot-dhcp4: -i \"%s\" is not a link name\n", link);
		return 2;
	}
	if (secs_arg) {
		secs = strtol(secs_arg, &end, 10);
		if (*end || secs < 1 || secs > 999999) {
			fprintf(stderr, "nbdroot-dhcp4: -t \"%s\" is not a number of seconds from 1 to 999999\n",
				secs_arg);
			return 2;
		}
	}
	signal(SIGTERM, drop_pidfile);
	write_pidfile();
	return run(link, (int)secs);
}
