/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbd-client internals. Lower layers return -1 after recording a message
 * with client_error(); only main() prints it, as "nbd-client: <message>".
 */
#ifndef NBDROOT_NBD_CLIENT_H
#define NBDROOT_NBD_CLIENT_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "genl.h"

#define CLIENT_ERRLEN		256
#define CLIENT_MAX_CONNS	16
#define CLIENT_MAX_SERVERS	8
/* Replies we accept during negotiation: anything larger is a broken peer. */
#define CLIENT_MAX_OPT_REPLY	(64u << 10)
#define CLIENT_CONNECT_TIMEOUT	10	/* seconds, for connect and handshake */
/*
 * -persist defaults: how long I/O waits for a dead server to come back;
 * the block layer's request timer (queue/io_timeout) that requeues what
 * was in flight on a replaced socket, when the kernel has no request
 * timeout (main.c: one netlink connection); the request timeout used
 * otherwise (ioctls, several connections), after which the kernel
 * requeues what was in flight on a dead socket; and how long TCP waits
 * for a peer that stopped acknowledging (connect.c).
 */
#define PERSIST_DEAD_TIMEOUT	120
#define PERSIST_REQUEUE_MS	2000
#define PERSIST_REQ_TIMEOUT	30
#define PERSIST_DEAD_PEER_MS	30000

/* tls-psk.c: one key of a psktool file ("identity:hexkey" lines) */
#define TLS_PSK_MAX_IDENTITY	255	/* RFC 8446 4.2.11: up to 2^16-1; GnuTLS's cap */
#define TLS_PSK_MAX_KEY		64
struct tls_psk {
	char identity[TLS_PSK_MAX_IDENTITY + 1];
	size_t identity_len;
	uint8_t key[TLS_PSK_MAX_KEY];
	size_t key_len;
	const char *server_name;	/* -tlshostname (SNI), or NULL */
};
int tls_psk_load(const char *path, const char *identity, struct tls_psk *psk);

struct client_opts {
	const char *hosts;	/* "h1,h2@port": failover order */
	const char *unix_path;	/* -u: a Unix socket instead of hosts */
	uint16_t port;
	const char *device;	/* /dev/nbdN */
	int index;		/* N of /dev/nbdN, -1 if none */
	const char *name;	/* export name, "" = default */
	const char *identifier;	/* backend identifier for netlink */
	uint32_t block_size;	/* 0 = choose */
	uint32_t timeout;	/* request timeout (s), 0 = kernel default */
	uint32_t dead_timeout;	/* dead-connection timeout (s) */
	int conns;
	/* -start N, from 0: the server tried first; after the first
	 * attach, the one that answered (the daemon fails over from it) */
	int start;
	int persist, swap, systemd_mark, nonetlink, nofork, readonly, no_optgo;
	/* TLS: -enable-tls, -tls-psk, -tls-identity, -tlshostname */
	int tls;
	const char *tls_psk_file, *tls_identity, *tls_hostname;
	const struct tls_psk *psk;	/* loaded key: NULL means plaintext */
};

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct export_info {
	uint64_t size;
	uint16_t flags;		/* transmission flags */
	uint32_t min_bs, pref_bs, max_bs;	/* 0 when not announced */
	/*
	 * NBD_INFO_NAME at GO, "" when not sent: the name that gets this
	 * very image again (nbd-server's "room@GENERATION"); reconnects ask
	 * for it, so a replaced image is never attached under a mounted fs.
	 */
	char canon[4096 + 1];	/* NBD_MAX_NAME: nbd-proto.h clashes with linux/nbd.h */
};

/* error.c */
int client_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
const char *client_last_error(void);
void client_log(const char *device, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void client_log_to_kmsg(void);

/* daemon.c */
void daemon_setup(char **argv, int foreground);

/* deadline.c: bounded waits, one clock reading per decision */
struct deadline {
	long long end_ms;	/* on uptime_ms()'s clock */
};
long long uptime_ms(void);
void deadline_start(struct deadline *d, long long ms);
int deadline_left_ms(const struct deadline *d);
int deadline_poll(int fd, short events, const struct deadline *d);

/*
 * io.c: exactly len bytes or -1 (errno 0 when the peer closed first),
 * before the deadline
 */
extern int client_timeout;	/* s, connect and handshake; tests lower it */
extern int client_dead_peer_ms;	/* TCP_USER_TIMEOUT and keepalive, 0 = TCP's */
int read_exact(int fd, void *buf, size_t len, const struct deadline *d);
int write_exact(int fd, const void *buf, size_t len,
		const struct deadline *d);

/* addr.c: IPv4 and IPv6 literals (klibc's inet_pton has no IPv6) */
int addr_parse(const char *s, union sockaddr_any *sa);
socklen_t addr_set_port(union sockaddr_any *sa, uint16_t port);
int hex_digit(char c);

/* resolve.c: names without a C library resolver */
extern int client_dns_wait_ms;
extern const char *client_hosts_file, *client_resolv_file;
extern uint16_t client_dns_port;
int resolve_host(const char *name, union sockaddr_any *sa);
int resolve_host_with(const char *name, const char *hosts_path,
		      const char *resolv_path, uint16_t dns_port,
		      union sockaddr_any *sa);
int resolve_host_cached(const char *name, const char *hosts_path,
			const char *resolv_path, uint16_t dns_port,
			union sockaddr_any *sa);

/* connect.c */
int connect_server(const char *host, uint16_t port, char *peer,
		   size_t peerlen);
int connect_unix(const char *path);

/* server-list.c: the "h1,h2@port" failover list */
int server_list_count(const char *hosts);
int server_list_nth(int n, int start, int k);
int server_list_entry(const char *hosts, int idx, uint16_t defport,
		      char *buf, size_t len, uint16_t *port);
int server_list_connect(const struct client_opts *o, int idx, char *peer,
			size_t peerlen);
int server_list_open(const struct client_opts *o, int idx,
		     struct export_info *e);
int server_list_reopen(const struct client_opts *o, int idx,
		       const struct export_info *had, struct export_info *now);

/* reconnect.c: a new session for a device whose connection died */
struct reconnect {
	const struct client_opts *o;
	const struct export_info *e;	/* what the first attach negotiated */
	int host;			/* index of the server used last */
	const char *note;		/* added to "connection lost" */
	/* gives the kernel the socket: 0, or -1 after client_error() */
	int (*hand_over)(void *ctx, int fd);
	/* nonzero once the device is no longer ours to reconnect */
	int (*stopped)(void *ctx);
	void *ctx;
};
/* 0 once the kernel has a new socket, -1 when stopped. */
int reconnect(struct reconnect *r);

/*
 * transport.c: negotiation bytes, in plaintext or inside TLS (then the
 * record layer of client/tls/, until the handover to the kernel)
 */
struct tls13_client;
struct transport {
	int fd;
	struct tls13_client *tls;	/* NULL: plaintext */
	const uint8_t *app;		/* opened data not yet read */
	size_t app_len;
	const char *err;		/* why a TLS transfer failed */
};
int transport_read(struct transport *t, void *buf, size_t len,
		   const struct deadline *d);
int transport_write(struct transport *t, const void *buf, size_t len,
		    const struct deadline *d);
/* the next tls13_event, or -1 with t->err or errno (0: EOF) */
int transport_tls_next(struct transport *t, const struct deadline *d);
int transport_tls_record(struct transport *t, const struct deadline *d);

/*
 * tls-session.c: the TLS 1.3 handshake over a transport after STARTTLS,
 * and the handover of the record layer to the kernel (kTLS). One session
 * at a time, in static memory. NULL, or the reason it failed.
 */
const char *tls_session_start(struct transport *t, const struct tls_psk *psk,
			      const struct deadline *d);
const char *tls_session_hand_over(struct transport *t,
				  const struct deadline *d);
void tls_session_end(struct transport *t);

/*
 * negotiate.c: newstyle handshake up to transmission; with psk, inside
 * TLS, and the socket leaves with the kernel's TLS on it
 */
int negotiate_export(int fd, const char *peer, const char *name,
		     int no_optgo, const struct tls_psk *psk,
		     struct export_info *info);
int list_exports(int fd, const char *peer, const struct tls_psk *psk,
		 void (*fn)(const char *name, const char *desc));

/* attach-netlink.c: 1 when the "nbd" genl family is missing */
int netlink_connect(const struct client_opts *o, const struct export_info *e,
		    const int *fds, int nfds);
int netlink_reconfigure(uint16_t family, const struct client_opts *o,
			int fd);
int netlink_disconnect(int index);

/* attach-ioctl.c */
int ioctl_attach(const struct client_opts *o, const struct export_info *e,
		 int fd, char **argv);
void ioctl_stop_daemon(const char *device);
int ioctl_disconnect(const char *device);

/* persist.c: the reconnecting daemon behind -persist */
struct persist {
	struct genl_sock events;	/* joined to the LINK_DEAD group */
	uint16_t family;
};
/* 0, 1 when the nbd netlink family is missing, or -1 */
int persist_prepare(struct persist *p);
void persist_run(struct persist *p, const struct client_opts *o,
		 const struct export_info *e, char **argv)
	__attribute__((noreturn));

/* device.c */
int device_index(const char *device);
int device_check(const char *device);
ssize_t read_small(const char *path, char *buf, size_t len);
void device_rescan(const char *device);
int device_set_io_timeout(int index, unsigned int ms);

#endif
