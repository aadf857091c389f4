// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink for a lease: flush a link's IPv4 addresses, add one, add a
 * default route. One request at a time on one NETLINK_ROUTE socket; every
 * message the kernel returns is checked to lie within what was read
 * before its header or attributes are looked at.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "rtnl.h"

#define MAX_FLUSH	32	/* IPv4 addresses one dump collects */
#define FLUSH_ROUNDS	8	/* dumps before a flush gives up (E2BIG) */

struct rtnl_req {
	struct nlmsghdr nh;
	union {
		struct ifaddrmsg ifa;
		struct ifinfomsg ifi;
		struct rtmsg rt;
	} u;
	unsigned char attrs[64];
};

struct addr4 {
	uint32_t local, address;
	unsigned char prefix;
};

static unsigned char rx[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

int rtnl_link_index(const char *link)
{
	struct ifreq ifr;
	int s, r;

	if (!link[0] || strlen(link) >= sizeof(ifr.ifr_name))
		return -ENODEV;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, link);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -errno;
	r = ioctl(s, SIOCGIFINDEX, &ifr) < 0 ? -errno : ifr.ifr_ifindex;
	close(s);
	return r;
}

/* The process's one rtnetlink socket, opened at the first request and
 * closed by the exit: each event is one short-lived process. */
static int rtnl_sock(void)
{
	static int sock = -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int s;

	if (sock >= 0)
		return sock;
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(s);
		return -e;
	}
	sock = s;
	return sock;
}

static void put_u32(struct rtnl_req *r, unsigned short type, uint32_t v)
{
	struct rtattr *a = (struct rtattr *)((unsigned char *)r +
					     NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(a), &v, sizeof(v));
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void req_init(struct rtnl_req *r, unsigned short type,
		     unsigned short flags, size_t body)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(body);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
}

/*
 * Reads the kernel's answers to request seq: fn (may be NULL) sees each
 * data message; 0 at the ACK or the end of a dump, -errno on an error.
 */
static int wait_reply(int s, uint32_t seq,
		      void (*fn)(const struct nlmsghdr *nh, void *arg),
		      void *arg)
{
	const struct nlmsghdr *nh;
	const struct nlmsgerr *e;
	size_t off, len;
	ssize_t n;

	for (;;) {
		n = recv(s, rx, sizeof(rx), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (off = 0; off + NLMSG_HDRLEN <= (size_t)n; off += NLMSG_ALIGN(len)) {
			nh = (const struct nlmsghdr *)(rx + off);
			len = nh->nlmsg_len;
			if (len < NLMSG_HDRLEN || len > (size_t)n - off)
				return -EPROTO;
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				int e = 0;	/* a dump that failed says why */

				if (len >= NLMSG_HDRLEN + sizeof(e))
					memcpy(&e, NLMSG_DATA(nh), sizeof(e));
				return e < 0 ? e : 0;
			}
			if (nh->nlmsg_type != NLMSG_ERROR) {
				if (fn)
					fn(nh, arg);
				continue;
			}
			if (len < NLMSG_HDRLEN + sizeof(*e))
				return -EPROTO;
			e = NLMSG_DATA(nh);
			return e->error;
		}
	}
}

/* Sends r (its own sequence number) and reads the answers: fn sees a
 * dump's messages; 0 at the ACK or the dump's end, else -errno. */
static int exchange(struct rtnl_req *r,
		    void (*fn)(const struct nlmsghdr *nh, void *arg), void *arg)
{
	static uint32_t seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int s = rtnl_sock();

	if (s < 0)
		return s;
	r->nh.nlmsg_seq = ++seq;
	if (sendto(s, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return wait_reply(s, seq, fn, arg);
}

/* One request, its ACK or error. */
static int ask(struct rtnl_req *r)
{
	r->nh.nlmsg_flags |= NLM_F_ACK;
	return exchange(r, NULL, NULL);
}

struct flush_list {
	int index;
	unsigned int n;
	struct addr4 a[MAX_FLUSH];
};

/* An RTM_NEWADDR of the dump: kept when it is the link's IPv4. */
static void take_addr(const struct nlmsghdr *nh, void *arg)
{
	struct flush_list *fl = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *a;
	struct addr4 x = { 0, 0, 0 };
	int rem;

	if (nh->nlmsg_type != RTM_NEWADDR ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    ifa->ifa_family != AF_INET || (int)ifa->ifa_index != fl->index ||
	    fl->n >= MAX_FLUSH)
		return;
	rem = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)));
	a = (const struct rtattr *)((const unsigned char *)ifa +
				    NLMSG_ALIGN(sizeof(*ifa)));
	for (; RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		if (RTA_PAYLOAD(a) != 4)
			continue;
		if (a->rta_type == IFA_LOCAL)
			memcpy(&x.local, RTA_DATA(a), 4);
		else if (a->rta_type == IFA_ADDRESS)
			memcpy(&x.address, RTA_DATA(a), 4);
	}
	x.prefix = ifa->ifa_prefixlen;
	fl->a[fl->n++] = x;
}

static int del_addr(int index, const struct addr4 *x)
{
	struct rtnl_req r;

	req_init(&r, RTM_DELADDR, 0, sizeof(r.u.ifa));
	r.u.ifa.ifa_family = AF_INET;
	r.u.ifa.ifa_prefixlen = x->prefix;
	r.u.ifa.ifa_index = (unsigned int)index;
	put_u32(&r, IFA_LOCAL, x->local ? x->local : x->address);
	if (x->address)
		put_u32(&r, IFA_ADDRESS, x->address);
	return ask(&r);
}

/* One dump of the link's IPv4 addresses (at most MAX_FLUSH) into fl. */
static int list_addrs(int index, struct flush_list *fl)
{
	struct rtnl_req r;

	fl->index = index;
	fl->n = 0;
	req_init(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(r.u.ifa));
	r.u.ifa.ifa_family = AF_INET;
	return exchange(&r, take_addr, fl);
}

/* Dumps and deletes until a dump finds none: a link may hold more
 * addresses than one list takes. */
int rtnl_flush4(int index)
{
	struct flush_list fl;
	unsigned int i, round;
	int err;

	for (round = 0; round < FLUSH_ROUNDS; round++) {
		err = list_addrs(index, &fl);
		if (err || !fl.n)
			return err;
		for (i = 0; i < fl.n; i++) {
			err = del_addr(index, &fl.a[i]);
			/* secondaries go with their primary */
			if (err && err != -EADDRNOTAVAIL)
				return err;
		}
	}
	return -E2BIG;
}

int rtnl_link_up(int index)
{
	struct rtnl_req r;

	req_init(&r, RTM_NEWLINK, 0, sizeof(r.u.ifi));
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = index;
	r.u.ifi.ifi_flags = IFF_UP;
	r.u.ifi.ifi_change = IFF_UP;
	return ask(&r);
}

int rtnl_add4(int index, uint32_t addr, unsigned int prefix, uint32_t bcast)
{
	struct rtnl_req r;

	if (prefix > 32)
		return -EINVAL;
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(r.u.ifa));
	r.u.ifa.ifa_family = AF_INET;
	r.u.ifa.ifa_prefixlen = (unsigned char)prefix;
	r.u.ifa.ifa_index = (unsigned int)index;
	r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	put_u32(&r, IFA_LOCAL, addr);
	put_u32(&r, IFA_ADDRESS, addr);
	if (bcast)
		put_u32(&r, IFA_BROADCAST, bcast);
	return ask(&r);
}

int rtnl_default4(int index, uint32_t gw)
{
	struct rtnl_req r;

	req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(r.u.rt));
	r.u.rt.rtm_family = AF_INET;
	r.u.rt.rtm_table = RT_TABLE_MAIN;
	r.u.rt.rtm_protocol = RTPROT_BOOT;
	r.u.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	r.u.rt.rtm_type = RTN_UNICAST;
	put_u32(&r, RTA_GATEWAY, gw);
	put_u32(&r, RTA_OIF, (uint32_t)index);
	return ask(&r);
}
