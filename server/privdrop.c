// SPDX-License-Identifier: GPL-2.0
/*
 * Dropping root for good: the server binds its sockets as whoever started
 * it, then becomes the configured user before any byte from a client is
 * read (as OpenBSD's daemons do).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

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

/*
 * Becomes user (and group, default: the user's) for good: after binding,
 * before the first byte from a client. Not root: only a check that we are
 * already that user.
 */
int drop_privileges(const char *user, const char *group, char *why,
		    size_t whylen)
{
	struct passwd *pw = NULL;
	gid_t gid = getgid();

	if (user) {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(why, whylen, "user %s: no such user", user);
			return -1;
		}
		gid = pw->pw_gid;
	}
	if (group && lookup_group(group, &gid, why, whylen) < 0)
		return -1;
	if (geteuid() != 0) {
		if ((pw && pw->pw_uid != geteuid()) || gid != getegid()) {
			snprintf(why, whylen, "cannot become %s%s%s: not root",
				 user ? user : "", group ? ":" : "",
				 group ? group : "");
			return -1;
		}
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
	    (pw && setuid(pw->pw_uid) < 0)) {
		snprintf(why, whylen, "dropping privileges: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
