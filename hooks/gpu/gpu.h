/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA GPU hook (launch-hook-gpu): which GPUs a container asked for
 * (NVIDIA_VISIBLE_DEVICES, Slurm's SLURM_STEP_GPUS and SLURM_JOB_GPUS,
 * CUDA_VISIBLE_DEVICES), the GPUs of the node and their device minors (from
 * the driver's /proc/driver/nvidia), the driver version, the driver's
 * user-space libraries of exactly that version in the host's linker cache,
 * and putting them, the driver's tools and the device nodes into the
 * container root, whose linker cache is then rebuilt. Without
 * nvidia-container-cli: everything is read from the driver's files. */
#ifndef LAUNCH_HOOK_GPU_H
#define LAUNCH_HOOK_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "hookapi.h"

/* Container directory of the libraries, put in front of the image's own
 * directories in the container's linker cache. */
#define LAUNCH_GPU_LIBDIR "/usr/local/lib/launch/gpu"
#define LAUNCH_GPU_BINDIR "/usr/local/bin"

/* The hook's configuration, from its own environment (hook.env). */
struct launch_gpu_config {
	char *driver_root; /* NVIDIA_DRIVER_ROOT, default "/" */
	char *ldconfig;	   /* LDCONFIG_PATH, default /sbin/ldconfig */
	char **libraries;  /* base names (libcuda, ...): LAUNCH_GPU_LIBRARIES or the default list */
	char **binaries;   /* LAUNCH_GPU_BINARIES or the default list */
};
int launch_gpu_config_from_env(struct launch_gpu_config *cfg, struct launch_error **err);
void launch_gpu_config_clear(struct launch_gpu_config *cfg);

/* What the container asked for. */
enum launch_gpu_mode {
	LAUNCH_GPU_VOID, /* nothing at all: the hook does nothing */
	LAUNCH_GPU_NONE, /* the driver's libraries, tools and control devices, no GPU */
	LAUNCH_GPU_ALL,
	LAUNCH_GPU_LIST,
};
struct launch_gpu_request {
	enum launch_gpu_mode mode;
	char **ids;	 /* LIST: indices ("1") and UUIDs ("GPU-..."), as given, without duplicates */
	const char *var; /* the variable that decided (static), NULL when none was set */
	char *value;	 /* its value */
};
/* Parse VALUE of variable VAR (one of the four above: the keywords differ). */
int launch_gpu_request_parse(const char *var, const char *value, struct launch_gpu_request *req,
			     struct launch_error **err);
/* The first of NVIDIA_VISIBLE_DEVICES, SLURM_STEP_GPUS, SLURM_JOB_GPUS,
 * CUDA_VISIBLE_DEVICES set in ENV (KEY=VALUE); none set: all. */
int launch_gpu_request_from_env(char *const *env, struct launch_gpu_request *req, struct launch_error **err);
void launch_gpu_request_clear(struct launch_gpu_request *req);

/* The GPUs of the node, in PCI bus order (the order of indices). */
struct launch_gpu {
	char *bus;   /* 0000:41:00.0 */
	char *uuid;  /* GPU-..., NULL when the driver does not say */
	char *model; /* NULL when the driver does not say */
	int minor;   /* N of /dev/nvidiaN */
};
struct launch_gpus {
	struct launch_gpu *v;
	size_t n;
};
/* Read DRIVER_ROOT/proc/driver/nvidia/gpus/BUS/information; GPUs the driver
 * excludes ("GPU Excluded: Yes") are left out, as NVML does. */
int launch_gpus_read(const char *driver_root, struct launch_gpus *gpus, struct launch_error **err);
void launch_gpus_clear(struct launch_gpus *gpus);
/* The indices (into GPUS) REQ selects, in the order asked, each once. An
 * unknown index or UUID is an error listing the node's GPUs. */
int launch_gpus_select(const struct launch_gpus *gpus, const struct launch_gpu_request *req, size_t **sel, size_t *n,
		       struct launch_error **err);

/* The version in the text of /proc/driver/nvidia/version ("535.104.05"), or
 * NULL (malloc'ed). */
char *launch_gpu_version_parse(const char *text);
/* The driver version: DRIVER_ROOT/proc/driver/nvidia/version, else the real
 * name of libnvidia-ml.so.1 in CACHE (the host's, paths in DRIVER_ROOT). */
int launch_gpu_driver_version(const char *driver_root, const struct launch_ldcache *cache, char **version,
			      struct launch_error **err);

/* One library of the driver to put into the container. */
struct launch_gpu_lib {
	char *src;     /* host path of the real file */
	char *name;    /* its name, BASE.so.VERSION */
	char *soname;  /* the cache's name for it (libcuda.so.1); NULL when that is NAME */
	char *devlink; /* BASE.so */
};
struct launch_gpu_libs {
	struct launch_gpu_lib *v;
	size_t n;
};
/* The libraries of BASES (base names) in CACHE whose real file (resolved in
 * DRIVER_ROOT) is BASE.so.VERSION; files of other versions are skipped, and
 * of two files of one name the first in cache order is taken. libcuda and
 * libnvidia-ml must be found. */
int launch_gpu_libs_pick(const struct launch_ldcache *cache, const char *driver_root, const char *version,
			 char *const *bases, struct launch_gpu_libs *libs, struct launch_error **err);
void launch_gpu_libs_clear(struct launch_gpu_libs *libs);

/* The whole hook: STATE from stdin, CFG from the hook's environment. */
int launch_gpu_hook_run(const struct launch_gpu_config *cfg, const struct launch_hook_state *st,
			struct launch_error **err);

#endif
