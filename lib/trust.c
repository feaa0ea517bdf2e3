/* SPDX-License-Identifier: Apache-2.0 */
/* Trusted directories (see trust.h): created with their mode, or reused
 * only after fstat shows that nobody else controls them or the path to
 * them. The checks follow OpenSSH's StrictModes for ~/.ssh: owner and
 * write bits of the directory and of every directory above it. */
#define _GNU_SOURCE
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* "uid 1002 (alice)" */
static char *owner_text(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		return xasprintf("uid %u (%s)", (unsigned)uid, res->pw_name);
	return xasprintf("uid %u", (unsigned)uid);
}

static char *label(const char *what, const char *path)
{
	return what ? xasprintf("%s %s", what, path) : xstrdup(path);
}

static char *fix_text(const char *hint)
{
	return hint ? xasprintf(", or %s", hint) : xstrdup("");
}

/* mkdir -p: missing parents 0755, PATH itself MODE. */
static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* Each directory above directory FD (opened from PATH, named in messages)
 * is root's or UID's, and not writable by group or others without the
 * sticky bit. */
static int check_ancestors(int fd, const char *path, uid_t uid, const char *what, struct launch_error **err)
{
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/')
		return launch_error_set(err, n < 0 ? errno : EINVAL, "cannot tell where %s is", path);
	real[n] = '\0';
	/* The real path has no symlink left: lstat of each prefix is the
	 * directory the kernel walked through. */
	for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		struct stat st;
		if (lstat(real, &st) < 0)
			return launch_error_set(err, errno, "cannot check %s, above %s", real, path);
		bool owner_ok = st.st_uid == 0 || st.st_uid == uid;
		bool write_ok = !(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX);
		if (!owner_ok || !write_ok) {
			_cleanup_free_ char *l = label(what, path), *o = owner_text(st.st_uid);
			return launch_error_msg(err,
						"%s is not safe: the directory above it, %s (owner %s, mode %04o), "
						"lets %s rename it and put another in its place (choose a directory "
						"below one only you and root can change)",
						l, real, o, (unsigned)(st.st_mode & 07777),
						owner_ok ? "its group or other users" : "its owner");
		}
		if (slash == real)
			break;
	}
	return 0;
}

int launch_trust_dir(const char *path, uid_t uid, mode_t mode, unsigned flags, const char *what, const char *hint,
		     struct launch_error **err)
{
	if (!path || path[0] != '/') {
		_cleanup_free_ char *l = label(what, path ? path : "(none)");
		return launch_error_msg(err, "%s must be an absolute path", l);
	}
	if ((flags & LAUNCH_TRUST_CREATE) && mkdir_parents(path, mode) < 0) {
		_cleanup_free_ char *l = label(what, path);
		return launch_error_set(err, errno, "cannot create %s", l);
	}
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && (flags & LAUNCH_TRUST_MISSING_OK)) {
			errno = ENOENT;
			return -1;
		}
		_cleanup_free_ char *l = label(what, path), *fix = fix_text(hint);
		struct stat st;
		if ((e == ELOOP || e == ENOTDIR) && lstat(path, &st) == 0) {
			_cleanup_free_ char *o = owner_text(st.st_uid);
			return launch_error_msg(err,
						"%s is %s owned by %s, not a directory: launch does not follow it "
						"(remove it%s)",
						l, S_ISLNK(st.st_mode) ? "a symlink" : "a file", o, fix);
		}
		return launch_error_set(err, e, "cannot open %s", l);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		_cleanup_free_ char *l = label(what, path);
		return launch_error_set(err, errno, "cannot stat %s", l);
	}
	if (st.st_uid != uid && !((flags & LAUNCH_TRUST_ROOT) && st.st_uid == 0)) {
		_cleanup_free_ char *l = label(what, path), *o = owner_text(st.st_uid), *fix = fix_text(hint);
		return launch_error_msg(err,
					"%s belongs to %s, not to you%s: whoever owns it controls what it holds "
					"(remove it if it is yours to remove%s)",
					l, o, (flags & LAUNCH_TRUST_ROOT) ? " or root" : "", fix);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		_cleanup_free_ char *l = label(what, path);
		return launch_error_msg(err,
					"%s is writable by %s (mode %04o): others could have put files in it "
					"(check what it holds, then run: chmod go-w %s)",
					l, (st.st_mode & S_IWOTH) ? "other users" : "its group",
					(unsigned)(st.st_mode & 07777), path);
	}
	if ((flags & LAUNCH_TRUST_PRIVATE) && (st.st_mode & 077) && fchmod(fd, st.st_mode & 07700) < 0) {
		_cleanup_free_ char *l = label(what, path);
		return launch_error_set(err, errno, "cannot make %s private", l);
	}
	if (check_ancestors(fd, path, uid, what, err) < 0)
		return -1;
	return steal_fd(&fd);
}
