/* SPDX-License-Identifier: Apache-2.0 */
/* The MPI hook: replaces the MPICH-ABI MPI of a container image with the
 * host's (a vendor MPI built for the site's interconnect), with the
 * environment variables of Sarus's MPI hook so that sites can reuse their
 * hook files. The host libraries are checked first (a C library the image
 * has, versions compatible with the image's MPI), then bound read-only over
 * the image's files; those without a counterpart go to MPI_ADD_DIR, which
 * the rebuilt linker cache puts first. README.md is the admin's view. */
#ifndef LAUNCH_HOOK_MPI_H
#define LAUNCH_HOOK_MPI_H

#include <stdbool.h>

#include "error.h"

/* Where host libraries without a counterpart in the image go. */
#define LAUNCH_MPI_ADD_DIR "/usr/local/lib/launch/mpi"
#define LAUNCH_MPI_DEFAULT_LDCONFIG "/sbin/ldconfig"

/* MPI_COMPATIBILITY_TYPE: how the host's version must relate to the image's. */
enum launch_mpi_compat {
	LAUNCH_MPI_COMPAT_MAJOR,  /* majors equal (the MPICH ABI promise) */
	LAUNCH_MPI_COMPAT_FULL,	  /* majors equal, host (minor, patch) >= image's */
	LAUNCH_MPI_COMPAT_STRICT, /* all three equal */
};

struct launch_mpi_config {
	char **libs;	/* MPI_LIBS: absolute host paths, at least one */
	char **deps;	/* MPI_DEPENDENCY_LIBS */
	char **binds;	/* BIND_MOUNTS */
	char *ldconfig; /* LDCONFIG_PATH */
	enum launch_mpi_compat compat;
};

/* Read the configuration from ENVP (the hook's environment, KEY=VALUE). */
int launch_mpi_config_load(struct launch_mpi_config *c, char *const *envp, struct launch_error **err);
void launch_mpi_config_clear(struct launch_mpi_config *c);

int launch_mpi_compat_parse(const char *s, enum launch_mpi_compat *c, struct launch_error **err);
const char *launch_mpi_compat_name(enum launch_mpi_compat c);
/* Whether a host library of version HOST may replace one of version IMAGE
 * (MAJOR, MINOR, PATCH; missing numbers are 0). */
bool launch_mpi_compatible(enum launch_mpi_compat c, const int host[3], const int image[3]);

/* A library file name libNAME.so.MAJOR[.MINOR[.PATCH]] (numbers after the
 * third are ignored). */
struct launch_mpi_libname {
	char *name; /* libNAME */
	int v[3];   /* missing numbers are 0 */
	int n;	    /* how many numbers the name has, 1 to 3 */
};
/* Parse the last component of FILE; -1 when it has no such form. */
int launch_mpi_libname_parse(const char *file, struct launch_mpi_libname *ln);
void launch_mpi_libname_clear(struct launch_mpi_libname *ln);

/* Inject the host MPI into the container root ROOT, as seen from the
 * container's mount namespace: the checks, the binds, the linker cache. */
int launch_mpi_inject(const struct launch_mpi_config *c, const char *root, struct launch_error **err);

/* The whole hook: the configuration from ENVP, the state from STATE_FD,
 * joining the container, and launch_mpi_inject. */
int launch_mpi_hook(char *const *envp, int state_fd, struct launch_error **err);

#endif
