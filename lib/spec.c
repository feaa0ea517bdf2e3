/* SPDX-License-Identifier: Apache-2.0 */
/* Releasing a launch_spec (see spec.h). */
#include "spec.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
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

/* The requests a site hook serves (--mpi, --gpu and their srun twins). */
static const struct {
	const char *annotation;
	const char *option;
	const char *what;
} requests[] = {
	{ LAUNCH_ANNOTATION_MPI, "--mpi", "the host's MPI" },
	{ LAUNCH_ANNOTATION_GPU, "--gpu", "the host's GPUs" },
};

/* Is request KEY=true among the annotations (KEY=VALUE), and does any of
 * ALL apply only because of it? -1: not asked for. */
static int request_served(const struct launch_hooks *all, const struct launch_hook_target *t, const char *key)
{
	_cleanup_free_ char *want = xasprintf("%s=true", key), *prefix = xasprintf("%s=", key);
	bool asked = false;
	_cleanup_strv_ char **rest = NULL;
	for (size_t i = 0; t->annotations && t->annotations[i]; i++) {
		if (!strcmp(t->annotations[i], want))
			asked = true;
		if (!launch_str_has_prefix(t->annotations[i], prefix))
			launch_strv_push(&rest, xstrdup(t->annotations[i]));
	}
	if (!asked)
		return -1;
	struct launch_hook_target without = *t;
	without.annotations = rest;
	for (size_t i = 0; i < all->n; i++)
		if (launch_hook_applies(&all->v[i], t, NULL) && !launch_hook_applies(&all->v[i], &without, NULL))
			return 1;
	return 0;
}

int launch_spec_add_site_hooks(struct launch_spec *s, struct launch_error **err)
{
	struct launch_hooks all;
	const struct launch_config *c = s->config;
	if (launch_hooks_load(&all, c ? c->hooks_dirs : NULL, err) < 0)
		return -1;
	struct launch_hook_target t;
	launch_spec_hook_target(s, &t);
	for (size_t i = 0; i < all.n; i++)
		if (launch_hook_applies(&all.v[i], &t, NULL))
			launch_hooks_push(&s->hooks, &all.v[i]);
	/* A request no hook serves must not pass unnoticed: a batch job would
	 * run without its GPUs. */
	int ret = 0;
	for (size_t r = 0; r < ARRAY_SIZE(requests) && ret == 0; r++) {
		if (request_served(&all, &t, requests[r].annotation) != 0)
			continue;
		_cleanup_free_ char *dirs = NULL;
		for (size_t i = 0; c && c->hooks_dirs && c->hooks_dirs[i]; i++) {
			char *d = xasprintf("%s%s%s", dirs ? dirs : "", dirs ? ", " : "", c->hooks_dirs[i]);
			free(dirs);
			dirs = d;
		}
		if (c && c->strict_requests)
			ret = launch_error_msg(err,
					       "%s: no site hook on this node provides %s (hooks_dirs: %s; see "
					       "'launch hooks', or ask your admins)",
					       requests[r].option, requests[r].what, dirs ? dirs : "none");
		else
			launch_warn(
				"%s: no site hook on this node provides %s: the container runs without it "
				"(hooks_dirs: %s; see 'launch hooks', or ask your admins)",
				requests[r].option, requests[r].what, dirs ? dirs : "none");
	}
	launch_hooks_clear(&all);
	return ret;
}
