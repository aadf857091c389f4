/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny assertion kit for host unit tests: each failed check prints where
 * and what, the test keeps going, and unit_done() sets the exit status.
 *
 * main() calls unit_start(argc, argv), then RUN(test_x) for each case:
 * "test-foo CASE" runs that case only (test_x or x), "test-foo -l" lists
 * them. A run with no check at all fails; unit_skip() exits 77 (skipped).
 */
#ifndef NBDROOT_UNIT_H
#define NBDROOT_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;
static int unit_checks;
static const char *unit_only;	/* the case asked for; NULL: all */
static int unit_list;		/* -l: name the cases, run none */
static int unit_found;		/* cases run */

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

static inline void unit_start(int argc, char **argv)
{
	if (argc == 1)
		return;
	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		unit_list = 1;
		return;
	}
	if (argc == 2 && argv[1][0] != '-') {
		unit_only = argv[1];
		return;
	}
	fprintf(stderr, "usage: %s [-l | CASE]\n", argv[0]);
	exit(2);
}

/* whether the case named fn runs now (-l prints its name instead) */
static inline int unit_case(const char *fn)
{
	if (unit_list) {
		printf("%s\n", fn);
		return 0;
	}
	if (unit_only && strcmp(fn, unit_only) != 0 &&
	    (strncmp(fn, "test_", 5) != 0 || strcmp(fn + 5, unit_only) != 0))
		return 0;
	unit_found++;
	return 1;
}

/* a direct call, so the compiler sees the case as before (inlining) */
#define RUN(fn) do { if (unit_case(#fn)) fn(); } while (0)

/* the test cannot run here (a tool or a kernel feature missing) */
static inline void unit_skip(const char *name, const char *why)
{
	printf("%s: skipped: %s\n", name, why);
	exit(77);
}

static inline int unit_done(const char *name)
{
	if (unit_list)
		return 0;
	if (unit_only && !unit_found) {
		fprintf(stderr, "%s: no case \"%s\" (%s -l lists them)\n",
			name, unit_only, name);
		return 2;
	}
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	if (unit_checks == 0) {
		fprintf(stderr, "%s: no check ran: nothing was tested\n", name);
		return 1;
	}
	return unit_failures ? 1 : 0;
}

#endif
