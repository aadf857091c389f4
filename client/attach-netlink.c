// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching through the kernel's generic netlink family "nbd" (4.12+).
 * After NBD_CMD_CONNECT the kernel owns the sockets: no process has to
 * stay alive for the device to keep working.
 */
#include <errno.h>
#include <string.h>
#include <linux/nbd-netlink.h>

#include "genl.h"
#include "nbd-client.h"

static int open_family(struct genl_sock *gs, uint16_t *family)
{
	if (genl_open(gs) < 0)
		return client_error("netlink socket: %s", strerror(errno));
	if (genl_resolve(gs, NBD_GENL_FAMILY_NAME, NULL, family, NULL) < 0) {
		int missing = errno == ENOENT;

		genl_close(gs);
		if (missing)
			return 1;
		return client_error("netlink: looking up family \"nbd\": %s",
				    strerror(errno));
	}
	return 0;
}

static void put_sockets(struct genl_msg *m, const int *fds, int nfds)
{
	size_t socks = genl_nest_start(m, NBD_ATTR_SOCKETS);
	int i;

	for (i = 0; i < nfds; i++) {
		size_t item = genl_nest_start(m, NBD_SOCK_ITEM);

		genl_put_u32(m, NBD_SOCK_FD, (uint32_t)fds[i]);
		genl_nest_end(m, item);
	}
	genl_nest_end(m, socks);
}

static void build_connect(struct genl_msg *m, uint16_t family,
			  const struct client_opts *o,
			  const struct export_info *e, const int *fds,
			  int nfds, int with_identifier)
{
	genl_msg_init(m, family, NBD_CMD_CONNECT, NBD_GENL_VERSION);
	genl_put_u32(m, NBD_ATTR_INDEX, (uint32_t)o->index);
	genl_put_u64(m, NBD_ATTR_SIZE_BYTES, e->size);
	genl_put_u64(m, NBD_ATTR_BLOCK_SIZE_BYTES, o->block_size);
	genl_put_u64(m, NBD_ATTR_SERVER_FLAGS, e->flags);
	if (o->timeout)
		genl_put_u64(m, NBD_ATTR_TIMEOUT, o->timeout);
	if (o->dead_timeout)
		genl_put_u64(m, NBD_ATTR_DEAD_CONN_TIMEOUT, o->dead_timeout);
	if (with_identifier && o->identifier)
		genl_put(m, NBD_ATTR_BACKEND_IDENTIFIER, o->identifier,
			 strlen(o->identifier) + 1);
	put_sockets(m, fds, nfds);
}

/* Returns 0, 1 when the family is missing (use ioctls), or -1. */
int netlink_connect(const struct client_opts *o, const struct export_info *e,
		    const int *fds, int nfds)
{
	struct genl_sock gs;
	struct genl_msg m;
	uint16_t family;
	int r = open_family(&gs, &family);

	if (r)
		return r;
	build_connect(&m, family, o, e, fds, nfds, 1);
	r = genl_transact(&gs, &m);
	/* kernels before 5.14 reject the backend identifier attribute */
	if (r < 0 && errno == EINVAL && o->identifier) {
		build_connect(&m, family, o, e, fds, nfds, 0);
		r = genl_transact(&gs, &m);
	}
	genl_close(&gs);
	if (r == 0)
		return 0;
	if (errno == EBUSY)
		return client_error("%s is already in use", o->device);
	return client_error("netlink: connecting %s: %s", o->device,
			    strerror(errno));
}

/*
 * A new socket for a device whose connection died (-persist), family as
 * persist_prepare() resolved it. 0, or -1 after client_error().
 */
int netlink_reconfigure(uint16_t family, const struct client_opts *o, int fd)
{
	struct genl_sock gs;
	struct genl_msg m;
	int r;

	if (genl_open(&gs) < 0)
		return client_error("netlink socket: %s", strerror(errno));
	genl_msg_init(&m, family, NBD_CMD_RECONFIGURE, NBD_GENL_VERSION);
	genl_put_u32(&m, NBD_ATTR_INDEX, (uint32_t)o->index);
	/* the kernel checks it against the one given at CONNECT */
	if (o->identifier)
		genl_put(&m, NBD_ATTR_BACKEND_IDENTIFIER, o->identifier,
			 strlen(o->identifier) + 1);
	put_sockets(&m, &fd, 1);
	r = genl_transact(&gs, &m);
	genl_close(&gs);
	if (r < 0)
		return client_error("netlink: reconfiguring %s: %s", o->device,
				    strerror(errno));
	return 0;
}

/* Returns 0, 1 when the family is missing, or -1. */
int netlink_disconnect(int index)
{
	struct genl_sock gs;
	struct genl_msg m;
	uint16_t family;
	int r = open_family(&gs, &family);

	if (r)
		return r;
	genl_msg_init(&m, family, NBD_CMD_DISCONNECT, NBD_GENL_VERSION);
	genl_put_u32(&m, NBD_ATTR_INDEX, (uint32_t)index);
	r = genl_transact(&gs, &m);
	genl_close(&gs);
	if (r < 0)
		return client_error("netlink: disconnecting nbd%d: %s", index,
				    strerror(errno));
	return 0;
}
