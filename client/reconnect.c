// SPDX-License-Identifier: GPL-2.0
/*
 * Reconnection after a lost connection, for both kinds of -persist
 * device: netlink (persist.c, woken by the kernel's LINK_DEAD event) and
 * ioctl (attach-ioctl.c, when NBD_DO_IT returns). Each attempt is one pass
 * over the server list starting with the server that answered last (at
 * first the one the first attach got, o->start, not the list's head); each
 * new socket goes through server_list_open(), as at the first attach, so
 * whatever a session needs (STARTTLS, then negotiation) is redone there;
 * the caller's hand_over() gives it to the kernel. Between attempts the
 * wait doubles up to BACKOFF_MAX_MS, until a server takes the device back
 * or the caller's stopped() says the device is no longer ours.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nbd-client.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

/*
 * One pass over the server list: a negotiated socket to the same export
 * with the same size (a server whose export changed size is refused: the
 * filesystem on it is not ours any more), or -1. quiet: connections that
 * fail are not logged.
 */
static int reopen_export(struct reconnect *r, int quiet)
{
	const struct client_opts *o = r->o;
	int n = server_list_count(o->hosts), k;
	struct export_info now;

	for (k = 0; k < n; k++) {
		int idx = server_list_nth(n, r->host, k), fd;

		fd = server_list_reopen(o, idx, r->e, &now);
		if (fd < 0) {
			if (!quiet)
				client_log(o->device, "reconnect: %s",
					   client_last_error());
			continue;
		}
		if (now.size != r->e->size) {
			client_log(o->device, "reconnect: refusing server %d: export size is now %llu, was %llu",
				   idx + 1, (unsigned long long)now.size,
				   (unsigned long long)r->e->size);
			close(fd);
			continue;
		}
		r->host = idx;
		return fd;
	}
	return -1;
}

/* Sleeps *delay_ms, then doubles it up to BACKOFF_MAX_MS. */
static void backoff(int *delay_ms)
{
	usleep((unsigned int)*delay_ms * 1000u);
	*delay_ms = *delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
						     *delay_ms * 2;
}

int reconnect(struct reconnect *r)
{
	const struct client_opts *o = r->o;
	int delay = BACKOFF_MIN_MS, attempt, fd;

	client_log(o->device, "connection lost; reconnecting%s",
		   r->note ? r->note : "");
	for (attempt = 0; !r->stopped(r->ctx); attempt++) {
		/* name every failure at first, then every 20th attempt */
		fd = reopen_export(r, attempt > 3 && attempt % 20);
		if (fd >= 0 && r->hand_over(r->ctx, fd) == 0) {
			close(fd);
			client_log(o->device, "reconnected to server %d of %s",
				   r->host + 1, o->hosts);
			return 0;
		}
		if (fd >= 0) {
			client_log(o->device, "reconnect: %s",
				   client_last_error());
			close(fd);
		}
		backoff(&delay);
	}
	return -1;
}
