/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image-manager/containerfile.c: instructions with their
 * lines (continuations, comments inside them, directives, the escape
 * directive, flags, the exec form), errors at FILE:LINE; docker's word
 * processing (quotes, escapes, $VAR, ${VAR:-w}, ${VAR:+w}); .dockerignore
 * patterns (*, **, !, parent directories). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "containerfile.h"
#include "util.h"

static void test_parse(void)
{
	const char *text =
		"# syntax=docker/dockerfile:1\n"
		"# escape=\\\n"
		"\n"
		"FROM debian AS build\n"
		"# a comment\n"
		"RUN apt-get update && \\\n"
		"# a comment inside\n"
		"    apt-get install -y gcc\n"
		"copy --from=build --chown=1:2 a b /c/\n"
		"CMD [\"sh\", \"-c\", \"echo hi\"]\n"
		"ENTRYPOINT [not json\n";
	struct launch_containerfile cf;
	struct launch_error *err = NULL;
	CHECK(launch_cf_parse(text, "Containerfile", &cf, &err) == 0);
	CHECK(cf.n == 5);
	if (cf.n != 5)
		return;
	CHECK_STREQ(cf.v[0].cmd, "FROM");
	CHECK(cf.v[0].line == 4);
	CHECK_STREQ(cf.v[0].args, "debian AS build");
	CHECK_STREQ(cf.v[1].cmd, "RUN");
	CHECK(cf.v[1].line == 6);
	CHECK_STREQ(cf.v[1].args, "apt-get update &&     apt-get install -y gcc");
	CHECK_STREQ(cf.v[2].cmd, "COPY");
	CHECK(cf.v[2].line == 9);
	CHECK_STREQ(launch_cf_flag(&cf.v[2], "from"), "build");
	CHECK_STREQ(launch_cf_flag(&cf.v[2], "chown"), "1:2");
	CHECK(launch_cf_flag(&cf.v[2], "chmod") == NULL);
	CHECK_STREQ(cf.v[2].args, "a b /c/");
	CHECK(cf.v[3].json && launch_strv_len(cf.v[3].json) == 3);
	CHECK(cf.v[3].json && !strcmp(cf.v[3].json[2], "echo hi"));
	CHECK(cf.v[4].json == NULL); /* not JSON: the shell form */
	launch_cf_clear(&cf);

	CHECK(launch_cf_parse("# escape=`\nFROM x\nRUN a `\n b\n", "F", &cf, &err) == 0);
	CHECK(cf.n == 2 && cf.escape == '`' && !strcmp(cf.v[1].args, "a  b"));
	launch_cf_clear(&cf);

	CHECK(launch_cf_parse("FROM x\n\nFORM y\n", "dir/Containerfile", &cf, &err) < 0);
	CHECK(err && strstr(err->msg, "dir/Containerfile:3: unknown instruction: FORM"));
	launch_error_free(err);
	err = NULL;
}

static const char *vars(void *arg, const char *name)
{
	(void)arg;
	if (!strcmp(name, "A"))
		return "one";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

static char *one(const char *s)
{
	struct launch_error *err = NULL;
	char **w = launch_cf_words(s, '\\', vars, NULL, false, &err);
	launch_error_free(err);
	if (!w)
		return NULL;
	char *r = xstrdup(w[0]);
	launch_strv_free(w);
	return r;
}

static void test_words(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "$A", "one" },	  { "${A}x", "onex" },
		{ "${B:-dflt}", "dflt" }, { "${EMPTY:-dflt}", "dflt" },
		{ "${EMPTY-dflt}", "" },  { "${A:+set}", "set" },
		{ "${B:+set}", "" },	  { "${B:-$A}", "one" },
		{ "'$A'", "$A" },	  { "\"$A b\"", "one b" },
		{ "\\$A", "$A" },	  { "a\\ b", "a b" },
		{ "$1x", "$1x" },	  { "100%", "100%" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = one(cases[i].in);
		CHECK_STREQ(r, cases[i].out);
		free(r);
	}
	struct launch_error *err = NULL;
	char **w = launch_cf_words("K=\"a b\" L=$A  ''", '\\', vars, NULL, true, &err);
	CHECK(w && launch_strv_len(w) == 3);
	if (w && launch_strv_len(w) == 3) {
		CHECK_STREQ(w[0], "K=a b");
		CHECK_STREQ(w[1], "L=one");
		CHECK_STREQ(w[2], "");
	}
	launch_strv_free(w);
	CHECK(launch_cf_words("\"open", '\\', vars, NULL, true, &err) == NULL);
	CHECK(err && strstr(err->msg, "unterminated"));
	launch_error_free(err);
}

static void test_ignore(void)
{
	char dir[] = "/tmp/launch-unit-cf.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *p = xasprintf("%s/.dockerignore", dir);
	FILE *f = fopen(p, "w");
	fputs("# comment\n*.o\n/build\n**/secret*\ndocs\n!docs/keep.md\n", f);
	fclose(f);
	struct launch_ignore ig;
	struct launch_error *err = NULL;
	CHECK(launch_ignore_load(dir, &ig, &err) == 0);
	CHECK(launch_ignore_match(&ig, "a.o"));
	CHECK(!launch_ignore_match(&ig, "src/a.o")); /* * stays in one component */
	CHECK(launch_ignore_match(&ig, "build/x/y"));
	CHECK(launch_ignore_match(&ig, "secret.txt"));
	CHECK(launch_ignore_match(&ig, "deep/down/secret.key"));
	CHECK(launch_ignore_match(&ig, "docs/a.md"));
	CHECK(!launch_ignore_match(&ig, "docs/keep.md"));
	CHECK(!launch_ignore_match(&ig, "src/main.c"));
	launch_ignore_clear(&ig);
	unlink(p);
	rmdir(dir);
	free(p);
	CHECK(launch_path_match("a/**/b", "a/b"));
	CHECK(launch_path_match("a/**/b", "a/x/y/b"));
	CHECK(!launch_path_match("a/*/b", "a/x/y/b"));
}

int main(void)
{
	test_parse();
	test_words();
	test_ignore();
	return check_done();
}
