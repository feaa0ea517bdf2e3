/* SPDX-License-Identifier: Apache-2.0 */
/* Building the container's file system tree under ROOT (already a mount of
 * the image) from a launch_spec, then switching into it with pivot_root.
 * Runs in the container's own mount namespace, with full capabilities over
 * it (i.e. inside the user namespace). */
#ifndef LAUNCH_ROOTFS_H
#define LAUNCH_ROOTFS_H

#include "error.h"
#include "spec.h"

/* STAGE is a private scratch directory (a tmpfs) for generated files.
 * CONSOLE: the command gets a terminal of the container's devpts
 * (console.h); otherwise the user's terminal, if any, is bound at
 * /dev/console. */
int launch_rootfs_build(const struct launch_spec *spec, const char *root, const char *stage, bool console,
			struct launch_error **err);
/* pivot_root into ROOT and detach the old root. */
int launch_rootfs_pivot(const char *root, struct launch_error **err);
/* After pivot_root: --workdir, else the image's WorkingDir if it exists,
 * else the host's cwd if it exists, else "/".
 * Returns the directory chosen in *chosen. */
int launch_rootfs_chdir(const struct launch_spec *spec, const char **chosen, struct launch_error **err);

/* Make the mount tree at host PATH read-only (recursively where the kernel
 * has mount_setattr). */
int launch_rootfs_readonly(const char *path, struct launch_error **err);

#endif
