// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink over a raw NETLINK_GENERIC socket. Replies from the
 * kernel are walked with explicit length checks before every header.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "genl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270		/* klibc lacks it; fixed in the kernel ABI */
#endif

#define NLA_HDRLEN_	((size_t)NLA_ALIGN(sizeof(struct nlattr)))

static unsigned char rx_buf[8192];

int genl_open(struct genl_sock *gs)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	gs->seq = 1;
	gs->fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (gs->fd < 0)
		return -1;
	if (bind(gs->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(gs->fd);
		return -1;
	}
	return 0;
}

void genl_close(struct genl_sock *gs)
{
	if (gs->fd >= 0)
		close(gs->fd);
	gs->fd = -1;
}

void genl_msg_init(struct genl_msg *m, uint16_t family, uint8_t cmd,
		   uint8_t version)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *gh = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nh->nlmsg_type = family;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	gh->cmd = cmd;
	gh->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->overflow = 0;
}

void genl_put(struct genl_msg *m, uint16_t type, const void *data,
	      size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t total = NLA_ALIGN(NLA_HDRLEN_ + len);

	if (m->overflow || total > sizeof(m->buf) - m->len) {
		m->overflow = 1;
		return;
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN_ + len);
	memset((unsigned char *)a + NLA_HDRLEN_, 0, total - NLA_HDRLEN_);
	if (len)
		memcpy((unsigned char *)a + NLA_HDRLEN_, data, len);
	m->len += total;
}

void genl_put_u32(struct genl_msg *m, uint16_t type, uint32_t v)
{
	genl_put(m, type, &v, sizeof(v));
}

void genl_put_u64(struct genl_msg *m, uint16_t type, uint64_t v)
{
	genl_put(m, type, &v, sizeof(v));
}

size_t genl_nest_start(struct genl_msg *m, uint16_t type)
{
	size_t start = m->len;

	genl_put(m, type | NLA_F_NESTED, NULL, 0);
	return start;
}

void genl_nest_end(struct genl_msg *m, size_t start)
{
	struct nlattr *a = (struct nlattr *)(m->buf + start);

	if (!m->overflow)
		a->nla_len = (uint16_t)(m->len - start);
}

static int genl_send(struct genl_sock *gs, struct genl_msg *m)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (m->overflow)
		return errno = EMSGSIZE, -1;
	nh->nlmsg_len = (uint32_t)m->len;
	nh->nlmsg_seq = ++gs->seq;
	if (sendto(gs->fd, m->buf, m->len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -1;
	return 0;
}

/*
 * Calls fn for each netlink message of the n bytes received in rx_buf,
 * each checked to lie within them, until fn returns non-zero; returns
 * that value, or 0.
 */
static int for_each_message(size_t n,
			    int (*fn)(const struct nlmsghdr *nh, size_t len,
				      void *arg),
			    void *arg)
{
	size_t off = 0, rem = n;
	int r;

	while (rem >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nh =
			(const struct nlmsghdr *)(rx_buf + off);
		size_t len = nh->nlmsg_len;

		if (len < NLMSG_HDRLEN || len > rem)
			return errno = EPROTO, -1;
		r = fn(nh, len, arg);
		if (r)
			return r;
		len = NLMSG_ALIGN(len);
		if (len >= rem)
			break;
		off += len;
		rem -= len;
	}
	return 0;
}

struct reply_wait {
	uint32_t seq;
	void (*on_data)(const unsigned char *attrs, size_t len, void *arg);
	void *arg;
};

/* 1 on the ACK, -1 on an error from the kernel, 0 to read on. */
static int reply_message(const struct nlmsghdr *nh, size_t len, void *arg)
{
	const struct reply_wait *w = arg;
	const unsigned char *p = (const unsigned char *)nh;

	if (nh->nlmsg_seq != w->seq)
		return 0;	/* a stale reply */
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		if (len < NLMSG_HDRLEN + sizeof(*e))
			return errno = EPROTO, -1;
		if (e->error)
			return errno = -e->error, -1;
		return 1;
	}
	if (nh->nlmsg_type == NLMSG_DONE)
		return 1;
	if (w->on_data && len >= NLMSG_HDRLEN + GENL_HDRLEN)
		w->on_data(p + NLMSG_HDRLEN + GENL_HDRLEN,
			   len - NLMSG_HDRLEN - GENL_HDRLEN, w->arg);
	return 0;
}

/*
 * Reads replies to the last request until its ACK or error. Data replies
 * are handed to on_data (may be NULL).
 */
static int genl_wait(struct genl_sock *gs,
		     void (*on_data)(const unsigned char *attrs, size_t len,
				     void *arg),
		     void *arg)
{
	struct reply_wait w = { .seq = gs->seq, .on_data = on_data,
				.arg = arg };
	ssize_t n;
	int r;

	for (;;) {
		n = recv(gs->fd, rx_buf, sizeof(rx_buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r = for_each_message((size_t)n, reply_message, &w);
		if (r)
			return r < 0 ? -1 : 0;
	}
}

int genl_transact(struct genl_sock *gs, struct genl_msg *m)
{
	if (genl_send(gs, m) < 0)
		return -1;
	return genl_wait(gs, NULL, NULL);
}

/* Calls fn for every attribute in [p, p+len). */
static void genl_walk(const unsigned char *p, size_t len,
		      void (*fn)(uint16_t type, const unsigned char *data,
				 size_t len, void *arg),
		      void *arg)
{
	while (len >= NLA_HDRLEN_) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = a->nla_len, step;

		if (alen < NLA_HDRLEN_ || alen > len)
			return;
		fn(a->nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN_,
		   alen - NLA_HDRLEN_, arg);
		step = NLA_ALIGN(alen);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

struct resolve {
	const char *mcast_name;
	uint16_t id;
	uint32_t mcast_id;
	uint32_t grp_id;
	int grp_match;
};

static void grp_attr(uint16_t type, const unsigned char *d, size_t len,
		     void *arg)
{
	struct resolve *r = arg;

	if (type == CTRL_ATTR_MCAST_GRP_ID && len >= 4)
		memcpy(&r->grp_id, d, 4);
	if (type == CTRL_ATTR_MCAST_GRP_NAME && r->mcast_name &&
	    strnlen((const char *)d, len) == strlen(r->mcast_name) &&
	    memcmp(d, r->mcast_name, strlen(r->mcast_name)) == 0)
		r->grp_match = 1;
}

static void grp_list(uint16_t type, const unsigned char *d, size_t len,
		     void *arg)
{
	struct resolve *r = arg;

	(void)type;
	r->grp_id = 0;
	r->grp_match = 0;
	genl_walk(d, len, grp_attr, r);
	if (r->grp_match)
		r->mcast_id = r->grp_id;
}

static void family_attr(uint16_t type, const unsigned char *d, size_t len,
			void *arg)
{
	struct resolve *r = arg;

	if (type == CTRL_ATTR_FAMILY_ID && len >= 2)
		memcpy(&r->id, d, 2);
	if (type == CTRL_ATTR_MCAST_GROUPS)
		genl_walk(d, len, grp_list, r);
}

static void family_reply(const unsigned char *attrs, size_t len, void *arg)
{
	genl_walk(attrs, len, family_attr, arg);
}

int genl_resolve(struct genl_sock *gs, const char *family,
		 const char *mcast_name, uint16_t *id, uint32_t *mcast_id)
{
	struct genl_msg m;
	struct resolve r = { .mcast_name = mcast_name };

	genl_msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	genl_put(&m, CTRL_ATTR_FAMILY_NAME, family, strlen(family) + 1);
	if (genl_send(gs, &m) < 0 || genl_wait(gs, family_reply, &r) < 0)
		return -1;
	if (!r.id)
		return errno = ENOENT, -1;
	*id = r.id;
	if (mcast_id)
		*mcast_id = r.mcast_id;
	return 0;
}

int genl_join(struct genl_sock *gs, uint32_t group)
{
	return setsockopt(gs->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
			  sizeof(group));
}

struct event_sink {
	void (*fn)(uint8_t cmd, const unsigned char *attrs, size_t len,
		   void *arg);
	void *arg;
};

static int event_message(const struct nlmsghdr *nh, size_t len, void *arg)
{
	const struct event_sink *sink = arg;
	const unsigned char *p = (const unsigned char *)nh;
	const struct genlmsghdr *gh = NLMSG_DATA(nh);

	if (len >= NLMSG_HDRLEN + GENL_HDRLEN)
		sink->fn(gh->cmd, p + NLMSG_HDRLEN + GENL_HDRLEN,
			 len - NLMSG_HDRLEN - GENL_HDRLEN, sink->arg);
	return 0;
}

int genl_next_events(struct genl_sock *gs, int timeout_ms,
		     void (*fn)(uint8_t cmd, const unsigned char *attrs,
				size_t len, void *arg),
		     void *arg)
{
	struct pollfd p = { .fd = gs->fd, .events = POLLIN };
	struct event_sink sink = { .fn = fn, .arg = arg };
	ssize_t n;
	int r = poll(&p, 1, timeout_ms);

	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	n = recv(gs->fd, rx_buf, sizeof(rx_buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (for_each_message((size_t)n, event_message, &sink) < 0)
		return -1;
	return 1;
}

struct find_u32 {
	uint16_t type;
	uint32_t value;
	int found;
};

static void find_u32_attr(uint16_t type, const unsigned char *d, size_t len,
			  void *arg)
{
	struct find_u32 *f = arg;

	if (type == f->type && len >= 4) {
		memcpy(&f->value, d, 4);
		f->found = 1;
	}
}

int genl_get_u32(const unsigned char *attrs, size_t len, uint16_t type,
		 uint32_t *v)
{
	struct find_u32 f = { .type = type };

	genl_walk(attrs, len, find_u32_attr, &f);
	if (!f.found)
		return -1;
	*v = f.value;
	return 0;
}
