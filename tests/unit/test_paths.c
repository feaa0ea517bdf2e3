/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/paths.c: $VAR and ${VAR} templates with their errors, and
 * the runtime directory (created private, checked, taken from the config or
 * from $XDG_RUNTIME_DIR). */
#define _GNU_SOURCE
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "paths.h"
#include "testutil.h"
#include "util.h"

static void expands(const char *tpl, const char *want, int line)
{
	char *out = NULL;
	struct launch_error *err = NULL;
	int r = launch_expand_template(tpl, &out, &err);
	check_record_(r == 0 && out && !strcmp(out, want), __FILE__, line, "\"%s\" expands to \"%s\", got \"%s\" (%s)",
		      tpl, want, check_str_(out), err ? err->msg : "no error");
	launch_error_free(err);
	free(out);
}
#define EXPANDS(tpl, want) expands(tpl, want, __LINE__)

static void refused(const char *tpl, const char *what, int line)
{
	char *out = NULL;
	struct launch_error *err = NULL;
	int r = launch_expand_template(tpl, &out, &err);
	_cleanup_free_ char *head = xasprintf("invalid template `%s`: ", tpl);
	check_record_(r < 0 && out == NULL, __FILE__, line, "\"%s\" is refused", tpl);
	check_record_(err && strstr(err->msg, head) && strstr(err->msg, what), __FILE__, line,
		      "\"%s\": message names \"%s\" (message: \"%s\")", tpl, what, err ? err->msg : "(none)");
	launch_error_free(err);
	free(out);
}
#define REFUSED(tpl, what) refused(tpl, what, __LINE__)

static void test_templates(void)
{
	setenv("USER", "alice", 1);
	setenv("HOME", "/home/alice", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	_cleanup_free_ char *uid = xasprintf("%u", (unsigned)getuid());

	EXPANDS("", "");
	EXPANDS("/plain/path", "/plain/path");
	EXPANDS("$USER", "alice");
	EXPANDS("${USER}", "alice");
	EXPANDS("/tmp/launch-$USER", "/tmp/launch-alice");
	EXPANDS("/tmp/${USER}x", "/tmp/alicex");
	EXPANDS("$HOME/.cache", "/home/alice/.cache");
	EXPANDS("$XDG_RUNTIME_DIR/launch", "/run/user/1000/launch");
	_cleanup_free_ char *w1 = xasprintf("/tmp/launch-%s", uid);
	EXPANDS("/tmp/launch-$UID", w1);
	_cleanup_free_ char *w2 = xasprintf("/x/%s/%s/alice", uid, uid);
	EXPANDS("/x/${UID}/$UID/$USER", w2);
	EXPANDS("$USER.$USER-$USER", "alice.alice-alice");

	/* values longer than the template's slack */
	char longhome[600];
	memset(longhome, 'h', sizeof(longhome) - 1);
	longhome[0] = '/';
	longhome[sizeof(longhome) - 1] = '\0';
	setenv("HOME", longhome, 1);
	_cleanup_free_ char *w3 = xasprintf("%s/%s/%s", longhome, longhome, longhome);
	EXPANDS("$HOME/$HOME/${HOME}", w3);
	setenv("HOME", "/home/alice", 1);

	/* $USER falls back to the passwd name when unset */
	unsetenv("USER");
	struct passwd *pw = getpwuid(getuid());
	if (pw)
		EXPANDS("$USER", pw->pw_name);
	setenv("USER", "alice", 1);

	REFUSED("$FOO", "unknown or unset variable `FOO`");
	REFUSED("/a/${NOPE}/b", "unknown or unset variable `NOPE`");
	REFUSED("$USERNAME", "unknown or unset variable `USERNAME`");
	REFUSED("$user", "unknown or unset variable `user`");
	REFUSED("$", "unknown or unset variable ``");
	REFUSED("/a/$/b", "unknown or unset variable ``");
	REFUSED("${}", "unknown or unset variable ``");
	REFUSED("${USER", "missing `}`");
	REFUSED("/a/${HOME/b", "missing `}`");
	REFUSED("${", "missing `}`");
	REFUSED("${US ER}", "missing `}`");
	REFUSED("$FOO", "use $USER, $UID, $HOME, $XDG_RUNTIME_DIR or $XDG_DATA_HOME");
	unsetenv("HOME");
	REFUSED("$HOME/x", "unknown or unset variable `HOME`");
	unsetenv("XDG_RUNTIME_DIR");
	REFUSED("${XDG_RUNTIME_DIR}/launch", "unknown or unset variable `XDG_RUNTIME_DIR`");
	setenv("HOME", "/home/alice", 1);
}

static void test_runtime_dir(const char *dir)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	char *out = NULL, *note = NULL;
	launch_config_init(&c);

	/* from the config's template: created 0700 */
	setenv("USER", "bob", 1);
	c.runtime_dir = xasprintf("%s/rt-$USER", dir);
	_cleanup_free_ char *want = xasprintf("%s/rt-bob", dir);
	CHECK_INTEQ(launch_runtime_dir(&c, &out, &note, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(out, want);
	CHECK_NULL(note);
	struct stat st;
	CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
	free(out);
	out = NULL;
	/* an existing directory is made private again */
	CHECK(chmod(want, 0755) == 0);
	CHECK_INTEQ(launch_runtime_dir(&c, &out, NULL, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(stat(want, &st) == 0 && (st.st_mode & 07777) == 0700);
	free(out);
	out = NULL;

	/* a file in the way */
	free(c.runtime_dir);
	c.runtime_dir = xasprintf("%s/afile", dir);
	free(tu_write(dir, "afile", "x"));
	CHECK(launch_runtime_dir(&c, &out, NULL, &err) < 0);
	CHECK_ERROR(err, "runtime directory ", "afile is a file owned by uid", "not a directory");
	CHECK_NULL(out);

	/* missing parents are created */
	free(c.runtime_dir);
	c.runtime_dir = xasprintf("%s/no/such/parent", dir);
	CHECK_INTEQ(launch_runtime_dir(&c, &out, NULL, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(out && stat(out, &st) == 0 && (st.st_mode & 07777) == 0700);
	free(out);
	out = NULL;

	/* a bad template names the setting */
	free(c.runtime_dir);
	c.runtime_dir = xstrdup("/run/$NOPE");
	CHECK(launch_runtime_dir(&c, &out, NULL, &err) < 0);
	CHECK_ERROR(err, "site config runtime_dir: invalid template `/run/$NOPE`");

	/* somebody else's directory (needs root to create one) */
	if (getuid() == 0) {
		free(c.runtime_dir);
		c.runtime_dir = xasprintf("%s/theirs", dir);
		tu_mkdir(dir, "theirs");
		_cleanup_free_ char *theirs = xasprintf("%s/theirs", dir);
		CHECK(chown(theirs, 65534, 65534) == 0);
		CHECK(launch_runtime_dir(&c, &out, NULL, &err) < 0);
		CHECK_ERROR(err, "theirs belongs to uid 65534", "not to you", "set LAUNCH_RUNTIME_DIR");
	} else {
		printf("SKIP: runtime directory owned by another uid (not running as root)\n");
	}
	launch_config_clear(&c);

	/* no runtime_dir: a private $XDG_RUNTIME_DIR is used */
	tu_mkdir(dir, "xdg");
	_cleanup_free_ char *xdg = xasprintf("%s/xdg", dir);
	CHECK(chmod(xdg, 0700) == 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	_cleanup_free_ char *want2 = xasprintf("%s/launch", xdg);
	CHECK_INTEQ(launch_runtime_dir(NULL, &out, &note, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(out, want2);
	CHECK_NULL(note);
	free(out);
	out = NULL;
	launch_config_init(&c);
	CHECK_INTEQ(launch_runtime_dir(&c, &out, NULL, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(out, want2);
	free(out);
	launch_config_clear(&c);
	unsetenv("XDG_RUNTIME_DIR");
}

int main(void)
{
	char *dir = tu_mkdtemp();
	test_templates();
	test_runtime_dir(dir);
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
