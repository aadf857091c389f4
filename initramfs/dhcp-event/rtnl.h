/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The three changes a lease makes to a link, over rtnetlink, in the
 * event's own process: what ip(8) did in three execs.
 */
#ifndef NBDROOT_DHCP_EVENT_RTNL_H
#define NBDROOT_DHCP_EVENT_RTNL_H

#include <stdint.h>

/* Addresses are in network byte order. Each returns 0 or -errno. */

/* LINK's interface index, or -errno (ENODEV: no such link). */
int rtnl_link_index(const char *link);

/* Sets the link up (administratively; the carrier is the driver's). */
int rtnl_link_up(int index);

/* Removes every IPv4 address of the link. */
int rtnl_flush4(int index);

/* Adds ADDR/PREFIX, with BCAST when it is not 0. */
int rtnl_add4(int index, uint32_t addr, unsigned int prefix, uint32_t bcast);

/* Adds the default route via GW on the link. */
int rtnl_default4(int index, uint32_t gw);

#endif
