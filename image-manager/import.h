/* SPDX-License-Identifier: Apache-2.0 */
/* `launch import`: a docker-archive, an OCI layout (directory or tar), a
 * root file system tarball or a squashfs file into the user's image store.
 * The squashfs is written to a locked temporary file of the store and only
 * enters the index, under the store lock, once complete and checked: a
 * failed, interrupted or killed import never shows in the store. */
#ifndef LAUNCH_IMPORT_H
#define LAUNCH_IMPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "error.h"

struct launch_import_opts {
	const char *source;
	char **tags;		/* canonical NAME:TAG entries to point at the image */
	bool rootfs;		/* SOURCE is a root file system tar (maybe compressed) */
	const char *platform;	/* OS/ARCH[/VARIANT], NULL: linux/amd64 */
	const char *compressor; /* NAME[:LEVEL], NULL: LAUNCH_SQFS_DEFAULT_COMPRESSOR */
	/* config: the whole config of a rootfs or squashfs import, overrides
	 * for the others; NULL: unchanged */
	char **env; /* NAME=VALUE entries added (replacing the same names) */
	char **entrypoint;
	char **cmd;
	const char *workdir;
	bool progress; /* show progress on stderr */
};

struct launch_store;
struct launch_source;
struct launch_image_plan;
/* Flatten PLAN's layers from SRC into a new image of STORE (tags, config
 * overrides, compressor and progress from O; SOURCE recorded as where it
 * came from). What an import of a layout or a pull ends with. */
int launch_import_plan(const struct launch_store *store, const struct launch_source *src,
		       const struct launch_image_plan *plan, const struct launch_import_opts *o, const char *source,
		       char **digest, struct launch_error **err);

/* Apply --env (NAME=VALUE entries added, replacing an entry of the same
 * NAME), --entrypoint, --cmd and --workdir to the runtime config C (an
 * image config's "config" object); a NULL argument leaves that part as it
 * is. Entries of "Env" that are not NAME=VALUE strings are kept. */
void launch_import_override_config(json_t *c, char *const *env, char *const *entrypoint, char *const *cmd,
				   const char *workdir);

/* *DIGEST (may be NULL) receives the stored image's digest. */
int launch_import(const struct launch_config *c, const struct launch_import_opts *o, char **digest,
		  struct launch_error **err);

#endif
