// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for the flush-contract test (tests/unit/flush-contract.sh):
 * logs, in the order they happen, every write to a regular file, every
 * sync call as it returns and every NBD reply as it is about to be sent,
 * so the test can prove that each FLUSH or FUA reply left only after a
 * successful sync of each file the connection had written.
 *
 *   NBDROOT_SHIM_LOG=PATH       append one line per event (required)
 *   NBDROOT_SHIM_FAIL_SYNC=PATH if PATH exists, the next sync call in any
 *                               process fails with EIO and removes PATH
 *                               (one failure, as a disk's error is seen
 *                               once by fsync and then forgotten)
 *
 * Lines: "SEQ PID write fd FD PATH", "SEQ PID sync fd FD HOW rc RC PATH",
 * "SEQ PID syncfs fd FD rc RC", "SEQ PID mmap fd FD len LEN PATH" (a
 * shared, writable mapping of a file: stores to it are writes the shim
 * cannot see), "SEQ PID msync rc RC PATH" (the file mapped at the address
 * given, "?" when none is known; MS_SYNC only, MS_ASYNC waits for nothing),
 * "SEQ PID writeback fd FD off OFF len LEN rc RC PATH" (writeback started),
 * "SEQ PID reply fd FD cookie C error E". The log is opened O_APPEND and
 * each line is one write(2), so line order is the order of the events
 * across the server's processes; SEQ counts per process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define SIMPLE_MAGIC	0x67446698u
#define CHUNK_MAGIC	0x668e33efu

static unsigned long seq;
static int log_fd = -1;
static pid_t log_pid;

static void emit(const char *fmt, ...)
{
	char line[PATH_MAX + 128];
	const char *path;
	va_list ap;
	int n, m;

	if (log_pid != getpid()) {
		path = getenv("NBDROOT_SHIM_LOG");
		log_fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT |
				     O_CLOEXEC, 0644) : -1;
		log_pid = getpid();
		seq = 0;
	}
	if (log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lu %d ", ++seq, (int)log_pid);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m < (int)(sizeof(line) - (size_t)n - 1) ? m :
	     (int)(sizeof(line) - (size_t)n - 2);
	line[n++] = '\n';
	/* the raw system call: write() itself is wrapped below */
	syscall(SYS_write, log_fd, line, (size_t)n);
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static int is_file(int fd)
{
	struct stat st;

	return fd != log_fd && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The file behind fd, "?" when unknown: syncs act on files, not fds. */
static const char *fd_path(int fd, char *path, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, size - 1);
	if (n <= 0)
		return "?";
	path[n] = '\0';
	return path;
}

static void note_file_write(int fd)
{
	char path[PATH_MAX];

	if (is_file(fd))
		emit("write fd %d %s", fd, fd_path(fd, path, sizeof(path)));
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/*
 * Walks the replies at the start of a buffer: simple replies without data
 * (the test reads nothing) and structured chunks by their length.
 */
static void note_replies(int fd, const unsigned char *p, size_t len)
{
	uint32_t magic;

	while (len >= 16) {
		magic = be32(p);
		if (magic == SIMPLE_MAGIC) {
			emit("reply fd %d cookie %llu error %u", fd,
			     (unsigned long long)be64(p + 8), be32(p + 4));
			p += 16;
			len -= 16;
		} else if (magic == CHUNK_MAGIC && len >= 20 &&
			   len - 20 >= be32(p + 16)) {
			emit("reply fd %d cookie %llu chunk", fd,
			     (unsigned long long)be64(p + 8));
			len -= 20 + be32(p + 16);
			p += 20 + be32(p + 16);
		} else {
			return;
		}
	}
}

/* Gathers up to 4 KiB of an iovec so replies split across it are seen. */
static void note_iov(int fd, const struct iovec *iov, int cnt)
{
	unsigned char buf[4096];
	size_t n = 0, k;
	int i;

	if (!is_socket(fd))
		return;
	for (i = 0; i < cnt && n < sizeof(buf); i++) {
		k = iov[i].iov_len < sizeof(buf) - n ? iov[i].iov_len :
		    sizeof(buf) - n;
		memcpy(buf + n, iov[i].iov_base, k);
		n += k;
	}
	note_replies(fd, buf, n);
}

static void note_buf(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (is_file(fd))
		note_file_write(fd);
	else
		note_iov(fd, &iov, 1);
}

/* 1 when this sync is the one made to fail. */
static int fail_now(void)
{
	const char *path = getenv("NBDROOT_SHIM_FAIL_SYNC");

	return path && unlink(path) == 0;
}

static int sync_result(int fd, const char *how, int r)
{
	char path[PATH_MAX];
	int e = errno;

	if (r == 0 && fail_now()) {
		r = -1;
		e = EIO;
	}
	emit("sync fd %d %s rc %d %s", fd, how, r,
	     fd_path(fd, path, sizeof(path)));
	errno = e;
	return r;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = next("write");
	note_buf(fd, buf, len);
	return real(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);

	if (!real)
		real = next("send");
	note_buf(fd, buf, len);
	return real(fd, buf, len, flags);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static ssize_t (*real)(int, const struct iovec *, int);

	if (!real)
		real = next("writev");
	if (is_file(fd))
		note_file_write(fd);
	else
		note_iov(fd, iov, cnt);
	return real(fd, iov, cnt);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);

	if (!real)
		real = next("sendmsg");
	note_iov(fd, msg->msg_iov, (int)msg->msg_iovlen);
	return real(fd, msg, flags);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		real = next("pwrite");
	note_file_write(fd);
	return real(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);

	if (!real)
		real = next("pwritev");
	note_file_write(fd);
	return real(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = next("fsync");
	return sync_result(fd, "fsync", real(fd));
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = next("fdatasync");
	return sync_result(fd, "fdatasync", real(fd));
}

/*
 * Only WAIT_AFTER waits for the data; WRITE alone merely starts it, and
 * is logged as writeback, not as a sync.
 */
int sync_file_range(int fd, off_t off, off_t len, unsigned int flags)
{
	static int (*real)(int, off_t, off_t, unsigned int);
	char path[PATH_MAX];
	int r, e;

	if (!real)
		real = next("sync_file_range");
	r = real(fd, off, len, flags);
	if (!(flags & SYNC_FILE_RANGE_WAIT_AFTER)) {
		e = errno;
		emit("writeback fd %d off %lld len %lld rc %d %s", fd,
		     (long long)off, (long long)len, r,
		     fd_path(fd, path, sizeof(path)));
		errno = e;
		return r;
	}
	return sync_result(fd, "sync_file_range", r);
}

int syncfs(int fd)
{
	static int (*real)(int);
	int r;

	if (!real)
		real = next("syncfs");
	r = real(fd);
	emit("syncfs fd %d rc %d", fd, r);
	return r;
}

/*
 * Shared writable mappings of files, inherited by forked children as the
 * mappings themselves are: what msync syncs is found by address. (The
 * log names a mapping once, under the process that made it: the server
 * maps a client's files in the child serving it.)
 */
static struct mapping {
	uintptr_t addr;
	size_t len;
	char path[PATH_MAX];
} mappings[16];

static struct mapping *mapping_at(uintptr_t addr)
{
	size_t i;

	for (i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++)
		if (mappings[i].len && addr >= mappings[i].addr &&
		    addr - mappings[i].addr < mappings[i].len)
			return &mappings[i];
	return NULL;
}

/* Forgets the mappings [addr, addr + len) overlaps, as munmap unmaps. */
static void forget_mappings(uintptr_t addr, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++)
		if (mappings[i].len && addr < mappings[i].addr + mappings[i].len &&
		    mappings[i].addr < addr + len)
			mappings[i].len = 0;
}

static void note_mapping(void *p, size_t len, int prot, int flags, int fd)
{
	struct mapping *m = NULL;
	char path[PATH_MAX];
	size_t i;

	if (p == MAP_FAILED)
		return;
	forget_mappings((uintptr_t)p, len);	/* MAP_FIXED over old ones */
	if (!(flags & MAP_SHARED) || !(prot & PROT_WRITE) || !is_file(fd))
		return;
	for (i = 0; !m && i < sizeof(mappings) / sizeof(mappings[0]); i++)
		if (!mappings[i].len)
			m = &mappings[i];
	if (!m)
		return;	/* the msync then names "?", which syncs nothing */
	m->addr = (uintptr_t)p;
	m->len = len;
	snprintf(m->path, sizeof(m->path), "%s",
		 fd_path(fd, path, sizeof(path)));
	emit("mmap fd %d len %zu %s", fd, len, m->path);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*real)(void *, size_t, int, int, int, off_t);
	void *p;
	int e;

	if (!real)
		real = next("mmap");
	p = real(addr, len, prot, flags, fd, off);
	e = errno;
	note_mapping(p, len, prot, flags, fd);
	errno = e;
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
	static int (*real)(void *, size_t);
	int r;

	if (!real)
		real = next("munmap");
	r = real(addr, len);
	if (r == 0)
		forget_mappings((uintptr_t)addr, len);
	return r;
}

/*
 * MS_SYNC of a shared file mapping is a datasync of the file's mapped
 * range (mm/msync.c: vfs_fsync_range), its size included by the file
 * system's fsync; counted as a sync call, so it can
 * be made to fail as the others can.
 */
int msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);
	struct mapping *m = mapping_at((uintptr_t)addr);
	int r, e;

	if (!real)
		real = next("msync");
	r = real(addr, len, flags);
	e = errno;
	if (!(flags & MS_SYNC))
		return r;
	if (r == 0 && fail_now()) {
		r = -1;
		e = EIO;
	}
	emit("msync rc %d %s", r, m ? m->path : "?");
	errno = e;
	return r;
}
