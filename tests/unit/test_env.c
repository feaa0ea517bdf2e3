/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/env.c: variable names, the host environment minus the
 * built-in and site deny lists, --env arguments (NAME=VALUE, NAME copied from
 * the host or unset) and env files (comments, blank lines, export, CRLF, and
 * errors that name the right line). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "env.h"
#include "testutil.h"
#include "util.h"

static bool valid(const char *name)
{
	return launch_env_name_valid(name, strlen(name));
}

static void test_names(void)
{
	CHECK(valid("PATH"));
	CHECK(valid("_"));
	CHECK(valid("_x9"));
	CHECK(valid("a"));
	CHECK(valid("LD_LIBRARY_PATH2"));
	CHECK(!valid(""));
	CHECK(!valid("9LIVES"));
	CHECK(!valid("A-B"));
	CHECK(!valid("A B"));
	CHECK(!valid("A=B"));
	CHECK(!valid("A.B"));
	CHECK(!valid("\xc3\xa9t\xc3\xa9"));
	/* only the first LEN bytes count */
	CHECK(launch_env_name_valid("FOO=bar", 3));
	CHECK(!launch_env_name_valid("FOO=bar", 4));
	CHECK(!launch_env_name_valid("FOO", 0));
}

static void test_set_get_unset(void)
{
	struct launch_env e = { 0 };
	CHECK_NULL(launch_env_get(&e, "A"));
	launch_env_unset(&e, "A"); /* on an empty environment */
	launch_env_set(&e, "A", "1");
	launch_env_set(&e, "AB", "2");
	launch_env_set(&e, "B", "");
	CHECK_STREQ(launch_env_get(&e, "A"), "1");
	CHECK_STREQ(launch_env_get(&e, "AB"), "2");
	CHECK_STREQ(launch_env_get(&e, "B"), "");
	CHECK_NULL(launch_env_get(&e, "ABC"));
	CHECK_NULL(launch_env_get(&e, "")); /* a prefix of every name, but not a name */
	launch_env_set(&e, "A", "one");
	CHECK_STREQ(launch_env_get(&e, "A"), "one");
	CHECK_INTEQ(launch_strv_len(e.vars), 3);
	launch_env_unset(&e, "AB");
	CHECK_INTEQ(launch_strv_len(e.vars), 2);
	CHECK_NULL(launch_env_get(&e, "AB"));
	CHECK_STREQ(e.vars[0], "A=one");
	CHECK_STREQ(e.vars[1], "B=");
	CHECK_NULL(e.vars[2]);
	launch_env_unset(&e, "A");
	launch_env_unset(&e, "B");
	CHECK_INTEQ(launch_strv_len(e.vars), 0);
	launch_env_clear(&e);
	CHECK_NULL(e.vars);
	launch_env_clear(&e);
}

static void test_from_host(void)
{
	/* the built-in list is what env.h promises */
	const char *const want[] = { "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "XDG_RUNTIME_DIR" };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		bool found = false;
		for (size_t j = 0; launch_env_builtin_deny[j]; j++)
			found |= !strcmp(launch_env_builtin_deny[j], want[i]);
		check_record_(found, __FILE__, __LINE__, "%s is in launch_env_builtin_deny", want[i]);
	}

	char *host[] = {
		"PATH=/host/bin",
		"HOME=/home/u",
		"LD_PRELOAD=/lib/libevil.so",
		"LD_LIBRARY_PATH=/opt/lib",
		"LD_AUDIT=x",
		"XDG_RUNTIME_DIR=/run/user/1000",
		"LD_PRELOAD_NOT=kept",	/* deny lists match whole names */
		"SECRET_TOKEN=hunter2", /* site-denied */
		"SECRET=kept",
		"TOKEN=also-denied",
		"9BAD=x",
		"A-B=x",
		"=nameless",
		"NOEQUALS",
		"EQ=a=b=c",
		"EMPTY=",
		"PATH=/second/wins",
		NULL,
	};
	char *site[] = { "SECRET_TOKEN", "TOKEN", NULL };
	struct launch_env e = { 0 };
	launch_env_from_host(&e, host, site);
	CHECK_STREQ(launch_env_get(&e, "PATH"), "/second/wins");
	CHECK_STREQ(launch_env_get(&e, "HOME"), "/home/u");
	CHECK_NULL(launch_env_get(&e, "LD_PRELOAD"));
	CHECK_NULL(launch_env_get(&e, "LD_LIBRARY_PATH"));
	CHECK_NULL(launch_env_get(&e, "LD_AUDIT"));
	CHECK_NULL(launch_env_get(&e, "XDG_RUNTIME_DIR"));
	CHECK_STREQ(launch_env_get(&e, "LD_PRELOAD_NOT"), "kept");
	CHECK_NULL(launch_env_get(&e, "SECRET_TOKEN"));
	CHECK_NULL(launch_env_get(&e, "TOKEN"));
	CHECK_STREQ(launch_env_get(&e, "SECRET"), "kept");
	CHECK_NULL(launch_env_get(&e, "9BAD"));
	CHECK_NULL(launch_env_get(&e, "A-B"));
	CHECK_NULL(launch_env_get(&e, "NOEQUALS"));
	CHECK_STREQ(launch_env_get(&e, "EQ"), "a=b=c");
	CHECK_STREQ(launch_env_get(&e, "EMPTY"), "");
	CHECK_INTEQ(launch_strv_len(e.vars), 6); /* PATH HOME LD_PRELOAD_NOT SECRET EQ EMPTY */
	launch_env_clear(&e);

	/* no site list, and no host environment at all */
	launch_env_from_host(&e, host, NULL);
	CHECK_STREQ(launch_env_get(&e, "TOKEN"), "also-denied");
	CHECK_NULL(launch_env_get(&e, "LD_PRELOAD"));
	launch_env_clear(&e);
	launch_env_from_host(&e, NULL, site);
	CHECK_NULL(e.vars);
	launch_env_clear(&e);
}

static void test_apply_arg(void)
{
	struct launch_env e = { 0 };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_env_apply_arg(&e, "FOO=bar", &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(launch_env_get(&e, "FOO"), "bar");
	CHECK_INTEQ(launch_env_apply_arg(&e, "FOO=a=b", &err), 0);
	CHECK_STREQ(launch_env_get(&e, "FOO"), "a=b");
	CHECK_INTEQ(launch_env_apply_arg(&e, "EMPTY=", &err), 0);
	CHECK_STREQ(launch_env_get(&e, "EMPTY"), "");
	CHECK_INTEQ(launch_env_apply_arg(&e, "SP=  spaced  ", &err), 0);
	CHECK_STREQ(launch_env_get(&e, "SP"), "  spaced  ");

	/* NAME copies the host's value ... */
	setenv("LAUNCH_UNIT_HOSTVAR", "from host", 1);
	CHECK_INTEQ(launch_env_apply_arg(&e, "LAUNCH_UNIT_HOSTVAR", &err), 0);
	CHECK_STREQ(launch_env_get(&e, "LAUNCH_UNIT_HOSTVAR"), "from host");
	/* ... even when the built-in list keeps it out of from_host */
	setenv("LD_LIBRARY_PATH", "/explicit", 1);
	CHECK_INTEQ(launch_env_apply_arg(&e, "LD_LIBRARY_PATH", &err), 0);
	CHECK_STREQ(launch_env_get(&e, "LD_LIBRARY_PATH"), "/explicit");
	/* ... and unsets it when the host lacks it */
	unsetenv("LAUNCH_UNIT_HOSTVAR");
	CHECK_INTEQ(launch_env_apply_arg(&e, "LAUNCH_UNIT_HOSTVAR", &err), 0);
	CHECK_NULL(launch_env_get(&e, "LAUNCH_UNIT_HOSTVAR"));
	unsetenv("LAUNCH_UNIT_NEVER_SET");
	CHECK_INTEQ(launch_env_apply_arg(&e, "LAUNCH_UNIT_NEVER_SET", &err), 0);
	CHECK_NULL(launch_env_get(&e, "LAUNCH_UNIT_NEVER_SET"));
	CHECK_NO_ERROR(err);

	const char *bad[] = { "", "=value", "1X=1", "A-B=1", "A B=1", "-e", "A B", "FOO BAR=baz", "\xc3\xa9=1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t before = launch_strv_len(e.vars);
		check_record_(launch_env_apply_arg(&e, bad[i], &err) < 0, __FILE__, __LINE__, "--env `%s` is refused",
			      bad[i]);
		_cleanup_free_ char *quoted = xasprintf("invalid --env `%s`", bad[i]);
		CHECK_ERROR(err, quoted, "expected NAME=VALUE");
		CHECK_INTEQ(launch_strv_len(e.vars), before);
	}
	launch_env_clear(&e);
}

static void test_apply_file(const char *dir)
{
	struct launch_env e = { 0 };
	struct launch_error *err = NULL;
	launch_env_set(&e, "KEEP", "old");
	launch_env_set(&e, "OVER", "old");
	_cleanup_free_ char *good = tu_write(dir, "good.env",
					     "# a comment\n"
					     "\n"
					     "A=1\r\n"
					     "   \t\n"
					     "  # an indented comment\n"
					     "export B=two words\n"
					     "  C=indented\n"
					     "OVER=new\r\n"
					     "D=x=y # not a comment\n"
					     "E=\n"
					     "\r\n"
					     "exportF=1\n"
					     "LAST=no newline");
	CHECK_INTEQ(launch_env_apply_file(&e, good, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(launch_env_get(&e, "A"), "1");
	CHECK_STREQ(launch_env_get(&e, "B"), "two words");
	CHECK_STREQ(launch_env_get(&e, "C"), "indented");
	CHECK_STREQ(launch_env_get(&e, "OVER"), "new");
	CHECK_STREQ(launch_env_get(&e, "KEEP"), "old");
	CHECK_STREQ(launch_env_get(&e, "D"), "x=y # not a comment");
	CHECK_STREQ(launch_env_get(&e, "E"), "");
	CHECK_STREQ(launch_env_get(&e, "exportF"), "1");
	CHECK_STREQ(launch_env_get(&e, "LAST"), "no newline");
	CHECK_NULL(launch_env_get(&e, "export B"));
	for (size_t i = 0; e.vars && e.vars[i]; i++)
		check_record_(!strchr(e.vars[i], '\r'), __FILE__, __LINE__, "no CR left in `%s`", e.vars[i]);
	launch_env_clear(&e);

	_cleanup_free_ char *empty = tu_write(dir, "empty.env", "");
	CHECK_INTEQ(launch_env_apply_file(&e, empty, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_NULL(e.vars);

	/* Errors name the file and the line; blank lines and comments count. */
	struct {
		const char *text, *where, *got;
	} bad[] = {
		{ "A=1\n\n\n# c\nnot an assignment\nB=2\n", ":5: expected NAME=VALUE", "got `not an assignment`" },
		{ "bad\n", ":1: expected NAME=VALUE", "got `bad`" },
		{ "\r\n\r\nA=1\r\n1X=2\r\n", ":4: expected NAME=VALUE", "got `1X=2`" },
		{ "A=1\n\n=x\n", ":3: expected NAME=VALUE", "got `=x`" },
		{ "export\n", ":1: expected NAME=VALUE", "got `export`" },
		{ "\n\nexport A B=1\n", ":3: expected NAME=VALUE", "got `export A B=1`" },
		{ "A B=1\n", ":1: expected NAME=VALUE", "got `A B=1`" },
		{ "FOO =bar\n", ":1: expected NAME=VALUE", "got `FOO =bar`" },
		{ "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\nH=8\nI=9\nJ=10\nK\n", ":11: expected NAME=VALUE", "got `K`" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *name = xasprintf("bad%zu.env", i);
		_cleanup_free_ char *path = tu_write(dir, name, bad[i].text);
		_cleanup_free_ char *where = xasprintf("%s%s", path, bad[i].where);
		check_record_(launch_env_apply_file(&e, path, &err) < 0, __FILE__, __LINE__, "%s is refused", name);
		if (err)
			check_record_(!strchr(err->msg, '\r'), __FILE__, __LINE__, "no CR in \"%s\"", err->msg);
		CHECK_ERROR(err, where, bad[i].got);
		launch_env_clear(&e);
	}

	_cleanup_free_ char *missing = xasprintf("%s/missing.env", dir);
	CHECK(launch_env_apply_file(&e, missing, &err) < 0);
	CHECK_ERROR(err, "cannot read env file", missing, "No such file or directory");
	CHECK(launch_env_apply_file(&e, dir, &err) < 0);
	CHECK_ERROR(err, "cannot read env file", dir, "Is a directory");
	launch_env_clear(&e);
}

static void test_build_and_diff(char *dir)
{
	struct launch_error *err = NULL;
	char *host[] = { "HOME=/home/u", "PATH=/host/bin", "LD_PRELOAD=/x.so", "KEEP=h", "SECRET=s", NULL };
	char *deny[] = { "SECRET", NULL };
	char *image[] = { "PATH=/img/bin", "LANG=C.UTF-8", "KEEP=image", "bad name=1", NULL };
	_cleanup_free_ char *file = tu_write(dir, "b.env", "KEEP=file\nFILEONLY=1\n");
	_cleanup_free_ char *fa = xasprintf("f:%s", file);
	char *args[] = { "e:KEEP=option", fa, "e:EXTRA=x", NULL };
	struct launch_env e = { NULL };
	CHECK(launch_env_build(&e, host, deny, image, args, &err) == 0);
	CHECK_STREQ(launch_env_get(&e, "HOME"), "/home/u");
	CHECK_STREQ(launch_env_get(&e, "PATH"), "/img/bin");
	CHECK_STREQ(launch_env_get(&e, "LANG"), "C.UTF-8");
	CHECK_STREQ(launch_env_get(&e, "KEEP"), "option"); /* the option comes after the file */
	CHECK_STREQ(launch_env_get(&e, "FILEONLY"), "1");
	CHECK_STREQ(launch_env_get(&e, "container"), "launch");
	CHECK(launch_env_get(&e, "LD_PRELOAD") == NULL);
	CHECK(launch_env_get(&e, "SECRET") == NULL);

	struct launch_env base = { NULL };
	launch_env_from_host(&base, host, deny);
	char **d = launch_env_diff(&e, &base);
	size_t n = launch_strv_len(d);
	CHECK(n == 6); /* PATH LANG KEEP FILEONLY EXTRA container */
	bool home = false;
	for (size_t i = 0; d[i]; i++)
		home |= launch_str_has_prefix(d[i], "HOME=");
	CHECK(!home);
	launch_strv_free(d);

	/* no PATH anywhere: the default */
	char *none[] = { NULL };
	CHECK(launch_env_build(&e, none, NULL, NULL, NULL, &err) == 0);
	CHECK_STREQ(launch_env_get(&e, "PATH"), launch_env_default_path);
	char *badarg[] = { "e:1X=2", NULL };
	CHECK(launch_env_build(&e, none, NULL, NULL, badarg, &err) < 0);
	CHECK_ERROR(err, "invalid --env");
	launch_env_clear(&e);
	launch_env_clear(&base);
}

int main(void)
{
	char *dir = tu_mkdtemp();
	test_names();
	test_set_get_unset();
	test_from_host();
	test_apply_arg();
	test_apply_file(dir);
	test_build_and_diff(dir);
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
