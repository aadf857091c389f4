/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbd-server internals, bottom layer: limits, the configuration and the
 * pieces that know nothing of a connection (config, authfile, slots,
 * sockets, privilege drop, whole-message I/O).
 *
 * The layers, each using only those below it:
 *   main.c, daemon.c, pidfile.c   command line, accept loop, children,
 *   (daemon.h)                    pidfile; the only code that prints
 *   negotiate.c, transmit.c,      one connection's phases; failures are
 *   reply.c, block-status.c,      recorded in its struct conn (conn.c)
 *   conn.c (conn.h)               for the log line
 *   export.c, cow.c, fileops.c    the export's file: -1 with errno, or a
 *   (backend.h)                   message in a caller's buffer
 *   config.c, auth.c, slots.c,
 *   listen.c, privdrop.c, io.c,
 *   tls.c, ktls.c (server.h)
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
#define SRV_MAX_OPTIONS		32		/* per negotiation, as nbdkit */
#define SRV_HANDSHAKE_SECS	10		/* default: greeting to GO */
#define SRV_KEEPIDLE		60		/* default keepaliveidle, s */
#define SRV_KEEPINTVL		30		/* default keepaliveinterval, s */
#define SRV_KEEPCNT		10		/* default keepalivecount */
#define SRV_STOP_SECS		10		/* SIGTERM: children to finish */
#define SRV_REFUSE_SECS		3		/* wait for an option to refuse */
#define SRV_MAX_REFUSERS	8		/* children refusing at once */
#define SRV_MAX_PREFORK		4096		/* [generic] prefork */
#define SRV_DONE_NICE		19		/* a child whose client is gone */
#define SRV_BLOCK_MIN		1
#define SRV_BLOCK_PREF		4096
#define SRV_BLOCK_MAX		NBD_MAX_PAYLOAD
#define SRV_MAX_EXTENTS		1024		/* per BLOCK_STATUS reply */
#define SRV_ERRLEN		256
#define SRV_MAX_SLOTS		4096		/* children counted per export */
#define SRV_COW_BLOCK		4096		/* copy-on-write granule */
#define SRV_COW_TIMEOUT		600		/* default cowtimeout, seconds */
#define SRV_GEN_IDLEN		40		/* generation id, with its NUL */
#define SRV_DEFAULT_USER	"nobody"	/* root without "user": children */
#define SRV_IBUF_SIZE		(516u << 10)	/* requests read ahead */
#define SRV_OBUF_SIZE		(260u << 10)	/* replies sent together */
#define SRV_WRITEBACK_MIN	(128u << 10)	/* WRITEs this large count... */
#define SRV_WRITEBACK_BATCH	(8u << 20)	/* ...and start writeback per 8 MiB */

/* The one meta context we serve (proto.md "Metadata querying") */
#define SRV_META_ALLOCATION	"base:allocation"
#define SRV_META_ALLOCATION_ID	1

/* The identities of one tlspsk file (tls.c). */
struct tls_ids {
	char **names;
	size_t n;
};
struct tls_trust;

struct export {
	struct export *next;
	char *name;		/* as clients ask for it; "" is the default */
	char *path;		/* "%s" in it becomes the client's address */
	char *description;
	char *authfile;
	uint64_t filesize;	/* temporary: size of the per-client file */
	unsigned maxconn;	/* 0: no limit */
	char *cowdir;		/* copyonwrite: where clients' blocks go */
	char **tlsids;		/* tlsidentities: who may open it over TLS */
	size_t ntlsids;		/* 0: anyone (the address still checked) */
	struct tls_ids pskids;	/* its own tlspsk: that file's identities */
	bool own_psk;		/* it has one: only they open it by PSK */
	char *tlsca;		/* its own cacertfile */
	struct tls_trust *trust;	/* that file: X.509 peers it admits */
	unsigned cowtimeout;	/* seconds kept after the last disconnect */
	char *gendir;		/* generationdir: kept generations */
	unsigned gentimeout;	/* generationtimeout, seconds */
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
	unsigned prefork;	/* children waiting for clients; 0: none */
	unsigned handshake_secs; /* 0: SRV_HANDSHAKE_SECS */
	unsigned keepidle;	/* 0: SRV_KEEPIDLE */
	unsigned keepintvl;	/* 0: SRV_KEEPINTVL */
	unsigned keepcnt;	/* 0: SRV_KEEPCNT */
	bool allowlist;		/* NBD_OPT_LIST answered */
	struct tls_server *tls;	/* NULL: no STARTTLS */
	bool force_tls;		/* nothing but STARTTLS before TLS */
	char *tlscert, *tlskey, *tlsca, *tlsprio;
	struct tls_trust *trust;	/* tlsca: X.509 peers of exports
					   without a cacertfile of their own */
	char *tls_where;	/* "file:line" of the last of those keys */
	char **warnings;	/* for main to print */
	size_t nwarnings;
};

/* tls.c: credentials loaded at startup, a session per connection */
struct tls_server;
struct tls_session;
struct iovec;
struct tls_chain;
int tls_server_psk(struct tls_server **ts, const char *path,
		   struct tls_ids *ids, char *why, size_t whylen);
bool tls_server_psk_generic(const struct tls_server *ts,
			    const char *identity);
int tls_server_export_ca(struct tls_server *ts, const char *path, char *why,
			 size_t whylen);
int tls_trust_load(const char *path, struct tls_trust **out, char *why,
		   size_t whylen);
void tls_trust_free(struct tls_trust *tr);
int tls_server_x509(struct tls_server **ts, const char *cert,
		    const char *key, const char *ca, char *why, size_t whylen);
int tls_server_prio(struct tls_server *ts, const char *prio, char *why,
		    size_t whylen);
void tls_server_free(struct tls_server *ts);
int tls_session_start(const struct tls_server *ts, int in, int out,
		      int64_t deadline, struct tls_session **ts_out, char *why,
		      size_t whylen);
const char *tls_session_identity(const struct tls_session *t);
bool tls_session_psk(const struct tls_session *t);
int tls_session_chain(const struct tls_session *t, struct tls_chain **out);
void tls_chain_free(struct tls_chain *ch);
bool tls_chain_trusted(const struct tls_chain *ch,
		       const struct tls_trust *tr);
void tls_session_describe(const struct tls_session *t, char *buf,
			  size_t len);
int tls_session_to_kernel(struct tls_session *t, int fd, char *why,
			  size_t whylen);
void tls_session_end(struct tls_session *t, bool bye);
size_t tls_pending(struct tls_session *t);
ssize_t tls_recv(struct tls_session *t, void *buf, size_t n,
		 int64_t timeout_ms);
int tls_send(struct tls_session *t, const struct iovec *iov, int cnt,
	     int64_t deadline);

/* ktls.c: 1 handed to the kernel, 0 not possible (why), -1 half done */
struct gnutls_session_int;
int ktls_handover(struct gnutls_session_int *s, int fd, char *why,
		  size_t whylen);
int ktls_close_notify(int fd);

/*
 * A connection's transport: plain descriptors, or a TLS session on them
 * once STARTTLS has succeeded. The xp_ functions are read_full and
 * friends over either.
 */
struct xport {
	int in;
	int out;
	struct tls_session *tls;
};

/* io.c: whole-message I/O; see the comments there for return values. */
extern volatile int srv_stopping;
void io_wait_mask(const sigset_t *unblocked);
void io_ignore_stop(bool on);
bool io_stopping(void);
int64_t now_ms(void);
int wait_writable(int fd, int64_t deadline);
ssize_t read_full(int fd, void *buf, size_t n, int64_t deadline);
ssize_t read_some(int fd, void *buf, size_t n, bool start);
int write_full(int fd, const void *buf, size_t n, int64_t deadline);
int write2_full(int fd, const void *a, size_t alen, const void *b,
		size_t blen, int64_t deadline);
ssize_t xp_read_full(const struct xport *x, void *buf, size_t n,
		     int64_t deadline);
ssize_t xp_read_some(const struct xport *x, void *buf, size_t n, bool start);
int xp_write_full(const struct xport *x, const void *buf, size_t n,
		  int64_t deadline);
int xp_write2_full(const struct xport *x, const void *a, size_t alen,
		   const void *b, size_t blen, int64_t deadline);
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

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
const struct export *export_find(const struct config *cfg,
				 const char *name, size_t len);
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
const char *privdrop_user(const struct config *cfg);
bool privdrop_per_child(const struct config *cfg);
int privdrop_check(const char *user, const char *group, char *why,
		   size_t whylen);
int drop_privileges(const char *user, const char *group, char *why,
		    size_t whylen);

#endif
