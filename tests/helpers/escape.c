/* SPDX-License-Identifier: Apache-2.0 */
/* escape: try, from inside a container, what a container must not be able
 * to do, and print one line per attempt: "NAME ok" when it worked,
 * "NAME ERRNO_NAME" when it failed. Built static so that it runs in any
 * image (tests/integration/test_packages.sh binds it in).
 * Usage: escape [HOST_PID]   (HOST_PID: a process outside the container) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void report(const char *name, int r)
{
	if (r == 0)
		printf("%s ok\n", name);
	else
		printf("%s %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "error");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	pid_t host = argc > 1 ? (pid_t)atoi(argv[1]) : 1;
	report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	report("umount", umount2("/proc", MNT_DETACH));
	report("unshare-mount", unshare(CLONE_NEWNS));
	report("chroot", chroot("/"));
	report("finit_module", (int)syscall(SYS_finit_module, 0, "", 0));
	report("sethostname", sethostname("escaped", 7));
	errno = 0;
	report("ptrace-host", (int)ptrace(PTRACE_ATTACH, host, NULL, NULL) < 0 ? -1 : 0);
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", host);
	int fd = open(p, O_RDONLY);
	report("setns-host", fd < 0 ? -1 : setns(fd, CLONE_NEWNS));
	report("mknod-device", mknod("/tmp/.escape-dev", S_IFCHR | 0600, makedev(1, 3)));
	struct stat st;
	printf("device-exists %s\n", stat("/tmp/.escape-dev", &st) == 0 && S_ISCHR(st.st_mode) ? "yes" : "no");
	unlink("/tmp/.escape-dev");
	return 0;
}
