// SPDX-License-Identifier: GPL-2.0
/*
 * TLS for NBD_OPT_STARTTLS with GnuTLS: the server's credentials (PSK keys
 * read whole at startup, X.509 certificate and key, the CA that client
 * certificates must chain to) and one session per connection. Keys are
 * read before the privilege drop, so a 0600 root-owned key file works and
 * a file the server cannot load stops it at startup. No session tickets:
 * after the handshake nothing but application data may follow (a kTLS
 * peer cannot take another record type).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conn.h"
#include "server.h"

#define TLS_MAX_IDENTITY	128	/* PSK identity, bytes */
#define TLS_MAX_KEY		64	/* PSK key, bytes */
#define TLS_MAX_PSK_LINE	(TLS_MAX_IDENTITY + 2 * TLS_MAX_KEY + 2)

/*
 * TLS 1.3 and 1.2 (proto.md asks for 1.2 at least; nothing older), the
 * PSK key exchanges added (NORMAL has none of them), with (EC)DHE ones
 * first so a PSK session still has forward secrecy.
 */
#define TLS_DEFAULT_PRIO \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-PSK:+DHE-PSK:+PSK"

struct psk_entry {
	char identity[TLS_MAX_IDENTITY + 1];
	unsigned char key[TLS_MAX_KEY];
	size_t keylen;
	unsigned file;		/* which tlspsk line read it (1, 2, ...) */
	bool generic;		/* in [generic]'s file: opens exports without
				   a tlspsk of their own */
};

struct tls_server {
	struct psk_entry *psk;
	size_t npsk;
	unsigned nfiles;	/* tlspsk files read into psk */
	bool generic_psk;	/* one of them is [generic]'s */
	gnutls_psk_server_credentials_t pskcred;
	gnutls_certificate_credentials_t x509;
	bool client_certs;	/* [generic] cacertfile: a certificate required */
	bool export_certs;	/* an export's cacertfile: one asked for */
	gnutls_priority_t prio;
};

/* A client's certificates, leaf first, as it sent them. */
#define TLS_MAX_CHAIN	8
struct tls_chain {
	gnutls_x509_crt_t crt[TLS_MAX_CHAIN];
	unsigned n;
};

struct tls_session {
	gnutls_session_t s;
	const struct tls_server *ts;
	int out;				/* where records go */
	bool kernel_tx;				/* kTLS took TX but not RX */
	bool send_failed;			/* a record may be cut short */
	char asked[TLS_MAX_IDENTITY + 8];	/* the client's, escaped */
	bool unknown;				/* not in the tlspsk file */
	char identity[SRV_ERRLEN];		/* who the peer proved to be */
};

static struct tls_server *server_get(struct tls_server **ts)
{
	if (!*ts)
		*ts = calloc(1, sizeof(**ts));
	return *ts;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "identity:hexkey" of len bytes (no newline). 0, or -1 with why. */
static int psk_parse_line(const char *line, size_t len, struct psk_entry *pe,
			  char *why, size_t whylen)
{
	const char *colon = memchr(line, ':', len);
	size_t idlen, hexlen, i;
	int hi, lo;

	if (!colon) {
		snprintf(why, whylen, "no ':' between identity and key");
		return -1;
	}
	idlen = (size_t)(colon - line);
	hexlen = len - idlen - 1;
	if (idlen == 0 || idlen > TLS_MAX_IDENTITY) {
		snprintf(why, whylen, "identity of %zu bytes (1 to %u)", idlen,
			 TLS_MAX_IDENTITY);
		return -1;
	}
	if (hexlen == 0 || hexlen % 2 || hexlen > 2 * TLS_MAX_KEY) {
		snprintf(why, whylen, "key of %zu hex digits (an even number, 2 to %u)",
			 hexlen, 2 * TLS_MAX_KEY);
		return -1;
	}
	memcpy(pe->identity, line, idlen);
	pe->identity[idlen] = '\0';
	for (i = 0; i < hexlen / 2; i++) {
		hi = hexval(colon[1 + 2 * i]);
		lo = hexval(colon[2 + 2 * i]);
		if (hi < 0 || lo < 0) {
			snprintf(why, whylen, "key of identity \"%.60s\" is not hex",
				 pe->identity);
			return -1;
		}
		pe->key[i] = (unsigned char)(hi << 4 | lo);
	}
	pe->keylen = hexlen / 2;
	return 0;
}

static struct psk_entry *psk_find(const struct tls_server *ts,
				  const char *identity)
{
	size_t i;

	for (i = 0; i < ts->npsk; i++)
		if (strcmp(ts->psk[i].identity, identity) == 0)
			return &ts->psk[i];
	return NULL;
}

/*
 * An identity already read from an earlier file: the handshake comes
 * before the client names an export, so one identity has one key in all
 * of the server's files. 1 merged, 0 new, -1 a conflict (why).
 */
static int psk_merge(struct tls_server *ts, const struct psk_entry *pe,
		     char *why, size_t whylen)
{
	struct psk_entry *old = psk_find(ts, pe->identity);

	if (!old)
		return 0;
	if (old->file == pe->file) {
		snprintf(why, whylen, "identity \"%.60s\" given twice",
			 pe->identity);
		return -1;
	}
	if (old->keylen != pe->keylen ||
	    memcmp(old->key, pe->key, pe->keylen) != 0) {
		snprintf(why, whylen, "identity \"%.60s\" has another key in an earlier tlspsk file",
			 pe->identity);
		return -1;
	}
	old->generic |= pe->generic;
	return 1;
}

/*
 * One more entry. No realloc: the old array, keys in it, is wiped before
 * it is freed. A second line for an identity is an error (which key the
 * administrator meant is not ours to guess).
 */
static int psk_add(struct tls_server *ts, const char *line, size_t len,
		   bool generic, char *why, size_t whylen)
{
	struct psk_entry pe = { .file = ts->nfiles, .generic = generic }, *n;
	int r = -1;

	if (psk_parse_line(line, len, &pe, why, whylen) < 0)
		goto out;
	r = psk_merge(ts, &pe, why, whylen);
	if (r != 0) {
		r = r > 0 ? 0 : -1;
		goto out;
	}
	r = -1;
	n = malloc((ts->npsk + 1) * sizeof(*n));
	if (!n) {
		snprintf(why, whylen, "no memory");
		goto out;
	}
	if (ts->npsk)
		memcpy(n, ts->psk, ts->npsk * sizeof(*n));
	n[ts->npsk] = pe;
	if (ts->psk)
		explicit_bzero(ts->psk, ts->npsk * sizeof(*n));
	free(ts->psk);
	ts->psk = n;
	ts->npsk++;
	r = 0;
out:
	explicit_bzero(&pe, sizeof(pe));
	return r;
}

static int psk_lookup(gnutls_session_t s, const char *username,
		      gnutls_datum_t *key)
{
	struct tls_session *ts = gnutls_session_get_ptr(s);
	size_t i;

	/* unauthenticated bytes, bound for the log: no newline forges a line */
	escape_string(ts->asked, sizeof(ts->asked), username, strlen(username));
	for (i = 0; i < ts->ts->npsk; i++) {
		const struct psk_entry *pe = &ts->ts->psk[i];

		if (strcmp(pe->identity, username) != 0)
			continue;
		key->data = gnutls_malloc(pe->keylen);
		if (!key->data)
			return -1;
		memcpy(key->data, pe->key, pe->keylen);
		key->size = (unsigned)pe->keylen;
		return 0;
	}
	ts->unknown = true;
	return -1;
}

/* The export's list of its file's identities; a second line is an error. */
static int ids_add(struct tls_ids *ids, const char *line, size_t len,
		   char *why, size_t whylen)
{
	size_t idlen = (size_t)((const char *)memchr(line, ':', len) - line);
	char **n;
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (strlen(ids->names[i]) == idlen &&
		    memcmp(ids->names[i], line, idlen) == 0) {
			snprintf(why, whylen, "identity \"%.60s\" given twice",
				 ids->names[i]);
			return -1;
		}
	n = realloc(ids->names, (ids->n + 1) * sizeof(*n));
	if (!n)
		goto nomem;
	ids->names = n;
	ids->names[ids->n] = strndup(line, idlen);
	if (!ids->names[ids->n])
		goto nomem;
	ids->n++;
	return 0;
nomem:
	snprintf(why, whylen, "no memory");
	return -1;
}

/* One line of a tlspsk file, into the server's keys and ids (if any). */
static int psk_line(struct tls_server *ts, const char *line, size_t len,
		    struct tls_ids *ids, char *why, size_t whylen)
{
	if (psk_add(ts, line, len, !ids, why, whylen) < 0)
		return -1;
	return ids ? ids_add(ids, line, len, why, whylen) : 0;
}

static int psk_read(struct tls_server *ts, FILE *f, const char *path,
		    struct tls_ids *ids, char *why, size_t whylen)
{
	char line[TLS_MAX_PSK_LINE + 2], msg[SRV_ERRLEN / 2 + 32];
	unsigned n = 0, found = 0;
	size_t len;
	int r = 0;

	while (r == 0 && fgets(line, sizeof(line), f)) {
		n++;
		len = strcspn(line, "\n");
		if (len && line[len - 1] == '\r')
			len--;		/* CRLF; a lone CR elsewhere is not hex */
		if (line[len] == '\0' && !feof(f)) {
			snprintf(why, whylen, "tlspsk %s:%u: line longer than %u bytes",
				 path, n, TLS_MAX_PSK_LINE);
			r = -1;
		} else if (len && psk_line(ts, line, len, ids, msg,
					   sizeof(msg)) < 0) {
			snprintf(why, whylen, "tlspsk %s:%u: %s", path, n, msg);
			r = -1;
		} else if (len) {
			found++;
		}
	}
	explicit_bzero(line, sizeof(line));
	if (r == 0 && found == 0) {
		snprintf(why, whylen, "tlspsk %s: no identity:key line", path);
		r = -1;
	}
	return r;
}

/*
 * Reads psktool's "identity:hexkey" lines (blank lines skipped) into the
 * keys the handshake knows: [generic]'s file (ids NULL) and every
 * export's, whose identities go to ids too. 0, or -1 with why naming the
 * file's line.
 */
int tls_server_psk(struct tls_server **tsp, const char *path,
		   struct tls_ids *ids, char *why, size_t whylen)
{
	struct tls_server *ts = server_get(tsp);
	FILE *f;
	int r;

	if (!ts || (!ids && ts->generic_psk)) {
		snprintf(why, whylen, "tlspsk %s: %s", path,
			 ts ? "a second tlspsk" : "no memory");
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, whylen, "tlspsk %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IONBF, 0);	/* no copy of the keys in stdio's buffer */
	ts->nfiles++;
	r = psk_read(ts, f, path, ids, why, whylen);
	fclose(f);
	if (r == 0 && !ids)
		ts->generic_psk = true;
	if (r == 0 && !ts->pskcred) {
		if (gnutls_psk_allocate_server_credentials(&ts->pskcred) < 0) {
			snprintf(why, whylen, "tlspsk %s: no memory", path);
			return -1;
		}
		gnutls_psk_set_server_credentials_function(ts->pskcred,
							   psk_lookup);
	}
	return r;
}

/* May a PSK peer of this identity open exports without a tlspsk? */
bool tls_server_psk_generic(const struct tls_server *ts, const char *identity)
{
	const struct psk_entry *pe = ts ? psk_find(ts, identity) : NULL;

	return pe && pe->generic;
}

/* certfile and keyfile (both), cacertfile (optional). 0, or -1 with why. */
int tls_server_x509(struct tls_server **tsp, const char *cert,
		    const char *key, const char *ca, char *why, size_t whylen)
{
	struct tls_server *ts = server_get(tsp);
	int r;

	if (!ts) {
		snprintf(why, whylen, "no memory");
		return -1;
	}
	if (!cert || !key) {
		snprintf(why, whylen, "certfile and keyfile go together (%s given)",
			 cert ? "only certfile" : "only keyfile");
		return -1;
	}
	if (gnutls_certificate_allocate_credentials(&ts->x509) < 0) {
		snprintf(why, whylen, "no memory");
		return -1;
	}
	r = gnutls_certificate_set_x509_key_file(ts->x509, cert, key,
						 GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(why, whylen, "certfile %s, keyfile %s: %s", cert, key,
			 gnutls_strerror(r));
		return -1;
	}
	if (!ca)
		return 0;
	r = gnutls_certificate_set_x509_trust_file(ts->x509, ca,
						   GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		snprintf(why, whylen, "cacertfile %s: %s", ca,
			 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		return -1;
	}
	ts->client_certs = true;
	return 0;
}

/*
 * The certificates that a trust list of its own can vouch for: a file
 * of one or more CA certificates. 0, or -1 with why.
 */
int tls_trust_load(const char *path, struct tls_trust **out, char *why,
		   size_t whylen)
{
	gnutls_x509_trust_list_t list;
	int r;

	if (gnutls_x509_trust_list_init(&list, 0) < 0) {
		snprintf(why, whylen, "no memory");
		return -1;
	}
	r = gnutls_x509_trust_list_add_trust_file(list, path, NULL,
						  GNUTLS_X509_FMT_PEM, 0, 0);
	if (r <= 0) {
		snprintf(why, whylen, "cacertfile %s: %s", path,
			 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		gnutls_x509_trust_list_deinit(list, 1);
		return -1;
	}
	*out = (struct tls_trust *)list;
	return 0;
}

void tls_trust_free(struct tls_trust *tr)
{
	if (tr)
		gnutls_x509_trust_list_deinit((gnutls_x509_trust_list_t)tr, 1);
}

/*
 * An export's cacertfile: its CA joins those the handshake accepts (the
 * export is named after it), and a client certificate is asked for,
 * required only when [generic] has a cacertfile. 0, or -1 with why.
 */
int tls_server_export_ca(struct tls_server *ts, const char *path, char *why,
			 size_t whylen)
{
	int r;

	if (!ts || !ts->x509) {
		snprintf(why, whylen, "cacertfile %s without certfile and keyfile in [generic]",
			 path);
		return -1;
	}
	r = gnutls_certificate_set_x509_trust_file(ts->x509, path,
						   GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		snprintf(why, whylen, "cacertfile %s: %s", path,
			 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		return -1;
	}
	ts->export_certs = true;
	return 0;
}

/* The priority string (NULL: TLS_DEFAULT_PRIO). 0, or -1 with why. */
int tls_server_prio(struct tls_server *ts, const char *prio, char *why,
		    size_t whylen)
{
	const char *err = NULL;
	int r;

	if (!prio)
		prio = TLS_DEFAULT_PRIO;
	r = gnutls_priority_init(&ts->prio, prio, &err);
	if (r < 0) {
		snprintf(why, whylen, "tlsprio \"%s\": %s at \"%.40s\"", prio,
			 gnutls_strerror(r), err ? err : "");
		return -1;
	}
	return 0;
}

void tls_server_free(struct tls_server *ts)
{
	if (!ts)
		return;
	if (ts->pskcred)
		gnutls_psk_free_server_credentials(ts->pskcred);
	if (ts->x509)
		gnutls_certificate_free_credentials(ts->x509);
	if (ts->prio)
		gnutls_priority_deinit(ts->prio);
	if (ts->psk)
		explicit_bzero(ts->psk, ts->npsk * sizeof(*ts->psk));
	free(ts->psk);
	free(ts);
}

/* The client certificate's DN, checked against cacertfile. */
static int peer_certificate(struct tls_session *t, char *why, size_t whylen)
{
	const gnutls_datum_t *list;
	gnutls_x509_crt_t crt;
	unsigned status = 0, n = 0;
	size_t len = sizeof(t->identity);
	int r;

	list = gnutls_certificate_get_peers(t->s, &n);
	if ((!list || n == 0) && !t->ts->client_certs)
		return 0;	/* asked for, not required: no identity */
	r = gnutls_certificate_verify_peers2(t->s, &status);
	if (r < 0 || status) {
		snprintf(why, whylen, "client certificate not trusted: %s",
			 r < 0 ? gnutls_strerror(r) : "verification failed");
		return -1;
	}
	if (!list || n == 0 || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(why, whylen, "no client certificate");
		return -1;
	}
	r = gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER);
	if (r == 0)
		r = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
						  0, 0, t->identity, &len);
	gnutls_x509_crt_deinit(crt);
	if (r < 0) {
		snprintf(why, whylen, "client certificate has no CN: %s",
			 gnutls_strerror(r));
		return -1;
	}
	/* "lab-17\0x" must not pass for "lab-17" (tlsidentities, cow files) */
	if (strlen(t->identity) != len || len == 0) {
		snprintf(why, whylen, "client certificate CN is empty or has a NUL byte");
		return -1;
	}
	return 0;
}

/* Who the peer is: its PSK identity or its certificate's CN. */
static int session_identity(struct tls_session *t, char *why, size_t whylen)
{
	const char *user;

	if (gnutls_auth_get_type(t->s) == GNUTLS_CRD_PSK) {
		user = gnutls_psk_server_get_username(t->s);
		if (!user || !*user) {	/* GnuTLS: NULL for a NUL byte in it */
			snprintf(why, whylen, "PSK identity \"%s\" is not a string",
				 t->asked);
			return -1;
		}
		snprintf(t->identity, sizeof(t->identity), "%s", user);
		return 0;
	}
	if (t->ts->client_certs || t->ts->export_certs)
		return peer_certificate(t, why, whylen);
	return 0;
}

/*
 * Why, for our log; and an alert for the client, so that it can say why
 * too (unknown_psk_identity for a name not in the tlspsk file). A wrong
 * PSK shows as a binder that does not verify: "illegal parameter".
 */
static void handshake_failed(struct tls_session *t, int r, char *why,
			     size_t whylen)
{
	if (t->unknown) {
		gnutls_alert_send(t->s, GNUTLS_AL_FATAL,
				  GNUTLS_A_UNKNOWN_PSK_IDENTITY);
		snprintf(why, whylen, "TLS handshake: unknown identity \"%s\"",
			 t->asked);
		return;
	}
	if (r != GNUTLS_E_TIMEDOUT && r != GNUTLS_E_PUSH_ERROR &&
	    r != GNUTLS_E_PULL_ERROR && r != GNUTLS_E_PREMATURE_TERMINATION)
		gnutls_alert_send_appropriate(t->s, r);
	if (t->asked[0] && r == GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER)
		snprintf(why, whylen, "TLS handshake with identity \"%s\" failed, wrong key? (%s)",
			 t->asked, gnutls_strerror(r));
	else if (t->asked[0])
		snprintf(why, whylen, "TLS handshake with identity \"%s\" failed: %s",
			 t->asked, gnutls_strerror(r));
	else
		snprintf(why, whylen, "TLS handshake failed: %s",
			 gnutls_strerror(r));
}

/*
 * GnuTLS's writes never block: GNUTLS_E_AGAIN comes back to the caller,
 * which waits for room no later than its deadline (wait_writable), so
 * during negotiation a client that stops reading cannot hold the child in
 * a send. Transmission replies have no deadline (0), as in plaintext: the
 * daemon's shutdown ends such a child. A pipe or file (stdin mode, tests)
 * is written as it blocks.
 */
static ssize_t tls_push(gnutls_transport_ptr_t p, const giovec_t *iov,
			int cnt)
{
	int fd = (int)(intptr_t)p;
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
			      .msg_iovlen = (size_t)cnt };
	ssize_t r;

	r = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r < 0 && errno == ENOTSOCK)
		r = writev(fd, iov, cnt);
	return r;
}

/*
 * r from GnuTLS: 1 when it only waited for the socket and may be called
 * again (after room to write came, by deadline), else 0.
 */
static int tls_retry(struct tls_session *t, int r, int64_t deadline)
{
	if (r == GNUTLS_E_INTERRUPTED)
		return 1;
	if (r != GNUTLS_E_AGAIN)
		return 0;
	if (gnutls_record_get_direction(t->s) == 1 &&
	    wait_writable(t->out, deadline) < 0)
		return 0;
	return 1;
}

static int session_setup(struct tls_session *t, int in, int out)
{
	const struct tls_server *ts = t->ts;

	if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NO_TICKETS) < 0)
		return -1;
	gnutls_session_set_ptr(t->s, t);
	if (gnutls_priority_set(t->s, ts->prio) < 0)
		return -1;
	if (ts->pskcred &&
	    gnutls_credentials_set(t->s, GNUTLS_CRD_PSK, ts->pskcred) < 0)
		return -1;
	if (ts->x509 &&
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, ts->x509) < 0)
		return -1;
	if (ts->client_certs)
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
	else if (ts->export_certs)
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int2(t->s, in, out);
	gnutls_transport_set_vec_push_function(t->s, tls_push);
	t->out = out;
	return 0;
}

/*
 * The server's side of the handshake on in/out, finished by deadline
 * (CLOCK_MONOTONIC ms, 0 none). 0 with *out set, or -1 with why naming
 * the identity the client offered, if any.
 */
int tls_session_start(const struct tls_server *ts, int in, int out,
		      int64_t deadline, struct tls_session **outp, char *why,
		      size_t whylen)
{
	struct tls_session *t = calloc(1, sizeof(*t));
	int64_t left;
	int r;

	if (!t) {
		snprintf(why, whylen, "no memory for a TLS session");
		return -1;
	}
	t->ts = ts;
	if (session_setup(t, in, out) < 0) {
		snprintf(why, whylen, "cannot set up a TLS session");
		tls_session_end(t, false);
		return -1;
	}
	do {
		left = deadline ? deadline - now_ms() : 0;
		if (deadline && left <= 0) {
			r = GNUTLS_E_TIMEDOUT;
			break;
		}
		gnutls_handshake_set_timeout(t->s, deadline ? (unsigned)left :
					     GNUTLS_INDEFINITE_TIMEOUT);
		r = gnutls_handshake(t->s);
		if (r == GNUTLS_E_AGAIN && !tls_retry(t, r, deadline))
			r = GNUTLS_E_TIMEDOUT;
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		handshake_failed(t, r, why, whylen);
		tls_session_end(t, false);
		return -1;
	}
	if (session_identity(t, why, whylen) < 0) {
		tls_session_end(t, false);
		return -1;
	}
	*outp = t;
	return 0;
}

const char *tls_session_identity(const struct tls_session *t)
{
	return t->identity;
}

bool tls_session_psk(const struct tls_session *t)
{
	return gnutls_auth_get_type(t->s) == GNUTLS_CRD_PSK;
}

/*
 * The client's certificate chain, copied (the session may go to the
 * kernel before an export is named), for tls_chain_trusted at GO.
 * 0 with *out set, NULL when there is none; -1 on ENOMEM.
 */
int tls_session_chain(const struct tls_session *t, struct tls_chain **out)
{
	const gnutls_datum_t *list;
	struct tls_chain *ch;
	unsigned n = 0, i;

	*out = NULL;
	if (gnutls_certificate_type_get(t->s) != GNUTLS_CRT_X509)
		return 0;
	list = gnutls_certificate_get_peers(t->s, &n);
	if (!list || n == 0)
		return 0;
	if (n > TLS_MAX_CHAIN)
		n = TLS_MAX_CHAIN;	/* the rest unchecked: no CA found, refused */
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -1;
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&ch->crt[i]) < 0)
			goto fail;
		ch->n = i + 1;
		if (gnutls_x509_crt_import(ch->crt[i], &list[i],
					   GNUTLS_X509_FMT_DER) < 0)
			goto fail;
	}
	*out = ch;
	return 0;
fail:
	tls_chain_free(ch);
	return -1;
}

void tls_chain_free(struct tls_chain *ch)
{
	unsigned i;

	if (!ch)
		return;
	for (i = 0; i < ch->n; i++)
		gnutls_x509_crt_deinit(ch->crt[i]);
	free(ch);
}

/* Does the chain lead to a CA of tr (an export's cacertfile)? */
bool tls_chain_trusted(const struct tls_chain *ch,
		       const struct tls_trust *tr)
{
	unsigned status = 1;

	if (!ch || !tr)
		return false;
	if (gnutls_x509_trust_list_verify_crt((gnutls_x509_trust_list_t)tr,
					      (gnutls_x509_crt_t *)ch->crt,
					      ch->n, 0, &status, NULL) < 0)
		return false;
	return status == 0;
}

/* "TLS1.3 CHACHA20-POLY1305", for the log line */
void tls_session_describe(const struct tls_session *t, char *buf,
			  size_t len)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->s));
	const char *c = gnutls_cipher_get_name(gnutls_cipher_get(t->s));

	snprintf(buf, len, "%s %s", v ? v : "?", c ? c : "?");
}

/*
 * bye: close_notify first (a clean end the peer can tell from a cut),
 * in one try as ktls_close_notify: a client that stopped reading gets
 * none. Never through a socket whose TX the kernel took, nor after a
 * send failed: GnuTLS would finish the cut record and close cleanly in
 * the middle of a reply, which the peer should see as the cut it is.
 */
void tls_session_end(struct tls_session *t, bool bye)
{
	if (!t)
		return;
	if (t->s) {
		if (bye && !t->kernel_tx && !t->send_failed)
			gnutls_bye(t->s, GNUTLS_SHUT_WR);
		gnutls_deinit(t->s);
	}
	free(t);
}

/* Decrypted bytes already held: a read of them needs no poll. */
size_t tls_pending(struct tls_session *t)
{
	return gnutls_record_check_pending(t->s);
}

/*
 * One record's data at most: n or fewer, 0 at close_notify or EOF, -1
 * with errno (ETIMEDOUT: the record did not come whole within timeout_ms,
 * 0 for none).
 */
ssize_t tls_recv(struct tls_session *t, void *buf, size_t n,
		 int64_t timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	ssize_t r;

	gnutls_record_set_timeout(t->s, timeout_ms > 0 ?
				  (unsigned)timeout_ms : 0);
	/*
	 * GnuTLS answers a KeyUpdate request in the next record_send, not
	 * here; a write-side E_AGAIN is still waited for, not spun on.
	 */
	do {
		r = gnutls_record_recv(t->s, buf, n);
	} while (r < 0 && tls_retry(t, (int)r, deadline));
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	if (r == GNUTLS_E_TIMEDOUT) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (r < 0) {
		errno = EPROTO;
		return -1;
	}
	return r;
}

/*
 * One buffer, encrypted straight from it: GnuTLS cuts it into records of
 * the largest size, each pushed as it is made. What GnuTLS returned last.
 */
static int send_records(struct tls_session *t, const unsigned char *p,
			size_t n, int64_t deadline)
{
	ssize_t r = 0;

	while (n > 0) {
		r = gnutls_record_send(t->s, p, n);	/* again: same arguments */
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r == 0 || !tls_retry(t, (int)r, deadline)) {
			return r < 0 ? (int)r : GNUTLS_E_PUSH_ERROR;
		}
	}
	return 0;
}

/*
 * Several buffers (a header and its payload) corked into as few records
 * as GnuTLS allows. What GnuTLS returned last.
 */
static int send_corked(struct tls_session *t, const struct iovec *iov,
		       int cnt, int64_t deadline)
{
	ssize_t r;
	int i;

	gnutls_record_cork(t->s);
	for (i = 0; i < cnt; i++) {
		r = gnutls_record_send(t->s, iov[i].iov_base, iov[i].iov_len);
		if (r < 0 || (size_t)r != iov[i].iov_len)
			return r < 0 ? (int)r : GNUTLS_E_PUSH_ERROR;
	}
	do {
		r = gnutls_record_uncork(t->s, 0);
	} while (r < 0 && tls_retry(t, (int)r, deadline));
	return r < 0 ? (int)r : 0;
}

/*
 * Every byte of the cnt buffers, sent by deadline (0: none). A single
 * buffer (the replies of the transmission phase) is not copied into a
 * cork first. 0, or -1 with errno (ETIMEDOUT: the client did not take
 * them in time).
 */
int tls_send(struct tls_session *t, const struct iovec *iov, int cnt,
	     int64_t deadline)
{
	int r;

	if (t->kernel_tx) {
		errno = EPIPE;
		return -1;
	}
	if (cnt == 1)
		r = send_records(t, iov->iov_base, iov->iov_len, deadline);
	else
		r = send_corked(t, iov, cnt, deadline);
	if (r == 0)
		return 0;
	t->send_failed = true;
	if (r != GNUTLS_E_AGAIN)	/* else wait_writable's ETIMEDOUT */
		errno = EPIPE;
	return -1;
}

/*
 * The session to the kernel (ktls.c); GnuTLS keeps nothing of it that
 * the caller needs but t itself, to be ended without a bye.
 */
int tls_session_to_kernel(struct tls_session *t, int fd, char *why,
			  size_t whylen)
{
	int r = ktls_handover(t->s, fd, why, whylen);

	/* half done: the kernel encrypts what is written, GnuTLS must not */
	if (r < 0)
		t->kernel_tx = true;
	return r;
}
