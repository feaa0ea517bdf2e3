/* SPDX-License-Identifier: Apache-2.0 */
/* OCI runtime bundles: a bundle's config.json (process args, env, cwd and
 * user, root, mounts) read into a launch_spec, for `launch oci`, the
 * runc-compatible subset that Slurm's --container (oci.conf) calls. */
#ifndef LAUNCH_OCI_H
#define LAUNCH_OCI_H

#include "config.h"
#include "error.h"
#include "spec.h"

/* Fill SPEC (image, argv, env, workdir, identity, mounts) from BUNDLE's
 * config.json. Mounts launch makes itself (proc, sysfs, devpts, /dev, the
 * cgroup and mqueue file systems, tmpfs) are left to it; bind mounts become
 * the container's; anything else is an error naming the mount. */
int launch_oci_load(const char *bundle, const struct launch_config *c, struct launch_spec *spec,
		    struct launch_error **err);

#endif
