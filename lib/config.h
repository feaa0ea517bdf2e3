/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration, parsed once into a typed struct: the built-in defaults
 * (launch_config_init, nowhere else), the site file (/etc/launch/launch.json)
 * over them, and the user's own file ($XDG_CONFIG_HOME/launch/launch.json)
 * over that, for the keys users may set and the site did not lock. Both files
 * go through one table of keys. */
#ifndef LAUNCH_CONFIG_H
#define LAUNCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "mountspec.h"

/* Where the values came from, for `launch config --show-origin`: "FILE:LINE"
 * of the file that set them last, NULL for the built-in default. */
struct launch_config_origins {
	char **key;	    /* one per key of the table, by its index */
	char **mounts;	    /* one per entry of mounts */
	char **user_mounts; /* one per entry of user_mounts */
	char **env;	    /* one per entry of env */
};

struct launch_config {
	char *path;			  /* site file read, NULL when none existed */
	char *user_path;		  /* the user's file read, NULL when none existed */
	struct launch_mounts mounts;	  /* site mounts added to every container */
	struct launch_mounts user_mounts; /* the user file's mounts: the user's own, checked as -m mounts are */
	char **env;			  /* NAME=VALUE set in every container: the site's, the user's over them */
	char **locked;			  /* keys users may set that the site does not let them set */
	bool allow_root;		  /* may users ask for --root */
	bool root_subids;		  /* --root may map /etc/subuid ranges (newuidmap) */
	bool root_seccomp;		  /* --root without ranges fakes chown/set*id with seccomp */
	char **deny_mount_sources;	  /* host paths users may not bind (and their subtrees) */
	char **deny_mount_destinations;	  /* container paths users may not mount over */
	char *runtime_dir;		  /* template; NULL: $XDG_RUNTIME_DIR/launch or /tmp/launch-$UID */
	char **env_deny;		  /* host variables not passed into containers */
	bool private_tmp;		  /* default for --private-tmp */
	int fuse_threads;		  /* maximum FUSE worker threads per image server */
	int image_server_linger;	  /* seconds a shared image server outlives its last container; 0: no sharing */
	char *store;			  /* template of the user's image store; NULL: $XDG_DATA_HOME/launch */
	char **site_stores;		  /* read-only image stores of the site, searched after the user's */
	char *registry_ca_file;		  /* CA bundle for registries, besides the system's */
	char *default_registry;		  /* registry of docker://REPO without a host; NULL: Docker Hub */
	char **insecure_registries;	  /* "HOST" (TLS unverified) or "http://HOST" */
	bool pull_on_run;		  /* launch run docker://... pulls a missing image */
	bool pull_by_name;		  /* a name in no store and no file is pulled from default_registry */
	int pull_retries;		  /* attempts after a failed transfer, with back-off */
	int pull_jobs;			  /* layers downloaded at once */
	int64_t blob_cache_max;		  /* bytes the pull's blob cache keeps after a pull; -1: no limit */
	char **hooks_dirs;		  /* OCI hook files (oci-hooks(5)), earlier directories first */
	int hook_timeout;		  /* seconds a hook may run when its file sets no timeout */
	bool gpu_auto;			  /* NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES imply --gpu */
	bool strict_requests;		  /* --mpi/--gpu that no hook serves fail (else a warning) */
	struct launch_config_origins origins;
};

enum launch_config_flags {
	/* The caller acts for itself, in its own environment: honour
	 * $LAUNCH_CONFIG and read the user's own file. Never when running as
	 * root for another user (the SPANK plugin). */
	LAUNCH_CONFIG_HONOR_ENV = 1 << 0,
	/* Require the site file to be owned by root and not writable by
	 * others; the user's file is then never read, whatever the other
	 * flags say. */
	LAUNCH_CONFIG_TRUSTED_ONLY = 1 << 1,
};

struct stat;
/* A file launch reads and acts on (the site config, hook files, the user's
 * config): owned by root (or, with OR_CALLER, by the calling user) and not
 * writable by group or others. */
int launch_file_check_trusted(const char *path, const struct stat *st, bool or_caller, struct launch_error **err);

/* The blob cache's default limit (blob_cache_max): 10 GiB. */
#define LAUNCH_BLOB_CACHE_DEFAULT ((int64_t)10 << 30)
/* A size of the config: bytes, "NUMBER[K|M|G|T][B|iB]" (powers of 1024) or
 * "unlimited" (-1). 0, or -1 when S is none of those. */
int launch_config_parse_size(const char *s, int64_t *out);
/* N as the config writes it: "10G", "1536M", "123", "unlimited". */
char *launch_config_size_text(int64_t n);

void launch_config_init(struct launch_config *c);
/* Load the site config: $LAUNCH_CONFIG (with HONOR_ENV), else the built-in
 * path. A missing built-in file means defaults; a missing $LAUNCH_CONFIG is
 * an error. With HONOR_ENV (and without TRUSTED_ONLY) the user's file
 * (launch_user_config_path) follows, when it exists. */
int launch_config_load(struct launch_config *c, unsigned flags, struct launch_error **err);
int launch_config_load_file(struct launch_config *c, const char *path, unsigned flags, struct launch_error **err);
/* The user's file at PATH, over the site's (load that first): only the
 * keys users may set and the site did not lock; the file must be the
 * caller's (or root's) and not writable by group or others. */
int launch_config_load_user_file(struct launch_config *c, const char *path, struct launch_error **err);
void launch_config_clear(struct launch_config *c);
const char *launch_config_default_path(void);

/* What the config adds to a container's own settings, under those of the
 * command line: the user file's mounts go before MOUNTS (so that a
 * command-line mount at the same place covers them; they are the user's and
 * checked as such), and "env" goes into ENV_ARGS as "c:NAME=VALUE" entries,
 * which launch_env_build applies before env files and --env. */
void launch_config_run_args(const struct launch_config *c, struct launch_mounts *mounts, char ***env_args);

/* Whether KEY is a key of the config, and whether users may set it. */
bool launch_config_key_known(const char *key);
bool launch_config_key_user(const char *key);
/* "FILE:LINE" of the file that set KEY, NULL when it has its default. */
const char *launch_config_origin(const struct launch_config *c, const char *key);

/* One value of the effective configuration: a key with a single value, or
 * one entry of a list (an empty list is one item whose value is NULL). */
struct launch_config_item {
	const char *key;
	json_t *value; /* NULL: unset, or an empty list */
	bool list;     /* the key holds a list */
	char *origin;  /* "built-in", "FILE:LINE", "env NAME" */
};
struct launch_config_items {
	struct launch_config_item *v;
	size_t n;
};
/* The effective configuration in the table's key order, for `launch
 * config`. runtime_dir and store are the directories launch would use (with
 * the environment's part: LAUNCH_RUNTIME_DIR, XDG_RUNTIME_DIR,
 * XDG_DATA_HOME), neither created nor checked. */
int launch_config_items(const struct launch_config *c, struct launch_config_items *out, struct launch_error **err);
void launch_config_items_clear(struct launch_config_items *items);

#endif
