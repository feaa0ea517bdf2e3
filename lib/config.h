/* SPDX-License-Identifier: Apache-2.0 */
/* The site configuration (/etc/launch/launch.json), parsed once into a typed
 * struct. Defaults live in launch_config_init and nowhere else. */
#ifndef LAUNCH_CONFIG_H
#define LAUNCH_CONFIG_H

#include <stdbool.h>

#include "error.h"
#include "mountspec.h"

struct launch_config {
	char *path;                     /* file read, NULL when none existed */
	struct launch_mounts mounts;    /* site mounts added to every container */
	bool allow_root;                /* may users ask for --root */
	bool root_subids;               /* --root may map /etc/subuid ranges (newuidmap) */
	bool root_seccomp;              /* --root without ranges fakes chown/set*id with seccomp */
	char **deny_mount_sources;      /* host paths users may not bind (and their subtrees) */
	char **deny_mount_destinations; /* container paths users may not mount over */
	char *runtime_dir;              /* template; NULL: $XDG_RUNTIME_DIR/launch or /tmp/launch-$UID */
	char **env_deny;                /* host variables not passed into containers */
	bool private_tmp;               /* default for --private-tmp */
	int fuse_threads;               /* maximum FUSE worker threads per container */
	char *store;                    /* template of the user's image store; NULL: $XDG_DATA_HOME/launch */
	char **site_stores;             /* read-only image stores of the site, searched after the user's */
	char *registry_ca_file;         /* CA bundle for registries, besides the system's */
	char **insecure_registries;     /* "HOST" (TLS unverified) or "http://HOST" */
	bool pull_on_run;               /* launch run docker://... pulls a missing image */
	int pull_retries;               /* attempts after a failed transfer, with back-off */
	int pull_jobs;                  /* layers downloaded at once */
	char **hooks_dirs;              /* OCI hook files (oci-hooks(5)), earlier directories first */
	int hook_timeout;               /* seconds a hook may run when its file sets no timeout */
	bool gpu_auto;                  /* NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES imply --gpu */
};

enum launch_config_flags {
	/* Honour $LAUNCH_CONFIG (never when running as root for another user,
	 * e.g. in the SPANK plugin). */
	LAUNCH_CONFIG_HONOR_ENV = 1 << 0,
	/* Require the file to be owned by root and not writable by others. */
	LAUNCH_CONFIG_TRUSTED_ONLY = 1 << 1,
};

struct stat;
/* A file launch reads and acts on (the site config, hook files): owned by
 * root (or, with OR_CALLER, by the calling user) and not writable by group
 * or others. */
int launch_file_check_trusted(const char *path, const struct stat *st, bool or_caller, struct launch_error **err);

void launch_config_init(struct launch_config *c);
/* Load the site config: $LAUNCH_CONFIG (with HONOR_ENV), else the built-in
 * path. A missing built-in file means defaults; a missing $LAUNCH_CONFIG is
 * an error. */
int launch_config_load(struct launch_config *c, unsigned flags, struct launch_error **err);
int launch_config_load_file(struct launch_config *c, const char *path, unsigned flags, struct launch_error **err);
void launch_config_clear(struct launch_config *c);
const char *launch_config_default_path(void);

#endif
