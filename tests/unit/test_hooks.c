/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/hooks.c and the parts of lib/hookapi.c that need no
 * container: hook files (every field, every error at FILE:LINE:COL), the
 * when-conditions with podman's semantics, loading directories (sorting,
 * masking, ownership), the state JSON, running a hook (stdin, environment,
 * exit status, timeout) and `ldconfig -p` parsing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hookapi.h"
#include "hooks.h"
#include "testutil.h"
#include "util.h"

static const char *dir;

static int parse_text(const char *text, struct launch_hook *h, struct launch_error **err)
{
	struct launch_json_doc doc;
	if (launch_json_doc_parse(&doc, "h.json", xstrdup(text), err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int r = launch_hook_parse(h, &doc, err);
	launch_json_doc_clear(&doc);
	return r;
}

static void test_parse_good(void)
{
	struct launch_error *err = NULL;
	struct launch_hook h;
	CHECK(parse_text(
		      "{\"version\": \"1.0.0\",\n"
		      " \"hook\": {\"path\": \"/usr/libexec/h\", \"args\": [\"h\", \"--x\"], \"env\": [\"A=1\", \"B=\"],"
		      " \"timeout\": 5},\n"
		      " \"when\": {\"always\": true, \"annotations\": {\"^k$\": \"^v$\"}, \"commands\": [\"sh\"],"
		      " \"hasBindMounts\": true},\n"
		      " \"stages\": [\"prestart\", \"poststop\", \"createContainer\"]}",
		      &h, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(h.path, "/usr/libexec/h");
	CHECK_INTEQ(launch_strv_len(h.args), 2);
	CHECK_STREQ(h.env[1], "B=");
	CHECK_INTEQ(h.timeout, 5);
	CHECK_INTEQ(h.always, 1);
	CHECK_INTEQ(h.has_bind_mounts, 1);
	CHECK_STREQ(h.ann_keys[0], "^k$");
	CHECK_STREQ(h.ann_values[0], "^v$");
	CHECK_STREQ(h.commands[0], "sh");
	CHECK_INTEQ(h.stages,
		    (1u << LAUNCH_HOOK_PRESTART) | (1u << LAUNCH_HOOK_POSTSTOP) | (1u << LAUNCH_HOOK_CREATE_CONTAINER));
	launch_hook_clear(&h);

	CHECK(parse_text("{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"commands\": [\"x\"]},"
			 " \"stages\": [\"poststart\"]}",
			 &h, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_NULL(h.args);
	CHECK(h.env && !h.env[0]);
	CHECK_INTEQ(h.always, -1);
	CHECK_INTEQ(h.has_bind_mounts, -1);
	CHECK_INTEQ(h.timeout, 0);
	launch_hook_clear(&h);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
		{ "[]", "h.json:1:1: a hook file must be a JSON object" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": true}}",
		  "\"stages\" must be a non-empty array" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": true}, \"stages\": []}",
		  "h.json:1:72: \"stages\" must be a non-empty array" },
		{ "{\"version\": \"1.0.0\", \"when\": {\"always\": true}, \"stages\": [\"prestart\"]}",
		  "needs \"hook\", \"when\" and \"stages\"" },
		{ "{\"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": true}, \"stages\": [\"prestart\"]}",
		  "\"version\" must be \"1.0.0\"" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\", \"argz\": []}, \"when\": {\"always\": true},"
		  " \"stages\": [\"prestart\"]}",
		  "h.json:1:45: unknown key \"argz\" in \"hook\"" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\", \"args\": []}, \"when\": {\"always\": true},"
		  " \"stages\": [\"prestart\"]}",
		  "hook.args must not be empty" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\", \"env\": [\"NOEQUALS\"]}, \"when\": {\"always\": true},"
		  " \"stages\": [\"prestart\"]}",
		  "h.json:1:53: hook.env entry `NOEQUALS` must be NAME=VALUE" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\", \"env\": [1]}, \"when\": {\"always\": true},"
		  " \"stages\": [\"prestart\"]}",
		  "hook.env entries must be strings, not an integer" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\", \"timeout\": 0}, \"when\": {\"always\": true},"
		  " \"stages\": [\"prestart\"]}",
		  "hook.timeout must be a number of seconds from 1 to 86400" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": 7}, \"when\": {\"always\": true}, \"stages\": [\"prestart\"]}",
		  "hook.path must be the absolute path" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": \"yes\"}, \"stages\": [\"prestart\"]}",
		  "when.always must be true or false, not a string" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"annotations\": {\"k\": 1}},"
		  " \"stages\": [\"prestart\"]}",
		  "when.annotations values must be strings" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"annotations\": {\"[\": \"x\"}},"
		  " \"stages\": [\"prestart\"]}",
		  "annotation key pattern `[` is not a valid regular expression" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"annotations\": {\"k\": \"(\"}},"
		  " \"stages\": [\"prestart\"]}",
		  "annotation value pattern `(` is not a valid regular expression" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"commands\": [\"p++++\"]},"
		  " \"stages\": [\"prestart\"]}",
		  "command pattern `p++++` stacks repetition operators" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"commands\": [\"a*{2}\"]},"
		  " \"stages\": [\"prestart\"]}",
		  "stacks repetition operators" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"or\": true}, \"stages\": [\"prestart\"]}",
		  "unknown key \"or\" in \"when\"" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": true}, \"stages\": [3]}",
		  "h.json:1:83: unknown stage an integer" },
		{ "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": {\"always\": true}, \"stages\": [\"prestart\"],"
		  " \"extra\": 1}",
		  "unknown key \"extra\" in a hook file" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct launch_error *err = NULL;
		struct launch_hook h;
		CHECK(parse_text(cases[i].text, &h, &err) < 0);
		CHECK_ERROR(err, cases[i].expect);
	}
}

static struct launch_hook when_hook(const char *when)
{
	_cleanup_free_ char *text = xasprintf(
		"{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/h\"}, \"when\": %s, \"stages\": [\"prestart\"]}",
		when);
	struct launch_hook h;
	struct launch_error *err = NULL;
	if (parse_text(text, &h, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		abort();
	}
	return h;
}

static bool applies(const char *when, char *const *annotations, const char *command, bool binds)
{
	struct launch_hook h = when_hook(when);
	struct launch_hook_target t = { annotations, command, binds };
	char *why = NULL;
	bool r = launch_hook_applies(&h, &t, &why);
	CHECK(why != NULL && *why);
	free(why);
	launch_hook_clear(&h);
	return r;
}

static void test_when(void)
{
	char *ann[] = { "launch.mpi=true", "site.team=fluid-dynamics", NULL };
	char *none[] = { NULL };
	CHECK(applies("{\"always\": true}", none, "sh", false));
	CHECK(!applies("{\"always\": false}", none, "sh", false));
	CHECK(!applies("{\"always\": false, \"hasBindMounts\": true}", none, "sh", true));
	CHECK(applies("{\"hasBindMounts\": true}", none, "sh", true));
	CHECK(!applies("{\"hasBindMounts\": true}", none, "sh", false));
	CHECK(!applies("{\"hasBindMounts\": false}", none, "sh", false));
	/* annotations: key and value patterns, searched (not anchored) */
	CHECK(applies("{\"annotations\": {\"^launch\\\\.mpi$\": \"^true$\"}}", ann, "sh", false));
	CHECK(!applies("{\"annotations\": {\"^launch\\\\.mpi$\": \"^false$\"}}", ann, "sh", false));
	CHECK(applies("{\"annotations\": {\"team\": \"fluid\"}}", ann, "sh", false));
	CHECK(!applies("{\"annotations\": {\"team\": \"^fluid$\"}}", ann, "sh", false));
	CHECK(!applies("{\"annotations\": {\"mpi\": \"true\"}}", none, "sh", false));
	/* every annotation pattern must match */
	CHECK(!applies("{\"annotations\": {\"mpi\": \"true\", \"gpu\": \"true\"}}", ann, "sh", false));
	/* commands: anchored, any of them */
	CHECK(applies("{\"commands\": [\"python3?\", \"sh\"]}", none, "sh", false));
	CHECK(!applies("{\"commands\": [\"s\"]}", none, "sh", false));
	CHECK(applies("{\"commands\": [\".*/sh\"]}", none, "/bin/sh", false));
	/* repetition after a group, a bracket or an escape is fine */
	CHECK(applies("{\"commands\": [\"(/s+)+h\", \"[+*]+\", \"a\\\\++\"]}", none, "/ssh", false));
	CHECK(applies("{\"commands\": [\"[+*]+\"]}", none, "+*", false));
	CHECK(applies("{\"commands\": [\"a\\\\++\"]}", none, "a++", false));
	CHECK(!applies("{\"commands\": [\".*\"]}", none, NULL, false)); /* an instance */
	/* all conditions given must hold */
	CHECK(applies("{\"always\": true, \"commands\": [\"sh\"], \"hasBindMounts\": true}", ann, "sh", true));
	CHECK(!applies("{\"always\": true, \"commands\": [\"sh\"], \"hasBindMounts\": true}", ann, "bash", true));
	CHECK(!applies("{\"annotations\": {\"mpi\": \"true\"}, \"commands\": [\"sh\"]}", ann, "bash", false));
}

static void write_hook(const char *sub, const char *name, const char *stage)
{
	_cleanup_free_ char *d = xasprintf("%s/%s", dir, sub);
	mkdir(d, 0755);
	_cleanup_free_ char *text = xasprintf(
		"{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/bin/%s\"}, \"when\": {\"always\": true}, \"stages\": [\"%s\"]}",
		sub, stage);
	free(tu_write(d, name, text));
}

static void test_load(void)
{
	write_hook("a", "20-x.json", "prestart");
	write_hook("a", "10-y.json", "poststop");
	write_hook("b", "20-x.json", "poststart"); /* masked by a/20-x.json */
	write_hook("b", "15-z.json", "prestart");
	write_hook("b", "README", "prestart");	     /* not *.json */
	write_hook("b", ".hidden.json", "prestart"); /* hidden */
	_cleanup_free_ char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir), *none = xasprintf("%s/none", dir);
	char *dirs[] = { a, none, b, NULL };
	struct launch_hooks hooks;
	struct launch_error *err = NULL;
	CHECK(launch_hooks_load(&hooks, dirs, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(hooks.n, 3);
	if (hooks.n == 3) {
		CHECK_STREQ(hooks.v[0].name, "10-y");
		CHECK_STREQ(hooks.v[1].name, "15-z");
		CHECK_STREQ(hooks.v[2].name, "20-x");
		CHECK_STREQ(hooks.v[2].path, "/bin/a");
		CHECK_CONTAINS(hooks.v[1].file, "/b/15-z.json");
	}
	CHECK(launch_hooks_have_stage(&hooks, LAUNCH_HOOK_POSTSTOP));
	CHECK(!launch_hooks_have_stage(&hooks, LAUNCH_HOOK_POSTSTART));
	struct launch_hooks copy = { 0 };
	launch_hooks_push(&copy, &hooks.v[0]);
	CHECK_STREQ(copy.v[0].file, hooks.v[0].file);
	launch_hooks_clear(&copy);
	launch_hooks_clear(&hooks);

	/* an invalid file anywhere is an error with its position */
	_cleanup_free_ char *bad = tu_write(
		b, "30-bad.json",
		"{\"version\": \"1.0.0\",\n  \"hook\": 1, \"when\": {\"always\": true}, \"stages\": [\"prestart\"]}");
	CHECK(launch_hooks_load(&hooks, dirs, &err) < 0);
	CHECK_ERROR(err, bad, ":2:3:", "\"hook\" must be an object");
	unlink(bad);
	/* group-writable files and directories are refused */
	_cleanup_free_ char *x = xasprintf("%s/20-x.json", a);
	chmod(x, 0664);
	CHECK(launch_hooks_load(&hooks, dirs, &err) < 0);
	CHECK_ERROR(err, x, "must not be writable by group or others", "chmod go-w");
	chmod(x, 0644);
	chmod(b, 0777);
	CHECK(launch_hooks_load(&hooks, dirs, &err) < 0);
	CHECK_ERROR(err, b, "is writable by other users", "chmod go-w");
	chmod(b, 0755);
	/* symlinked hook files are not followed */
	_cleanup_free_ char *link = xasprintf("%s/40-link.json", a);
	CHECK(symlink(x, link) == 0);
	CHECK(launch_hooks_load(&hooks, dirs, &err) < 0);
	CHECK_ERROR(err, link, "symlinks are not followed");
	unlink(link);
	CHECK(launch_hooks_load(&hooks, dirs, &err) == 0);
	CHECK_NO_ERROR(err);
	launch_hooks_clear(&hooks);
}

static void test_state_json(void)
{
	char *ann[] = { "launch.gpu=true", "a=b=c", NULL };
	struct launch_hook_run run = {
		.id = "job-1", .status = "creating", .pid = 42, .bundle = "/b", .annotations = ann
	};
	_cleanup_free_ char *s = launch_hook_state_json(&run);
	CHECK_CONTAINS(s, "\"ociVersion\":\"1.0.2\"");
	CHECK_CONTAINS(s, "\"id\":\"job-1\"");
	CHECK_CONTAINS(s, "\"status\":\"creating\"");
	CHECK_CONTAINS(s, "\"pid\":42");
	CHECK_CONTAINS(s, "\"bundle\":\"/b\"");
	CHECK_CONTAINS(s, "\"launch.gpu\":\"true\"");
	CHECK_CONTAINS(s, "\"a\":\"b=c\"");
	run.pid = 0;
	run.status = "stopped";
	_cleanup_free_ char *t = launch_hook_state_json(&run);
	CHECK(!strstr(t, "\"pid\""));
}

static struct launch_hooks one_hook(const char *script, int timeout, unsigned stage)
{
	_cleanup_free_ char *path = tu_write(dir, "hook.sh", script);
	chmod(path, 0755);
	struct launch_hook h = {
		.path = path, .name = "t", .file = "t.json", .timeout = timeout, .stages = 1u << stage
	};
	char *env[] = { "PATH=/usr/bin:/bin", "MARK=from-the-file", NULL };
	h.env = env;
	struct launch_hooks hooks = { 0 };
	launch_hooks_push(&hooks, &h);
	return hooks;
}

static void test_run(void)
{
	_cleanup_free_ char *out = xasprintf("%s/hook.out", dir);
	_cleanup_free_ char *script =
		xasprintf("#!/bin/sh\ncat > %s\necho \"MARK=$MARK HOME=${HOME:-unset}\" >> %s\n", out, out);
	struct launch_hooks hooks = one_hook(script, 0, LAUNCH_HOOK_PRESTART);
	struct launch_hook_run run = {
		.id = "c1", .status = "creating", .pid = 1, .bundle = dir, .default_timeout = 10
	};
	struct launch_error *err = NULL;
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_PRESTART, &run, &err) == 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *text = NULL;
	CHECK(launch_read_file_at(AT_FDCWD, out, 1 << 16, &text, NULL) == 0);
	CHECK_CONTAINS(text, "\"id\":\"c1\"");
	CHECK_CONTAINS(text, "MARK=from-the-file HOME=unset"); /* only hook.env */
	/* another stage: not run */
	unlink(out);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_POSTSTOP, &run, &err) == 0);
	CHECK(access(out, F_OK) < 0);
	launch_hooks_clear(&hooks);

	hooks = one_hook("#!/bin/sh\necho first line\necho 'it broke' >&2\nexit 4\n", 0, LAUNCH_HOOK_CREATE_RUNTIME);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_CREATE_RUNTIME, &run, &err) < 0);
	CHECK_ERROR(err, "hook t (t.json, createRuntime) failed (exit status 4): first line\nit broke");
	launch_hooks_clear(&hooks);

	/* a hook that exits without reading its stdin: no SIGPIPE for us */
	for (int i = 0; i < 20; i++) {
		struct launch_hook quick = {
			.path = "/bin/true", .name = "quick", .file = "quick.json", .stages = 1u << LAUNCH_HOOK_PRESTART
		};
		char *qenv[] = { NULL };
		quick.env = qenv;
		struct launch_hooks q = { 0 };
		launch_hooks_push(&q, &quick);
		CHECK(launch_hooks_run_stage(&q, LAUNCH_HOOK_PRESTART, &run, &err) == 0);
		CHECK_NO_ERROR(err);
		launch_hooks_clear(&q);
	}

	/* a hook that leaves a child holding its output: done when it exits */
	hooks = one_hook("#!/bin/sh\nsleep 5 &\necho started\n", 3, LAUNCH_HOOK_PRESTART);
	time_t b0 = time(NULL);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_PRESTART, &run, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK(time(NULL) - b0 < 2);
	launch_hooks_clear(&hooks);

	/* after the start a failure is only a warning */
	hooks = one_hook("#!/bin/sh\nexit 4\n", 0, LAUNCH_HOOK_POSTSTART);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_POSTSTART, &run, &err) == 0);
	CHECK_NO_ERROR(err);
	launch_hooks_clear(&hooks);

	/* the timeout kills the hook and what it started */
	hooks = one_hook("#!/bin/sh\nsleep 30 &\nexec sleep 30\n", 1, LAUNCH_HOOK_PRESTART);
	time_t t0 = time(NULL);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_PRESTART, &run, &err) < 0);
	CHECK(time(NULL) - t0 < 5);
	CHECK_ERROR(err, "hook t (t.json, prestart) timed out after 1 s");
	launch_hooks_clear(&hooks);
	run.default_timeout = 1;
	hooks = one_hook("#!/bin/sh\nexec sleep 30\n", 0, LAUNCH_HOOK_PRESTART);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_PRESTART, &run, &err) < 0);
	CHECK_ERROR(err, "timed out after 1 s");
	launch_hooks_clear(&hooks);

	/* a hook that cannot be executed */
	struct launch_hook h = {
		.path = "/nonexistent/hook", .name = "gone", .file = "gone.json", .stages = 1u << LAUNCH_HOOK_PRESTART
	};
	char *env[] = { NULL };
	h.env = env;
	launch_hooks_push(&hooks, &h);
	CHECK(launch_hooks_run_stage(&hooks, LAUNCH_HOOK_PRESTART, &run, &err) < 0);
	CHECK_ERROR(err, "hook gone (gone.json, prestart) failed (exit status 127): cannot execute /nonexistent/hook");
	launch_hooks_clear(&hooks);
}

static void test_ldcache_parse(void)
{
	struct launch_ldcache c;
	CHECK(launch_ldcache_parse(
		      "3 libs found in cache `/etc/ld.so.cache'\n"
		      "\tlibmpi.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libmpi.so.12\n"
		      "\tlibmpi.so.12 (libc6) => /usr/lib/i386-linux-gnu/libmpi.so.12\n"
		      "\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6\n"
		      "Cache generated by: ldconfig (GNU libc) stable release version 2.36\n",
		      &c) == 0);
#if defined(__x86_64__)
	CHECK_INTEQ(c.n, 2);
#endif
	const struct launch_ldcache_entry *e = launch_ldcache_find(&c, "libmpi.so.12");
	CHECK(e != NULL);
	if (e)
		CHECK_STREQ(e->path, "/usr/lib/x86_64-linux-gnu/libmpi.so.12");
	e = launch_ldcache_find(&c, "libc.so.6");
	CHECK(e != NULL);
	CHECK_NULL(launch_ldcache_find(&c, "libnothing.so.1"));
	launch_ldcache_clear(&c);
	CHECK_INTEQ(c.n, 0);

	/* this machine's own cache, through ldconfig */
	struct launch_error *err = NULL;
	if (access("/sbin/ldconfig", X_OK) == 0) {
		CHECK(launch_ldcache_read("/sbin/ldconfig", "/", &c, &err) == 0);
		CHECK_NO_ERROR(err);
		CHECK(launch_ldcache_find(&c, "libc.so.6") != NULL);
		launch_ldcache_clear(&c);
		CHECK(launch_ldcache_read("/sbin/ldconfig", dir, &c, &err) < 0 || c.n == 0);
		launch_error_free(err);
		err = NULL;
		launch_ldcache_clear(&c);
	}
	CHECK(launch_ldcache_read("/nonexistent/ldconfig", "/", &c, &err) < 0);
	CHECK_ERROR(err, "/nonexistent/ldconfig");
}

int main(void)
{
	char *tmp = tu_mkdtemp();
	dir = tmp;
	test_parse_good();
	test_parse_errors();
	test_when();
	test_load();
	test_state_json();
	test_run();
	test_ldcache_parse();
	tu_rm_rf(tmp);
	free(tmp);
	return check_done();
}
