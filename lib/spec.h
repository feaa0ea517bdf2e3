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
	bool fresh;		   /* --fresh: serve the image in this process, not with a shared server */
	char *container_id;	   /* the id hooks see: the instance's name, else launch-PID */
	char **annotations;	   /* KEY=VALUE: --annotation, --mpi, --gpu */
	struct launch_hooks hooks; /* the site's hooks that apply to this container, in order */
};

void launch_spec_clear(struct launch_spec *s);

/* What a front end was asked for, besides what it put in the spec already
 * (mounts, workdir, writable, overlay, annotations): the CLI's run, start,
 * exec and hooks. launch_spec_build applies the policy to it. */
struct launch_instance_info; /* instance.h */

enum launch_request_kind { LAUNCH_REQUEST_RUN, LAUNCH_REQUEST_START, LAUNCH_REQUEST_EXEC, LAUNCH_REQUEST_HOOKS };

struct launch_request {
	enum launch_request_kind kind;
	const char *target;	/* the IMAGE; exec: the instance's NAME */
	char *const *command;	/* the command given (NULL or empty: none) */
	const char *entrypoint; /* --entrypoint: NULL the image's, "" none */
	bool root;		/* --root */
	bool no_home;		/* --no-home */
	bool private_tmp;	/* --private-tmp (else the config decides) */
	char **env_args;	/* --env "e:NAME=VALUE" and --env-file "f:FILE", in order */
	char *const *host_env;	/* the caller's environment */
	const char *stage_dir;	/* --stage: a node-local copy of the image there */
};

/* Make SPEC from REQ under CONFIG (loaded by the caller, who keeps it): the
 * site's --root policy and id-map mode, the config's mounts and variables,
 * the image (not for exec), the runtime directory, the instance INFO joins
 * (exec), the environment, Entrypoint and Cmd merged docker's way, the
 * host's working directory, gpu_auto. */
int launch_spec_build(const struct launch_request *req, const struct launch_config *config, struct launch_spec *spec,
		      struct launch_instance_info *info, struct launch_error **err);

/* The part of the policy every container takes, the OCI bundle's too:
 * --root allowed (ROOT_ORIGIN names what asked for it), the id-map mode,
 * the host's working directory and the runtime directory. */
int launch_spec_apply_policy(struct launch_spec *spec, const struct launch_config *config, const char *root_origin,
			     struct launch_error **err);

/* Set annotation KEY to VALUE in *ANNOTATIONS (KEY=VALUE strings). */
void launch_spec_annotate(char ***annotations, const char *key, const char *value);

/* What the hooks' when-conditions see of S. */
void launch_spec_hook_target(const struct launch_spec *s, struct launch_hook_target *t);
/* Add the site's hooks (s->config->hooks_dirs) that apply to S to s->hooks. */
int launch_spec_add_site_hooks(struct launch_spec *s, struct launch_error **err);

#endif
