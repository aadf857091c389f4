// SPDX-License-Identifier: GPL-2.0
/*
 * Image generations (generationdir = DIR): an export's file replaced by
 * renaming a new image over its path is a new generation. Clients that
 * connect by the plain name get the current one; a client that attached to
 * an older one reconnects by the canonical name sent at GO in
 * NBD_INFO_NAME, "NAME@ID", and gets exactly that one, or ERR_UNKNOWN once
 * it is gone. ID is the file's identity, not its contents:
 *
 *   INODE-BIRTH     inode number and birth time in ns (statx), both hex
 *
 * so a file written in place stays one generation, and an inode number
 * reused after the old file was deleted is told apart by its birth time.
 * Each generation a client opened is kept in DIR as a hard link (DIR must
 * be on the file's filesystem), with one file per client that uses it:
 *
 *   NAME@ID              the image, read by reconnects after a rename over
 *   NAME@ID,ADDR.use     a shared flock while ADDR is connected; its
 *                        mtime is the start or end of ADDR's last use
 *
 * The master deletes an old generation (never the current one) once no
 * client holds a .use lock and generationtimeout seconds have passed
 * since the last use ended (or since it was replaced, when none is left).
 * Export names with generations are limited to [A-Za-z0-9._-] (config.c)
 * so NAME needs no escaping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

#define GEN_SEEN_MAX	64	/* exports whose current id the master logs */
#define GEN_KEPT_MAX	8	/* older generations one client may go back to */

/* An older generation the client used, opened before the privilege drop. */
struct kept {
	char id[SRV_GEN_IDLEN];
	int image;		/* NAME@ID */
	int use;		/* NAME@ID,ADDR.use, not locked until chosen */
};

struct generation {
	char id[SRV_GEN_IDLEN];
	int use;		/* NAME@ID,ADDR.use, flock held */
	char note[160];		/* for the connection's log, or "" */
	bool note_due;		/* the note is to be recorded once logged */
	int record;		/* copy-on-write: cowdir/KEY.gen, or -1 */
	struct kept kept[GEN_KEPT_MAX];
	size_t nkept;
};

/*
 * A copy-on-write client's base (cowdir/KEY.gen, next to its .cow and
 * .map): "ID\n", then "noted\n" once its log line said it runs on an
 * older base.
 */
struct cow_record {
	char id[SRV_GEN_IDLEN];
	bool noted;
};

/* The id of an open file. 0, or -1 with errno. */
static int file_id(int fd, char *id, size_t len)
{
	struct statx sx;
	unsigned long long birth = 0;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) < 0)
		return -1;
	if (sx.stx_mask & STATX_BTIME)
		birth = (unsigned long long)sx.stx_btime.tv_sec * 1000000000ull +
			sx.stx_btime.tv_nsec;
	snprintf(id, len, "%llx-%llx", (unsigned long long)sx.stx_ino, birth);
	return 0;
}

/* An id a client sent: hex digits and one '-', as file_id writes them. */
static bool id_valid(const char *id, size_t len)
{
	size_t i, dashes = 0;

	if (len == 0 || len >= SRV_GEN_IDLEN)
		return false;
	for (i = 0; i < len; i++) {
		if (id[i] == '-')
			dashes++;
		else if (!((id[i] >= '0' && id[i] <= '9') ||
			   (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	}
	return dashes == 1 && id[0] != '-' && id[len - 1] != '-';
}

/*
 * "NAME@ID" of an export with generations: the export, with ID copied to
 * id; NULL when name is not one (the caller answers ERR_UNKNOWN).
 */
const struct export *generation_find(const struct config *cfg,
				     const char *name, size_t len, char *id)
{
	const struct export *e;
	const char *at = memrchr(name, '@', len);
	size_t idlen;

	if (!at)
		return NULL;
	idlen = len - (size_t)(at - name) - 1;
	if (!id_valid(at + 1, idlen))
		return NULL;
	e = export_find(cfg, name, (size_t)(at - name));
	if (!e || !e->gendir)
		return NULL;
	memcpy(id, at + 1, idlen);
	id[idlen] = '\0';
	return e;
}

static int gen_path(char *out, size_t len, const struct export *e,
		    const char *id, const char *addr)
{
	int n;

	if (addr)
		n = snprintf(out, len, "%s/%s@%s,%s.use", e->gendir, e->name,
			     id, addr);
	else
		n = snprintf(out, len, "%s/%s@%s", e->gendir, e->name, id);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The mtime of a .use file: a byte written, as cow.c does for its map. */
static int mark_used(int fd)
{
	return pwrite(fd, "", 1, 0) == 1 ? 0 : -1;
}

/* Opens ADDR's .use file of generation id and holds its shared lock. */
static int open_use(const struct export *e, const char *id, const char *addr)
{
	char path[4096];
	int fd;

	if (gen_path(path, sizeof(path), e, id, addr) < 0)
		return -1;
	/*
	 * 0600: made as root before the privilege drop, it is reopened as
	 * root too (generation_preopen); nobody else may lock it and so pin
	 * a generation on disk.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH) < 0 || mark_used(fd) < 0)
		goto out_close;
	return fd;
out_close:
	close(fd);
	return -1;
}

/*
 * Keeps fd's file in DIR as NAME@ID. Linked through /proc from the open
 * file, not from its path: the path may already name a newer image.
 */
static int keep_link(const struct export *e, int fd, const char *id)
{
	char path[4096], self[64];
	struct stat a, b;

	if (gen_path(path, sizeof(path), e, id, NULL) < 0)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &a) < 0 || fstat(fd, &b) < 0)
		return -1;
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		errno = EEXIST;	/* another file under our name: not ours */
		return -1;
	}
	return 0;
}

static int attach(struct backend *b, const struct export *e, const char *id,
		  const char *addr)
{
	struct generation *g = calloc(1, sizeof(*g));

	if (!g)
		return -1;
	g->record = -1;
	snprintf(g->id, sizeof(g->id), "%s", id);
	g->use = open_use(e, id, addr ? addr : "-");
	if (g->use < 0) {
		free(g);
		return -1;
	}
	b->gen = g;
	return 0;
}

/*
 * After export_open of e's current file: records its generation for this
 * client. 0, or -1 with why.
 */
int generation_attach(struct backend *b, const struct export *e,
		      const char *addr, char *why, size_t whylen)
{
	char id[SRV_GEN_IDLEN] = "?";

	if (file_id(b->fd, id, sizeof(id)) < 0 || keep_link(e, b->fd, id) < 0 ||
	    attach(b, e, id, addr) < 0) {
		snprintf(why, whylen, "generationdir %s: keeping %s@%s: %s",
			 e->gendir, e->name, id, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A copy-on-write client's base record (struct cow_record), kept open:
 * written at GO by generation_commit, after the privilege drop when
 * cowdir is root's. 0, or -1 with why.
 */
static int open_record(struct backend *b, const struct export *e,
		       const char *addr, char *why, size_t whylen)
{
	char path[4096];

	if (cow_client_path(e, addr, "gen", path, sizeof(path)) < 0) {
		snprintf(why, whylen, "copy-on-write: cowdir %.100s: file name too long",
			 e->cowdir);
		return -1;
	}
	b->gen->record = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			      0600);
	if (b->gen->record < 0) {
		snprintf(why, whylen, "copy-on-write: %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Opens generation id of e for a client at addr (NULL: stdin): its image
 * in DIR, or ENOENT when it is gone. 0, or -1 with why.
 */
int generation_open(struct backend *b, const struct export *e,
		    const char *id, const char *addr, char *why, size_t whylen)
{
	char path[4096], got[SRV_GEN_IDLEN];
	struct stat st;
	int fd, err;

	if (gen_path(path, sizeof(path), e, id, NULL) < 0)
		goto out_errno;
	if (e->cow) {
		if (cow_open(b, e, path, addr ? addr : "-", why, whylen) < 0)
			return -1;
		if (generation_attach(b, e, addr, why, whylen) < 0 ||
		    open_record(b, e, addr ? addr : "-", why, whylen) < 0) {
			export_close(b);
			return -1;
		}
		return 0;
	}
	fd = open(path, (e->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			snprintf(why, whylen, "generation %s@%s is gone",
				 e->name, id);
			return -1;
		}
		goto out_errno;
	}
	if (fstat(fd, &st) < 0 || file_id(fd, got, sizeof(got)) < 0)
		goto out_close;
	if (strcmp(got, id)) {
		snprintf(why, whylen, "%s: holds generation %s, not %s", path,
			 got, id);
		close(fd);
		return -1;
	}
	if (attach(b, e, id, addr) < 0)
		goto out_close;
	b->fd = fd;
	b->size = (uint64_t)st.st_size;
	return 0;
out_close:
	err = errno;
	close(fd);
	errno = err;
out_errno:
	snprintf(why, whylen, "generation %s@%s: %s", e->name, id,
		 strerror(errno));
	return -1;
}

/* The id of e's current file into id; -1 with errno when unreadable. */
static int current_id(const struct export *e, char *id, size_t len)
{
	int fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0)
		return -1;
	r = file_id(fd, id, len);
	close(fd);
	return r;
}

static int parse_record(int fd, struct cow_record *rec)
{
	char buf[SRV_GEN_IDLEN + 16], *nl;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || !id_valid(buf, (size_t)(nl - buf)))
		return -1;
	memcpy(rec->id, buf, (size_t)(nl - buf));
	rec->id[nl - buf] = '\0';
	rec->noted = !strcmp(nl + 1, "noted\n");
	return 0;
}

static int read_record(const char *path, struct cow_record *rec)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return -1;
	r = parse_record(fd, rec);
	close(fd);
	return r;
}

/*
 * Written in place through the descriptor opened before the privilege
 * drop (a rename would need cowdir writable by the child): under 64
 * bytes at offset 0, inside one sector, so a crash leaves the old record
 * or the new one; a stale "noted" tail past a shorter one is cut.
 */
static int write_record(int fd, const char *id, bool noted)
{
	char buf[SRV_GEN_IDLEN + 16];
	int n = snprintf(buf, sizeof(buf), "%s\n%s", id, noted ? "noted\n" : "");

	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) < 0 ||
	    fdatasync(fd) < 0)
		return -1;
	return 0;
}

/* The client's copy-on-write was made on generation rec->id: that one. */
static int open_cow_base(struct backend *b, const struct export *e,
			 const char *addr, const char *rpath,
			 const struct cow_record *rec, char *why, size_t whylen)
{
	char inner[SRV_ERRLEN];
	size_t n = strlen(rpath) - 4;	/* without ".gen" */

	if (generation_open(b, e, rec->id, addr, inner, sizeof(inner)) < 0) {
		snprintf(why, whylen, "copy-on-write of %s was made on %s@%s, which cannot be opened (%.80s); to start it on the current image delete %.*s.*",
			 addr, e->name, rec->id, inner, (int)n, rpath);
		return -1;
	}
	/* noted once logged: conn_preopen opens for probes too */
	if (!rec->noted) {
		snprintf(b->gen->note, sizeof(b->gen->note),
			 "runs on the older base %s@%s: its copy-on-write was made on it",
			 e->name, rec->id);
		b->gen->note_due = true;
	}
	return 0;
}

/*
 * Copy-on-write with generations: the client's blocks stay on the base
 * they were written over, whatever replaced it since; a client without
 * blocks starts on the current one, recorded at GO (generation_commit:
 * conn_preopen opens before it knows which generation the client wants).
 * 0, or -1 with why.
 */
int generation_cow_open(struct backend *b, const struct export *e,
			const char *path, const char *addr, char *why,
			size_t whylen)
{
	char rpath[4096], mpath[4096], cur[SRV_GEN_IDLEN];
	struct cow_record rec;
	bool have;

	if (cow_client_path(e, addr, "gen", rpath, sizeof(rpath)) < 0 ||
	    cow_client_path(e, addr, "map", mpath, sizeof(mpath)) < 0) {
		snprintf(why, whylen, "copy-on-write: cowdir %.100s: file name too long",
			 e->cowdir);
		return -1;
	}
	have = cow_map_written(mpath) && read_record(rpath, &rec) == 0;
	if (have && (current_id(e, cur, sizeof(cur)) < 0 || strcmp(cur, rec.id)))
		return open_cow_base(b, e, addr, rpath, &rec, why, whylen);
	if (cow_open(b, e, path, addr, why, whylen) < 0)
		return -1;
	if (generation_attach(b, e, addr, why, whylen) < 0)
		goto out_close;
	/* replaced between our look and cow_open: the recorded one, then */
	if (have && strcmp(b->gen->id, rec.id)) {
		export_close(b);
		return open_cow_base(b, e, addr, rpath, &rec, why, whylen);
	}
	if (open_record(b, e, addr, why, whylen) < 0)
		goto out_close;
	return 0;
out_close:
	export_close(b);
	return -1;
}

static void drop_kept(struct generation *g)
{
	size_t i;

	for (i = 0; i < g->nkept; i++) {
		close(g->kept[i].image);
		close(g->kept[i].use);
	}
	g->nkept = 0;
}

/*
 * "NAME@ID,ADDR.use", a generation of e that addr used: its ID into id
 * (SRV_GEN_IDLEN bytes).
 */
static bool used_by(const char *file, const struct export *e,
		    const char *addr, char *id)
{
	size_t f = strlen(file), n = strlen(e->name), a = strlen(addr), idlen;

	if (f < n + a + 7 || strncmp(file, e->name, n) || file[n] != '@' ||
	    strcmp(file + f - 4, ".use") || file[f - a - 5] != ',' ||
	    strncmp(file + f - a - 4, addr, a))
		return false;
	idlen = f - n - a - 6;	/* f >= n + a + 7: at least one byte */
	if (!id_valid(file + n + 1, idlen))
		return false;
	memcpy(id, file + n + 1, idlen);
	id[idlen] = '\0';
	return true;
}

/* Opens generation id's image and addr's .use file in DIR into g. */
static void keep_open(struct generation *g, const struct export *e,
		      int dirfd, const char *usefile, const char *id)
{
	struct kept *k = &g->kept[g->nkept];
	char image[NBD_MAX_NAME + SRV_GEN_IDLEN + 2], got[SRV_GEN_IDLEN];
	int mode = e->readonly || e->cow ? O_RDONLY : O_RDWR;

	snprintf(image, sizeof(image), "%s@%s", e->name, id);
	k->image = openat(dirfd, image, mode | O_CLOEXEC | O_NOFOLLOW);
	k->use = openat(dirfd, usefile, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (k->image < 0 || k->use < 0 ||
	    file_id(k->image, got, sizeof(got)) < 0 || strcmp(got, id)) {
		if (k->image >= 0)
			close(k->image);
		if (k->use >= 0)
			close(k->use);
		return;
	}
	snprintf(k->id, sizeof(k->id), "%s", id);
	g->nkept++;
}

/*
 * Before the privilege drop (conn_preopen), after export_open of e: opens
 * the older generations of e that addr used (its .use file is in DIR), at
 * most GEN_KEPT_MAX, so that a reconnect by NAME@ID finds its image when
 * DIR and the images are root's alone (privdrop.c). Only those: a child
 * holds no generation its client never had. What could not be opened is
 * gone for this client.
 */
void generation_preopen(struct backend *b, const struct export *e,
			const char *addr)
{
	struct generation *g = b->gen;
	char id[SRV_GEN_IDLEN];
	struct dirent *d;
	DIR *dir;

	if (!g || !(dir = opendir(e->gendir)))
		return;
	while (g->nkept < GEN_KEPT_MAX && (d = readdir(dir)))
		if (used_by(d->d_name, e, addr ? addr : "-", id) &&
		    strcmp(id, g->id))
			keep_open(g, e, dirfd(dir), d->d_name, id);
	closedir(dir);
}

/* b, opened on the current generation, now on k (of the same export). */
static int switch_to(struct backend *b, struct kept *k)
{
	struct generation *g = b->gen;
	struct stat st;

	if (fstat(k->image, &st) < 0)
		return -1;
	if (b->cow && cow_rebase(b->cow, k->image) < 0)
		return -1;
	if (!b->cow)
		close(b->fd);
	b->fd = k->image;
	b->size = (uint64_t)st.st_size;
	b->data_lo = b->data_hi = 0;
	k->image = -1;
	if (flock(k->use, LOCK_SH) < 0 || mark_used(k->use) < 0)
		return -1;
	mark_used(g->use);
	close(g->use);
	g->use = k->use;
	k->use = -1;
	snprintf(g->id, sizeof(g->id), "%s", k->id);
	return 0;
}

/*
 * A GO for NAME@ID on b as conn_preopen opened it: the current generation,
 * or one generation_preopen kept; with probe_size (NBD_OPT_INFO) only its
 * size, b unchanged. 0, or -1 with why.
 */
int generation_select(struct backend *b, const struct export *e,
		      const char *id, uint64_t *probe_size, char *why,
		      size_t whylen)
{
	struct generation *g = b->gen;
	struct kept *k = NULL;
	struct stat st;
	size_t i;

	if (g && !strcmp(g->id, id)) {
		if (probe_size)
			*probe_size = b->size;
		return 0;
	}
	for (i = 0; g && i < g->nkept && !k; i++)
		if (!strcmp(g->kept[i].id, id))
			k = &g->kept[i];
	if (!k) {
		snprintf(why, whylen, "generation %s@%s is gone (or was never this client's)",
			 e->name, id);
		return -1;
	}
	if (probe_size) {
		if (fstat(k->image, &st) < 0)
			goto out_errno;
		*probe_size = (uint64_t)st.st_size;
		return 0;
	}
	if (switch_to(b, k) < 0)
		goto out_errno;
	drop_kept(g);
	return 0;
out_errno:
	snprintf(why, whylen, "generation %s@%s: %s", e->name, id,
		 errno == EINVAL ? "not of the copy-on-write's size" :
		 strerror(errno));
	return -1;
}

/*
 * At GO, once the client's generation is chosen: a copy-on-write client
 * with blocks must be on the base they were written over; one without
 * has that generation recorded as its base before its first write.
 * Drops the older generations preopened. 0, or -1 with why.
 */
int generation_commit(struct backend *b, const struct export *e, char *why,
		      size_t whylen)
{
	struct generation *g = b->gen;
	struct cow_record rec;

	if (!g)
		return 0;
	drop_kept(g);
	if (g->record < 0 || !b->cow)
		return 0;
	if (cow_has_blocks(b->cow) && parse_record(g->record, &rec) == 0) {
		if (!strcmp(rec.id, g->id))
			return 0;
		snprintf(why, whylen, "copy-on-write was made on %s@%s, not on %s@%s",
			 e->name, rec.id, e->name, g->id);
		return -1;
	}
	if (write_record(g->record, g->id, false) < 0) {
		snprintf(why, whylen, "copy-on-write: recording base %s@%s: %s",
			 e->name, g->id, strerror(errno));
		return -1;
	}
	return 0;
}

const char *generation_note(const struct backend *b)
{
	return b->gen && b->gen->note[0] ? b->gen->note : NULL;
}

/*
 * The note was logged: not again for this client. Best effort: a record
 * that cannot be written logs it next time too.
 */
void generation_noted(struct backend *b)
{
	if (!b->gen || !b->gen->note_due || b->gen->record < 0)
		return;
	write_record(b->gen->record, b->gen->id, true);
	b->gen->note_due = false;
}

const char *generation_id(const struct backend *b)
{
	return b->gen ? b->gen->id : NULL;
}

/* The end of a connection: the .use mtime says when. 0, or -1 with errno. */
int generation_close(struct generation *g)
{
	int r;

	if (!g)
		return 0;
	r = mark_used(g->use);
	close(g->use);	/* drops the lock */
	if (g->record >= 0)
		close(g->record);
	drop_kept(g);
	free(g);
	return r;
}

/*
 * Master: has e's file been replaced since the last call? 1 with a line in
 * msg (the first call reports the generation found at start), 0 if not.
 */
int generation_check(const struct export *e, char *msg, size_t len)
{
	static struct { char name[NBD_MAX_NAME + 1]; char id[SRV_GEN_IDLEN]; }
		seen[GEN_SEEN_MAX];
	char id[SRV_GEN_IDLEN];
	int i;

	if (!e->gendir || current_id(e, id, sizeof(id)) < 0)
		return 0;
	for (i = 0; i < GEN_SEEN_MAX && seen[i].name[0]; i++)
		if (!strcmp(seen[i].name, e->name))
			break;
	if (i == GEN_SEEN_MAX)
		return 0;
	if (!seen[i].name[0]) {
		snprintf(seen[i].name, sizeof(seen[i].name), "%s", e->name);
		snprintf(seen[i].id, sizeof(seen[i].id), "%s", id);
		snprintf(msg, len, "export [%s]: current generation %s@%s (%s)",
			 e->name, e->name, id, e->path);
		return 1;
	}
	if (!strcmp(seen[i].id, id))
		return 0;
	snprintf(msg, len, "export [%s]: %s replaced: generation %s@%s is now current, %s@%s kept for its clients",
		 e->name, e->path, e->name, id, e->name, seen[i].id);
	snprintf(seen[i].id, sizeof(seen[i].id), "%s", id);
	return 1;
}

/*
 * One .use file: *busy if its client is connected, else its mtime raises
 * *last. With del, an idle file is deleted under the exclusive lock.
 */
static void scan_use(int dirfd, const char *name, bool del, bool *busy,
		     time_t *last)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*busy = true;
	} else if (fstat(fd, &st) == 0) {
		if (st.st_mtime > *last)
			*last = st.st_mtime;
		if (del)
			unlinkat(dirfd, name, 0);
	}
	close(fd);
}

/* "NAME@ID,ADDR.use" names a client of generation "NAME@ID" (gen)? */
static const char *use_of(const char *file, const char *gen)
{
	size_t g = strlen(gen), f = strlen(file);

	if (f < g + 5 || strncmp(file, gen, g) || file[g] != ',' ||
	    strcmp(file + f - 4, ".use"))
		return NULL;
	return file + g + 1;
}

/*
 * Calls fn for each client file of generation gen in dir. Returns whether
 * one is connected; *last is the latest end of use.
 */
static bool scan_clients(const char *path, const char *gen, bool del,
			 time_t *last,
			 void (*fn)(void *, const char *, bool, time_t),
			 void *arg)
{
	DIR *dir = opendir(path);
	struct dirent *d;
	bool any = false, busy;
	time_t t;

	if (!dir)
		return true;	/* unreadable: keep everything */
	while ((d = readdir(dir))) {
		if (!use_of(d->d_name, gen))
			continue;
		busy = false;
		t = 0;
		scan_use(dirfd(dir), d->d_name, del, &busy, &t);
		any |= busy;
		if (t > *last)
			*last = t;
		if (fn)
			fn(arg, use_of(d->d_name, gen), busy, t);
	}
	closedir(dir);
	return any;
}

/* Is file "NAME@ID" an image of export e? */
static bool image_of(const char *file, const struct export *e)
{
	size_t n = strlen(e->name);

	return !strncmp(file, e->name, n) && file[n] == '@' &&
	       id_valid(file + n + 1, strlen(file + n + 1));
}

/* Does a client's copy-on-write in e's cowdir sit on generation id? */
static bool cow_keeps(const struct export *e, const char *id)
{
	char path[4096];
	struct cow_record rec;
	struct dirent *d;
	size_t n;
	bool keep = false;
	DIR *dir = e->cow ? opendir(e->cowdir) : NULL;

	if (!dir)
		return e->cow;	/* unreadable: keep */
	while (!keep && (d = readdir(dir))) {
		n = strlen(d->d_name);
		if (n < 5 || strcmp(d->d_name + n - 4, ".gen") ||
		    snprintf(path, sizeof(path), "%s/%s", e->cowdir,
			     d->d_name) >= (int)sizeof(path) ||
		    read_record(path, &rec) < 0 || strcmp(rec.id, id))
			continue;
		memcpy(path + strlen(path) - 3, "map", 3);
		keep = cow_map_written(path);
	}
	closedir(dir);
	return keep;
}

/* One old generation: deleted when unused for e's generationtimeout. */
static void sweep_image(DIR *dir, const struct export *e, const char *file,
			time_t now)
{
	struct stat st;
	time_t last = 0;

	if (fstatat(dirfd(dir), file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	last = st.st_ctime;	/* the rename over it unlinked the old path */
	if (scan_clients(e->gendir, file, false, &last, NULL, NULL) ||
	    now - last < (time_t)e->gentimeout ||
	    (e->cow && cow_keeps(e, file + strlen(e->name) + 1)))
		return;
	scan_clients(e->gendir, file, true, &last, NULL, NULL);
	unlinkat(dirfd(dir), file, 0);
}

/* Master: old generations whose clients are gone for generationtimeout. */
void generation_sweep(const struct config *cfg)
{
	const struct export *e;
	char id[SRV_GEN_IDLEN], cur[NBD_MAX_NAME + SRV_GEN_IDLEN + 2];
	struct dirent *d;
	DIR *dir;

	for (e = cfg->exports; e; e = e->next) {
		if (!e->gendir || current_id(e, id, sizeof(id)) < 0)
			continue;
		snprintf(cur, sizeof(cur), "%s@%s", e->name, id);
		dir = opendir(e->gendir);
		if (!dir)
			continue;
		while ((d = readdir(dir))) {
			if (!image_of(d->d_name, e) || !strcmp(d->d_name, cur))
				continue;
			sweep_image(dir, e, d->d_name, time(NULL));
		}
		closedir(dir);
	}
}

struct report {
	char *line;
	size_t len, pos;
	time_t now;
};

static void add_client(void *arg, const char *addr, bool busy, time_t t)
{
	struct report *r = arg;
	size_t alen = strlen(addr) - 4;	/* without ".use" */
	int n;

	if (busy)
		n = snprintf(r->line + r->pos, r->len - r->pos, " %.*s (connected)",
			     (int)alen, addr);
	else
		n = snprintf(r->line + r->pos, r->len - r->pos, " %.*s (left %lds ago)",
			     (int)alen, addr, (long)(r->now - t));
	if (n > 0 && r->pos + (size_t)n < r->len)
		r->pos += (size_t)n;
}

/* SIGUSR1: one line per kept generation, with its clients, through fn. */
void generation_report(const struct config *cfg, void (*fn)(const char *))
{
	const struct export *e;
	char id[SRV_GEN_IDLEN], line[2048];
	struct report r = { line, sizeof(line), 0, time(NULL) };
	struct dirent *d;
	time_t last;
	DIR *dir;

	for (e = cfg->exports; e; e = e->next) {
		if (!e->gendir || !(dir = opendir(e->gendir)))
			continue;
		if (current_id(e, id, sizeof(id)) < 0)
			id[0] = '\0';
		while ((d = readdir(dir))) {
			if (!image_of(d->d_name, e))
				continue;
			r.pos = (size_t)snprintf(line, sizeof(line), "generation %s (%s):",
				d->d_name, strcmp(d->d_name + strlen(e->name) + 1, id) ?
				"old" : "current");
			last = 0;
			scan_clients(e->gendir, d->d_name, false, &last,
				     add_client, &r);
			fn(line);
		}
		closedir(dir);
	}
}

/* How often the master sweeps generations: 0 when no export has them. */
unsigned generation_sweep_secs(const struct config *cfg)
{
	const struct export *e;
	unsigned secs = 0, s;

	for (e = cfg->exports; e; e = e->next) {
		if (!e->gendir)
			continue;
		s = e->gentimeout / 4;
		s = s < 1 ? 1 : s > 60 ? 60 : s;
		if (!secs || s < secs)
			secs = s;
	}
	return secs;
}
