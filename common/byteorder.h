/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Big-endian load/store helpers for wire buffers.
 *
 * klibc has no be64toh(), and wire buffers are not aligned, so every field
 * is read and written byte by byte. Callers check the remaining length
 * before calling these: they never look past the bytes they are given.
 */
#ifndef NBDROOT_BYTEORDER_H
#define NBDROOT_BYTEORDER_H

#include <stdint.h>

static inline uint16_t get_be16(const unsigned char *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

#endif
