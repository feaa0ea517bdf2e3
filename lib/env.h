/* SPDX-License-Identifier: Apache-2.0 */
/* The container environment, built by one documented policy:
 *   host environment, minus the deny list (built-in + site "env_deny")
 *   < image Env (the image knows its own PATH and library paths); for
 *     `launch exec`, the variables the instance was started with instead
 *     (its image's Env and its --env/--env-file settings)
 *   < the config's "env" (the site's, the user's file over them)
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
/* The whole policy in one call, into E (cleared first): HOST without the
 * deny lists, then IMAGE_ENV (NAME=VALUE entries: the image's Env, or an
 * instance's variables), then ARGS, which are "c:NAME=VALUE" (the config's
 * "env", applied first), "f:FILE" (env files) and "e:NAME[=VALUE]" (--env),
 * each kind in order; then PATH defaults to launch_env_default_path, and
 * container=launch. */
int launch_env_build(struct launch_env *e, char *const *host, char *const *site_deny, char *const *image_env,
		     char *const *args, struct launch_error **err);
extern const char launch_env_default_path[];
/* The NAME=VALUE entries of E that BASE lacks or has with another value. */
char **launch_env_diff(const struct launch_env *e, const struct launch_env *base);
void launch_env_clear(struct launch_env *e);

#endif
