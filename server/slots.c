// SPDX-License-Identifier: GPL-2.0
/*
 * Per-export connection counts (maxconnections in an export section).
 * The export is chosen in the child, after fork, so the count lives in a
 * shared mapping: a child claims a slot for its export before opening it,
 * and the master frees the slot when it reaps the child, so a child that
 * crashes cannot leak one. The lock is a robust process-shared mutex: a
 * holder that dies leaves it recoverable.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server.h"

struct slot {
	pid_t pid;		/* 0: free */
	uint64_t key;		/* hash of the export name */
};

struct slots {
	pthread_mutex_t lock;
	struct slot s[SRV_MAX_SLOTS];
};

static struct slots *slots;

/* FNV-1a: export names are chosen by the administrator, not clients. */
static uint64_t name_key(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return h;
}

/* Called once by the master before the first fork. 0 or -1 with errno. */
int slots_init(void)
{
	pthread_mutexattr_t attr;
	void *p;

	p = mmap(NULL, sizeof(*slots), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	slots = p;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&slots->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return 0;
}

static void lock(void)
{
	if (pthread_mutex_lock(&slots->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&slots->lock);
}

/*
 * Takes a slot for this process on export name, unless max are taken.
 * 0, or -1 when the export is full. Without slots_init (inetd mode, -d,
 * unit tests) there is at most one connection: always 0.
 */
int slots_claim(const char *name, unsigned max)
{
	uint64_t key = name_key(name);
	struct slot *free_slot = NULL;
	unsigned used = 0, i;

	if (!slots || max == 0)
		return 0;
	lock();
	for (i = 0; i < SRV_MAX_SLOTS; i++) {
		if (slots->s[i].pid == 0 && !free_slot)
			free_slot = &slots->s[i];
		else if (slots->s[i].pid != 0 && slots->s[i].key == key)
			used++;
	}
	if (used < max && free_slot) {
		free_slot->pid = getpid();
		free_slot->key = key;
	}
	pthread_mutex_unlock(&slots->lock);
	return used < max && free_slot ? 0 : -1;
}

/* The master, after reaping pid; a child, for its own slot after a failed GO. */
void slots_release(pid_t pid)
{
	unsigned i;

	if (!slots)
		return;
	lock();
	for (i = 0; i < SRV_MAX_SLOTS; i++)
		if (slots->s[i].pid == pid)
			slots->s[i].pid = 0;
	pthread_mutex_unlock(&slots->lock);
}
