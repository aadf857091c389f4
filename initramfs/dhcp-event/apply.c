// SPDX-License-Identifier: GPL-2.0
/*
 * What a lease does to a link and what it leaves for the init, for both
 * of its sources: udhcpc's event program (event.c) and our own DHCPv4
 * client (initramfs/dhcp4). apply.h says what each step does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "apply.h"
#include "conf.h"
#include "rtnl.h"

static const char *setting(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && v[0] ? v : dflt;
}

/* One line (with its "<N>" level) in the kernel log: 0, or -1 when the
 * log cannot be opened or refuses it. */
int kmsg(const char *line, size_t n)
{
	int fd = open(setting("NBDROOT_KMSG", "/dev/kmsg"),
		      O_WRONLY | O_APPEND | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, line, n) == (ssize_t)n;
	close(fd);
	return ok ? 0 : -1;
}

/* A link name that is safe in a path: not empty, no '/', not a dot. */
int link_name_ok(const char *link)
{
	return link[0] && strlen(link) < 16 && !strchr(link, '/') &&
	       strcmp(link, ".") && strcmp(link, "..");
}

/* The reason in the kernel log (else on stderr) and in the file the
 * init reads; exit 1. */
void lease_fail(const struct lease *l, const char *fmt, ...)
{
	char why[512], line[600], path[256];
	const char *run = setting("NBDROOT_RUN", "/run");
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "<3>nbdroot: dhcp: %s\n", why);
	if (kmsg(line, (size_t)n) < 0)
		fprintf(stderr, "%s", line + 3);
	snprintf(path, sizeof(path), "%s/nbdroot", run);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/nbdroot/dhcp-error-%s", run,
		 l->interface);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		n = snprintf(line, sizeof(line), "%s\n", why);
		if (write(fd, line, (size_t)n) != n)
			fprintf(stderr, "nbdroot: dhcp: %s: %s\n", path,
				strerror(errno));
		close(fd);
	}
	exit(1);
}

/* "nbdroot: time: dhcp-EVENT UPTIME" in the kernel log, at debug level. */
void log_time(const char *ev)
{
	char up[32] = "", line[96];
	ssize_t r;
	int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return;
	r = read(fd, up, sizeof(up) - 1);
	close(fd);
	if (r <= 0)
		return;
	up[r] = '\0';
	up[strcspn(up, " \n")] = '\0';
	n = snprintf(line, sizeof(line), "<7>nbdroot: time: dhcp-%s %s\n", ev, up);
	/* refused: a time line is not worth more */
	if (n > 0 && (size_t)n < sizeof(line))
		kmsg(line, (size_t)n);
}

/* Dotted-quad IPv4 into *out (network order); -1 unless exactly that. */
static int parse_ipv4(const char *s, uint32_t *out)
{
	unsigned char b[4];
	unsigned int v, i, digits;

	for (i = 0; i < 4; i++) {
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++, digits++) {
			v = v * 10 + (unsigned int)(*s - '0');
			if (digits == 3 || v > 255)
				return -1;
		}
		if (!digits || *s != (i < 3 ? '.' : '\0'))
			return -1;
		b[i] = (unsigned char)v;
		s += i < 3;
	}
	memcpy(out, b, 4);
	return 0;
}

/* A prefix length 0..32 in decimal; -1 otherwise. */
static int parse_prefix(const char *s)
{
	int v = 0;

	if (!s[0] || strlen(s) > 2)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= 32 ? v : -1;
}

/* The first of the lease's routers that the kernel takes. */
static void set_default_route(const struct lease *l, int index)
{
	char word[64];
	uint32_t gw;
	int i, err;

	for (i = 0;; i++) {
		err = conf_word(l->router, i, word, sizeof(word));
		if (!err)
			return;
		if (err < 0) {
			fprintf(stderr, "nbdroot: dhcp: %s: router %d is too long to be an address\n",
				l->interface, i + 1);
			continue;
		}
		if (parse_ipv4(word, &gw) < 0) {
			fprintf(stderr, "nbdroot: dhcp: %s: router \"%s\" is not an IPv4 address\n",
				l->interface, word);
			continue;
		}
		err = rtnl_default4(index, gw);
		if (!err)
			return;
		fprintf(stderr, "nbdroot: dhcp: %s: default route via %s: %s\n",
			l->interface, word, strerror(-err));
	}
}

/* f, written to tmp, closed and renamed to path: 0, or errno with tmp
 * removed. klibc's fclose does not report its own flush's failure, so
 * the flush comes first. */
static int put_in_place(FILE *f, const char *tmp, const char *path)
{
	int bad = fflush(f) != 0 || ferror(f), e;

	if (!(fclose(f) | bad) && !rename(tmp, path))
		return 0;
	e = errno ? errno : EIO;
	unlink(tmp);
	return e;
}

/* resolv.conf written beside and renamed into place: two links' leases
 * at once leave one whole file (a symlink at path is replaced, as
 * klibc's ipconfig and udhcpc's own scripts do). A failure is said in
 * udhcpc's log and leaves the old file. */
static void write_resolv(const struct lease *l)
{
	const char *path = setting("NBDROOT_RESOLV", "/etc/resolv.conf");
	char tmp[256];
	FILE *f;
	int n, err;

	n = snprintf(tmp, sizeof(tmp), "%s.%s", path, l->interface);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "nbdroot: dhcp: %s.%s: the path is too long\n",
			path, l->interface);
		return;
	}
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "nbdroot: dhcp: %s: %s\n", tmp, strerror(errno));
		return;
	}
	conf_resolv(f, l);
	err = put_in_place(f, tmp, path);
	if (err)
		fprintf(stderr, "nbdroot: dhcp: %s: %s\n", path, strerror(err));
}

void lease_configure(const struct lease *l)
{
	const char *mask = l->mask[0] ? l->mask : "24";
	uint32_t addr, bcast = 0;
	int index, prefix, err;

	if (parse_ipv4(l->ip, &addr) < 0)
		lease_fail(l, "%s: cannot set the leased address %s/%s: not an IPv4 address",
		     l->interface, l->ip, mask);
	prefix = parse_prefix(mask);
	if (prefix < 0)
		lease_fail(l, "%s: cannot set the leased address %s/%s: \"%s\" is not a prefix length from 0 to 32",
		     l->interface, l->ip, mask, mask);
	if (l->broadcast[0] && parse_ipv4(l->broadcast, &bcast) < 0)
		lease_fail(l, "%s: cannot set the leased address %s/%s: broadcast \"%s\" is not an IPv4 address",
		     l->interface, l->ip, mask, l->broadcast);
	index = rtnl_link_index(l->interface);
	if (index < 0)
		lease_fail(l, "%s: cannot set the leased address %s/%s: there is no link %s (%s)",
		     l->interface, l->ip, mask, l->interface, strerror(-index));
	err = rtnl_flush4(index);
	if (err)
		fprintf(stderr, "nbdroot: dhcp: %s: flushing its IPv4 addresses: %s\n",
			l->interface, strerror(-err));
	err = rtnl_add4(index, addr, (unsigned int)prefix, bcast);
	if (err)
		lease_fail(l, "%s: cannot set the leased address %s/%s: %s",
		     l->interface, l->ip, mask, strerror(-err));
	set_default_route(l, index);
	if (l->dns[0])
		write_resolv(l);
}

/* net-$interface.conf, written beside and renamed into place: a reader
 * sees the whole file or none. */
void lease_describe(const struct lease *l, const char *proto)
{
	const char *run = setting("NBDROOT_RUN", "/run");
	char path[256], tmp[sizeof(path) + 4];
	FILE *f;
	int n, err;

	n = snprintf(path, sizeof(path), "%s/net-%s.conf", run, l->interface);
	if (n < 0 || (size_t)n >= sizeof(path))
		lease_fail(l, "%s: the path %s/net-%s.conf is too long", l->interface,
		     run, l->interface);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		lease_fail(l, "%s: cannot write %s: %s", l->interface, tmp,
		     strerror(errno));
	conf_write(f, l, proto);
	err = put_in_place(f, tmp, path);
	if (err)
		lease_fail(l, "%s: cannot write %s: %s", l->interface, path,
		     strerror(err));
}

void link_deconfig(const struct lease *l)
{
	int index = rtnl_link_index(l->interface), err;

	if (index < 0) {
		fprintf(stderr, "nbdroot: dhcp: %s: %s\n", l->interface,
			strerror(-index));
		return;
	}
	err = rtnl_link_up(index);
	if (err)
		fprintf(stderr, "nbdroot: dhcp: %s: setting it up: %s\n",
			l->interface, strerror(-err));
	err = rtnl_flush4(index);
	if (err)
		fprintf(stderr, "nbdroot: dhcp: %s: flushing its IPv4 addresses: %s\n",
			l->interface, strerror(-err));
}

