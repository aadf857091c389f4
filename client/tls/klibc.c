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
#include <unistd.h>

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

void tls13_klibc_init(void)
{
	static int done;

	if (done)
		return;
	thread_block[0] = (uint64_t)(uintptr_t)thread_block;
	/* a fixed canary still catches overruns; it is not a secret here */
	thread_block[5] = 0x2f8e61b4c7d35a90ULL;
	arch_prctl(ARCH_SET_FS, (unsigned long)thread_block);
	done = 1;
}

void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	static const char msg[] = "nbd-client: stack smashing detected\n";

	write(2, msg, sizeof(msg) - 1);
	_exit(127);
}

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		__stack_chk_fail();
	return memcpy(d, s, n);
}

void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		__stack_chk_fail();
	return memmove(d, s, n);
}

void *__memset_chk(void *d, int c, size_t n, size_t dlen);
void *__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen)
		__stack_chk_fail();
	return memset(d, c, n);
}
#else
#include "klibc.h"

void tls13_klibc_init(void)
{
}
#endif
