/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for hook files (lib/hooks.c): any input is parsed as a
 * hook file without crashing; one that parses has an absolute path, at least
 * one stage and well-formed env entries, every pattern it kept compiles, and
 * the when-conditions can be evaluated against a fixed container. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hookapi.h"
#include "hooks.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* hooks.c joins containers through hookapi.c, which the parser never calls */
int launch_hook_enter(pid_t pid, struct launch_error **err)
{
	(void)pid;
	(void)err;
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct launch_json_doc doc;
	struct launch_error *err = NULL;
	if (launch_json_doc_parse(&doc, "fuzz.json", xstrndup((const char *)data, size), &err) < 0) {
		launch_error_free(err);
		launch_json_doc_clear(&doc);
		return 0;
	}
	struct launch_hook h;
	if (launch_hook_parse(&h, &doc, &err) == 0) {
		if (h.path[0] != '/' || h.stages == 0 || h.stages >= (1u << LAUNCH_HOOK_N_STAGES))
			abort();
		for (size_t i = 0; h.env[i]; i++)
			if (!strchr(h.env[i], '=') || h.env[i][0] == '=')
				abort();
		if (launch_strv_len(h.ann_keys) != launch_strv_len(h.ann_values))
			abort();
		char *ann[] = { "launch.mpi=true", "a=", NULL };
		struct launch_hook_target t = { ann, "/bin/sh", true };
		char *why = NULL;
		launch_hook_applies(&h, &t, &why);
		if (!why)
			abort();
		free(why);
		launch_hook_clear(&h);
	} else {
		if (!err || !strstr(err->msg, "fuzz.json:"))
			abort();
		launch_error_free(err);
	}
	launch_json_doc_clear(&doc);
	return 0;
}
