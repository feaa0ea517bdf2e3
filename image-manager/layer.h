/* SPDX-License-Identifier: Apache-2.0 */
/* Reading one layer: its blob (counted and hashed), decompressed (gzip,
 * zstd, xz, bzip2 or none, recognised by content) and hashed again (the
 * diff_id), then read as a tar archive. The digests are checked once the
 * whole blob has been read. */
#ifndef LAUNCH_LAYER_H
#define LAUNCH_LAYER_H

#include <archive.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"
#include "source.h"

struct launch_layer_reader;

/* INDEX: 0-based from the bottom, for messages. */
int launch_layer_open(const struct launch_source *src, const struct launch_layer_desc *d, int index,
		      struct launch_layer_reader **out, struct launch_error **err);
/* The tar reader over the layer's uncompressed content. */
struct archive *launch_layer_tar(struct launch_layer_reader *r);
/* Call FN(ARG, BYTES) as compressed bytes are read (progress display). */
void launch_layer_on_read(struct launch_layer_reader *r, void (*fn)(void *arg, uint64_t bytes), void *arg);
/* Compressed bytes read so far. */
uint64_t launch_layer_bytes(const struct launch_layer_reader *r);
/* After the tar's end: read the rest of the blob and check its size, its
 * digest and the diff_id. */
int launch_layer_verify(struct launch_layer_reader *r, struct launch_error **err);
void launch_layer_close(struct launch_layer_reader *r);

/* A plain tar file (possibly compressed) as a one-layer reader, with no
 * digest to check: --rootfs imports. *DIFF_ID is known after verify. */
int launch_layer_open_file(const char *path, struct launch_layer_reader **out, struct launch_error **err);
/* The same from an open FD (taken; a pipe from another process), WHAT naming
 * it in messages. */
int launch_layer_open_fd(int fd, const char *what, struct launch_layer_reader **out, struct launch_error **err);
void launch_layer_diff_id(struct launch_layer_reader *r, char *out);

#endif
