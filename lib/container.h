/* SPDX-License-Identifier: Apache-2.0 */
/* Running one container to completion: namespaces, image mount, the
 * container process, signal forwarding and reaping. */
#ifndef LAUNCH_CONTAINER_H
#define LAUNCH_CONTAINER_H

#include "error.h"
#include "spec.h"

/* Seconds between SIGTERM and SIGKILL for processes left running when the
 * container's main process exits. */
#define LAUNCH_KILL_GRACE_S 2

/* Run SPEC. On success returns 0 and sets *status to what `launch` should
 * exit with: the command's exit status, or 128+N when signal N killed it.
 * The caller exits soon after, and needs nothing of the node's file system
 * before: without hooks, the calling process becomes the container's
 * supervisor inside its root (container.c's one-process layout), and an
 * image it served itself is left mounted in namespaces that end with the
 * process (launch_sqfs_abandon). */
int launch_container_run(const struct launch_spec *spec, int *status, struct launch_error **err);

/* Called in the supervisor once the command runs (or, for an instance, once
 * the container is ready to be joined), with the container init's pid. A
 * failure stops the container. */
struct launch_container_callbacks {
	int (*started)(void *arg, pid_t init, struct launch_error **err);
	void *arg;
};
/* The same with CB (NULL: none), in the layout of a supervisor that stays
 * in the node's file system, beside a container init: for callers that go
 * on there after the run (an instance's, the OCI front end's state). */
int launch_container_run_with(const struct launch_spec *spec, const struct launch_container_callbacks *cb, int *status,
			      struct launch_error **err);

/* In the container already (namespaces joined, privileges dropped, CWD
 * entered): exec SPEC's command with its environment. Returns only on
 * failure, with the exit code (126/127) in the error. In the foreground of
 * a terminal, the command gets a console (console.h) and the calling
 * process exits with its status once it ended. */
int launch_container_exec(const struct launch_spec *spec, const char *cwd, struct launch_error **err);

/* Move the caller into a new user and mount namespace with ID's id maps
 * (as a container of ID would have): for tools that must see a layer's
 * files with the container's owners (launch commit). */
int launch_container_enter_userns(const struct launch_identity *id, struct launch_error **err);

#endif
