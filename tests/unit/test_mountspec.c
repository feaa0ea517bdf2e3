/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/mountspec.c: the short form HOST[:CTR[:ro|rw]], the long
 * docker-style form and the comma-separated list, with every error message,
 * path normalisation, and relative sources made absolute against the cwd. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "mountspec.h"
#include "testutil.h"
#include "util.h"

enum form { SHORT, LONG };

static int parse(enum form f, const char *spec, struct launch_mount *m, struct launch_error **err)
{
	return f == LONG ? launch_mountspec_parse_long(spec, m, err) : launch_mountspec_parse_short(spec, m, err);
}

/* Parse SPEC and expect success with these fields. */
static void good(enum form f, const char *spec, const char *src, const char *dst, bool ro)
{
	struct launch_mount m;
	struct launch_error *err = NULL;
	int r = parse(f, spec, &m, &err);
	if (!check_record_(r == 0, __FILE__, __LINE__, "`%s` parses (error: %s)", spec, err ? err->msg : "none")) {
		launch_error_free(err);
		return;
	}
	CHECK_NO_ERROR(err);
	check_record_(m.source && !strcmp(m.source, src), __FILE__, __LINE__, "`%s`: source \"%s\", expected \"%s\"",
		      spec, check_str_(m.source), src);
	check_record_(m.destination && !strcmp(m.destination, dst), __FILE__, __LINE__,
		      "`%s`: destination \"%s\", expected \"%s\"", spec, check_str_(m.destination), dst);
	check_record_(m.readonly == ro, __FILE__, __LINE__, "`%s`: readonly is %d, expected %d", spec, m.readonly, ro);
	launch_mount_clear(&m);
	CHECK(m.source == NULL && m.destination == NULL);
}

/* Parse SPEC and expect an error "invalid mount `SPEC`: ...WHAT...". */
static void bad(enum form f, const char *spec, const char *what)
{
	struct launch_mount m;
	struct launch_error *err = NULL;
	int r = parse(f, spec, &m, &err);
	check_record_(r < 0, __FILE__, __LINE__, "`%s` is refused", spec);
	/* A failed parse leaves nothing behind to free. */
	check_record_(!m.source && !m.destination && !m.readonly, __FILE__, __LINE__, "`%s`: output cleared", spec);
	if (r < 0) {
		_cleanup_free_ char *quoted = xasprintf("invalid mount `%s`: ", spec);
		CHECK_ERROR(err, quoted, what);
	} else {
		launch_mount_clear(&m);
		launch_error_free(err);
	}
}

static void test_short(void)
{
	good(SHORT, "/data", "/data", "/data", false);
	good(SHORT, "/data:/mnt", "/data", "/mnt", false);
	good(SHORT, "/data:/mnt:ro", "/data", "/mnt", true);
	good(SHORT, "/data:/mnt:rw", "/data", "/mnt", false);
	/* normalisation of both paths */
	good(SHORT, "//data//x/", "/data/x", "/data/x", false);
	good(SHORT, "/data/./a/../b:/mnt//c/./d/..:ro", "/data/b", "/mnt/c", true);
	good(SHORT, "/../../data:/../mnt", "/data", "/mnt", false);

	bad(SHORT, "/data:/mnt:xx", "unknown option `xx` (expected ro or rw)");
	bad(SHORT, "/data:/mnt:RO", "unknown option `RO`");
	bad(SHORT, "/data:/mnt:", "unknown option ``");
	bad(SHORT, "/data:/mnt:ro:extra", "too many `:`");
	bad(SHORT, "/a:/b:ro:", "too many `:`");
	bad(SHORT, "/a:/b:c:d:e", "too many `:`");
	bad(SHORT, "", "the source path is empty");
	bad(SHORT, ":/mnt", "the source path is empty");
	bad(SHORT, "::", "the source path is empty");
	bad(SHORT, "/data:", "the destination path is empty");
	bad(SHORT, "/data::ro", "the destination path is empty");
	bad(SHORT, "/data:mnt", "the destination `mnt` must be an absolute path");
	bad(SHORT, "/data:./mnt:ro", "the destination `./mnt` must be an absolute path");
	bad(SHORT, "/data:/", "cannot mount over the container's root directory");
	bad(SHORT, "/data://", "cannot mount over the container's root directory");
	bad(SHORT, "/data:/mnt/..", "cannot mount over the container's root directory");
	bad(SHORT, "/", "cannot mount over the container's root directory");
	bad(SHORT, "/a/..", "cannot mount over the container's root directory");
}

/* Relative sources are made absolute against the cwd (then normalised). */
static void test_relative_source(void)
{
	char *dir = tu_mkdtemp();
	tu_mkdir(dir, "sub");
	char old[PATH_MAX];
	CHECK(getcwd(old, sizeof(old)) != NULL);
	_cleanup_free_ char *sub = xasprintf("%s/sub", dir);
	CHECK(chdir(sub) == 0);

	_cleanup_free_ char *data = xasprintf("%s/sub/data", dir);
	_cleanup_free_ char *up = xasprintf("%s/other", dir);
	good(SHORT, "data", data, data, false); /* the destination defaults to the absolute source */
	good(SHORT, "data:/mnt:ro", data, "/mnt", true);
	good(SHORT, "./data/.:/mnt", data, "/mnt", false);
	good(SHORT, "../other:/o", up, "/o", false);
	good(SHORT, ".:/here", sub, "/here", false);
	good(LONG, "type=bind,src=data,dst=/mnt", data, "/mnt", false);

	/* a cwd that no longer exists cannot anchor a relative source */
	tu_mkdir(dir, "gone");
	_cleanup_free_ char *gone = xasprintf("%s/gone", dir);
	CHECK(chdir(gone) == 0);
	CHECK(rmdir(gone) == 0);
	bad(SHORT, "rel:/mnt", "cannot make `rel` absolute: No such file or directory");
	bad(LONG, "type=bind,source=rel,destination=/mnt", "cannot make `rel` absolute");
	good(SHORT, "/abs/is/fine", "/abs/is/fine", "/abs/is/fine", false);

	CHECK(chdir(old) == 0);
	tu_rm_rf(dir);
	free(dir);
}

static void test_long(void)
{
	good(LONG, "type=bind,source=/data,destination=/mnt", "/data", "/mnt", false);
	good(LONG, "type=bind,src=/data,dst=/mnt", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,target=/mnt", "/data", "/mnt", false);
	good(LONG, "destination=/mnt,source=/data,type=bind", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=true", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=1", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=false", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=0", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,ro", "/data", "/mnt", true);
	good(LONG, "type=bind,source=//data/./x/..,destination=/mnt//y/", "/data", "/mnt/y", false);
	/* Paths may contain `:`, which the short form cannot express. */
	good(LONG, "type=bind,source=/a:b,destination=/c:d", "/a:b", "/c:d", false);

	bad(LONG, "source=/data,destination=/mnt", "missing type=bind");
	bad(LONG, "", "missing type=bind");
	bad(LONG, "type=volume,source=/data,destination=/mnt", "unsupported type `volume` (only type=bind");
	bad(LONG, "type,source=/data,destination=/mnt", "unsupported type ``");
	bad(LONG, "type=,source=/data,destination=/mnt", "unsupported type ``");
	bad(LONG, "type=bind,destination=/mnt", "missing source=HOST_PATH");
	bad(LONG, "type=bind,source=/data", "missing destination=CONTAINER_PATH");
	bad(LONG, "type=bind,readonly", "missing source=HOST_PATH");
	bad(LONG, "type=bind,source=/a,source=/b,destination=/mnt", "source given twice");
	bad(LONG, "type=bind,src=/a,source=/b,destination=/mnt", "source given twice");
	bad(LONG, "type=bind,source=/a,dst=/b,target=/c", "destination given twice");
	bad(LONG, "type=bind,source=/a,destination=/b,destination=/c", "destination given twice");
	bad(LONG, "type=bind,source=/a,destination=/b,readonly=yes", "readonly must be true or false, not `yes`");
	bad(LONG, "type=bind,source=/a,destination=/b,readonly=", "readonly must be true or false, not ``");
	bad(LONG, "type=bind,source=/a,destination=/b,bind-propagation=shared",
	    "unknown key `bind-propagation` (expected type, source, destination, readonly)");
	bad(LONG, "type=bind,source=/a,destination=/b,Source=/c", "unknown key `Source`");
	bad(LONG, "type=bind,source=,destination=/b", "the source path is empty");
	bad(LONG, "type=bind,source,destination=/b", "the source path is empty");
	bad(LONG, "type=bind,source=/a,destination=", "the destination path is empty");
	bad(LONG, "type=bind,source=/a,destination=b", "the destination `b` must be an absolute path");
	bad(LONG, "type=bind,source=/a,destination=/", "cannot mount over the container's root directory");
	bad(LONG, "type=bind,source=/a,destination=/b/../..", "cannot mount over the container's root directory");
}

static void test_list(void)
{
	struct launch_mounts ms = { 0 };
	struct launch_error *err = NULL;

	CHECK_INTEQ(launch_mountspec_parse_list("/a,/b:/c:ro,/d:/e:rw", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	if (CHECK(ms.n == 3)) {
		CHECK_STREQ(ms.v[0].source, "/a");
		CHECK_STREQ(ms.v[0].destination, "/a");
		CHECK(!ms.v[0].readonly);
		CHECK_STREQ(ms.v[1].source, "/b");
		CHECK_STREQ(ms.v[1].destination, "/c");
		CHECK(ms.v[1].readonly);
		CHECK_STREQ(ms.v[2].source, "/d");
		CHECK_STREQ(ms.v[2].destination, "/e");
		CHECK(!ms.v[2].readonly);
	}
	/* a second list appends */
	CHECK_INTEQ(launch_mountspec_parse_list(",,/x//y,,", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	if (CHECK(ms.n == 4))
		CHECK_STREQ(ms.v[3].destination, "/x/y");
	launch_mounts_clear(&ms);
	CHECK(ms.n == 0 && ms.v == NULL);

	CHECK_INTEQ(launch_mountspec_parse_list("", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(ms.n, 0);

	/* an error names the offending entry; entries before it stay for the caller to clear */
	CHECK(launch_mountspec_parse_list("/a,/b:rel,/c", &ms, &err) < 0);
	CHECK_ERROR(err, "invalid mount `/b:rel`", "the destination `rel` must be an absolute path");
	CHECK_INTEQ(ms.n, 1);
	launch_mounts_clear(&ms);

	CHECK(launch_mountspec_parse_list("/a:/b:ro:x", &ms, &err) < 0);
	CHECK_ERROR(err, "invalid mount `/a:/b:ro:x`", "too many `:`");
	CHECK_INTEQ(ms.n, 0);
	launch_mounts_clear(&ms);

	/* launch_mounts_push moves the mount and clears the original */
	struct launch_mount m = { xstrdup("/s"), xstrdup("/d"), true };
	launch_mounts_push(&ms, &m);
	CHECK(m.source == NULL && m.destination == NULL && !m.readonly);
	CHECK(ms.n == 1 && ms.v[0].readonly);
	launch_mounts_clear(&ms);
	launch_mounts_clear(&ms); /* clearing twice is harmless */
}

int main(void)
{
	test_short();
	test_relative_source();
	test_long();
	test_list();
	return check_done();
}
