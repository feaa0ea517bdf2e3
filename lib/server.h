/* SPDX-License-Identifier: Apache-2.0 */
/* Shared image servers: one FUSE server per user, image and identity mode
 * on a node, kept by a detached process that holds the user namespace and
 * the mount of the image, like an instance's supervisor holds its
 * container. `launch run` joins its user namespace and attaches a clone of
 * its image mount in a mount namespace of its own, instead of mounting the
 * image again,
 * so that the containers of one image share one server, one decompressed
 * block cache and one page cache. The server ends `image_server_linger`
 * seconds after its last container.
 *
 * RUNTIME_DIR/servers/KEY.sock   the server's socket: a container is one
 *                                connection, held for its whole life; the
 *                                server answers it with its user namespace
 *                                and a clone of the image's mount
 * RUNTIME_DIR/servers/KEY.json   pid, image, mode, containers (launch ps)
 * RUNTIME_DIR/servers/KEY.lock   flock: one server starts per KEY
 * RUNTIME_DIR/servers/KEY.mnt/   the server's staging tmpfs (its own mount
 *                                namespace): root/ is the image */
#ifndef LAUNCH_SERVER_H
#define LAUNCH_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct launch_spec;

/* A container's membership of a server. */
struct launch_server_conn {
	int fd;	   /* the connection; the server counts the container while it is open */
	pid_t pid; /* the server */
	int tree;  /* a detached clone of the image's mount, until launch_server_mount */
};

/* clang-format off */
#define LAUNCH_SERVER_CONN_INIT { .fd = -1, .tree = -1 }
/* clang-format on */

/* Does SPEC get a shared server (a squashfs image, not an instance, not
 * --fresh, image_server_linger > 0)? */
bool launch_server_wanted(const struct launch_spec *spec);

/* Join the server of SPEC's image (USE_FD: the image file, open), starting
 * one when there is none: on return this process is in the server's user
 * namespace and in a mount namespace of its own made from the one it was
 * in (the node's), and holds the image's mount, detached. 1: joined; 0: no
 * server could be started or joined (the reason went to the debug log) and
 * nothing changed: serve the image privately; -1: a failure after which
 * the process cannot go on. */
int launch_server_join(const struct launch_spec *spec, int use_fd, struct launch_server_conn *c,
		       struct launch_error **err);
/* Attach the image's mount on DIR (once). */
int launch_server_mount(struct launch_server_conn *c, const char *dir, struct launch_error **err);
void launch_server_conn_close(struct launch_server_conn *c);

/* The server process (`launch image-server ARGS`, which
 * launch_server_join runs): serves until no container used it for its
 * linger time. Its exit status. */
int launch_server_main(int argc, char **argv);

/* The servers running in RUNTIME_DIR, for `launch ps`. */
struct launch_server_info {
	char *key;
	char *image;
	char *mode;
	pid_t pid;
	int64_t started;
	int containers;
	int linger;
};
int launch_server_list(const char *runtime_dir, struct launch_server_info **out, size_t *n, struct launch_error **err);
void launch_server_info_clear(struct launch_server_info *s);

#endif
