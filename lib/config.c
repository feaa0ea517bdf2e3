/* SPDX-License-Identifier: Apache-2.0 */
/* Site configuration: a table of keys, each with its type and a setter, so
 * that unknown keys and wrong types are reported with file:line:column. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonpos.h"
#include "util.h"

#ifndef LAUNCH_SYSCONFDIR
#define LAUNCH_SYSCONFDIR "/etc/launch"
#endif

const char *launch_config_default_path(void) { return LAUNCH_SYSCONFDIR "/launch.json"; }

void launch_config_init(struct launch_config *c)
{
	memset(c, 0, sizeof(*c));
	c->allow_root = true;
	c->root_subids = true;
	c->root_seccomp = true;
	c->pull_on_run = true;
	c->pull_retries = 6;
	c->pull_jobs = 4;
	c->fuse_threads = 8;
	c->hook_timeout = 60;
	c->hooks_dirs = xcalloc(2, sizeof(char *));
	c->hooks_dirs[0] = xstrdup(LAUNCH_SYSCONFDIR "/hooks.d");
}

void launch_config_clear(struct launch_config *c)
{
	free(c->path);
	launch_mounts_clear(&c->mounts);
	launch_strv_free(c->deny_mount_sources);
	launch_strv_free(c->deny_mount_destinations);
	free(c->runtime_dir);
	launch_strv_free(c->env_deny);
	free(c->store);
	launch_strv_free(c->site_stores);
	free(c->registry_ca_file);
	launch_strv_free(c->insecure_registries);
	launch_strv_free(c->hooks_dirs);
	memset(c, 0, sizeof(*c));
}

struct ctx {
	struct launch_config *c;
	const struct launch_json_doc *doc;
	const char *key;
	const char *ptr; /* "/key" */
};

static int get_strv(struct ctx *x, json_t *v, bool abs_paths, char ***out, struct launch_error **err)
{
	if (!json_is_array(v))
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be an array of strings, not %s", x->key,
					    launch_json_type_name(v));
	size_t i;
	json_t *e;
	char **r = xcalloc(1, sizeof(char *));
	json_array_foreach (v, i, e) {
		_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
		if (!json_is_string(e)) {
			launch_strv_free(r);
			return launch_json_error_at(err, x->doc, p, "\"%s\" entries must be strings, not %s", x->key,
						    launch_json_type_name(e));
		}
		const char *s = json_string_value(e);
		if (abs_paths && s[0] != '/') {
			launch_strv_free(r);
			return launch_json_error_at(err, x->doc, p, "\"%s\" entry `%s` must be an absolute path", x->key,
						    s);
		}
		launch_strv_push(&r, abs_paths ? launch_path_normalize(s) : xstrdup(s));
	}
	launch_strv_free(*out);
	*out = r;
	return 0;
}

static int set_mounts(struct ctx *x, json_t *v, struct launch_error **err)
{
	_cleanup_strv_ char **specs = NULL;
	if (get_strv(x, v, false, &specs, err) < 0)
		return -1;
	for (size_t i = 0; specs[i]; i++) {
		struct launch_mount m;
		if (specs[i][0] != '/') {
			_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
			return launch_json_error_at(err, x->doc, p, "site mount `%s` must start with an absolute host path",
						    specs[i]);
		}
		struct launch_error *e = NULL;
		if (launch_mountspec_parse_short(specs[i], &m, &e) < 0) {
			_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
			launch_json_error_at(err, x->doc, p, "%s", e->msg);
			launch_error_free(e);
			return -1;
		}
		launch_mounts_push(&x->c->mounts, &m);
	}
	return 0;
}

static int set_bool(struct ctx *x, json_t *v, bool *out, struct launch_error **err)
{
	if (!json_is_boolean(v))
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be true or false, not %s", x->key,
					    launch_json_type_name(v));
	*out = json_is_true(v);
	return 0;
}

static int set_allow_root(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->allow_root, err);
}
static int set_root_subids(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->root_subids, err);
}
static int set_root_seccomp(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->root_seccomp, err);
}
static int set_private_tmp(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->private_tmp, err);
}
static int set_deny_src(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, true, &x->c->deny_mount_sources, err);
}
static int set_deny_dst(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, true, &x->c->deny_mount_destinations, err);
}
static int set_env_deny(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, false, &x->c->env_deny, err);
}

/* A path template: absolute, or starting with a $VARIABLE (paths.h). */
static int get_template(struct ctx *x, json_t *v, char **out, struct launch_error **err)
{
	if (!json_is_string(v))
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be a string, not %s", x->key,
					    launch_json_type_name(v));
	const char *s = json_string_value(v);
	if (s[0] != '/' && s[0] != '$')
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be an absolute path, not `%s`", x->key, s);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int set_runtime_dir(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_template(x, v, &x->c->runtime_dir, err);
}
static int set_store(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_template(x, v, &x->c->store, err);
}
static int set_site_stores(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, true, &x->c->site_stores, err);
}

static int get_int(struct ctx *x, json_t *v, int min, int max, int *out, struct launch_error **err)
{
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be an integer from %d to %d", x->key, min,
					    max);
	*out = (int)json_integer_value(v);
	return 0;
}

static int set_fuse_threads(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_int(x, v, 1, 256, &x->c->fuse_threads, err);
}
static int set_pull_retries(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_int(x, v, 0, 100, &x->c->pull_retries, err);
}
static int set_pull_jobs(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_int(x, v, 1, 64, &x->c->pull_jobs, err);
}
static int set_pull_on_run(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->pull_on_run, err);
}
static int set_hooks_dirs(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, true, &x->c->hooks_dirs, err);
}
static int set_hook_timeout(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_int(x, v, 1, 86400, &x->c->hook_timeout, err);
}
static int set_gpu_auto(struct ctx *x, json_t *v, struct launch_error **err)
{
	return set_bool(x, v, &x->c->gpu_auto, err);
}
static int set_insecure_registries(struct ctx *x, json_t *v, struct launch_error **err)
{
	return get_strv(x, v, false, &x->c->insecure_registries, err);
}
static int set_registry_ca_file(struct ctx *x, json_t *v, struct launch_error **err)
{
	if (!json_is_string(v) || json_string_value(v)[0] != '/')
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be the absolute path of a CA bundle", x->key);
	free(x->c->registry_ca_file);
	x->c->registry_ca_file = xstrdup(json_string_value(v));
	return 0;
}

static const struct key {
	const char *name;
	int (*set)(struct ctx *x, json_t *v, struct launch_error **err);
} keys[] = {
	{ "allow_root", set_allow_root },
	{ "deny_mount_destinations", set_deny_dst },
	{ "deny_mount_sources", set_deny_src },
	{ "env_deny", set_env_deny },
	{ "fuse_threads", set_fuse_threads },
	{ "gpu_auto", set_gpu_auto },
	{ "hook_timeout", set_hook_timeout },
	{ "hooks_dirs", set_hooks_dirs },
	{ "insecure_registries", set_insecure_registries },
	{ "mounts", set_mounts },
	{ "private_tmp", set_private_tmp },
	{ "pull_jobs", set_pull_jobs },
	{ "pull_on_run", set_pull_on_run },
	{ "pull_retries", set_pull_retries },
	{ "registry_ca_file", set_registry_ca_file },
	{ "root_seccomp", set_root_seccomp },
	{ "root_subids", set_root_subids },
	{ "runtime_dir", set_runtime_dir },
	{ "site_stores", set_site_stores },
	{ "store", set_store },
};

int launch_file_check_trusted(const char *path, const struct stat *st, bool or_caller, struct launch_error **err)
{
	if (st->st_uid != 0 && !(or_caller && st->st_uid == getuid()))
		return launch_error_msg(err, "%s must be owned by root (it is owned by uid %u)%s", path, st->st_uid,
					or_caller ? ": hooks run as you" : "");
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return launch_error_msg(err, "%s must not be writable by group or others (run: chmod go-w %s)", path,
					path);
	return 0;
}

static int check_trusted(const char *path, int fd, struct launch_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot stat %s", path);
	return launch_file_check_trusted(path, &st, false, err);
}

int launch_config_load_file(struct launch_config *c, const char *path, unsigned flags, struct launch_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot read site config %s", path);
	if ((flags & LAUNCH_CONFIG_TRUSTED_ONLY) && check_trusted(path, fd, err) < 0)
		return -1;
	char *text = NULL;
	if (launch_read_fd(fd, 1u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read site config %s", path);
	struct launch_json_doc doc;
	if (launch_json_doc_parse(&doc, path, text, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = 0;
	if (!json_is_object(doc.root)) {
		ret = launch_json_error_at(err, &doc, "", "the site config must be a JSON object");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach (doc.root, k, v) {
		_cleanup_free_ char *ptr = launch_json_pointer("", k);
		const struct key *key = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(keys[i].name, k))
				key = &keys[i];
		if (!key) {
			if (k[0] == '_' || !strcmp(k, "comment"))
				continue; /* room for comments in a format that has none */
			ret = launch_json_error_at(err, &doc, ptr, "unknown key \"%s\"", k);
			goto out;
		}
		struct ctx x = { c, &doc, k, ptr };
		if (key->set(&x, v, err) < 0) {
			ret = -1;
			goto out;
		}
	}
	free(c->path);
	c->path = xstrdup(path);
out:
	launch_json_doc_clear(&doc);
	return ret;
}

int launch_config_load(struct launch_config *c, unsigned flags, struct launch_error **err)
{
	const char *env = (flags & LAUNCH_CONFIG_HONOR_ENV) ? getenv("LAUNCH_CONFIG") : NULL;
	if (env && *env)
		return launch_config_load_file(c, env, flags, err);
	const char *path = launch_config_default_path();
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	return launch_config_load_file(c, path, flags, err);
}
