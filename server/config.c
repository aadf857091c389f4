// SPDX-License-Identifier: GPL-2.0
/*
 * The nbd-server(5) configuration format: a [generic] section, then one
 * section per export, "key = value" lines, '#' or ';' comments. Unlike
 * the reference server, a key we do not support is reported (a warning
 * naming file and line), and anything malformed stops the server with an
 * error naming file and line.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"

#define MAX_LINE	4096
#define MAX_INCLUDE	4

struct parse {
	struct config *cfg;
	const char *file;
	unsigned line;
	struct export *exp;	/* NULL: [generic] or before any section */
	bool in_generic;
	unsigned exp_line;	/* where exp's section started */
	int depth;
	char *why;
	size_t whylen;
};

/* Keys of nbd-server(5) we accept and ignore: behaviour is always on. */
static const char *const always_on[] = { "flush", "fua", "sync", NULL };

/* Keys of nbd-server(5) we know but do not implement: a warning. */
static const char *const unsupported[] = {
	"logfile", "modernport", "oldstyle", "duallisten", "virtstyle",
	"prerun", "postrun", "timeout", "multifile", "splice",
	"sdp", "waitfile", "transactionlog", "sparse_cow", "port",
	"listenaddr", "max_threads", NULL,
};

/*
 * Keys that ask for TLS: in [generic], for every export. In an export's
 * section tlspsk and cacertfile say who may open it (export_tls_key);
 * the others stop the server, as serving in plaintext or with other keys
 * than the administrator wrote would.
 */
static const char *const tls_keys[] = {
	"force_tls", "tlsonly", "certfile", "keyfile", "cacertfile",
	"tlsprio", "tlspsk", NULL,
};

struct config *config_new(void)
{
	return calloc(1, sizeof(struct config));
}

void config_free(struct config *cfg)
{
	struct export *e, *next;
	size_t i;

	if (!cfg)
		return;
	for (e = cfg->exports; e; e = next) {
		next = e->next;
		free(e->name);
		free(e->path);
		free(e->description);
		free(e->authfile);
		free(e->cowdir);
		free(e->gendir);
		for (i = 0; i < e->ntlsids; i++)
			free(e->tlsids[i]);
		free(e->tlsids);
		for (i = 0; i < e->pskids.n; i++)
			free(e->pskids.names[i]);
		free(e->pskids.names);
		free(e->tlsca);
		tls_trust_free(e->trust);
		free(e);
	}
	for (i = 0; i < cfg->nwarnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg->listenaddr);
	free(cfg->port);
	free(cfg->user);
	free(cfg->group);
	free(cfg->default_name);
	free(cfg->tlscert);
	free(cfg->tlskey);
	free(cfg->tlsca);
	free(cfg->tlsprio);
	free(cfg->tls_where);
	tls_trust_free(cfg->trust);
	tls_server_free(cfg->tls);
	free(cfg);
}

/* Appends an export (with trim on, everything else off); NULL on ENOMEM. */
struct export *config_add_export(struct config *cfg, const char *name)
{
	struct export *e = calloc(1, sizeof(*e)), **tail;

	if (!e)
		return NULL;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return NULL;
	}
	e->trim = true;
	e->cowtimeout = SRV_COW_TIMEOUT;
	e->gentimeout = SRV_COW_TIMEOUT;
	for (tail = &cfg->exports; *tail; tail = &(*tail)->next)
		;
	*tail = e;
	return e;
}

int config_warn(struct config *cfg, const char *fmt, ...)
{
	char **w, *msg;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	w = realloc(cfg->warnings, (cfg->nwarnings + 1) * sizeof(*w));
	if (!w) {
		free(msg);
		return -1;
	}
	cfg->warnings = w;
	cfg->warnings[cfg->nwarnings++] = msg;
	return 0;
}

static int perr(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int perr(struct parse *ps, const char *fmt, ...)
{
	char msg[SRV_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->why, ps->whylen, "%s:%u: %s", ps->file, ps->line, msg);
	return -1;
}

static bool in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

static int parse_bool(struct parse *ps, const char *key, const char *val,
		      bool *out)
{
	if (!strcasecmp(val, "true") || !strcasecmp(val, "yes") ||
	    !strcmp(val, "1")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(val, "false") || !strcasecmp(val, "no") ||
	    !strcmp(val, "0")) {
		*out = false;
		return 0;
	}
	return perr(ps, "%s: expected true or false, got '%s'", key, val);
}

static int parse_u64(struct parse *ps, const char *key, const char *val,
		     uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-')
		return perr(ps, "%s: expected a number, got '%s'", key, val);
	*out = v;
	return 0;
}

static int parse_unsigned(struct parse *ps, const char *key, const char *val,
			  unsigned *out)
{
	uint64_t v;

	if (parse_u64(ps, key, val, &v) < 0)
		return -1;
	if (v > 1000000)
		return perr(ps, "%s: %llu is too large", key,
			    (unsigned long long)v);
	*out = (unsigned)v;
	return 0;
}

/* Our extension: seconds a client has from connecting to GO (1-3600). */
static int parse_seconds(struct parse *ps, const char *key, const char *val,
			 unsigned *out)
{
	if (parse_unsigned(ps, key, val, out) < 0)
		return -1;
	if (*out < 1 || *out > 3600)
		return perr(ps, "%s: %u is not between 1 and 3600", key, *out);
	return 0;
}

/* keepaliveidle, keepaliveinterval, keepalivecount: from 1 to max (tcp(7)). */
static int parse_range(struct parse *ps, const char *key, const char *val,
		       unsigned max, unsigned *out)
{
	if (parse_unsigned(ps, key, val, out) < 0)
		return -1;
	if (*out < 1 || *out > max)
		return perr(ps, "%s: %u is not between 1 and %u", key, *out,
			    max);
	return 0;
}

/* prefork: 0 (children forked per client) to SRV_MAX_PREFORK. */
static int parse_prefork(struct parse *ps, const char *key, const char *val,
			 unsigned *out)
{
	if (parse_unsigned(ps, key, val, out) < 0)
		return -1;
	if (*out > SRV_MAX_PREFORK)
		return perr(ps, "%s: %u is more than %u", key, *out,
			    SRV_MAX_PREFORK);
	return 0;
}

/* cowtimeout: from a second to 30 days. */
static int parse_cowtimeout(struct parse *ps, const char *key,
			    const char *val, unsigned *out)
{
	if (parse_unsigned(ps, key, val, out) < 0)
		return -1;
	if (*out < 1 || *out > 30 * 86400)
		return perr(ps, "%s: %u is not between 1 and 2592000", key,
			    *out);
	return 0;
}

#define GEN_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static int set_string(struct parse *ps, char **dst, const char *val)
{
	free(*dst);
	*dst = strdup(val);
	return *dst ? 0 : perr(ps, "out of memory");
}

static int warn_key(struct parse *ps, const char *key, const char *what)
{
	config_warn(ps->cfg, "%s:%u: %s '%s' ignored", ps->file, ps->line,
		    what, key);
	return 0;
}

/* "tlsidentities = NAME...": names separated by spaces or commas. */
static int parse_identities(struct parse *ps, struct export *e,
			    const char *val)
{
	const char *sep = " \t,";
	size_t len;
	char **n;

	for (val += strspn(val, sep); *val; val += strspn(val, sep)) {
		len = strcspn(val, sep);
		n = realloc(e->tlsids, (e->ntlsids + 1) * sizeof(*n));
		if (!n)
			return perr(ps, "no memory");
		e->tlsids = n;
		e->tlsids[e->ntlsids] = strndup(val, len);
		if (!e->tlsids[e->ntlsids])
			return perr(ps, "no memory");
		e->ntlsids++;
		val += len;
	}
	if (!e->ntlsids)
		return perr(ps, "[%s]: tlsidentities names nobody", e->name);
	return 0;
}

/*
 * An export's own tlspsk: its identities join the keys the handshake
 * knows (STARTTLS comes before the export is named), and only they open
 * this export by PSK. Read now, so an error names this line.
 */
static int export_psk(struct parse *ps, const char *val)
{
	struct export *e = ps->exp;
	char why[SRV_ERRLEN];

	if (e->own_psk)
		return perr(ps, "[%s]: a second tlspsk", e->name);
	if (tls_server_psk(&ps->cfg->tls, val, &e->pskids, why,
			   sizeof(why)) < 0)
		return perr(ps, "[%s]: %s", e->name, why);
	e->own_psk = true;
	return 0;
}

/* An export's own cacertfile: loaded now, so an error names this line. */
static int export_ca(struct parse *ps, const char *val)
{
	struct export *e = ps->exp;
	char why[SRV_ERRLEN];

	if (e->tlsca)
		return perr(ps, "[%s]: a second cacertfile", e->name);
	if (tls_trust_load(val, &e->trust, why, sizeof(why)) < 0)
		return perr(ps, "[%s]: %s", e->name, why);
	return set_string(ps, &e->tlsca, val);
}

/*
 * tlspsk and cacertfile: who may open this export. The server's own
 * certificate, key and priorities are chosen in the handshake, before
 * the client names an export (and our clients send no SNI): per export
 * they could not be honoured, so they stop the server. "force_tls =
 * false" and "tlsonly = false" ask for nothing: accepted.
 */
static int export_tls_key(struct parse *ps, const char *key, const char *val)
{
	bool on = true;

	if (!strcmp(key, "tlspsk"))
		return export_psk(ps, val);
	if (!strcmp(key, "cacertfile"))
		return export_ca(ps, val);
	if ((!strcmp(key, "force_tls") || !strcmp(key, "tlsonly")) &&
	    parse_bool(ps, key, val, &on) < 0)
		return -1;
	if (!on)
		return 0;
	if (!strcmp(key, "force_tls") || !strcmp(key, "tlsonly"))
		return perr(ps, "[%s]: %s in an export's section is not supported: put it in [generic] (an export with its own tlspsk or cacertfile is TLS-only already)",
			    ps->exp->name, key);
	return perr(ps, "[%s]: %s in an export's section is not supported: the server's certificate, key and priorities are chosen in the TLS handshake, before the client names an export; put %s in [generic]",
		    ps->exp->name, key, key);
}

/* Where the last TLS key is, for errors found after the last line. */
static int tls_where(struct parse *ps)
{
	char where[SRV_ERRLEN];

	snprintf(where, sizeof(where), "%s:%u", ps->file, ps->line);
	free(ps->cfg->tls_where);
	ps->cfg->tls_where = strdup(where);
	if (!ps->cfg->tls_where)
		return perr(ps, "no memory");
	return 0;
}

/* [generic]: the PSK file is read now, so an error names this line. */
static int generic_tls_key(struct parse *ps, const char *key, const char *val)
{
	struct config *cfg = ps->cfg;
	char why[SRV_ERRLEN];

	if (tls_where(ps) < 0)
		return -1;
	if (!strcmp(key, "force_tls") || !strcmp(key, "tlsonly"))
		return parse_bool(ps, key, val, &cfg->force_tls);
	if (!strcmp(key, "tlspsk")) {
		if (tls_server_psk(&cfg->tls, val, NULL, why, sizeof(why)) < 0)
			return perr(ps, "%s", why);
		return 0;
	}
	if (!strcmp(key, "certfile"))
		return set_string(ps, &cfg->tlscert, val);
	if (!strcmp(key, "keyfile"))
		return set_string(ps, &cfg->tlskey, val);
	if (!strcmp(key, "cacertfile"))
		return set_string(ps, &cfg->tlsca, val);
	return set_string(ps, &cfg->tlsprio, val);
}

/*
 * After the last line: the certificate and key, the priorities, and no
 * TLS key that asks for TLS without a way to do it. 0, or -1 with why.
 */
static int tls_finish(struct config *cfg, const char *path, char *why,
		      size_t whylen)
{
	const char *where = cfg->tls_where ? cfg->tls_where : path;
	const struct export *e;
	char msg[SRV_ERRLEN];

	for (e = cfg->exports; e; e = e->next)
		if (e->ntlsids && !cfg->tls && !cfg->tlscert) {
			snprintf(why, whylen, "%s: [%s]: tlsidentities without tlspsk or certfile and keyfile",
				 path, e->name);
			return -1;
		}
	if ((cfg->tlscert || cfg->tlskey) &&
	    tls_server_x509(&cfg->tls, cfg->tlscert, cfg->tlskey, cfg->tlsca,
			    msg, sizeof(msg)) < 0)
		goto fail;
	if (cfg->tlsca && cfg->tls &&
	    tls_trust_load(cfg->tlsca, &cfg->trust, msg, sizeof(msg)) < 0)
		goto fail;
	for (e = cfg->exports; e; e = e->next)
		if (e->tlsca &&
		    tls_server_export_ca(cfg->tls, e->tlsca, msg, sizeof(msg)) < 0) {
			snprintf(why, whylen, "%s: [%s]: %s", path, e->name, msg);
			return -1;
		}
	if (!cfg->tls && (cfg->force_tls || cfg->tlsca || cfg->tlsprio)) {
		snprintf(msg, sizeof(msg), "%s without tlspsk or certfile and keyfile: refusing to serve plaintext",
			 cfg->force_tls ? "force_tls" :
			 cfg->tlsca ? "cacertfile" : "tlsprio");
		goto fail;
	}
	if (cfg->tls &&
	    tls_server_prio(cfg->tls, cfg->tlsprio, msg, sizeof(msg)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "%s: %s", where, msg);
	return -1;
}

static int load_file(struct parse *ps, const char *path);

/* DIR/NAME, or an error naming both lengths when it does not fit. */
static int include_one(struct parse *ps, char *path, size_t len,
		       const char *dir, const char *name)
{
	int n = snprintf(path, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return perr(ps, "includedir %.200s: path of %s too long (%d > %zu)",
			    dir, name, n, len - 1);
	return load_file(ps, path);
}

static int include_dir(struct parse *ps, const char *dir)
{
	struct dirent **names;
	char path[4096];
	int n, i, r = 0;
	size_t len;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return perr(ps, "includedir %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		len = strlen(names[i]->d_name);
		if (r == 0 && len > 5 &&
		    strcmp(names[i]->d_name + len - 5, ".conf") == 0) {
			r = include_one(ps, path, sizeof(path), dir,
					names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static int generic_key(struct parse *ps, const char *key, const char *val)
{
	struct config *cfg = ps->cfg;

	if (!strcmp(key, "port"))
		return set_string(ps, &cfg->port, val);
	if (!strcmp(key, "listenaddr"))
		return set_string(ps, &cfg->listenaddr, val);
	if (!strcmp(key, "user"))
		return set_string(ps, &cfg->user, val);
	if (!strcmp(key, "group"))
		return set_string(ps, &cfg->group, val);
	if (!strcmp(key, "default"))
		return set_string(ps, &cfg->default_name, val);
	if (!strcmp(key, "allowlist"))
		return parse_bool(ps, key, val, &cfg->allowlist);
	if (!strcmp(key, "maxconnections"))
		return parse_unsigned(ps, key, val, &cfg->maxconn);
	if (!strcmp(key, "prefork"))
		return parse_prefork(ps, key, val, &cfg->prefork);
	if (!strcmp(key, "handshaketimeout"))
		return parse_seconds(ps, key, val, &cfg->handshake_secs);
	if (!strcmp(key, "keepaliveidle"))
		return parse_range(ps, key, val, 32767, &cfg->keepidle);
	if (!strcmp(key, "keepaliveinterval"))
		return parse_range(ps, key, val, 32767, &cfg->keepintvl);
	if (!strcmp(key, "keepalivecount"))
		return parse_range(ps, key, val, 127, &cfg->keepcnt);
	if (!strcmp(key, "includedir"))
		return include_dir(ps, val);
	if (in_list(tls_keys, key))
		return generic_tls_key(ps, key, val);
	if (in_list(unsupported, key))
		return warn_key(ps, key, "unsupported key");
	return warn_key(ps, key, "unknown key");
}

static int export_key(struct parse *ps, const char *key, const char *val)
{
	struct export *e = ps->exp;

	if (!strcmp(key, "exportname"))
		return set_string(ps, &e->path, val);
	if (!strcmp(key, "description"))
		return set_string(ps, &e->description, val);
	if (!strcmp(key, "authfile"))
		return set_string(ps, &e->authfile, val);
	if (!strcmp(key, "readonly"))
		return parse_bool(ps, key, val, &e->readonly);
	if (!strcmp(key, "trim"))
		return parse_bool(ps, key, val, &e->trim);
	if (!strcmp(key, "rotational"))
		return parse_bool(ps, key, val, &e->rotational);
	if (!strcmp(key, "temporary"))
		return parse_bool(ps, key, val, &e->temporary);
	if (!strcmp(key, "filesize"))
		return parse_u64(ps, key, val, &e->filesize);
	if (!strcmp(key, "maxconnections"))
		return parse_unsigned(ps, key, val, &e->maxconn);
	if (!strcmp(key, "copyonwrite"))
		return parse_bool(ps, key, val, &e->cow);
	if (!strcmp(key, "cowdir"))
		return set_string(ps, &e->cowdir, val);
	if (!strcmp(key, "tlsidentities"))
		return parse_identities(ps, e, val);
	if (!strcmp(key, "cowtimeout"))
		return parse_cowtimeout(ps, key, val, &e->cowtimeout);
	if (!strcmp(key, "generationdir"))
		return set_string(ps, &e->gendir, val);
	if (!strcmp(key, "generationtimeout"))
		return parse_cowtimeout(ps, key, val, &e->gentimeout);
	if (in_list(always_on, key))
		return 0;
	if (in_list(tls_keys, key))
		return export_tls_key(ps, key, val);
	if (in_list(unsupported, key))
		return warn_key(ps, key, "unsupported key");
	return warn_key(ps, key, "unknown key");
}

/* A section is complete: check what cannot be checked key by key. */
static int finish_export(struct parse *ps)
{
	struct export *e = ps->exp;
	unsigned line = ps->line;
	int r = 0;

	if (!e)
		return 0;
	ps->line = ps->exp_line;
	if (!e->path)
		r = perr(ps, "[%s]: no exportname", e->name);
	else if (e->temporary && e->filesize == 0)
		r = perr(ps, "[%s]: temporary needs filesize", e->name);
	else if (e->cow && !e->cowdir)
		r = perr(ps, "[%s]: copyonwrite needs cowdir", e->name);
	else if (e->cow && (e->temporary || strstr(e->path, "%s")))
		r = perr(ps, "[%s]: copyonwrite needs one shared exportname, not temporary or %%s",
			 e->name);
	else if (e->gendir && (e->temporary || strstr(e->path, "%s") ||
			       strspn(e->name, GEN_NAME_CHARS) != strlen(e->name)))
		r = perr(ps, "[%s]: generationdir needs one shared exportname, not temporary or %%s, and an export name of [A-Za-z0-9._-] only",
			 e->name);
	else if (e->filesize && !e->temporary)
		config_warn(ps->cfg, "%s:%u: [%s]: filesize without temporary ignored",
			    ps->file, ps->line, e->name);
	ps->line = line;
	ps->exp = NULL;
	return r;
}

static int section(struct parse *ps, char *p)
{
	char *end = strchr(p, ']');

	if (!end || end == p + 1 || end[1 + strspn(end + 1, " \t")])
		return perr(ps, "malformed section header");
	*end = '\0';
	p++;
	if (finish_export(ps) < 0)
		return -1;
	ps->in_generic = strcmp(p, "generic") == 0;
	if (ps->in_generic)
		return 0;
	if (export_find(ps->cfg, p, strlen(p)))
		return perr(ps, "export [%s] defined twice", p);
	ps->exp = config_add_export(ps->cfg, p);
	ps->exp_line = ps->line;
	return ps->exp ? 0 : perr(ps, "out of memory");
}

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	return s;
}

static int parse_line(struct parse *ps, char *line)
{
	char *p = trim(line), *eq, *key, *val;

	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[')
		return section(ps, p);
	eq = strchr(p, '=');
	if (!eq)
		return perr(ps, "expected 'key = value'");
	*eq = '\0';
	key = trim(p);
	val = trim(eq + 1);
	if (*key == '\0')
		return perr(ps, "missing key before '='");
	if (ps->in_generic)
		return generic_key(ps, key, val);
	if (ps->exp)
		return export_key(ps, key, val);
	return perr(ps, "'%s' outside any section", key);
}

static int load_lines(struct parse *ps, FILE *f)
{
	char line[MAX_LINE];
	size_t n;

	while (fgets(line, sizeof(line), f)) {
		ps->line++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n' && !feof(f))
			return perr(ps, "line longer than %d bytes",
				    MAX_LINE - 2);
		if (parse_line(ps, line) < 0)
			return -1;
	}
	if (ferror(f))
		return perr(ps, "read error");
	return finish_export(ps);
}

static int load_file(struct parse *ps, const char *path)
{
	struct parse sub = *ps;
	FILE *f;
	int r;

	if (ps->depth >= MAX_INCLUDE)
		return perr(ps, "includedir nested too deep");
	f = fopen(path, "re");
	if (!f) {
		snprintf(ps->why, ps->whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	sub.file = path;
	sub.line = 0;
	sub.exp = NULL;
	sub.in_generic = false;
	sub.depth = ps->depth + 1;
	r = load_lines(&sub, f);
	fclose(f);
	return r;
}

/* Adds path's exports and settings to cfg. 0, or -1 with "file:line: why". */
int config_load(struct config *cfg, const char *path, char *why,
		size_t whylen)
{
	struct parse ps = {
		.cfg = cfg, .file = path, .why = why, .whylen = whylen,
	};

	if (load_file(&ps, path) < 0 || tls_finish(cfg, path, why, whylen) < 0)
		return -1;
	if (cfg->default_name &&
	    !export_find(cfg, cfg->default_name, strlen(cfg->default_name))) {
		snprintf(why, whylen, "%s: default export [%s] is not defined",
			 path, cfg->default_name);
		return -1;
	}
	return 0;
}

/*
 * The export a client names. "" is the command-line export if there is
 * one, else the one [generic] default names.
 */
const struct export *export_find(const struct config *cfg, const char *name,
				 size_t len)
{
	const struct export *e;

	if (memchr(name, '\0', len))
		return NULL;
	for (e = cfg->exports; e; e = e->next)
		if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
			return e;
	if (len == 0 && cfg->default_name && cfg->default_name[0])
		return export_find(cfg, cfg->default_name,
				   strlen(cfg->default_name));
	return NULL;
}
