/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for lib/mountspec.c: the input, as a C string, goes
 * through the short, long and list parsers. Besides memory errors (ASan) it
 * aborts when a parser breaks its contract: a success must give an absolute,
 * normalised source and destination other than "/", and a failure must leave
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

static void check_result(int r, struct launch_mount *m, struct launch_error *err)
{
	if (r == 0) {
		if (err)
			abort();
		check_normal(m->source);
		check_normal(m->destination);
		if (!strcmp(m->destination, "/"))
			abort();
		launch_mount_clear(m);
	} else {
		if (r != -1 || !err || !launch_str_has_prefix(err->msg, "invalid mount `"))
			abort();
		if (m->source || m->destination || m->readonly)
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
	for (size_t i = 0; i < ms.n; i++) {
		check_normal(ms.v[i].source);
		check_normal(ms.v[i].destination);
	}
	launch_mounts_clear(&ms);
	launch_error_free(err);
	free(s);
	return 0;
}
