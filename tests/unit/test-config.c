// unit: server
// SPDX-License-Identifier: GPL-2.0
/*
 * nbd-server(5) configuration parsing: values land where they should, an
 * unsupported key is a warning naming file and line, and every malformed
 * input is an error naming file and line.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "unit.h"

static char dir[] = "/tmp/nbdroot-cfg-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static void test_valid(void)
{
	char why[SRV_ERRLEN] = "", inc[400];
	struct config *cfg = config_new();
	const struct export *e;
	const char *path;

	snprintf(inc, sizeof(inc), "%s/conf.d", dir);
	mkdir(inc, 0755);
	write_file("conf.d/10-swap.conf",
		   "[swap]\n  exportname = /srv/swap-%s\n  temporary = true\n"
		   "  filesize = 1048576\n");
	write_file("conf.d/ignored.txt", "this is not parsed\n");
	snprintf(inc, sizeof(inc),
		 "# comment\n[generic]\n\tport = 10900\n\tlistenaddr = 127.0.0.1\n"
		 "\tuser = nbd\n\tgroup = disk\n\tallowlist = true\n"
		 "\tmaxconnections = 40\n\thandshaketimeout = 3\n"
		 "\tkeepaliveidle = 120\n\tkeepaliveinterval = 5\n"
		 "\tkeepalivecount = 3\n"
		 "\tincludedir = %s/conf.d\n", dir);
	path = write_file("main.conf", inc);
	CHECK_EQ(config_load(cfg, path, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	path = write_file("exports.conf",
		   "; exports\n[root]\nexportname = /srv/root.img\n"
		   "readonly = true\ndescription = Lab root image\n"
		   "authfile = /etc/nbd-server/allow\ntrim = false\n"
		   "rotational = yes\nflush = true\nfua = true\n"
		   "maxconnections = 5\ncopyonwrite = false\n"
		   "[lab]\nexportname = /srv/lab.img\ncopyonwrite = true\n"
		   "cowdir = /var/lib/nbd-cow\ncowtimeout = 30\n"
		   "[generic]\ndefault = root\n");
	CHECK_EQ(config_load(cfg, path, why, sizeof(why)), 0);
	CHECK_STR(cfg->port, "10900");
	CHECK_STR(cfg->listenaddr, "127.0.0.1");
	CHECK_STR(cfg->user, "nbd");
	CHECK_STR(cfg->group, "disk");
	CHECK(cfg->allowlist);
	CHECK_EQ(cfg->maxconn, 40);
	CHECK_EQ(cfg->handshake_secs, 3);
	CHECK_EQ(cfg->keepidle, 120);
	CHECK_EQ(cfg->keepintvl, 5);
	CHECK_EQ(cfg->keepcnt, 3);
	CHECK_EQ(cfg->nwarnings, 0);
	e = export_find(cfg, "swap", 4);
	CHECK(e && e->temporary && e->filesize == 1048576);
	CHECK(e && strcmp(e->path, "/srv/swap-%s") == 0);
	e = export_find(cfg, "root", 4);
	CHECK(e && e->readonly && !e->trim && e->rotational);
	CHECK(e && e->maxconn == 5);
	CHECK(e && strcmp(e->description, "Lab root image") == 0);
	CHECK(e && strcmp(e->authfile, "/etc/nbd-server/allow") == 0);
	CHECK(e && !e->cow && e->cowtimeout == 600);
	e = export_find(cfg, "lab", 3);
	CHECK(e && e->cow && e->cowtimeout == 30);
	CHECK(e && strcmp(e->cowdir, "/var/lib/nbd-cow") == 0);
	e = export_find(cfg, "root", 4);
	/* "" is [generic] default */
	CHECK(export_find(cfg, "", 0) == e);
	config_free(cfg);
}

static void test_warnings(void)
{
	char why[SRV_ERRLEN] = "";
	struct config *cfg = config_new();
	const char *path;

	path = write_file("warn.conf",
		   "[generic]\nlogfile = /var/log/nbd\nfrobnicate = 1\n"
		   "[x]\nexportname = /x\nsplice = true\nfilesize = 10\n");
	CHECK_EQ(config_load(cfg, path, why, sizeof(why)), 0);
	CHECK_EQ(cfg->nwarnings, 4);
	if (cfg->nwarnings == 4) {
		CHECK(strstr(cfg->warnings[0], "warn.conf:2: unsupported key 'logfile' ignored"));
		CHECK(strstr(cfg->warnings[1], "warn.conf:3: unknown key 'frobnicate' ignored"));
		CHECK(strstr(cfg->warnings[2], "warn.conf:6: unsupported key 'splice' ignored"));
		CHECK(strstr(cfg->warnings[3], "warn.conf:4: [x]: filesize without temporary"));
	}
	config_free(cfg);
}

static void check_error(const char *text, const char *want)
{
	char why[SRV_ERRLEN] = "";
	struct config *cfg = config_new();
	const char *path = write_file("bad.conf", text);

	CHECK_EQ(config_load(cfg, path, why, sizeof(why)), -1);
	if (!strstr(why, want)) {
		fprintf(stderr, "got '%s', want '%s'\n", why, want);
		CHECK(strstr(why, want));
	}
	config_free(cfg);
}

static void test_errors(void)
{
	check_error("[generic]\nport\n", "bad.conf:2: expected 'key = value'");
	check_error("\n\nport = 1\n", "bad.conf:3: 'port' outside any section");
	check_error("[generic\n", "bad.conf:1: malformed section header");
	check_error("[]\n", "bad.conf:1: malformed section header");
	check_error("[a] x\n", "bad.conf:1: malformed section header");
	check_error("[a]\nexportname = /a\nreadonly = maybe\n",
		    "bad.conf:3: readonly: expected true or false, got 'maybe'");
	check_error("[a]\nexportname = /a\nfilesize = 12k\n",
		    "bad.conf:3: filesize: expected a number, got '12k'");
	check_error("[a]\nexportname = /a\nfilesize = -1\n",
		    "bad.conf:3: filesize: expected a number");
	check_error("[generic]\nmaxconnections = 99999999999\n",
		    "bad.conf:2: maxconnections: 99999999999 is too large");
	check_error("[a]\nexportname = /a\n[a]\nexportname = /b\n",
		    "bad.conf:3: export [a] defined twice");
	check_error("[a]\nreadonly = true\n[b]\nexportname = /b\n",
		    "bad.conf:1: [a]: no exportname");
	check_error("[generic]\n[t]\nexportname = /t\ntemporary = true\n",
		    "bad.conf:2: [t]: temporary needs filesize");
	check_error("[a]\nexportname = /a\ncopyonwrite = true\n",
		    "bad.conf:1: [a]: copyonwrite needs cowdir");
	check_error("[a]\nexportname = /%s\ncopyonwrite = true\ncowdir = /c\n",
		    "bad.conf:1: [a]: copyonwrite needs one shared exportname, not temporary or %s");
	check_error("[a b]\nexportname = /a\ngenerationdir = /g\n",
		    "bad.conf:1: [a b]: generationdir needs one shared exportname, not temporary or %s, and an export name of [A-Za-z0-9._-] only");
	check_error("[a]\nexportname = /%s\ngenerationdir = /g\n",
		    "bad.conf:1: [a]: generationdir needs one shared exportname");
	check_error("[a]\nexportname = /a\ngenerationtimeout = 0\n",
		    "bad.conf:3: generationtimeout: 0 is not between 1 and 2592000");
	check_error("[a]\nexportname = /a\ncowtimeout = 0\n",
		    "bad.conf:3: cowtimeout: 0 is not between 1 and 2592000");
	check_error("[generic]\ndefault = nope\n[a]\nexportname = /a\n",
		    "bad.conf: default export [nope] is not defined");
	check_error("[generic]\n = 1\n", "bad.conf:2: missing key before '='");
	check_error("[generic]\nhandshaketimeout = 0\n",
		    "bad.conf:2: handshaketimeout: 0 is not between 1 and 3600");
	check_error("[generic]\nkeepalivecount = 128\n",
		    "bad.conf:2: keepalivecount: 128 is not between 1 and 127");
	check_error("[generic]\n\nkeepaliveidle = 0\n",
		    "bad.conf:3: keepaliveidle: 0 is not between 1 and 32767");
	check_error("[generic]\nincludedir = /nonexistent-dir\n",
		    "bad.conf:2: includedir /nonexistent-dir: No such file or directory");
}

static void test_missing_file(void)
{
	char why[SRV_ERRLEN] = "";
	struct config *cfg = config_new();

	CHECK_EQ(config_load(cfg, "/nonexistent/nbd.conf", why, sizeof(why)), -1);
	CHECK_STR(why, "/nonexistent/nbd.conf: No such file or directory");
	config_free(cfg);
}

int main(int argc, char **argv)
{
	char cmd[64];
	int r;

	unit_start(argc, argv);
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_valid);
	RUN(test_warnings);
	RUN(test_errors);
	RUN(test_missing_file);
	r = unit_done("test-config");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? r : 1;
}
