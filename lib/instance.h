/* SPDX-License-Identifier: Apache-2.0 */
/* Named instances: one container kept alive by a detached supervisor, which
 * any number of processes join with setns (`launch start/exec/ps/stop`, and
 * the SPANK plugin's per-node container). State lives in
 * RUNTIME_DIR/instances, private to the user:
 *   NAME.lock  held (flock) by the supervisor for as long as it lives
 *   NAME.json  pids, namespaces, image, mode, creation time
 *   NAME.log   the supervisor's stderr
 * An instance whose lock is free is dead; any instance command cleans it. */
#ifndef LAUNCH_INSTANCE_H
#define LAUNCH_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ids.h"
#include "spec.h"

struct launch_instance_info {
	char *name;
	char *image;
	pid_t holder; /* the supervisor, serving FUSE */
	pid_t init;   /* the container init, whose namespaces are joined */
	bool root;
	enum launch_idmap_mode mode; /* how --root maps ids (ids.h) */
	int64_t created;	     /* seconds since the epoch */
	char *mnt_ns;		     /* "mnt:[N]": which processes belong to the instance */
	char *user_ns;
	char **env;		 /* NAME=VALUE the instance sets over the host environment */
	char *workdir;		 /* --workdir given at start, or NULL */
	char *image_workdir;	 /* the image's WorkingDir, or NULL */
	char **entrypoint;	 /* the image's Entrypoint, or NULL */
	char *digest;		 /* of a stored image, or NULL */
	char *upper;		 /* the writable layer, or NULL */
	bool upper_in_namespace; /* UPPER is a path in the supervisor's mount namespace */
	char *mountpoints;	 /* the list of mount points made in UPPER */
	int processes;		 /* joined processes still running (not the init) */
};

/* The longest instance name, the one limit of every front end: `launch
 * start --name` takes names up to this length; the SPANK plugin's
 * --container-name is the tail of `slurm-JOBID-NAME` and gets what is left
 * (LAUNCH_INSTANCE_NAME_MAX less LAUNCH_INSTANCE_SLURM_PREFIX_MAX). */
#define LAUNCH_INSTANCE_NAME_MAX 64
#define LAUNCH_INSTANCE_SLURM_PREFIX_MAX (sizeof("slurm-4294967295-") - 1)
/* LAUNCH_INSTANCE_NAME_MAX as a string literal, for help texts. */
#define LAUNCH_INSTANCE_NAME_MAX_STR LAUNCH_INSTANCE_STR_(LAUNCH_INSTANCE_NAME_MAX)
#define LAUNCH_INSTANCE_STR_(n) LAUNCH_INSTANCE_STR2_(n)
#define LAUNCH_INSTANCE_STR2_(n) #n

/* 1 to LAUNCH_INSTANCE_NAME_MAX letters, digits, `_`, `-` and `.`, not
 * starting with `.` or `-`. */
bool launch_instance_name_valid(const char *name);
/* Start SPEC (spec->instance is set here) as instance NAME (NULL: a new
 * name), detached. Returns once it can be joined; *OUT_NAME gets its name.
 * REUSE: a running instance NAME is taken as it is. */
int launch_instance_start(struct launch_spec *spec, const char *name, bool reuse, char **out_name,
			  struct launch_error **err);
/* Join INFO's user and mount namespaces, enter SPEC's working directory
 * (*CWD gets it) and take the instance's identity (capabilities, seccomp):
 * what `launch exec` and the SPANK plugin's tasks do before exec. */
int launch_instance_join(const struct launch_instance_info *info, const struct launch_spec *spec, const char **cwd,
			 struct launch_error **err);

/* For instance.c and instance_run.c. */
int launch_instance_dir(const char *runtime_dir, char **out, struct launch_error **err);
char *launch_instance_file(const char *dir, const char *name, const char *ext);
void launch_instance_remove_state(const char *dir, const char *name);
int launch_instance_ns_link(pid_t pid, const char *ns, char *buf, size_t size);

/* Find live instance NAME (a dead one's state is removed on the way). */
int launch_instance_get(const char *runtime_dir, const char *name, struct launch_instance_info *info,
			struct launch_error **err);
/* Join instance INFO and exec SPEC's command (argv, env, workdir, host cwd);
 * SPEC's env is to be built over INFO->env (launch_env_build). WANT_ROOT:
 * the caller asked for --root. Returns only on failure. */
int launch_instance_exec(const struct launch_instance_info *info, const struct launch_spec *spec, bool want_root,
			 struct launch_error **err);
/* The live instances (dead ones are cleaned on the way). */
int launch_instance_list(const char *runtime_dir, struct launch_instance_info **out, size_t *n,
			 struct launch_error **err);
/* End every process of NAME, unmount, remove its state. */
int launch_instance_stop(const char *runtime_dir, const char *name, struct launch_error **err);
/* Remove the state of instances whose supervisor died. */
void launch_instances_gc(const char *runtime_dir);
void launch_instance_info_clear(struct launch_instance_info *i);

#endif
