/* SPDX-License-Identifier: Apache-2.0 */
/* struct launch_spec: everything needed to start one container, built by the
 * CLI (and later the SPANK plugin) through the shared parsers, and consumed by
 * container.c and rootfs.c. */
#ifndef LAUNCH_SPEC_H
#define LAUNCH_SPEC_H

#include <stdbool.h>

#include "config.h"
#include "env.h"
#include "hooks.h"
#include "ids.h"
#include "image.h"
#include "mountspec.h"

struct launch_spec {
	struct launch_image image;
	char **argv;	       /* the command; NULL: the default shell */
	struct launch_env env; /* final environment, built by env.c */
	char **env_set;	       /* what env sets over the host's (an instance keeps it for exec) */
	char *workdir;	       /* --workdir, or NULL */
	char *host_cwd;	       /* tried when there is no --workdir */
	struct launch_identity id;
	bool no_home;
	bool private_tmp;
	struct launch_mounts mounts; /* the user's mounts, after the site's */
	const struct launch_config *config;
	char *runtime_dir;
	bool writable;		   /* --writable: overlay with a tmpfs upper, discarded at exit */
	char *writable_size;	   /* size= of that tmpfs ("4g"), NULL: the kernel's default */
	char *overlay;		   /* --overlay DIR: persistent upper layer in DIR/upper */
	bool instance;		   /* no command: the container init waits to be joined (instance.c) */
	char *container_id;	   /* the id hooks see: the instance's name, else launch-PID */
	char **annotations;	   /* KEY=VALUE: --annotation, --mpi, --gpu */
	struct launch_hooks hooks; /* the site's hooks that apply to this container, in order */
};

void launch_spec_clear(struct launch_spec *s);

/* What the hooks' when-conditions see of S. */
void launch_spec_hook_target(const struct launch_spec *s, struct launch_hook_target *t);
/* Add the site's hooks (s->config->hooks_dirs) that apply to S to s->hooks. */
int launch_spec_add_site_hooks(struct launch_spec *s, struct launch_error **err);

#endif
