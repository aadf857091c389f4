/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbd-server internals: configuration, exports and one client connection.
 *
 * Layering: main.c parses the command line and prints; listen.c owns the
 * sockets, signals and children; conn.c runs one connection (negotiate.c,
 * then transmit.c) and produces its log line; export.c, auth.c and config.c
 * are the pieces those use. Nothing below main.c and conn.c prints: errors
 * travel back as -1 plus a message in a caller's buffer.
 */
#ifndef NBDROOT_SERVER_H
#define NBDROOT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nbd-proto.h"

/* Limits on what a client may make us read or hold (issue 3, proto.md) */
#define SRV_MAX_OPT_DATA	(64u << 10)	/* option payload */
#define SRV_HANDSHAKE_SECS	10		/* default: greeting to GO */
#define SRV_STOP_SECS		10		/* SIGTERM: children to finish */
#define SRV_REFUSE_SECS		3		/* wait for an option to refuse */
#define SRV_MAX_REFUSERS	8		/* children refusing at once */
#define SRV_BLOCK_MIN		1
#define SRV_BLOCK_PREF		4096
#define SRV_BLOCK_MAX		NBD_MAX_PAYLOAD
#define SRV_MAX_EXTENTS		1024		/* per BLOCK_STATUS reply */
#define SRV_ERRLEN		256
#define SRV_MAX_SLOTS		4096		/* children counted per export */
#define SRV_COW_BLOCK		4096		/* copy-on-write granule */
#define SRV_COW_TIMEOUT		600		/* default cowtimeout, seconds */
#define SRV_IBUF_SIZE		(516u << 10)	/* requests read ahead */
#define SRV_OBUF_SIZE		(260u << 10)	/* replies sent together */
#define SRV_WRITEBACK_MIN	(128u << 10)	/* WRITEs this large: written back now */

/* The one meta context we serve (proto.md "Metadata querying") */
#define SRV_META_ALLOCATION	"base:allocation"
#define SRV_META_ALLOCATION_ID	1

struct export {
	struct export *next;
	char *name;		/* as clients ask for it; "" is the default */
	char *path;		/* "%s" in it becomes the client's address */
	char *description;
	char *authfile;
	uint64_t filesize;	/* temporary: size of the per-client file */
	unsigned maxconn;	/* 0: no limit */
	char *cowdir;		/* copyonwrite: where clients' blocks go */
	unsigned cowtimeout;	/* seconds kept after the last disconnect */
	bool cow;		/* copyonwrite */
	bool readonly;
	bool trim;
	bool rotational;
	bool temporary;
};

struct config {
	struct export *exports;
	char *listenaddr;	/* NULL: every address */
	char *port;		/* NULL: NBD_DEFAULT_PORT */
	char *user;
	char *group;
	char *default_name;	/* [generic] default */
	unsigned maxconn;	/* 0: no limit */
	unsigned handshake_secs; /* 0: SRV_HANDSHAKE_SECS */
	bool allowlist;		/* NBD_OPT_LIST answered */
	char **warnings;	/* for main to print */
	size_t nwarnings;
};

/* One client, from accept to close. */
struct conn {
	int in;
	int out;
	const struct config *cfg;
	struct sockaddr_storage peer_sa;
	socklen_t peer_len;	/* 0: not a network peer (stdin mode) */
	char peer_addr[64];	/* address only: "%s" and authfile */
	char peer[80];		/* address:port, for the log */
	int64_t deadline;	/* CLOCK_MONOTONIC ms; 0 none */

	bool no_zeroes;
	bool structured;
	bool meta_alloc;	/* base:allocation selected */

	const struct export *exp;
	char exp_name[NBD_MAX_NAME + 1];
	int fd;
	uint64_t size;
	uint16_t tflags;
	bool sync_failed;	/* sticky: later FLUSHes fail too */

	struct cow *cow;	/* copyonwrite: the client's own blocks */

	unsigned char *buf;	/* option data, BLOCK_STATUS extents */
	size_t bufsize;
	unsigned char *ibuf;	/* transmission: requests as they arrive */
	size_t ipos, ilen;
	unsigned char *obuf;	/* replies not yet sent */
	size_t olen;
	bool in_sock;		/* recv's MSG_DONTWAIT may be used */
	/*
	 * A run of the file known to be data: reads inside it skip
	 * SEEK_DATA. Claiming data is always safe (a hole reads as zeros);
	 * our own TRIM and WRITE_ZEROES, which make holes, forget it.
	 */
	uint64_t data_lo, data_hi;
	uint64_t requests;
	const char *outcome;	/* for the log line */
	char why[SRV_ERRLEN];
};

/* io.c: whole-message I/O; see the comments there for return values. */
extern volatile int srv_stopping;
void io_wait_mask(const sigset_t *unblocked);
void io_ignore_stop(bool on);
int64_t now_ms(void);
ssize_t read_full(int fd, void *buf, size_t n, int64_t deadline);
ssize_t read_some(int fd, void *buf, size_t n, bool start);
int write_full(int fd, const void *buf, size_t n, int64_t deadline);
int write2_full(int fd, const void *a, size_t alen, const void *b,
		size_t blen, int64_t deadline);
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* conn.c */
void conn_init(struct conn *c, int in, int out, const struct config *cfg);
int conn_fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int conn_serve(struct conn *c);
void conn_log_line(const struct conn *c, char *line, size_t len);
void conn_close(struct conn *c);
size_t escape_string(char *dst, size_t dstlen, const char *src, size_t len);
int peer_describe(const struct sockaddr *sa, char *addr, size_t addrlen,
		  char *full, size_t fulllen);

/* negotiate.c: 0 go to transmission, 1 clean end, -1 error in c->why */
int negotiate(struct conn *c);
int negotiate_refuse(struct conn *c, uint32_t type, const char *msg);

/* transmit.c: 0 clean end, -1 error in c->why */
int transmit(struct conn *c);

/* reply.c: replies collected in c->obuf; 0, or -1 with c->why */
int reply_flush(struct conn *c);
int reply_simple(struct conn *c, const struct nbd_request *rq, uint32_t err);
int reply_chunk(struct conn *c, const struct nbd_request *rq, uint16_t type,
		const unsigned char *pre, size_t prelen, const void *data,
		size_t len);
int reply_error(struct conn *c, const struct nbd_request *rq, uint32_t err);
int reply_read(struct conn *c, const struct nbd_request *rq);

/* block-status.c: the base:allocation reply; 0, or -1 with c->why */
int reply_block_status(struct conn *c, const struct nbd_request *rq);

/* fileops.c: 0 or the wire error for the reply */
uint32_t sync_file(struct conn *c);
uint32_t backend_read(struct conn *c, void *buf, size_t len, uint64_t off);
uint32_t backend_write(struct conn *c, const void *buf, size_t len,
		       uint64_t off);
uint32_t do_trim(struct conn *c, const struct nbd_request *rq);
uint32_t do_write_zeroes(struct conn *c, const struct nbd_request *rq);
uint64_t run_end(struct conn *c, uint64_t pos, uint64_t end, bool *hole,
		 bool cached);

/* export.c */
const struct export *export_find(const struct config *cfg,
				 const char *name, size_t len);
int export_allowed(const struct conn *c, const struct export *e,
		   char *why, size_t whylen);
int export_open(struct conn *c, const struct export *e, bool probe);
void export_close(struct conn *c);
uint16_t export_flags(const struct conn *c, const struct export *e);
int expand_path(const char *pattern, const char *addr, char *out,
		size_t outlen);

/* cow.c: copy-on-write; -1 with errno (or why) on failure */
struct cow;
int cow_open(struct conn *c, const struct export *e, const char *base);
ssize_t cow_pread(struct cow *w, void *buf, size_t len, uint64_t off);
ssize_t cow_pwrite(struct cow *w, const void *buf, size_t len, uint64_t off);
int cow_sync(struct cow *w);
void cow_close(struct cow *w);
void cow_sweep(const struct config *cfg);
unsigned cow_sweep_secs(const struct config *cfg);

/* auth.c: 1 allowed, 0 not, -1 unreadable or malformed (why says which) */
int auth_check(const char *authfile, const struct sockaddr *peer,
	       char *why, size_t whylen);
int auth_parse_line(const char *line, unsigned char *addr, int *family,
		    unsigned *prefix);
bool auth_match(const unsigned char *net, int family, unsigned prefix,
		const struct sockaddr *peer);

/* config.c */
struct config *config_new(void);
void config_free(struct config *cfg);
int config_load(struct config *cfg, const char *path, char *why,
		size_t whylen);
struct export *config_add_export(struct config *cfg, const char *name);
int config_warn(struct config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* slots.c: per-export maxconnections across children */
int slots_init(void);
int slots_claim(const char *name, unsigned max);
void slots_release(pid_t pid);

/* listen.c */
struct listener {
	int fds[16];
	int nfds;
};
int listen_open(struct listener *l, const char *addr, const char *port,
		char *why, size_t whylen);
int listen_from_env(struct listener *l, char *why, size_t whylen);

/* privdrop.c */
int drop_privileges(const char *user, const char *group, char *why,
		    size_t whylen);

#endif
