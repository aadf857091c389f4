/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A module file packed with xz, unpacked into memory for init_module(2)
 * (xz.c).
 */
#ifndef NBDROOT_MODLOAD_XZ_H
#define NBDROOT_MODLOAD_XZ_H

#include <stddef.h>

/* a module unpacked; the largest NIC driver of the initrd is 0.9 MB */
#define XZ_MAX		(64u << 20)

/*
 * The contents of the xz file open as fd, unpacked by "unxz -c" (from
 * PATH) in a child: a malloc'd buffer of *len bytes, or NULL with why
 * (whylen bytes) saying what failed.
 */
void *xz_unpack(int fd, size_t *len, char *why, size_t whylen);

#endif
