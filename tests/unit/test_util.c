/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/util.c: lexical path normalisation, component-wise
 * "is under", string vectors and prefixes, edit distance and "did you mean",
 * relative times, aligned tables, the whole-file read and write helpers
 * with their size limit, the PATH search, and closing or marking the
 * descriptors a child is not to keep. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "util.h"

static void norm(const char *in, const char *want, int line)
{
	char *got = launch_path_normalize(in);
	check_record_(got && !strcmp(got, want), __FILE__, line, "normalize(\"%s\") = \"%s\", expected \"%s\"", in,
		      check_str_(got), want);
	free(got);
}
#define NORM(in, want) norm(in, want, __LINE__)

static void test_normalize(void)
{
	NORM("/", "/");
	NORM("//", "/");
	NORM("///a//b///", "/a/b");
	NORM("/a/b/c", "/a/b/c");
	NORM("/a/./b/.", "/a/b");
	NORM("/./", "/");
	NORM("/.", "/");
	NORM("/..", "/");
	NORM("/../..", "/");
	NORM("/../a", "/a");
	NORM("/a/..", "/");
	NORM("/a/../..", "/");
	NORM("/a/b/../c", "/a/c");
	NORM("/a/b/../../c/", "/c");
	NORM("/a/b/c/../../../../d", "/d");
	NORM("/a/.../b", "/a/.../b"); /* only "." and ".." are special */
	NORM("/a/..b/c.", "/a/..b/c.");
	NORM("/.hidden/./x", "/.hidden/x");
	NORM("/a b/c:d", "/a b/c:d");
	CHECK_NULL(launch_path_normalize("relative"));
	CHECK_NULL(launch_path_normalize("./a"));
	CHECK_NULL(launch_path_normalize("../a"));
	CHECK_NULL(launch_path_normalize(""));
	CHECK_NULL(launch_path_normalize(NULL));
}

static void test_is_under(void)
{
	CHECK(launch_path_is_under("/a/b", "/a/b"));
	CHECK(launch_path_is_under("/a/b/c", "/a/b"));
	CHECK(launch_path_is_under("/a/b/c/d", "/a"));
	CHECK(launch_path_is_under("/a/b/c", "/a/b/"));
	CHECK(launch_path_is_under("/a/b", "/a/b//"));
	CHECK(launch_path_is_under("/a", "/"));
	CHECK(launch_path_is_under("/", "/"));
	CHECK(launch_path_is_under("/etc/shadow", "//"));
	CHECK(!launch_path_is_under("/a/bc", "/a/b"));
	CHECK(!launch_path_is_under("/a/b", "/a/bc"));
	CHECK(!launch_path_is_under("/a", "/a/b"));
	CHECK(!launch_path_is_under("/", "/a"));
	CHECK(!launch_path_is_under("/ab", "/a"));
	CHECK(!launch_path_is_under("/a-b/c", "/a"));
	CHECK(!launch_path_is_under("/etc/shadow2", "/etc/shadow"));
	CHECK(!launch_path_is_under("/b/a", "/a"));
}

static void test_strv(void)
{
	CHECK_INTEQ(launch_strv_len(NULL), 0);
	launch_strv_free(NULL);
	char **v = NULL;
	launch_strv_push(&v, xstrdup("a"));
	CHECK_INTEQ(launch_strv_len(v), 1);
	CHECK(v[1] == NULL);
	launch_strv_push(&v, xstrdup("b"));
	launch_strv_push(&v, xstrdup(""));
	CHECK_INTEQ(launch_strv_len(v), 3);
	CHECK_STREQ(v[0], "a");
	CHECK_STREQ(v[1], "b");
	CHECK_STREQ(v[2], "");
	CHECK(v[3] == NULL);

	char **c = launch_strv_copy(v);
	CHECK(c != v);
	CHECK_INTEQ(launch_strv_len(c), 3);
	for (size_t i = 0; i < 3; i++) {
		CHECK_STREQ(c[i], v[i]);
		CHECK(c[i] != v[i]); /* a deep copy */
	}
	CHECK(c[3] == NULL);
	launch_strv_free(c);

	char **e = launch_strv_copy(NULL);
	CHECK(e != NULL && e[0] == NULL);
	launch_strv_free(e);

	{
		_cleanup_strv_ char **scoped = launch_strv_copy(v);
		CHECK_INTEQ(launch_strv_len(scoped), 3);
	}
	launch_strv_free(v);

	CHECK(launch_str_has_prefix("hello", "he"));
	CHECK(launch_str_has_prefix("hello", "hello"));
	CHECK(launch_str_has_prefix("hello", ""));
	CHECK(!launch_str_has_prefix("he", "hello"));
	CHECK(!launch_str_has_prefix("hello", "hE"));
}

static void test_alloc(void)
{
	char *s = xasprintf("%s-%d", "x", 42);
	CHECK_STREQ(s, "x-42");
	free(s);
	s = xstrndup("abcdef", 3);
	CHECK_STREQ(s, "abc");
	free(s);
	s = xstrndup("ab", 10);
	CHECK_STREQ(s, "ab");
	free(s);
	int *z = xcalloc(4, sizeof(int));
	CHECK(z[0] == 0 && z[3] == 0);
	z = xrealloc(z, 0); /* never NULL */
	CHECK(z != NULL);
	free(z);
	void *m = xmalloc(0);
	CHECK(m != NULL);
	free(m);
	char *p = xstrdup("steal");
	char *q = steal_pointer(&p);
	CHECK(p == NULL);
	CHECK_STREQ(q, "steal");
	free(q);
	int fd = 7;
	CHECK_INTEQ(steal_fd(&fd), 7);
	CHECK_INTEQ(fd, -1);
}

static void write_size(const char *path, size_t n)
{
	char *buf = xmalloc(n + 1);
	memset(buf, 'a', n);
	buf[n] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && launch_write_all(fd, buf, n) == 0);
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* Read PATH with limit MAX; expect success with N bytes (or EFBIG when N < 0). */
static void read_size(const char *path, size_t max, long n, int line)
{
	char *out = NULL;
	size_t len = 0;
	errno = 0;
	int r = launch_read_file_at(AT_FDCWD, path, max, &out, &len);
	if (n < 0)
		check_record_(r < 0 && errno == EFBIG && out == NULL, __FILE__, line,
			      "read with max %zu fails with EFBIG (r %d, %s)", max, r, strerror(errno));
	else
		check_record_(r == 0 && out && len == (size_t)n && strlen(out) == (size_t)n, __FILE__, line,
			      "read with max %zu gives %ld bytes (r %d, len %zu, %s)", max, n, r, len, strerror(errno));
	free(out);
}

static void test_files(const char *dir)
{
	_cleanup_free_ char *path = tu_write(dir, "f", "hello\nworld");
	char *out = NULL;
	size_t len = 0;
	CHECK_INTEQ(launch_read_file_at(AT_FDCWD, path, 100, &out, &len), 0);
	CHECK_STREQ(out, "hello\nworld");
	CHECK_INTEQ(len, 11);
	free(out);
	out = NULL;
	/* relative to a directory fd, and without a length */
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK_INTEQ(launch_read_file_at(dfd, "f", 100, &out, NULL), 0);
	CHECK_STREQ(out, "hello\nworld");
	free(out);
	out = NULL;
	CHECK_ERRNO(launch_read_file_at(dfd, "nope", 100, &out, NULL), ENOENT);
	CHECK(out == NULL);
	close(dfd);

	_cleanup_free_ char *empty = tu_write(dir, "empty", "");
	CHECK_INTEQ(launch_read_file_at(AT_FDCWD, empty, 0, &out, &len), 0);
	CHECK_STREQ(out, "");
	CHECK_INTEQ(len, 0);
	free(out);

	/* the limit: at most MAX bytes */
	_cleanup_free_ char *big = xasprintf("%s/big", dir);
	read_size(path, 11, 11, __LINE__);
	read_size(path, 10, -1, __LINE__);
	write_size(big, 4095);
	read_size(big, 4096, 4095, __LINE__);
	write_size(big, 4097);
	read_size(big, 4096, -1, __LINE__);
	read_size(big, 5000, 4097, __LINE__);
	write_size(big, 20000);
	read_size(big, 1u << 20, 20000, __LINE__);
	read_size(big, 19999, -1, __LINE__);
	read_size(big, 20000, 20000, __LINE__);
	/* a file of exactly MAX bytes, MAX a multiple of the 4096-byte buffer */
	write_size(big, 4096);
	read_size(big, 4096, 4096, __LINE__);
	write_size(big, 8192);
	read_size(big, 8192, 8192, __LINE__);

	/* launch_write_file writes into an existing file, and only that */
	_cleanup_free_ char *w = tu_write(dir, "w", "");
	CHECK_INTEQ(launch_write_file(w, "written"), 0);
	CHECK_INTEQ(launch_read_file_at(AT_FDCWD, w, 100, &out, NULL), 0);
	CHECK_STREQ(out, "written");
	free(out);
	_cleanup_free_ char *nw = xasprintf("%s/not-there", dir);
	CHECK_ERRNO(launch_write_file(nw, "x"), ENOENT);
	CHECK(access(nw, F_OK) < 0);

	/* launch_write_all through a pipe, and to a bad fd */
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK_INTEQ(launch_write_all(p[1], "abc", 3), 0);
	close(p[1]);
	CHECK_INTEQ(launch_read_fd(p[0], 100, &out, &len), 0);
	CHECK_STREQ(out, "abc");
	free(out);
	close(p[0]);
	CHECK_ERRNO(launch_write_all(-1, "abc", 3), EBADF);
	CHECK_ERRNO(launch_read_fd(-1, 10, &out, NULL), EBADF);
}

static void test_edit_distance(void)
{
	CHECK_INTEQ(launch_edit_distance("", ""), 0);
	CHECK_INTEQ(launch_edit_distance("run", "run"), 0);
	CHECK_INTEQ(launch_edit_distance("", "run"), 3);
	CHECK_INTEQ(launch_edit_distance("run", ""), 3);
	CHECK_INTEQ(launch_edit_distance("rnu", "run"), 1); /* a swap is one edit */
	CHECK_INTEQ(launch_edit_distance("imgaes", "images"), 1);
	CHECK_INTEQ(launch_edit_distance("pul", "pull"), 1);
	CHECK_INTEQ(launch_edit_distance("stratt", "start"), 2);
	CHECK_INTEQ(launch_edit_distance("kitten", "sitting"), 3);
	CHECK_INTEQ(launch_edit_distance("ca", "abc"), 3); /* no edit of a swapped pair (OSA, not Damerau) */

	const char *const cmds[] = { "run", "pull", "images", "rmi", "start", "stop", "ps" };
	size_t n = ARRAY_SIZE(cmds);
	CHECK_INTEQ(launch_closest("rnu", cmds, n), 0);
	CHECK_INTEQ(launch_closest("imgaes", cmds, n), 2);
	CHECK_INTEQ(launch_closest("strat", cmds, n), 4);
	CHECK_INTEQ(launch_closest("rm", cmds, n), 3);
	CHECK_INTEQ(launch_closest("run", cmds, n), 0);
	CHECK_INTEQ(launch_closest("frobnicate", cmds, n), n);
	CHECK_INTEQ(launch_closest("xyz", cmds, n), n);	     /* 3 edits from run: no hint */
	CHECK_INTEQ(launch_closest("imagesxx", cmds, n), 2); /* 8 characters: 2 edits */
	CHECK_INTEQ(launch_closest("", cmds, n), n);
	const char *const tags[] = { "busybox:latest", "lab/tools:1.2" };
	CHECK_INTEQ(launch_closest("bsybox:latest", tags, 2), 0);
	CHECK_INTEQ(launch_closest("lab/tols:1.3", tags, 2), 1);
	CHECK_INTEQ(launch_closest("debian:latest", tags, 2), 2);
}

static void ago(int64_t seconds, const char *want, int line)
{
	char buf[64];
	launch_time_ago(1700000000, 1700000000 + seconds, buf, sizeof(buf));
	check_record_(!strcmp(buf, want), __FILE__, line, "%lld seconds: \"%s\", expected \"%s\"", (long long)seconds,
		      buf, want);
}
#define AGO(s, want) ago(s, want, __LINE__)

static void test_time_ago(void)
{
	AGO(-5, "0 seconds ago"); /* a clock set back */
	AGO(0, "0 seconds ago");
	AGO(1, "1 second ago");
	AGO(59, "59 seconds ago");
	AGO(60, "1 minute ago");
	AGO(119, "1 minute ago");
	AGO(120, "2 minutes ago");
	AGO(3599, "59 minutes ago");
	AGO(3600, "1 hour ago");
	AGO(7200, "2 hours ago");
	AGO(2 * 86400 - 1, "47 hours ago");
	AGO(2 * 86400, "2 days ago");
	AGO(3 * 86400 + 5, "3 days ago");
	AGO(14 * 86400, "2 weeks ago");
	AGO(60 * 86400, "2 months ago");
	AGO(400 * 86400, "13 months ago");
	AGO(730 * 86400, "2 years ago");
	char small[7];
	launch_time_ago(0, 3600, small, sizeof(small));
	CHECK_STREQ(small, "1 hour"); /* cut to the buffer, NUL-terminated */
}

/* tmpfs sizes (--writable-size, tmpfs:DST:size=): bytes, k/m/g in either
 * case, 1-100%; nothing tmpfs would read as "no limit" (0, or past 1 EiB). */
static void test_size_valid(void)
{
	static const char *const good[] = {
		"1", "4096", "64k", "64K", "2m", "2M", "1g", "1G", "1%", "100%", "1152921504606846976", "1073741824g"
	};
	static const char *const bad[] = { "",
					   "0",
					   "0k",
					   "k",
					   "1t",
					   "1kb",
					   "1 g",
					   "-1",
					   "1.5g",
					   "101%",
					   "0%",
					   "%",
					   "1152921504606846977",
					   "1073741825g",
					   "99999999999999999999999" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		check_record_(launch_size_valid(good[i]), __FILE__, __LINE__, "size `%s` is valid", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_record_(!launch_size_valid(bad[i]), __FILE__, __LINE__, "size `%s` is refused", bad[i]);
}

static void test_table(void)
{
	struct launch_table t;
	launch_table_init(&t, 3);
	_cleanup_free_ char *empty = launch_table_text(&t);
	CHECK_STREQ(empty, "");
	launch_table_add(&t, (const char *[]){ "NAME", "TAG", "SIZE" });
	launch_table_add(&t, (const char *[]){ "a-rather-long-name", "1", "2.0MB" });
	launch_table_add(&t, (const char *[]){ "b", NULL, "" });
	launch_table_add(&t, (const char *[]){ "caf\xc3\xa9", "t", "3kB" }); /* 4 characters, 5 bytes */
	_cleanup_free_ char *text = launch_table_text(&t);
	CHECK_STREQ(text,
		    "NAME                 TAG   SIZE\n"
		    "a-rather-long-name   1     2.0MB\n"
		    "b\n"
		    "caf\xc3\xa9                 t     3kB\n");
	launch_table_clear(&t);
	CHECK(t.cells == NULL && t.nrows == 0);
}

static char *exe(const char *dir, const char *name, mode_t mode)
{
	char *path = tu_write(dir, name, "#!/bin/sh\n");
	if (chmod(path, mode) < 0)
		tu_die("chmod", path);
	return path;
}

static bool not_in_c(const char *file, const struct stat *st)
{
	(void)st;
	return !strstr(file, "/c/");
}

/* a/cmd not executable, b/cmd a directory, c/cmd and e/cmd executable */
static void test_find_command(const char *top)
{
	_cleanup_free_ char *dir = xasprintf("%s/path", top);
	if (mkdir(dir, 0755) < 0)
		tu_die("mkdir", dir);
	const char *subs[] = { "a", "b", "c", "e" };
	for (size_t i = 0; i < 4; i++)
		tu_mkdir(dir, subs[i]);
	_cleanup_free_ char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir), *c = xasprintf("%s/c", dir),
			    *e = xasprintf("%s/e", dir);
	free(exe(a, "cmd", 0644));
	tu_mkdir(b, "cmd");
	free(exe(c, "cmd", 0755));
	free(exe(e, "cmd", 0755));
	_cleanup_free_ char *abc = xasprintf("%s:%s:%s", a, b, c), *ab = xasprintf("%s:%s", a, b),
			    *ace = xasprintf("%s:%s:%s", a, c, e), *want_a = xasprintf("%s/cmd", a),
			    *want_c = xasprintf("%s/cmd", c), *want_e = xasprintf("%s/cmd", e);
	char *r;

	CHECK_STREQ(r = launch_find_command("sub/cmd", "/nowhere"), "sub/cmd"); /* a '/': as it is */
	free(r);
	CHECK_STREQ(r = launch_find_command("cmd", abc), want_c); /* executable beats an earlier one that is not */
	free(r);
	CHECK_STREQ(r = launch_find_command("cmd", ab), want_a); /* only a non-executable: it, for 126 */
	free(r);
	CHECK_NULL(r = launch_find_command("cmd", b)); /* a directory is no command */
	free(r);
	CHECK_NULL(r = launch_find_command("missing", abc));
	free(r);

	CHECK_STREQ(r = launch_find_program("cmd", abc, NULL), want_c);
	free(r);
	CHECK_NULL(r = launch_find_program("cmd", ab, NULL)); /* never one that is not executable */
	free(r);
	CHECK_STREQ(r = launch_find_program("cmd", ace, not_in_c), want_e);
	free(r);

	/* an empty entry is the working directory for commands, never for programs */
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (here < 0 || chdir(c) < 0)
		tu_die("chdir", c);
	CHECK_STREQ(r = launch_find_command("cmd", ":/nowhere"), "./cmd");
	free(r);
	CHECK_NULL(r = launch_find_program("cmd", ":/nowhere", NULL));
	free(r);
	if (fchdir(here) < 0)
		tu_die("fchdir", ".");
	close(here);
}

/* In a child (the descriptors of this program stay as they are): every
 * descriptor above 2 but the kept ones marked close-on-exec, or closed. */
static void test_fds(void)
{
	for (int close_them = 0; close_them <= 1; close_them++) {
		int p[2];
		if (pipe(p) < 0)
			tu_die("pipe", "");
		pid_t pid = fork();
		if (pid < 0)
			tu_die("fork", "");
		if (pid == 0) {
			int a = dup(p[1]), b = dup(p[1]), c = dup(p[1]);
			int keep[] = { p[1], b };
			int r = close_them ? launch_fds_close(keep, 2) : launch_fds_close_on_exec(keep, 2);
			int fa = fcntl(a, F_GETFD), fb = fcntl(b, F_GETFD), fc = fcntl(c, F_GETFD);
			bool ok = r == 0 && fcntl(0, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0 && fb == 0 &&
				  (close_them ? fa < 0 && fc < 0 && fcntl(p[0], F_GETFD) < 0
					      : fa == FD_CLOEXEC && fc == FD_CLOEXEC);
			ssize_t w = write(p[1], ok ? "y" : "n", 1);
			_exit(w == 1 ? 0 : 1);
		}
		close(p[1]);
		char got = 0;
		ssize_t n = read(p[0], &got, 1);
		close(p[0]);
		int st;
		waitpid(pid, &st, 0);
		check_record_(n == 1 && got == 'y' && WIFEXITED(st) && WEXITSTATUS(st) == 0, __FILE__, __LINE__,
			      "launch_fds_%s keeps 0-2 and KEEP and %s the others",
			      close_them ? "close" : "close_on_exec", close_them ? "closes" : "marks");
	}
}

int main(void)
{
	char *dir = tu_mkdtemp();
	test_normalize();
	test_is_under();
	test_strv();
	test_alloc();
	test_edit_distance();
	test_time_ago();
	test_table();
	test_size_valid();
	test_files(dir);
	test_find_command(dir);
	test_fds();
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
