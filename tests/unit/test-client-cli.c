// unit: client
/* nbd-client's command line: upstream's forms, and clear usage errors. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "unit.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])))

static int parse(int argc, char **argv, struct cli *c)
{
	client_error("%s", "");
	return cli_parse(argc, argv, c);
}

static void check_error(int argc, char **argv, const char *want, int line)
{
	struct cli c;

	unit_checks++;
	if (parse(argc, argv, &c) != -1 ||
	    !strstr(client_last_error(), want)) {
		unit_failures++;
		fprintf(stderr, "%s:%d: wanted error \"%s\", got \"%s\"\n",
			__FILE__, line, want, client_last_error());
	}
}

#define CHECK_USAGE(want, ...) do {					\
	char *v_[] = { "nbd-client", __VA_ARGS__, NULL };		\
	check_error(ARGC(v_) - 1, v_, want, __LINE__);			\
} while (0)

static void test_host_port_device(void)
{
	char *v[] = { "nbd-client", "10.0.2.2", "1234", "/dev/nbd3", "-N",
		      "root", "-b", "4096", "-t", "30", NULL };
	struct cli c;

	CHECK_EQ(parse(ARGC(v) - 1, v, &c), 0);
	CHECK_EQ(c.mode, MODE_ATTACH);
	CHECK_STR(c.opts.hosts, "10.0.2.2");
	CHECK_EQ(c.opts.port, 1234);
	CHECK_STR(c.opts.device, "/dev/nbd3");
	CHECK_EQ(c.opts.index, 3);
	CHECK_STR(c.opts.name, "root");
	CHECK_EQ(c.opts.block_size, 4096);
	CHECK_EQ(c.opts.timeout, 30);
}

static void test_defaults_and_long_forms(void)
{
	char *v[] = { "nbd-client", "srv", "/dev/nbd0", "--name", "x",
		      "-persist", "--swap", "-systemd-mark", "-nonetlink",
		      "-readonly", "-no-optgo", "-connections", "4",
		      "-dead-timeout", "90", "-identifier", "id", NULL };
	struct cli c;

	CHECK_EQ(parse(ARGC(v) - 1, v, &c), 0);
	CHECK_EQ(c.opts.port, 10809);
	CHECK_STR(c.opts.name, "x");
	CHECK(c.opts.persist && c.opts.swap && c.opts.systemd_mark);
	CHECK(c.opts.nonetlink && c.opts.readonly && c.opts.no_optgo);
	CHECK_EQ(c.opts.conns, 4);
	CHECK_EQ(c.opts.dead_timeout, 90);
	CHECK_STR(c.opts.identifier, "id");
}

static void test_short_forms(void)
{
	char *v[] = { "nbd-client", "[::1],10.0.0.1", "99", "/dev/nbd15",
		      "-p", "-s", "-m", "-L", "-R", "-g", "-C", "2", "-T",
		      "61", NULL };
	struct cli c;

	CHECK_EQ(parse(ARGC(v) - 1, v, &c), 0);
	CHECK_STR(c.opts.hosts, "[::1],10.0.0.1");
	CHECK_EQ(c.opts.index, 15);
	CHECK(c.opts.persist && c.opts.swap && c.opts.readonly);
	CHECK_EQ(c.opts.conns, 2);
	CHECK_EQ(c.opts.dead_timeout, 61);
}

static void test_modes(void)
{
	char *d[] = { "nbd-client", "-d", "/dev/nbd1", NULL };
	char *ch[] = { "nbd-client", "-check", "/dev/nbd2", NULL };
	char *h[] = { "nbd-client", "--help", NULL };
	struct cli c;

	CHECK_EQ(parse(ARGC(d) - 1, d, &c), 0);
	CHECK_EQ(c.mode, MODE_DISCONNECT);
	CHECK_STR(c.target, "/dev/nbd1");
	CHECK_EQ(parse(ARGC(ch) - 1, ch, &c), 0);
	CHECK_EQ(c.mode, MODE_CHECK);
	CHECK_EQ(parse(ARGC(h) - 1, h, &c), 0);
	CHECK_EQ(c.mode, MODE_HELP);
}

static void test_usage_errors(void)
{
	CHECK_USAGE("no server given", "-N", "x");
	CHECK_USAGE("no device given", "srv", "1234");
	CHECK_USAGE("/dev/sda is not an NBD device", "srv", "/dev/sda");
	CHECK_USAGE("unknown option \"-frobnicate\"", "srv", "-frobnicate");
	CHECK_USAGE("option \"-N\" needs a value", "srv", "/dev/nbd0", "-N");
	CHECK_USAGE("-block-size: 1000 is not", "srv", "/dev/nbd0", "-b",
		    "1000");
	CHECK_USAGE("-timeout: not a number: \"soon\"", "srv", "/dev/nbd0",
		    "-t", "soon");
	CHECK_USAGE("port: not a number up to 65535", "srv", "70000",
		    "/dev/nbd0");
	CHECK_USAGE("-connections: must be at least 1", "srv", "/dev/nbd0",
		    "-C", "0");
	CHECK_USAGE("unexpected argument \"extra\"", "srv", "1", "/dev/nbd0",
		    "extra");
	CHECK_USAGE("-start: servers count from 1", "a,b", "/dev/nbd0",
		    "-start", "0");
	CHECK_USAGE("-start 3: the server list \"a,b\" has 2 server(s)",
		    "a,b", "/dev/nbd0", "-start", "3");
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);
	RUN(test_host_port_device);
	RUN(test_defaults_and_long_forms);
	RUN(test_short_forms);
	RUN(test_modes);
	RUN(test_usage_errors);
	return unit_done("test-client-cli");
}
