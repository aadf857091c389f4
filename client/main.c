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

/* Copies the idx-th host of "a,b,c" into buf; 0, or -1 past the end. */
static int nth_host(const char *hosts, int idx, char *buf, size_t len)
{
	const char *p = hosts, *end;
	size_t n;

	while (idx-- > 0) {
		p = strchr(p, ',');
		if (!p)
			return -1;
		p++;
	}
	end = strchr(p, ',');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

static int open_one(const char *host, const struct client_opts *o,
		    struct export_info *e)
{
	char peer[128];
	int fd = connect_server(host, o->port, peer, sizeof(peer));

	if (fd < 0)
		return -1;
	if (negotiate(fd, peer, o->name, o->no_optgo, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The first server of the list that answers; more sockets to the same. */
static int open_connections(struct client_opts *o, struct export_info *e,
			    int *fds)
{
	char host[256];
	struct export_info again;
	int i, n;

	fds[0] = -1;
	for (i = 0; fds[0] < 0; i++) {
		if (nth_host(o->hosts, i, host, sizeof(host)) < 0)
			return -1;	/* keeps the last server's error */
		fds[0] = open_one(host, o, e);
	}
	if (o->conns > 1 && !(e->flags & NBD_FLAG_CAN_MULTI_CONN)) {
		fprintf(stderr, "nbd-client: warning: server %s does not allow several connections; using one\n",
			host);
		o->conns = 1;
	}
	for (n = 1; n < o->conns; n++) {
		fds[n] = open_one(host, o, &again);
		if (fds[n] < 0 || again.size != e->size) {
			if (fds[n] >= 0)
				client_error("server %s changed the export size between connections",
					     host);
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

static int attach(struct client_opts *o, char **argv)
{
	struct export_info e;
	int fds[CLIENT_MAX_CONNS], n, r = 1;

	n = open_connections(o, &e, fds);
	if (n < 0)
		return -1;
	if (choose_block_size(o, &e) < 0)
		goto out_close;
	if (o->readonly)
		e.flags |= NBD_FLAG_READ_ONLY;
	if (!o->nonetlink)
		r = netlink_connect(o, &e, fds, n);
	if (r == 1 && n > 1) {
		client_error("several connections need the netlink interface");
		goto out_close;
	}
	if (r == 1)
		r = ioctl_attach(o, &e, fds[0], argv);
	if (r < 0)
		goto out_close;
	close_all(fds, n);
	device_rescan(o->device);
	printf("nbd-client: %s: export \"%s\", %llu bytes, %d connection%s\n",
	       o->device, o->name, (unsigned long long)e.size, n,
	       n == 1 ? "" : "s");
	return 0;

out_close:
	close_all(fds, n);
	return -1;
}

static int disconnect(const char *device)
{
	int index = device_index(device), r;

	if (index < 0)
		return client_error("%s is not an NBD device (/dev/nbdN)",
				    device);
	r = netlink_disconnect(index);
	if (r == 1)
		r = ioctl_disconnect(device);
	return r;
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
		r = client_error("-list is not supported yet");
		break;
	default:
		if (c.opts.persist)
			r = client_error("-persist is not supported yet");
		else
			r = attach(&c.opts, argv);
		break;
	}
	if (r < 0) {
		fprintf(stderr, "nbd-client: %s\n", client_last_error());
		return 1;
	}
	return 0;
}
