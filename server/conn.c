// SPDX-License-Identifier: GPL-2.0
/*
 * One client connection's state: who it is, the export it opened, why it
 * failed, and the log line saying who it was, what it used and how it
 * ended. The phases (negotiate.c, transmit.c) record into it; the driver
 * that runs them is serve_client() in daemon.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"

/*
 * The peer's address alone (for "%s" and the log) and with its port.
 * An IPv4 client reaching a dual-stack socket arrives as ::ffff:a.b.c.d;
 * it is written as a.b.c.d, so that per-client file names do not depend
 * on which socket the client happened to reach. 0, or -1 for a family
 * that is not IP.
 */
int peer_describe(const struct sockaddr *sa, char *addr, size_t addrlen,
		  char *full, size_t fulllen)
{
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;
	char text[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
		snprintf(addr, addrlen, "%s", text);
		snprintf(full, fulllen, "%s:%u", text, ntohs(in4->sin_port));
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, text,
			  sizeof(text));
		snprintf(addr, addrlen, "%s", text);
		snprintf(full, fulllen, "%s:%u", text, ntohs(in6->sin6_port));
		return 0;
	}
	inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
	snprintf(addr, addrlen, "%s", text);
	snprintf(full, fulllen, "[%s]:%u", text, ntohs(in6->sin6_port));
	return 0;
}

static void describe_peer(struct conn *c)
{
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", "-");
	snprintf(c->peer, sizeof(c->peer), "%s", "stdin");
	if (c->peer_len > 0 &&
	    peer_describe((const struct sockaddr *)&c->peer_sa, c->peer_addr,
			  sizeof(c->peer_addr), c->peer, sizeof(c->peer)) < 0)
		c->peer_len = 0;
}

/* in and out may be the same socket; a peer address is looked up. */
void conn_init(struct conn *c, int in, int out, const struct config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->xp.in = in;
	c->xp.out = out;
	c->cfg = cfg;
	c->be.fd = -1;
	c->outcome = "closed";
	c->peer_len = sizeof(c->peer_sa);
	if (getpeername(in, (struct sockaddr *)&c->peer_sa, &c->peer_len) < 0)
		c->peer_len = 0;
	describe_peer(c);
}

/* Records why the connection failed; returns -1 for the caller to pass. */
int conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

static const struct sockaddr *conn_peer(const struct conn *c)
{
	return c->peer_len ? (const struct sockaddr *)&c->peer_sa : NULL;
}

static struct preopened *find_preopened(const struct conn *c,
					const struct export *e)
{
	size_t i;

	for (i = 0; i < c->npre; i++)
		if (c->pre[i].e == e)
			return &c->pre[i];
	return NULL;
}

/*
 * The keys that prove who may open e: its own tlspsk and cacertfile, or
 * [generic]'s. An export with keys of its own admits only peers those
 * keys prove (a PSK identity of its file, a certificate its CA signed);
 * one without admits PSK identities of [generic]'s file and X.509 peers
 * that [generic]'s cacertfile (if any) vouches for. Fails closed: a PSK
 * identity read only from another export's file opens nothing else.
 */
static void tls_keys_refusal(const struct conn *c, const struct export *e,
			     char *why, size_t whylen)
{
	const char *who = c->tls_psk ? "PSK identity" : "X.509 client";

	if (c->tls_psk && !e->own_psk && e->tlsca)
		snprintf(why, whylen, "%s \"%.80s\" refused: [%.40s] admits only certificates of its cacertfile",
			 who, c->identity, e->name);
	else if (!c->tls_psk && e->own_psk && !e->tlsca)
		snprintf(why, whylen, "%s \"%.80s\" refused: [%.40s] admits only identities of its tlspsk",
			 who, c->identity, e->name);
	else if (!c->tls_psk && !c->chain)
		snprintf(why, whylen, "X.509 client without a certificate refused: [%.40s] admits only certificates of %s cacertfile",
			 e->name, e->tlsca ? "its" : "[generic]'s");
	else if (c->tls_psk)
		snprintf(why, whylen, "%s \"%.80s\" is not in the tlspsk file of [%.40s]%s",
			 who, c->identity, e->name,
			 e->own_psk ? "" : " ([generic]'s)");
	else
		snprintf(why, whylen, "%s \"%.80s\" has no certificate from the cacertfile of [%.40s]%s",
			 who, c->identity, e->name,
			 e->tlsca ? "" : " ([generic]'s)");
}

static bool tls_keys_allowed(const struct conn *c, const struct export *e,
			     char *why, size_t whylen)
{
	const struct tls_trust *tr = e->trust ? e->trust : c->cfg->trust;
	size_t i;

	if (c->tls_psk && e->own_psk) {
		for (i = 0; i < e->pskids.n; i++)
			if (strcmp(e->pskids.names[i], c->identity) == 0)
				return true;
	} else if (c->tls_psk && !e->tlsca) {
		if (tls_server_psk_generic(c->cfg->tls, c->identity))
			return true;
	} else if (!c->tls_psk && !(e->own_psk && !e->tlsca)) {
		if (!tr || tls_chain_trusted(c->chain, tr))
			return true;
	}
	tls_keys_refusal(c, e, why, whylen);
	return false;
}

/* An export with TLS keys of its own, or tlsidentities: TLS only. */
bool export_tls_only(const struct export *e)
{
	return e->ntlsids || e->own_psk || e->tlsca;
}

/*
 * The peer's identity as e may use it: a certificate's CN counts only
 * where a cacertfile that applies to e vouches for it (tls_keys_allowed
 * checked the chain against it). With none, the CN is what another
 * export's CA signed: it names no one here (tlsidentities, cow files).
 */
static const char *export_identity(const struct conn *c,
				   const struct export *e)
{
	if (c->tls_on && !c->tls_psk && !e->trust && !c->cfg->trust)
		return "";
	return c->identity;
}

/* tlsidentities: the TLS peer's identity is one of those named. */
static bool tls_identity_allowed(const struct conn *c, const struct export *e,
				 char *why, size_t whylen)
{
	const char *id = export_identity(c, e);
	size_t i;

	if (!c->tls_on && export_tls_only(e)) {
		snprintf(why, whylen, "export [%s] has %s: plaintext refused",
			 e->name, e->ntlsids ? "tlsidentities" : "TLS keys of its own");
		return false;
	}
	if (c->tls_on && !tls_keys_allowed(c, e, why, whylen))
		return false;
	if (!e->ntlsids)
		return true;
	if (!id[0] && c->identity[0]) {
		snprintf(why, whylen, "X.509 client \"%.80s\" has no certificate from a cacertfile that applies to [%.40s]: its tlsidentities refuse it",
			 c->identity, e->name);
		return false;
	}
	for (i = 0; i < e->ntlsids; i++)
		if (strcmp(e->tlsids[i], id) == 0)
			return true;
	snprintf(why, whylen, "TLS identity \"%.80s\" is not in [%.40s] tlsidentities",
		 c->identity, e->name);
	return false;
}

/*
 * May this client use e? 1 yes; 0 or -1 no, with the reason in why.
 * After conn_preopen, what was found then (the authfile may be root's).
 */
int conn_export_allowed(const struct conn *c, const struct export *e,
			char *why, size_t whylen)
{
	const struct preopened *p = find_preopened(c, e);

	if (!tls_identity_allowed(c, e, why, whylen))
		return 0;
	if (!p)
		return export_allowed(e, conn_peer(c), why, whylen);
	snprintf(why, whylen, "%s", p->denied);
	return p->allowed;
}

static const char *conn_addr(const struct conn *c)
{
	return c->peer_len ? c->peer_addr : NULL;
}

/*
 * Whose copy of a copy-on-write export: over TLS the peer's identity (an
 * address from DHCP can change, an identity cannot), "tls=" keeping it
 * apart from any address; else the address. A TLS peer that proved no
 * identity (X.509 without cacertfile) is its address: one "tls=" file
 * for all of them would show each client the others' writes.
 */
static const char *conn_owner(struct conn *c, const struct export *e)
{
	const char *id = export_identity(c, e);

	if (!e->cow || !c->tls_on || !id[0])
		return conn_addr(c);
	snprintf(c->owner, sizeof(c->owner), "tls=%s", id);
	return c->owner;
}

/*
 * With TLS configured, whose copy-on-write files are wanted is known only
 * after STARTTLS: those exports are opened at GO, not before.
 */
static bool open_later(const struct conn *c, const struct export *e)
{
	return e->cow && c->cfg->tls;
}

/*
 * Before the privilege drop and the client's first byte: checks the
 * client's address against each export's authfile and opens every export
 * it may use as it would be opened at GO (its address in "%s" paths; a
 * copy-on-write export's pair of files in cowdir created if new), keeping
 * why one could not be for the option that asks for it. 0, or -1 with
 * c->why.
 */
int conn_preopen(struct conn *c)
{
	const struct export *e;
	struct preopened *p;
	size_t n = 0;

	for (e = c->cfg->exports; e; e = e->next)
		n++;
	c->pre = calloc(n ? n : 1, sizeof(*c->pre));
	if (!c->pre)
		return conn_fail(c, "no memory to open %zu exports", n);
	for (e = c->cfg->exports; e; e = e->next) {
		p = &c->pre[c->npre++];
		p->e = e;
		p->be.fd = -1;
		p->allowed = export_allowed(e, conn_peer(c), p->denied,
					    sizeof(p->denied));
		if (p->allowed != 1 || open_later(c, e))
			continue;
		p->failed = export_open(&p->be, e, conn_addr(c), false, p->why,
					sizeof(p->why)) < 0;
		if (!p->failed && e->gendir)
			generation_preopen(&p->be, e, conn_addr(c));
	}
	cow_spares_drop();
	return 0;
}

/* Closes what conn_preopen opened and nobody took. */
static void drop_preopened(struct conn *c)
{
	size_t i;

	for (i = 0; i < c->npre; i++)
		export_close(&c->pre[i].be);
	free(c->pre);
	c->pre = NULL;
	c->npre = 0;
}

/* e as conn_preopen opened it; GO takes it and closes the others. */
static int take_preopened(struct conn *c, const struct export *e, bool probe)
{
	struct preopened *p = find_preopened(c, e);

	if (p && p->allowed == 1 && open_later(c, e))
		return export_open(&c->be, e, conn_owner(c, e), probe, c->why,
				   sizeof(c->why));
	if (!p || p->allowed != 1)
		return conn_fail(c, "export [%s]: not opened before the privilege drop",
				 e->name);
	if (p->failed)
		return conn_fail(c, "%s", p->why);
	c->be.size = p->be.size;
	if (probe)
		return 0;
	c->be = p->be;
	p->be.fd = -1;
	p->be.cow = NULL;
	p->be.gen = NULL;
	drop_preopened(c);
	return 0;
}

/*
 * A GO for NAME@ID after conn_preopen: the current generation or an older
 * one of this client's, as opened before the privilege drop (DIR, cowdir
 * and the images may be root's alone).
 */
static int take_generation(struct conn *c, const struct export *e,
			   bool probe)
{
	struct preopened *p = find_preopened(c, e);

	if (p && p->allowed == 1 && !p->failed && !open_later(c, e)) {
		if (probe)
			return generation_select(&p->be, e, c->want_gen,
						 &c->be.size, c->why,
						 sizeof(c->why));
		if (generation_select(&p->be, e, c->want_gen, NULL, c->why,
				      sizeof(c->why)) < 0)
			return -1;
		return take_preopened(c, e, false);
	}
	if (p && p->allowed == 1 && open_later(c, e))
		return generation_open(&c->be, e, c->want_gen,
				       conn_owner(c, e), c->why,
				       sizeof(c->why));
	return take_preopened(c, e, probe);
}

/*
 * Opens e for this connection and sets c->exp and c->tflags; with probe
 * (NBD_OPT_INFO) only the size and flags. 0, or -1 with c->why.
 */
int conn_open_export(struct conn *c, const struct export *e, bool probe)
{
	int r;

	if (c->want_gen[0] && c->pre)
		r = take_generation(c, e, probe);
	else if (c->want_gen[0])
		r = generation_open(&c->be, e, c->want_gen, conn_owner(c, e),
				    c->why, sizeof(c->why));
	else if (c->pre)
		r = take_preopened(c, e, probe);
	else
		r = export_open(&c->be, e, conn_owner(c, e), probe, c->why,
				sizeof(c->why));
	if (r == 0 && !probe &&
	    generation_commit(&c->be, e, c->why, sizeof(c->why)) < 0) {
		export_close(&c->be);
		r = -1;
	}
	if (r < 0)
		return -1;
	if (!probe)
		cow_spares_drop();
	c->exp = e;
	c->tflags = export_flags(e, c->structured);
	if (generation_note(&c->be))
		snprintf(c->gen_note, sizeof(c->gen_note), "%s",
			 generation_note(&c->be));
	if (generation_id(&c->be))
		snprintf(c->exp_name, sizeof(c->exp_name), "%s@%s", e->name,
			 generation_id(&c->be));
	else if (c->want_gen[0])	/* NBD_OPT_INFO on a preopened one */
		snprintf(c->exp_name, sizeof(c->exp_name), "%s@%s", e->name,
			 c->want_gen);
	else
		snprintf(c->exp_name, sizeof(c->exp_name), "%s", e->name);
	c->why[0] = '\0';
	return 0;
}

/* Undoes conn_open_export (after NBD_OPT_INFO): negotiation goes on. */
void conn_close_export(struct conn *c)
{
	export_close(&c->be);
	c->exp = NULL;
	c->exp_name[0] = '\0';
	c->why[0] = '\0';
}

/*
 * The end of the connection, before its log line: the export's files are
 * closed, and a failure to close them cleanly (a copy-on-write map whose
 * time could not be set) is recorded. 0, or -1 with c->why.
 */
int conn_finish(struct conn *c)
{
	if (export_close(&c->be) == 0)
		return 0;
	if (!c->why[0])
		conn_fail(c, "closing export: %s", strerror(errno));
	return -1;
}

void conn_close(struct conn *c)
{
	drop_preopened(c);
	export_close(&c->be);
	/* close_notify at the end, by the kernel (kTLS) or by GnuTLS */
	if (c->ktls)
		ktls_close_notify(c->xp.out);
	tls_session_end(c->xp.tls, true);
	c->xp.tls = NULL;
	tls_chain_free(c->chain);
	c->chain = NULL;
	free(c->buf);
	c->buf = NULL;
	c->bufsize = 0;
	free(c->ibuf);
	free(c->obuf);
	c->ibuf = c->obuf = NULL;
}

/*
 * Copies at most len bytes of a peer-supplied string into dst as printable
 * ASCII: anything else becomes \xHH, and a long string ends in "..." (or
 * is just cut when dst has no room for it). Returns the length written;
 * dst is always terminated.
 */
size_t escape_string(char *dst, size_t dstlen, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;
	unsigned char ch;

	if (dstlen == 0)
		return 0;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if (o + 8 >= dstlen) {
			if (o + 4 <= dstlen) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'') {
			dst[o++] = (char)ch;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[ch >> 4];
		dst[o++] = hex[ch & 15];
	}
	dst[o] = '\0';
	return o;
}

/* "PEER export 'NAME': N requests, OUTCOME[: WHY]" ("no export" before GO) */
void conn_log_line(const struct conn *c, char *line, size_t len)
{
	char name[140];

	snprintf(name, sizeof(name), "no export");
	if (c->exp) {
		memcpy(name, "export '", 8);
		escape_string(name + 8, sizeof(name) - 9, c->exp_name,
			      strlen(c->exp_name));
		strcat(name, "'");
	}
	char who[SRV_ERRLEN + 16] = "";

	if (c->tls_on && c->identity[0])
		snprintf(who, sizeof(who), " (%s \"%.*s\" %s)",
			 c->ktls ? "kTLS" : "TLS", SRV_ERRLEN - 80, c->identity,
			 c->tlsdesc);
	else if (c->tls_on)
		snprintf(who, sizeof(who), " (%s %s)", c->ktls ? "kTLS" : "TLS",
			 c->tlsdesc);
	snprintf(line, len, "%s%s %s: %llu requests, %s%s%s", c->peer, who,
		 name, (unsigned long long)c->requests, c->outcome,
		 c->why[0] ? ": " : "", c->why);
}
