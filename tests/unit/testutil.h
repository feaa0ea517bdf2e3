/* SPDX-License-Identifier: Apache-2.0 */
/* Scratch files for the unit tests: a private temporary directory per test
 * program, small files written into it, and its removal at the end. The
 * helpers abort on failure, since a test without its fixtures means nothing. */
#ifndef LAUNCH_TEST_TESTUTIL_H
#define LAUNCH_TEST_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static inline void tu_die(const char *what, const char *path)
{
	fprintf(stderr, "test setup failed: %s %s: %m\n", what, path);
	exit(2);
}

/* A fresh directory under $TMPDIR (or /tmp); free the result. */
static inline char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/launch-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		tu_die("mkdtemp", dir);
	/* Work with the real path: getcwd() and /proc/self/fd report it. */
	char *real = realpath(dir, NULL);
	if (!real)
		tu_die("realpath", dir);
	free(dir);
	return real;
}

/* Write CONTENT to DIR/NAME (mode 0644, replacing it); returns the path. */
static inline char *tu_write(const char *dir, const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		tu_die("create", path);
	if (launch_write_all(fd, content, strlen(content)) < 0)
		tu_die("write", path);
	if (fchmod(fd, 0644) < 0)
		tu_die("chmod", path);
	close(fd);
	return path;
}

static inline void tu_mkdir(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	if (mkdir(path, 0755) < 0)
		tu_die("mkdir", path);
	free(path);
}

static inline void tu_symlink(const char *dir, const char *name, const char *target)
{
	char *path = xasprintf("%s/%s", dir, name);
	if (symlink(target, path) < 0)
		tu_die("symlink", path);
	free(path);
}

static inline int tu_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		fprintf(stderr, "warning: cannot remove %s: %m\n", path);
	return 0;
}

/* rm -rf PATH (symlinks are removed, not followed). */
static inline void tu_rm_rf(const char *path)
{
	nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
