/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a lease does to a link, shared by udhcpc's event program and
 * nbdroot-dhcp4. NBDROOT_RUN, NBDROOT_KMSG and NBDROOT_RESOLV move /run,
 * /dev/kmsg and /etc/resolv.conf for the host's tests.
 */
#ifndef NBDROOT_DHCP_EVENT_APPLY_H
#define NBDROOT_DHCP_EVENT_APPLY_H

#include "conf.h"

/* A link name that is safe in a path: not empty, no '/', not a dot. */
int link_name_ok(const char *link);

/* One line (with its "<N>" level) in the kernel log: 0, or -1 when the
 * log cannot be opened or refuses it. */
int kmsg(const char *line, size_t n);

/* "nbdroot: time: dhcp-EV UPTIME" in the kernel log, at debug level. */
void log_time(const char *ev);

/* The reason in the kernel log (else on stderr) and in
 * /run/nbdroot/dhcp-error-LINK, the one line the init reports; exit 1. */
void lease_fail(const struct lease *l, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Sets the link up and flushes its IPv4 addresses (another tool may have
 * set one); a failure is said on stderr only. */
void link_deconfig(const struct lease *l);

/* The lease on its link: flush, the address, the first router the
 * kernel takes as the default route, resolv.conf when it names servers.
 * A lease that cannot be set is lease_fail's. */
void lease_configure(const struct lease *l);

/* /run/net-LINK.conf with PROTO proto, written beside and renamed into
 * place; lease_fail's when it cannot be written. */
void lease_describe(const struct lease *l, const char *proto);

#endif
