/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for lib/mountspec.c: the input, as a C string, goes
 * through the short, long and list parsers. Besides memory errors (ASan) it
 * aborts when a parser breaks its contract: a success must give an absolute,
 * normalised destination other than "/", an absolute, normalised source for
 * a bind and none otherwise, and a mount that launch_mountspec_format writes
 * back (when it can) and that parses to the same mount; a failure must leave
 * the output cleared and an error that starts "invalid mount `". */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountspec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normal(const char *p)
{
	if (!p || p[0] != '/')
		abort();
	char *n = launch_path_normalize(p);
	if (!n || strcmp(n, p) != 0)
		abort();
	free(n);
}

static void check_mount(const struct launch_mount *m)
{
	if (m->type == LAUNCH_MOUNT_BIND)
		check_normal(m->source);
	else if (m->source)
		abort();
	check_normal(m->destination);
	if (!strcmp(m->destination, "/"))
		abort();
	bool is_long;
	char *back = launch_mountspec_format(m, &is_long);
	if (!back)
		return;
	struct launch_mount again;
	struct launch_error *err = NULL;
	int r = is_long ? launch_mountspec_parse_long(back, &again, &err)
			: launch_mountspec_parse_short(back, &again, &err);
	if (r != 0 || !launch_mount_equal(m, &again))
		abort();
	launch_mount_clear(&again);
	free(back);
}

static void check_result(int r, struct launch_mount *m, struct launch_error *err)
{
	static const struct launch_mount zero;
	if (r == 0) {
		if (err)
			abort();
		check_mount(m);
		launch_mount_clear(m);
	} else {
		if (r != -1 || !err || !launch_str_has_prefix(err->msg, "invalid mount `"))
			abort();
		if (!launch_mount_equal(m, &zero))
			abort();
		launch_error_free(err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct launch_mount m;
	struct launch_error *err = NULL;

	int r = launch_mountspec_parse_short(s, &m, &err);
	check_result(r, &m, err);
	err = NULL;
	r = launch_mountspec_parse_long(s, &m, &err);
	check_result(r, &m, err);
	err = NULL;

	struct launch_mounts ms = { 0 };
	r = launch_mountspec_parse_list(s, &ms, &err);
	if (r == 0 && err)
		abort();
	for (size_t i = 0; i < ms.n; i++)
		check_mount(&ms.v[i]);
	launch_mounts_clear(&ms);
	launch_error_free(err);
	free(s);
	return 0;
}
