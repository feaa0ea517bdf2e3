/* SPDX-License-Identifier: Apache-2.0 */
/* spank_launch.so: `srun --container-image=...` (see docs/admin-guide.md).
 *
 *   srun, sbatch, salloc      options parsed and checked (options.c): a bad
 *                             mount spec fails before any node is involved
 *   srun, once allocated      the step's image pinned to a digest, once per
 *                             job, a docker:// image pulled once (local.c)
 *   slurmstepd, per step      user_init: a forked child, fully the job user,
 *                             runs `launch start` once per node (remote.c)
 *   each task                 task_init: joins that instance with setns,
 *                             takes its identity and environment; slurmstepd
 *                             then execs the task's command inside it
 *   step end / job end        exit / job_epilog: `launch stop` as the user
 *
 * Nothing here serves FUSE, exits, or runs container code in slurmstepd
 * itself: starting and stopping happen in children running as the user. */
#ifndef LAUNCH_SPANK_PLUGIN_H
#define LAUNCH_SPANK_PLUGIN_H

#include <slurm/spank.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the user asked for; -1 in a tri-state: not said. */
struct plugin_opts {
	char *image;
	char *mounts;
	char *workdir;
	char *name;
	char *env_names; /* --container-env: NAME[,NAME...] */
	char *save;	 /* --container-save: a squashfs of the container at the step's end */
	enum plugin_name_mode { NAME_AUTO, NAME_CREATE, NAME_EXEC, NAME_NO_EXEC } name_mode; /* NAME:FLAG */
	int entrypoint_log; /* --container-entrypoint-log (accepted) */
	int writable;
	int remap_root;
	int mount_home;
	int entrypoint;
	int mpi; /* --container-mpi: launch start --mpi (the site's MPI hook) */
	int gpu; /* --container-gpu: launch start --gpu (the site's GPU hook) */
};

/* Site defaults and settings: plugstack.conf arguments (options.c). */
struct plugin_site {
	int writable, remap_root, mount_home, entrypoint; /* 0 or 1 */
	int sbatch;					  /* run batch scripts in the container (0 or 1) */
	char *launch;					  /* the launch program */
	char *runtime_dir;				  /* template (paths.h), NULL: /tmp/launch-$UID */
	char *stage_dir;    /* template: node-local copies of the job's images; NULL: none */
	int global_scope;   /* container_scope=global: named containers outlive the job */
	char *importer;	    /* importer=PATH: pyxis's importer protocol for --container-image */
	char *runtime_path; /* pyxis's runtime_path: runtime_dir is PATH/launch-$UID */
	int use_squashfuse; /* accepted: squashfs images are always mounted in place */
};

/* A user, as the plugin needs one. */
struct plugin_user {
	uid_t uid;
	gid_t gid;
	char *name, *home;
};

extern struct plugin_opts plugin_opts;
extern struct plugin_site plugin_site;

/* options.c */
int plugin_register_options(spank_t sp);
int plugin_parse_args(int ac, char **av);
/* Fill unset options from their environment twins (LAUNCH_CONTAINER_*),
 * read with GETENV (getenv in srun, the job's environment in slurmstepd),
 * then check them; an error is printed with slurm_error. */
int plugin_finish_options(const char *(*get)(void *arg, const char *name), void *arg);
bool plugin_active(void);

/* remote.c */
int plugin_user_of(uid_t uid, gid_t gid, struct plugin_user *u);
void plugin_user_clear(struct plugin_user *u);
/* The runtime directory the plugin pins for U (the runtime_dir template). */
char *plugin_runtime_dir(const struct plugin_user *u);
int plugin_user_init(spank_t sp);
int plugin_task_init(spank_t sp);
int plugin_task_exit(spank_t sp);
int plugin_exit(spank_t sp);
int plugin_job_epilog(spank_t sp);

/* local.c: in srun. The pins of a job are a JSON object in
 * RUNDIR/slurm-pins/JOB.json, image as the user wrote it -> "sha256:HEX";
 * the step's pin reaches slurmstepd as PLUGIN_PIN_VAR="sha256:HEX IMAGE". */
#define PLUGIN_PIN_VAR "LAUNCH_CONTAINER_IMAGE_PIN"
void plugin_local_init(void);
int plugin_local_user_init(spank_t sp);
int plugin_local_exit(spank_t sp);
/* Remove the pins file of JOB in RUNDIR, which is UID's (as that user). */
void plugin_pins_remove(const char *rundir, uid_t uid, uint32_t job);
/* The image IMAGE of this step is to run as, from the job's pin VALUE (of
 * PLUGIN_PIN_VAR, may be NULL): "@sha256:HEX", or NULL when not pinned. */
char *plugin_pinned_image(const char *value, const char *image);

#endif
