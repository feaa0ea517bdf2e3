/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the IMAGE argument into something to mount: a path to a squashfs
 * file or an unpacked directory, or a NAME[:TAG] / @DIGEST of the user's or
 * the site's image store (store.h), which also brings the image's config. */
#ifndef LAUNCH_IMAGE_H
#define LAUNCH_IMAGE_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

enum launch_image_kind { LAUNCH_IMAGE_SQUASHFS = 1, LAUNCH_IMAGE_DIRECTORY = 2 };

struct launch_image {
	enum launch_image_kind kind;
	char *path; /* absolute host path of the squashfs file or directory */
	/* where the squashfs starts in PATH and its length (0: to the end):
	 * a SIF file's partition */
	uint64_t offset, size;
	char *ref;    /* what the user wrote */
	char *digest; /* "sha256:HEX" for stored images, else NULL */
	/* the image config (stored images; NULL when absent) */
	char **env; /* NAME=VALUE */
	char **entrypoint;
	char **cmd;
	char *workdir;
	char *user;
};

/* REF: an absolute or ./relative path, or a store reference (searched in the
 * user's store, then the site's); a bare word found in no store but present
 * as a file or directory is taken as a path. C may be NULL (no site stores,
 * the default user store). */
int launch_image_resolve(const char *ref, const struct launch_config *c, struct launch_image *out,
			 struct launch_error **err);
/* Fill the config fields of IMG from an image config object {Env,
 * Entrypoint, Cmd, WorkingDir, User}. */
void launch_image_set_config(struct launch_image *img, json_t *config);
void launch_image_clear(struct launch_image *img);
const char *launch_image_kind_name(enum launch_image_kind k);

#endif
