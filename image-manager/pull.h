/* SPDX-License-Identifier: Apache-2.0 */
/* `launch pull`: an image from a registry into the user's store. Manifests,
 * configs and layers land in the store's content-addressed blob cache
 * (STORE/blobs/sha256/HEX, shared by all images: a layer two images share is
 * downloaded once); the image is then flattened from there as an OCI layout
 * would be (import.c). */
#ifndef LAUNCH_PULL_H
#define LAUNCH_PULL_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

struct launch_pull_opts {
	const char *ref;      /* docker://... */
	const char *platform; /* NULL: linux/amd64 */
	char **tags;	      /* NULL: the reference's own name (registry_ref_local_name) */
	const char *compressor;
	bool progress;
};

int launch_pull(const struct launch_config *c, const struct launch_pull_opts *o, char **digest,
		struct launch_error **err);

#endif
