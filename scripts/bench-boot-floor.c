/*
 * bench-boot-floor: the init of scripts/bench-boot's floor row. The same
 * kernel boots an initrd that holds only this static binary (klcc): it
 * prints the uptime at which the kernel handed over to userspace, in the
 * marker line the test root's boot-time check prints, and powers off. No
 * initrd can start its work earlier, so "ours minus floor" is what our
 * init and its archive cost.
 *
 * The floor+modules row boots it with /modules in the archive: lines of
 * "PATH [OPTIONS]", the modules our init loads on the benchmark's VM, in
 * its order and with its options. It loads each with finit_module(2) and
 * prints the uptime after the last (start= the uptime before the first):
 * what the kernel alone charges for the modules a boot from the network
 * needs, with no fork, no shell and no network.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>

extern int finit_module(int fd, const char *params, int flags);

static void say(const char *s)
{
	write(1, s, strlen(s));
}

/* The first field of /proc/uptime ("12.34 5.67\n") into buf, or "?". */
static void read_uptime(char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;
	char *sp;

	fd = open("/proc/uptime", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0) {
		strcpy(buf, "?");
		return;
	}
	buf[n] = '\0';
	sp = strchr(buf, ' ');
	if (sp)
		*sp = '\0';
}

/* One "PATH [OPTIONS]" line of /modules: loads PATH; says why it failed. */
static int load_one(char *line)
{
	char *opts = strchr(line, ' ');
	int fd, rc;

	if (opts)
		*opts++ = '\0';
	fd = open(line, O_RDONLY);
	if (fd < 0) {
		say("bench-boot-floor: cannot open ");
		say(line);
		say("\n");
		return -1;
	}
	rc = finit_module(fd, opts ? opts : "", 0);
	close(fd);
	if (rc) {
		say("bench-boot-floor: finit_module failed: ");
		say(line);
		say("\n");
	}
	return rc;
}

/* Loads every module /modules lists: 0, 1 if one failed, -1 for no list. */
static int load_modules(void)
{
	char line[512];
	FILE *f = fopen("/modules", "r");
	int failed = 0;
	size_t n;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n && load_one(line))
			failed = 1;
	}
	fclose(f);
	return failed;
}

int main(void)
{
	char start[64], up[64];
	int fd, loaded;

	mkdir("/proc", 0555);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	read_uptime(start, sizeof(start));
	/* the archive holds no /dev/console: the kernel gave us no fds */
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_WRONLY);
	if (fd >= 0 && fd != 1)
		dup2(fd, 1);
	loaded = load_modules();
	read_uptime(up, sizeof(up));
	if (loaded > 0) {
		say("NBDROOT-TEST boot-time: FAIL a module did not load\n");
	} else if (loaded == 0) {
		say("NBDROOT-TEST boot-time: PASS uptime=");
		say(up);
		say(" root=floor+modules start=");
		say(start);
		say("\n");
	} else {
		say("NBDROOT-TEST boot-time: PASS uptime=");
		say(start);
		say(" root=floor\n");
	}
	sync();
	reboot(LINUX_REBOOT_CMD_POWER_OFF, NULL);
	return 1;
}
