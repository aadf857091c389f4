// SPDX-License-Identifier: GPL-2.0
/*
 * The command line of upstream nbd-client (nbd-client(8)): every option has
 * a short and a long form, and long forms take one dash or two.
 *   nbd-client HOST [PORT] /dev/nbdX [options]
 *   nbd-client -d /dev/nbdX | -c /dev/nbdX | -l HOST [PORT] | -h
 */
#include <stdlib.h>
#include <string.h>

#include "nbd-proto.h"
#include "cli.h"

const char cli_usage[] =
"usage: nbd-client HOST[,HOST...] [PORT] /dev/nbdX [options]\n"
"       nbd-client -u SOCKET /dev/nbdX [options]\n"
"       nbd-client -d /dev/nbdX | -c /dev/nbdX | -l HOST [PORT] | -h\n"
"Options:\n"
"  -N, -name NAME          export name (default: the server's default)\n"
"  -b, -block-size BYTES   block size: 512, 1024, 2048 or 4096\n"
"  -t, -timeout SECONDS    request timeout\n"
"  -T, -dead-timeout SECS  how long I/O waits for a dead server to return\n"
"  -C, -connections N      connections (needs a multi-connection server)\n"
"      -start N            try server N of the list first (from 1; spreading)\n"
"  -p, -persist            stay behind and reconnect when the server goes\n"
"  -s, -swap               the device is used for swap: lock memory\n"
"  -m, -systemd-mark       mark the client as a root storage daemon ('@')\n"
"  -L, -nonetlink          attach with ioctls instead of netlink\n"
"  -n, -nofork             stay in the foreground (ioctl mode)\n"
"  -R, -readonly           make the device read-only\n"
"  -g, -no-optgo           use NBD_OPT_EXPORT_NAME instead of NBD_OPT_GO\n"
"  -i, -identifier ID      backend identifier shown in sysfs\n"
"  -u, -unix PATH          connect to a Unix socket instead of HOST PORT\n"
"  -d, -disconnect DEV     disconnect DEV\n"
"  -c, -check DEV          print the pid behind DEV; exit 1 if unconnected\n"
"  -l, -list               list the server's exports\n"
"  -h, -help               this text\n"
"TLS (TLS 1.3, pre-shared key with X25519, ChaCha20-Poly1305; then kTLS):\n"
"  -x, -enable-tls         require TLS (needs -tls-psk)\n"
"      -tls-psk FILE       key file in psktool's format (identity:hexkey)\n"
"      -tls-identity NAME  the key of NAME in FILE (needed if it holds several)\n"
"  -H, -tlshostname NAME   server name sent in the handshake (SNI)\n"
"  -F, -K, -A, -y          -certfile, -keyfile, -cacertfile, -priority:\n"
"                          not supported (X.509): refused\n";

/* options of our own have no short form */
#define OPT_TLS_PSK		1
#define OPT_TLS_IDENTITY	2
#define OPT_START		3

struct cli_option {
	char s;
	const char *name;
	int has_arg;
};

static const struct cli_option options[] = {
	{ 'N', "name", 1 }, { 'b', "block-size", 1 }, { 't', "timeout", 1 },
	{ 'T', "dead-timeout", 1 }, { 'C', "connections", 1 },
	{ 'p', "persist", 0 }, { 's', "swap", 0 }, { 'm', "systemd-mark", 0 },
	{ 'L', "nonetlink", 0 }, { 'n', "nofork", 0 }, { 'R', "readonly", 0 },
	{ 'g', "no-optgo", 0 }, { 'i', "identifier", 1 }, { 'u', "unix", 1 },
	{ 'd', "disconnect", 1 }, { 'c', "check", 1 }, { 'l', "list", 0 },
	{ 'h', "help", 0 }, { OPT_START, "start", 1 },
	{ 'x', "enable-tls", 0 }, { OPT_TLS_PSK, "tls-psk", 1 },
	{ OPT_TLS_IDENTITY, "tls-identity", 1 }, { 'H', "tlshostname", 1 },
	{ 'F', "certfile", 1 }, { 'K', "keyfile", 1 }, { 'A', "cacertfile", 1 },
	{ 'y', "priority", 1 },
};

static const struct cli_option *find_option(const char *arg)
{
	const char *name = arg + 1;
	size_t i;

	if (*name == '-')
		name++;
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (strcmp(name, options[i].name) == 0)
			return &options[i];
		if (name == arg + 1 && name[0] == options[i].s && !name[1])
			return &options[i];
	}
	return NULL;
}

static int parse_uint(const char *opt, const char *s, unsigned long max,
		      uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return client_error("%s: not a number: \"%s\"", opt, s);
	v = strtoul(s, &end, 10);
	if (*end || v > max)
		return client_error("%s: not a number up to %lu: \"%s\"",
				    opt, max, s);
	*out = (uint32_t)v;
	return 0;
}

/* X.509 and GnuTLS priorities are upstream's; refused, never ignored */
static int apply_tls_option(struct cli *c, const struct cli_option *op,
			    const char *val)
{
	struct client_opts *o = &c->opts;

	switch (op->s) {
	case 'x': o->tls = 1; break;
	case OPT_TLS_PSK: o->tls = 1; o->tls_psk_file = val; break;
	case OPT_TLS_IDENTITY: o->tls = 1; o->tls_identity = val; break;
	case 'H': o->tls = 1; o->tls_hostname = val; break;
	default:
		return client_error("-%s: not supported: this nbd-client does TLS with a pre-shared key only (use -tls-psk FILE)",
				    op->name);
	}
	return 0;
}

static int apply_option(struct cli *c, const struct cli_option *op,
			const char *val)
{
	struct client_opts *o = &c->opts;
	uint32_t n;

	switch (op->s) {
	case 'N': o->name = val; break;
	case 'b': return parse_uint("-block-size", val, 65536, &o->block_size);
	case 't': return parse_uint("-timeout", val, 86400 * 365, &o->timeout);
	case 'T':
		return parse_uint("-dead-timeout", val, 86400 * 365,
				  &o->dead_timeout);
	case 'C':
		if (parse_uint("-connections", val, CLIENT_MAX_CONNS, &n) < 0)
			return -1;
		if (n == 0)
			return client_error("-connections: must be at least 1");
		o->conns = (int)n;
		break;
	case 'p': o->persist = 1; break;
	case 's': o->swap = 1; break;
	case 'm': o->systemd_mark = 1; break;
	case 'L': o->nonetlink = 1; break;
	case 'n': o->nofork = 1; break;
	case 'R': o->readonly = 1; break;
	case 'g': o->no_optgo = 1; break;
	case 'i': o->identifier = val; break;
	case 'u': o->unix_path = val; break;
	case 'd': c->mode = MODE_DISCONNECT; c->target = val; break;
	case 'c': c->mode = MODE_CHECK; c->target = val; break;
	case OPT_START:
		if (parse_uint("-start", val, 65535, &n) < 0)
			return -1;
		if (n == 0)
			return client_error("-start: servers count from 1");
		o->start = (int)n - 1;
		break;
	case 'l': c->mode = MODE_LIST; break;
	case 'h': c->mode = MODE_HELP; break;
	default: return apply_tls_option(c, op, val);
	}
	return 0;
}

static int is_port(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* HOST, then PORT and/or DEVICE, in upstream's order. */
static int positional(struct cli *c, const char *arg, int *count)
{
	struct client_opts *o = &c->opts;
	uint32_t port;

	if (o->unix_path && !o->device && strncmp(arg, "/dev/", 5) == 0) {
		o->device = arg;
	} else if (!o->hosts && *count == 0) {
		o->hosts = arg;
	} else if (!o->device && is_port(arg) && *count == 1) {
		if (parse_uint("port", arg, 65535, &port) < 0)
			return -1;
		o->port = (uint16_t)port;
	} else if (!o->device && strchr(arg, '/')) {
		o->device = arg;
	} else {
		return client_error("unexpected argument \"%s\"", arg);
	}
	(*count)++;
	return 0;
}

static int check_attach(struct cli *c)
{
	struct client_opts *o = &c->opts;

	if (o->unix_path && o->hosts && !o->device &&
	    strncmp(o->hosts, "/dev/", 5) == 0) {
		o->device = o->hosts;	/* "DEV -u PATH": no host at all */
		o->hosts = NULL;
	}
	if (o->unix_path && o->hosts)
		return client_error("-unix replaces HOST and PORT; give only the device");
	if (o->unix_path)
		o->hosts = o->unix_path;	/* one "server" for the list code */
	if (!o->hosts)
		return client_error("no server given");
	if (o->start >= server_list_count(o->hosts))
		return client_error("-start %d: the server list \"%s\" has %d server(s)",
				    o->start + 1, o->hosts,
				    server_list_count(o->hosts));
	if (o->tls && !o->tls_psk_file)
		return client_error("TLS needs a key: give -tls-psk FILE (X.509 is not supported)");
	if (c->mode == MODE_LIST)
		return 0;
	if (o->tls && o->unix_path)
		return client_error("-unix with TLS: the kernel's TLS runs on TCP connections only (-l works)");
	if (!o->device)
		return client_error("no device given (/dev/nbdX)");
	o->index = device_index(o->device);
	if (o->index < 0)
		return client_error("%s is not an NBD device (/dev/nbdN)",
				    o->device);
	if (o->block_size && (o->block_size < 512 || o->block_size > 4096 ||
			      (o->block_size & (o->block_size - 1))))
		return client_error("-block-size: %u is not 512, 1024, 2048 or 4096",
				    o->block_size);
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *c)
{
	int i, count = 0;

	memset(c, 0, sizeof(*c));
	c->mode = MODE_ATTACH;
	c->opts.port = NBD_DEFAULT_PORT;
	c->opts.name = "";
	c->opts.conns = 1;
	c->opts.index = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		const struct cli_option *op;

		if (arg[0] != '-' || !arg[1]) {
			if (positional(c, arg, &count) < 0)
				return -1;
			continue;
		}
		op = find_option(arg);
		if (!op)
			return client_error("unknown option \"%s\"", arg);
		if (op->has_arg) {
			if (i + 1 >= argc)
				return client_error("option \"%s\" needs a value",
						    arg);
			val = argv[++i];
		}
		if (apply_option(c, op, val) < 0)
			return -1;
	}
	if (c->mode == MODE_HELP || c->mode == MODE_DISCONNECT ||
	    c->mode == MODE_CHECK)
		return 0;
	return check_attach(c);
}
