/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random numbers for the initrd's DHCP clients (transaction ids and the
 * jitter of their retransmissions), without waiting at boot: a xorshift
 * generator seeded with the 16 bytes the kernel gives every process
 * (AT_RANDOM), the clock and the caller's bytes (a MAC address).
 *
 * Not /dev/urandom: before the kernel's pool is ready, a read of it
 * first spins to gather entropy (try_to_generate_entropy), a second
 * under emulation, on every boot. A DHCP transaction id needs no
 * secrecy: it goes out in the clear, broadcast or multicast to the whole
 * link; it tells a client's answers from other clients'.
 */
#ifndef NBDROOT_RNG_H
#define NBDROOT_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/times.h>

#ifndef AT_RANDOM
#define AT_RANDOM	25	/* include/uapi/linux/auxvec.h; klibc keeps it */
#endif

static uint64_t rng_state;

static inline void rng_mix(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++)
		rng_state = (rng_state << 8 | rng_state >> 56) ^ p[i];
}

static inline void rng_seed(const unsigned char *extra, size_t n)
{
	rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)(unsigned long)times(NULL);
	rng_mix((const unsigned char *)getauxval(AT_RANDOM), 16);
	rng_mix(extra, n);
	if (!rng_state)
		rng_state = 1;
}

static inline uint32_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

#endif
