// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-modload: the init's kernel modules in one exec, not one
 * insmod per module (each fork and exec of busybox costs 12 to 15 ms
 * under QEMU TCG).
 *
 *   nbdroot-modload [-n] [-d MODDIR] [-o "NAME OPTIONS"]... PATH...
 *
 * loads each PATH (relative to MODDIR, default /lib/modules/RELEASE) in
 * order with finit_module(2). A module NAME (PATH's base name without
 * ".ko"; '-' and '_' are the same) gets the OPTIONS of its -o, then each
 * NAME.PARAM[=VALUE] of the kernel command line in its order, so a
 * user's value comes last and the kernel keeps it. A value with blanks
 * is quoted on the command line as the kernel's own parser allows
 * (nbd.p="a b" or "nbd.p=a b") and passed on as p="a b"; words after
 * "--" are init's, not the kernel's. NBDROOT_CMDLINE=FILE replaces
 * /proc/cmdline (host tests). A module already loaded (EEXIST) or for
 * hardware this machine lacks (ENODEV) is skipped; any other failure
 * stops at once. -n prints "load PATH OPTIONS" for each and loads
 * nothing. Exit 0 done, 1 failure (said on stderr), 2 usage.
 *
 *   nbdroot-modload -a [-n] [-d MODDIR] [-s SYSFS] [-o "NAME OPTIONS"]...
 *
 * loads what this machine needs of MODDIR's nbdroot.order, matching the
 * aliases of nbdroot.alias against the PCI and virtio devices of SYSFS
 * (default /sys); select.h says how. It says "driver NAME" for each
 * driver a device took and "nodriver DEVICE MODALIAS" for a network
 * controller none did, on stdout; a module that fails is said on stderr
 * and the others still load (exit 1 at the end).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "select.h"

#define PROG		"nbdroot-modload"
/* COMMAND_LINE_SIZE (2048 on x86, at most 4096), and the newline of /proc */
#define CMDLINE_MAX	4097
#define STR(x)		#x
#define XSTR(x)		STR(x)
/* one module's options; the kernel takes more, nbdroot never needs it */
#define PARAMS_MAX	4096
#define DEFAULTS_MAX	8

/* klibc has the system call (klibc/havesyscall.h) but no prototype */
int finit_module(int fd, const char *params, int flags);

struct defaults {
	const char *name;	/* "nbd", up to the first blank of -o */
	size_t name_len;
	const char *opts;	/* what follows it */
};

/* one word of the kernel command line, quotes taken off */
struct arg {
	const char *word;	/* as written, for messages */
	size_t word_len;
	const char *key;	/* "nbd.nbds_max" */
	size_t key_len;
	const char *val;	/* NULL for a bare key */
	size_t val_len;
	int bad;		/* a quote left inside: not parsed */
};

struct params {
	char buf[PARAMS_MAX];
	size_t len;		/* bytes used, without the NUL */
};

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The modules' names as the kernel compares them: '-' is '_'. */
static int name_eq(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t i;

	if (a_len != b_len)
		return 0;
	for (i = 0; i < a_len; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * next_arg: the word of buf[0..len) at *pos, words split at blanks that
 * are outside double quotes, as the kernel splits its command line.
 * Takes off a quote opening the word or the value, and the one closing
 * it. Returns 0 at the end.
 */
static int next_arg(const char *buf, size_t len, size_t *pos, struct arg *a)
{
	size_t i = *pos, start, end;
	const char *eq;
	int quoted = 0;

	while (i < len && blank(buf[i]))
		i++;
	if (i == len)
		return 0;
	for (start = i; i < len; i++) {
		if (buf[i] == '"')
			quoted = !quoted;
		else if (!quoted && blank(buf[i]))
			break;
	}
	*pos = i;
	end = i;
	a->word = buf + start;
	a->word_len = end - start;
	if (buf[start] == '"')
		start++;
	if (end > start && buf[end - 1] == '"')
		end--;
	a->key = buf + start;
	eq = memchr(a->key, '=', end - start);
	a->key_len = eq ? (size_t)(eq - a->key) : end - start;
	a->val = NULL;
	a->val_len = 0;
	if (eq) {
		a->val = eq + 1;
		a->val_len = buf + end - a->val;
		if (a->val_len && a->val[0] == '"') {
			a->val++;
			a->val_len--;
		}
	}
	a->bad = memchr(a->key, '"', a->key_len) ||
		(a->val && memchr(a->val, '"', a->val_len));
	return 1;
}

static int put(struct params *p, const char *s, size_t n)
{
	if (n >= sizeof(p->buf) - p->len)
		return -1;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return 0;
}

/* PARAM[=VALUE] after the options so far; VALUE quoted if it has blanks */
static int put_arg(struct params *p, const char *param, size_t param_len,
		   const struct arg *a)
{
	size_t i;
	int q = 0;

	for (i = 0; a->val && i < a->val_len; i++)
		q |= blank(a->val[i]);
	if ((p->len && put(p, " ", 1)) || put(p, param, param_len))
		return -1;
	if (!a->val)
		return 0;
	if (put(p, q ? "=\"" : "=", q ? 2 : 1) || put(p, a->val, a->val_len))
		return -1;
	return q ? put(p, "\"", 1) : 0;
}

/*
 * The options for module NAME: its defaults, then the command line's.
 * Returns NULL, or what is wrong (the word in *bad_word).
 */
static const char *build_params(struct params *p, const char *name,
				size_t name_len, const struct defaults *def,
				int ndef, const char *cmdline, size_t cmdline_len,
				struct arg *bad_word)
{
	struct arg a;
	size_t pos = 0;
	const char *dot;
	int i;

	p->len = 0;
	p->buf[0] = '\0';
	for (i = 0; i < ndef; i++) {
		if (!name_eq(def[i].name, def[i].name_len, name, name_len))
			continue;
		if ((p->len && put(p, " ", 1)) ||
		    put(p, def[i].opts, strlen(def[i].opts)))
			return "options too long";
	}
	while (next_arg(cmdline, cmdline_len, &pos, &a)) {
		if (a.key_len == 2 && !memcmp(a.key, "--", 2) && !a.val)
			break;	/* the rest is init's */
		dot = memchr(a.key, '.', a.key_len);
		if (!dot || dot == a.key || dot == a.key + a.key_len - 1 ||
		    !name_eq(a.key, dot - a.key, name, name_len))
			continue;
		if (a.bad) {
			*bad_word = a;
			return "a quote inside a word is not supported";
		}
		if (put_arg(p, dot + 1, a.key + a.key_len - dot - 1, &a))
			return "options too long";
	}
	return NULL;
}

/* The module's name: PATH's last component up to ".ko". */
static const char *module_name(const char *path, size_t *len)
{
	const char *base = strrchr(path, '/');
	const char *ko;

	base = base ? base + 1 : path;
	ko = strstr(base, ".ko");
	*len = ko ? (size_t)(ko - base) : strlen(base);
	return base;
}

/* The kernel command line into buf (NUL-terminated), or what is wrong. */
static const char *read_cmdline(const char *file, char *buf, size_t size,
				size_t *len)
{
	ssize_t n;
	int fd, e;

	*len = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strerror(errno);
	/* up to one byte more than CMDLINE_MAX, to see it is longer */
	while ((n = read(fd, buf + *len, size - 1 - *len)) > 0) {
		*len += n;
		if (*len == size - 1)
			break;
	}
	e = errno;
	close(fd);
	if (n < 0)
		return strerror(e);
	if (*len > CMDLINE_MAX)
		return "too long (more than " XSTR(CMDLINE_MAX) " bytes)";
	if (memchr(buf, '\0', *len))
		return "holds a NUL byte";
	if (*len && buf[*len - 1] == '\n')
		(*len)--;	/* /proc's, not the kernel's */
	buf[*len] = '\0';
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [-n] [-d MODDIR] "
		"[-o \"NAME OPTIONS\"]... PATH...\n"
		"       " PROG " -a [-n] [-d MODDIR] [-s SYSFS] "
		"[-o \"NAME OPTIONS\"]...\n");
	return 2;
}

/* what every module's load needs */
struct loader {
	int dirfd;
	int dry;
	const struct defaults *def;
	int ndef;
	const char *cmdline;
	size_t cmdline_len;
};

/* One module; prints why it failed. Returns 0, or 1 for a failure. */
static int load(int dirfd, const char *path, const struct params *p, int dry)
{
	int fd, rc = 0;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (dry) {
		printf("load %s%s%s\n", path, p->len ? " " : "", p->buf);
		fflush(stdout);	/* before a later error on stderr */
	} else if (finit_module(fd, p->buf, 0) && errno != EEXIST &&
		   errno != ENODEV) {
		/* ENODEV: a driver for hardware this machine lacks */
		fprintf(stderr, PROG ": %s: %s%s%s%s\n", path, strerror(errno),
			p->len ? " (" : "", p->buf, p->len ? ")" : "");
		rc = 1;
	}
	close(fd);
	return rc;
}

/* PATH with its options (load_fn of select.h). */
static int load_path(const char *path, void *ctx)
{
	static struct params params;
	const struct loader *ld = ctx;
	const char *name, *err;
	struct arg bad;
	size_t name_len;

	name = module_name(path, &name_len);
	bad.word = NULL;
	err = build_params(&params, name, name_len, ld->def, ld->ndef,
			   ld->cmdline, ld->cmdline_len, &bad);
	if (err && bad.word) {
		fprintf(stderr, PROG ": %s: kernel command line: %.*s: %s\n",
			path, (int)bad.word_len, bad.word, err);
		return 1;
	}
	if (err) {
		fprintf(stderr, PROG ": %s: %s (more than %d bytes)\n",
			path, err, PARAMS_MAX - 1);
		return 1;
	}
	return load(ld->dirfd, path, &params, ld->dry);
}

/*
 * Every module of nbdroot.order, when the machine's could not be
 * selected: a boot with a driver too many beats one without its root.
 */
static int load_all(struct loader *ld, const struct list *order)
{
	int i;

	for (i = 0; i < order->nline; i++)
		load_path(order->line[i].word[0], ld);
	return 1;
}

/* -a: what this machine needs, by select.h. Exit status. */
static int load_machine(struct loader *ld, const char *moddir,
			const char *sys)
{
	static struct lists lists;
	const char *err, *file;
	int rc;

	err = lists_read(ld->dirfd, &lists, &file);
	if (err && lists.order.line) {
		fprintf(stderr, PROG ": %s/%s: %s: loading every module\n",
			moddir, file, err);
		return load_all(ld, &lists.order);
	}
	if (err) {
		fprintf(stderr, PROG ": %s/%s: %s\n", moddir, file, err);
		return 1;
	}
	rc = select_and_load(&lists, sys, load_path, ld, &err);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: %s: loading every module\n",
			sys, err);
		return load_all(ld, &lists.order);
	}
	return rc;
}

/* -o "NAME OPTIONS" into def; 0, or 2 for bad usage (said). */
static int add_defaults(struct defaults *def, int *ndef, const char *arg)
{
	const char *sp = strchr(arg, ' ');

	if (*ndef == DEFAULTS_MAX) {
		fprintf(stderr, PROG ": -o: at most %d\n", DEFAULTS_MAX);
		return 2;
	}
	if (!sp || sp == arg) {
		fprintf(stderr, PROG ": -o \"%s\": not NAME OPTIONS\n", arg);
		return 2;
	}
	def[*ndef].name = arg;
	def[*ndef].name_len = sp - arg;
	def[(*ndef)++].opts = sp + 1;
	return 0;
}

/* /lib/modules/RELEASE, or NULL (said). */
static const char *default_moddir(void)
{
	static char buf[128];
	struct utsname u;

	if (uname(&u) || snprintf(buf, sizeof(buf), "/lib/modules/%s",
				  u.release) >= (int)sizeof(buf)) {
		fprintf(stderr, PROG ": no kernel release from uname\n");
		return NULL;
	}
	return buf;
}

int main(int argc, char **argv)
{
	static char cmdline[CMDLINE_MAX + 2];
	struct defaults def[DEFAULTS_MAX];
	const char *moddir = NULL, *sys = NULL, *file, *err;
	struct loader ld = { .def = def };
	int machine = 0, c, i;

	while ((c = getopt(argc, argv, "and:o:s:")) != -1) {
		switch (c) {
		case 'a':
			machine = 1;
			break;
		case 'n':
			ld.dry = 1;
			break;
		case 'd':
			moddir = optarg;
			break;
		case 's':
			sys = optarg;
			break;
		case 'o':
			if (add_defaults(def, &ld.ndef, optarg))
				return 2;
			break;
		default:
			return usage();
		}
	}
	if (machine != (optind == argc) || (!machine && sys))
		return usage();
	if (!sys)
		sys = "/sys";
	if (!moddir && !(moddir = default_moddir()))
		return 1;
	file = getenv("NBDROOT_CMDLINE");
	if (!file)
		file = "/proc/cmdline";
	err = read_cmdline(file, cmdline, sizeof(cmdline), &ld.cmdline_len);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", file, err);
		return 1;
	}
	ld.cmdline = cmdline;
	ld.dirfd = open(moddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ld.dirfd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", moddir, strerror(errno));
		return 1;
	}
	if (machine)
		return load_machine(&ld, moddir, sys);
	for (i = optind; i < argc; i++)
		if (load_path(argv[i], &ld))
			return 1;
	return 0;
}
