/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the IMAGE argument into something to mount: a path to a squashfs
 * file, a SIF file (its primary partition, in place) or an unpacked
 * directory, or a NAME[:TAG] / @DIGEST of the user's or the site's image
 * store (store.h), which also brings the image's config. */
#ifndef LAUNCH_IMAGE_H
#define LAUNCH_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
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
	bool sif; /* a SIF file: its config comes from its /.singularity.d */
};

/* Reading files inside a squashfs image (a SIF image's environment scripts
 * and runscript) takes squashfuse's library, which only programs link
 * (sqfs_fuse.c, sqfs_ext.c): they register its functions here at start, so
 * that this file, which the SPANK plugin links, does not depend on them.
 * Without them, a SIF image's /.singularity.d is not read. */
struct launch_image_files {
	/* PATH (absolute, symlinks followed inside the image) of the squashfs
	 * at OFFSET of IMAGE, at most MAX bytes; *MODE gets its mode. 0, 1
	 * when it does not exist, -1 with ERR set. */
	int (*read_file)(const char *image, uint64_t offset, const char *path, size_t max, char **data, size_t *len,
			 unsigned *mode, struct launch_error **err);
	/* The names in directory DIR, sorted: 0, 1 when it does not exist, -1. */
	int (*list_dir)(const char *image, uint64_t offset, const char *dir, char ***names, struct launch_error **err);
};
void launch_image_set_files(const struct launch_image_files *f);
/* The config Apptainer gives the SIF image IMG (path and offset set):
 * Env from /.singularity.d/env/ *.sh (launch_sif_env_parse), in name order,
 * and Cmd /.singularity.d/runscript when there is one, into IMG. */
int launch_image_sif_config(struct launch_image *img, struct launch_error **err);

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
/* Node-local staging: copy IMG's squashfs file into DIR (created 0700 when
 * missing, the caller's; checked as trust.h says), named by its digest, or
 * for a file outside the stores by its device, inode, size and time, unless
 * a copy is there already; IMG then names the copy. A directory image is
 * left where it is. */
int launch_image_stage(struct launch_image *img, const char *dir, struct launch_error **err);
/* IMG's squashfs alone (a SIF file's partition) as the new file PATH,
 * written beside it under a temporary name and renamed. */
int launch_image_extract(const struct launch_image *img, const char *path, struct launch_error **err);
const char *launch_image_kind_name(enum launch_image_kind k);

#endif
