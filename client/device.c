// SPDX-License-Identifier: GPL-2.0
/* /dev/nbdN names and the device state the kernel shows in sysfs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <linux/fs.h>

#include "nbd-client.h"

/* "/dev/nbd12" -> 12; anything else -> -1. */
int device_index(const char *device)
{
	const char *p;
	int n = 0;

	if (strncmp(device, "/dev/nbd", 8) != 0 || !device[8])
		return -1;
	for (p = device + 8; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

/* Reads a small file (sysfs, procfs) into buf as a string; length or -1. */
ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * Upstream's -c: prints the pid that connected the device and returns 0,
 * returns 1 when it is not connected, 2 when it is no NBD device.
 */
int device_check(const char *device)
{
	char path[64], pid[32];
	int index = device_index(device);

	if (index < 0) {
		client_error("%s is not an NBD device (/dev/nbdN)", device);
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", index);
	if (read_small(path, pid, sizeof(pid)) <= 0)
		return 1;
	fputs(pid, stdout);
	return 0;
}

/*
 * Whether an open of the device reads its partition table: since Linux
 * 5.11 nbd.ko marks the disk for a scan whenever it sets the size (with
 * set_capacity_and_notify), and the next open scans it. Before, only
 * BLKRRPART did, and on a newer kernel BLKRRPART after that open reads
 * the table a second time (seen: the same three reads twice over the
 * network on every boot).
 */
static int kernel_scans_at_open(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major > 5 || (major == 5 && minor >= 11);
}

/* Partition tables are read without udev: by the kernel at this open,
 * or by BLKRRPART on an older kernel; best effort. */
void device_rescan(const char *device)
{
	int fd = open(device, O_RDONLY);

	if (fd < 0)
		return;
	if (!kernel_scans_at_open())
		ioctl(fd, BLKRRPART, NULL);
	close(fd);
}

/*
 * The block layer's request timer of nbdN (queue/io_timeout, ms): how
 * often nbd.ko's timeout handler looks at a request still in flight.
 */
int device_set_io_timeout(int index, unsigned int ms)
{
	char path[64], val[16];
	int fd, len;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/queue/io_timeout",
		 index);
	len = snprintf(val, sizeof(val), "%u\n", ms);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return client_error("%s: %s", path, strerror(errno));
	n = write(fd, val, (size_t)len);
	if (n != len) {
		client_error("writing %u to %s: %s", ms, path,
			     n < 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
