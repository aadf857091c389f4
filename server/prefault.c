// SPDX-License-Identifier: GPL-2.0
/*
 * A waiting pre-forked child (pool.c) takes, before any client comes, the
 * page faults its first client's connect would otherwise wait for. After
 * fork every page the child writes is copied on its first write, and a
 * code page it has not run yet is mapped on its first fetch; on a virtual
 * machine where one fault costs 14 to 18 us (the machines of issue 15),
 * the 29 faults of one connect, from the wait to the end of GO, made it
 * 1.6 ms where nbdkit's (a threaded server, its pages long mapped) took
 * 0.85; with them taken in advance it is 0.95.
 *
 * What a connect touches: the stack below the waiting frame, the
 * server's own code, libc's formatting (the peer's address and the log
 * line), the clock, and the heap blocks it allocates: the exports'
 * openings, the option buffer, and after GO the request and reply
 * buffers. malloc would map those two anew for each client (two mmaps,
 * their first pages' faults, two munmaps at its end); with the threshold
 * for a mapping of their own raised above their size they come from the
 * heap. The allocations are made and freed in the order the connection
 * makes them, so that its own come from the same, now present, pages;
 * and the stack is written a page at a time. Nothing here changes what
 * the child answers, only when its pages come and where its buffers lie.
 * The whole program's data is not written in advance: at about 80 pages,
 * 1.4 ms a child, a refilling pool would take that from the clients it
 * serves.
 */
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "conn.h"
#include "server.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14; earlier: EINVAL, no harm */
#endif

#define PREFAULT_STACK	(48u << 10)	/* a connect's deepest use, and more */
#define PAGE		4096u
#define PREFAULT_KEEP	(4 << 20)	/* freed heap kept, not trimmed */
#define PREFAULT_MMAP_MIN (1 << 20)	/* the request buffers from the heap */
#define PREFAULT_BUF	(4 * PAGE)	/* of each, written in advance */

_Static_assert(SRV_IBUF_SIZE < PREFAULT_MMAP_MIN &&
	       SRV_OBUF_SIZE < PREFAULT_MMAP_MIN,
	       "the request buffers would be mapped, not taken from the heap");
_Static_assert(SRV_IBUF_SIZE + SRV_OBUF_SIZE + SRV_MAX_OPT_DATA < PREFAULT_KEEP,
	       "the freed buffers would be trimmed back to the kernel");

extern const char __executable_start[], etext[];

/* Keeps the compiler from taking out a call whose result nothing reads. */
static const void *volatile sink;

static void __attribute__((noinline)) touch_stack(void)
{
	volatile unsigned char buf[PREFAULT_STACK];
	size_t i;

	for (i = 0; i < sizeof(buf); i += PAGE)
		buf[i] = 0;
}

/* The server's own code mapped (read faults only: nothing is copied). */
static void map_code(void)
{
	uintptr_t a = (uintptr_t)__executable_start & ~(uintptr_t)(PAGE - 1);

	madvise((void *)a, (size_t)((uintptr_t)etext - a), MADV_POPULATE_READ);
}

/* libc's paths for the peer's description, the log line and the
 * export's path (export_open looks for "%s" in it). */
static void run_libc(const struct config *cfg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char addr[64], peer[80], line[160];

	peer_describe((const struct sockaddr *)&sin, addr, sizeof(addr), peer,
		      sizeof(peer));
	snprintf(line, sizeof(line), "%s %s %u %d %zu %.1f", addr, peer, 1u,
		 -1, (size_t)2, 0.5);
	(void)now_ms();
	if (cfg->exports)
		sink = strstr(cfg->exports->path, "%s");
}

/* A block of size bytes, its first written bytes written (NULL: none). */
static void *malloc_written(size_t size, size_t written)
{
	void *p = malloc(size);

	if (p)
		memset(p, 0, written);
	return p;
}

/* The heap blocks of conn_preopen, cow_open, the option buffer and
 * transmit's request and reply buffers, the first pages of the last two
 * written (a request's header and a short read's reply). */
static void run_allocations(const struct config *cfg)
{
	const struct export *e;
	void *pre, *cow, *opt, *in, *out;
	size_t n = 0;

	for (e = cfg->exports; e; e = e->next)
		n++;
	/* the blocks freed here must not go back to the kernel: the
	 * connection's would then come from new pages again */
	mallopt(M_TRIM_THRESHOLD, PREFAULT_KEEP);
	mallopt(M_MMAP_THRESHOLD, PREFAULT_MMAP_MIN);
	pre = calloc(n ? n : 1, sizeof(struct preopened));
	cow = calloc(1, cow_struct_size());
	opt = malloc_written(SRV_MAX_OPT_DATA, PAGE);
	in = malloc_written(SRV_IBUF_SIZE, PREFAULT_BUF);
	out = malloc_written(SRV_OBUF_SIZE, PREFAULT_BUF);
	sink = pre;
	sink = cow;
	sink = opt;
	sink = in;
	sink = out;
	free(out);
	free(in);
	free(opt);
	free(cow);
	free(pre);
}

void prefault_child(const struct config *cfg)
{
	map_code();
	touch_stack();
	run_libc(cfg);
	run_allocations(cfg);
}
