/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What nbdroot-dhcp-event writes: /run/net-LINK.conf in klibc ipconfig's
 * format and /etc/resolv.conf. Pure code over a stdio stream: the tests
 * and the fuzzer call it without a network.
 */
#ifndef NBDROOT_DHCP_EVENT_CONF_H
#define NBDROOT_DHCP_EVENT_CONF_H

#include <stdio.h>

/* A lease or a configured address, as udhcpc's environment names it. */
struct lease {
	const char *interface, *ip, *mask, *subnet, *broadcast, *router;
	const char *dns, *domain, *hostname, *siaddr, *serverid, *rootpath;
	const char *boot_file, *lease, *search, *ip6, *router6;
};

/* Every field from getenv (udhcpc's names), "" for an unset one. */
void lease_from_env(struct lease *l);

/* NAME='VALUE' and a newline, each ' in VALUE as '\'' and each control
 * character as '?': one line that a reader may source safely, or read as
 * a line, whatever VALUE holds. */
void conf_kv(FILE *f, const char *name, const char *value);

/* The whole net-LINK.conf of l, PROTO "dhcp", "none", "auto6"... */
void conf_write(FILE *f, const struct lease *l, const char *proto);

/* resolv.conf from l->dns (words) and l->domain: the name servers that
 * look like addresses, and "search" only for a domain of name
 * characters (a server's newline makes no line of its own). */
void conf_resolv(FILE *f, const struct lease *l);

/* The Nth (from 0) blank-separated word of s into buf (size sz): 1, or
 * 0 when there are fewer words, -1 when it does not fit (buf "" both). */
int conf_word(const char *s, int n, char *buf, size_t sz);

#endif
