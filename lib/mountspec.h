/* SPDX-License-Identifier: Apache-2.0 */
/* The one parser of bind-mount specifications, used by `launch run -m/--mount`,
 * the site config's "mounts" and the SPANK plugin's --container-mounts. */
#ifndef LAUNCH_MOUNTSPEC_H
#define LAUNCH_MOUNTSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct launch_mount {
	char *source;	   /* host path as given (made absolute against the cwd) */
	char *destination; /* absolute, normalised container path */
	bool readonly;
};

struct launch_mounts {
	struct launch_mount *v;
	size_t n;
};

/* Short form: HOST[:CTR[:ro|rw]]; CTR defaults to HOST. */
int launch_mountspec_parse_short(const char *spec, struct launch_mount *out, struct launch_error **err);
/* Long form: type=bind,source=HOST,destination=CTR[,readonly[=true|false]]
 * (src/dst/target are accepted as aliases, as in docker). */
int launch_mountspec_parse_long(const char *spec, struct launch_mount *out, struct launch_error **err);
/* A comma-separated list of short forms (the SPANK --container-mounts syntax). */
int launch_mountspec_parse_list(const char *list, struct launch_mounts *out, struct launch_error **err);

void launch_mount_clear(struct launch_mount *m);
void launch_mounts_push(struct launch_mounts *ms, struct launch_mount *m); /* moves *m */
void launch_mounts_clear(struct launch_mounts *ms);

#endif
