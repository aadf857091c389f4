// SPDX-License-Identifier: GPL-2.0
/*
 * nbd-server: serve files as NBD exports to diskless machines.
 *
 * Command line as upstream nbd-server(1):
 *   nbd-server [-n] [-d] [-r] [-s] [-C config] [-p pidfile]
 *              [ip@port | ip:port | port] [file]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define USAGE "usage: nbd-server [-n] [-d] [-r] [-s] [-C config] " \
	      "[-p pidfile] [ip@port | ip:port | port] [file]\n"
#define HELP \
	"  -n         stay in the foreground (one child per client)\n" \
	"  -d         stay in the foreground, no children: one client at a time\n" \
	"  -r         every export read-only\n" \
	"  -s         serve one client on stdin (inetd); so does port 0\n" \
	"  -C config  exports in nbd-server(5) format\n" \
	"  -p pidfile the server's pid, once listening; removed on exit\n" \
	"             (not with -s)\n" \
	"  file       the default export (empty name); port default 10809,\n" \
	"             address default: all (or [generic] listenaddr/port)\n"

struct options {
	bool foreground;	/* -n */
	bool nofork;		/* -d */
	bool readonly;		/* -r */
	bool inetd;		/* -s, or port 0 */
	const char *config;	/* -C */
	const char *pidfile;	/* -p */
	char *addr;		/* NULL: config or every address */
	char *port;		/* NULL: config or 10809 */
	const char *file;	/* the default export */
};

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* 0, -1 with EINVAL when not a port, or -1 with ENOMEM. */
static int set_port(struct options *o, const char *port)
{
	if (!all_digits(port) || strlen(port) > 5 || atoi(port) > 65535) {
		errno = EINVAL;
		return -1;
	}
	o->port = strdup(port);
	if (!o->port)
		return -1;
	if (atoi(port) == 0)
		o->inetd = true;
	return 0;
}

/*
 * The address part of a listen spec. Without memory this must fail: a
 * NULL address would mean every address instead of the one asked for.
 */
static int set_addr(struct options *o, const char *addr, size_t len)
{
	o->addr = strndup(addr, len);
	return o->addr ? 0 : -1;
}

/*
 * "ip@port", "ip:port", "[ip6]:port" or "port". 0, or -1 with EINVAL if
 * malformed or ENOMEM.
 */
static int parse_listen(struct options *o, const char *spec)
{
	const char *sep = strrchr(spec, '@');
	size_t alen;

	if (!sep && spec[0] == '[') {
		sep = strstr(spec, "]:");
		if (!sep) {
			errno = EINVAL;
			return -1;
		}
		if (set_addr(o, spec + 1, (size_t)(sep - spec - 1)) < 0)
			return -1;
		return set_port(o, sep + 2);
	}
	if (!sep && strchr(spec, ':') == strrchr(spec, ':'))
		sep = strchr(spec, ':');
	if (!sep)
		return set_port(o, spec);
	alen = (size_t)(sep - spec);
	if (alen && set_addr(o, spec, alen) < 0)
		return -1;
	return set_port(o, sep + 1);
}

/* 0, -1 on a usage error (said), -2 out of memory (said). */
static int parse_args(struct options *o, int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "ndrsC:p:h")) != -1) {
		switch (ch) {
		case 'n': o->foreground = true; break;
		case 'd': o->foreground = o->nofork = true; break;
		case 'r': o->readonly = true; break;
		case 's': o->inetd = true; break;
		case 'C': o->config = optarg; break;
		case 'p': o->pidfile = optarg; break;
		default: return -1;
		}
	}
	if (argc - optind > 2)
		return -1;
	/* A lone argument that is no address is the file (default port). */
	if (argc - optind == 1 && !strpbrk(argv[optind], "@:") &&
	    !all_digits(argv[optind])) {
		o->file = argv[optind];
		return 0;
	}
	if (optind < argc && parse_listen(o, argv[optind++]) < 0) {
		if (errno == ENOMEM) {
			fprintf(stderr, "nbd-server: %s: out of memory\n",
				argv[optind - 1]);
			return -2;
		}
		fprintf(stderr, "nbd-server: not an address and port: %s\n",
			argv[optind - 1]);
		return -1;
	}
	if (optind < argc)
		o->file = argv[optind];
	return 0;
}

/* A missing file or cowdir may appear later: a warning, not an error. */
static void warn_missing(struct config *cfg, const struct export *e)
{
	struct stat st;

	errno = 0;
	if (e->cow && (stat(e->cowdir, &st) < 0 || !S_ISDIR(st.st_mode)))
		config_warn(cfg, "export [%s]: cowdir %s: %s", e->name,
			    e->cowdir, errno ? strerror(errno) : "not a directory");
	if (e->temporary || strstr(e->path, "%s") || stat(e->path, &st) == 0)
		return;
	config_warn(cfg, "export [%s]: %s: %s", e->name, e->path,
		    strerror(errno));
}

/* The configuration: -C file, then the command-line export as "". */
static struct config *build_config(const struct options *o)
{
	char why[SRV_ERRLEN];
	struct config *cfg = config_new();
	struct export *e;
	size_t i;

	if (!cfg)
		goto out_nomem;
	cfg->allowlist = !o->config;	/* nbd-server(5) default: off */
	if (o->config && config_load(cfg, o->config, why, sizeof(why)) < 0) {
		for (i = 0; i < cfg->nwarnings; i++)
			fprintf(stderr, "nbd-server: warning: %s\n",
				cfg->warnings[i]);
		fprintf(stderr, "nbd-server: %s\n", why);
		config_free(cfg);
		return NULL;
	}
	if (o->file) {
		e = config_add_export(cfg, "");
		if (!e || !(e->path = strdup(o->file)))
			goto out_nomem;
	}
	for (e = cfg->exports; e; e = e->next) {
		e->readonly |= o->readonly;
		warn_missing(cfg, e);
	}
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, "nbd-server: warning: %s\n", cfg->warnings[i]);
	return cfg;

out_nomem:
	fprintf(stderr, "nbd-server: out of memory\n");
	config_free(cfg);
	return NULL;
}

static int check_file(const char *file)
{
	struct stat st;

	if (stat(file, &st) < 0) {
		fprintf(stderr, "nbd-server: %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		fprintf(stderr, "nbd-server: %s: not a regular file or block device\n",
			file);
		return -1;
	}
	return 0;
}

static int open_listener(struct daemon *d, const struct options *o)
{
	const char *addr = o->addr ? o->addr : d->cfg->listenaddr;
	const char *port = o->port ? o->port : d->cfg->port;
	char why[SRV_ERRLEN];
	char defport[8];

	switch (listen_from_env(&d->l, why, sizeof(why))) {
	case -1:
		fprintf(stderr, "nbd-server: %s\n", why);
		return -1;
	case 0:
		break;
	default:
		return 0;
	}
	snprintf(defport, sizeof(defport), "%d", NBD_DEFAULT_PORT);
	if (listen_open(&d->l, addr, port ? port : defport, why,
			sizeof(why)) < 0) {
		fprintf(stderr, "nbd-server: %s\n", why);
		return -1;
	}
	return 0;
}

/* Without -n or -d: the classic daemon, logging to syslog. */
static int background(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	srv_log_to_syslog();
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

static void reload(struct daemon *d, struct config **cfg,
		   const struct options *o)
{
	struct config *n = build_config(o);

	if (!n) {
		srv_log("SIGHUP: keeping the previous configuration");
		return;
	}
	if (!same(n->listenaddr, (*cfg)->listenaddr) ||
	    !same(n->port, (*cfg)->port) || !same(n->user, (*cfg)->user) ||
	    !same(n->group, (*cfg)->group))
		srv_log("SIGHUP: listenaddr, port, user and group take effect on restart only");
	/*
	 * Who the children become stays what it was at startup: a user added
	 * to a server that started as root without one would otherwise make
	 * its children skip the drop (privdrop_per_child) and serve as root.
	 */
	swap_str(&n->user, &(*cfg)->user);
	swap_str(&n->group, &(*cfg)->group);
	config_free(*cfg);
	*cfg = n;
	d->cfg = n;
	srv_log("SIGHUP: configuration reloaded");
}

/*
 * After binding, before any client: the server becomes its user, unless
 * each child is to drop instead (privdrop_per_child; not with -d, which
 * serves clients in this process). Then the user is only looked up.
 */
static int drop_master(const struct config *cfg, bool nofork)
{
	const char *user = privdrop_user(cfg);
	char why[SRV_ERRLEN];
	int r;

	if (privdrop_per_child(cfg) && !nofork)
		r = privdrop_check(user, cfg->group, why, sizeof(why));
	else
		r = drop_privileges(user, cfg->group, why, sizeof(why));
	if (r < 0)
		fprintf(stderr, "nbd-server: %s\n", why);
	return r;
}

static int run_daemon(struct config *cfg, const struct options *o)
{
	struct daemon d = { .cfg = cfg, .nofork = o->nofork,
			    .pool = { .report = { -1, -1 }, .hold = { -1, -1 } } };
	int pidfd = -1, r = 1;

	if (open_listener(&d, o) < 0)
		return 1;
	if (o->pidfile && (pidfd = pidfile_open(o->pidfile)) < 0) {
		fprintf(stderr, "nbd-server: pidfile %s: %s\n", o->pidfile,
			strerror(errno));
		return 1;
	}
	if (drop_master(cfg, o->nofork) < 0)
		goto out_pidfile;
	if (!o->foreground && background() < 0) {
		fprintf(stderr, "nbd-server: fork: %s\n", strerror(errno));
		goto out_pidfile;
	}
	if (pidfd >= 0 && pidfile_write(pidfd) < 0) {
		srv_log("pidfile %s: %s", o->pidfile, strerror(errno));
		goto out_pidfile;
	}
	if (!o->nofork && slots_init() < 0) {
		fprintf(stderr, "nbd-server: shared connection counts: %s\n",
			strerror(errno));
		goto out_pidfile;
	}
	while (daemon_run(&d) == DAEMON_RELOAD)
		reload(&d, &cfg, o);
	free(d.pids);
	free(d.pool.leaving);
	config_free(cfg);
	r = 0;
out_pidfile:
	if (pidfd >= 0 && pidfile_remove(o->pidfile, pidfd) < 0)
		srv_log("pidfile %s: emptied, not removed: %s", o->pidfile,
			strerror(errno));
	return r;
}

static int run_inetd(struct config *cfg)
{
	sigset_t stop, orig;
	struct stat st;
	int r, out;

	/* inetd hands us the socket as stderr too: log elsewhere. */
	if (fstat(2, &st) == 0 && S_ISSOCK(st.st_mode))
		srv_log_to_syslog();

	if (drop_master(cfg, false) < 0)
		return 1;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &orig);
	io_wait_mask(&orig);
	/*
	 * inetd, systemd's Accept=yes and upstream's callers may hand over
	 * the socket as fd 0 only: a socket is both directions. A pipe
	 * pair (tests, fuzzing) keeps stdout for the replies.
	 */
	out = fstat(0, &st) == 0 && S_ISSOCK(st.st_mode) ? 0 : 1;
	r = serve_client(0, out, cfg, true, 0);
	config_free(cfg);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct config *cfg;
	int r;

	if (argc == 2 && strcmp(argv[1], "-h") == 0) {
		fputs(USAGE HELP, stdout);
		return 0;
	}
	r = parse_args(&o, argc, argv);
	if (r == -2)
		return 1;
	if (r < 0) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (!o.file && !o.config) {
		fprintf(stderr, "nbd-server: nothing to export: name a file or -C config\n");
		fputs(USAGE, stderr);
		return 2;
	}
	if (o.file && check_file(o.file) < 0)
		return 1;
	cfg = build_config(&o);
	if (!cfg)
		return 1;
	if (!cfg->exports) {
		fprintf(stderr, "nbd-server: %s: no exports defined\n", o.config);
		config_free(cfg);
		return 1;
	}
	/* nbd-server(5): "port = 0" in [generic] is inetd mode too. */
	if (!o.port && cfg->port && all_digits(cfg->port) &&
	    atoi(cfg->port) == 0)
		o.inetd = true;
	srv_signals();
	r = o.inetd ? run_inetd(cfg) : run_daemon(cfg, &o);
	free(o.addr);
	free(o.port);
	return r;
}
