/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration: one table of keys, each with its type, its field and
 * whether users may set it, parses the site file and the user's own file,
 * so that unknown keys, wrong types, policy keys in the user's file and keys
 * the site locked are all reported at FILE:LINE:COLUMN the same way. Each
 * value keeps the FILE:LINE it came from, for `launch config --show-origin`.
 *
 * Layers, later ones winning: launch_config_init (the only defaults), the
 * site file, the user's file. Lists replace what was before them, except
 * "mounts" and "env", which the files add up: the site's mounts and the
 * user's are kept apart (the user's go through the deny lists, as -m mounts
 * do), and a user's variable replaces the site's of the same name. The
 * environment and the command line come after these, in paths.c and the
 * front ends. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "jsonpos.h"
#include "paths.h"
#include "util.h"

#ifndef LAUNCH_SYSCONFDIR
#define LAUNCH_SYSCONFDIR "/etc/launch"
#endif

const char *launch_config_default_path(void)
{
	return LAUNCH_SYSCONFDIR "/launch.json";
}

void launch_config_init(struct launch_config *c)
{
	memset(c, 0, sizeof(*c));
	c->allow_root = true;
	c->root_subids = true;
	c->root_seccomp = true;
	c->pull_on_run = true;
	c->pull_retries = 6;
	c->pull_jobs = 4;
	c->blob_cache_max = LAUNCH_BLOB_CACHE_DEFAULT;
	c->fuse_threads = 8;
	c->image_server_linger = 60;
	c->hook_timeout = 60;
	c->hooks_dirs = xcalloc(2, sizeof(char *));
	c->hooks_dirs[0] = xstrdup(LAUNCH_SYSCONFDIR "/hooks.d");
}

enum type {
	T_BOOL,
	T_INT,	    /* from min to max */
	T_SIZE,	    /* bytes: an integer, "NUMBER[K|M|G|T]" (powers of 1024), or "unlimited" (-1) */
	T_STRINGS,  /* an array of strings */
	T_PATHS,    /* an array of absolute paths, normalised */
	T_TEMPLATE, /* an absolute path or a $VARIABLE template (paths.h) */
	T_CA_FILE,  /* the absolute path of a CA bundle */
	T_REGISTRY, /* HOST[:PORT] of a registry */
	T_MOUNTS,   /* short mount specs with an absolute host path */
	T_ENV,	    /* NAME=VALUE */
	T_LOCKED,   /* names of keys users may set */
};

#define FIELD(f) offsetof(struct launch_config, f)

/* Users may set the keys marked USER in their own file; the others are the
 * site's policy. Sorted by name: `launch config` lists them in this order. */
static const struct key {
	const char *name;
	enum type type;
	size_t off;
	bool user;
	int min, max;
} keys[] = {
	{ "allow_root", T_BOOL, FIELD(allow_root), false, 0, 0 },
	{ "blob_cache_max", T_SIZE, FIELD(blob_cache_max), true, 0, 0 },
	{ "default_registry", T_REGISTRY, FIELD(default_registry), true, 0, 0 },
	{ "deny_mount_destinations", T_PATHS, FIELD(deny_mount_destinations), false, 0, 0 },
	{ "deny_mount_sources", T_PATHS, FIELD(deny_mount_sources), false, 0, 0 },
	{ "env", T_ENV, FIELD(env), true, 0, 0 },
	{ "env_deny", T_STRINGS, FIELD(env_deny), false, 0, 0 },
	{ "fuse_threads", T_INT, FIELD(fuse_threads), true, 1, 256 },
	{ "gpu_auto", T_BOOL, FIELD(gpu_auto), true, 0, 0 },
	{ "hook_timeout", T_INT, FIELD(hook_timeout), false, 1, 86400 },
	{ "hooks_dirs", T_PATHS, FIELD(hooks_dirs), false, 0, 0 },
	{ "image_server_linger", T_INT, FIELD(image_server_linger), true, 0, 86400 },
	{ "insecure_registries", T_STRINGS, FIELD(insecure_registries), false, 0, 0 },
	{ "locked", T_LOCKED, FIELD(locked), false, 0, 0 },
	{ "mounts", T_MOUNTS, FIELD(mounts), true, 0, 0 },
	{ "private_tmp", T_BOOL, FIELD(private_tmp), true, 0, 0 },
	{ "pull_by_name", T_BOOL, FIELD(pull_by_name), true, 0, 0 },
	{ "pull_jobs", T_INT, FIELD(pull_jobs), true, 1, 64 },
	{ "pull_on_run", T_BOOL, FIELD(pull_on_run), true, 0, 0 },
	{ "pull_retries", T_INT, FIELD(pull_retries), true, 0, 100 },
	{ "registry_ca_file", T_CA_FILE, FIELD(registry_ca_file), false, 0, 0 },
	{ "root_seccomp", T_BOOL, FIELD(root_seccomp), false, 0, 0 },
	{ "root_subids", T_BOOL, FIELD(root_subids), false, 0, 0 },
	{ "runtime_dir", T_TEMPLATE, FIELD(runtime_dir), false, 0, 0 },
	{ "site_stores", T_PATHS, FIELD(site_stores), false, 0, 0 },
	{ "store", T_TEMPLATE, FIELD(store), true, 0, 0 },
	{ "strict_requests", T_BOOL, FIELD(strict_requests), false, 0, 0 },
};

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

bool launch_config_key_known(const char *key)
{
	return find_key(key) != NULL;
}

bool launch_config_key_user(const char *key)
{
	const struct key *k = find_key(key);
	return k && k->user;
}

const char *launch_config_origin(const struct launch_config *c, const char *key)
{
	const struct key *k = find_key(key);
	return k && c->origins.key ? c->origins.key[k - keys] : NULL;
}

void launch_config_clear(struct launch_config *c)
{
	free(c->path);
	free(c->user_path);
	launch_mounts_clear(&c->mounts);
	launch_mounts_clear(&c->user_mounts);
	launch_strv_free(c->env);
	launch_strv_free(c->locked);
	launch_strv_free(c->deny_mount_sources);
	launch_strv_free(c->deny_mount_destinations);
	free(c->runtime_dir);
	launch_strv_free(c->env_deny);
	free(c->store);
	launch_strv_free(c->site_stores);
	free(c->registry_ca_file);
	free(c->default_registry);
	launch_strv_free(c->insecure_registries);
	launch_strv_free(c->hooks_dirs);
	if (c->origins.key)
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			free(c->origins.key[i]);
	free(c->origins.key);
	launch_strv_free(c->origins.mounts);
	launch_strv_free(c->origins.user_mounts);
	launch_strv_free(c->origins.env);
	memset(c, 0, sizeof(*c));
}

struct ctx {
	struct launch_config *c;
	const struct launch_json_doc *doc;
	const struct key *key;
	const char *ptr; /* "/key" */
	bool user;	 /* the user's file */
};

/* "FILE:LINE" of the value at POINTER. */
static char *where(const struct ctx *x, const char *pointer)
{
	int line, col;
	if (launch_json_locate(x->doc->text, pointer, &line, &col) < 0)
		return xstrdup(x->doc->path);
	return xasprintf("%s:%d", x->doc->path, line);
}

static const char *site_path(const struct launch_config *c)
{
	return c->path ? c->path : launch_config_default_path();
}

static int get_strv(struct ctx *x, json_t *v, bool abs_paths, char ***out, struct launch_error **err)
{
	_cleanup_free_ char *what = xasprintf("\"%s\"", x->key->name);
	return launch_json_get_strv(x->doc, v, x->ptr, what, abs_paths ? LAUNCH_JSON_ABS_PATHS : 0, out, err);
}

static int set_mounts(struct ctx *x, json_t *v, struct launch_error **err)
{
	_cleanup_strv_ char **specs = NULL;
	if (get_strv(x, v, false, &specs, err) < 0)
		return -1;
	struct launch_mounts *ms = x->user ? &x->c->user_mounts : &x->c->mounts;
	char ***origins = x->user ? &x->c->origins.user_mounts : &x->c->origins.mounts;
	for (size_t i = 0; specs[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
		struct launch_mount m;
		/* a relative host path would depend on the directory of each run */
		const char *name = specs[i];
		bool special = !strncmp(name, "tmpfs", 5)    ? name[5] == ':' || !name[5]
			       : !strncmp(name, "umount", 6) ? name[6] == ':' || !name[6]
							     : false;
		if (name[0] != '/' && !special)
			return launch_json_error_at(err, x->doc, p,
						    "%s `%s` must start with an absolute host path (or be "
						    "tmpfs:DST or umount:DST)",
						    x->user ? "mount" : "site mount", name);
		struct launch_error *e = NULL;
		if (launch_mountspec_parse_short(name, &m, &e) < 0) {
			launch_json_error_at(err, x->doc, p, "%s", e->msg);
			launch_error_free(e);
			return -1;
		}
		launch_mounts_push(ms, &m);
		launch_strv_push(origins, where(x, p));
	}
	return 0;
}

/* The files add up: a later NAME replaces an earlier one where it stood. */
static int set_env(struct ctx *x, json_t *v, struct launch_error **err)
{
	_cleanup_strv_ char **vars = NULL;
	if (get_strv(x, v, false, &vars, err) < 0)
		return -1;
	struct launch_config *c = x->c;
	for (size_t i = 0; vars[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
		const char *eq = strchr(vars[i], '=');
		if (!eq || !launch_env_name_valid(vars[i], (size_t)(eq - vars[i])))
			return launch_json_error_at(err, x->doc, p,
						    "\"env\" entry `%s` must be NAME=VALUE, with a NAME of letters, "
						    "digits and _ that does not start with a digit",
						    vars[i]);
		size_t len = (size_t)(eq - vars[i]) + 1, k = 0;
		while (c->env && c->env[k] && strncmp(c->env[k], vars[i], len) != 0)
			k++;
		if (c->env && c->env[k]) {
			free(c->env[k]);
			c->env[k] = xstrdup(vars[i]);
			free(c->origins.env[k]);
			c->origins.env[k] = where(x, p);
		} else {
			launch_strv_push(&c->env, xstrdup(vars[i]));
			launch_strv_push(&c->origins.env, where(x, p));
		}
	}
	return 0;
}

static int set_locked(struct ctx *x, json_t *v, char ***out, struct launch_error **err)
{
	_cleanup_strv_ char **names = NULL;
	if (get_strv(x, v, false, &names, err) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%zu", x->ptr, i);
		const struct key *k = find_key(names[i]);
		if (!k)
			return launch_json_error_at(err, x->doc, p, "\"locked\" names an unknown key \"%s\"", names[i]);
		if (!k->user) {
			_cleanup_free_ char *user_keys = NULL;
			for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
				if (!keys[j].user)
					continue;
				char *s = xasprintf("%s%s%s", user_keys ? user_keys : "", user_keys ? ", " : "",
						    keys[j].name);
				free(user_keys);
				user_keys = s;
			}
			return launch_json_error_at(err, x->doc, p,
						    "\"locked\" names \"%s\", which users cannot set anyway: it "
						    "lists keys of theirs (%s)",
						    names[i], user_keys);
		}
	}
	launch_strv_free(*out);
	*out = steal_pointer(&names);
	return 0;
}

static int set_template(struct ctx *x, json_t *v, char **out, struct launch_error **err)
{
	if (!json_is_string(v))
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be a string, not %s", x->key->name,
					    launch_json_type_name(v));
	const char *s = json_string_value(v);
	if (s[0] != '/' && s[0] != '$')
		return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be an absolute path, not `%s`",
					    x->key->name, s);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

int launch_config_parse_size(const char *s, int64_t *out)
{
	if (!strcmp(s, "unlimited")) {
		*out = -1;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	static const char units[] = "KMGT";
	int shift = 0;
	if (*end) {
		const char *u = strchr(units, *end >= 'a' ? *end - 32 : *end);
		if (!u || !*u)
			return -1;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || n > ((unsigned long long)INT64_MAX >> shift))
		return -1;
	*out = (int64_t)(n << shift);
	return 0;
}

char *launch_config_size_text(int64_t n)
{
	if (n < 0)
		return xstrdup("unlimited");
	static const char units[] = "KMGT";
	for (int i = 3; i >= 0; i--) {
		int shift = 10 * (i + 1);
		if (n && n % ((int64_t)1 << shift) == 0)
			return xasprintf("%lld%c", (long long)(n >> shift), units[i]);
	}
	return xasprintf("%lld", (long long)n);
}

static int set_value(struct ctx *x, json_t *v, struct launch_error **err)
{
	const struct key *k = x->key;
	void *field = (char *)x->c + k->off;
	switch (k->type) {
	case T_BOOL:
		if (!json_is_boolean(v))
			return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be true or false, not %s",
						    k->name, launch_json_type_name(v));
		*(bool *)field = json_is_true(v);
		return 0;
	case T_INT:
		if (!json_is_integer(v) || json_integer_value(v) < k->min || json_integer_value(v) > k->max)
			return launch_json_error_at(err, x->doc, x->ptr, "\"%s\" must be an integer from %d to %d",
						    k->name, k->min, k->max);
		*(int *)field = (int)json_integer_value(v);
		return 0;
	case T_SIZE: {
		int64_t n = 0;
		bool ok = json_is_integer(v)
				  ? (n = json_integer_value(v)) >= 0
				  : json_is_string(v) && launch_config_parse_size(json_string_value(v), &n) == 0;
		if (!ok)
			return launch_json_error_at(err, x->doc, x->ptr,
						    "\"%s\" must be a size: bytes, or a string such as \"500M\", "
						    "\"10G\" (K, M, G, T: powers of 1024) or \"unlimited\"",
						    k->name);
		*(int64_t *)field = n;
		return 0;
	}
	case T_STRINGS:
	case T_PATHS: {
		char **r = NULL;
		if (get_strv(x, v, k->type == T_PATHS, &r, err) < 0)
			return -1;
		launch_strv_free(*(char ***)field);
		*(char ***)field = r;
		return 0;
	}
	case T_TEMPLATE:
		return set_template(x, v, field, err);
	case T_CA_FILE:
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return launch_json_error_at(err, x->doc, x->ptr,
						    "\"%s\" must be the absolute path of a CA bundle", k->name);
		free(*(char **)field);
		*(char **)field = xstrdup(json_string_value(v));
		return 0;
	case T_REGISTRY: {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (!s || !*s || strlen(s) > 255 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(s))
			return launch_json_error_at(err, x->doc, x->ptr,
						    "\"%s\" must be a registry's HOST or HOST:PORT (e.g. \"nvcr.io\"), "
						    "without docker:// or a path",
						    k->name);
		free(*(char **)field);
		*(char **)field = xstrdup(s);
		return 0;
	}
	case T_MOUNTS:
		return set_mounts(x, v, err);
	case T_ENV:
		return set_env(x, v, err);
	case T_LOCKED:
		return set_locked(x, v, field, err);
	}
	return 0;
}

/* Whether the user's file may set KEY: only keys of the users, and not
 * those the site locked, explicitly or (store) by setting them. */
static int user_may_set(struct ctx *x, struct launch_error **err)
{
	const struct launch_config *c = x->c;
	const char *name = x->key->name;
	if (!x->key->user)
		return launch_json_error_at(err, x->doc, x->ptr,
					    "\"%s\" is site policy: only the site config (%s) can set it", name,
					    site_path(c));
	for (size_t i = 0; c->locked && c->locked[i]; i++)
		if (!strcmp(c->locked[i], name))
			return launch_json_error_at(err, x->doc, x->ptr,
						    "\"%s\" is locked by the site config %s (its \"locked\" "
						    "list): only the site can set it",
						    name, site_path(c));
	/* A site that chooses the stores (quotas, backups) means it for
	 * everyone. */
	if (!strcmp(name, "store") && c->store)
		return launch_json_error_at(err, x->doc, x->ptr,
					    "\"store\" is set by the site config %s, which keeps users' images "
					    "there: only the site can change it",
					    site_path(c));
	return 0;
}

static void record_origin(struct ctx *x)
{
	struct launch_config *c = x->c;
	size_t i = (size_t)(x->key - keys);
	if (!c->origins.key)
		c->origins.key = xcalloc(ARRAY_SIZE(keys), sizeof(char *));
	free(c->origins.key[i]);
	c->origins.key[i] = where(x, x->ptr);
}

int launch_file_check_trusted(const char *path, const struct stat *st, bool or_caller, struct launch_error **err)
{
	if (st->st_uid != 0 && !(or_caller && st->st_uid == getuid()))
		return launch_error_msg(err, "%s must be owned by root%s (it is owned by uid %u)", path,
					or_caller ? " or by you" : "", st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return launch_error_msg(err, "%s must not be writable by group or others (run: chmod go-w %s)", path,
					path);
	return 0;
}

/* Open PATH as the site's file or the user's. Returns the fd; -1 with no
 * error set when the file does not exist and MISSING_OK says so. */
static int open_config(const char *path, bool user, unsigned flags, bool missing_ok, struct launch_error **err)
{
	const char *what = user ? "user config" : "site config";
	/* O_NONBLOCK: a FIFO put in place of the user's file must not hang
	 * every launch; the site's file is root's business. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (user ? O_NONBLOCK : 0));
	if (fd < 0) {
		if (missing_ok && (errno == ENOENT || errno == ENOTDIR))
			return -1;
		return launch_error_set(err, errno, "cannot read %s %s%s", what, path,
					errno == ELOOP ? " (a symbolic link: launch does not follow it)" : "");
	}
	if (!user && !(flags & LAUNCH_CONFIG_TRUSTED_ONLY))
		return steal_fd(&fd);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot stat %s", path);
	if (user && !S_ISREG(st.st_mode))
		return launch_error_msg(err, "cannot read user config %s: not a regular file", path);
	if (launch_file_check_trusted(path, &st, user, err) < 0)
		return -1;
	return steal_fd(&fd);
}

static int load_layer(struct launch_config *c, const char *path, bool user, unsigned flags, bool missing_ok,
		      struct launch_error **err)
{
	struct launch_error *e = NULL;
	_cleanup_close_ int fd = open_config(path, user, flags, missing_ok, &e);
	if (fd < 0) {
		if (!e)
			return 0; /* no such file: nothing to add */
		*err = e;
		return -1;
	}
	char *text = NULL;
	if (launch_read_fd(fd, 1u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read %s config %s", user ? "user" : "site", path);
	struct launch_json_doc doc;
	if (launch_json_doc_parse(&doc, path, text, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = 0;
	if (!json_is_object(doc.root)) {
		ret = launch_json_error_at(err, &doc, "", "the %s config must be a JSON object",
					   user ? "user" : "site");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach (doc.root, k, v) {
		_cleanup_free_ char *ptr = launch_json_pointer("", k);
		struct ctx x = { c, &doc, find_key(k), ptr, user };
		if (!x.key) {
			if (k[0] == '_' || !strcmp(k, "comment"))
				continue; /* room for comments in a format that has none */
			ret = launch_json_error_at(err, &doc, ptr, "unknown key \"%s\"", k);
			goto out;
		}
		if ((user && user_may_set(&x, err) < 0) || set_value(&x, v, err) < 0) {
			ret = -1;
			goto out;
		}
		record_origin(&x);
	}
	char **slot = user ? &c->user_path : &c->path;
	free(*slot);
	*slot = xstrdup(path);
out:
	launch_json_doc_clear(&doc);
	return ret;
}

int launch_config_load_file(struct launch_config *c, const char *path, unsigned flags, struct launch_error **err)
{
	return load_layer(c, path, false, flags, false, err);
}

int launch_config_load_user_file(struct launch_config *c, const char *path, struct launch_error **err)
{
	return load_layer(c, path, true, 0, false, err);
}

int launch_config_load(struct launch_config *c, unsigned flags, struct launch_error **err)
{
	const char *env = (flags & LAUNCH_CONFIG_HONOR_ENV) ? getenv("LAUNCH_CONFIG") : NULL;
	const char *path = launch_config_default_path();
	if (env && *env) {
		if (launch_config_load_file(c, env, flags, err) < 0)
			return -1;
	} else if (!(access(path, F_OK) < 0 && errno == ENOENT)) {
		if (launch_config_load_file(c, path, flags, err) < 0)
			return -1;
	}
	/* The user's file only for a process acting as itself: never in the
	 * SPANK plugin (TRUSTED_ONLY, root acting for the job's user), never
	 * with ids that differ. */
	if (!(flags & LAUNCH_CONFIG_HONOR_ENV) || (flags & LAUNCH_CONFIG_TRUSTED_ONLY) || getuid() != geteuid())
		return 0;
	_cleanup_free_ char *user = launch_user_config_path();
	if (!user || (c->path && !strcmp(user, c->path)))
		return 0;
	return load_layer(c, user, true, flags, true, err);
}

void launch_config_run_args(const struct launch_config *c, struct launch_mounts *mounts, char ***env_args)
{
	struct launch_mounts all = { NULL, 0 };
	for (size_t i = 0; i < c->user_mounts.n; i++) {
		struct launch_mount m;
		launch_mount_copy(&m, &c->user_mounts.v[i]);
		launch_mounts_push(&all, &m);
	}
	for (size_t i = 0; i < mounts->n; i++)
		launch_mounts_push(&all, &mounts->v[i]);
	free(mounts->v);
	*mounts = all;
	for (size_t i = 0; c->env && c->env[i]; i++)
		launch_strv_push(env_args, xasprintf("c:%s", c->env[i]));
}

/* ---- the effective configuration ----------------------------------------- */

static void push_item(struct launch_config_items *it, const char *key, json_t *value, bool list, const char *origin)
{
	it->v = xrealloc(it->v, (it->n + 1) * sizeof(*it->v));
	it->v[it->n++] = (struct launch_config_item){ key, value, list, xstrdup(origin ? origin : "built-in") };
}

/* As it was written, give or take defaults and normalisation: the config
 * takes the short form only, which always has a short form back. */
static char *mount_text(const struct launch_mount *m)
{
	bool is_long;
	char *s = launch_mountspec_format(m, &is_long);
	return s ? s : xstrdup(m->destination);
}

static void push_mounts(struct launch_config_items *it, const struct launch_mounts *ms, char *const *origins)
{
	for (size_t i = 0; i < ms->n; i++) {
		_cleanup_free_ char *s = mount_text(&ms->v[i]);
		push_item(it, "mounts", json_string(s), true, origins ? origins[i] : NULL);
	}
}

/* runtime_dir and store: the directory, with the variable it came from. */
static int push_dir(const struct launch_config *c, const struct key *k, struct launch_config_items *it,
		    struct launch_error **err)
{
	_cleanup_free_ char *dir = NULL, *env_origin = NULL;
	const char *env_name = NULL;
	int r = !strcmp(k->name, "store") ? launch_store_dir_pick(c, &dir, &env_name, err)
					  : launch_runtime_dir_pick(c, &dir, &env_name, NULL, err);
	if (r < 0)
		return -1;
	if (env_name)
		env_origin = xasprintf("env %s", env_name);
	push_item(it, k->name, json_string(dir), false,
		  env_origin	   ? env_origin
		  : c->origins.key ? c->origins.key[k - keys]
				   : NULL);
	return 0;
}

int launch_config_items(const struct launch_config *c, struct launch_config_items *out, struct launch_error **err)
{
	struct launch_config_items it = { NULL, 0 };
	for (const struct key *k = keys; k < keys + ARRAY_SIZE(keys); k++) {
		const void *field = (const char *)c + k->off;
		const char *origin = c->origins.key ? c->origins.key[k - keys] : NULL;
		size_t before = it.n;
		switch (k->type) {
		case T_BOOL:
			push_item(&it, k->name, json_boolean(*(const bool *)field), false, origin);
			break;
		case T_INT:
			push_item(&it, k->name, json_integer(*(const int *)field), false, origin);
			break;
		case T_SIZE: {
			_cleanup_free_ char *text = launch_config_size_text(*(const int64_t *)field);
			push_item(&it, k->name, json_string(text), false, origin);
			break;
		}
		case T_STRINGS:
		case T_PATHS:
		case T_LOCKED:
		case T_ENV: {
			char *const *v = *(char **const *)field;
			for (size_t i = 0; v && v[i]; i++)
				push_item(&it, k->name, json_string(v[i]), true,
					  k->type == T_ENV ? c->origins.env[i] : origin);
			break;
		}
		case T_TEMPLATE:
			if (push_dir(c, k, &it, err) < 0) {
				launch_config_items_clear(&it);
				return -1;
			}
			break;
		case T_CA_FILE:
		case T_REGISTRY: {
			const char *s = *(char *const *)field;
			push_item(&it, k->name, s ? json_string(s) : NULL, false, origin);
			break;
		}
		case T_MOUNTS:
			push_mounts(&it, &c->mounts, c->origins.mounts);
			push_mounts(&it, &c->user_mounts, c->origins.user_mounts);
			break;
		}
		if (it.n == before) /* an empty list */
			push_item(&it, k->name, NULL, true, origin);
	}
	*out = it;
	return 0;
}

void launch_config_items_clear(struct launch_config_items *items)
{
	for (size_t i = 0; i < items->n; i++) {
		json_decref(items->v[i].value);
		free(items->v[i].origin);
	}
	free(items->v);
	items->v = NULL;
	items->n = 0;
}
