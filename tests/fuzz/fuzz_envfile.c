/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for launch_env_apply_file (lib/env.c): the input is the
 * env file, served from a memfd through /proc/self/fd. Besides memory errors
 * it aborts when the result breaks the contract: after success every entry is
 * NAME=VALUE with a valid, unique name; after a failure the message names the
 * file and a line that exists. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz.env", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();

	struct launch_env e = { 0 };
	struct launch_error *err = NULL;
	launch_env_set(&e, "PRESET", "1");
	int r = launch_env_apply_file(&e, path, &err);
	if (r == 0) {
		if (err)
			abort();
		for (size_t i = 0; e.vars && e.vars[i]; i++) {
			const char *eq = strchr(e.vars[i], '=');
			if (!eq || !launch_env_name_valid(e.vars[i], (size_t)(eq - e.vars[i])))
				abort();
			for (size_t j = 0; j < i; j++)
				if (!strncmp(e.vars[j], e.vars[i], (size_t)(eq - e.vars[i]) + 1))
					abort(); /* duplicate name */
		}
	} else {
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		unsigned long line = 0;
		int used = 0;
		if (!err || !launch_str_has_prefix(err->msg, path))
			abort();
		/* (only inputs over the 4 MiB limit cannot be read) */
		if (strstr(err->msg, "cannot read env file") == NULL) {
			if (sscanf(err->msg + strlen(path), ":%lu: expected NAME=VALUE%n", &line, &used) != 1 ||
			    !used || line < 1 || line > lines)
				abort();
		}
	}
	launch_error_free(err);
	launch_env_clear(&e);
	return 0;
}
