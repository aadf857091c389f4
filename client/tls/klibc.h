/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBDROOT_TLS_KLIBC_H
#define NBDROOT_TLS_KLIBC_H

/*
 * klibc only (a no-op elsewhere): sets up the thread block whose canary
 * at %fs:0x28 Debian's BearSSL objects read; call before any of them.
 */
void tls13_klibc_init(void);

#endif
