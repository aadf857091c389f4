/*
 * storm: N NBD clients replay a recorded boot at once, against a server
 * or (-f) against the image file alone, and report how long they took.
 *
 * usage: storm [options] TRACE HOST PORT
 *        storm -f -i IMAGE [options] TRACE
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storm.h"

#define MAX_CLIENTS	4096

static const char usage[] =
"usage: storm [-n CLIENTS] [-s SPREAD] [-t DEADLINE] [-x SPEED] [-e EXPORT]\n"
"             [-a FIRST-SOURCE-ADDR] [-i IMAGE [-v]] [-p SERVER-PID]\n"
"             [-c CLIENTS-FILE] [-P] TRACE HOST PORT\n"
"       storm -f -i IMAGE [-n CLIENTS] [-s SPREAD] [-t DEADLINE] [-x SPEED]\n"
"             [-c CLIENTS-FILE] TRACE\n";

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

uint64_t due_us(const struct run *r, uint32_t i)
{
	/* the schedule starts at the first request, not at the boot's connect */
	return (r->t->reqs[i].at_us - r->t->reqs[0].at_us) / r->speed;
}

int image_read(const struct run *r, void *buf, uint32_t len, uint64_t off)
{
	ssize_t n = 0;

	if (r->img_fd >= 0)
		n = pread(r->img_fd, buf, len, off);
	if (n < 0)
		return -1;
	memset((char *)buf + n, 0, len - n);
	return 0;
}

void note_read(struct run *r, const void *buf, uint32_t len, uint64_t off)
{
	static char *want;
	static uint32_t wantlen;

	if (!r->verify)
		return;
	if (len > wantlen) {
		free(want);
		want = malloc(len);
		wantlen = want ? len : 0;
	}
	if (!want || image_read(r, want, len, off) < 0 ||
	    memcmp(want, buf, len)) {
		if (!r->mismatches++)
			r->first_mismatch = off;
	}
}

/* The kernel's TcpExt counter NAME from /proc/net/netstat, or -1. */
static long long tcpext(const char *name)
{
	char names[4096], values[4096], *n, *v, *sn, *sv;
	long long found = -1;
	FILE *f = fopen("/proc/net/netstat", "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names + 7, " \n", &sn);
		v = strtok_r(values + 7, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn),
		     v = strtok_r(NULL, " \n", &sv))
			if (!strcmp(n, name))
				found = atoll(v);
	}
	fclose(f);
	return found;
}

/* CPU seconds of a process and its reaped children, or -1. */
static double cpu_seconds(long pid)
{
	unsigned long long ut, st, cut, cst;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			 &ut, &st, &cut, &cst) != 4)
		return -1;
	return (double)(ut + st + cut + cst) / sysconf(_SC_CLK_TCK);
}

/*
 * CPU seconds of pid and of every process under it: each one's own and
 * its reaped children's, and each child still alive in turn (its time
 * is in no one's cutime yet: our server's waiting pool, or a cow-each
 * instance whose client never finished). -1 when pid is gone.
 */
static double cpu_tree(long pid, int depth)
{
	char path[96];
	double sum = cpu_seconds(pid);
	struct dirent *t;
	long child;
	DIR *tasks;
	FILE *f;

	if (sum < 0 || depth >= 8)
		return sum;
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	tasks = opendir(path);
	if (!tasks)
		return sum;
	while ((t = readdir(tasks))) {
		long tid = strtol(t->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
			 pid, tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fscanf(f, "%ld", &child) == 1) {
			double c = cpu_tree(child, depth + 1);

			if (c > 0)
				sum += c;
		}
		fclose(f);
	}
	closedir(tasks);
	return sum;
}

/*
 * Waits (3 s at most) until the server has reaped every child, so that
 * their CPU time is in its cutime and cstime.
 */
static void await_children(long pid)
{
	char path[80], c;
	int i, n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
	for (i = 0; i < 300; i++) {
		f = fopen(path, "r");
		if (!f)
			return;
		n = fread(&c, 1, 1, f);
		fclose(f);
		if (n == 0)
			return;
		usleep(10000);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void note_latency(struct run *r, enum req_type type, uint64_t us)
{
	uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;

	r->lat_us[r->nlat++] = v;
	if (type == REQ_READ)
		r->rlat_us[r->nrlat++] = v;
}

void note_issue(const struct run *r, struct client *c, uint64_t now)
{
	uint64_t due = c->ready_us + due_us(r, c->next);

	if (now > due && now - due > c->late_us)
		c->late_us = now - due;
}

void note_done(const struct run *r, struct client *c,
	       const struct trace_req *q, uint64_t us)
{
	if (q == &r->t->reqs[r->t->n - 1])
		c->last_us = us;
}

static const char *state_name(enum client_state s)
{
	return s == CL_DONE ? "done" : s == CL_FAILED ? "failed" : "stuck";
}

/*
 * -c FILE: one line per client, "CLIENT STATE CONNECT_MS FINISH_S
 * LATE_MS LAST_MS" ("-" for what a client that did not finish lacks).
 * 0, or -1 when FILE cannot be written (said).
 */
static int write_clients(const struct run *r, const char *path)
{
	FILE *f = fopen(path, "w");
	const struct client *c;
	unsigned int i;

	if (!f) {
		fprintf(stderr, "storm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		c = &r->cl[i];
		if (c->state == CL_DONE)
			fprintf(f, "%u done %.3f %.6f %.3f %.3f\n", i,
				(c->ready_us - c->start_us) / 1e3,
				(c->done_us - c->start_us) / 1e6,
				c->late_us / 1e3, c->last_us / 1e3);
		else
			fprintf(f, "%u %s - - - -\n", i, state_name(c->state));
	}
	if (fclose(f) == 0)
		return 0;
	fprintf(stderr, "storm: %s: %s\n", path, strerror(errno));
	return -1;
}

static double pct_ms(const uint32_t *v, uint64_t n, double p)
{
	return n ? v[(uint64_t)(p * (n - 1))] / 1000.0 : 0;
}

/* Prints the result line: key=value pairs, times in seconds or ms. */
static void report(struct run *r, long long ovf, long long syn, double cpu)
{
	uint64_t *fin = calloc(r->n, sizeof(*fin));
	uint64_t *con = calloc(r->n, sizeof(*con));
	unsigned int i, done = 0, failed = 0, stuck = 0;
	struct client *c;

	for (i = 0; fin && con && i < r->n; i++) {
		c = &r->cl[i];
		if (c->state == CL_DONE) {
			fin[done] = c->done_us - c->start_us;
			con[done++] = c->ready_us - c->start_us;
		} else if (c->state == CL_FAILED) {
			failed++;
			if (failed <= 3)
				fprintf(stderr, "storm: client %u: %s\n", i, c->why);
		} else {
			stuck++;
		}
	}
	qsort(fin, done, sizeof(*fin), cmp_u64);
	qsort(con, done, sizeof(*con), cmp_u64);
	qsort(r->lat_us, r->nlat, sizeof(*r->lat_us), cmp_u32);
	qsort(r->rlat_us, r->nrlat, sizeof(*r->rlat_us), cmp_u32);
	printf("n=%u done=%u failed=%u stuck=%u requests=%" PRIu64
	       " trace_requests=%u max_outstanding=%u mismatches=%" PRIu64
	       " slowest=%.4f median=%.4f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f"
	       " read_p50_ms=%.3f read_p99_ms=%.3f read_p999_ms=%.3f"
	       " connect_med_ms=%.1f connect_max_ms=%.1f"
	       " listen_overflows=%lld syncookies=%lld server_cpu=%.2f\n",
	       r->n, done, failed, stuck, r->nlat, r->t->n, r->max_busy,
	       r->mismatches,
	       done ? fin[done - 1] / 1e6 : 0, done ? fin[done / 2] / 1e6 : 0,
	       pct_ms(r->lat_us, r->nlat, 0.5), pct_ms(r->lat_us, r->nlat, 0.99),
	       pct_ms(r->lat_us, r->nlat, 0.999),
	       pct_ms(r->rlat_us, r->nrlat, 0.5),
	       pct_ms(r->rlat_us, r->nrlat, 0.99),
	       pct_ms(r->rlat_us, r->nrlat, 0.999),
	       done ? con[done / 2] / 1e3 : 0, done ? con[done - 1] / 1e3 : 0,
	       ovf, syn, cpu);
	if (r->mismatches)
		fprintf(stderr, "storm: %" PRIu64 " reads differ from the image, the first at offset %" PRIu64 "\n",
			r->mismatches, r->first_mismatch);
	free(fin);
	free(con);
}

struct opts {
	struct run r;
	int floor;
	long server_pid;
	const char *image;
	const char *clients;	/* -c: per-client lines go here */
};

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < lo || *out > hi ? -1 : 0;
}

/* Whole numbers only: clients, pids, ports. */
static int parse_int(const char *s, double lo, double hi, double *out)
{
	return parse_num(s, lo, hi, out) || *out != (long)*out ? -1 : 0;
}

/* Takes option ch; returns what its value should be, or NULL. */
static const char *parse_opt(int ch, const char *arg, struct opts *o)
{
	struct in_addr a;
	double v;

	switch (ch) {
	case 'n':
		if (parse_int(arg, 1, MAX_CLIENTS, &v))
			return "clients (1..4096)";
		o->r.n = v;
		return NULL;
	case 's':
		return parse_num(arg, 0, 3600, &o->r.spread_s) ?
		       "spread (0..3600 s)" : NULL;
	case 't':
		return parse_num(arg, 0.1, 86400, &o->r.deadline_s) ?
		       "deadline (0.1..86400 s)" : NULL;
	case 'x':
		return parse_num(arg, 0.01, 1000, &o->r.speed) ?
		       "speed (0.01..1000)" : NULL;
	case 'a':
		if (inet_pton(AF_INET, arg, &a) != 1)
			return "first source address (IPv4)";
		o->r.src_base = ntohl(a.s_addr);
		return NULL;
	case 'p':
		if (parse_int(arg, 1, 1 << 22, &v))
			return "server pid";
		o->server_pid = v;
		return NULL;
	}
	return NULL;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	const char *bad;
	double v;
	int ch;

	while ((ch = getopt(argc, argv, "n:s:t:x:e:a:i:vp:fc:P")) != -1) {
		if (ch == '?') {
			fputs(usage, stderr);
			return -1;
		}
		if (ch == 'e')
			o->r.export_name = optarg;
		else if (ch == 'i')
			o->image = optarg;
		else if (ch == 'v')
			o->r.verify = 1;
		else if (ch == 'f')
			o->floor = 1;
		else if (ch == 'c')
			o->clients = optarg;
		else if (ch == 'P')
			o->r.port_each = 1;
		bad = parse_opt(ch, optarg, o);
		if (bad) {
			fprintf(stderr, "storm: -%c: want %s, got \"%s\"\n",
				ch, bad, optarg);
			return -1;
		}
	}
	if (argc - optind != (o->floor ? 1 : 3) || (o->floor && !o->image) ||
	    (o->r.verify && !o->image)) {
		fputs(usage, stderr);
		return -1;
	}
	if (!o->floor) {
		o->r.host = argv[optind + 1];
		if (parse_int(argv[optind + 2], 1, 65535, &v)) {
			fprintf(stderr, "storm: bad port \"%s\"\n", argv[optind + 2]);
			return -1;
		}
		o->r.port = v;
	}
	if (o->r.port_each && o->r.port + o->r.n - 1 > 65535) {
		fprintf(stderr, "storm: -P: %u clients from port %u reach past 65535\n",
			o->r.n, o->r.port);
		return -1;
	}
	return 0;
}

static int load(const char *path, struct trace *t)
{
	char why[256];
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		fprintf(stderr, "storm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = trace_load(f, t, why, sizeof(why));
	fclose(f);
	if (rc < 0)
		fprintf(stderr, "storm: %s: %s\n", path, why);
	return rc;
}

static int setup(struct opts *o, struct trace *t)
{
	struct run *r = &o->r;
	unsigned int i;
	off_t size;

	r->t = t;
	r->img_fd = -1;
	if (o->image) {
		r->img_fd = open(o->image, o->floor ? O_RDWR : O_RDONLY);
		if (r->img_fd < 0) {
			fprintf(stderr, "storm: %s: %s\n", o->image, strerror(errno));
			return -1;
		}
		size = lseek(r->img_fd, 0, SEEK_END);
		if (size < 0 || (uint64_t)size < trace_extent(t)) {
			fprintf(stderr, "storm: %s: %lld bytes, the trace reaches %" PRIu64 "\n",
				o->image, (long long)size, trace_extent(t));
			return -1;
		}
	}
	r->cl = calloc(r->n, sizeof(*r->cl));
	r->lat_us = calloc((uint64_t)r->n * t->n, sizeof(*r->lat_us));
	r->rlat_us = calloc((uint64_t)r->n * t->n, sizeof(*r->rlat_us));
	if (!r->cl || !r->lat_us || !r->rlat_us) {
		fprintf(stderr, "storm: %u clients: out of memory\n", r->n);
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		r->cl[i].fd = -1;
		r->cl[i].start_us = r->n > 1 ? r->spread_s * 1e6 * i / (r->n - 1) : 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .r = { .n = 1, .deadline_s = 300, .speed = 1,
				 .src_base = 0x7f000002, .export_name = "" } };
	long long ovf, syn;
	double cpu0 = 0, cpu = -1;
	struct trace t;
	unsigned int i;
	uint64_t t0;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (load(argv[optind], &t) < 0 || setup(&o, &t) < 0)
		return 1;
	if (o.server_pid)
		cpu0 = cpu_tree(o.server_pid, 0);
	ovf = tcpext("ListenOverflows");
	syn = tcpext("SyncookiesSent");
	t0 = now_us();
	rc = o.floor ? replay_floor(&o.r, t0) : replay_net(&o.r, t0);
	if (rc < 0) {
		fprintf(stderr, "storm: replay: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < o.r.n; i++)
		close_client(&o.r.cl[i]);
	if (o.server_pid) {
		await_children(o.server_pid);
		cpu = cpu_tree(o.server_pid, 0);
		if (cpu >= 0)	/* else the server was gone: -1, no figure */
			cpu -= cpu0;
	}
	report(&o.r, tcpext("ListenOverflows") - ovf,
	       tcpext("SyncookiesSent") - syn, cpu);
	if (o.clients && write_clients(&o.r, o.clients) < 0)
		return 1;
	for (i = 0; i < o.r.n; i++)
		if (o.r.cl[i].state != CL_DONE)
			return 1;
	return o.r.mismatches ? 1 : 0;
}
