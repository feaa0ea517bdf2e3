/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks configured by the site: files in the oci-hooks(5) 1.0.0 format
 * (podman, CRI-O) in the hooks directories of the site config, which ones
 * apply to a container (when.*), and running them at their stages with the
 * OCI state on stdin. */
#ifndef LAUNCH_HOOKS_H
#define LAUNCH_HOOKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "jsonpos.h"

enum launch_hook_stage {
	LAUNCH_HOOK_PRESTART,	      /* runtime namespace, before pivot_root (deprecated by OCI) */
	LAUNCH_HOOK_CREATE_RUNTIME,   /* runtime namespace, before pivot_root */
	LAUNCH_HOOK_CREATE_CONTAINER, /* container mount namespace, before pivot_root */
	LAUNCH_HOOK_START_CONTAINER,  /* in the container, after pivot_root, before the command */
	LAUNCH_HOOK_POSTSTART,	      /* runtime namespace, once the command runs */
	LAUNCH_HOOK_POSTSTOP,	      /* once every process of the container ended */
	LAUNCH_HOOK_N_STAGES,
};
const char *launch_hook_stage_name(enum launch_hook_stage s);
/* Stages before the command starts: a failure there stops the container. */
bool launch_hook_stage_fatal(enum launch_hook_stage s);

/* Annotations of the built-in shorthands --mpi and --gpu. */
#define LAUNCH_ANNOTATION_MPI "launch.mpi"
#define LAUNCH_ANNOTATION_GPU "launch.gpu"

struct launch_hook {
	char *file;	 /* the .json file */
	char *name;	 /* its name without .json */
	char *path;	 /* hook.path */
	char **args;	 /* hook.args (args[0] included); NULL: { path } */
	char **env;	 /* hook.env: the hook's whole environment */
	int timeout;	 /* hook.timeout in seconds; 0: the site's hook_timeout */
	unsigned stages; /* 1 << stage */
	int always;	 /* when.always: -1 absent, else 0/1 */
	int has_bind_mounts;
	char **ann_keys; /* when.annotations: key and value patterns, in pairs */
	char **ann_values;
	char **commands; /* when.commands */
};

struct launch_hooks {
	struct launch_hook *v;
	size_t n;
};

/* Parse one hook file already loaded (unit tests and the fuzzer call this). */
int launch_hook_parse(struct launch_hook *h, const struct launch_json_doc *doc, struct launch_error **err);
void launch_hook_clear(struct launch_hook *h);

/* Append the hooks of an OCI runtime config's "hooks" object OBJ (each
 * always applies), named STAGE[I], with FILE as their file. */
int launch_hooks_parse_bundle(struct launch_hooks *hooks, const struct launch_json_doc *doc, json_t *obj,
			      const char *file, struct launch_error **err);

/* Load every *.json of DIRS (missing directories are skipped). A name in an
 * earlier directory masks the same name in later ones; the result is sorted
 * by file name. Files and directories must belong to root or to the caller
 * and not be writable by group or others. Any invalid file is an error
 * naming FILE:LINE:COL. */
int launch_hooks_load(struct launch_hooks *hooks, char *const *dirs, struct launch_error **err);
void launch_hooks_clear(struct launch_hooks *hooks);
/* Append a copy of H. */
void launch_hooks_push(struct launch_hooks *hooks, const struct launch_hook *h);

/* What the when-conditions look at. */
struct launch_hook_target {
	char *const *annotations; /* KEY=VALUE */
	const char *command;	  /* process.args[0], NULL for an instance */
	bool has_bind_mounts;	  /* the user asked for bind mounts */
};
/* Whether H applies to T; *why (malloc'ed, optional) says what decided. */
bool launch_hook_applies(const struct launch_hook *h, const struct launch_hook_target *t, char **why);

/* Where and how one stage runs. */
struct launch_hook_run {
	const char *id;		  /* the container's id */
	const char *status;	  /* the state's status: creating, created, running, stopped */
	pid_t pid;		  /* the container init, 0 when stopped */
	const char *bundle;	  /* the generated bundle directory */
	char *const *annotations; /* KEY=VALUE */
	pid_t enter_pid;	  /* join this process's mount namespace before exec (createContainer) */
	int default_timeout;	  /* seconds, for hooks that set none */
};
/* Run the hooks of HOOKS that have STAGE, in order. In a fatal stage the
 * first failure stops and is returned as an error naming the hook, its file
 * and its output; later stages only warn. -v shows each hook's duration. */
int launch_hooks_run_stage(const struct launch_hooks *hooks, enum launch_hook_stage stage,
			   const struct launch_hook_run *run, struct launch_error **err);
bool launch_hooks_have_stage(const struct launch_hooks *hooks, enum launch_hook_stage stage);

/* The state JSON of RUN (malloc'ed). */
char *launch_hook_state_json(const struct launch_hook_run *run);

#endif
