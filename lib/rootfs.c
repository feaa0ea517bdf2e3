/* SPDX-License-Identifier: Apache-2.0 */
/* The container's file system (see rootfs.h).
 *
 * Every mount target is resolved inside the new root (resolve.c) and then
 * addressed through /proc/self/fd/N, so no symlink of the image can send a
 * mount to a host path, and nothing can swap a path between check and use.
 *
 * A destination missing from a read-only image is created on a "shadow": the
 * nearest existing parent directory is covered with a small tmpfs that holds
 * bind mounts of all its original entries plus the new mount point. The
 * shadow is remounted read-only at the end, so the image stays read-only. */
#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fakeroot.h"
#include "hookapi.h"
#include "log.h"
#include "resolve.h"
#include "upper.h"
#include "util.h"

struct builder {
	const struct launch_spec *spec;
	const char *root;
	const char *stage;
	int rootfd;
	/* only directories of the image get shadows: those on the image's own
	 * mount, and those a shadow re-bound from it */
	uint64_t *image_mnts;
	size_t n_image_mnts;
	int *shadows; /* O_PATH fds of shadow tmpfs roots, remounted ro at the end */
	size_t n_shadows;
	char **created; /* mount points made in a writable root (upper.h) */
	/* hooks may shadow any directory they cannot write (the image's, a
	 * shadow of the build, a host directory mounted read-only): all of it
	 * lives in the container's mount namespace, and the directory was
	 * read-only anyway */
	bool shadow_any;
	bool console;	   /* the command gets a console: no /dev/console */
	char **site_dests; /* where the site mounts landed, inside the root */
	char **removed;	   /* where a mount was removed (umount), inside the root */
	/* file systems launch mounted itself (shadows, /dev, a private /tmp):
	 * entries made there stay in the container */
	uint64_t *own_mnts;
	size_t n_own_mnts;
	/* mounts that make up launch's view of the image (shadows, the
	 * entries re-bound in them): not the user's to remove */
	uint64_t *internal_mnts;
	size_t n_internal_mnts;
};

#define FDPATH(buf, fd) snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd)

static int shadow(struct builder *b, const char *cpath, int dirfd, struct launch_error **err);
static uint64_t mount_id(int fd);
static bool of_host(const struct builder *b, int fd);

/* True when CPATH reaches the directory FD without following a symlink:
 * each component opened O_NOFOLLOW from the root. */
static bool literal(const struct builder *b, const char *cpath, int fd)
{
	_cleanup_close_ int cur = dup(b->rootfd);
	_cleanup_free_ char *copy = xstrdup(cpath);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = openat(cur, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
		struct stat st;
		if (cur < 0 || fstat(cur, &st) < 0 || S_ISLNK(st.st_mode))
			return false;
	}
	struct stat a, z;
	return cur >= 0 && fstat(cur, &a) == 0 && fstat(fd, &z) == 0 && a.st_dev == z.st_dev && a.st_ino == z.st_ino;
}

static void add_image_mnt(struct builder *b, uint64_t id)
{
	b->image_mnts = xrealloc(b->image_mnts, (b->n_image_mnts + 1) * sizeof(uint64_t));
	b->image_mnts[b->n_image_mnts++] = id;
}

static bool of_image(const struct builder *b, uint64_t id)
{
	for (size_t i = 0; i < b->n_image_mnts; i++)
		if (b->image_mnts[i] == id)
			return true;
	return false;
}

static void add_own_mnt(struct builder *b, int fd)
{
	b->own_mnts = xrealloc(b->own_mnts, (b->n_own_mnts + 1) * sizeof(uint64_t));
	b->own_mnts[b->n_own_mnts++] = mount_id(fd);
}

static void add_internal_mnt(struct builder *b, int fd)
{
	b->internal_mnts = xrealloc(b->internal_mnts, (b->n_internal_mnts + 1) * sizeof(uint64_t));
	b->internal_mnts[b->n_internal_mnts++] = mount_id(fd);
}

static bool internal(const struct builder *b, uint64_t id)
{
	for (size_t i = 0; i < b->n_internal_mnts; i++)
		if (b->internal_mnts[i] == id)
			return true;
	return of_image(b, id);
}

/* Is the directory FD on a host file system mounted into the container? */
static bool of_host(const struct builder *b, int fd)
{
	uint64_t id = mount_id(fd);
	for (size_t i = 0; i < b->n_own_mnts; i++)
		if (b->own_mnts[i] == id)
			return false;
	return !of_image(b, id);
}

/* The id of the mount FD lies on (statx, Linux >= 5.8); the device number
 * on older kernels, which cannot tell a bind mount from its source. */
static uint64_t mount_id(int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID))
		return sx.stx_mnt_id;
	struct stat st;
	return fstat(fd, &st) == 0 ? (uint64_t)st.st_dev : 0;
}

static int reopen_root(struct builder *b, struct launch_error **err)
{
	int fd = open(b->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open the container root %s", b->root);
	if (b->rootfd >= 0)
		close(b->rootfd);
	b->rootfd = fd;
	return 0;
}

/* Open container path CPATH as a mount point of the wanted type, creating it
 * (and shadowing a read-only parent) when it is missing. With LINK, CPATH is
 * created as a symlink to LINK and must not exist; the fd is then that of
 * its parent directory. */
static int ensure_node(struct builder *b, const char *cpath, bool dir, const char *link, struct launch_error **err)
{
	int fd = launch_resolve_in_root(b->rootfd, cpath, O_PATH);
	if (fd >= 0 && link) {
		close(fd);
		return launch_error_msg(err, "cannot create symlink %s in the container: it exists", cpath);
	}
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			close(fd);
			return launch_error_set(err, errno, "cannot stat %s in the container", cpath);
		}
		if (dir != !!S_ISDIR(st.st_mode)) {
			close(fd);
			return launch_error_msg(err, "%s in the container is %s, but the mount needs %s", cpath,
						S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
						dir ? "a directory" : "a file");
		}
		return fd;
	}
	if (errno != ENOENT)
		return launch_error_set(err, errno, "cannot resolve %s in the container", cpath);
	if (!strcmp(cpath, "/"))
		return launch_error_msg(err, "the container root is missing");

	_cleanup_free_ char *pcopy = xstrdup(cpath), *ncopy = xstrdup(cpath);
	const char *parent = dirname(pcopy), *name = basename(ncopy);
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_close_ int pfd = ensure_node(b, parent, true, NULL, err);
		if (pfd < 0)
			return -1;
		/* A host directory mounted in the container gets a new entry only
		 * where the path says so, never where a symlink of the image
		 * leads (/cfg -> /home/you/.config would plant it in your home). */
		if (!b->shadow_any && of_host(b, pfd) && !literal(b, parent, pfd))
			return launch_error_msg(
				err,
				"cannot create mount point %s: a symlink of the image leads %s into a "
				"host directory mounted in the container, and launch creates nothing on "
				"the host through it (choose a destination that exists, or one in the "
				"image)",
				cpath, parent);
		int r;
		if (link) {
			r = symlinkat(link, pfd, name);
		} else if (dir) {
			r = mkdirat(pfd, name, 0755);
		} else {
			r = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			if (r >= 0)
				close(r);
		}
		if (r >= 0 && (b->spec->writable || b->spec->overlay) && of_image(b, mount_id(pfd)))
			launch_strv_push(&b->created, xstrdup(cpath)); /* in the upper layer */
		if (r >= 0 && link)
			return steal_fd(&pfd);
		if (r >= 0 || (errno == EEXIST && !link))
			break;
		if (attempt == 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
			int e = errno;
			if (!b->shadow_any && !of_image(b, mount_id(pfd)))
				return launch_error_set(err, e,
							"cannot create mount point %s: %s is not part of the image (it "
							"is a host directory mounted into the container)",
							cpath, parent);
			if (shadow(b, parent, pfd, err) < 0)
				return -1;
			continue;
		}
		return launch_error_set(err, errno, "cannot create %s %s in the container",
					link ? "symlink" : "mount point", cpath);
	}
	fd = launch_resolve_in_root(b->rootfd, cpath, O_PATH);
	if (fd < 0)
		return launch_error_set(
			err, errno, "cannot create mount point %s in the container (a dangling symlink in the image?)",
			cpath);
	return fd;
}

static int ensure(struct builder *b, const char *cpath, bool dir, struct launch_error **err)
{
	return ensure_node(b, cpath, dir, NULL, err);
}

static int bind_entry(struct builder *b, int from, int to, const char *name, const struct stat *st,
		      struct launch_error **err)
{
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
		if (n < 0)
			return launch_error_set(err, errno, "cannot read symlink %s", name);
		target[n] = '\0';
		if (symlinkat(target, to, name) < 0)
			return launch_error_set(err, errno, "cannot copy symlink %s", name);
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		if (mkdirat(to, name, st->st_mode & 07777) < 0)
			return launch_error_set(err, errno, "cannot create %s", name);
	} else {
		int f = openat(to, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (f < 0)
			return launch_error_set(err, errno, "cannot create %s", name);
		close(f);
	}
	char src[PATH_MAX], dst[PATH_MAX];
	snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", from, name);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d/%s", to, name);
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return launch_error_set(err, errno, "cannot bind %s", name);
	_cleanup_close_ int fd = openat(to, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		add_internal_mnt(b, fd);
	if (S_ISDIR(st->st_mode)) {
		/* the copy counts as the image only when the original was */
		_cleanup_close_ int ofd = openat(from, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (ofd >= 0 && fd >= 0 && of_image(b, mount_id(ofd)))
			add_image_mnt(b, mount_id(fd));
	}
	return 0;
}

static int shadow(struct builder *b, const char *cpath, int dirfd, struct launch_error **err)
{
	launch_debug("shadowing read-only %s with a tmpfs to add mount points", cpath);
	_cleanup_close_ int orig = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (orig < 0)
		return launch_error_set(err, errno, "cannot open %s in the container", cpath);
	struct stat st;
	if (fstat(orig, &st) < 0)
		return launch_error_set(err, errno, "cannot stat %s", cpath);
	char target[64];
	FDPATH(target, dirfd);
	_cleanup_free_ char *opts = xasprintf("mode=%o,size=8m", st.st_mode & 07777);
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return launch_error_set(err, errno, "cannot mount a tmpfs over %s to add mount points", cpath);
	int top;
	if (!strcmp(cpath, "/")) {
		if (reopen_root(b, err) < 0)
			return -1;
		top = open(b->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		top = launch_resolve_in_root(b->rootfd, cpath, O_RDONLY | O_DIRECTORY);
	}
	if (top < 0)
		return launch_error_set(err, errno, "cannot open the tmpfs over %s", cpath);
	b->shadows = xrealloc(b->shadows, (b->n_shadows + 1) * sizeof(int));
	b->shadows[b->n_shadows++] = top;
	add_own_mnt(b, top);
	add_internal_mnt(b, top);
	DIR *d = fdopendir(dup(orig));
	if (!d)
		return launch_error_set(err, errno, "cannot list %s", cpath);
	int ret = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat est;
		if (fstatat(orig, de->d_name, &est, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (bind_entry(b, orig, top, de->d_name, &est, err) < 0) {
			ret = launch_error_wrap(err, "shadowing %s", cpath);
			break;
		}
	}
	closedir(d);
	return ret;
}

/* The flags a remount of PATH must repeat: those the kernel locks in a less
 * privileged namespace (nosuid, nodev, noexec, atime), and read-only, which
 * a remount must never lift. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Add ATTRS (MOUNT_ATTR_RDONLY, _NOSUID, _NODEV, _NOEXEC) to the mount tree
 * at FD: recursively with mount_setattr (Linux >= 5.12), else to its top
 * mount. Attributes are only ever added: a mount never gets more than it
 * had. */
static int restrict_mount(int fd, const char *what, uint64_t attrs, struct launch_error **err)
{
	struct mount_attr attr = { .attr_set = attrs };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	char p[64];
	FDPATH(p, fd);
	unsigned long f = (attrs & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0) | (attrs & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0) |
			  (attrs & MOUNT_ATTR_NODEV ? MS_NODEV : 0) | (attrs & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0);
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | f | locked_flags(p), NULL) < 0) {
		if (attrs == MOUNT_ATTR_RDONLY)
			return launch_error_set(err, errno, "cannot make %s read-only", what);
		return launch_error_set(err, errno, "cannot make the mount on %s%s%s%s%s", what,
					attrs & MOUNT_ATTR_RDONLY ? " read-only" : "",
					attrs & MOUNT_ATTR_NOSUID ? " nosuid" : "",
					attrs & MOUNT_ATTR_NODEV ? " nodev" : "",
					attrs & MOUNT_ATTR_NOEXEC ? " noexec" : "");
	}
	return 0;
}

/* Make the mount tree at FD read-only. */
static int make_readonly(int fd, const char *what, struct launch_error **err)
{
	return restrict_mount(fd, what, MOUNT_ATTR_RDONLY, err);
}

static const char *propagation_name(unsigned long p)
{
	static const struct {
		unsigned long flags;
		const char *name;
	} names[] = {
		{ MS_PRIVATE, "private" },	 { MS_PRIVATE | MS_REC, "rprivate" },
		{ MS_SLAVE, "slave" },		 { MS_SLAVE | MS_REC, "rslave" },
		{ MS_SHARED, "shared" },	 { MS_SHARED | MS_REC, "rshared" },
		{ MS_UNBINDABLE, "unbindable" }, { MS_UNBINDABLE | MS_REC, "runbindable" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].flags == p)
			return names[i].name;
	return "?";
}

/* The new mount on container path DST (reached again from the root: an fd
 * taken before the mount names what lies under it) gets ATTRS and the
 * propagation type PROPAGATION (MS_SHARED, ... with MS_REC; 0: as it is).
 * A propagation type only concerns the container's own mount namespace:
 * the host's mounts reach it as slaves at most (mount_namespaces(7)), so
 * nothing mounted inside can propagate to the host. */
static int finish_mount(struct builder *b, const char *dst, uint64_t attrs, unsigned long propagation,
			struct launch_error **err)
{
	if (!attrs && !propagation)
		return 0;
	_cleanup_close_ int top = launch_resolve_in_root(b->rootfd, dst, O_PATH);
	if (top < 0)
		return launch_error_set(err, errno, "cannot find the mount on %s", dst);
	if (attrs && restrict_mount(top, dst, attrs, err) < 0)
		return -1;
	char p[64];
	FDPATH(p, top);
	if (propagation && mount(NULL, p, NULL, propagation, NULL) < 0)
		return launch_error_set(err, errno, "cannot make the mount on %s %s", dst,
					propagation_name(propagation));
	return 0;
}

int launch_rootfs_readonly(const char *path, struct launch_error **err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open %s", path);
	return make_readonly(fd, path, err);
}

/* A host path opened once (O_PATH): the object checked is the object
 * mounted, through /proc/self/fd/N, whatever happens to the path. */
struct source {
	int fd;
	struct stat st;
	char real[PATH_MAX]; /* where it is, symlinks resolved */
};

static int source_open(const char *path, struct source *s, struct launch_error **err)
{
	s->fd = open(path, O_PATH | O_CLOEXEC);
	if (s->fd < 0)
		return launch_error_set(err, errno, "mount source %s", path);
	char p[64];
	FDPATH(p, s->fd);
	ssize_t n = readlink(p, s->real, sizeof(s->real) - 1);
	if (n <= 0 || fstat(s->fd, &s->st) < 0)
		return launch_error_set(err, n < 0 ? errno : EIO, "mount source %s", path);
	s->real[n] = '\0';
	return 0;
}

static void source_close(struct source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* How a bind is made: with the mounts below the source (MS_REC) or
 * without, the attributes it gets (MOUNT_ATTR_*) and its propagation type
 * (0: the one it gets from its source). */
struct bind_how {
	unsigned long rec;
	uint64_t attrs;
	unsigned long propagation;
};

/* Mount source S (SRC in messages) on container path DST, whose mount
 * point is DSTFD (-1: made here), as HOW says. */
static int bind_source(struct builder *b, const struct source *s, const char *src, int dstfd, const char *dst,
		       const struct bind_how *how, struct launch_error **err)
{
	_cleanup_close_ int fd = dstfd >= 0 ? dup(dstfd) : ensure(b, dst, S_ISDIR(s->st.st_mode), err);
	if (fd < 0)
		return dstfd >= 0 ? launch_error_set(err, errno, "cannot mount %s on %s", src, dst)
				  : launch_error_wrap(err, "cannot mount %s on %s", src, dst);
	char from[64], target[64];
	FDPATH(from, s->fd);
	FDPATH(target, fd);
	if (mount(from, target, NULL, MS_BIND | how->rec, NULL) < 0) {
		/* the kernel keeps the mounts a less privileged namespace got
		 * from the host together (MNT_LOCKED): a bind cannot leave them out */
		if (errno == EINVAL && !how->rec) {
			launch_error_msg(err,
					 "cannot mount %s on %s without the mounts below it (bind): mounts "
					 "of the host there cannot be left out in a user namespace (use rbind)",
					 src, dst);
			if (err && *err)
				(*err)->errno_ = EINVAL; /* bind_tmp tells this case apart */
			return -1;
		}
		return launch_error_set(err, errno, "cannot mount %s on %s", src, dst);
	}
	return finish_mount(b, dst, how->attrs, how->propagation, err);
}

static int bind_flags(struct builder *b, const char *src, const char *dst, bool ro, unsigned long rec,
		      struct launch_error **err)
{
	struct source s;
	struct bind_how how = { .rec = rec, .attrs = ro ? MOUNT_ATTR_RDONLY : 0 };
	int r = source_open(src, &s, err);
	if (r == 0)
		r = bind_source(b, &s, src, -1, dst, &how, err);
	source_close(&s);
	return r;
}

/* Bind host path SRC, with the mounts below it, onto container path DST. */
static int bind(struct builder *b, const char *src, const char *dst, bool ro, struct launch_error **err)
{
	return bind_flags(b, src, dst, ro, MS_REC, err);
}

static int mount_fs(struct builder *b, const char *type, const char *dst, unsigned long flags, const char *data,
		    struct launch_error **err)
{
	_cleanup_close_ int fd = ensure(b, dst, true, err);
	if (fd < 0)
		return launch_error_wrap(err, "cannot mount %s on %s", type, dst);
	char target[64];
	FDPATH(target, fd);
	if (mount(type, target, type, flags, data) < 0)
		return launch_error_set(err, errno, "cannot mount %s on %s", type, dst);
	_cleanup_close_ int top = launch_resolve_in_root(b->rootfd, dst, O_PATH);
	if (top >= 0)
		add_own_mnt(b, top);
	return 0;
}

static int setup_dev(struct builder *b, struct launch_error **err)
{
	if (mount_fs(b, "tmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", err) < 0)
		return -1;
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		char src[64], dst[64];
		snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", nodes[i]);
		if (access(src, F_OK) < 0)
			continue;
		if (bind(b, src, dst, false, err) < 0)
			return -1;
	}
	/* A devpts instance of the container's own, with /dev/ptmx pointing into
	 * it: the host's /dev/ptmx node, bound alone, finds no "pts" beside it
	 * (the kernel looks in the same mount), and the host's pts/ptmx is mode
	 * 0000. A command run in the foreground of a terminal gets one of
	 * these as its console (console.h). */
	if (mount_fs(b, "devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", err) < 0 ||
	    bind(b, "/dev/shm", "/dev/shm", false, err) < 0)
		return -1;
	/* Otherwise a terminal among descriptors 0-2 (output to a terminal
	 * with input from a file, a job in the background) gets a name all
	 * the same: /dev/console is its node, which ttyname() finds by device
	 * and inode. */
	for (int fd = 0; fd <= 2 && !b->console; fd++) {
		/* by its path: a bind needs a source in this mount namespace, and
		 * the descriptor's mount is the host's */
		struct stat st, at;
		char self[32], path[PATH_MAX];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		ssize_t n = isatty(fd) && fstat(fd, &st) == 0 ? readlink(self, path, sizeof(path) - 1) : -1;
		if (n <= 0)
			continue;
		path[n] = '\0';
		if (path[0] != '/' || stat(path, &at) < 0 || !S_ISCHR(at.st_mode) || at.st_rdev != st.st_rdev ||
		    at.st_ino != st.st_ino)
			continue;
		struct launch_error *e = NULL;
		if (bind_flags(b, path, "/dev/console", false, 0, &e) < 0)
			launch_debug("no /dev/console for the terminal %s: %s", path, e->msg);
		launch_error_free(e);
		break;
	}
	_cleanup_close_ int dev = launch_resolve_in_root(b->rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		return launch_error_set(err, errno, "cannot open /dev in the container");
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },	 { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			return launch_error_set(err, errno, "cannot create /dev/%s", links[i][1]);
	const struct launch_identity *id = &b->spec->id;
	if (id->root && id->mode == LAUNCH_IDMAP_SECCOMP) {
		_cleanup_close_ int apt = launch_resolve_in_root(b->rootfd, "/usr/bin/apt-get", O_PATH);
		if (apt >= 0 && launch_fakeroot_prepare(dev, err) < 0)
			return -1;
	}
	return 0;
}

/* Copy the image's FILE (passwd or group), dropping entries that clash with
 * NAME or ID, and append the lines in EXTRA. */
static int write_db(struct builder *b, const char *file, const char *name, unsigned id, const char *extra,
		    const char *root_line, struct launch_error **err)
{
	_cleanup_free_ char *cpath = xasprintf("/etc/%s", file);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int in = launch_resolve_in_root(b->rootfd, cpath, O_RDONLY);
	if (in >= 0 && launch_read_fd(in, 16u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read %s of the image", cpath);
	_cleanup_free_ char *out_path = xasprintf("%s/%s", b->stage, file);
	_cleanup_fclose_ FILE *out = fopen(out_path, "we");
	if (!out)
		return launch_error_set(err, errno, "cannot write %s", out_path);
	bool have_root = false;
	char *next = text;
	for (char *line; next && (line = strsep(&next, "\n"));) {
		if (!*line)
			continue;
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c1 && c2) {
			size_t nl = (size_t)(c1 - line);
			unsigned lid = (unsigned)strtoul(c2 + 1, NULL, 10);
			if ((nl == strlen(name) && !strncmp(line, name, nl)) || lid == id)
				continue;
			if (lid == 0)
				have_root = true;
		}
		fprintf(out, "%s\n", line);
	}
	if (!have_root)
		fprintf(out, "%s\n", root_line);
	fprintf(out, "%s\n", extra);
	if (fflush(out) != 0)
		return launch_error_set(err, errno, "cannot write %s", out_path);
	return bind(b, out_path, cpath, true, err);
}

static int setup_identity(struct builder *b, struct launch_error **err)
{
	const struct launch_identity *id = &b->spec->id;
	_cleanup_free_ char *pw =
		xasprintf("%s:x:%u:%u:%s:%s:/bin/sh", id->user, id->uid, id->gid, id->user, id->home ? id->home : "/");
	_cleanup_free_ char *gr = xasprintf("%s:x:%u:", id->group, id->gid);
	if (write_db(b, "passwd", id->user, id->uid, pw, "root:x:0:0:root:/root:/bin/sh", err) < 0)
		return -1;
	return write_db(b, "group", id->group, id->gid, gr, "root:x:0:", err);
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool denied(char *const *list, const char *path, const char **which)
{
	for (size_t i = 0; list && list[i]; i++)
		if (launch_path_is_under(path, list[i])) {
			*which = list[i];
			return true;
		}
	return false;
}

/* A denied path below PATH (PATH would give access to it). HOST: the list
 * holds host paths, whose real paths count too (deny_mount_sources); not
 * for container paths (deny_mount_destinations). */
static bool contains_denied(char *const *list, const char *path, bool host, const char **which)
{
	for (size_t i = 0; list && list[i]; i++) {
		_cleanup_free_ char *real = host ? realpath(list[i], NULL) : NULL;
		if (launch_path_is_under(list[i], path) || (real && launch_path_is_under(real, path))) {
			*which = list[i];
			return true;
		}
	}
	return false;
}

/* deny_mount_sources for a user's source, given as GIVEN and opened as S:
 * neither a denied path nor one that contains a denied path (a mount of
 * /srv would reach /srv/secret). The real path counts as well as the given
 * one, so neither a symlink nor a parent leads around the list. */
static int check_source(const struct builder *b, const char *given, const struct source *s, struct launch_error **err)
{
	char *const *deny = b->spec->config ? b->spec->config->deny_mount_sources : NULL;
	const char *which = NULL;
	if (denied(deny, given, &which) || denied(deny, s->real, &which))
		return launch_error_msg(err,
					"mount source %s is not allowed by the site config (deny_mount_sources: %s)",
					given, which);
	if (contains_denied(deny, given, true, &which) || contains_denied(deny, s->real, true, &which))
		return launch_error_msg(err,
					"mount source %s contains %s, which the site config does not allow "
					"(deny_mount_sources): mount a directory beside it instead",
					given, which);
	return 0;
}

/* deny_mount_destinations for container path DST: denied, below a denied
 * path, or above one (a mount there would cover it). */
static bool destination_denied(const struct builder *b, const char *dst, const char **which)
{
	char *const *deny = b->spec->config ? b->spec->config->deny_mount_destinations : NULL;
	return denied(deny, dst, which) || contains_denied(deny, dst, false, which);
}

/* A user's destination DST (a path inside the root, as given or as an image
 * symlink resolved it): not denied, not above a denied one (it would cover
 * it), and neither covering nor inside a site mount. Returns 1 for a mount
 * that repeats a site mount exactly (same source, same place): skipped. */
static int check_destination(const struct builder *b, const char *given, const char *dst, const struct source *s,
			     struct launch_error **err)
{
	const struct launch_config *c = b->spec->config;
	const char *which = NULL;
	const char *via = strcmp(given, dst) ? " (where the image's symlinks lead it)" : "";
	if (destination_denied(b, dst, &which))
		return launch_error_msg(err,
					"mount destination %s%s%s%s is not allowed by the site config "
					"(deny_mount_destinations: %s)",
					given, *via ? ", " : "", *via ? dst : "", via, which);
	for (size_t i = 0; c && i < c->mounts.n; i++) {
		const struct launch_mount *m = &c->mounts.v[i];
		if (m->type == LAUNCH_MOUNT_UMOUNT)
			continue;
		const char *site =
			b->site_dests && i < launch_strv_len(b->site_dests) ? b->site_dests[i] : m->destination;
		if (!launch_path_is_under(site, dst) && !launch_path_is_under(dst, site))
			continue;
		/* the same mount again changes nothing, unless the user removed
		 * the site's (umount:DST): then it is made again */
		_cleanup_free_ char *site_real = m->source ? realpath(m->source, NULL) : NULL;
		if (!strcmp(site, dst) && site_real && s && !strcmp(site_real, s->real))
			return strv_has(b->removed, site) ? 0 : 1;
		return launch_error_msg(err,
					"mount destination %s%s %s the site mount on %s (site mounts cannot be "
					"covered or shadowed: choose a destination outside it)",
					given, via, launch_path_is_under(dst, site) ? "lies inside" : "would cover",
					m->destination);
	}
	return 0;
}

/* Where directory FD is inside the root ("/..."), NULL when outside. */
static char *inner_path(const struct builder *b, int fd)
{
	char p[64], real[PATH_MAX];
	FDPATH(p, fd);
	ssize_t n = readlink(p, real, sizeof(real) - 1);
	if (n <= 0)
		return NULL;
	real[n] = '\0';
	if (!launch_path_is_under(real, b->root))
		return NULL;
	const char *inner = real + strlen(b->root);
	while (inner[0] == '/' && inner[1] == '/')
		inner++;
	return xstrdup(*inner ? inner : "/");
}

static uint64_t mount_attrs(const struct launch_mount *m)
{
	return (m->readonly ? MOUNT_ATTR_RDONLY : 0) | (m->nosuid ? MOUNT_ATTR_NOSUID : 0) |
	       (m->nodev ? MOUNT_ATTR_NODEV : 0) | (m->noexec ? MOUNT_ATTR_NOEXEC : 0);
}

static unsigned long propagation_flags(enum launch_mount_propagation p)
{
	switch (p) {
	case LAUNCH_PROPAGATION_PRIVATE:
		return MS_PRIVATE;
	case LAUNCH_PROPAGATION_RPRIVATE:
		return MS_PRIVATE | MS_REC;
	case LAUNCH_PROPAGATION_SLAVE:
		return MS_SLAVE;
	case LAUNCH_PROPAGATION_RSLAVE:
		return MS_SLAVE | MS_REC;
	case LAUNCH_PROPAGATION_SHARED:
		return MS_SHARED;
	case LAUNCH_PROPAGATION_RSHARED:
		return MS_SHARED | MS_REC;
	case LAUNCH_PROPAGATION_UNBINDABLE:
		return MS_UNBINDABLE;
	case LAUNCH_PROPAGATION_RUNBINDABLE:
		return MS_UNBINDABLE | MS_REC;
	case LAUNCH_PROPAGATION_DEFAULT:
		break;
	}
	return 0;
}

/* The mount point of M (WHAT in messages), a directory when DIR, made when
 * missing. A user's destination is checked as written and again where the
 * image's symlinks led it; S is the source of a bind, NULL otherwise.
 * Returns the fd, -1 on error, or -2 for a user's mount that repeats a
 * site mount exactly (skipped). *INNER: where it lies inside the root. */
static int mount_point(struct builder *b, const struct launch_mount *m, const char *what, bool site,
		       const struct source *s, bool dir, char **inner, struct launch_error **err)
{
	int r = site ? 0 : check_destination(b, m->destination, m->destination, s, err);
	if (r != 0)
		return r > 0 ? -2 : -1;
	_cleanup_close_ int fd = ensure(b, m->destination, dir, err);
	if (fd < 0)
		return launch_error_wrap(err, "cannot mount %s on %s", what, m->destination);
	*inner = inner_path(b, fd);
	if (!site && !*inner)
		return launch_error_msg(err, "mount destination %s leads out of the container", m->destination);
	r = site ? 0 : check_destination(b, m->destination, *inner, s, err);
	if (r != 0)
		return r > 0 ? -2 : -1;
	return steal_fd(&fd);
}

static int user_bind(struct builder *b, const struct launch_mount *m, bool site, struct launch_error **err)
{
	struct source s;
	int ret = -1;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *inner = NULL;
	if (source_open(m->source, &s, err) < 0 || (!site && check_source(b, m->source, &s, err) < 0))
		goto out;
	bool dir = S_ISDIR(s.st.st_mode);
	if ((m->create == LAUNCH_CREATE_DIR && !dir) || (m->create == LAUNCH_CREATE_FILE && dir)) {
		launch_error_msg(err, "cannot mount %s on %s: x-create=%s, but %s is %s", m->source, m->destination,
				 dir ? "file" : "dir", m->source, dir ? "a directory" : "not a directory");
		goto out;
	}
	fd = mount_point(b, m, m->source, site, &s, dir, &inner, err);
	if (fd == -2) {
		launch_debug("mount %s on %s: the site mounts it there already", m->source, m->destination);
		ret = 0;
		goto out;
	}
	struct bind_how how = { .rec = m->nonrecursive ? 0 : MS_REC,
				.attrs = mount_attrs(m),
				.propagation = propagation_flags(m->propagation) };
	if (fd < 0 || bind_source(b, &s, m->source, fd, m->destination, &how, err) < 0)
		goto out;
	if (site)
		launch_strv_push(&b->site_dests, xstrdup(inner ? inner : m->destination));
	ret = 0;
out:
	source_close(&s);
	return ret;
}

/* A tmpfs of the user's or the site's: nosuid and nodev, as every file
 * system launch makes, and entries made in it stay in the container. */
static int user_tmpfs(struct builder *b, const struct launch_mount *m, bool site, struct launch_error **err)
{
	_cleanup_free_ char *inner = NULL;
	_cleanup_close_ int fd = mount_point(b, m, "a tmpfs", site, NULL, true, &inner, err);
	if (fd < 0)
		return -1;
	_cleanup_free_ char *data = m->tmpfs_size ? xasprintf("mode=%04o,size=%s", m->tmpfs_mode, m->tmpfs_size)
						  : xasprintf("mode=%04o", m->tmpfs_mode);
	unsigned long flags = MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0) | (m->noexec ? MS_NOEXEC : 0);
	char target[64];
	FDPATH(target, fd);
	if (mount("tmpfs", target, "tmpfs", flags, data) < 0)
		return launch_error_set(err, errno, "cannot mount a tmpfs (%s) on %s", data, m->destination);
	_cleanup_close_ int top = launch_resolve_in_root(b->rootfd, m->destination, O_PATH);
	if (top >= 0)
		add_own_mnt(b, top);
	if (finish_mount(b, m->destination, 0, propagation_flags(m->propagation), err) < 0)
		return -1;
	if (site)
		launch_strv_push(&b->site_dests, xstrdup(inner ? inner : m->destination));
	return 0;
}

/* Is FD (at INNER in the root) the root of a mount? */
static bool mount_root(const struct builder *b, int fd, const char *inner)
{
#ifdef STATX_ATTR_MOUNT_ROOT
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
#endif
	/* before Linux 5.8: the mount changes between the parent and here */
	_cleanup_free_ char *copy = xstrdup(inner);
	_cleanup_close_ int parent = launch_resolve_in_root(b->rootfd, dirname(copy), O_PATH);
	return parent >= 0 && mount_id(parent) != mount_id(fd);
}

/* umount:DST: the topmost mount on DST goes, with the mounts below it.
 * Only in the container's mount namespace, which nothing shares with the
 * host; a mount the host's namespace locked to its parent stays (the
 * kernel refuses, EINVAL), and so does launch's view of the image (the
 * root, shadows and what they re-bind). A user's DST obeys
 * deny_mount_destinations, as written and where the image's symlinks
 * lead it: a site protects its mounts there from removal too. */
static int user_umount(struct builder *b, const struct launch_mount *m, bool site, struct launch_error **err)
{
	const char *dst = m->destination, *which = NULL;
	if (!site && destination_denied(b, dst, &which))
		return launch_error_msg(err,
					"cannot remove the mount on %s: the site config does not allow changes "
					"there (deny_mount_destinations: %s)",
					dst, which);
	_cleanup_close_ int fd = launch_resolve_in_root(b->rootfd, dst, O_PATH);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot remove the mount on %s", dst);
	_cleanup_free_ char *inner = inner_path(b, fd);
	if (!inner)
		return launch_error_msg(err, "cannot remove the mount on %s: it leads out of the container", dst);
	if (!site && destination_denied(b, inner, &which))
		return launch_error_msg(err,
					"cannot remove the mount on %s, where the image's symlinks lead it (%s): "
					"the site config does not allow changes there (deny_mount_destinations: %s)",
					dst, inner, which);
	if (!mount_root(b, fd, inner))
		return launch_error_msg(err,
					"cannot remove the mount on %s: it is not a mount point in the container "
					"(see /proc/self/mountinfo inside)",
					dst);
	if (!strcmp(inner, "/") || internal(b, mount_id(fd)))
		return launch_error_msg(err,
					"cannot remove the mount on %s: it is part of the image as launch shows it "
					"(the image's root, or a read-only cover launch made to add mount points)",
					dst);
	char p[64];
	FDPATH(p, fd);
	if (umount2(p, MNT_DETACH) < 0) {
		if (errno == EINVAL)
			return launch_error_msg(err,
						"cannot remove the mount on %s: it came from the host together with "
						"the mount above it, and a user namespace cannot take them apart",
						dst);
		return launch_error_set(err, errno, "cannot remove the mount on %s", dst);
	}
	launch_debug("removed the mount on %s", inner);
	launch_strv_push(&b->removed, xstrdup(inner));
	if (site)
		launch_strv_push(&b->site_dests, xstrdup(inner));
	return 0;
}

static int user_mount(struct builder *b, const struct launch_mount *m, bool site, struct launch_error **err)
{
	switch (m->type) {
	case LAUNCH_MOUNT_TMPFS:
		return user_tmpfs(b, m, site, err);
	case LAUNCH_MOUNT_UMOUNT:
		return user_umount(b, m, site, err);
	case LAUNCH_MOUNT_BIND:
		break;
	}
	return user_bind(b, m, site, err);
}

/* The home directory, HOME as the user set it: checked against the site's
 * deny lists like any mount of the user's (a site mount may lie inside it:
 * /home is a common one). */
static int home_mount(struct builder *b, const char *home, struct launch_error **err)
{
	struct source s;
	const char *which = NULL;
	int r = source_open(home, &s, err);
	if (r == 0)
		r = check_source(b, home, &s, err);
	if (r == 0 && destination_denied(b, home, &which))
		r = launch_error_msg(err,
				     "home directory %s may not be mounted: the site config does not allow "
				     "mounts on %s (deny_mount_destinations)",
				     home, which);
	if (r == 0)
		r = bind_source(b, &s, home, -1, home, &(struct bind_how){ .rec = MS_REC }, err);
	source_close(&s);
	if (r < 0 && err && *err && (*err)->errno_ != EACCES)
		launch_error_wrap(err, "home directory (use --no-home, or set HOME)");
	return r;
}

/* A home directory that would cover a system directory of the image (HOME=/
 * or HOME=/etc in a broken environment): returns what it would hide. */
static const char *home_hides(const char *home)
{
	static const char *const system[] = { "/",	"/bin",	 "/dev",  "/etc", "/lib", "/lib32",
					      "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var" };
	for (size_t i = 0; i < ARRAY_SIZE(system); i++)
		if (!strcmp(home, system[i]) ||
		    (strcmp(system[i], "/") && launch_path_is_under(home, system[i]) && strcmp(system[i], "/var")))
			return system[i];
	return NULL;
}

/* Remount the shadows read-only: only the shadow itself, the binds inside
 * keep their own flags. */
static int seal_shadows(struct builder *b, struct launch_error **err)
{
	for (size_t i = 0; i < b->n_shadows; i++) {
		char p[64];
		FDPATH(p, b->shadows[i]);
		if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(p), NULL) < 0)
			return launch_error_set(err, errno, "cannot make a shadow directory read-only");
	}
	return 0;
}

static void builder_clear(struct builder *b)
{
	launch_strv_free(b->created);
	launch_strv_free(b->site_dests);
	launch_strv_free(b->removed);
	free(b->internal_mnts);
	free(b->own_mnts);
	for (size_t i = 0; i < b->n_shadows; i++)
		close(b->shadows[i]);
	free(b->shadows);
	free(b->image_mnts);
	if (b->rootfd >= 0)
		close(b->rootfd);
}

/* The host's /tmp, without the mounts below it: launch's own staging
 * mount may lie there. Mounts below it that came from the host's mount
 * namespace are locked to it in ours, and a bind without them fails
 * (EINVAL): then they come along, as the host shows them. */
static int bind_tmp(struct builder *b, struct launch_error **err)
{
	struct launch_error *e = NULL;
	if (bind_flags(b, "/tmp", "/tmp", false, 0, &e) == 0)
		return 0;
	if (e->errno_ != EINVAL) {
		if (err)
			*err = e;
		else
			launch_error_free(e);
		return -1;
	}
	launch_error_free(e);
	launch_debug("the host's /tmp has mounts below it that stay with it: bound with them");
	return bind_flags(b, "/tmp", "/tmp", false, MS_REC, err);
}

int launch_rootfs_build(const struct launch_spec *spec, const char *root, const char *stage, bool console,
			struct launch_error **err)
{
	struct builder b = { .spec = spec, .root = root, .stage = stage, .rootfd = -1, .console = console };
	int ret = -1;
	if (reopen_root(&b, err) < 0)
		return -1;
	add_image_mnt(&b, mount_id(b.rootfd));
	if (bind(&b, "/proc", "/proc", false, err) < 0 || bind(&b, "/sys", "/sys", false, err) < 0 ||
	    setup_dev(&b, err) < 0)
		goto out;
	if (spec->private_tmp) {
		if (mount_fs(&b, "tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0)
			goto out;
	} else if (bind_tmp(&b, err) < 0) {
		goto out;
	}
	if (!spec->no_home && spec->id.home) {
		const char *hidden = home_hides(spec->id.home);
		if (hidden) {
			launch_warn("not mounting HOME=%s: it would hide the image's %s (use --no-home, or set HOME)",
				    spec->id.home, hidden);
		} else if (access(spec->id.home, F_OK) == 0) {
			struct launch_error *e = NULL;
			if (home_mount(&b, spec->id.home, &e) < 0) {
				/* an image whose /home you may not enter (a private
				 * home of its own user) still runs, without yours */
				if (e->errno_ != EACCES) {
					if (err)
						*err = e;
					else
						launch_error_free(e);
					goto out;
				}
				launch_warn("%s: your home directory is not mounted (use --no-home to silence this)",
					    e->msg);
				launch_error_free(e);
			}
		} else {
			launch_warn("home directory %s does not exist on this host: not mounted", spec->id.home);
		}
	}
	if (setup_identity(&b, err) < 0)
		goto out;
	static const char *const host_files[] = { "/etc/hosts", "/etc/resolv.conf" };
	for (size_t i = 0; i < ARRAY_SIZE(host_files); i++)
		if (access(host_files[i], R_OK) == 0 && bind(&b, host_files[i], host_files[i], true, err) < 0)
			goto out;
	for (size_t i = 0; spec->config && i < spec->config->mounts.n; i++)
		if (user_mount(&b, &spec->config->mounts.v[i], true, err) < 0) {
			launch_error_wrap(err, "site mount");
			goto out;
		}
	for (size_t i = 0; i < spec->mounts.n; i++)
		if (user_mount(&b, &spec->mounts.v[i], false, err) < 0)
			goto out;
	if (seal_shadows(&b, err) < 0)
		goto out;
	if (b.created) {
		_cleanup_free_ char *list = spec->overlay ? xasprintf("%s/mountpoints", spec->overlay)
							  : xasprintf("%s/rw/mountpoints", stage);
		if (launch_upper_note_mountpoints(list, b.created, err) < 0)
			goto out;
	}
	ret = 0;
out:
	builder_clear(&b);
	return ret;
}

int launch_rootfs_pivot(const char *root, struct launch_error **err)
{
	if (chdir(root) < 0)
		return launch_error_set(err, errno, "cannot enter %s", root);
	/* pivot_root(".", ".") stacks the old root on the new one; detaching it
	 * leaves the new root alone, with no directory needed for the old. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return launch_error_set(err, errno, "pivot_root into %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return launch_error_set(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return launch_error_set(err, errno, "chdir /");
	return 0;
}

int launch_rootfs_chdir(const struct launch_spec *spec, const char **chosen, struct launch_error **err)
{
	if (spec->workdir) {
		if (chdir(spec->workdir) < 0)
			return launch_error_set(err, errno,
						"cannot use working directory %s in the container (--workdir)",
						spec->workdir);
		*chosen = spec->workdir;
		return 0;
	}
	if (spec->image.workdir) {
		if (chdir(spec->image.workdir) == 0) {
			*chosen = spec->image.workdir;
			return 0;
		}
		launch_warn("the image's working directory %s does not exist in the container: ignored",
			    spec->image.workdir);
	}
	if (spec->host_cwd && chdir(spec->host_cwd) == 0) {
		*chosen = spec->host_cwd;
		return 0;
	}
	if (chdir("/") < 0)
		return launch_error_set(err, errno, "chdir /");
	*chosen = "/";
	return 0;
}

/* --- putting host files into a built root (hookapi.h) --- */

struct launch_inject {
	struct builder b;
	struct launch_spec spec; /* none: no upper layer bookkeeping */
	char *root;
};

int launch_inject_begin(const char *root, struct launch_inject **out, struct launch_error **err)
{
	struct launch_inject *inj = xcalloc(1, sizeof(*inj));
	inj->root = xstrdup(root);
	inj->b.spec = &inj->spec;
	inj->b.root = inj->root;
	inj->b.rootfd = -1;
	inj->b.shadow_any = true;
	if (reopen_root(&inj->b, err) < 0) {
		launch_inject_end(inj, NULL);
		return -1;
	}
	add_image_mnt(&inj->b, mount_id(inj->b.rootfd));
	*out = inj;
	return 0;
}

int launch_inject_bind(struct launch_inject *inj, const char *src, const char *dst, bool readonly,
		       struct launch_error **err)
{
	if (dst[0] != '/')
		return launch_error_msg(err, "cannot mount %s on %s: the destination must be absolute", src, dst);
	return bind(&inj->b, src, dst, readonly, err);
}

int launch_inject_symlink(struct launch_inject *inj, const char *target, const char *dst, struct launch_error **err)
{
	if (dst[0] != '/')
		return launch_error_msg(err, "cannot create symlink %s: the path must be absolute", dst);
	int fd = ensure_node(&inj->b, dst, false, target, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int launch_inject_open(struct launch_inject *inj, const char *cpath, int flags)
{
	return launch_resolve_in_root(inj->b.rootfd, cpath, flags);
}

int launch_inject_end(struct launch_inject *inj, struct launch_error **err)
{
	if (!inj)
		return 0;
	int ret = seal_shadows(&inj->b, err);
	builder_clear(&inj->b);
	free(inj->root);
	free(inj);
	return ret;
}
