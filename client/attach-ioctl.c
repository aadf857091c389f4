// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl path, for kernels without the "nbd" netlink family or with -L.
 * NBD_DO_IT blocks in the calling process for the life of the device, and
 * any signal to that process drops the device, so it runs in a child that
 * marks itself as a root storage daemon ('@' in argv[0], the systemd
 * convention) and ignores what it can.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/nbd.h>

#include "nbd-client.h"

/* klibc declares ioctl(int, int, void *), glibc ioctl(int, unsigned long, ...) */
static int nbd_ioctl(int fd, unsigned int req, unsigned long arg)
{
	return ioctl(fd, req, (void *)arg);
}

static int configure(int dev, const struct client_opts *o,
		     const struct export_info *e, int fd)
{
	unsigned long flags = e->flags;

	if (nbd_ioctl(dev, NBD_SET_BLKSIZE, (unsigned long)o->block_size) < 0)
		return client_error("%s: NBD_SET_BLKSIZE %u: %s", o->device,
				    o->block_size, strerror(errno));
	if (nbd_ioctl(dev, NBD_SET_SIZE_BLOCKS,
		  (unsigned long)(e->size / o->block_size)) < 0)
		return client_error("%s: NBD_SET_SIZE_BLOCKS: %s", o->device,
				    strerror(errno));
	if (o->timeout && nbd_ioctl(dev, NBD_SET_TIMEOUT,
				(unsigned long)o->timeout) < 0)
		return client_error("%s: NBD_SET_TIMEOUT: %s", o->device,
				    strerror(errno));
	if (nbd_ioctl(dev, NBD_SET_FLAGS, flags) < 0)
		return client_error("%s: NBD_SET_FLAGS: %s", o->device,
				    strerror(errno));
	nbd_ioctl(dev, NBD_CLEAR_SOCK, 0);
	if (nbd_ioctl(dev, NBD_SET_SOCK, (unsigned long)fd) < 0) {
		if (errno == EBUSY)
			return client_error("%s is already in use", o->device);
		return client_error("%s: NBD_SET_SOCK: %s", o->device,
				    strerror(errno));
	}
	return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * -persist in ioctl mode, as far as the kernel allows: without netlink
 * there is no dead-connection timeout, so I/O fails while the server is
 * away; once it is back, the device gets a new socket and NBD_DO_IT runs
 * again.
 */
struct ioctl_device {
	int dev;		/* open o->device, -1 once lost */
	const struct client_opts *o;
	const struct export_info *e;
};

static int hand_over(void *ctx, int fd)
{
	struct ioctl_device *d = ctx;

	/*
	 * The kernel frees the old configuration (and forgets the NBD_DO_IT
	 * task, else EBUSY) only once no one has the device open.
	 */
	close(d->dev);
	d->dev = open(d->o->device, O_RDWR);
	if (d->dev < 0)
		return client_error("reopening %s: %s", d->o->device,
				    strerror(errno));
	if (configure(d->dev, d->o, d->e, fd) < 0) {
		close(d->dev);
		d->dev = -1;
		return -1;
	}
	return 0;
}

/* -d (SIGTERM), or a device we could not take back */
static int stopped(void *ctx)
{
	const struct ioctl_device *d = ctx;

	return stop_requested || d->dev < 0;
}

/* Runs the device until it is disconnected; never returns. */
static void serve_device(int dev, const struct client_opts *o,
			 const struct export_info *e, char **argv)
{
	struct ioctl_device d = { .dev = dev, .o = o, .e = e };
	struct reconnect r = {
		.o = o, .e = e, .hand_over = hand_over, .stopped = stopped,
		.ctx = &d, .host = o->start, .note = " (ioctl mode: I/O fails until then)",
	};

	daemon_setup(argv, o->nofork);
	/* any signal ends NBD_DO_IT: SIGTERM is how -d tells us to stop */
	signal(SIGTERM, on_stop);
	for (;;) {
		if (nbd_ioctl(d.dev, NBD_DO_IT, 0) < 0 && errno != EPIPE &&
		    errno != EBADR && errno != EINTR)
			client_log(o->device, "NBD_DO_IT: %s", strerror(errno));
		nbd_ioctl(d.dev, NBD_CLEAR_QUE, 0);
		nbd_ioctl(d.dev, NBD_CLEAR_SOCK, 0);
		if (!o->persist || stop_requested || reconnect(&r) < 0)
			break;
	}
	_exit(0);
}

/* -d in ioctl mode: a persistent NBD_DO_IT process must not reconnect. */
void ioctl_stop_daemon(const char *device)
{
	char path[64], buf[64];
	long pid;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid",
		 device_index(device));
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return;
	pid = strtol(buf, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if (read_small(path, buf, sizeof(buf)) > 0 && buf[0] == '@' &&
	    strstr(buf, "nbd-client"))
		kill((pid_t)pid, SIGTERM);
}

/* Waits until the kernel has started the device, at most 5 seconds. */
static void wait_started(const struct client_opts *o)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", o->index);
	for (i = 0; i < 100 && access(path, F_OK) < 0; i++)
		usleep(50000);
}

int ioctl_attach(const struct client_opts *o, const struct export_info *e,
		 int fd, char **argv)
{
	int dev = open(o->device, O_RDWR);
	pid_t pid;

	if (dev < 0)
		return client_error("open %s: %s", o->device, strerror(errno));
	if (configure(dev, o, e, fd) < 0)
		goto out_close;
	if (o->nofork)
		serve_device(dev, o, e, argv);
	pid = fork();
	if (pid < 0) {
		client_error("fork: %s", strerror(errno));
		goto out_clear;
	}
	if (pid == 0) {
		serve_device(dev, o, e, argv);
	}
	close(dev);
	wait_started(o);
	return 0;

out_clear:
	nbd_ioctl(dev, NBD_CLEAR_SOCK, 0);
out_close:
	close(dev);
	return -1;
}

int ioctl_disconnect(const char *device)
{
	int dev = open(device, O_RDWR);

	if (dev < 0)
		return client_error("open %s: %s", device, strerror(errno));
	if (nbd_ioctl(dev, NBD_DISCONNECT, 0) < 0) {
		client_error("%s: NBD_DISCONNECT: %s", device, strerror(errno));
		close(dev);
		return -1;
	}
	nbd_ioctl(dev, NBD_CLEAR_SOCK, 0);
	close(dev);
	return 0;
}
