/* SPDX-License-Identifier: Apache-2.0 */
/* `launch export`: an image (stored, a squashfs file or a SIF file's
 * partition) written as a squashfs file that other runtimes mount
 * (squashfuse, Charliecloud, Apptainer), or as a docker-archive or an OCI
 * archive (`docker load`, `podman load`, skopeo) of one layer whose config
 * keeps Env, Entrypoint, Cmd, WorkingDir, User and Labels. The output is
 * written to an anonymous file (O_TMPFILE; else a hidden temporary beside
 * it) and renamed into place once complete: a failed or interrupted export
 * never leaves a partial FILE. */
#ifndef LAUNCH_EXPORT_H
#define LAUNCH_EXPORT_H

#include "config.h"
#include "error.h"

enum launch_export_format {
	LAUNCH_EXPORT_SQUASHFS,
	LAUNCH_EXPORT_DOCKER_ARCHIVE,
	LAUNCH_EXPORT_OCI_ARCHIVE,
};

/* "squashfs", "docker-archive", "oci-archive" to a format; -1 otherwise. */
int launch_export_format_parse(const char *s);
const char *launch_export_format_name(enum launch_export_format f);

struct launch_export_opts {
	const char *image;  /* what `launch run` takes: NAME[:TAG], @DIGEST, a .sqfs or .sif path */
	const char *output; /* the file to write (replaced when it exists) */
	enum launch_export_format format;
	const char *tag; /* NAME:TAG the archive names the image by; NULL: the one given, else its first tag */
};

int launch_export(const struct launch_config *c, const struct launch_export_opts *o, struct launch_error **err);

#endif
