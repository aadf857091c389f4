// SPDX-License-Identifier: GPL-2.0
/*
 * Client side of the fixed-newstyle handshake (proto.md "Newstyle
 * negotiation"): NBD_OPT_GO, falling back to NBD_OPT_EXPORT_NAME when the
 * server answers ERR_UNSUP. Structured replies are never negotiated: the
 * socket goes to nbd.ko, which parses only simple replies.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "nbd-proto.h"
#include "nbd-client.h"

struct session {
	struct transport t;
	const char *peer;
	const char *name;
	uint16_t hflags;
	struct deadline deadline;
};

static unsigned char reply_buf[CLIENT_MAX_OPT_REPLY];

/* Server text goes into our messages: printable ASCII only, bounded. */
static void printable(char *dst, size_t dstlen, const unsigned char *src,
		      size_t srclen)
{
	size_t i, n = 0;

	for (i = 0; i < srclen && n + 1 < dstlen; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static int io_error(const struct session *s, const char *what)
{
	if (s->t.err)
		return client_error("server %s: %s: TLS: %s", s->peer, what,
				    s->t.err);
	if (errno == 0)
		return client_error("server %s closed the connection %s",
				    s->peer, what);
	return client_error("server %s: %s: %s", s->peer, what,
			    strerror(errno));
}

static int send_option(struct session *s, uint32_t option,
		       const unsigned char *data, uint32_t len)
{
	unsigned char hdr[NBD_OPT_HDR_SIZE];
	struct nbd_opt_hdr opt = { .option = option, .length = len };

	nbd_opt_hdr_encode(hdr, &opt);
	if (transport_write(&s->t, hdr, sizeof(hdr), &s->deadline) < 0 ||
	    transport_write(&s->t, data, len, &s->deadline) < 0)
		return io_error(s, "while sending an option");
	return 0;
}

static int read_greeting(struct session *s)
{
	unsigned char buf[NBD_GREETING_SIZE];
	int r;

	if (transport_read(&s->t, buf, sizeof(buf), &s->deadline) < 0)
		return io_error(s, "before its greeting");
	r = nbd_greeting_decode(buf, &s->hflags);
	if (r < 0 && get_be64(buf) != NBD_MAGIC)
		return client_error("server %s is not an NBD server (bad magic 0x%016llx)",
				    s->peer, (unsigned long long)get_be64(buf));
	if (r < 0)
		return client_error("server %s is not a newstyle NBD server (bad magic 0x%016llx after NBDMAGIC)",
				    s->peer,
				    (unsigned long long)get_be64(buf + 8));
	if (r == 1)
		return client_error("server %s speaks the oldstyle protocol, which is not supported",
				    s->peer);
	return 0;
}

static int send_client_flags(struct session *s)
{
	unsigned char buf[4];

	put_be32(buf, s->hflags & (NBD_FLAG_C_FIXED_NEWSTYLE |
				   NBD_FLAG_C_NO_ZEROES));
	if (transport_write(&s->t, buf, sizeof(buf), &s->deadline) < 0)
		return io_error(s, "after its greeting");
	return 0;
}

static int parse_info(const struct session *s, const unsigned char *p,
		      uint32_t len, struct export_info *info, int *have_export)
{
	if (len < 2)
		return client_error("server %s sent a truncated INFO reply (%u bytes)",
				    s->peer, len);
	switch (get_be16(p)) {
	case NBD_INFO_EXPORT:
		if (len != 12)
			return client_error("server %s sent NBD_INFO_EXPORT of %u bytes (expected 12)",
					    s->peer, len);
		info->size = get_be64(p + 2);
		info->flags = get_be16(p + 10);
		*have_export = 1;
		break;
	case NBD_INFO_BLOCK_SIZE:
		if (len != 14)
			return client_error("server %s sent NBD_INFO_BLOCK_SIZE of %u bytes (expected 14)",
					    s->peer, len);
		info->min_bs = get_be32(p + 2);
		info->pref_bs = get_be32(p + 6);
		info->max_bs = get_be32(p + 10);
		break;
	case NBD_INFO_NAME:
		/* proto.md: the name is not NUL-terminated; never contains one */
		if (len - 2 >= sizeof(info->canon) || memchr(p + 2, 0, len - 2))
			return client_error("server %s sent an NBD_INFO_NAME of %u bytes that is no export name",
					    s->peer, len - 2);
		memcpy(info->canon, p + 2, len - 2);
		info->canon[len - 2] = '\0';
		break;
	default:
		break;	/* DESCRIPTION and future types: not needed */
	}
	return 0;
}

static int go_error(const struct session *s, uint32_t type,
		    const unsigned char *p, uint32_t len)
{
	char text[128];

	printable(text, sizeof(text), p, len);
	if (type == NBD_REP_ERR_UNKNOWN)
		return client_error("server %s has no export \"%s\"",
				    s->peer, s->name);
	if (type == NBD_REP_ERR_POLICY)
		return client_error("server %s refused export \"%s\"%s%s",
				    s->peer, s->name, len ? ": " : "", text);
	if (type == NBD_REP_ERR_TLS_REQD)
		return client_error("server %s requires TLS: give its key with -tls-psk FILE",
				    s->peer);
	return client_error("server %s: GO for export \"%s\" failed: %s%s%s",
			    s->peer, s->name, nbd_rep_name(type),
			    len ? ": " : "", text);
}

static int read_option_reply(struct session *s, uint32_t option,
			     struct nbd_opt_reply_hdr *rep)
{
	unsigned char hdr[NBD_OPT_REPLY_HDR_SIZE];

	if (transport_read(&s->t, hdr, sizeof(hdr), &s->deadline) < 0)
		return io_error(s, "during option negotiation");
	if (nbd_opt_reply_hdr_decode(hdr, rep) < 0)
		return client_error("server %s sent an option reply with a bad magic 0x%016llx",
				    s->peer, (unsigned long long)get_be64(hdr));
	if (rep->option != option)
		return client_error("server %s replied to option %s while %s was asked",
				    s->peer, nbd_opt_name(rep->option),
				    nbd_opt_name(option));
	if (rep->length > CLIENT_MAX_OPT_REPLY)
		return client_error("server %s sent an oversized %s reply (%u bytes)",
				    s->peer, nbd_opt_name(option), rep->length);
	if (transport_read(&s->t, reply_buf, rep->length, &s->deadline) < 0)
		return io_error(s, "during option negotiation");
	return 0;
}

/* Returns 0 when in transmission, 1 when GO is unsupported, -1 on error. */
static int opt_go(struct session *s, struct export_info *info)
{
	unsigned char data[4 + NBD_MAX_NAME + 2 + 2 * 2];
	uint32_t namelen = (uint32_t)strlen(s->name);
	struct nbd_opt_reply_hdr rep;
	int have_export = 0;

	put_be32(data, namelen);
	memcpy(data + 4, s->name, namelen);
	put_be16(data + 4 + namelen, 2);
	put_be16(data + 6 + namelen, NBD_INFO_BLOCK_SIZE);
	put_be16(data + 8 + namelen, NBD_INFO_NAME);
	if (send_option(s, NBD_OPT_GO, data, 10 + namelen) < 0)
		return -1;
	for (;;) {
		if (read_option_reply(s, NBD_OPT_GO, &rep) < 0)
			return -1;
		if (rep.type == NBD_REP_ACK)
			break;
		if (rep.type == NBD_REP_ERR_UNSUP)
			return 1;
		if (rep.type & NBD_REP_FLAG_ERROR)
			return go_error(s, rep.type, reply_buf, rep.length);
		if (rep.type != NBD_REP_INFO)
			return client_error("server %s sent reply %s to GO",
					    s->peer, nbd_rep_name(rep.type));
		if (parse_info(s, reply_buf, rep.length, info,
			       &have_export) < 0)
			return -1;
	}
	if (!have_export)
		return client_error("server %s acknowledged GO without describing the export",
				    s->peer);
	return 0;
}

static int opt_export_name(struct session *s, struct export_info *info)
{
	unsigned char buf[NBD_EXPORT_NAME_REPLY_SIZE + NBD_EXPORT_NAME_PAD];
	size_t len = NBD_EXPORT_NAME_REPLY_SIZE;

	if (!(s->hflags & NBD_FLAG_NO_ZEROES))
		len += NBD_EXPORT_NAME_PAD;
	if (send_option(s, NBD_OPT_EXPORT_NAME,
			(const unsigned char *)s->name,
			(uint32_t)strlen(s->name)) < 0)
		return -1;
	/* EXPORT_NAME cannot carry an error: a server without it just closes */
	if (transport_read(&s->t, buf, len, &s->deadline) < 0) {
		if (!s->t.err && errno == 0)
			return client_error("server %s has no export \"%s\" (it closed the connection)",
					    s->peer, s->name);
		return io_error(s, "after EXPORT_NAME");
	}
	info->size = get_be64(buf);
	info->flags = get_be16(buf + 8);
	return 0;
}

/* "TLS with PEER failed: <reason>": reason NULL takes the last error */
static int tls_failed(const struct session *s, const char *reason)
{
	char why[CLIENT_ERRLEN];

	snprintf(why, sizeof(why), "%s", reason ? reason : client_last_error());
	return client_error("TLS with %s failed: %s", s->peer, why);
}

/*
 * NBD_OPT_STARTTLS (proto.md "TLS support"), then the TLS handshake; the
 * negotiation then goes on inside TLS. TLS was asked for: whatever the
 * server says, nothing falls back to plaintext.
 */
static int start_tls(struct session *s, const struct tls_psk *psk)
{
	struct nbd_opt_reply_hdr rep;
	const char *err;
	char text[128];

	if (!(s->hflags & NBD_FLAG_FIXED_NEWSTYLE))
		return tls_failed(s, "server does not support STARTTLS (no fixed newstyle negotiation)");
	if (send_option(s, NBD_OPT_STARTTLS, NULL, 0) < 0 ||
	    read_option_reply(s, NBD_OPT_STARTTLS, &rep) < 0)
		return tls_failed(s, NULL);
	printable(text, sizeof(text), reply_buf, rep.length);
	if (rep.type & NBD_REP_FLAG_ERROR) {
		client_error("server does not support STARTTLS (%s%s%s)",
			     nbd_rep_name(rep.type), rep.length ? ": " : "",
			     text);
		return tls_failed(s, NULL);
	}
	if (rep.type != NBD_REP_ACK || rep.length) {
		client_error("server answered STARTTLS with %s of %u bytes",
			     nbd_rep_name(rep.type), rep.length);
		return tls_failed(s, NULL);
	}
	err = tls_session_start(&s->t, psk, &s->deadline);
	return err ? tls_failed(s, err) : 0;
}

static int negotiate(struct session *s, int no_optgo,
		     const struct tls_psk *psk, struct export_info *info)
{
	const char *err;
	int r = 1;

	if (read_greeting(s) < 0 || send_client_flags(s) < 0)
		return -1;
	if (psk && start_tls(s, psk) < 0)
		return -1;
	if ((s->hflags & NBD_FLAG_FIXED_NEWSTYLE) && !no_optgo)
		r = opt_go(s, info);
	if (r == 1)
		r = opt_export_name(s, info);
	if (r < 0)
		return -1;
	err = psk ? tls_session_hand_over(&s->t, &s->deadline) : NULL;
	return err ? tls_failed(s, err) : 0;
}

int negotiate_export(int fd, const char *peer, const char *name,
		     int no_optgo, const struct tls_psk *psk,
		     struct export_info *info)
{
	struct session s = {
		.t = { .fd = fd }, .peer = peer, .name = name,
	};
	int r;

	deadline_start(&s.deadline, client_timeout * 1000LL);
	memset(info, 0, sizeof(*info));
	if (strlen(name) > NBD_MAX_NAME)
		return client_error("export name too long (%zu > %d)",
				    strlen(name), NBD_MAX_NAME);
	r = negotiate(&s, no_optgo, psk, info);
	tls_session_end(&s.t);
	if (r < 0)
		return -1;
	if (!(info->flags & NBD_FLAG_HAS_FLAGS))
		info->flags = 0;
	if (info->size == 0)
		return client_error("server %s: export \"%s\" has size 0",
				    peer, name);
	return 0;
}

/* One NBD_REP_SERVER: u32 name length, name, then the description. */
static int parse_server_reply(const struct session *s, const unsigned char *p,
			      uint32_t len, char *name, size_t namelen,
			      char *desc, size_t desclen)
{
	uint32_t n;

	if (len < 4)
		return client_error("server %s sent a truncated LIST reply (%u bytes)",
				    s->peer, len);
	n = get_be32(p);
	if (n > len - 4)
		return client_error("server %s sent a LIST reply whose name (%u bytes) overruns it (%u bytes)",
				    s->peer, n, len);
	printable(name, namelen, p + 4, n);
	printable(desc, desclen, p + 4 + n, len - 4 - n);
	return 0;
}

static int list(struct session *s, const struct tls_psk *psk,
		void (*fn)(const char *name, const char *desc))
{
	struct nbd_opt_reply_hdr rep;
	char name[NBD_MAX_NAME + 1], desc[256];
	int count = 0;

	if (read_greeting(s) < 0 || send_client_flags(s) < 0)
		return -1;
	if (psk && start_tls(s, psk) < 0)
		return -1;
	if (!(s->hflags & NBD_FLAG_FIXED_NEWSTYLE))
		return client_error("server %s cannot list its exports (no fixed newstyle)",
				    s->peer);
	if (send_option(s, NBD_OPT_LIST, NULL, 0) < 0)
		return -1;
	for (;;) {
		if (read_option_reply(s, NBD_OPT_LIST, &rep) < 0)
			return -1;
		if (rep.type == NBD_REP_ACK)
			break;
		if (rep.type == NBD_REP_ERR_TLS_REQD)
			return client_error("server %s requires TLS: give its key with -tls-psk FILE",
					    s->peer);
		if (rep.type & NBD_REP_FLAG_ERROR) {
			printable(desc, sizeof(desc), reply_buf, rep.length);
			return client_error("server %s refused to list its exports: %s%s%s",
					    s->peer, nbd_rep_name(rep.type),
					    rep.length ? ": " : "", desc);
		}
		if (rep.type != NBD_REP_SERVER)
			return client_error("server %s sent reply %s to LIST",
					    s->peer, nbd_rep_name(rep.type));
		if (parse_server_reply(s, reply_buf, rep.length, name,
				       sizeof(name), desc, sizeof(desc)) < 0)
			return -1;
		fn(name, desc);
		count++;
	}
	/* ABORT is a courtesy; the server may close without its ACK */
	send_option(s, NBD_OPT_ABORT, NULL, 0);
	return count;
}

/*
 * -list: NBD_OPT_LIST, then NBD_OPT_ABORT (inside TLS with psk). fn gets
 * each export's name and description, made printable. Returns the number
 * of exports, or -1.
 */
int list_exports(int fd, const char *peer, const struct tls_psk *psk,
		 void (*fn)(const char *name, const char *desc))
{
	struct session s = {
		.t = { .fd = fd }, .peer = peer, .name = "",
	};
	int r;

	deadline_start(&s.deadline, client_timeout * 1000LL);
	r = list(&s, psk, fn);
	tls_session_end(&s.t);
	return r;
}
