/* SPDX-License-Identifier: Apache-2.0 */
/* Where an import reads from: a directory (an OCI image layout, or an
 * unpacked docker-archive) or a tar file (docker-archive, OCI layout tar),
 * possibly compressed. Members are named by relative paths checked to stay
 * inside the source; each is read as a stream ("blob") whose SHA-256 and
 * byte count are kept as it passes, so digests are checked without a second
 * read and without a copy on disk. */
#ifndef LAUNCH_SOURCE_H
#define LAUNCH_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "error.h"

/* A member that another thread is still writing (a layer being
 * downloaded): READ blocks until bytes come, returns 0 at its end, -1 with
 * errno on failure. */
struct launch_blob_stream {
	ssize_t (*read)(void *arg, void *buf, size_t n);
	void (*close)(void *arg);
	void *arg;
};

struct launch_source {
	char *path;
	/* directory sources: members may come as streams instead; 1: no, read
	 * the file */
	int (*open_stream)(void *ctx, const char *name, struct launch_blob_stream *out, struct launch_error **err);
	void *stream_ctx;
	bool is_dir;
	int dirfd;	/* directory sources */
	int fd;		/* tar sources: the archive, a regular file */
	char **members; /* tar sources: member names (normalised), in archive order */
	int64_t *sizes; /* and their sizes */
};

int launch_source_open(const char *path, struct launch_source *s, struct launch_error **err);
void launch_source_close(struct launch_source *s);
/* Does member NAME exist (a file, or anything but a directory in a
 * directory source, which reading it then refuses)? */
bool launch_source_has(const struct launch_source *s, const char *name);
/* The size of member NAME, -1 when unknown. */
int64_t launch_source_size(const struct launch_source *s, const char *name);
/* Read member NAME whole (at most MAX bytes: a bigger one is an error). */
int launch_source_read(const struct launch_source *s, const char *name, size_t max, char **data, size_t *len,
		       struct launch_error **err);

/* A member as a stream. */
struct launch_blob;
int launch_blob_open(const struct launch_source *s, const char *name, struct launch_blob **out,
		     struct launch_error **err);
/* Read up to N bytes: >0 bytes, 0 at the end, -1 on error (message in the
 * blob, see launch_blob_error). */
ssize_t launch_blob_read(struct launch_blob *b, void *buf, size_t n);
const char *launch_blob_error(const struct launch_blob *b);
/* Bytes read so far, and the digest of all of them (call at the end). */
uint64_t launch_blob_bytes(const struct launch_blob *b);
void launch_blob_digest(struct launch_blob *b, char *out);
void launch_blob_close(struct launch_blob *b);

/* Open PATH for reading, refusing (with a message naming PATH) a symlink and
 * anything but a regular file, without blocking on a FIFO or a device: an
 * fd, or -1. */
int launch_open_regular(const char *path, struct launch_error **err);
/* FD, opened with O_NONBLOCK, as a blocking fd when it is a regular file;
 * otherwise FD is closed and the error names PATH. An fd, or -1. */
int launch_regular_fd(int fd, const char *path, struct launch_error **err);

/* NAME without leading "./" and "/"-runs; NULL when it is absolute or has a
 * ".." component. */
char *launch_member_normalize(const char *name);

#endif
