/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/config.c on temporary files: the defaults, every key of
 * the site config with good values, unknown keys, wrong types and bad JSON
 * reported at FILE:LINE:COL, site mounts through the short mount syntax,
 * the trusted-file check, and how launch_config_load picks its file; the
 * user's file over the site's (merging, precedence, policy keys and locked
 * keys refused, its ownership), and where each value came from. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "env.h"
#include "paths.h"
#include "testutil.h"
#include "util.h"

static const char *dir;

static void check_defaults(const struct launch_config *c)
{
	CHECK(c->path == NULL);
	CHECK(c->user_path == NULL);
	CHECK(c->mounts.n == 0 && c->mounts.v == NULL);
	CHECK(c->user_mounts.n == 0);
	CHECK(c->env == NULL);
	CHECK(c->locked == NULL);
	CHECK(c->allow_root == true);
	CHECK(c->deny_mount_sources == NULL);
	CHECK(c->deny_mount_destinations == NULL);
	CHECK(c->runtime_dir == NULL);
	CHECK(c->env_deny == NULL);
	CHECK(c->private_tmp == false);
	CHECK_INTEQ(c->fuse_threads, 8);
	CHECK(c->blob_cache_max == (int64_t)10 << 30);
}

/* Sizes (blob_cache_max): bytes, K/M/G/T as powers of 1024, unlimited. */
static void test_sizes(void)
{
	static const struct {
		const char *in;
		int64_t out; /* -2: refused */
	} cases[] = {
		{ "0", 0 },
		{ "123", 123 },
		{ "1K", 1024 },
		{ "1k", 1024 },
		{ "500M", 500 << 20 },
		{ "10G", (int64_t)10 << 30 },
		{ "10GiB", (int64_t)10 << 30 },
		{ "2TB", (int64_t)2 << 40 },
		{ "unlimited", -1 },
		{ "", -2 },
		{ "G", -2 },
		{ "-1", -2 },
		{ "1.5G", -2 },
		{ "10X", -2 },
		{ "10 G", -2 },
		{ "99999999999T", -2 },
		{ "10Gb", -2 },
		{ "+5", -2 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t n = -3;
		int r = launch_config_parse_size(cases[i].in, &n);
		if (cases[i].out == -2)
			check_record_(r < 0, __FILE__, __LINE__, "size `%s` is refused", cases[i].in);
		else
			check_record_(r == 0 && n == cases[i].out, __FILE__, __LINE__,
				      "size `%s` is %lld (got %d, %lld)", cases[i].in, (long long)cases[i].out, r,
				      (long long)n);
	}
	static const struct {
		int64_t n;
		const char *text;
	} texts[] = { { -1, "unlimited" },
		      { 0, "0" },
		      { 1024, "1K" },
		      { 1536, "1536" },
		      { (int64_t)10 << 30, "10G" },
		      { (int64_t)1536 << 20, "1536M" },
		      { (int64_t)3 << 40, "3T" } };
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		_cleanup_free_ char *t = launch_config_size_text(texts[i].n);
		CHECK_STREQ(t, texts[i].text);
	}
	/* in a file: a string or a number of bytes; users may set it */
	_cleanup_free_ char *p1 = tu_write(dir, "size1.json", "{\"blob_cache_max\": \"2G\"}");
	_cleanup_free_ char *p2 = tu_write(dir, "size2.json", "{\"blob_cache_max\": 4096}");
	struct launch_config c;
	struct launch_error *err = NULL;
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_file(&c, p1, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.blob_cache_max == (int64_t)2 << 30);
	CHECK_INTEQ(launch_config_load_file(&c, p2, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.blob_cache_max == 4096);
	launch_config_clear(&c);
	CHECK(launch_config_key_user("blob_cache_max"));
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
	_cleanup_free_ char *path =
		tu_write(dir, "full.json",
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
	REFUSED("{\"blob_cache_max\": \"lots\"}", "1:2: ", "\"blob_cache_max\" must be a size: bytes, or a string");
	REFUSED("{\"blob_cache_max\": -5}", "1:2: ", "\"blob_cache_max\" must be a size");
	REFUSED("{\"blob_cache_max\": true}", "1:2: ", "\"blob_cache_max\" must be a size");
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
	REFUSED("{\"runtime_dir\": \"run/launch\"}",
		"1:2: ", "\"runtime_dir\" must be an absolute path, not `run/launch`");
	REFUSED("{\"runtime_dir\": \"\"}", "1:2: ", "\"runtime_dir\" must be an absolute path, not ``");
	REFUSED("{\"env_deny\": \"SECRET\"}", "1:2: ", "\"env_deny\" must be an array of strings, not a string");
	REFUSED("{\"env_deny\": {}}", "1:2: ", "\"env_deny\" must be an array of strings, not an object");
	REFUSED("{\"deny_mount_sources\": true}",
		"1:2: ", "\"deny_mount_sources\" must be an array of strings, not a boolean");
	REFUSED("{\"deny_mount_destinations\": 1.5}",
		"1:2: ", "\"deny_mount_destinations\" must be an array of strings, not a number");
	REFUSED("{\"mounts\": \"/scratch\"}", "1:2: ", "\"mounts\" must be an array of strings, not a string");
	/* wrong entries, at the entry */
	REFUSED("{\"env_deny\": [\"A\",\n               5]}",
		"2:16: ", "\"env_deny\" entries must be strings, not an integer");
	REFUSED("{\n  \"deny_mount_sources\": [\n    \"/ok\",\n    \"relative/path\"\n  ]\n}",
		"4:5: ", "\"deny_mount_sources\" entry `relative/path` must be an absolute path");
	REFUSED("{\"deny_mount_destinations\": [\"\"]}",
		"1:30: ", "\"deny_mount_destinations\" entry `` must be an absolute path");
	REFUSED("{\"deny_mount_destinations\": [[\"/x\"]]}",
		"1:30: ", "\"deny_mount_destinations\" entries must be strings, not an array");
	REFUSED("{\"mounts\": [\"/a\", null]}", "1:19: ", "\"mounts\" entries must be strings, not null");

	/* site mounts: the short syntax, errors at the entry */
	REFUSED("{\n  \"mounts\": [\n    \"/a\",\n    \"relative:/x\"\n  ]\n}",
		"4:5: ", "site mount `relative:/x` must start with an absolute host path");
	REFUSED("{\"mounts\": [\":/x\"]}", "1:13: ", "site mount `:/x` must start with an absolute host path");
	REFUSED("{\"mounts\": [\"/a\", \"/b:c\"]}",
		"1:19: ", "invalid mount `/b:c`: the destination `c` must be an absolute path");
	REFUSED("{\"mounts\": [\n\"/a:/b:xx\"]}", "2:1: ", "invalid mount `/a:/b:xx`: unknown flag `xx`");
	REFUSED("{\"mounts\": [\"/a:/b:ro:x\"]}", "1:13: ", "invalid mount `/a:/b:ro:x`: too many `:`");
	REFUSED("{\"mounts\": [\"/a:\"]}", "1:13: ", "invalid mount `/a:`: the destination path is empty");
	REFUSED("{\"mounts\": [\"/\"]}",
		"1:13: ", "invalid mount `/`: cannot mount over the container's root directory");

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

/* ---- the user's file ------------------------------------------------------ */

/* The site file SITE (NULL: none) then the user's file USER into *C (left
 * initialised either way); returns what loading the user's file returned. */
static int load_both(const char *site, const char *user, struct launch_config *c, struct launch_error **err)
{
	static int n;
	launch_config_init(c);
	if (site) {
		_cleanup_free_ char *name = xasprintf("site%d.json", n);
		_cleanup_free_ char *path = tu_write(dir, name, site);
		if (launch_config_load_file(c, path, 0, err) < 0)
			return -2;
	}
	_cleanup_free_ char *name = xasprintf("user%d.json", n++);
	_cleanup_free_ char *path = tu_write(dir, name, user);
	return launch_config_load_user_file(c, path, err);
}

static const char *item_origin(const struct launch_config_items *it, const char *key, size_t nth)
{
	for (size_t i = 0; i < it->n; i++)
		if (!strcmp(it->v[i].key, key) && nth-- == 0)
			return it->v[i].origin;
	return NULL;
}

static const char *item_string(const struct launch_config_items *it, const char *key, size_t nth)
{
	for (size_t i = 0; i < it->n; i++)
		if (!strcmp(it->v[i].key, key) && nth-- == 0)
			return it->v[i].value && json_is_string(it->v[i].value) ? json_string_value(it->v[i].value)
										: NULL;
	return NULL;
}

static void test_user_merge(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	int r = load_both(
		"{\n"
		"  \"mounts\": [\"/scratch\"],\n"
		"  \"env\": [\"SITE=1\", \"BOTH=site\"],\n"
		"  \"private_tmp\": true,\n"
		"  \"fuse_threads\": 4,\n"
		"  \"pull_jobs\": 2,\n"
		"  \"allow_root\": false\n"
		"}\n",
		"{\n"
		"  \"_comment\": \"mine\",\n"
		"  \"mounts\": [\"/home/u/data:/data:ro\", \"/opt/x\"],\n"
		"  \"env\": [\"BOTH=user\", \"USER_ONLY=a=b\", \"EMPTY=\"],\n"
		"  \"private_tmp\": false,\n"
		"  \"fuse_threads\": 32,\n"
		"  \"pull_on_run\": false,\n"
		"  \"pull_retries\": 0,\n"
		"  \"gpu_auto\": true,\n"
		"  \"default_registry\": \"nvcr.io\",\n"
		"  \"store\": \"/scratch/$USER/images\"\n"
		"}\n",
		&c, &err);
	CHECK_INTEQ(r, 0);
	CHECK_NO_ERROR(err);
	CHECK(c.path && c.user_path);
	/* the site's mounts stay the site's; the user's are kept apart */
	if (CHECK(c.mounts.n == 1))
		CHECK_STREQ(c.mounts.v[0].source, "/scratch");
	if (CHECK(c.user_mounts.n == 2)) {
		CHECK_STREQ(c.user_mounts.v[0].source, "/home/u/data");
		CHECK_STREQ(c.user_mounts.v[0].destination, "/data");
		CHECK(c.user_mounts.v[0].readonly);
		CHECK_STREQ(c.user_mounts.v[1].destination, "/opt/x");
	}
	/* env adds up; the user's BOTH replaces the site's where it stood */
	if (CHECK(launch_strv_len(c.env) == 4)) {
		CHECK_STREQ(c.env[0], "SITE=1");
		CHECK_STREQ(c.env[1], "BOTH=user");
		CHECK_STREQ(c.env[2], "USER_ONLY=a=b");
		CHECK_STREQ(c.env[3], "EMPTY=");
	}
	/* scalars: the user's file wins over the site's, the site's over the
	 * defaults */
	CHECK(c.private_tmp == false);
	CHECK_INTEQ(c.fuse_threads, 32);
	CHECK_INTEQ(c.pull_jobs, 2);
	CHECK(c.pull_on_run == false);
	CHECK_INTEQ(c.pull_retries, 0);
	CHECK(c.gpu_auto == true);
	CHECK(c.allow_root == false);
	CHECK_STREQ(c.store, "/scratch/$USER/images");
	CHECK_STREQ(c.default_registry, "nvcr.io");
	CHECK_INTEQ(c.hook_timeout, 60);

	/* what a run gets: the user's mounts before the command line's, the
	 * env as "c:" arguments that --env beats */
	struct launch_mounts ms = { NULL, 0 };
	struct launch_mount m;
	struct launch_error *e = NULL;
	CHECK_INTEQ(launch_mountspec_parse_short("/cli:/data", &m, &e), 0);
	CHECK_NO_ERROR(e);
	launch_mounts_push(&ms, &m);
	_cleanup_strv_ char **args = NULL;
	launch_strv_push(&args, xstrdup("e:BOTH=cli"));
	launch_config_run_args(&c, &ms, &args);
	if (CHECK(ms.n == 3)) {
		CHECK_STREQ(ms.v[0].source, "/home/u/data");
		CHECK_STREQ(ms.v[1].source, "/opt/x");
		CHECK_STREQ(ms.v[2].source, "/cli");
	}
	launch_mounts_clear(&ms);
	CHECK_INTEQ(launch_strv_len(args), 5);
	struct launch_env env = { NULL };
	char *host[] = { "PATH=/bin", "SITE=host", "HOSTONLY=h", NULL };
	char *image[] = { "SITE=image", "USER_ONLY=image", NULL };
	CHECK_INTEQ(launch_env_build(&env, host, NULL, image, args, &e), 0);
	CHECK_NO_ERROR(e);
	CHECK_STREQ(launch_env_get(&env, "HOSTONLY"), "h");
	CHECK_STREQ(launch_env_get(&env, "SITE"), "1");	       /* the config over the image and host */
	CHECK_STREQ(launch_env_get(&env, "USER_ONLY"), "a=b"); /* the user's file over the image */
	CHECK_STREQ(launch_env_get(&env, "BOTH"), "cli");      /* --env over the config */
	CHECK_STREQ(launch_env_get(&env, "EMPTY"), "");
	launch_env_clear(&env);
	launch_config_clear(&c);

	/* an empty user file changes nothing; without a site file the defaults
	 * stay */
	CHECK_INTEQ(load_both(NULL, "{}", &c, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.path == NULL && c.user_path != NULL);
	free(c.user_path);
	c.user_path = NULL;
	check_defaults(&c);
	launch_config_clear(&c);

	/* the user's "store" when the site sets none */
	CHECK_INTEQ(load_both("{\"pull_jobs\": 8}", "{\"store\": \"$HOME/img\"}", &c, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.store, "$HOME/img");
	launch_config_clear(&c);
}

/* The user's file USER over the site file SITE must be refused with an
 * error "USERFILE:WHERE" that names every one of the strings that follow. */
static void user_refused(const char *site, const char *user, const char *where, const char *what, const char *what2,
			 int srcline)
{
	static int n;
	_cleanup_free_ char *name = xasprintf("ubad%d.json", n++);
	_cleanup_free_ char *path = tu_write(dir, name, user);
	_cleanup_free_ char *prefix = xasprintf("%s:%s", path, where);
	_cleanup_free_ char *site_path = site ? tu_write(dir, "site-for-refusal.json", site) : NULL;
	struct launch_config c;
	struct launch_error *err = NULL;
	launch_config_init(&c);
	if (site_path && launch_config_load_file(&c, site_path, 0, &err) < 0) {
		check_record_(false, __FILE__, srcline, "the site file loads (%s)", err->msg);
		launch_error_free(err);
		launch_config_clear(&c);
		return;
	}
	int r = launch_config_load_user_file(&c, path, &err);
	check_record_(r < 0, __FILE__, srcline, "%s is refused", user);
	check_record_(err && launch_str_has_prefix(err->msg, prefix), __FILE__, srcline,
		      "message starts with \"%s\" (message: \"%s\")", prefix, err ? err->msg : "(none)");
	check_record_(err && strstr(err->msg, what), __FILE__, srcline, "message names \"%s\" (message: \"%s\")", what,
		      err ? err->msg : "(none)");
	if (what2) {
		const char *w2 =
			!strcmp(what2, "SITE") ? (site_path ? site_path : launch_config_default_path()) : what2;
		check_record_(err && strstr(err->msg, w2), __FILE__, srcline, "message names \"%s\" (message: \"%s\")",
			      w2, err ? err->msg : "(none)");
	}
	check_record_(c.user_path == NULL, __FILE__, srcline, "no user path recorded for a refused file");
	launch_error_free(err);
	launch_config_clear(&c);
}
#define USER_REFUSED(site, user, where, what, what2) user_refused(site, user, where, what, what2, __LINE__)

static void test_user_refusals(void)
{
	/* every key of the site's policy, named, with the site file */
	static const char *const policy[] = {
		"allow_root",	    "root_subids",  "root_seccomp", "deny_mount_sources", "deny_mount_destinations",
		"hooks_dirs",	    "hook_timeout", "runtime_dir",  "site_stores",	  "insecure_registries",
		"registry_ca_file", "env_deny",	    "locked",
	};
	for (size_t i = 0; i < ARRAY_SIZE(policy); i++) {
		_cleanup_free_ char *text = xasprintf("{\n  \"private_tmp\": true,\n  \"%s\": 1\n}", policy[i]);
		_cleanup_free_ char *what = xasprintf("\"%s\" is site policy: only the site config", policy[i]);
		USER_REFUSED(NULL, text, "3:3: ", what, "SITE");
		USER_REFUSED("{}", text, "3:3: ", what, "SITE");
		CHECK(launch_config_key_known(policy[i]) && !launch_config_key_user(policy[i]));
	}
	static const char *const user_keys[] = { "mounts",	    "env",	 "private_tmp",
						 "fuse_threads",    "store",	 "pull_on_run",
						 "pull_retries",    "pull_jobs", "gpu_auto",
						 "default_registry" };
	for (size_t i = 0; i < ARRAY_SIZE(user_keys); i++)
		CHECK(launch_config_key_user(user_keys[i]));
	CHECK(!launch_config_key_known("nope") && !launch_config_key_user("nope"));
	USER_REFUSED(NULL, "{\"default_registry\": \"docker://nvcr.io\"}",
		     "1:2: ", "\"default_registry\" must be a registry's HOST or HOST:PORT", "without docker://");

	/* locked by the site: named, with the site file */
	USER_REFUSED("{\"locked\": [\"private_tmp\", \"mounts\"]}", "{\"fuse_threads\": 2,\n \"mounts\": [\"/x\"]}",
		     "2:2: ", "\"mounts\" is locked by the site config", "SITE");
	USER_REFUSED("{\"locked\": [\"private_tmp\"]}", "{\"private_tmp\": false}",
		     "1:2: ", "\"private_tmp\" is locked by the site config", "SITE");
	/* a site's store is its policy */
	USER_REFUSED("{\"store\": \"/scratch/$USER\"}", "{\"store\": \"/home/u/img\"}",
		     "1:2: ", "\"store\" is set by the site config", "SITE");
	/* the rest as in the site's file */
	USER_REFUSED(NULL, "{\"bogus\": 1}", "1:2: ", "unknown key \"bogus\"", NULL);
	USER_REFUSED(NULL, "{\"private_tmp\": \"yes\"}", "1:2: ", "\"private_tmp\" must be true or false", NULL);
	USER_REFUSED(NULL, "{\"fuse_threads\": 0}", "1:2: ", "\"fuse_threads\" must be an integer from 1 to 256", NULL);
	USER_REFUSED(NULL, "{\"mounts\": [\"data:/data\"]}", "1:13: ", "mount `data:/data` must start with an absolute",
		     NULL);
	USER_REFUSED(NULL, "{\"mounts\": [\"/a:b\"]}", "1:13: ", "invalid mount `/a:b`", NULL);
	USER_REFUSED(NULL, "{\"env\": [\"OK=1\",\n \"NOEQUALS\"]}",
		     "2:2: ", "\"env\" entry `NOEQUALS` must be NAME=VALUE", NULL);
	USER_REFUSED(NULL, "{\"env\": [\"1X=1\"]}", "1:10: ", "\"env\" entry `1X=1`", NULL);
	USER_REFUSED(NULL, "{\"env\": [\"=1\"]}", "1:10: ", "\"env\" entry `=1`", NULL);
	USER_REFUSED(NULL, "{\"env\": \"A=1\"}", "1:2: ", "\"env\" must be an array of strings", NULL);
	USER_REFUSED(NULL, "[]", "1:1: ", "the user config must be a JSON object", NULL);
	USER_REFUSED(NULL, "{\"private_tmp\": true,}", "1:", "invalid JSON", NULL);

	/* the site's "locked" itself: only keys users may set */
	REFUSED("{\"locked\": [\"private_tmp\",\n \"nope\"]}", "2:2: ", "\"locked\" names an unknown key \"nope\"");
	REFUSED("{\"locked\": [\"allow_root\"]}", "1:13: ", "\"locked\" names \"allow_root\", which users cannot set");
	REFUSED("{\"locked\": \"private_tmp\"}", "1:2: ", "\"locked\" must be an array of strings");
	/* and the site's env entries are checked the same way */
	REFUSED("{\"env\": [\"X\"]}", "1:10: ", "\"env\" entry `X` must be NAME=VALUE");
}

static void test_user_trust(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	_cleanup_free_ char *path = tu_write(dir, "mine.json", "{\"private_tmp\": true}");

	/* group- or other-writable: refused, with the fix */
	const mode_t modes[] = { 0664, 0646, 0620 };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		CHECK(chmod(path, modes[i]) == 0);
		launch_config_init(&c);
		CHECK(launch_config_load_user_file(&c, path, &err) < 0);
		_cleanup_free_ char *fix = xasprintf("(run: chmod go-w %s)", path);
		CHECK_ERROR(err, path, "must not be writable by group or others", fix);
		CHECK(c.private_tmp == false);
		launch_config_clear(&c);
	}
	CHECK(chmod(path, 0600) == 0);
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_user_file(&c, path, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.private_tmp == true);
	launch_config_clear(&c);

	/* a symlink is not followed, even to a good file */
	tu_symlink(dir, "link.json", path);
	_cleanup_free_ char *link = xasprintf("%s/link.json", dir);
	launch_config_init(&c);
	CHECK(launch_config_load_user_file(&c, link, &err) < 0);
	CHECK_ERROR(err, "cannot read user config", link, "symbolic link");
	launch_config_clear(&c);

	/* a FIFO neither hangs nor is read */
	_cleanup_free_ char *fifo = xasprintf("%s/fifo.json", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	launch_config_init(&c);
	CHECK(launch_config_load_user_file(&c, fifo, &err) < 0);
	CHECK_ERROR(err, fifo, "not a regular file");
	launch_config_clear(&c);

	/* missing: an error when asked for by name */
	_cleanup_free_ char *none = xasprintf("%s/no-such-user.json", dir);
	launch_config_init(&c);
	CHECK(launch_config_load_user_file(&c, none, &err) < 0);
	CHECK_ERROR(err, "cannot read user config", none, "No such file or directory");
	launch_config_clear(&c);

	if (getuid() != 0) {
		printf("SKIP: a user file owned by someone else (not running as root)\n");
		return;
	}
	/* another user's file: refused, even when only they can write it */
	CHECK(chmod(path, 0644) == 0);
	CHECK(chown(path, 65534, 65534) == 0);
	launch_config_init(&c);
	CHECK(launch_config_load_user_file(&c, path, &err) < 0);
	CHECK_ERROR(err, path, "must be owned by root or by you (it is owned by uid 65534)");
	launch_config_clear(&c);
	CHECK(chown(path, 0, 0) == 0);
}

/* launch_config_load finds the user's file through XDG_CONFIG_HOME or HOME,
 * only for a caller acting for itself. */
static void test_load_user(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	_cleanup_free_ char *site = tu_write(dir, "lsite.json", "{\"fuse_threads\": 3, \"pull_jobs\": 5}");
	_cleanup_free_ char *xdg = xasprintf("%s/xdg", dir), *home = xasprintf("%s/home", dir);
	tu_mkdir(dir, "xdg");
	tu_mkdir(dir, "xdg/launch");
	tu_mkdir(dir, "home");
	tu_mkdir(dir, "home/.config");
	tu_mkdir(dir, "home/.config/launch");
	_cleanup_free_ char *xdg_file = tu_write(xdg, "launch/launch.json", "{\"fuse_threads\": 7}");
	_cleanup_free_ char *home_file = tu_write(home, ".config/launch/launch.json", "{\"fuse_threads\": 9}");
	setenv("LAUNCH_CONFIG", site, 1);
	setenv("HOME", home, 1);

	setenv("XDG_CONFIG_HOME", xdg, 1);
	_cleanup_free_ char *p = launch_user_config_path();
	CHECK_STREQ(p, xdg_file);
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.path, site);
	CHECK_STREQ(c.user_path, xdg_file);
	CHECK_INTEQ(c.fuse_threads, 7); /* the user's over the site's */
	CHECK_INTEQ(c.pull_jobs, 5);
	launch_config_clear(&c);

	/* the SPANK plugin's way: never the user's file */
	launch_config_init(&c);
	int r = launch_config_load(&c, LAUNCH_CONFIG_TRUSTED_ONLY | LAUNCH_CONFIG_HONOR_ENV, &err);
	if (getuid() == 0) {
		CHECK_INTEQ(r, 0);
		CHECK_NO_ERROR(err);
		CHECK_INTEQ(c.fuse_threads, 3);
	} else {
		CHECK(r < 0); /* the site file is ours, not root's */
		launch_error_free(err);
		err = NULL;
	}
	CHECK(c.user_path == NULL);
	launch_config_clear(&c);

	/* a relative XDG_CONFIG_HOME is ignored (XDG base directory spec):
	 * HOME's */
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(c.user_path, home_file);
	CHECK_INTEQ(c.fuse_threads, 9);
	launch_config_clear(&c);

	/* no file there: the site's values */
	_cleanup_free_ char *empty = xasprintf("%s/xdg-empty", dir);
	setenv("XDG_CONFIG_HOME", empty, 1);
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(c.user_path == NULL);
	CHECK_INTEQ(c.fuse_threads, 3);
	launch_config_clear(&c);

	/* an error in the user's file fails the load, at its position */
	setenv("XDG_CONFIG_HOME", xdg, 1);
	free(tu_write(xdg, "launch/launch.json", "{\n  \"hook_timeout\": 5\n}"));
	launch_config_init(&c);
	CHECK(launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, &err) < 0);
	_cleanup_free_ char *at = xasprintf("%s:2:3: \"hook_timeout\" is site policy", xdg_file);
	CHECK_ERROR(err, at, site);
	launch_config_clear(&c);
	/* and the SPANK plugin's way does not even read it */
	if (getuid() == 0) {
		launch_config_init(&c);
		CHECK_INTEQ(launch_config_load(&c, LAUNCH_CONFIG_TRUSTED_ONLY, &err), 0);
		CHECK_NO_ERROR(err);
		launch_config_clear(&c);
	}

	setenv("XDG_CONFIG_HOME", empty, 1);
	unsetenv("LAUNCH_CONFIG");
}

/* launch_config_items: every key once (lists: per entry), with the value in
 * effect and where it came from. */
static void test_origins(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	_cleanup_free_ char *site = tu_write(dir, "osite.json",
					     "{\n"
					     "  \"mounts\": [\n"
					     "    \"/scratch\",\n"
					     "    \"/apps:/apps:ro\"\n"
					     "  ],\n"
					     "  \"env\": [\"A=site\", \"B=site\"],\n"
					     "  \"private_tmp\": true,\n"
					     "  \"runtime_dir\": \"/run/site-launch\"\n"
					     "}\n");
	_cleanup_free_ char *user = tu_write(dir, "ouser.json",
					     "{\n"
					     "  \"env\": [\n"
					     "    \"B=user\"\n"
					     "  ],\n"
					     "  \"mounts\": [\"/home/u/d:/d\"],\n"
					     "  \"fuse_threads\": 12,\n"
					     "  \"store\": \"/images/$UID\"\n"
					     "}\n");
	launch_config_init(&c);
	CHECK_INTEQ(launch_config_load_file(&c, site, 0, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(launch_config_load_user_file(&c, user, &err), 0);
	CHECK_NO_ERROR(err);
	unsetenv("LAUNCH_RUNTIME_DIR");

	struct launch_config_items it;
	CHECK_INTEQ(launch_config_items(&c, &it, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *s3 = xasprintf("%s:3", site), *s4 = xasprintf("%s:4", site), *s6 = xasprintf("%s:6", site),
			    *s7 = xasprintf("%s:7", site), *s8 = xasprintf("%s:8", site);
	_cleanup_free_ char *u3 = xasprintf("%s:3", user), *u5 = xasprintf("%s:5", user), *u6 = xasprintf("%s:6", user),
			    *u7 = xasprintf("%s:7", user);
	CHECK_STREQ(item_origin(&it, "allow_root", 0), "built-in");
	CHECK_STREQ(item_origin(&it, "private_tmp", 0), s7);
	CHECK_STREQ(item_origin(&it, "fuse_threads", 0), u6);
	CHECK_STREQ(item_string(&it, "mounts", 0), "/scratch");
	CHECK_STREQ(item_origin(&it, "mounts", 0), s3);
	CHECK_STREQ(item_string(&it, "mounts", 1), "/apps:/apps:ro");
	CHECK_STREQ(item_origin(&it, "mounts", 1), s4);
	CHECK_STREQ(item_string(&it, "mounts", 2), "/home/u/d:/d");
	CHECK_STREQ(item_origin(&it, "mounts", 2), u5);
	CHECK(item_origin(&it, "mounts", 3) == NULL);
	CHECK_STREQ(item_string(&it, "env", 0), "A=site");
	CHECK_STREQ(item_origin(&it, "env", 0), s6);
	CHECK_STREQ(item_string(&it, "env", 1), "B=user");
	CHECK_STREQ(item_origin(&it, "env", 1), u3);
	CHECK_STREQ(item_string(&it, "runtime_dir", 0), "/run/site-launch");
	CHECK_STREQ(item_origin(&it, "runtime_dir", 0), s8);
	_cleanup_free_ char *store = xasprintf("/images/%u", (unsigned)getuid());
	CHECK_STREQ(item_string(&it, "store", 0), store);
	CHECK_STREQ(item_origin(&it, "store", 0), u7);
	CHECK_STREQ(launch_config_origin(&c, "store"), u7);
	CHECK(launch_config_origin(&c, "allow_root") == NULL);
	/* an empty list: one item without a value; an unset string: no value */
	CHECK_STREQ(item_origin(&it, "deny_mount_sources", 0), "built-in");
	for (size_t i = 0; i < it.n; i++)
		if (!strcmp(it.v[i].key, "deny_mount_sources") || !strcmp(it.v[i].key, "registry_ca_file"))
			CHECK(it.v[i].value == NULL);
	/* every key, in the table's (sorted) order */
	size_t keys_seen = 0;
	for (size_t i = 0; i < it.n; i++) {
		CHECK(launch_config_key_known(it.v[i].key));
		if (i == 0 || strcmp(it.v[i - 1].key, it.v[i].key) != 0) {
			keys_seen++;
			if (i > 0)
				CHECK(strcmp(it.v[i - 1].key, it.v[i].key) < 0);
		}
	}
	CHECK(keys_seen >= 22); /* at least the keys named in these tests */
	launch_config_items_clear(&it);

	/* the environment over the files: LAUNCH_RUNTIME_DIR over runtime_dir */
	setenv("LAUNCH_RUNTIME_DIR", "/var/tmp/pinned", 1);
	CHECK_INTEQ(launch_config_items(&c, &it, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(item_string(&it, "runtime_dir", 0), "/var/tmp/pinned");
	CHECK_STREQ(item_origin(&it, "runtime_dir", 0), "env LAUNCH_RUNTIME_DIR");
	launch_config_items_clear(&it);
	unsetenv("LAUNCH_RUNTIME_DIR");
	launch_config_clear(&c);

	/* defaults from the environment's XDG directories */
	launch_config_init(&c);
	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	CHECK_INTEQ(launch_config_items(&c, &it, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(item_string(&it, "store", 0), "/xdg/data/launch");
	CHECK_STREQ(item_origin(&it, "store", 0), "env XDG_DATA_HOME");
	CHECK_STREQ(item_origin(&it, "fuse_threads", 0), "built-in");
	CHECK_STREQ(item_string(&it, "hooks_dirs", 0), c.hooks_dirs[0]);
	CHECK_STREQ(item_origin(&it, "hooks_dirs", 0), "built-in");
	launch_config_items_clear(&it);
	unsetenv("XDG_DATA_HOME");
	/* an unexpandable store is an error naming where it was set */
	_cleanup_free_ char *bad = tu_write(dir, "obad.json", "{\"store\": \"$NOPE/x\"}");
	CHECK_INTEQ(launch_config_load_user_file(&c, bad, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(launch_config_items(&c, &it, &err) < 0);
	_cleanup_free_ char *bad1 = xasprintf("store in %s:1", bad);
	CHECK_ERROR(err, bad1, "$NOPE");
	launch_config_clear(&c);
}

/* Site and user mounts in pyxis's syntax: flags, tmpfs, umount, kept whole
 * into a run's mounts and written back as they were for --show. */
static void test_mount_flags(void)
{
	struct launch_config c;
	struct launch_error *err = NULL;
	int r = load_both(
		"{\"mounts\": [\"/apps:/apps:ro+nosuid+rprivate\", \"tmpfs:/scratch:size=1g\",\n"
		"            \"umount:/dev/shm\"]}",
		"{\"mounts\": [\"/home/u/d:/d:noexec+x-create=dir\", \"tmpfs:/t\"]}", &c, &err);
	CHECK_INTEQ(r, 0);
	CHECK_NO_ERROR(err);
	if (CHECK(c.mounts.n == 3)) {
		const struct launch_mount *m = c.mounts.v;
		CHECK(m[0].type == LAUNCH_MOUNT_BIND && m[0].readonly && m[0].nosuid && !m[0].nodev &&
		      m[0].propagation == LAUNCH_PROPAGATION_RPRIVATE);
		CHECK(m[1].type == LAUNCH_MOUNT_TMPFS && m[1].source == NULL);
		CHECK_STREQ(m[1].tmpfs_size, "1g");
		CHECK(m[2].type == LAUNCH_MOUNT_UMOUNT);
		CHECK_STREQ(m[2].destination, "/dev/shm");
	}
	struct launch_mounts ms = { NULL, 0 };
	_cleanup_strv_ char **args = NULL;
	launch_config_run_args(&c, &ms, &args);
	if (CHECK(ms.n == 2)) {
		CHECK(ms.v[0].noexec && ms.v[0].create == LAUNCH_CREATE_DIR && !ms.v[0].readonly);
		CHECK(ms.v[1].type == LAUNCH_MOUNT_TMPFS && ms.v[1].tmpfs_mode == 01777);
	}
	launch_mounts_clear(&ms);
	struct launch_config_items it;
	CHECK_INTEQ(launch_config_items(&c, &it, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(item_string(&it, "mounts", 0), "/apps:/apps:ro+rprivate+nosuid");
	CHECK_STREQ(item_string(&it, "mounts", 1), "tmpfs:/scratch:size=1g");
	CHECK_STREQ(item_string(&it, "mounts", 2), "umount:/dev/shm");
	CHECK_STREQ(item_string(&it, "mounts", 3), "/home/u/d:/d:noexec+x-create=dir");
	CHECK_STREQ(item_string(&it, "mounts", 4), "tmpfs:/t");
	launch_config_items_clear(&it);
	launch_config_clear(&c);

	/* a host path stays absolute: ./tmpfs is refused like any relative one */
	REFUSED("{\"mounts\": [\"./tmpfs:/x\"]}", "1:13: ",
		"site mount `./tmpfs:/x` must start with an absolute host path (or be tmpfs:DST or umount:DST)");
	REFUSED("{\"mounts\": [\"tmpfsx:/x\"]}",
		"1:13: ", "site mount `tmpfsx:/x` must start with an absolute host path");
	REFUSED("{\"mounts\": [\"tmpfs\"]}", "1:13: ", "invalid mount `tmpfs`: tmpfs needs a destination");
	REFUSED("{\"mounts\": [\"umount:/x:ro\"]}", "1:13: ", "invalid mount `umount:/x:ro`: umount takes no flags");
	REFUSED("{\"mounts\": [\"/a:/b:ro+rw\"]}", "1:13: ", "invalid mount `/a:/b:ro+rw`: `rw` contradicts `ro`");
}

int main(void)
{
	char *tmp = tu_mkdtemp();
	dir = tmp;
	/* never the real user's file */
	_cleanup_free_ char *no_config = xasprintf("%s/xdg-empty", tmp);
	setenv("XDG_CONFIG_HOME", no_config, 1);
	test_defaults();
	test_all_keys();
	test_sizes();
	test_errors();
	test_unreadable();
	test_trusted();
	test_load();
	test_user_merge();
	test_user_refusals();
	test_user_trust();
	test_load_user();
	test_origins();
	test_mount_flags();
	tu_rm_rf(tmp);
	free(tmp);
	return check_done();
}
