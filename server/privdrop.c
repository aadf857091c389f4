// SPDX-License-Identifier: GPL-2.0
/*
 * Dropping root for good, before any byte from a client is read (as
 * OpenBSD's daemons do): the server binds its sockets as whoever started
 * it, then becomes the configured user; started as root without one, each
 * child becomes SRV_DEFAULT_USER once it has opened its exports.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* Who to become: the user's uid when there is a user, and a gid. */
struct ids {
	bool has_uid;
	uid_t uid;
	gid_t gid;
};

/*
 * What privdrop_check found, so that a child forked later becomes the
 * user without reading the user and group databases again: each child's
 * getpwnam went through NSS anew, about a tenth of a millisecond of every
 * connect in a storm of clients. The names cannot change after it: a
 * reload keeps the user and group the server started with (main.c).
 */
static struct {
	bool valid;
	struct ids ids;
} found;

static int lookup_group(const char *group, gid_t *gid, char *why,
			size_t whylen)
{
	struct group *gr = getgrnam(group);

	if (!gr) {
		snprintf(why, whylen, "group %s: no such group", group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* The ids to become: user's, and group's or else the user's own group. */
static int lookup(const char *user, const char *group, struct ids *ids,
		  char *why, size_t whylen)
{
	struct passwd *pw;

	if (found.valid) {
		*ids = found.ids;
		return 0;
	}
	*ids = (struct ids){ .gid = getgid() };
	if (user) {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(why, whylen, "user %s: no such user", user);
			return -1;
		}
		ids->has_uid = true;
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
	}
	if (group && lookup_group(group, &ids->gid, why, whylen) < 0)
		return -1;
	return 0;
}

/*
 * The user to serve clients as: the configured one; started as root
 * without one, SRV_DEFAULT_USER (safe by default); else NULL, whoever we
 * are.
 */
const char *privdrop_user(const struct config *cfg)
{
	if (cfg->user)
		return cfg->user;
	return geteuid() == 0 ? SRV_DEFAULT_USER : NULL;
}

/*
 * Root without a configured user: the master keeps root, and each child
 * opens the exports it may serve (conn_preopen) and then drops to
 * SRV_DEFAULT_USER, all before the first byte from its client. As
 * OpenBSD's daemons open what they need before dropping, the files need
 * not be readable by that user. With a configured user the whole server
 * becomes it after binding instead, and the files must be its to use.
 */
bool privdrop_per_child(const struct config *cfg)
{
	return !cfg->user && geteuid() == 0;
}

/*
 * Whether user and group exist, so that no child is first to find out;
 * their ids are kept for the children.
 */
int privdrop_check(const char *user, const char *group, char *why,
		   size_t whylen)
{
	struct ids ids;

	found.valid = false;
	if (lookup(user, group, &ids, why, whylen) < 0)
		return -1;
	found.ids = ids;
	found.valid = true;
	return 0;
}

/*
 * Becomes user (and group, default: the user's) for good, before the
 * first byte from a client. Not root: only a check that we are already
 * that user.
 */
int drop_privileges(const char *user, const char *group, char *why,
		    size_t whylen)
{
	struct ids ids;

	if (lookup(user, group, &ids, why, whylen) < 0)
		return -1;
	if (geteuid() != 0) {
		if ((ids.has_uid && ids.uid != geteuid()) ||
		    ids.gid != getegid()) {
			snprintf(why, whylen, "cannot become %s%s%s: not root",
				 user ? user : "", group ? ":" : "",
				 group ? group : "");
			return -1;
		}
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setgid(ids.gid) < 0 ||
	    (ids.has_uid && setuid(ids.uid) < 0)) {
		snprintf(why, whylen, "dropping privileges: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
