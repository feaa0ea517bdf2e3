/* SPDX-License-Identifier: Apache-2.0 */
/* `launch commit`: a new image from a squashfs base image and the changes
 * a writable container made (an --overlay directory, or the writable layer
 * of a running instance). The overlay's upper directory is read from inside
 * a user namespace mapped as the container's was, so the new image gets the
 * owners the container saw; whiteouts and opaque directories become
 * deletions; the base and the changes are flattened as an import's layers
 * are (flatten.c) and streamed into a squashfs file of the store. */
#ifndef LAUNCH_COMMIT_H
#define LAUNCH_COMMIT_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

struct launch_commit_opts {
	const char *overlay;	/* --overlay DIR (with IMAGE), or NULL */
	const char *image;	/* the base image of DIR */
	const char *instance;	/* or a running instance's name */
	char **tags;		/* canonical NAME:TAG entries */
	const char *compressor; /* NULL: the import default */
	char **env;		/* config overrides, as for import */
	char **entrypoint;
	char **cmd;
	const char *workdir;
	const char *output; /* write the squashfs to this file, not to the store */
	/* the changes as a layer tar (whiteouts in the .wh. form) instead of
	 * an upper directory; IMAGE may then be NULL (no base: the layer is
	 * the whole tree) */
	const char *layer;
};

int launch_commit(const struct launch_config *c, const struct launch_commit_opts *o, char **digest,
		  struct launch_error **err);

/* For tests: write the upper directory UPPER as a layer tar (whiteouts and
 * opaque markers in the .wh. form) to FD, skipping MOUNTPOINTS (container
 * paths) that hold nothing but other such mount points. */
int launch_commit_write_upper(const char *upper, char *const *mountpoints, int fd, struct launch_error **err);

#endif
