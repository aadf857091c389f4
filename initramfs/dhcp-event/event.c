// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-dhcp-event: udhcpc's event program (udhcpc -s) in the initrd,
 * and the init's way to describe an address it configured itself. It is
 * the initrd's /lib/nbdroot/dhcp-event.
 *
 *   nbdroot-dhcp-event EVENT   with the lease in udhcpc's environment
 *
 * deconfig      sets the link up (udhcpc runs it before its first
 *               request) and flushes its IPv4 addresses (another tool,
 *               dracut's ip=, may have set one)
 * bound, renew  configures the lease: flush, the address, the first
 *               router that takes as the default route, resolv.conf
 *               when the lease names servers; then describes it
 * static, static6, auto6, dhcp6   describes only (PROTO none, or the
 *               event), the init having configured the link
 *
 * The description is /run/net-$interface.conf in klibc ipconfig's format,
 * for the init and the real root (conf.c). A lease that cannot be
 * configured is described instead in /run/nbdroot/dhcp-error-$interface,
 * one line the init reports, and in the kernel log; exit 1. deconfig and
 * a lease each log "nbdroot: time: dhcp-EVENT UPTIME" at debug level,
 * the init's stage lines (nbdroot(7)): udhcpc's start and the exchange,
 * apart in the boot's breakdown. Each of the
 * shell script's ip(8) calls was an exec of busybox on every boot's path,
 * some 12 ms each under emulation: here they are rtnetlink requests.
 * NBDROOT_RUN, NBDROOT_KMSG and NBDROOT_RESOLV move /run, /dev/kmsg and
 * /etc/resolv.conf for the host's tests.
 */
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "conf.h"

int main(int argc, char **argv)
{
	const char *ev = argc == 2 ? argv[1] : "";
	struct lease l;

	lease_from_env(&l);
	if (!link_name_ok(l.interface)) {
		fprintf(stderr, "nbdroot-dhcp-event: interface=\"%s\" is not a link name\n",
			l.interface);
		return 2;
	}
	if (!strcmp(ev, "deconfig")) {
		log_time(ev);
		link_deconfig(&l);
	} else if (!strcmp(ev, "bound") || !strcmp(ev, "renew")) {
		log_time("bound");
		lease_configure(&l);
		lease_describe(&l, "dhcp");
	} else if (!strcmp(ev, "static") || !strcmp(ev, "static6")) {
		lease_describe(&l, "none");
	} else if (!strcmp(ev, "auto6") || !strcmp(ev, "dhcp6")) {
		lease_describe(&l, ev);
	} else if (!ev[0]) {
		fprintf(stderr, "usage: nbdroot-dhcp-event EVENT (udhcpc's, or static, static6, auto6, dhcp6), the lease in the environment\n");
		return 2;
	}
	return 0;	/* leasefail, nak: udhcpc goes on asking */
}
