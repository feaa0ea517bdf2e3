/* SPDX-License-Identifier: Apache-2.0 */
/* `launch build`: an image from a Containerfile, step by step, each step's
 * result kept in the store's build cache (STORE/build-cache):
 *
 *   KEY.json      {"fs": "fs/K.sqfs" or null, "config": {...}}: the step
 *                 whose key is KEY, sha256 of its parent's key, its
 *                 instruction after substitution, the build arguments it
 *                 sees, and for COPY and ADD the names, modes and bytes it
 *                 copies
 *   fs/K.sqfs     the tree after step K, for the steps that change files
 *                 (RUN, COPY, ADD, a WORKDIR that creates its directory);
 *                 the other steps name their parent's file
 *   tmp/          RUN's overlay directories and COPY's layers while a step
 *                 runs
 *
 * A RUN step is `launch run --root --overlay TMP PARENT.sqfs SHELL CMD` (the
 * --root identity of the user: subordinate ids or the seccomp fake root),
 * then launch commit's flattening of TMP over PARENT into the step's file;
 * a COPY step writes a layer tar that the same flattening puts over the
 * parent. Every file appears by rename(2) when complete. The last step's
 * file is copied into the store as the image. */
#ifndef LAUNCH_BUILD_H
#define LAUNCH_BUILD_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

struct launch_build_opts {
	const char *file;    /* the Containerfile (NULL: CONTEXT/Containerfile, else CONTEXT/Dockerfile) */
	const char *context; /* the build context directory */
	char **tags;	     /* canonical NAME:TAG entries */
	char **build_args;   /* NAME=VALUE (or NAME: from the environment) */
	const char *target;  /* the stage to build (NULL: the last) */
	bool no_cache;	     /* run every step, and cache the results anew */
	const char *compressor;
};

/* Build; *DIGEST gets the image's digest. */
int launch_build(const struct launch_config *c, const struct launch_build_opts *o, char **digest,
		 struct launch_error **err);

#endif
