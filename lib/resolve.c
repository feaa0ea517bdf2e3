/* SPDX-License-Identifier: Apache-2.0 */
/* Path resolution confined to a root directory (see resolve.h). */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

bool launch_resolve_force_fallback;
static bool no_openat2;

#define MAX_SYMLINKS 40
#define MAX_DEPTH 256

/* Walk PATH from ROOTFD one component at a time, never above ROOTFD. */
static int resolve_fallback(int rootfd, const char *path, int flags)
{
	int stack[MAX_DEPTH];
	int depth = 0, links = 0, ret = -1, saved;
	if (!*path) {
		errno = ENOENT; /* as openat2 */
		return -1;
	}
	stack[0] = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stack[0] < 0)
		return -1;
	/* REST holds what is left to walk; symlink targets are spliced in front. */
	_cleanup_free_ char *rest = xstrdup(path);
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		/* "name/" must be a directory too, as in the kernel */
		bool last = *end == '\0';
		char name[256];
		size_t n = (size_t)(end - p);
		if (n >= sizeof(name)) {
			errno = ENAMETOOLONG;
			goto out;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p = end;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		int fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto out;
		struct stat st;
		if (fstat(fd, &st) < 0) {
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t tl = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (tl < 0)
				goto out;
			target[tl] = '\0';
			if (++links > MAX_SYMLINKS) {
				errno = ELOOP;
				goto out;
			}
			char *np = xasprintf("%s%s", target, p);
			free(rest);
			rest = np;
			p = rest;
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			goto out;
		}
		if (depth + 1 >= MAX_DEPTH) {
			close(fd);
			errno = ENAMETOOLONG;
			goto out;
		}
		stack[++depth] = fd;
	}
	if (flags & O_PATH && !(flags & O_DIRECTORY)) {
		ret = stack[depth];
		depth--;
	} else {
		ret = openat(stack[depth], ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
		if (ret < 0 && errno == ENOTDIR) {
			/* a non-directory: reopen it through its O_PATH fd */
			_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", stack[depth]);
			ret = (flags & O_DIRECTORY) ? (errno = ENOTDIR, -1)
						    : open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
		}
	}
out:
	saved = errno;
	for (; depth >= 0; depth--)
		close(stack[depth]);
	errno = saved;
	return ret;
}

int launch_resolve_in_root(int rootfd, const char *path, int flags)
{
	if (!launch_resolve_force_fallback && !no_openat2) {
		struct open_how how = {
			.flags = (unsigned long long)(flags | O_CLOEXEC),
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		no_openat2 = true; /* old kernel, or a seccomp filter that forbids it */
	}
	return resolve_fallback(rootfd, path, flags);
}
