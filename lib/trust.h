/* SPDX-License-Identifier: Apache-2.0 */
/* Directories launch creates or reuses in places other users can write
 * (/tmp, a shared scratch): the runtime and state directories, the image
 * store, overlay directories, hook directories.
 *
 * The rule: a directory is created with its documented mode or, when it
 * exists, opened O_DIRECTORY|O_NOFOLLOW and checked with fstat: its owner is
 * the caller (or root, where a site path may be root's), nobody else may
 * write it, and no directory above it lets anyone else rename it away (each
 * is root's or the caller's, and not writable by group or others unless it
 * has the sticky bit, as /tmp has). After that check nobody but the caller
 * and root can change what the path names, so files inside may be named by
 * path; they are created O_EXCL|O_NOFOLLOW and renamed into place. Errors
 * name the path, its owner and mode, and the fix. */
#ifndef LAUNCH_TRUST_H
#define LAUNCH_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

enum launch_trust_flags {
	/* Create the directory (mode MODE, missing parents 0755) if missing. */
	LAUNCH_TRUST_CREATE = 1 << 0,
	/* Nobody else may even read it: group and other bits are cleared on a
	 * directory of the caller's that has them (the runtime directory). */
	LAUNCH_TRUST_PRIVATE = 1 << 1,
	/* Root may own it too (site paths such as hook directories). */
	LAUNCH_TRUST_ROOT = 1 << 2,
	/* A missing directory is no error: returns -1 with errno ENOENT and no
	 * error set (readers of a store that was never written). */
	LAUNCH_TRUST_MISSING_OK = 1 << 3,
};

/* Open directory PATH (O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC) after the
 * checks above, for uid UID (getuid() for the caller). WHAT names it in
 * messages ("runtime directory"), HINT says how to choose another one
 * ("set runtime_dir", "use --root DIR"); either may be NULL. Returns the fd. */
int launch_trust_dir(const char *path, uid_t uid, mode_t mode, unsigned flags, const char *what, const char *hint,
		     struct launch_error **err);

#endif
