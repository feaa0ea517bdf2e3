/* SPDX-License-Identifier: Apache-2.0 */
/* Building a launch_spec from a request under the site's policy, and
 * releasing it (see spec.h). */
#include "spec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "instance.h"
#include "log.h"
#include "paths.h"
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
	t->has_bind_mounts = false;
	for (size_t i = 0; i < s->mounts.n; i++)
		t->has_bind_mounts |= s->mounts.v[i].type == LAUNCH_MOUNT_BIND;
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

void launch_spec_annotate(char ***annotations, const char *key, const char *value)
{
	size_t n = strlen(key);
	for (size_t i = 0; *annotations && (*annotations)[i]; i++)
		if (!strncmp((*annotations)[i], key, n) && (*annotations)[i][n] == '=') {
			free((*annotations)[i]);
			(*annotations)[i] = xasprintf("%s=%s", key, value);
			return;
		}
	launch_strv_push(annotations, xasprintf("%s=%s", key, value));
}

/* The GPU variables that mean "GPUs wanted": set, and not empty, "void",
 * or CUDA's "no GPU" values ("-1", "NoDevFiles"), which jobs use to force
 * the CPU. */
static bool gpu_requested(const struct launch_env *env)
{
	static const char *const vars[] = { "NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES" };
	static const char *const none[] = { "", "void", "-1", "NoDevFiles" };
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = launch_env_get(env, vars[i]);
		bool off = !v;
		for (size_t k = 0; v && k < ARRAY_SIZE(none); k++)
			off = off || !strcmp(v, none[k]);
		if (!off)
			return true;
	}
	return false;
}

int launch_spec_apply_policy(struct launch_spec *spec, const struct launch_config *config, const char *root_origin,
			     struct launch_error **err)
{
	if (spec->id.root && !config->allow_root)
		return launch_error_msg(err,
					"%s: running as root in the container is disabled on this system "
					"(allow_root is false in %s)",
					root_origin, config->path);
	_cleanup_free_ char *why = NULL;
	launch_identity_choose_mode(&spec->id, config->root_subids, config->root_seccomp, &why);
	if (spec->id.root) {
		char buf[160];
		launch_info("%s: %s", root_origin, launch_idmap_mode_describe(&spec->id, buf, sizeof(buf)));
		if (why && spec->id.mode != LAUNCH_IDMAP_SUBIDS)
			launch_info("%s: no subordinate ids: %s", root_origin, why);
	}
	spec->config = config;
	char cwd[PATH_MAX];
	if (!spec->host_cwd && getcwd(cwd, sizeof(cwd)))
		spec->host_cwd = xstrdup(cwd);
	_cleanup_free_ char *note = NULL;
	if (!spec->runtime_dir && launch_runtime_dir(config, &spec->runtime_dir, &note, err) < 0)
		return -1;
	if (note)
		launch_info("%s: using %s", note, spec->runtime_dir);
	return 0;
}

/* Entrypoint + Cmd, docker's way: a command given replaces Cmd,
 * --entrypoint replaces Entrypoint ("" removes it); nothing at all: the
 * default shell (NULL). */
static char **command_line(const struct launch_request *req, const struct launch_image *image)
{
	const char *ep1[] = { req->entrypoint, NULL };
	char *const *ep = req->entrypoint ? (*req->entrypoint ? (char *const *)ep1 : NULL) : image->entrypoint;
	bool given = req->command && req->command[0];
	char *const *cmd = given ? req->command : (req->entrypoint ? NULL : image->cmd);
	char **argv = launch_strv_copy(ep);
	for (size_t i = 0; cmd && cmd[i]; i++)
		launch_strv_push(&argv, xstrdup(cmd[i]));
	if (!argv[0]) {
		launch_strv_free(argv);
		return NULL;
	}
	return argv;
}

int launch_spec_build(const struct launch_request *req, const struct launch_config *config, struct launch_spec *spec,
		      struct launch_instance_info *info, struct launch_error **err)
{
	bool exec = req->kind == LAUNCH_REQUEST_EXEC;
	_cleanup_strv_ char **env_args = launch_strv_copy(req->env_args);
	launch_config_run_args(config, &spec->mounts, &env_args);
	spec->no_home = req->no_home;
	spec->private_tmp = req->private_tmp || config->private_tmp;
	launch_identity_init(&spec->id, req->root, NULL); /* what it cannot read stays unset */
	if (launch_spec_apply_policy(spec, config, "--root", err) < 0)
		return -1;
	if (!exec && launch_image_resolve(req->target, config, &spec->image, err) < 0)
		return -1;
	if (!exec && req->stage_dir && launch_image_stage(&spec->image, req->stage_dir, err) < 0)
		return -1;
	if (spec->image.user)
		launch_info("the image's User (%s) is not used: the container runs as you%s", spec->image.user,
			    req->root ? ", as root inside (--root)" : " (or as root inside with --root)");
	if (exec) {
		if (launch_instance_get(spec->runtime_dir, req->target, info, err) < 0)
			return -1;
		if (!spec->workdir && info->workdir)
			spec->workdir = xstrdup(info->workdir);
		if (info->image_workdir)
			spec->image.workdir = xstrdup(info->image_workdir);
	}
	if (launch_env_build(&spec->env, req->host_env, config->env_deny, exec ? info->env : spec->image.env, env_args,
			     err) < 0)
		return -1;
	if (req->kind == LAUNCH_REQUEST_START) {
		/* what the instance sets over the host's environment, for exec */
		struct launch_env host = { NULL };
		launch_env_from_host(&host, req->host_env, config->env_deny);
		spec->env_set = launch_env_diff(&spec->env, &host);
		launch_env_clear(&host);
	}
	if (req->kind == LAUNCH_REQUEST_RUN || req->kind == LAUNCH_REQUEST_HOOKS)
		spec->argv = command_line(req, &spec->image);
	else if (req->command && req->command[0])
		spec->argv = launch_strv_copy(req->command);
	if (!exec && config->gpu_auto && gpu_requested(&spec->env))
		launch_spec_annotate(&spec->annotations, LAUNCH_ANNOTATION_GPU, "true");
	spec->instance = req->kind == LAUNCH_REQUEST_START;
	return 0;
}
