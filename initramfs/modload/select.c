// SPDX-License-Identifier: GPL-2.0
/*
 * Which of the initrd's modules this machine needs: select.h says what.
 * This is the device-to-driver matching a modprobe does, done once per
 * boot in the one exec that loads the modules, in place of an awk per
 * pass (each fork and exec costs 12 to 15 ms under QEMU TCG, and awk's
 * regexes 30 ms more for the few hundred aliases of the NIC drivers).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "select.h"

#define PASSES_MAX	4
#define STR(x)		#x
#define XSTR(x)		STR(x)

/* grows as a scan finds devices, up to DEVICES_MAX */
struct devices {
	struct device *dev;
	int n;
	int cap;
};

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The file's bytes into l->buf, NUL-terminated; NULL or what failed. */
static const char *list_load(int dirfd, const char *name, struct list *l)
{
	struct stat st;
	ssize_t n;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strerror(errno);
	if (fstat(fd, &st)) {
		e = errno;
		close(fd);
		return strerror(e);
	}
	if (st.st_size > LIST_MAX) {
		close(fd);
		return "larger than " XSTR(LIST_MAX) " bytes";
	}
	l->buf = malloc(st.st_size + 1);
	l->len = 0;
	while (l->buf && l->len < (size_t)st.st_size) {
		n = read(fd, l->buf + l->len, st.st_size - l->len);
		if (n <= 0)
			break;
		l->len += n;
	}
	close(fd);
	if (!l->buf)
		return "out of memory";
	if (l->len != (size_t)st.st_size)
		return "short read";
	l->buf[l->len] = '\0';
	return NULL;
}

/* Words of buf[start..end): count them, and with word != NULL, cut them. */
static int split_words(char *buf, size_t start, size_t end, char **word)
{
	size_t i = start;
	int n = 0;

	while (i < end) {
		for (; i < end && blank(buf[i]); i++)
			if (word)
				buf[i] = '\0';
		if (i == end)
			break;
		if (word)
			word[n] = buf + i;
		n++;
		while (i < end && !blank(buf[i]))
			i++;
	}
	if (word && end > start)
		buf[end] = '\0';
	return n;
}

/* l->buf into lines of words; blank lines are left out. */
static const char *list_split(struct list *l)
{
	size_t i, start, end;
	int nlines = 1, n;
	char **words;

	for (i = 0; i < l->len; i++)
		nlines += l->buf[i] == '\n';
	if (memchr(l->buf, '\0', l->len))
		return "holds a NUL byte";
	l->line = calloc(nlines, sizeof(*l->line));
	if (!l->line)
		return "out of memory";
	l->nline = 0;
	for (start = 0; start < l->len; start = end + 1) {
		end = start;
		while (end < l->len && l->buf[end] != '\n')
			end++;
		n = split_words(l->buf, start, end, NULL);
		if (!n)
			continue;
		words = calloc(n, sizeof(*words));
		if (!words)
			return "out of memory";
		split_words(l->buf, start, end, words);
		l->line[l->nline].word = words;
		l->line[l->nline++].nword = n;
	}
	return NULL;
}

const char *lists_read(int dirfd, struct lists *l, const char **file)
{
	static const char *const names[] = {
		"nbdroot.order", "nbdroot.alias", "nbdroot.ondemand"
	};
	struct list *lists[] = { &l->order, &l->alias, &l->ondemand };
	const char *err;
	int i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < 3; i++) {
		*file = names[i];
		err = list_load(dirfd, names[i], lists[i]);
		if (!err)
			err = list_split(lists[i]);
		if (err)
			return err;
	}
	for (i = 0; i < l->alias.nline; i++) {
		if (l->alias.line[i].nword != 2) {
			*file = names[1];
			return "a line is not NAME GLOB";
		}
	}
	return NULL;
}

static void list_free(struct list *l)
{
	int i;

	for (i = 0; l->line && i < l->nline; i++)
		free(l->line[i].word);
	free(l->line);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

void lists_free(struct lists *l)
{
	list_free(&l->order);
	list_free(&l->alias);
	list_free(&l->ondemand);
}

/* One character of a class at pat[*i], '\' quoting; -1 at the end. */
static int class_char(const char *pat, size_t pat_len, size_t *i)
{
	size_t k = *i;

	if (k < pat_len && pat[k] == '\\')
		k++;
	if (k >= pat_len)
		return -1;
	*i = k + 1;
	return (unsigned char)pat[k];
}

/*
 * One character class at pat[0] == '['; *used is its length. Returns
 * whether c is in it, -1 when no ']' closes it ('[' is then itself), or
 * -2 when the pattern ends inside a range (nothing matches).
 */
static int glob_class(const char *pat, size_t pat_len, char c, size_t *used)
{
	size_t i = 1, first;
	int neg = 0, found = 0, lo, hi;
	int uc = (unsigned char)c;

	if (i < pat_len && (pat[i] == '!' || pat[i] == '^')) {
		neg = 1;
		i++;
	}
	first = i;
	/* a ']' first in the class is itself */
	while (i < pat_len && (pat[i] != ']' || i == first)) {
		lo = class_char(pat, pat_len, &i);
		if (lo < 0)
			return -1;
		hi = lo;
		if (i < pat_len && pat[i] == '-' &&
		    (i + 1 == pat_len || pat[i + 1] != ']')) {
			i++;
			hi = class_char(pat, pat_len, &i);
			/* a range the pattern ends in: fnmatch matches nothing */
			if (hi < 0)
				return -2;
		}
		if (lo <= uc && uc <= hi)
			found = 1;
	}
	if (i >= pat_len)
		return -1;
	*used = i + 1;
	return neg ? !found : found;
}

/*
 * Whether pat's next element (not '*') matches c; *used its length.
 * -1 when the pattern cannot match anything (as fnmatch): it ends in a
 * '\', or inside a range.
 */
static int glob_one(const char *pat, size_t pat_len, char c, size_t *used)
{
	int m;

	*used = 1;
	if (pat[0] == '?')
		return 1;
	if (pat[0] == '[') {
		m = glob_class(pat, pat_len, c, used);
		if (m != -1)
			return m < 0 ? -1 : m;
		*used = 1;
	}
	if (pat[0] == '\\') {
		*used = 2;
		return pat_len > 1 ? pat[1] == c : -1;
	}
	return pat[0] == c;
}

int glob_match(const char *pat, size_t pat_len, const char *s, size_t s_len)
{
	size_t p = 0, i = 0, star_p = 0, star_i = 0, used;
	int star = 0, m;

	while (i < s_len) {
		m = p < pat_len && pat[p] != '*' ?
			glob_one(pat + p, pat_len - p, s[i], &used) : 0;
		if (m < 0)
			return 0;
		if (p < pat_len && pat[p] == '*') {
			star = 1;
			star_p = ++p;
			star_i = i;
		} else if (m) {
			p += used;
			i++;
		} else if (star) {
			/* the last '*' takes one character more */
			p = star_p;
			i = ++star_i;
		} else {
			return 0;
		}
	}
	while (p < pat_len && pat[p] == '*')
		p++;
	return p == pat_len;
}

/* A device's modalias, its newline taken off; 0, or -1 if it has none. */
static int device_read(const char *dir, const char *name, struct device *d)
{
	char path[512];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s/modalias", dir, name) >=
	    (int)sizeof(path) || strlen(name) >= sizeof(d->name))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, d->modalias, sizeof(d->modalias) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	d->modalias_len = n;
	while (d->modalias_len && d->modalias[d->modalias_len - 1] == '\n')
		d->modalias_len--;
	d->modalias[d->modalias_len] = '\0';
	strcpy(d->name, name);
	d->claimed = 0;
	return 0;
}

/* Room for more devices; 0, or -1 at DEVICES_MAX or out of memory. */
static int devices_grow(struct devices *ds)
{
	int cap = ds->cap ? ds->cap * 2 : 64;
	struct device *dev;

	if (ds->cap == DEVICES_MAX)
		return -1;
	if (cap > DEVICES_MAX)
		cap = DEVICES_MAX;
	dev = realloc(ds->dev, cap * sizeof(*dev));
	if (!dev)
		return -1;
	ds->dev = dev;
	ds->cap = cap;
	return 0;
}

/* The devices of SYS/bus/BUS/devices into ds; NULL or what failed. */
static const char *bus_scan(const char *sys, const char *bus,
			    struct devices *ds)
{
	char dir[256];
	struct dirent *e;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/bus/%s/devices", sys, bus) >=
	    (int)sizeof(dir))
		return "sysfs path too long";
	d = opendir(dir);
	if (!d)	/* a kernel without this bus */
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (ds->n == ds->cap && devices_grow(ds)) {
			closedir(d);
			return ds->cap == DEVICES_MAX ?
				"more than " XSTR(DEVICES_MAX) " PCI and virtio devices" :
				"out of memory";
		}
		if (device_read(dir, e->d_name, &ds->dev[ds->n]))
			continue;
		ds->dev[ds->n++].pci = !strcmp(bus, "pci");
	}
	closedir(d);
	return NULL;
}

static int device_cmp(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	if (x->pci != y->pci)
		return y->pci - x->pci;	/* PCI first */
	return strcmp(x->name, y->name);
}

static const char *devices_scan(const char *sys, struct devices *ds)
{
	const char *err;

	ds->n = 0;
	err = bus_scan(sys, "pci", ds);
	if (!err)
		err = bus_scan(sys, "virtio", ds);
	if (!err)
		qsort(ds->dev, ds->n, sizeof(ds->dev[0]), device_cmp);
	return err;
}

static int devices_same(const struct devices *a, const struct devices *b)
{
	int i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (device_cmp(&a->dev[i], &b->dev[i]))
			return 0;
	return 1;
}

static int word_in(const char *w, const struct list_line *ln, int from)
{
	int k;

	for (k = from; k < ln->nword; k++)
		if (!strcmp(w, ln->word[k]))
			return 1;
	return 0;
}

/*
 * The aliases that match a device: each driver first matched is marked
 * in want[] (by its alias line) and said. Claims the devices matched.
 */
static void match_drivers(const struct list *alias, struct devices *ds,
			  char *want)
{
	const struct list_line *ln;
	int i, j, k;

	for (i = 0; i < alias->nline; i++) {
		ln = &alias->line[i];
		for (j = 0; j < ds->n; j++) {
			struct device *d = &ds->dev[j];

			if (!glob_match(ln->word[1], strlen(ln->word[1]),
					d->modalias, d->modalias_len))
				continue;
			d->claimed = 1;
			for (k = 0; k < alias->nline; k++)
				if (want[k] && !strcmp(alias->line[k].word[0],
						       ln->word[0]))
					break;
			if (k < alias->nline)
				continue;
			want[i] = 1;
			printf("driver %s\n", ln->word[0]);
			fflush(stdout);
		}
	}
}

/*
 * Whether PATH loads now: no nbdroot.ondemand line holds it, or the line
 * of a driver in want[] does.
 */
static int wanted_now(const struct lists *l, const char *want,
		      const char *path)
{
	const struct list_line *od;
	int i, k, later = 0;

	for (i = 0; i < l->ondemand.nline; i++) {
		od = &l->ondemand.line[i];
		if (!word_in(path, od, 1))
			continue;
		later = 1;
		for (k = 0; k < l->alias.nline; k++)
			if (want[k] && !strcmp(l->alias.line[k].word[0],
					       od->word[0]))
				return 1;
	}
	return !later;
}

/*
 * PCI network controllers ("bc02" in the modalias: class 02, network)
 * that no alias claimed and no driver has bound.
 */
static void say_nodriver(const char *sys, const struct devices *ds)
{
	char path[512];
	const struct device *d;
	int i;

	for (i = 0; i < ds->n; i++) {
		d = &ds->dev[i];
		if (!d->pci || d->claimed || !strstr(d->modalias, "bc02"))
			continue;
		if (snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
			     sys, d->name) < (int)sizeof(path) &&
		    !access(path, F_OK))
			continue;
		printf("nodriver %s %s\n", d->name, d->modalias);
	}
	fflush(stdout);
}

int select_and_load(const struct lists *l, const char *sys, load_fn load,
		    void *ctx, const char **err)
{
	struct devices scans[2] = { { 0 }, { 0 } }, swap;
	struct devices *now = &scans[0], *before = &scans[1];
	char *want, *tried;
	int pass, i, rc = 0;

	want = calloc(l->alias.nline + 1, 1);
	tried = calloc(l->order.nline + 1, 1);
	*err = want && tried ? NULL : "out of memory";
	for (pass = 0; !*err && pass < PASSES_MAX; pass++) {
		*err = devices_scan(sys, now);
		/* a pass that adds no device cannot select anything new */
		if (*err || (pass && devices_same(now, before)))
			break;
		match_drivers(&l->alias, now, want);
		for (i = 0; i < l->order.nline; i++) {
			const char *path = l->order.line[i].word[0];

			if (tried[i] || !wanted_now(l, want, path))
				continue;
			tried[i] = 1;
			rc |= load(path, ctx);
		}
		swap = *before;
		*before = *now;
		*now = swap;
	}
	if (!*err)
		say_nodriver(sys, before);
	free(scans[0].dev);
	free(scans[1].dev);
	free(want);
	free(tried);
	return *err ? -1 : rc;
}
