/* SPDX-License-Identifier: Apache-2.0 */
/* The one parser of mount specifications, used by `launch run -m/--mount`,
 * the site config's "mounts" and the SPANK plugin's --container-mounts, and
 * its inverse (launch_mountspec_format), which hands a parsed mount on to
 * another launch process without losing anything. */
#ifndef LAUNCH_MOUNTSPEC_H
#define LAUNCH_MOUNTSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum launch_mount_type {
	LAUNCH_MOUNT_BIND,   /* a host path */
	LAUNCH_MOUNT_TMPFS,  /* SRC `tmpfs`: a new, empty tmpfs */
	LAUNCH_MOUNT_UMOUNT, /* SRC `umount`: remove the mount at the destination */
};

/* What to create at a destination the image lacks (x-create=). */
enum launch_mount_create {
	LAUNCH_CREATE_AUTO, /* by the source's type (a directory for tmpfs) */
	LAUNCH_CREATE_DIR,
	LAUNCH_CREATE_FILE,
};

/* The propagation type given to the new mount; DEFAULT leaves the one it
 * gets (a bind inherits its source's: a shared host mount gives a slave of
 * it; a tmpfs is private). */
enum launch_mount_propagation {
	LAUNCH_PROPAGATION_DEFAULT,
	LAUNCH_PROPAGATION_PRIVATE,
	LAUNCH_PROPAGATION_RPRIVATE,
	LAUNCH_PROPAGATION_SLAVE,
	LAUNCH_PROPAGATION_RSLAVE,
	LAUNCH_PROPAGATION_SHARED,
	LAUNCH_PROPAGATION_RSHARED,
	LAUNCH_PROPAGATION_UNBINDABLE,
	LAUNCH_PROPAGATION_RUNBINDABLE,
};

#define LAUNCH_TMPFS_MODE_DEFAULT 01777

/* A zeroed struct with a source and a destination is a plain recursive,
 * read-write bind, as the short form HOST:CTR gives. Flags only ever take
 * away (read-only, nosuid, nodev, noexec): nothing gives a mount more than
 * its source has. */
struct launch_mount {
	char *source;	   /* bind: host path as given, made absolute against the cwd; NULL otherwise */
	char *destination; /* absolute, normalised container path */
	bool readonly;
	enum launch_mount_type type;
	bool nonrecursive; /* bind: without the mounts below the source (`bind`) */
	bool nosuid, nodev, noexec;
	enum launch_mount_propagation propagation;
	enum launch_mount_create create;
	unsigned tmpfs_mode; /* tmpfs: permission bits of its root (LAUNCH_TMPFS_MODE_DEFAULT) */
	char *tmpfs_size;    /* tmpfs: size= as given (k, m, g or %); NULL: the kernel's, half the RAM */
};

struct launch_mounts {
	struct launch_mount *v;
	size_t n;
};

/* Short form: SRC[:DST[:FLAGS]], FLAGS joined by `+` (see the user guide):
 * SRC is a host path (DST defaults to it), `tmpfs` or `umount` (DST
 * required); a host directory named tmpfs or umount is written ./tmpfs. */
int launch_mountspec_parse_short(const char *spec, struct launch_mount *out, struct launch_error **err);
/* Long form: type=bind|tmpfs,source=HOST,destination=CTR[,readonly[=BOOL]]
 * [,bind-propagation=P][,bind-nonrecursive[=BOOL]][,nosuid][,nodev][,noexec]
 * [,x-create=dir|file|auto][,tmpfs-mode=OCTAL][,tmpfs-size=SIZE]
 * (src/dst/target are accepted as aliases, as in docker). */
int launch_mountspec_parse_long(const char *spec, struct launch_mount *out, struct launch_error **err);
/* A comma-separated list of short forms (the SPANK --container-mounts syntax). */
int launch_mountspec_parse_list(const char *list, struct launch_mounts *out, struct launch_error **err);
/* The same, with relative sources taken from directory BASE (absolute; NULL:
 * the current directory): the SPANK plugin parses in slurmstepd for a job
 * submitted from BASE. */
int launch_mountspec_parse_list_in(const char *list, const char *base, struct launch_mounts *out,
				   struct launch_error **err);

/* M written back as a spec that parses to the same mount: the short form
 * (*is_long false, for -m/--bind) when its paths allow it, else the long
 * form (for --mount). NULL when neither can hold them (a path with both
 * `:` and `,`). Defaults are left out: "/a:/b" for a plain bind. */
char *launch_mountspec_format(const struct launch_mount *m, bool *is_long);

void launch_mount_copy(struct launch_mount *dst, const struct launch_mount *src);
bool launch_mount_equal(const struct launch_mount *a, const struct launch_mount *b);
void launch_mount_clear(struct launch_mount *m);
void launch_mounts_push(struct launch_mounts *ms, struct launch_mount *m); /* moves *m */
void launch_mounts_clear(struct launch_mounts *ms);

#endif
