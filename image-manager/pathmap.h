/* SPDX-License-Identifier: Apache-2.0 */
/* What the flattener knows about each path of the image being built: a hash
 * table from normalised paths ("" is the root) to their state. */
#ifndef LAUNCH_PATHMAP_H
#define LAUNCH_PATHMAP_H

#include <stdbool.h>
#include <stddef.h>

struct launch_pnode {
	char *path;
	int layer;	/* layer that defined the path (emitted it), -1: none yet */
	char type;	/* 'd' directory, 'l' symlink, 'f' other non-directory, 0: unknown */
	int deleted_by; /* highest layer with a whiteout for it, -1: none */
	int opaque_at;	/* highest layer that made the directory opaque, -1: none */
	bool has_below; /* something below it was emitted */
};

struct launch_pathmap {
	struct launch_pnode **slots;
	size_t cap, n;
};

void launch_pathmap_init(struct launch_pathmap *m);
void launch_pathmap_clear(struct launch_pathmap *m);
/* The node of PATH (LEN bytes), or NULL. */
struct launch_pnode *launch_pathmap_get(const struct launch_pathmap *m, const char *path, size_t len);
/* The node of PATH, created empty when missing. */
struct launch_pnode *launch_pathmap_add(struct launch_pathmap *m, const char *path, size_t len);

#endif
