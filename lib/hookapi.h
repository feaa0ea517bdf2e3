/* SPDX-License-Identifier: Apache-2.0 */
/* What hook programs (hooks/mpi, hooks/gpu, a site's own) need from the
 * core: the OCI state on stdin and the bundle's config.json it points to;
 * joining the container's mount namespace from the state's pid; putting host
 * files into the container root safely (destinations resolved inside the
 * root, read-only parents shadowed, see rootfs.c); and the dynamic linker
 * cache, read from and written to a root with a trusted ldconfig.
 *
 * A hook launch runs is in the container's user namespace, with the
 * capabilities of that namespace (ambient), as the user: it can mount in the
 * container's mount namespace and nothing the user could not do on the host. */
#ifndef LAUNCH_HOOKAPI_H
#define LAUNCH_HOOKAPI_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct launch_hook_state {
	char *oci_version;
	char *id;
	char *status;	    /* creating, created, running, stopped */
	pid_t pid;	    /* the container's init; 0 once stopped */
	char *bundle;	    /* directory holding config.json */
	char **annotations; /* KEY=VALUE */
	/* from BUNDLE/config.json */
	char *root; /* root.path, absolute (in the runtime's mount namespace) */
	bool root_readonly;
	char **args; /* process.args */
	char **env;  /* process.env: the container's environment */
	char *cwd;   /* process.cwd */
};

/* Read the state JSON from FD (normally 0) and the bundle's config.json. */
int launch_hook_state_read(int fd, struct launch_hook_state *st, struct launch_error **err);
void launch_hook_state_clear(struct launch_hook_state *st);
/* NAME's value in the container's environment, or NULL. */
const char *launch_hook_state_getenv(const struct launch_hook_state *st, const char *name);
/* KEY's value in the annotations, or NULL. */
const char *launch_hook_state_annotation(const struct launch_hook_state *st, const char *key);

/* Join the mount namespace of PID (and its user namespace when it is not
 * ours already). Before pivot_root the container's root is at st->root
 * there, and the host's files at their usual paths. */
int launch_hook_enter(pid_t pid, struct launch_error **err);

/* Putting host files into a container root: open one batch, add binds and
 * symlinks, end it. Destinations are container paths resolved inside ROOT;
 * missing ones are created (a read-only directory of the image is covered by
 * a "shadow" tmpfs holding its entries), and the shadows made read-only at
 * the end, so the image stays read-only. */
struct launch_inject;
int launch_inject_begin(const char *root, struct launch_inject **inj, struct launch_error **err);
/* Bind host SRC (a file, directory or device node) onto container path DST. */
int launch_inject_bind(struct launch_inject *inj, const char *src, const char *dst, bool readonly,
		       struct launch_error **err);
/* Create container path DST as a symlink to TARGET (replacing nothing:
 * an existing DST is an error). */
int launch_inject_symlink(struct launch_inject *inj, const char *target, const char *dst, struct launch_error **err);
/* Open container path CPATH inside the root (symlinks followed inside it):
 * an fd with FLAGS (O_RDONLY, O_PATH, ...), or -1 with errno set. */
int launch_inject_open(struct launch_inject *inj, const char *cpath, int flags);
/* Seal the shadows read-only and free INJ (also on error). */
int launch_inject_end(struct launch_inject *inj, struct launch_error **err);

/* The dynamic linker cache of a root ("/" for the host), read with
 * `LDCONFIG -r ROOT -p`: the entries for this machine's ABI (x86-64: those
 * marked x86-64), in cache order, which is the order ld.so looks them up. */
struct launch_ldcache_entry {
	char *name; /* the soname as the cache lists it, e.g. libmpi.so.12 */
	char *path; /* the path in that root, e.g. /usr/lib/x86_64-linux-gnu/libmpi.so.12 */
};
struct launch_ldcache {
	struct launch_ldcache_entry *v;
	size_t n;
};
int launch_ldcache_read(const char *ldconfig, const char *root, struct launch_ldcache *c, struct launch_error **err);
void launch_ldcache_clear(struct launch_ldcache *c);
/* The first entry named NAME, or NULL. */
const struct launch_ldcache_entry *launch_ldcache_find(const struct launch_ldcache *c, const char *name);
/* Parse `ldconfig -p` output (for tests). */
int launch_ldcache_parse(const char *text, struct launch_ldcache *c);

/* Rebuild the linker cache of the container root ROOT with LDCONFIG,
 * adding the container directories DIRS (NULL-terminated, may be NULL) in
 * front of those the cache lists already (the image's, and what earlier
 * hooks added). A read-only /etc/ld.so.cache is replaced by a
 * bind mount of the new cache; a writable one is rewritten. No links are
 * created in the image's directories (-X). */
int launch_ldcache_update(const char *ldconfig, const char *root, char *const *dirs, struct launch_error **err);

/* The C library of a container root: "glibc" with its version (from the
 * version definitions of libc.so.6), "musl", or NULL when none is found. */
struct launch_libc {
	const char *kind;
	int major, minor;
};
int launch_hook_libc(const char *root, struct launch_libc *libc);

#endif
