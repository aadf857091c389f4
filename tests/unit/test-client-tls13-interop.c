// unit: client
/*
 * Our TLS 1.3 client against real GnuTLS servers: nbdkit
 * --tls=require --tls-psk=FILE on a socketpair (nbdkit -s), and qemu-nbd
 * with tls-creds-psk on a unix socket (DIR/keys.psk). The client
 * sends NBD_OPT_STARTTLS in plaintext, runs the handshake with the
 * client/tls state machine, then negotiates inside TLS (NBD_OPT_GO) and
 * writes and reads back 40000 bytes (several records each way). A wrong
 * key and an unknown identity must fail the handshake (nbdkit closes the
 * connection without an alert: the caller reports the EOF).
 * Skipped (77) without nbdkit; the qemu-nbd part without qemu-nbd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "byteorder.h"
#include "nbd-proto.h"
#include "tls/tls13.h"
#include "unit.h"

#define IDENTITY "lab-17"
#define DATA_LEN 40000

static const uint8_t key[32] = {
	0x3c, 0x8b, 0x1e, 0x55, 0x09, 0xd2, 0x47, 0xaa, 0x61, 0x0f, 0x93,
	0x2e, 0xc4, 0x7d, 0x18, 0xb6, 0x5a, 0xe3, 0x04, 0x9f, 0x72, 0x2b,
	0xd8, 0x41, 0x6e, 0xf5, 0x13, 0x8c, 0x37, 0xa0, 0x59, 0xce,
};

static struct tls13_client c;
static char dir[] = "/tmp/nbdroot-tls-XXXXXX";
static char psk_file[64];

static int read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	ssize_t r;

	while (n) {
		r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r, n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t r;

	while (n) {
		r = write(fd, p, n);
		if (r <= 0)
			return -1;
		p += r, n -= (size_t)r;
	}
	return 0;
}

static pid_t start_nbdkit(int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[0]);
		execlp("nbdkit", "nbdkit", "-s", "--exit-with-parent",
		       "--tls=require", "--tls-psk", psk_file,
		       "memory", "1M", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* qemu-nbd serving a 1 MiB image on DIR/sock, for one connection */
static pid_t start_qemu_nbd(int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char img[64], obj[128];
	pid_t pid;
	int i;

	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	snprintf(obj, sizeof(obj),
		 "tls-creds-psk,id=t,dir=%s,endpoint=server", dir);
	i = open(img, O_CREAT | O_WRONLY, 0600);
	if (i < 0 || ftruncate(i, 1 << 20) < 0)
		return -1;
	close(i);
	pid = fork();
	if (pid == 0) {
		execlp("qemu-nbd", "qemu-nbd", "-k", sa.sun_path, "-f", "raw",
		       "--object", obj, "--tls-creds", "t", img, (char *)NULL);
		_exit(127);
	}
	*fd = socket(AF_UNIX, SOCK_STREAM, 0);
	/* bounded wait for the socket: 200 x 50 ms */
	for (i = 0; i < 200; i++) {
		if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return pid;
		usleep(50000);
	}
	kill(pid, SIGTERM);
	return -1;
}

static int send_option(int fd, uint32_t opt, const void *data, uint32_t len,
		       int tls)
{
	uint8_t b[TLS13_SEAL_OVERHEAD + 64], hdr[16];
	size_t n;

	put_be64(hdr, NBD_IHAVEOPT);
	put_be32(hdr + 8, opt);
	put_be32(hdr + 12, len);
	if (!tls)
		return write_full(fd, hdr, 16);
	memcpy(b, hdr, 16);
	memcpy(b + 16, data, len);
	n = tls13_client_seal(&c, b, 16 + len, b);
	return n ? write_full(fd, b, n) : -1;
}

/* plaintext newstyle greeting, then STARTTLS and its ACK */
static int starttls(int fd)
{
	uint8_t b[20];

	if (read_full(fd, b, NBD_GREETING_SIZE) < 0 ||
	    get_be64(b) != NBD_MAGIC || get_be64(b + 8) != NBD_IHAVEOPT)
		return -1;
	put_be32(b, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	if (write_full(fd, b, 4) < 0 || send_option(fd, NBD_OPT_STARTTLS,
						   NULL, 0, 0) < 0)
		return -1;
	if (read_full(fd, b, 20) < 0 || get_be64(b) != NBD_REP_MAGIC ||
	    get_be32(b + 8) != NBD_OPT_STARTTLS ||
	    get_be32(b + 12) != NBD_REP_ACK)
		return -1;
	return 0;
}

/* one record at a time, never more than it needs */
static enum tls13_event next_event(int fd)
{
	enum tls13_event ev;
	uint8_t b[TLS13_MAX_RECORD];
	size_t want, used;

	for (;;) {
		want = tls13_client_want(&c);
		if (want == 0 || read_full(fd, b, want) < 0)
			return TLS13_ERROR;
		ev = tls13_client_feed(&c, b, want, &used);
		if (ev != TLS13_NEED_MORE)
			return ev;
	}
}

static const char *handshake(int fd, const uint8_t *k, const char *identity)
{
	uint8_t random[32], priv[32];
	struct tls13_config cfg = {
		.identity = (const uint8_t *)identity,
		.identity_len = strlen(identity),
		.key = k,
		.key_len = 32,
		.random = random,
		.x25519_priv = priv,
	};

	if (getentropy(random, sizeof(random)) < 0 ||
	    getentropy(priv, sizeof(priv)) < 0)
		return "getentropy failed";
	if (tls13_client_start(&c, &cfg) < 0)
		return c.err;
	if (write_full(fd, c.out, c.out_len) < 0)
		return "write ClientHello failed";
	if (next_event(fd) != TLS13_HANDSHAKE_DONE)
		return c.err[0] ? c.err : "server closed the connection";
	if (write_full(fd, c.out, c.out_len) < 0)
		return "write Finished failed";
	return NULL;
}

/* application bytes, gathered across records */
static int tls_read(int fd, uint8_t *buf, size_t n)
{
	static uint8_t pending[TLS13_MAX_PLAINTEXT];
	static size_t pend_off, pend_len;
	size_t k;

	while (n) {
		if (pend_len == 0) {
			if (next_event(fd) != TLS13_APP_DATA)
				return -1;
			memcpy(pending, c.app, c.app_len);
			pend_off = 0;
			pend_len = c.app_len;
		}
		k = n < pend_len ? n : pend_len;
		memcpy(buf, pending + pend_off, k);
		buf += k, n -= k, pend_off += k, pend_len -= k;
	}
	return 0;
}

static int tls_write(int fd, const uint8_t *buf, size_t n)
{
	static uint8_t rec[TLS13_MAX_PLAINTEXT + TLS13_SEAL_OVERHEAD];
	size_t k, len;

	while (n) {
		k = n < TLS13_MAX_PLAINTEXT ? n : TLS13_MAX_PLAINTEXT;
		len = tls13_client_seal(&c, buf, k, rec);
		if (!len || write_full(fd, rec, len) < 0)
			return -1;
		buf += k, n -= k;
	}
	return 0;
}

/* NBD_OPT_GO for the default export inside TLS: replies until ACK */
static int go(int fd, uint64_t *size)
{
	uint8_t b[512];
	uint32_t type, len;

	if (send_option(fd, NBD_OPT_GO, "\0\0\0\0\0\0", 6, 1) < 0)
		return -1;
	for (;;) {
		if (tls_read(fd, b, 20) < 0 || get_be64(b) != NBD_REP_MAGIC)
			return -1;
		type = get_be32(b + 12);
		len = get_be32(b + 16);
		if (len > sizeof(b) || tls_read(fd, b, len) < 0)
			return -1;
		if (type == NBD_REP_ACK)
			return 0;
		if (type != NBD_REP_INFO)
			return -1;
		if (len >= 12 && get_be16(b) == NBD_INFO_EXPORT)
			*size = get_be64(b + 2);
	}
}

static int request(int fd, uint16_t cmd, uint64_t handle, uint32_t len)
{
	uint8_t r[28];

	put_be32(r, NBD_REQUEST_MAGIC_V);
	put_be16(r + 4, 0);
	put_be16(r + 6, cmd);
	put_be64(r + 8, handle);
	put_be64(r + 16, 4096);
	put_be32(r + 24, len);
	return tls_write(fd, r, sizeof(r));
}

static int reply_ok(int fd, uint64_t handle)
{
	uint8_t r[16];

	return tls_read(fd, r, 16) == 0 &&
	       get_be32(r) == NBD_SIMPLE_REPLY_MAGIC && get_be32(r + 4) == 0 &&
	       get_be64(r + 8) == handle;
}

static void test_session(pid_t (*start)(int *fd))
{
	static uint8_t data[DATA_LEN], back[DATA_LEN];
	uint64_t size = 0;
	const char *err;
	size_t i;
	int fd;
	pid_t pid = start(&fd);

	CHECK(pid > 0);
	CHECK(starttls(fd) == 0);
	err = handshake(fd, key, IDENTITY);
	if (err)
		fprintf(stderr, "handshake: %s\n", err);
	CHECK(err == NULL);
	CHECK(go(fd, &size) == 0);
	CHECK_EQ(size, 1 << 20);
	for (i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	CHECK(request(fd, NBD_CMD_WRITE, 1, DATA_LEN) == 0);
	CHECK(tls_write(fd, data, DATA_LEN) == 0);
	CHECK(reply_ok(fd, 1));
	CHECK(request(fd, NBD_CMD_READ, 2, DATA_LEN) == 0);
	CHECK(reply_ok(fd, 2));
	CHECK(tls_read(fd, back, DATA_LEN) == 0);
	CHECK_MEM(back, data, DATA_LEN);
	/* records were counted on both sides: the kTLS sequence numbers */
	CHECK(c.tx.seq >= 5 && c.rx.seq >= 5);
	fprintf(stderr, "session: %llu records sent, %llu received\n",
		(unsigned long long)c.tx.seq, (unsigned long long)c.rx.seq);
	request(fd, NBD_CMD_DISC, 3, 0);
	close(fd);
	/* qemu-nbd (without --persistent) exits after its one client */
	waitpid(pid, NULL, 0);
	tls13_client_wipe(&c);
}

static const char *failed_handshake(const uint8_t *k, const char *identity)
{
	const char *err;
	int fd;
	pid_t pid = start_nbdkit(&fd);

	CHECK(starttls(fd) == 0);
	err = handshake(fd, k, identity);
	close(fd);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "%s / %s: %s\n", identity, k == key ? "key" : "wrong key",
		err ? err : "(no error)");
	return err;
}

static void test_nbdkit(void)
{
	test_session(start_nbdkit);
}

static void test_qemu_nbd(void)
{
	if (system("command -v qemu-nbd >/dev/null") == 0)
		test_session(start_qemu_nbd);
	else
		printf("qemu-nbd not installed: only nbdkit tested\n");
}

/* a wrong key and an unknown identity: the GnuTLS server just closes */
static void test_refused(void)
{
	uint8_t wrong[32];
	const char *err;

	memcpy(wrong, key, sizeof(wrong));
	wrong[31] ^= 1;
	err = failed_handshake(wrong, IDENTITY);
	CHECK(err && strstr(err, "closed"));
	err = failed_handshake(key, "nobody");
	CHECK(err && strstr(err, "closed"));
}

int main(int argc, char **argv)
{
	char img[64];
	FILE *f;
	int i;

	unit_start(argc, argv);
	if (system("command -v nbdkit >/dev/null") != 0) {
		printf("nbdkit not installed\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return 1;
	snprintf(psk_file, sizeof(psk_file), "%s/keys.psk", dir);
	f = fopen(psk_file, "w");
	if (!f)
		return 1;
	fprintf(f, "other:%064d\n%s:", 0, IDENTITY);
	for (i = 0; i < 32; i++)
		fprintf(f, "%02x", key[i]);
	fprintf(f, "\n");
	fclose(f);
	chmod(psk_file, 0600);

	RUN(test_nbdkit);
	RUN(test_qemu_nbd);
	RUN(test_refused);

	unlink(psk_file);
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	unlink(img);
	rmdir(dir);
	return unit_done("test-client-tls13-interop");
}
