/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the IMAGE argument into something to mount. Paths to squashfs
 * files and unpacked directories are handled here; named images resolve
 * through the store once it exists, by the same function. */
#ifndef LAUNCH_IMAGE_H
#define LAUNCH_IMAGE_H

#include "error.h"

enum launch_image_kind { LAUNCH_IMAGE_SQUASHFS = 1, LAUNCH_IMAGE_DIRECTORY = 2 };

struct launch_image {
	enum launch_image_kind kind;
	char *path; /* absolute host path of the squashfs file or directory */
	char *ref;  /* what the user wrote */
};

int launch_image_resolve(const char *ref, struct launch_image *out, struct launch_error **err);
void launch_image_clear(struct launch_image *img);
const char *launch_image_kind_name(enum launch_image_kind k);

#endif
