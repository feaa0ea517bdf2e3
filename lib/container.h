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
 * exit with: the command's exit status, or 128+N when signal N killed it. */
int launch_container_run(const struct launch_spec *spec, int *status, struct launch_error **err);

#endif
