// SPDX-License-Identifier: GPL-2.0
/*
 * -persist: a small daemon that keeps a netlink-attached device alive
 * across server restarts. The kernel multicasts NBD_CMD_LINK_DEAD when a
 * socket dies; while the dead-connection timeout runs, I/O waits, and we
 * hand it a freshly negotiated socket (reconnect.c) with
 * NBD_CMD_RECONFIGURE. Requests that were in flight on the dead socket are
 * requeued only by the kernel's timeout handler: main.c sets its timer
 * (requeue_mode).
 *
 * The daemon serves the root filesystem and maybe swap: it locks its
 * memory, asks the OOM killer to spare it, marks itself '@' so systemd
 * leaves it alone at shutdown, and allocates nothing after it starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/nbd-netlink.h>

#include "genl.h"
#include "nbd-client.h"

#define CHECK_EVERY_MS	2000

struct daemon {
	struct persist *p;
	const struct client_opts *o;
	struct reconnect r;
	int dead;		/* LINK_DEAD events not yet answered */
	int marker;		/* open /sys/block/nbdN/pid */
};

/* Before CONNECT, so that no LINK_DEAD can slip past unseen. */
int persist_prepare(struct persist *p)
{
	uint32_t group = 0;

	if (genl_open(&p->events) < 0)
		return client_error("netlink socket: %s", strerror(errno));
	if (genl_resolve(&p->events, NBD_GENL_FAMILY_NAME,
			 NBD_GENL_MCAST_GROUP_NAME, &p->family, &group) < 0 ||
	    !group) {
		int missing = errno == ENOENT || !group;

		genl_close(&p->events);
		if (missing)
			return 1;
		return client_error("netlink: looking up family \"nbd\": %s",
				    strerror(errno));
	}
	if (genl_join(&p->events, group) < 0) {
		genl_close(&p->events);
		return client_error("netlink: joining %s: %s",
				    NBD_GENL_MCAST_GROUP_NAME, strerror(errno));
	}
	return 0;
}

static void on_event(uint8_t cmd, const unsigned char *attrs, size_t len,
		     void *arg)
{
	struct daemon *d = arg;
	uint32_t index;

	if (cmd != NBD_CMD_LINK_DEAD ||
	    genl_get_u32(attrs, len, NBD_ATTR_INDEX, &index) < 0 ||
	    (int)index != d->o->index)
		return;
	d->dead++;
}

/*
 * The daemon outlives switch_root in the initramfs' mount namespace, where
 * /sys is gone once the real root took it over: so it keeps the device's
 * sysfs "pid" attribute open from the start. The kernel removes that file
 * when the device is disconnected, and reads of a removed attribute fail,
 * even if the device is configured again by someone else.
 */
static int open_device_marker(const struct client_opts *o)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", o->index);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int device_is_ours(const struct daemon *d)
{
	char buf[32];

	return pread(d->marker, buf, sizeof(buf), 0) > 0;
}

static int hand_over(void *ctx, int fd)
{
	struct daemon *d = ctx;

	return netlink_reconfigure(d->p->family, d->o, fd);
}

static int stopped(void *ctx)
{
	return !device_is_ours(ctx);
}

void persist_run(struct persist *p, const struct client_opts *o,
		 const struct export_info *e, char **argv)
{
	struct daemon d = {
		.p = p, .o = o,
		.r = { .o = o, .e = e, .host = o->start,
		       .hand_over = hand_over, .stopped = stopped, .ctx = &d },
	};

	d.marker = open_device_marker(o);
	if (d.marker < 0) {
		client_log(o->device, "cannot watch the device: %s",
			   strerror(errno));
		_exit(1);
	}
	daemon_setup(argv, o->nofork);
	for (;;) {
		if (genl_next_events(&p->events, CHECK_EVERY_MS, on_event,
				     &d) < 0 && errno != EINTR) {
			client_log(o->device, "netlink: %s", strerror(errno));
			sleep(1);
		}
		while (d.dead > 0 && reconnect(&d.r) == 0)
			d.dead--;
		if (d.dead > 0 || !device_is_ours(&d)) {
			client_log(o->device, "device was disconnected; stopping");
			_exit(0);
		}
	}
}
