/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/config.c on temporary files: the defaults, every key of
 * the site config with good values, unknown keys, wrong types and bad JSON
 * reported at FILE:LINE:COL, site mounts through the short mount syntax,
 * the trusted-file check, and how launch_config_load picks its file. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "testutil.h"
#include "util.h"

static const char *dir;

static void check_defaults(const struct launch_config *c)
{
	CHECK(c->path == NULL);
	CHECK(c->mounts.n == 0 && c->mounts.v == NULL);
	CHECK(c->allow_root == true);
	CHECK(c->deny_mount_sources == NULL);
	CHECK(c->deny_mount_destinations == NULL);
	CHECK(c->runtime_dir == NULL);
	CHECK(c->env_deny == NULL);
	CHECK(c->private_tmp == false);
	CHECK_INTEQ(c->fuse_threads, 8);
}

static void test_defaults(void)
{
	struct launch_config c;
	memset(&c, 0xa5, sizeof(c));
	launch_config_init(&c);
	check_defaults(&c);
	launch_config_clear(&c);
	CHECK(c.path == NULL && c.mounts.n == 0);
	launch_config_clear(&c); /* twice is harmless */
	CHECK(launch_str_has_prefix(launch_config_default_path(), "/"));
	size_t n = strlen(launch_config_default_path());
	CHECK(n > 12 && !strcmp(launch_config_default_path() + n - 12, "/launch.json"));
}

static void test_all_keys(void)
{
	_cleanup_free_ char *path = tu_write(dir, "full.json",
					     "{\n"
					     "  \"_comment\": {\"anything\": [\"goes\"]},\n"
					     "  \"comment\": \"so does this\",\n"
					     "  \"allow_root\": false,\n"
					     "  \"deny_mount_sources\": [\"/etc//shadow\", \"/root/\", \"/a/./b/../c\"],\n"
					     "  \"deny_mount_destinations\": [\"/usr/../proc\"],\n"
					     "  \"env_deny\": [\"SECRET\", \"TOKEN\"],\n"
					     "  \"fuse_threads\": 16,\n"
					     "  \"mounts\": [\"/scratch\", \"/opt//apps:/apps:ro\", \"/data:/mnt/data/:rw\"],\n"
					     "  \"private_tmp\": true,\n"
					     "  \"runtime_dir\": \"/run/launch/$USER\"\n"
					     "}\n");
	struct launch_config c;
	struct launch_error *err = NULL;
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_file(&c, path, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.path, path);
	CHECK(c.allow_root == false);
	CHECK(c.private_tmp == true);
	CHECK_INTEQ(c.fuse_threads, 16);
	CHECK_STREQ(c.runtime_dir, "/run/launch/$USER");
	if (CHECK(launch_strv_len(c.deny_mount_sources) == 3)) {
		CHECK_STREQ(c.deny_mount_sources[0], "/etc/shadow");
		CHECK_STREQ(c.deny_mount_sources[1], "/root");
		CHECK_STREQ(c.deny_mount_sources[2], "/a/c");
	}
	if (CHECK(launch_strv_len(c.deny_mount_destinations) == 1))
		CHECK_STREQ(c.deny_mount_destinations[0], "/proc");
	if (CHECK(launch_strv_len(c.env_deny) == 2)) {
		CHECK_STREQ(c.env_deny[0], "SECRET");
		CHECK_STREQ(c.env_deny[1], "TOKEN");
	}
	if (CHECK(c.mounts.n == 3)) {
		CHECK_STREQ(c.mounts.v[0].source, "/scratch");
		CHECK_STREQ(c.mounts.v[0].destination, "/scratch");
		CHECK(!c.mounts.v[0].readonly);
		CHECK_STREQ(c.mounts.v[1].source, "/opt/apps");
		CHECK_STREQ(c.mounts.v[1].destination, "/apps");
		CHECK(c.mounts.v[1].readonly);
		CHECK_STREQ(c.mounts.v[2].source, "/data");
		CHECK_STREQ(c.mounts.v[2].destination, "/mnt/data");
		CHECK(!c.mounts.v[2].readonly);
	}
	launch_config_clear(&c);

	/* the other value of each boolean, limits, empty lists, a $-template */
	_cleanup_free_ char *p2 = tu_write(dir, "other.json",
					   "{\"allow_root\": true, \"private_tmp\": false, \"fuse_threads\": 1,\n"
					   " \"deny_mount_sources\": [], \"env_deny\": [], \"mounts\": [],\n"
					   " \"runtime_dir\": \"$XDG_RUNTIME_DIR/launch\"}");
	launch_config_init(&c);
	c.allow_root = false;
	c.private_tmp = true;
	CHECK_INTEQ(launch_config_load_file(&c, p2, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.allow_root == true);
	CHECK(c.private_tmp == false);
	CHECK_INTEQ(c.fuse_threads, 1);
	CHECK(c.deny_mount_sources != NULL && c.deny_mount_sources[0] == NULL);
	CHECK(c.env_deny != NULL && c.env_deny[0] == NULL);
	CHECK_INTEQ(c.mounts.n, 0);
	CHECK_STREQ(c.runtime_dir, "$XDG_RUNTIME_DIR/launch");
	launch_config_clear(&c);

	_cleanup_free_ char *p3 = tu_write(dir, "max.json", "{\"fuse_threads\": 256}");
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_file(&c, p3, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(c.fuse_threads, 256);
	launch_config_clear(&c);

	/* an empty object keeps every default */
	_cleanup_free_ char *p4 = tu_write(dir, "empty.json", " {\n}\n");
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_file(&c, p4, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.path, p4);
	free(c.path);
	c.path = NULL;
	check_defaults(&c);
	launch_config_clear(&c);
}

/* Load TEXT from a new file and expect an error "FILE:WHERE" + WHAT (WHERE is
 * "LINE:COL: " or "" for an unpositioned message). */
static void refused(const char *text, const char *where, const char *what, int srcline)
{
	static int n;
	_cleanup_free_ char *name = xasprintf("bad%d.json", n++);
	_cleanup_free_ char *path = tu_write(dir, name, text);
	_cleanup_free_ char *prefix = xasprintf("%s:%s", path, where);
	struct launch_config c;
	struct launch_error *err = NULL;
	launch_config_init(&c);
	int r = launch_config_load_file(&c, path, 0, &err);
	check_record_(r < 0, __FILE__, srcline, "%s is refused", text);
	check_record_(err && launch_str_has_prefix(err->msg, prefix), __FILE__, srcline,
		      "message starts with \"%s\" (message: \"%s\")", prefix, err ? err->msg : "(none)");
	check_record_(err && strstr(err->msg, what), __FILE__, srcline, "message names \"%s\" (message: \"%s\")", what,
		      err ? err->msg : "(none)");
	check_record_(c.path == NULL, __FILE__, srcline, "no path recorded for a refused file");
	launch_error_free(err);
	launch_config_clear(&c);
}
#define REFUSED(text, where, what) refused(text, where, what, __LINE__)

static void test_errors(void)
{
	/* unknown keys, at the key */
	REFUSED("{\n  \"allow_root\": true,\n  \"bogus\": 1\n}", "3:3: ", "unknown key \"bogus\"");
	REFUSED("{\"Allow_Root\": true}", "1:2: ", "unknown key \"Allow_Root\"");
	REFUSED("{\"comments\": 1}", "1:2: ", "unknown key \"comments\"");
	/* the key is found at its own position even when a comment holds the
	 * same text first */
	REFUSED("{\"_c\": {\"x\": {\"y\": 1}},\n \"x\": 1}", "2:2: ", "unknown key \"x\"");
	REFUSED("{\"comment\": {\"x\": 1}, \"comment/x\": 2}", "1:23: ", "unknown key \"comment/x\"");

	/* wrong types, at the key */
	REFUSED("{\n  \"allow_root\": \"yes\"\n}", "2:3: ", "\"allow_root\" must be true or false, not a string");
	REFUSED("{\n\n    \"private_tmp\": 1}", "3:5: ", "\"private_tmp\" must be true or false, not an integer");
	REFUSED("{\"private_tmp\": null}", "1:2: ", "\"private_tmp\" must be true or false, not null");
	REFUSED("{\"fuse_threads\": \"8\"}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"fuse_threads\": 8.0}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"fuse_threads\": 0}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"fuse_threads\": -3}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"fuse_threads\": 257}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"fuse_threads\": 4294967304}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256");
	REFUSED("{\"runtime_dir\": 5}", "1:2: ", "\"runtime_dir\" must be a string, not an integer");
	REFUSED("{\"runtime_dir\": \"run/launch\"}", "1:2: ", "\"runtime_dir\" must be an absolute path, not `run/launch`");
	REFUSED("{\"runtime_dir\": \"\"}", "1:2: ", "\"runtime_dir\" must be an absolute path, not ``");
	REFUSED("{\"env_deny\": \"SECRET\"}", "1:2: ", "\"env_deny\" must be an array of strings, not a string");
	REFUSED("{\"env_deny\": {}}", "1:2: ", "\"env_deny\" must be an array of strings, not an object");
	REFUSED("{\"deny_mount_sources\": true}", "1:2: ", "\"deny_mount_sources\" must be an array of strings, not a boolean");
	REFUSED("{\"deny_mount_destinations\": 1.5}", "1:2: ",
		"\"deny_mount_destinations\" must be an array of strings, not a number");
	REFUSED("{\"mounts\": \"/scratch\"}", "1:2: ", "\"mounts\" must be an array of strings, not a string");
	/* wrong entries, at the entry */
	REFUSED("{\"env_deny\": [\"A\",\n               5]}", "2:16: ", "\"env_deny\" entries must be strings, not an integer");
	REFUSED("{\n  \"deny_mount_sources\": [\n    \"/ok\",\n    \"relative/path\"\n  ]\n}", "4:5: ",
		"\"deny_mount_sources\" entry `relative/path` must be an absolute path");
	REFUSED("{\"deny_mount_destinations\": [\"\"]}", "1:30: ",
		"\"deny_mount_destinations\" entry `` must be an absolute path");
	REFUSED("{\"deny_mount_destinations\": [[\"/x\"]]}", "1:30: ",
		"\"deny_mount_destinations\" entries must be strings, not an array");
	REFUSED("{\"mounts\": [\"/a\", null]}", "1:19: ", "\"mounts\" entries must be strings, not null");

	/* site mounts: the short syntax, errors at the entry */
	REFUSED("{\n  \"mounts\": [\n    \"/a\",\n    \"relative:/x\"\n  ]\n}", "4:5: ",
		"site mount `relative:/x` must start with an absolute host path");
	REFUSED("{\"mounts\": [\":/x\"]}", "1:13: ", "site mount `:/x` must start with an absolute host path");
	REFUSED("{\"mounts\": [\"/a\", \"/b:c\"]}", "1:19: ",
		"invalid mount `/b:c`: the destination `c` must be an absolute path");
	REFUSED("{\"mounts\": [\n\"/a:/b:xx\"]}", "2:1: ", "invalid mount `/a:/b:xx`: unknown option `xx`");
	REFUSED("{\"mounts\": [\"/a:/b:ro:x\"]}", "1:13: ", "invalid mount `/a:/b:ro:x`: too many `:`");
	REFUSED("{\"mounts\": [\"/a:\"]}", "1:13: ", "invalid mount `/a:`: the destination path is empty");
	REFUSED("{\"mounts\": [\"/\"]}", "1:13: ", "invalid mount `/`: cannot mount over the container's root directory");

	/* not an object, bad JSON */
	REFUSED("\n  [1, 2]\n", "2:3: ", "the site config must be a JSON object");
	REFUSED("{\n  \"allow_root\": true,\n  \"mounts\": [\"/a\",]\n}", "3:", "invalid JSON");
	REFUSED("{\"allow_root\": true\n\"private_tmp\": true}", "2:", "invalid JSON");
	REFUSED("{\"allow_root\": true, \"allow_root\": false}", "1:", "invalid JSON: duplicate object key");
	REFUSED("", "1:", "invalid JSON");
	REFUSED("\"just a string\"", "1:", "invalid JSON");
}

static void test_unreadable(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	launch_config_init(&c);
	_cleanup_free_ char *none = xasprintf("%s/none.json", dir);
	CHECK(launch_config_load_file(&c, none, 0, &err) < 0);
	CHECK_ERROR(err, "cannot read site config", none, "No such file or directory");
	CHECK(launch_config_load_file(&c, dir, 0, &err) < 0);
	CHECK_ERROR(err, "cannot read site config", dir, "Is a directory");
	/* larger than the 1 MiB a site config may have */
	_cleanup_free_ char *big = xasprintf("%s/big.json", dir);
	FILE *f = fopen(big, "w");
	if (CHECK(f != NULL)) {
		fputs("{\"_comment\": \"", f);
		for (int i = 0; i < (1 << 20); i++)
			fputc('x', f);
		fputs("\"}", f);
		fclose(f);
	}
	CHECK(launch_config_load_file(&c, big, 0, &err) < 0);
	CHECK_ERROR(err, "cannot read site config", big, "File too large");
	check_defaults(&c);
	launch_config_clear(&c);
}

static void test_trusted(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	_cleanup_free_ char *path = tu_write(dir, "trusted.json", "{\"allow_root\": false}");
	launch_config_init(&c);

	if (getuid() != 0) {
		/* our own file is not root's */
		CHECK(launch_config_load_file(&c, path, LAUNCH_CONFIG_TRUSTED_ONLY, &err) < 0);
		_cleanup_free_ char *uid = xasprintf("(it is owned by uid %u)", (unsigned)getuid());
		CHECK_ERROR(err, path, "must be owned by root", uid);
		CHECK(c.allow_root == true);
		printf("SKIP: trusted-file cases that need a root-owned file (not running as root)\n");
		launch_config_clear(&c);
		return;
	}

	/* root-owned, 0644: accepted */
	CHECK_INTEQ(launch_config_load_file(&c, path, LAUNCH_CONFIG_TRUSTED_ONLY, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.allow_root == false);
	launch_config_clear(&c);
	launch_config_init(&c);

	/* group- or other-writable: refused */
	const mode_t modes[] = { 0664, 0646, 0666, 0620 };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		CHECK(chmod(path, modes[i]) == 0);
		CHECK(launch_config_load_file(&c, path, LAUNCH_CONFIG_TRUSTED_ONLY, &err) < 0);
		_cleanup_free_ char *fix = xasprintf("(run: chmod go-w %s)", path);
		CHECK_ERROR(err, path, "must not be writable by group or others", fix);
		/* without the flag the same file is fine */
		CHECK_INTEQ(launch_config_load_file(&c, path, 0, &err), 0);
		CHECK_NO_ERROR(err);
		launch_config_clear(&c);
		launch_config_init(&c);
	}
	CHECK(chmod(path, 0600) == 0);
	CHECK_INTEQ(launch_config_load_file(&c, path, LAUNCH_CONFIG_TRUSTED_ONLY, &err), 0);
	CHECK_NO_ERROR(err);
	launch_config_clear(&c);
	launch_config_init(&c);

	/* owned by another user: refused, even when not writable by others */
	CHECK(chmod(path, 0644) == 0);
	CHECK(chown(path, 65534, 0) == 0);
	CHECK(launch_config_load_file(&c, path, LAUNCH_CONFIG_TRUSTED_ONLY, &err) < 0);
	CHECK_ERROR(err, path, "must be owned by root (it is owned by uid 65534)");
	CHECK(c.allow_root == true);
	CHECK_INTEQ(launch_config_load_file(&c, path, 0, &err), 0);
	CHECK_NO_ERROR(err);
	launch_config_clear(&c);
}

static void test_load(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	_cleanup_free_ char *path = tu_write(dir, "env.json", "{\"fuse_threads\": 3}");
	_cleanup_free_ char *none = xasprintf("%s/missing.json", dir);
	const char *def = launch_config_default_path();
	bool have_default = access(def, F_OK) == 0;

	/* $LAUNCH_CONFIG with HONOR_ENV */
	setenv("LAUNCH_CONFIG", path, 1);
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.path, path);
	CHECK_INTEQ(c.fuse_threads, 3);
	launch_config_clear(&c);

	/* a missing $LAUNCH_CONFIG is an error */
	setenv("LAUNCH_CONFIG", none, 1);
	launch_config_init(&c);
	CHECK(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err) < 0);
	CHECK_ERROR(err, "cannot read site config", none, "No such file or directory");
	launch_config_clear(&c);

	/* without HONOR_ENV, $LAUNCH_CONFIG is ignored: the built-in path, and
	 * defaults when that does not exist */
	const char *envs[] = { path, none };
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		setenv("LAUNCH_CONFIG", envs[i], 1);
		launch_config_init(&c);
		int r = launch_config_load(&c, 0, &err);
		if (!have_default) {
			CHECK_INTEQ(r, 0);
			CHECK_NO_ERROR(err);
			check_defaults(&c);
		} else {
			printf("note: %s exists; checking only that it, not $LAUNCH_CONFIG, was read\n", def);
			if (r == 0)
				CHECK_STREQ(c.path, def);
			else
				CHECK_ERROR(err, def);
		}
		launch_config_clear(&c);
	}

	/* an empty $LAUNCH_CONFIG means unset */
	setenv("LAUNCH_CONFIG", "", 1);
	launch_config_init(&c);
	int r = launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err);
	if (!have_default) {
		CHECK_INTEQ(r, 0);
		CHECK_NO_ERROR(err);
		check_defaults(&c);
	} else {
		launch_error_free(err);
		err = NULL;
	}
	launch_config_clear(&c);
	unsetenv("LAUNCH_CONFIG");

	/* TRUSTED_ONLY applies to $LAUNCH_CONFIG too */
	if (getuid() == 0) {
		CHECK(chown(path, 65534, 65534) == 0);
		setenv("LAUNCH_CONFIG", path, 1);
		launch_config_init(&c);
		CHECK(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV | LAUNCH_CONFIG_TRUSTED_ONLY, &err) < 0);
		CHECK_ERROR(err, path, "must be owned by root");
		launch_config_clear(&c);
		unsetenv("LAUNCH_CONFIG");
	}
}

int main(void)
{
	char *tmp = tu_mkdtemp();
	dir = tmp;
	test_defaults();
	test_all_keys();
	test_errors();
	test_unreadable();
	test_trusted();
	test_load();
	tu_rm_rf(tmp);
	free(tmp);
	return check_done();
}
