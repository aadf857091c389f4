// SPDX-License-Identifier: GPL-2.0
/*
 * nbdroot-early: the initrd's /init, for the few steps before the shell
 * init (lib/nbdroot/init) can run its commands cheaply. Until /proc is
 * mounted, busybox cannot run an applet without a whole exec of itself
 * (about 30 ms under QEMU TCG), so the mounts before it are done here,
 * in one small static process:
 *
 *   devtmpfs on /dev, /dev/console as stdin, stdout and stderr when the
 *   kernel found none in the archive, proc on /proc, sysfs on /sys,
 *   tmpfs on /run, /run/nbdroot and in it the FIFO dhcp.exits, and
 *   printk_devkmsg on (our messages must not be rate-limited away)
 *
 * then it execs "/bin/sh /lib/nbdroot/init" with the kernel's arguments,
 * adding NBDROOT_EARLY_UPTIME=SECONDS (when the kernel handed over, for
 * the boot-time breakdown; empty when /proc could not be read): the shell
 * init knows by it that this ran. A step that fails is said on the
 * console ("nbdroot: early: mount proc on /proc: No such device") and
 * the shell init still runs: it mounts what is missing itself, and its
 * own checks name what then fails. Only a failed exec of the shell is
 * fatal (the kernel panics when PID 1 exits).
 */
#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "say.h"

#define SHELL		"/bin/sh"
#define SCRIPT		"/lib/nbdroot/init"
#define UPTIME_VAR	"NBDROOT_EARLY_UPTIME="
#define DHCP_EXITS	"/run/nbdroot/dhcp.exits"	/* lib/network.sh */
/* "NBDROOT_EARLY_UPTIME=" and "4294967295.99" with room to spare */
#define UPTIME_MAX	64

static void say(const char *what, const char *where, int err)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "nbdroot: early: %s %s: %s\n", what,
		     where, strerror(err));
	say_line(line, n, sizeof(line));
}

/*
 * mount(2), said on failure; EBUSY (mounted already) is no failure.
 * 0, or -1 when it is not mounted.
 */
static int mount_one(const char *fs, const char *dir, unsigned long flags,
		     const char *opts)
{
	char what[64];

	if (mount(fs, dir, fs, flags, opts) == 0 || errno == EBUSY)
		return 0;
	snprintf(what, sizeof(what), "mount %s on", fs);
	say(what, dir, errno);
	return -1;
}

/*
 * The kernel opens /dev/console for PID 1 only when the archive holds
 * it; otherwise stdin, stdout and stderr are closed until devtmpfs is
 * mounted.
 */
static void console(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * "NBDROOT_EARLY_UPTIME=" and /proc/uptime's first word ("12.34") into
 * buf; an empty value when it cannot be read.
 */
static void uptime(char *buf, size_t len)
{
	size_t pre = strlen(UPTIME_VAR), i;
	ssize_t n = -1;
	int fd;

	memcpy(buf, UPTIME_VAR, pre + 1);
	fd = open("/proc/uptime", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf + pre, len - pre - 1);
		close(fd);
	}
	if (n <= 0)
		n = 0;
	for (i = pre; i < pre + (size_t)n; i++)
		if (buf[i] != '.' && (buf[i] < '0' || buf[i] > '9'))
			break;
	buf[i] = '\0';
}

/*
 * Best effort, unsaid: printk.devkmsg= on the kernel command line locks
 * the setting (EINVAL), and the user chose it.
 */
static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		errno = 0;
	close(fd);
}

static void early_mounts(void)
{
	mount_one("devtmpfs", "/dev", MS_NOSUID, "mode=0755");
	console();
	mount_one("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static void later_mounts(void)
{
	mount_one("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* no /run/nbdroot on the initramfs itself: the shell mounts /run then */
	if (mount_one("tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755") == 0) {
		if (mkdir("/run/nbdroot", 0755) < 0 && errno != EEXIST)
			say("mkdir", "/run/nbdroot", errno);
		/* where net_dhcp (lib/network.sh) hears its DHCP clients
		 * exit: made here, it costs the shell no exec of mkfifo */
		else if (mknod(DHCP_EXITS, S_IFIFO | 0600, 0) < 0)
			say("mkfifo", DHCP_EXITS, errno);
	}
	write_file("/proc/sys/kernel/printk_devkmsg", "on\n");
}

/* Whether env is VAR= or VAR=VALUE (one the kernel command line set). */
static int is_var(const char *env, const char *var)
{
	return strncmp(env, var, strlen(var)) == 0;
}

int main(int argc, char **argv, char **envp)
{
	static char up[UPTIME_MAX];
	char **args, **env;
	int i, n = 0, nenv = 0;

	early_mounts();
	uptime(up, sizeof(up));
	later_mounts();
	while (envp[nenv])
		nenv++;
	args = alloca((size_t)(argc + 2) * sizeof(*args));
	env = alloca((size_t)(nenv + 2) * sizeof(*env));
	args[n++] = (char *)SHELL;
	args[n++] = (char *)SCRIPT;
	for (i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	for (n = 0, i = 0; i < nenv; i++)
		if (!is_var(envp[i], UPTIME_VAR))
			env[n++] = envp[i];
	env[n++] = up;
	env[n] = NULL;
	execve(SHELL, args, env);
	say("exec", SHELL, errno);
	return 1;
}
