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

void launch_spec_hook_target(const struct launch_spec *s, struct launch_hook_target *t)
{
	static char sh[] = "/bin/sh";
	t->annotations = s->annotations;
	t->command = s->instance ? NULL : s->argv && s->argv[0] ? s->argv[0] : sh;
	t->has_bind_mounts = s->mounts.n > 0;
}

int launch_spec_add_site_hooks(struct launch_spec *s, struct launch_error **err)
{
	struct launch_hooks all;
	if (launch_hooks_load(&all, s->config ? s->config->hooks_dirs : NULL, err) < 0)
		return -1;
	struct launch_hook_target t;
	launch_spec_hook_target(s, &t);
	for (size_t i = 0; i < all.n; i++)
		if (launch_hook_applies(&all.v[i], &t, NULL))
			launch_hooks_push(&s->hooks, &all.v[i]);
	launch_hooks_clear(&all);
	return 0;
}
