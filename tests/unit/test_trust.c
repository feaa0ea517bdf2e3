/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/trust.c: directories created with their mode, reused
 * only when the caller (or, where allowed, root) owns them, nobody else may
 * write them, and no directory above lets anyone else swap them; symlinks
 * are not followed. The cases with another owner need root (CI runs them). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "trust.h"
#include "util.h"

static int trust(const char *path, unsigned flags, struct launch_error **err)
{
	int fd = launch_trust_dir(path, getuid(), 0700, flags, "test directory", "pick another", err);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static void test_create(const char *dir)
{
	struct launch_error *err = NULL;
	struct stat st;
	_cleanup_free_ char *made = xasprintf("%s/a/b/c", dir);
	CHECK_INTEQ(trust(made, LAUNCH_TRUST_CREATE, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(stat(made, &st) == 0 && (st.st_mode & 07777) == 0700);
	_cleanup_free_ char *parent = xasprintf("%s/a/b", dir);
	CHECK(stat(parent, &st) == 0 && (st.st_mode & 07777) == 0755);
	/* again: exists, reused */
	CHECK_INTEQ(trust(made, LAUNCH_TRUST_CREATE, &err), 0);
	CHECK_NO_ERROR(err);

	/* missing without CREATE: an error, or ENOENT alone with MISSING_OK */
	_cleanup_free_ char *missing = xasprintf("%s/missing", dir);
	CHECK(trust(missing, 0, &err) < 0);
	CHECK_ERROR(err, "cannot open test directory", "No such file or directory");
	errno = 0;
	CHECK(trust(missing, LAUNCH_TRUST_MISSING_OK, &err) < 0);
	CHECK_INTEQ(errno, ENOENT);
	CHECK_NO_ERROR(err);

	CHECK(trust("relative/path", LAUNCH_TRUST_CREATE, &err) < 0);
	CHECK_ERROR(err, "must be an absolute path");
}

static void test_refused(const char *dir)
{
	struct launch_error *err = NULL;
	struct stat st;

	/* a symlink to a good directory is not followed */
	tu_mkdir(dir, "real");
	tu_symlink(dir, "link", "real");
	_cleanup_free_ char *link = xasprintf("%s/link", dir);
	CHECK(trust(link, LAUNCH_TRUST_CREATE, &err) < 0);
	CHECK_ERROR(err, "link is a symlink owned by", "not a directory", "does not follow it", "pick another");

	/* a file in the way */
	_cleanup_free_ char *file = tu_write(dir, "file", "x");
	CHECK(trust(file, LAUNCH_TRUST_CREATE, &err) < 0);
	CHECK_ERROR(err, "is a file owned by");

	/* writable by others: refused, with the mode and the fix */
	tu_mkdir(dir, "open");
	_cleanup_free_ char *open_ = xasprintf("%s/open", dir);
	CHECK(chmod(open_, 0777) == 0);
	CHECK(trust(open_, 0, &err) < 0);
	CHECK_ERROR(err, "is writable by other users (mode 0777)", "chmod go-w");
	CHECK(chmod(open_, 0775) == 0);
	CHECK(trust(open_, 0, &err) < 0);
	CHECK_ERROR(err, "is writable by its group (mode 0775)");

	/* readable by others: fine, and made private with PRIVATE */
	CHECK(chmod(open_, 0755) == 0);
	CHECK_INTEQ(trust(open_, 0, &err), 0);
	CHECK(stat(open_, &st) == 0 && (st.st_mode & 07777) == 0755);
	CHECK_INTEQ(trust(open_, LAUNCH_TRUST_PRIVATE, &err), 0);
	CHECK(stat(open_, &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK_NO_ERROR(err);

	/* below a directory others may write without the sticky bit */
	tu_mkdir(dir, "shared");
	_cleanup_free_ char *shared = xasprintf("%s/shared", dir), *mine = xasprintf("%s/shared/mine", dir);
	CHECK(chmod(shared, 0777) == 0);
	CHECK(trust(mine, LAUNCH_TRUST_CREATE, &err) < 0);
	CHECK_ERROR(err, "is not safe", "the directory above it", "mode 0777", "its group or other users");
	/* with the sticky bit (as /tmp): fine */
	CHECK(chmod(shared, 01777) == 0);
	CHECK_INTEQ(trust(mine, LAUNCH_TRUST_CREATE, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(chmod(shared, 0755) == 0);
}

static void test_owners(const char *dir)
{
	if (getuid() != 0) {
		printf("SKIP: directories owned by another uid (not running as root)\n");
		return;
	}
	struct launch_error *err = NULL;
	/* the caller is root here: check as uid 65534 */
	tu_mkdir(dir, "owners");
	_cleanup_free_ char *top = xasprintf("%s/owners", dir), *theirs = xasprintf("%s/owners/theirs", dir);
	CHECK(chown(top, 65534, 65534) == 0);
	tu_mkdir(top, "theirs");
	CHECK(chown(theirs, 12345, 12345) == 0);
	int fd = launch_trust_dir(theirs, 65534, 0700, 0, "store", NULL, &err);
	CHECK(fd < 0);
	CHECK_ERROR(err, "store", "belongs to uid 12345, not to you", "remove it");
	/* root's: only where root may own it */
	CHECK(chown(theirs, 0, 0) == 0);
	fd = launch_trust_dir(theirs, 65534, 0700, 0, "store", NULL, &err);
	CHECK(fd < 0);
	CHECK_ERROR(err, "belongs to uid 0", "not to you");
	fd = launch_trust_dir(theirs, 65534, 0700, LAUNCH_TRUST_ROOT, "hooks directory", NULL, &err);
	CHECK(fd >= 0);
	CHECK_NO_ERROR(err);
	if (fd >= 0)
		close(fd);
	/* a directory above owned by another user: that user could swap it */
	CHECK(chown(top, 12345, 12345) == 0);
	CHECK(chown(theirs, 65534, 65534) == 0);
	fd = launch_trust_dir(theirs, 65534, 0700, 0, "store", NULL, &err);
	CHECK(fd < 0);
	CHECK_ERROR(err, "is not safe", "owner uid 12345", "lets its owner rename it");
}

static void test_create_file(const char *dir)
{
	/* a planted temporary that points nowhere creates nothing there */
	tu_symlink(dir, "planted.tmp", "/etc/passwd-launch-test");
	_cleanup_free_ char *planted = xasprintf("%s/planted", dir);
	CHECK_INTEQ(launch_write_file_atomic(planted, "x", 1, 0600), 0);
	struct stat st;
	CHECK(lstat(planted, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(access("/etc/passwd-launch-test", F_OK) < 0);

	/* launch_write_file_atomic replaces a planted symlink, never follows it */
	_cleanup_free_ char *victim = tu_write(dir, "victim", "keep");
	_cleanup_free_ char *path = xasprintf("%s/state", dir), *tmp = xasprintf("%s/state.tmp", dir);
	CHECK(symlink(victim, tmp) == 0);
	CHECK_INTEQ(launch_write_file_atomic(path, "new", 3, 0600), 0);
	char *text = NULL;
	CHECK(launch_read_file_at(AT_FDCWD, victim, 100, &text, NULL) == 0 && text && !strcmp(text, "keep"));
	free(text);
	text = NULL;
	CHECK(launch_read_file_at(AT_FDCWD, path, 100, &text, NULL) == 0 && text && !strcmp(text, "new"));
	free(text);
}

int main(void)
{
	char *dir = tu_mkdtemp();
	CHECK(chmod(dir, 0755) == 0);
	test_create(dir);
	test_refused(dir);
	test_owners(dir);
	test_create_file(dir);
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
