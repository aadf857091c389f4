// SPDX-License-Identifier: GPL-2.0
/*
 * nbd-client: negotiates with an NBD server in userspace and hands the
 * connected sockets to the kernel's nbd driver.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nbd-proto.h"
#include "cli.h"

static void close_all(int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
}

/*
 * The first server that answers, from -start on (o->start becomes the one
 * that answered); more sockets to the same.
 */
static int open_connections(struct client_opts *o, struct export_info *e,
			    int *fds)
{
	struct export_info again;
	int i, k, n, hosts = server_list_count(o->hosts);

	fds[0] = -1;
	for (k = 0; fds[0] < 0; k++) {
		if (k == hosts)
			return -1;	/* keeps the last server's error */
		i = server_list_nth(hosts, o->start, k);
		fds[0] = server_list_open(o, i, e);
	}
	o->start = i++;		/* i: counting from 1 in messages */
	if (o->conns > 1 && !(e->flags & NBD_FLAG_CAN_MULTI_CONN)) {
		fprintf(stderr, "nbd-client: warning: server %d of %s does not allow several connections; using one\n",
			i, o->hosts);
		o->conns = 1;
	}
	for (n = 1; n < o->conns; n++) {
		fds[n] = server_list_open(o, i - 1, &again);
		if (fds[n] < 0 || again.size != e->size) {
			if (fds[n] >= 0)
				client_error("server %d of %s changed the export size between connections",
					     i, o->hosts);
			close_all(fds, n + (fds[n] >= 0));
			return -1;
		}
	}
	return n;
}

static int choose_block_size(struct client_opts *o,
			     const struct export_info *e)
{
	if (!o->block_size) {
		o->block_size = 512;
		while (o->block_size < e->min_bs && o->block_size < 4096)
			o->block_size <<= 1;
	}
	if (e->size % o->block_size)
		return client_error("export size %llu is not a multiple of the block size %u",
				    (unsigned long long)e->size,
				    o->block_size);
	return 0;
}

/*
 * -persist: I/O waits for a dead server instead of failing, in-flight
 * requests are retried, and the device carries an identifier the daemon
 * recognises it by.
 */
static void persist_defaults(struct client_opts *o)
{
	static char id[160];

	if (!o->dead_timeout)
		o->dead_timeout = PERSIST_DEAD_TIMEOUT;
	client_dead_peer_ms = PERSIST_DEAD_PEER_MS;
	if (!o->identifier) {
		snprintf(id, sizeof(id), "nbd-client/%d:%s", (int)getpid(),
			 o->hosts);
		o->identifier = id;
	}
}

/*
 * -persist without -timeout, on one netlink connection: no request
 * timeout in the kernel, and the block layer's timer every
 * PERSIST_REQUEUE_MS. With a request timeout, nbd.ko's timeout handler
 * (nbd_xmit_timeout, Linux 6.1) takes a slow server for a dead one: it
 * shuts the socket down and a reconnect follows. Without one, the handler
 * leaves a request alone while the socket it went out on is the current
 * one and requeues it once RECONFIGURE replaced that socket (its cookie
 * changed): what was in flight when a server died goes out again within
 * PERSIST_REQUEUE_MS of the reconnect, not a 30 s timeout later. A silent
 * dead peer is found by TCP (client_dead_peer_ms). With several
 * connections the handler always marks the socket dead, and ioctl mode
 * never replaces one: both keep the request timeout.
 */
static int requeue_mode(const struct client_opts *o, int n)
{
	return o->persist && !o->timeout && n == 1;
}

static void set_requeue_timer(const struct client_opts *o)
{
	if (device_set_io_timeout(o->index, PERSIST_REQUEUE_MS) < 0)
		client_log(o->device, "requests in flight on a lost connection wait 30s to be resent: %s",
			   client_last_error());
}

/* Netlink first; ioctls when the family is missing or with -L. */
static int attach_kernel(struct client_opts *o, struct export_info *e,
			 int *fds, int n, struct persist *p, char **argv)
{
	int r = 1;

	if (o->persist && !requeue_mode(o, n) && !o->timeout)
		o->timeout = PERSIST_REQ_TIMEOUT;
	if (!o->nonetlink && o->persist)
		r = persist_prepare(p);
	if (r < 0)
		return -1;
	if (!o->nonetlink && (r == 0 || !o->persist))
		r = netlink_connect(o, e, fds, n);
	if (r == 0 && requeue_mode(o, n))
		set_requeue_timer(o);
	if (r == 1 && n > 1)
		return client_error("several connections need the netlink interface");
	if (r == 1) {
		o->nonetlink = 1;
		if (o->persist && !o->timeout)
			o->timeout = PERSIST_REQ_TIMEOUT;
		r = ioctl_attach(o, e, fds[0], argv);
	}
	return r;
}

static void print_attached(const struct client_opts *o,
			   const struct export_info *e, int n)
{
	printf("nbd-client: %s: export \"%s\", %llu bytes, %d connection%s%s\n",
	       o->device, o->name, (unsigned long long)e->size, n,
	       n == 1 ? "" : "s", o->persist ? ", persistent" : "");
	fflush(stdout);
}

/*
 * -persist over netlink: the daemon runs before anything reads the
 * device. The connection may die at the first read (a TLS record other
 * than data after the kTLS handover fails nbd.ko's receive), and then
 * that read waits for the daemon's reconnection: a partition scan that
 * started first would wait forever, or until the dead-connection timeout
 * fails it, for a daemon not yet forked. With -nofork the daemon is this
 * process, and a child scans and reports.
 */
static void start_daemon(struct persist *p, struct client_opts *o,
			 const struct export_info *e, int n, char **argv)
{
	pid_t pid;

	if (o->nofork) {
		signal(SIGCHLD, SIG_IGN);	/* the scanning child reaps itself */
		pid = fork();
		if (pid == 0) {
			device_rescan(o->device);
			print_attached(o, e, n);
			_exit(0);
		}
		persist_run(p, o, e, argv);
	}
	pid = fork();
	if (pid == 0)
		persist_run(p, o, e, argv);
	if (pid < 0)
		fprintf(stderr, "nbd-client: warning: fork: %s; %s will not reconnect\n",
			strerror(errno), o->device);
	genl_close(&p->events);
}

static int attach(struct client_opts *o, char **argv)
{
	struct export_info e;
	struct persist p;
	int fds[CLIENT_MAX_CONNS], n;

	if (o->persist)
		persist_defaults(o);
	n = open_connections(o, &e, fds);
	if (n < 0)
		return -1;
	if (choose_block_size(o, &e) < 0)
		goto out_close;
	if (o->readonly)
		e.flags |= NBD_FLAG_READ_ONLY;
	if (attach_kernel(o, &e, fds, n, &p, argv) < 0)
		goto out_close;
	close_all(fds, n);
	if (o->persist && !o->nonetlink)
		start_daemon(&p, o, &e, n, argv);
	device_rescan(o->device);
	print_attached(o, &e, n);
	return 0;

out_close:
	close_all(fds, n);
	return -1;
}

static void print_export(const char *name, const char *desc)
{
	if (*desc)
		printf("%s\t%s\n", name, desc);
	else
		printf("%s\n", name);
}

/* -l: every server of the list is asked in turn until one answers. */
static int list(const struct client_opts *o)
{
	char peer[300];
	int i, fd, n = -1;

	for (i = 0; n < 0 && i < server_list_count(o->hosts); i++) {
		fd = server_list_connect(o, i, peer, sizeof(peer));
		if (fd < 0)
			continue;
		n = list_exports(fd, peer, o->psk, print_export);
		close(fd);
	}
	return n < 0 ? -1 : 0;
}

/*
 * -tls-psk: the key is read once, here; every connection, reconnections
 * of the -persist daemon included, uses this copy.
 */
static int load_key(struct client_opts *o)
{
	static struct tls_psk psk;

	if (!o->tls)
		return 0;
	if (tls_psk_load(o->tls_psk_file, o->tls_identity, &psk) < 0)
		return -1;
	psk.server_name = o->tls_hostname;
	o->psk = &psk;
	return 0;
}

static int disconnect(const char *device)
{
	int index = device_index(device), r;

	if (index < 0)
		return client_error("%s is not an NBD device (/dev/nbdN)",
				    device);
	/* an ioctl-mode -persist daemon would otherwise reattach it */
	ioctl_stop_daemon(device);
	r = netlink_disconnect(index);
	if (r == 1)
		r = ioctl_disconnect(device);
	return r;
}

/*
 * A client that will stay behind re-executes itself as "@nbd-client"
 * while its binary is still reachable (before switch_root): the '@' is
 * what systemd looks for, and overwriting argv[0][0] in place would show
 * "@bd-client" in ps.
 */
static void reexec_as_daemon(int argc, char **argv)
{
	static char name[] = "@nbd-client";
	char *args[64];
	int i;

	if (argv[0][0] == '@' || argc >= (int)(sizeof(args) / sizeof(args[0])))
		return;
	args[0] = name;
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	execv("/proc/self/exe", args);
	/* no /proc: daemon_setup() marks argv[0] in place */
}

int main(int argc, char **argv)
{
	struct cli c;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(argc, argv, &c) < 0) {
		fprintf(stderr, "nbd-client: %s\n%s", client_last_error(),
			cli_usage);
		return 2;
	}
	switch (c.mode) {
	case MODE_HELP:
		fputs(cli_usage, stdout);
		return 0;
	case MODE_CHECK:
		r = device_check(c.target);
		if (r == 2)
			fprintf(stderr, "nbd-client: %s\n",
				client_last_error());
		return r;
	case MODE_DISCONNECT:
		r = disconnect(c.target);
		break;
	case MODE_LIST:
		r = load_key(&c.opts);
		if (r == 0)
			r = list(&c.opts);
		break;
	default:
		if (c.opts.persist || c.opts.nonetlink || c.opts.swap ||
		    c.opts.systemd_mark)
			reexec_as_daemon(argc, argv);
		r = load_key(&c.opts);
		if (r == 0)
			r = attach(&c.opts, argv);
		break;
	}
	if (r < 0) {
		fprintf(stderr, "nbd-client: %s\n", client_last_error());
		return 1;
	}
	return 0;
}
