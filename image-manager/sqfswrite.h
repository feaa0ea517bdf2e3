/* SPDX-License-Identifier: Apache-2.0 */
/* Writing a squashfs file from a tar stream with squashfs-tools-ng's
 * tar2sqfs, which keeps owners, modes, times, xattrs, hardlinks and device
 * nodes exactly as the stream gives them, with no privilege and no
 * unpacked copy on disk. The stream goes through a pipe: an archive writer
 * (pax) is handed out for the flattener to fill. */
#ifndef LAUNCH_SQFSWRITE_H
#define LAUNCH_SQFSWRITE_H

#include <archive.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct launch_sqfs_writer;

/* zstd at zstd's own default level: tar2sqfs's default, 15, compresses 15
 * times slower for 12% smaller images (a Debian minbase: 0.3 s against 5.5 s
 * on 2 CPUs), and decompression speed is the same. */
#define LAUNCH_SQFS_DEFAULT_COMPRESSOR "zstd:3"

/* COMPRESSOR is NAME[:LEVEL]: zstd (1-22), gzip (1-9), xz (0-9), lz4 (no
 * level), lzo (1-9). */
bool launch_sqfs_compressor_valid(const char *compressor);
/* Start tar2sqfs writing OUTPUT with COMPRESSOR (NULL: the default) and
 * JOBS compressor threads (0: the number of CPUs). */
int launch_sqfs_writer_start(const char *output, const char *compressor, int jobs, struct launch_sqfs_writer **out,
			     struct launch_error **err);
struct archive *launch_sqfs_writer_archive(struct launch_sqfs_writer *w);
/* End the stream and wait for tar2sqfs; its failure becomes the error,
 * with errno ENOSPC or EDQUOT when the output's file system is full. */
int launch_sqfs_writer_finish(struct launch_sqfs_writer *w, struct launch_error **err);
/* Give up after a failure of the caller's, set in *ERR: kill tar2sqfs (the
 * caller removes OUTPUT). When that failure was a write to tar2sqfs that
 * found it gone (it failed first, e.g. on a full disk), *ERR becomes
 * tar2sqfs's own error. W may be NULL: nothing to do. */
void launch_sqfs_writer_abort(struct launch_sqfs_writer *w, struct launch_error **err);
/* sqfs2tar IMAGE as a child (P), writing the image's tree as a tar stream
 * (paths "./...", the root as "."), whose read end is *PIPE_FD; its stderr
 * goes to a pipe of P, for the message of a failure. Wait for it with
 * launch_proc_wait. */
struct launch_proc;
int launch_sqfs_reader_start(const char *image, struct launch_proc *p, int *pipe_fd, struct launch_error **err);

/* Where tar2sqfs is, or NULL (for doctor). */
char *launch_sqfs_writer_find(void);

#endif
