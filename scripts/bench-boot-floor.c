/*
 * bench-boot-floor: the init of scripts/bench-boot's floor row. The same
 * kernel boots an initrd that holds only this static binary (klcc): it
 * prints the uptime at which the kernel handed over to userspace, in the
 * marker line the test root's boot-time check prints, and powers off. No
 * initrd can start its work earlier, so "ours minus floor" is what our
 * init and its archive cost.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>

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

int main(void)
{
	char up[64];
	int fd;

	mkdir("/proc", 0555);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	read_uptime(up, sizeof(up));
	/* the archive holds no /dev/console: the kernel gave us no fds */
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_WRONLY);
	if (fd >= 0 && fd != 1)
		dup2(fd, 1);
	say("NBDROOT-TEST boot-time: PASS uptime=");
	say(up);
	say(" root=floor\n");
	sync();
	reboot(LINUX_REBOOT_CMD_POWER_OFF, NULL);
	return 1;
}
