/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBDROOT_CLI_H
#define NBDROOT_CLI_H

#include "nbd-client.h"

enum client_mode { MODE_ATTACH, MODE_DISCONNECT, MODE_CHECK, MODE_LIST,
		   MODE_HELP };

struct cli {
	enum client_mode mode;
	struct client_opts opts;
	const char *target;	/* device for -d and -c */
};

/* Upstream nbd-client's command line; -1 with client_error on misuse. */
int cli_parse(int argc, char **argv, struct cli *c);
extern const char cli_usage[];

#endif
