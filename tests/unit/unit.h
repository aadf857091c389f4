/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny assertion kit for host unit tests: each failed check prints where
 * and what, the test keeps going, and unit_done() sets the exit status.
 */
#ifndef NBDROOT_UNIT_H
#define NBDROOT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond) do {						\
	unit_checks++;							\
	if (!(cond)) {							\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	unit_checks++;							\
	if (a_ != b_) {							\
		unit_failures++;					\
		fprintf(stderr, "%s:%d: %s == %s: %llu != %llu\n",	\
			__FILE__, __LINE__, #a, #b, a_, b_);		\
	}								\
} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)
#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

static inline int unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
