/* SPDX-License-Identifier: Apache-2.0 */
/* The container environment, built by one documented policy:
 *   host environment, minus the deny list (built-in + site "env_deny")
 *   < image Env (the image knows its own PATH and library paths)
 *   < --env-file files, in order
 *   < --env options, in order
 * and PATH defaults to the FHS list when nobody set it. */
#ifndef LAUNCH_ENV_H
#define LAUNCH_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct launch_env {
	char **vars; /* NAME=VALUE, unique names */
};

/* Variables never passed from the host: they name host paths or libraries
 * that do not exist, or mean something else, inside a container. */
extern const char *const launch_env_builtin_deny[];

bool launch_env_name_valid(const char *name, size_t len);
const char *launch_env_get(const struct launch_env *e, const char *name);
void launch_env_set(struct launch_env *e, const char *name, const char *value);
void launch_env_unset(struct launch_env *e, const char *name);
/* Start from HOST (an environ-like vector) without the denied names. */
void launch_env_from_host(struct launch_env *e, char *const *host, char *const *site_deny);
/* Apply one --env argument: NAME=VALUE, or NAME to copy the host's value. */
int launch_env_apply_arg(struct launch_env *e, const char *arg, struct launch_error **err);
/* Apply an env file: NAME=VALUE lines, blank lines and # comments. */
int launch_env_apply_file(struct launch_env *e, const char *path, struct launch_error **err);
void launch_env_clear(struct launch_env *e);

#endif
