/* SPDX-License-Identifier: Apache-2.0 */
/* squashfs over FUSE served by the external squashfuse binary, for builds
 * without libsquashfuse_ll. The binary runs in the foreground in our user and
 * mount namespaces, as a child of the supervisor that the reaper loop leaves
 * out (launch_sqfs_helper_pid); it dies with the supervisor (parent-death
 * signal) or when the container ends. It runs with our uid, which in user
 * mode is not 0 inside the namespace: CAP_SYS_ADMIN is passed to it as an
 * ambient capability so that libfuse mounts directly instead of falling back
 * to the setuid fusermount3. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "sqfs.h"
#include "util.h"

#ifndef LAUNCH_SQUASHFUSE_BIN
#define LAUNCH_SQUASHFUSE_BIN "squashfuse"
#endif

struct launch_sqfs {
	char *image;
	char *mountpoint;
	struct launch_proc helper;
	bool all_root;
};

pid_t launch_sqfs_helper_pid(const struct launch_sqfs *s)
{
	return s && !s->helper.reaped ? s->helper.pid : 0;
}

const char *launch_sqfs_backend(void)
{
	return "external " LAUNCH_SQUASHFUSE_BIN " binary";
}

void launch_sqfs_set_all_root(struct launch_sqfs *s, bool on)
{
	s->all_root = on;
}

int launch_sqfs_open(const char *image, int threads, struct launch_sqfs **out, struct launch_error **err)
{
	_cleanup_close_ int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", image);
	if (!launch_sqfs_is_image(fd))
		return launch_error_msg(err, "%s is not a squashfs image (no squashfs magic at its start)", image);
	struct launch_sqfs *s = xcalloc(1, sizeof(*s));
	s->image = xstrdup(image);
	s->helper = (struct launch_proc)LAUNCH_PROC_INIT;
	*out = s;
	return 0;
}

/* In the helper: CAP_SYS_ADMIN as an ambient capability, so that libfuse
 * mounts directly (see above). */
static int pass_sys_admin(void *arg, int report)
{
	(void)arg, (void)report;
	cap_t caps = cap_get_proc();
	cap_value_t admin = CAP_SYS_ADMIN;
	if (caps && cap_set_flag(caps, CAP_INHERITABLE, 1, &admin, CAP_SET) == 0 && cap_set_proc(caps) == 0)
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0);
	cap_free(caps);
	return 0;
}

int launch_sqfs_mount(struct launch_sqfs *s, const char *mountpoint, struct launch_error **err)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		return launch_error_msg(err,
					"cannot mount image: /dev/fuse is not accessible (ask your admin to make "
					"it mode 0666, or see 'launch doctor')");
	struct stat before;
	if (stat(mountpoint, &before) < 0)
		return launch_error_set(err, errno, "cannot stat %s", mountpoint);
	char *argv[] = { (char *)LAUNCH_SQUASHFUSE_BIN,
			 (char *)"-f",
			 (char *)"-o",
			 s->all_root ? (char *)"ro,allow_other,default_permissions,uid=0,gid=0"
				     : (char *)"ro,allow_other,default_permissions",
			 s->image,
			 (char *)mountpoint,
			 NULL };
	struct launch_proc_spec spec = { .path = LAUNCH_SQUASHFUSE_BIN,
					 .argv = argv,
					 .child = pass_sys_admin,
					 .in = LAUNCH_PROC_NULL,
					 .out = LAUNCH_PROC_NULL,
					 .die_with_parent = true };
	_cleanup_close_ int mounts = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (launch_proc_spawn(&spec, &s->helper, err) < 0)
		return -1;
	/* The mount is there once the mount point's device changes: looked at
	 * each time the mount table changes (POLLPRI on mountinfo), until the
	 * helper exits or 10 s have passed. */
	for (int i = 0; i < 1000; i++) {
		struct stat now;
		if (stat(mountpoint, &now) == 0 && now.st_dev != before.st_dev) {
			s->mountpoint = xstrdup(mountpoint);
			return 0;
		}
		if (launch_proc_wait_pid(s->helper.pid, s->helper.pidfd, 0))
			break; /* the helper exited */
		struct pollfd p[2] = { { .fd = mounts, .events = POLLPRI },
				       { .fd = s->helper.pidfd, .events = POLLIN } };
		if (mounts < 0 || s->helper.pidfd < 0)
			poll(NULL, 0, 10); /* without either: look again soon */
		else
			poll(p, 2, 10000);
	}
	return launch_error_msg(err, "%s could not mount %s (is squashfuse installed? see 'launch doctor')",
				LAUNCH_SQUASHFUSE_BIN, s->image);
}

int launch_sqfs_serve(struct launch_sqfs *s, struct launch_error **err)
{
	return 0;
}
void launch_sqfs_prefetch(struct launch_sqfs *s, const char *cmd, const char *path) {}

void launch_sqfs_stop(struct launch_sqfs *s)
{
	if (!s)
		return;
	launch_proc_close(&s->helper); /* SIGKILL, and reaped */
	free(s->mountpoint);
	free(s->image);
	free(s);
}
