/* SPDX-License-Identifier: Apache-2.0 */
/* What launch keeps beside a persistent upper layer (--overlay DIR), for
 * later runs and for `launch commit`:
 *   DIR/layer.json    how ids were mapped when the layer was made: the
 *                     owners in DIR/upper are host ids of that mapping
 *   DIR/mountpoints   paths (one a line) that launch created in the layer
 *                     as mount points, not the container's own files
 * A writable instance keeps its mount points in STAGE/rw/mountpoints. */
#ifndef LAUNCH_UPPER_H
#define LAUNCH_UPPER_H

#include "error.h"
#include "ids.h"

/* Record ID's mapping in DIR/layer.json, or check it against the recorded
 * one: a layer made with one mapping is refused with another. */
int launch_upper_info_write(const char *dir, const struct launch_identity *id, struct launch_error **err);
/* Read DIR/layer.json into ID's root, mode and ranges (uid and gid must be
 * the caller's): 0; 1 when DIR has none. */
int launch_upper_info_read(const char *dir, struct launch_identity *id, struct launch_error **err);
/* Append the container paths of PATHS to FILE. */
int launch_upper_note_mountpoints(const char *file, char *const *paths, struct launch_error **err);
/* The paths FILE lists (NULL-terminated, empty when FILE does not exist). */
char **launch_upper_mountpoints(const char *file);

#endif
