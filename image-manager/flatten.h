/* SPDX-License-Identifier: Apache-2.0 */
/* Flattening image layers into one tar stream, with nothing unpacked to
 * disk. Layers are read from the top down: the first layer to name a path
 * decides it, so every path is written once, with exactly the owner, mode,
 * times, xattrs and type the deciding layer gives it. A whiteout (.wh.NAME)
 * hides NAME in the layers below it, an opaque marker (.wh..wh..opq) hides
 * all that the layers below have in its directory, and a non-directory
 * hides everything below its path in lower layers.
 *
 * Hostile layers are refused, naming the layer and the entry: absolute
 * paths, ".." components, names over PATH_MAX/NAME_MAX, entries that would
 * be written through a symlink (or a file) that the same or a lower layer
 * places on their path, hardlinks whose target is outside the image,
 * missing or unreadable, symlinks whose target is empty or longer than a
 * symlink can hold (PATH_MAX - 1), whiteouts of an empty name (".wh."),
 * files claiming absurd sizes, duplicate non-directory entries.
 *
 * Names are bytes: whatever their encoding (UTF-8, Latin-1, anything), they
 * are written as they are (pax hdrcharset=BINARY where they are not ASCII).
 *
 * A hardlink whose target a higher layer replaced gets the target's data
 * from its own layer, read again (LAUNCH_FLATTEN_OPEN). */
#ifndef LAUNCH_FLATTEN_H
#define LAUNCH_FLATTEN_H

#include <archive.h>
#include <stdint.h>

#include "error.h"

/* Largest regular file accepted in a layer. */
#define LAUNCH_FLATTEN_MAX_FILE (64ull << 30)

/* Open layer K again as a tar reader positioned at its start; *HANDLE is
 * passed to the close function. */
struct launch_flatten_layers {
	struct archive *(*open)(void *arg, int k, void **handle, struct launch_error **err);
	void (*close)(void *arg, void *handle);
	void *arg;
};

struct launch_flatten;

/* OUT: an archive writer (pax) that receives the flattened tree. */
struct launch_flatten *launch_flatten_new(struct archive *out, int n_layers, const struct launch_flatten_layers *l);
/* Add layer K (0 is the bottom), read from tar reader IN; call for K =
 * n_layers-1 down to 0. */
int launch_flatten_layer(struct launch_flatten *f, int k, struct archive *in, struct launch_error **err);
/* After the last layer: check the hardlinks whose targets came later. */
int launch_flatten_finish(struct launch_flatten *f, struct launch_error **err);
/* Entries written so far. */
uint64_t launch_flatten_entries(const struct launch_flatten *f);
void launch_flatten_free(struct launch_flatten *f);

#endif
