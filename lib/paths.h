/* SPDX-License-Identifier: Apache-2.0 */
/* Per-user directories of launch and the $VAR templates the site config
 * uses to name them. */
#ifndef LAUNCH_PATHS_H
#define LAUNCH_PATHS_H

#include "config.h"
#include "error.h"

/* Expand $USER, $UID, $HOME, $XDG_RUNTIME_DIR and $XDG_DATA_HOME (also as
 * ${NAME}) in TPL. */
int launch_expand_template(const char *tpl, char **out, struct launch_error **err);
/* The same with the values from FN (NAME, its length; a buffer for the
 * value), for another user's templates (the SPANK plugin). */
typedef const char *(*launch_template_lookup)(void *arg, const char *name, size_t n, char *buf, size_t size);
int launch_expand_template_with(const char *tpl, launch_template_lookup fn, void *arg, char **out,
				struct launch_error **err);

/* The runtime directory (created 0700 if missing, checked to be the caller's
 * and private): $LAUNCH_RUNTIME_DIR when set (absolute), else the config's
 * runtime_dir, else $XDG_RUNTIME_DIR/launch, else
 * /tmp/launch-$UID when XDG_RUNTIME_DIR is unset or unusable. *NOTE, when not
 * NULL, receives why the fallback was taken (for doctor and -v). */
int launch_runtime_dir(const struct launch_config *c, char **out, char **note, struct launch_error **err);
/* Which directory launch_runtime_dir takes, neither created nor checked.
 * *ENV_NAME: the variable it came from (LAUNCH_RUNTIME_DIR,
 * XDG_RUNTIME_DIR), NULL for the config's runtime_dir or the /tmp fallback;
 * *WHY, when not NULL: why the fallback was taken. */
int launch_runtime_dir_pick(const struct launch_config *c, char **out, const char **env_name, char **why,
			    struct launch_error **err);

/* The user's image store: the config's "store" template, else
 * $XDG_DATA_HOME/launch, else $HOME/.local/share/launch. Not created here. */
int launch_store_dir(const struct launch_config *c, char **out, struct launch_error **err);
/* The same, with the variable it came from in *ENV_NAME (XDG_DATA_HOME,
 * HOME), NULL for the config's store or the password database's home. */
int launch_store_dir_pick(const struct launch_config *c, char **out, const char **env_name, struct launch_error **err);

/* The user's own config file: $XDG_CONFIG_HOME/launch/launch.json when
 * XDG_CONFIG_HOME is absolute, else ~/.config/launch/launch.json ($HOME, or
 * the password database's home). NULL when there is no home. */
char *launch_user_config_path(void);

/* Program NAME of launch's own: next to the running launch (a build tree,
 * a relocated install), else in LAUNCH_LIBEXECDIR. NULL when neither
 * exists. */
char *launch_libexec_path(const char *name);
/* The launch-image helper (the image manager's commands). */
char *launch_helper_path(void);

#endif
