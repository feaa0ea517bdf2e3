/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/resolve.c: a temporary tree whose symlinks try to leave
 * it (absolute targets, "..", chains, loops, dangling links, non-directories
 * in the middle) must resolve inside it, with openat2(RESOLVE_IN_ROOT) and
 * with the fallback walk alike. Files are identified by st_dev/st_ino, and
 * same-named files outside the tree (one level up, and the host's /etc) must
 * never be what comes back. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "resolve.h"
#include "testutil.h"
#include "util.h"

static char *outer, *root;
static int rootfd = -1;

enum { ANY = -1 };

struct rcase {
	const char *path;
	int flags;
	const char *want; /* path relative to the root ("." is the root), or NULL */
	int err;	  /* errno expected when WANT is NULL */
};

static const struct rcase cases[] = {
	/* plain paths, absolute and relative alike */
	{ "etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "/etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "dir//sub///file", O_RDONLY, "dir/sub/file", 0 },
	{ "dir/sub/../sub/./file", O_RDONLY, "dir/sub/file", 0 },
	{ "/", O_PATH | O_DIRECTORY, ".", 0 },
	{ "/", O_RDONLY | O_DIRECTORY, ".", 0 },
	{ ".", O_PATH, ".", 0 },
	{ "dir", O_RDONLY | O_DIRECTORY, "dir", 0 },
	{ "dir/", O_PATH, "dir", 0 },
	/* ".." stops at the root */
	{ "..", O_PATH, ".", 0 },
	{ "../etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "/../../../etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "dir/../../etc/hostname", O_PATH, "etc/hostname", 0 },
	{ "dir/sub/../../../../etc/passwd", O_RDONLY, "etc/passwd", 0 },
	/* absolute symlinks restart at the root */
	{ "abs", O_RDONLY, "etc/hostname", 0 },
	{ "abs", O_PATH, "etc/hostname", 0 },
	{ "absdir/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "absdir/../etc/passwd", O_RDONLY, "etc/passwd", 0 },
	{ "absdir", O_RDONLY | O_DIRECTORY, "etc", 0 },
	{ "absroot", O_PATH, ".", 0 },
	{ "absroot/etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "dir/sub/abs2", O_RDONLY, "etc/hostname", 0 },
	{ "dir/sub/abs3", O_RDONLY, "etc/passwd", 0 },
	{ "dir/absetc/hostname", O_RDONLY, "etc/hostname", 0 },
	/* relative symlinks cannot climb out */
	{ "rel", O_RDONLY, "etc/hostname", 0 },
	{ "relone", O_RDONLY, "etc/hostname", 0 },
	{ "dir/up/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "dir/upone/passwd", O_RDONLY, "etc/passwd", 0 },
	{ "dotdot", O_PATH, ".", 0 },
	{ "dotdot/dotdot/etc/hostname", O_RDONLY, "etc/hostname", 0 },
	{ "dir/sub/updir/etc/hostname", O_RDONLY, "etc/hostname", 0 },
	/* chains */
	{ "chain1", O_RDONLY, "etc/hostname", 0 },
	{ "chain1", O_PATH, "etc/hostname", 0 },
	{ "dirlink/file", O_RDONLY, "dir/sub/file", 0 },
	{ "dirlink", O_RDONLY | O_DIRECTORY, "dir/sub", 0 },
	{ "dirlink/", O_PATH, "dir/sub", 0 },
	{ "linkfile", O_RDONLY, "file", 0 },
	{ "long30", O_RDONLY, "file", 0 },
	{ "long40", O_RDONLY, "file", 0 },
	{ "long41", O_RDONLY, NULL, ELOOP },
	/* loops */
	{ "loop1", O_RDONLY, NULL, ELOOP },
	{ "loop1", O_PATH, NULL, ELOOP },
	{ "loop1/x", O_PATH, NULL, ELOOP },
	{ "self", O_RDONLY, NULL, ELOOP },
	{ "dir/sub/loopup/x", O_PATH, NULL, ELOOP },
	/* dangling and missing */
	{ "dangling", O_RDONLY, NULL, ENOENT },
	{ "dangling", O_PATH, NULL, ENOENT },
	{ "dangling/x", O_PATH, NULL, ENOENT },
	{ "danglingrel", O_RDONLY, NULL, ENOENT },
	{ "missing", O_PATH, NULL, ENOENT },
	{ "missing/x", O_PATH, NULL, ENOENT },
	{ "procself/etc/hostname", O_RDONLY, NULL, ENOENT }, /* /proc/self/root of the host, were it followed */
	{ "", O_PATH, NULL, ENOENT },
	/* non-directories in the middle, or where a directory is asked for */
	{ "file/x", O_PATH, NULL, ENOTDIR },
	{ "file/..", O_PATH, NULL, ENOTDIR },
	{ "linkfile/x", O_PATH, NULL, ENOTDIR },
	{ "etc/hostname/x", O_RDONLY, NULL, ENOTDIR },
	{ "abs/x", O_RDONLY, NULL, ENOTDIR },
	{ "etc/hostname", O_RDONLY | O_DIRECTORY, NULL, ENOTDIR },
	{ "etc/hostname", O_PATH | O_DIRECTORY, NULL, ENOTDIR },
	{ "linkfile", O_PATH | O_DIRECTORY, NULL, ENOTDIR },
	{ "file/", O_PATH, NULL, ENOTDIR },
	{ "file/", O_RDONLY, NULL, ENOTDIR },
	{ "linkfile/", O_PATH, NULL, ENOTDIR },
	/* a component longer than NAME_MAX */
	{ "dir/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  O_PATH, NULL, ENAMETOOLONG },
};

static void build_tree(void)
{
	outer = tu_mkdtemp();
	/* a decoy one level above the root, where an escape by ".." would land */
	tu_mkdir(outer, "etc");
	free(tu_write(outer, "etc/hostname", "outside\n"));
	free(tu_write(outer, "etc/passwd", "outside\n"));
	tu_mkdir(outer, "root");
	root = xasprintf("%s/root", outer);
	tu_mkdir(root, "etc");
	free(tu_write(root, "etc/hostname", "inside\n"));
	free(tu_write(root, "etc/passwd", "inside passwd\n"));
	tu_mkdir(root, "dir");
	tu_mkdir(root, "dir/sub");
	free(tu_write(root, "dir/sub/file", "file in sub\n"));
	free(tu_write(root, "file", "plain file\n"));
	tu_symlink(root, "abs", "/etc/hostname");
	tu_symlink(root, "absdir", "/etc");
	tu_symlink(root, "absroot", "/");
	tu_symlink(root, "dir/sub/abs2", "/../../etc/hostname");
	tu_symlink(root, "dir/sub/abs3", "/etc/passwd");
	tu_symlink(root, "dir/absetc", "/etc");
	/* decoys where an absolute target taken as relative would land */
	tu_mkdir(root, "dir/sub/etc");
	free(tu_write(root, "dir/sub/etc/passwd", "decoy\n"));
	tu_mkdir(root, "dir/etc");
	free(tu_write(root, "dir/etc/hostname", "decoy\n"));
	tu_symlink(root, "rel", "../../../../etc/hostname");
	tu_symlink(root, "relone", "../etc/hostname");
	tu_symlink(root, "dir/up", "../../../../../../etc");
	tu_symlink(root, "dir/upone", "../../etc");
	tu_symlink(root, "dotdot", "..");
	tu_symlink(root, "dir/sub/updir", "../../..");
	tu_symlink(root, "chain1", "chain2");
	tu_symlink(root, "chain2", "dir/chain3");
	tu_symlink(root, "dir/chain3", "../abs");
	tu_symlink(root, "dirlink", "dir/sub");
	tu_symlink(root, "linkfile", "file");
	tu_symlink(root, "loop1", "loop2");
	tu_symlink(root, "loop2", "/loop1");
	tu_symlink(root, "self", "self");
	tu_symlink(root, "dir/sub/loopup", "../sub/loopup");
	tu_symlink(root, "dangling", "/nonexistent");
	tu_symlink(root, "danglingrel", "dir/nothing");
	tu_symlink(root, "procself", "/proc/self/root");
	/* chains of exactly 30, 40 and 41 symlinks ending at /file (the kernel
	 * follows at most 40) */
	const int lens[] = { 30, 40, 41 };
	for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
		for (int i = 1; i <= lens[l]; i++) {
			_cleanup_free_ char *name =
				i == 1 ? xasprintf("long%d", lens[l]) : xasprintf("long%d.%d", lens[l], i);
			_cleanup_free_ char *target =
				i == lens[l] ? xstrdup("/file") : xasprintf("long%d.%d", lens[l], i + 1);
			tu_symlink(root, name, target);
		}
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		tu_die("open", root);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Run one case in the current mode; returns the fd's identity (or errno). */
static void run_case(const struct rcase *c, const char *mode, struct stat *out, int *err_out)
{
	memset(out, 0, sizeof(*out));
	errno = 0;
	int fd = launch_resolve_in_root(rootfd, c->path, c->flags);
	*err_out = fd < 0 ? errno : 0;
	if (fd < 0) {
		check_record_(c->want == NULL && errno == c->err, __FILE__, __LINE__,
			      "[%s] \"%s\" (flags %#x): failed with %s, expected %s%s", mode, c->path, c->flags,
			      strerror(errno), c->want ? "the file " : "", c->want ? c->want : strerror(c->err));
		return;
	}
	CHECK(fstat(fd, out) == 0);
	int fdflags = fcntl(fd, F_GETFD);
	check_record_(fdflags >= 0 && (fdflags & FD_CLOEXEC), __FILE__, __LINE__, "[%s] \"%s\": fd is close-on-exec",
		      mode, c->path);
	if (!c->want) {
		check_record_(false, __FILE__, __LINE__, "[%s] \"%s\" (flags %#x): succeeded, expected %s", mode,
			      c->path, c->flags, strerror(c->err));
		close(fd);
		return;
	}
	struct stat want;
	if (fstatat(rootfd, c->want, &want, AT_SYMLINK_NOFOLLOW) < 0)
		tu_die("stat", c->want);
	check_record_(out->st_dev == want.st_dev && out->st_ino == want.st_ino, __FILE__, __LINE__,
		      "[%s] \"%s\" (flags %#x): not %s in the tree", mode, c->path, c->flags, c->want);
	/* never the same-named file outside the tree */
	const char *escapes[] = { "/etc/hostname",   "/etc/passwd",   "/etc",	"/",
				  "../etc/hostname", "../etc/passwd", "../etc", ".." };
	for (size_t i = 0; i < ARRAY_SIZE(escapes); i++) {
		struct stat host;
		if (fstatat(rootfd, escapes[i], &host, 0) == 0 && out->st_dev == host.st_dev &&
		    out->st_ino == host.st_ino)
			check_record_(false, __FILE__, __LINE__, "[%s] \"%s\" escaped to %s", mode, c->path,
				      escapes[i]);
	}
	/* an O_PATH fd for a path whose last component is a symlink is the target */
	CHECK(!S_ISLNK(out->st_mode));
	/* a readable regular file reads as the file in the tree */
	if (!(c->flags & O_PATH) && S_ISREG(out->st_mode)) {
		char buf[64] = { 0 }, exp[64] = { 0 };
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		int wfd = openat(rootfd, c->want, O_RDONLY | O_CLOEXEC);
		ssize_t m = wfd >= 0 ? pread(wfd, exp, sizeof(exp) - 1, 0) : -1;
		if (wfd >= 0)
			close(wfd);
		check_record_(n > 0 && n == m && !strcmp(buf, exp), __FILE__, __LINE__,
			      "[%s] \"%s\": reads \"%s\", expected \"%s\"", mode, c->path, buf, exp);
	}
	if (c->flags & O_DIRECTORY)
		CHECK(S_ISDIR(out->st_mode));
	close(fd);
}

int main(void)
{
	build_tree();

	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	long probe = syscall(SYS_openat2, rootfd, "etc", &how, sizeof(how));
	if (probe < 0)
		printf("note: openat2 is not available here (%s): both passes test the fallback walk\n",
		       strerror(errno));
	else
		close((int)probe);

	int fds_before = count_fds();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct stat st[2];
		int err[2];
		launch_resolve_force_fallback = false;
		run_case(&cases[i], "openat2", &st[0], &err[0]);
		launch_resolve_force_fallback = true;
		run_case(&cases[i], "fallback", &st[1], &err[1]);
		check_record_(err[0] == err[1] && st[0].st_dev == st[1].st_dev && st[0].st_ino == st[1].st_ino,
			      __FILE__, __LINE__, "\"%s\" (flags %#x): openat2 and the fallback disagree (%s vs %s)",
			      cases[i].path, cases[i].flags, err[0] ? strerror(err[0]) : "an fd",
			      err[1] ? strerror(err[1]) : "an fd");
	}
	launch_resolve_force_fallback = false;
	CHECK_INTEQ(count_fds(), fds_before); /* no fd leaked on any path */

	/* a root opened O_RDONLY (not O_PATH) works the same */
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int fb = 0; fb < 2; fb++) {
		launch_resolve_force_fallback = fb;
		int fd = launch_resolve_in_root(rfd, "rel", O_RDONLY);
		char buf[16] = { 0 };
		CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0);
		CHECK_STREQ(buf, "inside\n");
		if (fd >= 0)
			close(fd);
	}
	launch_resolve_force_fallback = false;
	close(rfd);

	close(rootfd);
	tu_rm_rf(outer);
	free(outer);
	free(root);
	return check_done();
}
