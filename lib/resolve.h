/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving a path inside a container root as if that root were "/": ".."
 * stops at the root and absolute symlinks restart from it, so an image can
 * never send a mount or a read to a host path. openat2(RESOLVE_IN_ROOT) does
 * this in the kernel (Linux >= 5.6); a component-by-component walk is the
 * fallback, tested against the same cases. */
#ifndef LAUNCH_RESOLVE_H
#define LAUNCH_RESOLVE_H

#include <stdbool.h>

/* Open PATH (absolute or relative; both taken from ROOTFD) with FLAGS
 * (O_PATH, O_RDONLY, O_DIRECTORY, ...; O_CLOEXEC is added). The last
 * component is followed when it is a symlink. Returns an fd or -1 with errno
 * set (ENOENT, ELOOP, ...). */
int launch_resolve_in_root(int rootfd, const char *path, int flags);

/* For tests: always use the fallback walk. */
extern bool launch_resolve_force_fallback;

#endif
