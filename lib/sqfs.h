/* SPDX-License-Identifier: Apache-2.0 */
/* Serving a squashfs image over FUSE from the calling process, inside the
 * user namespace: /dev/fuse is opened and mount(2)ed directly (no setuid
 * fusermount), then worker threads answer the kernel until launch_sqfs_stop.
 * Built without libsquashfuse, the external squashfuse binary serves
 * instead, as a child process. Each struct launch_sqfs holds all of its
 * state, so one process may serve several images. */
#ifndef LAUNCH_SQFS_H
#define LAUNCH_SQFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct launch_sqfs;
struct launch_image_files;

/* True when FD's file starts with the squashfs magic ("hsqs"). */
bool launch_sqfs_is_image(int fd);
/* IMAGE opened read-only (close-on-exec), checked to hold the squashfs
 * magic at byte OFFSET: its descriptor, or -1 with the error. */
int launch_sqfs_open_file(const char *image, uint64_t offset, struct launch_error **err);
/* Open and check IMAGE (a host path), whose squashfs starts at byte OFFSET
 * (a SIF file's partition; 0 for a squashfs file). */
int launch_sqfs_open(const char *image, uint64_t offset, int threads, struct launch_sqfs **out,
		     struct launch_error **err);
/* Show every file as owned by uid and gid 0 (before the mount). */
void launch_sqfs_set_all_root(struct launch_sqfs *s, bool on);
/* Mount on MOUNTPOINT (needs CAP_SYS_ADMIN over the current mount namespace). */
int launch_sqfs_mount(struct launch_sqfs *s, const char *mountpoint, struct launch_error **err);
/* Start answering requests (threads of this process, or the helper). */
int launch_sqfs_serve(struct launch_sqfs *s, struct launch_error **err);
/* Start decompressing the command CMD (searched in PATH inside the image)
 * and its ELF interpreter in the background, so that the blocks its exec
 * needs are ready when the container gets there. Best effort, never fails. */
void launch_sqfs_prefetch(struct launch_sqfs *s, const char *cmd, const char *path);
/* Unmount, stop the workers and free everything. */
void launch_sqfs_stop(struct launch_sqfs *s);
/* For a process about to exit, whose mount namespace holds the only mount:
 * leave the workers and the memory to the exit, which ends the FUSE
 * connection, then the mount with the namespace. Unmounting, joining the
 * workers and freeing the block cache block by block cost a short run
 * milliseconds. The external helper is stopped as launch_sqfs_stop does. */
void launch_sqfs_abandon(struct launch_sqfs *s);
/* The helper process serving the mount, or 0 when threads of ours do. */
pid_t launch_sqfs_helper_pid(const struct launch_sqfs *s);
/* Files inside an image without mounting it (image.h's struct
 * launch_image_files, which the programs register). */
int launch_sqfs_read_file(const char *image, uint64_t offset, const char *path, size_t max, char **data, size_t *len,
			  unsigned *mode, struct launch_error **err);
int launch_sqfs_list_dir(const char *image, uint64_t offset, const char *dir, char ***names, struct launch_error **err);
/* Those two, to register with launch_image_set_files. */
extern const struct launch_image_files launch_sqfs_files;

/* Which server this build uses, for `launch doctor` and -v. */
const char *launch_sqfs_backend(void);

#endif
