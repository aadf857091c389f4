/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The export's file as one connection uses it: finding and opening an
 * export (export.c), its copy-on-write layer (cow.c) and what requests do
 * to it (fileops.c). Nothing here knows of a connection or prints:
 * failures are -1 with errno, or -1 with a message in the caller's buffer.
 */
#ifndef NBDROOT_BACKEND_H
#define NBDROOT_BACKEND_H

#include "server.h"

struct cow;
struct generation;

/* One connection's open export. */
struct backend {
	int fd;			/* the file; the base of a copy-on-write */
	struct cow *cow;	/* copyonwrite: the client's own blocks */
	struct generation *gen;	/* generationdir: the image's generation */
	uint64_t size;
	bool sync_failed;	/* sticky: later FLUSHes fail too */
	/*
	 * A run of the file known to be data: reads inside it skip
	 * SEEK_DATA. Claiming data is always safe (a hole reads as zeros);
	 * our own TRIM and WRITE_ZEROES, which make holes, forget it.
	 */
	uint64_t data_lo, data_hi;
	/* Large WRITEs not yet handed to writeback: their span and bytes. */
	uint64_t wb_lo, wb_hi, wb_bytes;
};

/* export.c; addr is the client's address, NULL when it has none */
int export_allowed(const struct export *e, const struct sockaddr *peer,
		   char *why, size_t whylen);
int export_open(struct backend *b, const struct export *e, const char *addr,
		bool probe, char *why, size_t whylen);
int export_close(struct backend *b);
uint16_t export_flags(const struct export *e, bool structured);
int expand_path(const char *pattern, const char *addr, char *out,
		size_t outlen);

/* cow.c: copy-on-write */
int cow_open(struct backend *b, const struct export *e, const char *base,
	     const char *addr, char *why, size_t whylen);
ssize_t cow_pread(struct cow *w, void *buf, size_t len, uint64_t off);
ssize_t cow_pwrite(struct cow *w, const void *buf, size_t len, uint64_t off);
int cow_sync(struct cow *w);
int cow_close(struct cow *w);
size_t cow_struct_size(void);
int cow_rebase(struct cow *w, int base);
bool cow_has_blocks(const struct cow *w);
bool cow_map_written(const char *mappath);
int cow_client_path(const struct export *e, const char *addr,
		    const char *ext, char *out, size_t len);
void cow_sweep(const struct config *cfg);
void cow_spares_make(const struct config *cfg);
int cow_spare_probe(const struct export *e);
void cow_spares_drop(void);
unsigned cow_sweep_secs(const struct config *cfg);

/* generation.c: image generations kept for their clients */
const struct export *generation_find(const struct config *cfg,
				     const char *name, size_t len, char *id);
int generation_attach(struct backend *b, const struct export *e,
		      const char *addr, char *why, size_t whylen);
int generation_open(struct backend *b, const struct export *e,
		    const char *id, const char *addr, char *why, size_t whylen);
int generation_cow_open(struct backend *b, const struct export *e,
			const char *path, const char *addr, char *why,
			size_t whylen);
void generation_preopen(struct backend *b, const struct export *e,
			const char *addr);
int generation_select(struct backend *b, const struct export *e,
		      const char *id, uint64_t *probe_size, char *why,
		      size_t whylen);
int generation_commit(struct backend *b, const struct export *e, char *why,
		      size_t whylen);
const char *generation_id(const struct backend *b);
const char *generation_note(const struct backend *b);
void generation_noted(struct backend *b);
int generation_close(struct generation *g);
int generation_check(const struct export *e, char *msg, size_t len);
void generation_sweep(const struct config *cfg);
void generation_report(const struct config *cfg, void (*fn)(const char *));
unsigned generation_sweep_secs(const struct config *cfg);

/* fileops.c: 0, or -1 with errno */
int backend_sync(struct backend *b);
int backend_read(struct backend *b, void *buf, size_t len, uint64_t off);
int backend_write(struct backend *b, const void *buf, size_t len,
		  uint64_t off);
void backend_wrote(struct backend *b, uint64_t off, uint64_t len);
int backend_trim(struct backend *b, uint64_t off, uint64_t len, bool fua);
int backend_write_zeroes(struct backend *b, uint64_t off, uint64_t len,
			 uint16_t flags);
uint64_t backend_run_end(struct backend *b, uint64_t pos, uint64_t end,
			 bool *hole, bool cached);

#endif
