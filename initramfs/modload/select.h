/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which of the initrd's modules this machine needs (nbdroot-modload -a),
 * from the lists mkinitrd writes beside them and the modalias files of
 * the devices on the PCI and virtio buses in sysfs.
 */
#ifndef NBDROOT_MODLOAD_SELECT_H
#define NBDROOT_MODLOAD_SELECT_H

#include <stddef.h>

/* one line of a list: its blank-separated words, each NUL-terminated */
struct list_line {
	char **word;
	int nword;
};

/* a whole list file, split into lines and words */
struct list {
	char *buf;
	size_t len;
	struct list_line *line;
	int nline;
};

struct lists {
	struct list order;	/* nbdroot.order: "PATH", dependencies first */
	struct list alias;	/* nbdroot.alias: "NAME GLOB" of the bus drivers */
	struct list ondemand;	/* nbdroot.ondemand: "NAME PATH..." */
};

/*
 * load_fn: loads PATH (one of nbdroot.order's); says itself why it
 * failed. Returns 0, or 1 for a failure (the others still load).
 */
typedef int (*load_fn)(const char *path, void *ctx);

/* a device of sysfs's PCI or virtio bus */
struct device {
	char name[64];		/* "0000:00:03.0", "virtio0" */
	char modalias[256];	/* its modalias, without the newline */
	size_t modalias_len;
	int pci;
	int claimed;		/* an alias of the initrd matched it */
};

/* Upper bounds: a machine's PCI and virtio devices (SR-IOV functions
 * included), and the bytes of one list file. */
#define DEVICES_MAX	65536
#define LIST_MAX	1048576

/*
 * The three lists in dirfd; NULL, or what is wrong (*file names it).
 * lists_free frees what it read, all of it or part.
 */
const char *lists_read(int dirfd, struct lists *l, const char **file);
void lists_free(struct lists *l);

/*
 * glob_match: whether the modalias glob PAT (fnmatch(3) without flags:
 * '*', '?', "[...]" with '!' or '^' and ranges, '\' quoting) matches
 * all of S. Explicit lengths; neither needs a NUL. Not named classes
 * ("[[:digit:]]" is a set of characters here): no modalias glob has one.
 * A '[' that no ']' closes is itself.
 */
int glob_match(const char *pat, size_t pat_len, const char *s, size_t s_len);

/*
 * select_and_load: the modules nbdroot.order lists that this machine
 * needs, in its order: every one that no nbdroot.ondemand line holds,
 * and those that the drivers whose aliases match a device pull in.
 * Loading a bus driver adds devices (virtio_pci's probe adds the virtio
 * devices), so it looks again while a pass adds devices, at most four
 * passes. Prints "driver NAME" for each driver matched, and after the
 * passes "nodriver DEVICE MODALIAS" for each PCI network controller
 * (class 02) that no alias matched and no driver has bound (one built
 * into the kernel). Returns 0, 1 if a module failed, or -1 with what
 * is wrong in *err (too many devices, out of memory): the caller then
 * loads every module, as an initrd without the lists does.
 */
int select_and_load(const struct lists *l, const char *sys, load_fn load,
		    void *ctx, const char **err);

#endif
