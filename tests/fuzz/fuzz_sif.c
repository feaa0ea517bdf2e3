/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for lib/sif.c: the input is read as a SIF file (served
 * from a memfd) with launch_sif_read, and as an environment script with
 * launch_sif_env_parse. Besides memory errors it aborts when a result
 * breaks the contract: a SIF accepted has its partition inside the file,
 * starting with the squashfs magic; a refusal has a message and leaves
 * nothing allocated; every variable parsed is NAME=VALUE with a valid name,
 * each name once. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env.h"
#include "sif.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

static void check_sif(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	struct launch_sif s;
	struct launch_error *err = NULL;
	if (launch_sif_read(memfd, "fuzz.sif", &s, &err) == 0) {
		if (err || s.offset + s.size > size || s.size < 4 || memcmp(data + s.offset, "hsqs", 4) != 0)
			abort();
		launch_sif_clear(&s);
	} else {
		if (!err || !err->msg || s.labels || s.deffile)
			abort();
		launch_error_free(err);
	}
}

static void check_env(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char **env = NULL;
	size_t skipped = 0;
	launch_sif_env_parse(text, &env, &skipped);
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || !launch_env_name_valid(env[i], (size_t)(eq - env[i])))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strncmp(env[j], env[i], (size_t)(eq - env[i]) + 1))
				abort();
	}
	launch_strv_free(env);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0 && (memfd = memfd_create("fuzz.sif", MFD_CLOEXEC)) < 0)
		abort();
	check_sif(data, size);
	check_env(data, size);
	return 0;
}
