/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal generic-netlink client: enough for the kernel's "nbd" family. */
#ifndef NBDROOT_GENL_H
#define NBDROOT_GENL_H

#include <stdint.h>
#include <stddef.h>

#define GENL_MSG_MAX	1024

struct genl_msg {
	unsigned char buf[GENL_MSG_MAX];
	size_t len;
	int overflow;
};

struct genl_sock {
	int fd;
	uint32_t seq;
};

int genl_open(struct genl_sock *gs);
void genl_close(struct genl_sock *gs);
/* Family id and, if mcast_name is given, that group's id (else 0). */
int genl_resolve(struct genl_sock *gs, const char *family,
		 const char *mcast_name, uint16_t *id, uint32_t *mcast_id);

void genl_msg_init(struct genl_msg *m, uint16_t family, uint8_t cmd,
		   uint8_t version);
void genl_put(struct genl_msg *m, uint16_t type, const void *data,
	      size_t len);
void genl_put_u32(struct genl_msg *m, uint16_t type, uint32_t v);
void genl_put_u64(struct genl_msg *m, uint16_t type, uint64_t v);
size_t genl_nest_start(struct genl_msg *m, uint16_t type);
void genl_nest_end(struct genl_msg *m, size_t start);

/* Receives multicasts of group id on this socket. */
int genl_join(struct genl_sock *gs, uint32_t group);
/*
 * Waits up to timeout_ms for a multicast event and hands each one in the
 * next datagram to fn. Returns 1 after events, 0 on timeout, -1 on error.
 */
int genl_next_events(struct genl_sock *gs, int timeout_ms,
		     void (*fn)(uint8_t cmd, const unsigned char *attrs,
				size_t len, void *arg),
		     void *arg);
/* The u32 attribute type among attrs; 0, or -1 when absent. */
int genl_get_u32(const unsigned char *attrs, size_t len, uint16_t type,
		 uint32_t *v);

/*
 * Sends m and waits for the kernel's acknowledgement. Returns 0, or -1
 * with errno set to the kernel's error.
 */
int genl_transact(struct genl_sock *gs, struct genl_msg *m);

#endif
