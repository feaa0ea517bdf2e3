/* SPDX-License-Identifier: Apache-2.0 */
/* Releasing a launch_spec (see spec.h). */
#include "spec.h"

#include <stdlib.h>

#include "util.h"

void launch_spec_clear(struct launch_spec *s)
{
	launch_image_clear(&s->image);
	launch_strv_free(s->argv);
	launch_env_clear(&s->env);
	launch_strv_free(s->env_set);
	free(s->workdir);
	free(s->host_cwd);
	launch_identity_clear(&s->id);
	launch_mounts_clear(&s->mounts);
	free(s->runtime_dir);
	free(s->writable_size);
	free(s->overlay);
	free(s->container_id);
	launch_strv_free(s->annotations);
	launch_hooks_clear(&s->hooks);
}
