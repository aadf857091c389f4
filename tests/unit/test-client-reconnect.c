// unit: client
/*
 * The server list and the reconnection loop behind -persist, against our
 * nbd-server run per connection as inetd would ("nbd-server -s FILE") on
 * 127.0.0.1. The kernel's part (hand_over) is a function of this test that
 * records the socket it is given; the device is never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "nbd-client.h"
#include "loopback.h"
#include "unit.h"

#define SERVER	"server/nbd-server"

static char dir[] = "/tmp/nbdroot-reconnect.XXXXXX";

/*
 * "host|port" of server idx of hosts with default port 10809, or the
 * error's message.
 */
static const char *entry(const char *hosts, int idx)
{
	static char out[300];
	char host[64];
	uint16_t port;

	if (server_list_entry(hosts, idx, 10809, host, sizeof(host),
			      &port) < 0)
		return client_last_error();
	snprintf(out, sizeof(out), "%s|%u", host, (unsigned)port);
	return out;
}

static void test_server_list(void)
{
	char longest[80];

	CHECK_EQ(server_list_count("a"), 1);
	CHECK_EQ(server_list_count("a,b@99,[::1]@7"), 3);
	CHECK_STR(entry("a,b@99,[::1]@7", 0), "a|10809");
	CHECK_STR(entry("a,b@99,[::1]@7", 1), "b|99");
	CHECK_STR(entry("a,b@99,[::1]@7", 2), "[::1]|7");
	CHECK_STR(entry("a,b@99,[::1]@7", 3),
		  "the server list \"a,b@99,[::1]@7\" has no server 4");
	CHECK_STR(entry("a,,b", 1), "server 2 of \"a,,b\" is empty");
	CHECK_STR(entry("a@0", 0),
		  "server 1 of \"a@0\": port \"0\" is not a number from 1 to 65535");
	CHECK_STR(entry("b,a@65536", 1),
		  "server 2 of \"b,a@65536\": port \"65536\" is not a number from 1 to 65535");
	CHECK_STR(entry("a@", 0),
		  "server 1 of \"a@\": port \"\" is not a number from 1 to 65535");
	CHECK_STR(entry("a@+5", 0),
		  "server 1 of \"a@+5\": port \"+5\" is not a number from 1 to 65535");
	CHECK_STR(entry("a@5x", 0),
		  "server 1 of \"a@5x\": port \"5x\" is not a number from 1 to 65535");
	CHECK_STR(entry("@5", 0), "server 1 of \"@5\" has no host before '@'");
	memset(longest, 'h', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	CHECK(strstr(entry(longest, 0), "is too long (79 > 63)") != NULL);

	/* a pass starts at -start's server and wraps around */
	CHECK_EQ(server_list_nth(3, 0, 0), 0);
	CHECK_EQ(server_list_nth(3, 0, 2), 2);
	CHECK_EQ(server_list_nth(3, 1, 0), 1);
	CHECK_EQ(server_list_nth(3, 1, 1), 2);
	CHECK_EQ(server_list_nth(3, 1, 2), 0);
	CHECK_EQ(server_list_nth(3, 2, 1), 0);
	CHECK_EQ(server_list_nth(1, 0, 0), 0);
}

static void make_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0 || close(fd) < 0) {
		perror(path);
		exit(2);
	}
}

/* Serves file on 127.0.0.1, one "nbd-server -s" per connection. */
/* conf: "nbd-server -s -C conf" (file unused), else "-s file". */
static pid_t serve(const char *file, const char *conf, uint16_t *port)
{
	int lfd = loopback_socket(SOCK_STREAM, 8, port), c;
	pid_t pid = fork();

	if (pid != 0) {
		close(lfd);
		return pid;
	}
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	for (;;) {
		c = accept(lfd, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			dup2(c, 0);
			dup2(c, 1);
			if (conf)
				execl(SERVER, "nbd-server", "-s", "-C", conf,
				      (char *)NULL);
			else
				execl(SERVER, "nbd-server", "-s", file,
				      (char *)NULL);
			_exit(127);
		}
		close(c);
	}
}

struct kernel {
	int calls, fail_first, sizes_ok;
	int stop_after;		/* stopped() says yes from this call on */
	int stopped_calls;
};

static int hand_over(void *ctx, int fd)
{
	struct kernel *k = ctx;

	k->calls++;
	CHECK(fcntl(fd, F_GETFD) >= 0);
	if (k->fail_first && k->calls == 1)
		return client_error("test: the kernel said no");
	return 0;
}

static int stopped(void *ctx)
{
	struct kernel *k = ctx;

	return ++k->stopped_calls > k->stop_after;
}

/* Runs reconnect(), its log (client_log() writes to fd 2) in log. */
static int run(struct reconnect *r, char *log, size_t len)
{
	char path[128];
	int fd, saved = dup(2), rc;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/log", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || saved < 0) {
		perror(path);
		exit(2);
	}
	dup2(fd, 2);
	rc = reconnect(r);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, len - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	fputs(log, stderr);
	return rc;
}

static void test_reconnect(const char *one_mib, const char *two_mib)
{
	struct client_opts o = { .device = "/dev/nbd9", .name = "" };
	struct export_info e = { .size = 1 << 20 };
	struct kernel k = { .stop_after = 100 };
	struct reconnect r = {
		.o = &o, .e = &e, .hand_over = hand_over, .stopped = stopped,
		.ctx = &k,
	};
	char hosts[128], log[4096];
	uint16_t good, other;
	pid_t a = serve(one_mib, NULL, &good),
	      b = serve(two_mib, NULL, &other);

	/* the first server is down: the second answers */
	snprintf(hosts, sizeof(hosts), "127.0.0.1@%u,127.0.0.1@%u",
		 loopback_dead_port(SOCK_STREAM), good);
	o.hosts = hosts;
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(k.calls, 1);
	CHECK_EQ(r.host, 1);
	CHECK(strstr(log, "connection lost; reconnecting") != NULL);
	CHECK(strstr(log, "Connection refused") != NULL);
	CHECK(strstr(log, "reconnected to server 2 of") != NULL);

	/* the next time starts with the server that answered last */
	k.calls = 0;
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(k.calls, 1);
	CHECK(strstr(log, "Connection refused") == NULL);

	/* the kernel refuses the first socket: the loop tries again */
	k.calls = 0;
	k.fail_first = 1;
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(k.calls, 2);
	CHECK(strstr(log, "reconnect: test: the kernel said no") != NULL);

	/*
	 * a daemon that attached to server 2 (-start, spreading) fails over
	 * from there: server 2 is dead, server 3 answers, not server 1
	 */
	snprintf(hosts, sizeof(hosts), "127.0.0.1@%u,127.0.0.1@%u,127.0.0.1@%u",
		 good, loopback_dead_port(SOCK_STREAM), good);
	k.calls = 0;
	k.fail_first = 0;
	r.host = 1;
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(r.host, 2);
	CHECK(strstr(log, "Connection refused") != NULL);
	CHECK(strstr(log, "reconnected to server 3 of") != NULL);

	/* an export whose size changed is refused until stopped */
	snprintf(hosts, sizeof(hosts), "127.0.0.1@%u", other);
	k.calls = 0;
	k.stopped_calls = 0;
	k.stop_after = 2;
	r.host = 0;
	CHECK_EQ(run(&r, log, sizeof(log)), -1);
	CHECK_EQ(k.calls, 0);
	CHECK(strstr(log, "refusing server 1: export size is now 2097152, was 1048576") != NULL);

	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
}

static char one[128], two[128];

/* The first 512 bytes of the export on fd (in transmission), into buf. */
static int read_head(int fd, unsigned char *buf)
{
	unsigned char rq[28] = { 0x25, 0x60, 0x95, 0x13 }, rep[16];

	memset(rq + 4, 0, 24);
	rq[26] = 2;	/* length 512, big-endian, at offset 0 */
	if (write(fd, rq, sizeof(rq)) != (ssize_t)sizeof(rq) ||
	    recv(fd, rep, sizeof(rep), MSG_WAITALL) != (ssize_t)sizeof(rep) ||
	    rep[4] | rep[5] | rep[6] | rep[7])
		return -1;
	return recv(fd, buf, 512, MSG_WAITALL) == 512 ? 0 : -1;
}

static unsigned char seen[512];

/* The kernel's part for generations: what the new socket serves. */
static int hand_over_read(void *ctx, int fd)
{
	struct kernel *k = ctx;

	k->calls++;
	CHECK_EQ(read_head(fd, seen), 0);
	return 0;
}

/* A file of 1 MiB filled with byte v, renamed over path. */
static void write_image(const char *path, int v)
{
	unsigned char buf[4096];
	char tmp[160];
	int fd, i;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	memset(buf, v, sizeof(buf));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (i = 0; fd >= 0 && i < 256; i++)
		CHECK_EQ(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	CHECK(fd >= 0 && close(fd) == 0 && rename(tmp, path) == 0);
}

/*
 * nbd-server with generationdir: the first GO names "room@ID"; after the
 * image is renamed over, reconnect asks for that name and gets the old
 * bytes; once the generation is deleted, it waits (logging why) instead
 * of taking the new image.
 */
static void test_reconnect_generation(void)
{
	struct client_opts o = { .device = "/dev/nbd9", .name = "room" };
	struct export_info e;
	struct kernel k = { .stop_after = 100 };
	struct reconnect r = {
		.o = &o, .e = &e, .hand_over = hand_over_read,
		.stopped = stopped, .ctx = &k,
	};
	char img[160], gendir[160], conf[160], hosts[64], link[4400];
	char log[4096];
	struct passwd *pw = getpwnam("nobody");
	uint16_t port;
	pid_t srv;
	FILE *f;
	int fd;

	snprintf(img, sizeof(img), "%s/room.img", dir);
	snprintf(gendir, sizeof(gendir), "%s/gen", dir);
	snprintf(conf, sizeof(conf), "%s/nbd.conf", dir);
	CHECK_EQ(mkdir(gendir, 0700), 0);
	/* as root, the server's child runs as nobody: the directory is its */
	if (geteuid() == 0 && pw)
		CHECK(chmod(dir, 0755) == 0 &&
		      chown(gendir, pw->pw_uid, pw->pw_gid) == 0);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	fprintf(f, "[generic]\n[room]\nexportname = %s\nreadonly = true\ngenerationdir = %s\n",
		img, gendir);
	fclose(f);
	write_image(img, 'A');
	srv = serve(NULL, conf, &port);
	snprintf(hosts, sizeof(hosts), "127.0.0.1@%u", port);
	o.hosts = hosts;

	fd = server_list_open(&o, 0, &e);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(strncmp(e.canon, "room@", 5), 0);
	write_image(img, 'B');
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(k.calls, 1);
	CHECK_EQ(seen[0], 'A');
	CHECK_EQ(seen[511], 'A');

	/* a plain GO now gets the new image, under another name */
	{
		struct export_info now;

		fd = server_list_open(&o, 0, &now);
		CHECK(fd >= 0 && read_head(fd, seen) == 0 && seen[0] == 'B');
		CHECK(strcmp(now.canon, e.canon) != 0);
		close(fd);
	}

	/* the old generation deleted: waits until stopped, never attaches */
	snprintf(link, sizeof(link), "%s/%s", gendir, e.canon);
	CHECK_EQ(unlink(link), 0);
	k.calls = 0;
	k.stopped_calls = 0;
	k.stop_after = 2;
	CHECK_EQ(run(&r, log, sizeof(log)), -1);
	CHECK_EQ(k.calls, 0);
	CHECK(strstr(log, "is gone from the server; waiting for it, never attaching another") != NULL);

	/* a server that names no canonical export: the name we were given */
	e.canon[0] = '\0';
	k.stop_after = 100;
	k.stopped_calls = 0;
	CHECK_EQ(run(&r, log, sizeof(log)), 0);
	CHECK_EQ(k.calls, 1);
	CHECK_EQ(seen[0], 'B');

	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	snprintf(link, sizeof(link), "rm -rf %s %s %s", gendir, img, conf);
	CHECK_EQ(system(link), 0);
}

static void test_reconnect_both(void)
{
	test_reconnect(one, two);
}

int main(int argc, char **argv)
{
	unit_start(argc, argv);

	if (access(SERVER, X_OK) < 0) {
		printf("SKIP: %s not built (make)\n", SERVER);
		return 77;
	}
	if (!mkdtemp(dir))
		return 2;
	snprintf(one, sizeof(one), "%s/one", dir);
	snprintf(two, sizeof(two), "%s/two", dir);
	make_file(one, 1 << 20);
	make_file(two, 2 << 20);

	RUN(test_server_list);
	RUN(test_reconnect_both);
	RUN(test_reconnect_generation);

	unlink(one);
	unlink(two);
	rmdir(dir);
	return unit_done("test-client-reconnect");
}
