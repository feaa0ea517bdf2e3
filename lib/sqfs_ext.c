/* SPDX-License-Identifier: Apache-2.0 */
/* squashfs over FUSE served by the external squashfuse binary, for builds
 * without the built-in server (sqfs_fuse.c). The binary runs in the foreground in our user and
 * mount namespaces, as a child of the supervisor that the reaper loop leaves
 * out (launch_sqfs_helper_pid); it dies with the supervisor (parent-death
 * signal) or when the container ends. It runs with our uid, which in user
 * mode is not 0 inside the namespace: CAP_SYS_ADMIN is passed to it as an
 * ambient capability so that libfuse mounts directly instead of falling back
 * to the setuid fusermount3. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "proc.h"
#include "sqfs.h"
#include "util.h"

#ifndef LAUNCH_SQUASHFUSE_BIN
#define LAUNCH_SQUASHFUSE_BIN "squashfuse"
#endif

struct launch_sqfs {
	char *image;
	uint64_t offset;
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

int launch_sqfs_open(const char *image, uint64_t offset, int threads, struct launch_sqfs **out,
		     struct launch_error **err)
{
	_cleanup_close_ int fd = launch_sqfs_open_file(image, offset, err);
	if (fd < 0)
		return -1;
	struct launch_sqfs *s = xcalloc(1, sizeof(*s));
	s->image = xstrdup(image);
	s->offset = offset;
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
	/* a SIF partition: squashfuse's offset option, the squashfs read in place */
	_cleanup_free_ char *opts = xasprintf("ro,allow_other,default_permissions%s,offset=%llu",
					      s->all_root ? ",uid=0,gid=0" : "", (unsigned long long)s->offset);
	char *argv[] = {
		(char *)LAUNCH_SQUASHFUSE_BIN, (char *)"-f", (char *)"-o", opts, s->image, (char *)mountpoint, NULL
	};
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

void launch_sqfs_abandon(struct launch_sqfs *s)
{
	launch_sqfs_stop(s);
}

/* --- files inside an image, without a mount: unsquashfs --- */

const struct launch_image_files launch_sqfs_files = { launch_sqfs_read_file, launch_sqfs_list_dir };

/* unsquashfs -o OFFSET -lls IMAGE PATH: its listing lines ("MODE OWNER SIZE
 * DATE TIME squashfs-root/PATH[ -> TARGET]"), or NULL with ERR set. */
static char *listing(const char *image, uint64_t offset, const char *path, struct launch_error **err)
{
	_cleanup_free_ char *bin = launch_find_program("unsquashfs", getenv("PATH"), NULL);
	if (!bin) {
		launch_error_msg(err,
				 "reading the environment of SIF image %s needs unsquashfs in this build of launch "
				 "(install squashfs-tools)",
				 image);
		return NULL;
	}
	char off[32];
	snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
	char *argv[] = { bin, (char *)"-o", off, (char *)"-lls", (char *)image, (char *)path, NULL };
	char *out = NULL;
	int st = launch_run_capture(argv, false, 4u << 20, &out);
	if (st != 0) {
		launch_error_msg(err, "unsquashfs cannot read %s (damaged?)", image);
		free(out);
		return NULL;
	}
	return out;
}

/* The line of LIST for exactly PATH ("/a/b"): its mode string and, for a
 * symlink, its target. */
static bool entry_of(const char *list, const char *path, char *mode, size_t msize, char **target)
{
	_cleanup_free_ char *want = xasprintf(" squashfs-root%s", path);
	size_t n = strlen(want);
	for (const char *l = list; l && *l;) {
		const char *end = strchrnul(l, '\n');
		const char *at = memmem(l, (size_t)(end - l), want, n);
		if (at && (at + n == end || !strncmp(at + n, " -> ", 4))) {
			snprintf(mode, msize, "%.*s", (int)strcspn(l, " "), l);
			*target = at + n == end ? NULL : xstrndup(at + n + 4, (size_t)(end - at - n - 4));
			return true;
		}
		l = *end ? end + 1 : end;
	}
	return false;
}

static unsigned mode_bits(const char *m)
{
	unsigned bits = 0;
	for (int i = 1; i <= 9 && m[i]; i++)
		if (m[i] != '-')
			bits |= 1u << (9 - i);
	return bits;
}

int launch_sqfs_read_file(const char *image, uint64_t offset, const char *path, size_t max, char **data, size_t *len,
			  unsigned *mode, struct launch_error **err)
{
	_cleanup_free_ char *cur = xstrdup(path);
	for (int hops = 0; hops < 8; hops++) {
		_cleanup_free_ char *list = listing(image, offset, cur, err), *target = NULL;
		if (!list)
			return -1;
		char m[16];
		if (!entry_of(list, cur, m, sizeof(m), &target))
			return 1;
		if (m[0] == 'l' && target) {
			char *next = target[0] == '/'
					     ? xstrdup(target)
					     : xasprintf("%.*s/%s", (int)(strrchr(cur, '/') - cur), cur, target);
			free(cur);
			cur = next;
			continue;
		}
		if (m[0] != '-')
			return 1;
		_cleanup_free_ char *bin = launch_find_program("unsquashfs", getenv("PATH"), NULL);
		char off[32];
		snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
		char *argv[] = { bin, (char *)"-o", off, (char *)"-cat", (char *)image, cur, NULL };
		char *out = NULL;
		if (!bin || launch_run_capture(argv, false, max, &out) != 0) {
			free(out);
			return launch_error_msg(err, "unsquashfs cannot read %s in image %s", path, image);
		}
		*data = out;
		if (len)
			*len = strlen(out);
		if (mode)
			*mode = mode_bits(m);
		return 0;
	}
	return 1;
}

int launch_sqfs_list_dir(const char *image, uint64_t offset, const char *dir, char ***names, struct launch_error **err)
{
	*names = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *list = listing(image, offset, dir, err);
	if (!list)
		return -1;
	_cleanup_free_ char *prefix = xasprintf(" squashfs-root%s/", dir);
	size_t n = strlen(prefix);
	bool any = false;
	for (const char *l = list; *l;) {
		const char *end = strchrnul(l, '\n');
		const char *at = memmem(l, (size_t)(end - l), prefix, n);
		if (at) {
			any = true;
			const char *name = at + n;
			size_t k = strcspn(name, "/\n");
			if (name + k == end || (name[k] == ' ' && !strncmp(name + k, " -> ", 4)))
				launch_strv_push(names, xstrndup(name, k));
		}
		l = *end ? end + 1 : end;
	}
	return any ? 0 : 1;
}
