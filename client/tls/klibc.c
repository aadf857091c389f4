// SPDX-License-Identifier: GPL-2.0
/*
 * Debian's libbearssl.a is built for glibc: its objects are compiled with
 * the stack protector (the canary at %fs:0x28) and _FORTIFY_SOURCE
 * (__memcpy_chk). klibc has neither; this supplies them, for the static
 * klcc build only. Under glibc the C library provides all of it.
 */
#ifdef __KLIBC__
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <linux/auxvec.h>

#include "klibc.h"

#define ARCH_SET_FS	0x1002
#define SYS_ARCH_PRCTL	158

/* the canary's slot is 0x28 bytes in; the block points at itself */
static uint64_t thread_block[8] __attribute__((aligned(64)));

static long arch_prctl(int code, unsigned long addr)
{
	long ret;

	__asm__ volatile ("syscall"
			  : "=a"(ret)
			  : "0"((long)SYS_ARCH_PRCTL), "D"((long)code),
			    "S"(addr)
			  : "rcx", "r11", "memory");
	return ret;
}

/*
 * The canary must be unknown to whoever overruns a buffer, or it stops
 * accidents only: the kernel's 16 random bytes for this exec (AT_RANDOM),
 * first 8 with the low byte zeroed as glibc does (a string copy stops at
 * it). Without AT_RANDOM (kernels before 2.6.29) a fixed value remains.
 */
static uint64_t canary(void)
{
	const uint8_t *r = (const uint8_t *)getauxval(AT_RANDOM);
	uint64_t v = 0x2f8e61b4c7d35a00ULL;

	if (r)
		memcpy(&v, r, sizeof(v));
	return v & ~(uint64_t)0xff;
}

void tls13_klibc_init(void)
{
	static int done;

	if (done)
		return;
	thread_block[0] = (uint64_t)(uintptr_t)thread_block;
	thread_block[5] = canary();
	arch_prctl(ARCH_SET_FS, (unsigned long)thread_block);
	done = 1;
}

static __attribute__((noreturn)) void die(const char *msg, size_t len)
{
	write(2, msg, len);
	_exit(127);
}

void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	static const char msg[] = "nbd-client: stack smashing detected\n";

	die(msg, sizeof(msg) - 1);
}

/* glibc's _FORTIFY_SOURCE checks: n bytes into an object of dlen */
static __attribute__((noreturn)) void chk_fail(void)
{
	static const char msg[] = "nbd-client: buffer overflow detected\n";

	die(msg, sizeof(msg) - 1);
}

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		chk_fail();
	return memcpy(d, s, n);
}

void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		chk_fail();
	return memmove(d, s, n);
}

void *__memset_chk(void *d, int c, size_t n, size_t dlen);
void *__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen)
		chk_fail();
	return memset(d, c, n);
}
#else
#include "klibc.h"

void tls13_klibc_init(void)
{
}
#endif
