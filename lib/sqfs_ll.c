/* SPDX-License-Identifier: Apache-2.0 */
/* squashfs over FUSE served by libsquashfuse_ll in threads of our own process.
 * This is the only file that includes squashfuse's headers (they define
 * PACKAGE_* macros and pick the FUSE API version).
 *
 * libsquashfuse_ll keeps caches that are not thread-safe, but its 64-bit
 * inode numbering is a pure function of the image. So every worker thread
 * opens its own instance of the image, and the library finds it through
 * fuse_req_userdata(), which the link wraps (-Wl,--wrap) to return the
 * calling thread's instance. A thread that cannot open one falls back to the
 * first instance under a lock. */
#define _GNU_SOURCE
#include <squashfuse/ll.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sqfs.h"
#include "util.h"

struct launch_sqfs {
	char *image;
	int threads;
	sqfs_ll *primary;
	struct fuse_session *se;
	char *mountpoint;
	int fuse_fd;
	pthread_t loop;
	bool serving;
};

static pthread_mutex_t instances_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t primary_lock = PTHREAD_MUTEX_INITIALIZER;
static sqfs_ll **instances;
static size_t n_instances;
static struct launch_sqfs *current;
static __thread sqfs_ll *thread_ll;
static __thread bool thread_locked;

const char *launch_sqfs_backend(void) { return "libsquashfuse_ll (in-process, multi-threaded)"; }

void *__real_fuse_req_userdata(fuse_req_t req);
void *__wrap_fuse_req_userdata(fuse_req_t req);

void *__wrap_fuse_req_userdata(fuse_req_t req)
{
	return thread_ll ? thread_ll : __real_fuse_req_userdata(req);
}

static void enter(void)
{
	if (thread_ll)
		return;
	sqfs_ll *ll = sqfs_ll_open(current->image, 0);
	if (ll) {
		pthread_mutex_lock(&instances_lock);
		instances = xrealloc(instances, (n_instances + 1) * sizeof(*instances));
		instances[n_instances++] = ll;
		pthread_mutex_unlock(&instances_lock);
		thread_ll = ll;
		return;
	}
	pthread_mutex_lock(&primary_lock);
	thread_locked = true;
	thread_ll = current->primary;
}

static void leave(void)
{
	if (thread_locked) {
		thread_ll = NULL;
		thread_locked = false;
		pthread_mutex_unlock(&primary_lock);
	}
}

#define WRAP(name, proto, args)      \
	static void op_##name proto      \
	{                                \
		enter();                     \
		sqfs_ll_op_##name args;      \
		leave();                     \
	}

WRAP(getattr, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(opendir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(releasedir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(readdir, (fuse_req_t r, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi), (r, i, n, o, fi))
WRAP(lookup, (fuse_req_t r, fuse_ino_t p, const char *name), (r, p, name))
WRAP(open, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(create, (fuse_req_t r, fuse_ino_t p, const char *name, mode_t m, struct fuse_file_info *fi),
     (r, p, name, m, fi))
WRAP(release, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(read, (fuse_req_t r, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi), (r, i, n, o, fi))
WRAP(readlink, (fuse_req_t r, fuse_ino_t i), (r, i))
WRAP(listxattr, (fuse_req_t r, fuse_ino_t i, size_t n), (r, i, n))
WRAP(getxattr, (fuse_req_t r, fuse_ino_t i, const char *name, size_t n), (r, i, name, n))
WRAP(forget, (fuse_req_t r, fuse_ino_t i, unsigned long n), (r, i, n))

static void op_statfs(fuse_req_t r, fuse_ino_t i)
{
	enter();
	stfs_ll_op_statfs(r, i);
	leave();
}

static const struct fuse_lowlevel_ops ops = {
	.getattr = op_getattr,
	.opendir = op_opendir,
	.releasedir = op_releasedir,
	.readdir = op_readdir,
	.lookup = op_lookup,
	.open = op_open,
	.create = op_create,
	.release = op_release,
	.read = op_read,
	.readlink = op_readlink,
	.listxattr = op_listxattr,
	.getxattr = op_getxattr,
	.forget = op_forget,
	.statfs = op_statfs,
};

bool launch_sqfs_is_image(int fd)
{
	char magic[4];
	return pread(fd, magic, 4, 0) == 4 && memcmp(magic, "hsqs", 4) == 0;
}

static void free_ll(sqfs_ll *ll)
{
	sqfs_ll_destroy(ll);
	free(ll);
}

int launch_sqfs_open(const char *image, int threads, struct launch_sqfs **out, struct launch_error **err)
{
	_cleanup_close_ int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", image);
	if (!launch_sqfs_is_image(fd))
		return launch_error_msg(err, "%s is not a squashfs image (no squashfs magic at its start)", image);
	sqfs_ll *ll = sqfs_ll_open(image, 0);
	if (!ll)
		return launch_error_msg(err, "cannot read squashfs image %s (damaged, or an unsupported compression)",
					image);
	struct launch_sqfs *s = xcalloc(1, sizeof(*s));
	s->image = xstrdup(image);
	s->threads = threads > 0 ? threads : 8;
	s->primary = ll;
	s->fuse_fd = -1;
	*out = s;
	return 0;
}

int launch_sqfs_mount(struct launch_sqfs *s, const char *mountpoint, struct launch_error **err)
{
	s->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (s->fuse_fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return launch_error_msg(err, "cannot mount image: /dev/fuse is not accessible (ask your admin to "
						     "make it mode 0666, or see 'launch doctor')");
		return launch_error_set(err, e, "cannot mount image: cannot open /dev/fuse (see 'launch doctor')");
	}
	_cleanup_free_ char *opts = xasprintf("fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other,"
					      "default_permissions",
					      s->fuse_fd, getuid(), getgid());
	if (mount(s->image, mountpoint, "fuse.squashfuse", MS_NOSUID | MS_NODEV | MS_RDONLY, opts) < 0)
		return launch_error_set(err, errno, "cannot mount image %s with FUSE", s->image);
	s->mountpoint = xstrdup(mountpoint);
	char *argv[] = { (char *)"launch", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	s->se = fuse_session_new(&args, &ops, sizeof(ops), s->primary);
	if (!s->se)
		return launch_error_msg(err, "cannot start the FUSE session for %s", s->image);
	char devfd[32];
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", s->fuse_fd);
	if (fuse_session_mount(s->se, devfd) != 0)
		return launch_error_msg(err, "cannot attach the FUSE session for %s", s->image);
	return 0;
}

static void *loop_main(void *arg)
{
	struct launch_sqfs *s = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, (unsigned)s->threads);
	fuse_loop_cfg_set_idle_threads(cfg, (unsigned)s->threads);
	int r = fuse_session_loop_mt(s->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	if (r < 0)
		launch_debug("FUSE loop ended: %s", strerror(-r));
	return NULL;
}

int launch_sqfs_serve(struct launch_sqfs *s, struct launch_error **err)
{
	current = s;
	int e = pthread_create(&s->loop, NULL, loop_main, s);
	if (e)
		return launch_error_set(err, e, "cannot start the FUSE server thread");
	s->serving = true;
	return 0;
}

void launch_sqfs_stop(struct launch_sqfs *s)
{
	if (!s)
		return;
	if (s->se) {
		fuse_session_exit(s->se);
		if (s->mountpoint)
			umount2(s->mountpoint, MNT_DETACH);
		/* Once the last mount is gone the kernel ends the connection and
		 * the workers' reads of /dev/fuse fail: the loop returns. */
		if (s->serving)
			pthread_join(s->loop, NULL);
		fuse_session_unmount(s->se);
		fuse_session_destroy(s->se);
	} else if (s->fuse_fd >= 0) {
		close(s->fuse_fd);
	}
	for (size_t i = 0; i < n_instances; i++)
		free_ll(instances[i]);
	free(instances);
	instances = NULL;
	n_instances = 0;
	current = NULL;
	free_ll(s->primary);
	free(s->mountpoint);
	free(s->image);
	free(s);
}
