/* SPDX-License-Identifier: Apache-2.0 */
/* launch build (see build.h). The steps of each stage run in order; a step
 * whose key has a cache entry is taken from it ("--> CACHED") and costs a
 * file read, so a rebuild with nothing changed hashes the context and
 * reads the entries, and runs nothing.
 *
 * Why a squashfs file per changing step, as launch commit makes one, and
 * not a chain of overlay upper directories (buildah's layers, or
 * ch-image's directory trees under git): a RUN step must see its parent
 * as one tree, and launch runs squashfs images; a chain of uppers would
 * need many lower layers in the container code and, with subordinate ids,
 * files the user cannot read back outside the namespace in every cached
 * layer. Flattening once per step costs a sqfs2tar and a tar2sqfs pass over
 * the tree (seconds for a Debian image, small next to apt-get), and a
 * cached rebuild then needs nothing but the last step's file. */
#define _GNU_SOURCE
#include "build.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "container.h"
#include "containerfile.h"
#include "digest.h"
#include "ids.h"
#include "image.h"
#include "layer.h"
#include "log.h"
#include "proc.h"
#include "sqfs.h"
#include "sqfswrite.h"
#include "store.h"
#include "upper.h"
#include "util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct stage {
	char *name; /* AS NAME, lower case, or NULL */
	char key[LAUNCH_DIGEST_LEN + 1];
	char *fs; /* the tree so far (NULL: empty, FROM scratch) */
	json_t *config;
	char **args; /* the ARGs declared so far: NAME=VALUE, or NAME when unset */
	bool cmd_set;
	size_t first, end; /* its instructions: [first, end) */
};

struct build {
	const struct launch_config *c;
	const struct launch_build_opts *o;
	struct launch_containerfile cf;
	struct launch_ignore ig;
	struct launch_store *stores;
	size_t n_stores;
	char *context;
	char *cache; /* STORE/build-cache */
	int cache_lock;
	char *launch; /* the launch program, for RUN */
	char **global_args;
	struct stage *st;
	size_t n_st, target;
	size_t step, steps;
	size_t cur; /* the instruction being built */
	bool progress;
};

/* --- messages --- */

static int step_error(struct build *b, const struct launch_cf_instr *in, struct launch_error **err)
{
	return launch_error_wrap(err, "%s:%d: %s", b->cf.name, in->line, in->cmd);
}

static int step_msg(struct build *b, const struct launch_cf_instr *in, struct launch_error **err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int step_msg(struct build *b, const struct launch_cf_instr *in, struct launch_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	return launch_error_msg(err, "%s:%d: %s: %s", b->cf.name, in->line, in->cmd, m);
}

static void say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct build *b, const char *fmt, ...)
{
	if (!b->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- variables --- */

/* NAME=VALUE into *V, replacing NAME's entry. */
static void strv_set(char ***v, const char *name, const char *value)
{
	size_t n = strlen(name);
	char *e = value ? xasprintf("%s=%s", name, value) : xstrdup(name);
	for (size_t i = 0; *v && (*v)[i]; i++)
		if (!strncmp((*v)[i], name, n) && ((*v)[i][n] == '=' || !(*v)[i][n])) {
			free((*v)[i]);
			(*v)[i] = e;
			return;
		}
	launch_strv_push(v, e);
}

struct vars {
	json_t *env; /* the config's Env, or NULL */
	char **args;
};

static const char *lookup(void *arg, const char *name)
{
	struct vars *v = arg;
	size_t n = strlen(name);
	json_t *e;
	size_t i;
	json_array_foreach (v->env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return launch_strv_value(v->args, name);
}

/* The words of I's arguments, substituted with stage S's variables (S
 * NULL: the global ARGs). SPLIT as for launch_cf_words. */
static char **words(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *text, bool split,
		    struct launch_error **err)
{
	struct vars v = { s ? json_object_get(s->config, "Env") : NULL, s ? s->args : b->global_args };
	char **w = launch_cf_words(text, b->cf.escape, lookup, &v, split, err);
	if (!w)
		step_error(b, in, err);
	return w;
}

static char *word(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *text,
		  struct launch_error **err)
{
	char **w = words(b, s, in, text, false, err);
	if (!w)
		return NULL;
	char *one = steal_pointer(&w[0]);
	launch_strv_free(w);
	return one;
}

/* The value an ARG NAME[=DEFAULT] gets: --build-arg, else its default,
 * else (in a stage) the global ARG's value. */
static char *arg_value(struct build *b, const char *name, const char *dflt, bool global)
{
	size_t n = strlen(name);
	for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
		const char *a = b->o->build_args[i];
		if (!strncmp(a, name, n) && a[n] == '=')
			return xstrdup(a + n + 1);
		if (!strcmp(a, name) && getenv(name))
			return xstrdup(getenv(name));
	}
	if (dflt)
		return xstrdup(dflt);
	const char *g = global ? NULL : launch_strv_value(b->global_args, name);
	return g ? xstrdup(g) : NULL;
}

/* ARG NAME[=DEFAULT]...: into stage S's ARGs, or the global ones (S NULL). */
static int declare_args(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct launch_error **err)
{
	_cleanup_strv_ char **w = words(b, s, in, in->args, true, err);
	if (!w)
		return -1;
	for (size_t i = 0; w[i]; i++) {
		char *eq = strchr(w[i], '=');
		if (eq)
			*eq++ = '\0';
		_cleanup_free_ char *v = arg_value(b, w[i], eq, !s);
		strv_set(s ? &s->args : &b->global_args, w[i], v);
	}
	return 0;
}

/* --- keys and the cache --- */

/* The key of a step: its parent's, the instruction, the ARGs it sees and
 * EXTRA (a COPY's content digest). */
static void step_key(const struct stage *s, const char *instr, const char *extra, char *out)
{
	struct launch_sha256 *h = launch_sha256_new();
	launch_sha256_update(h, s->key, strlen(s->key));
	launch_sha256_update(h, "\n", 1);
	launch_sha256_update(h, instr, strlen(instr) + 1);
	for (size_t i = 0; s->args && s->args[i]; i++)
		launch_sha256_update(h, s->args[i], strlen(s->args[i]) + 1);
	if (extra)
		launch_sha256_update(h, extra, strlen(extra));
	launch_sha256_final(h, out);
	launch_sha256_free(h);
}

static char *entry_path(struct build *b, const char *key)
{
	return xasprintf("%s/%s.json", b->cache, key + 7);
}

static char *fs_path(struct build *b, const char *key)
{
	return xasprintf("%s/fs/%s.sqfs", b->cache, key + 7);
}

/* The cached result of step KEY into S: 1, or 0 when there is none. */
static int cache_get(struct build *b, struct stage *s, const char *key)
{
	if (b->o->no_cache)
		return 0;
	_cleanup_free_ char *p = entry_path(b, key);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		return 0;
	json_t *fs = json_object_get(j, "fs"), *cfg = json_object_get(j, "config");
	const char *f = json_string_value(fs);
	char *file = !f ? NULL : f[0] == '/' ? xstrdup(f) : xasprintf("%s/%s", b->cache, f);
	if (!json_is_object(cfg) || (file && access(file, R_OK) < 0)) {
		free(file);
		json_decref(j);
		return 0;
	}
	free(s->fs);
	s->fs = file;
	json_decref(s->config);
	s->config = json_incref(cfg);
	json_decref(j);
	memcpy(s->key, key, sizeof(s->key));
	/* a later prune of the cache (another build's) goes by age */
	utimensat(AT_FDCWD, p, NULL, 0);
	return 1;
}

/* Record S's state as step KEY's result. */
static int cache_put(struct build *b, struct stage *s, const char *key, struct launch_error **err)
{
	/* a file of the cache by its name there, a base image's by its path */
	size_t n = strlen(b->cache);
	const char *rel = s->fs && !strncmp(s->fs, b->cache, n) && s->fs[n] == '/' ? s->fs + n + 1 : s->fs;
	json_t *j = json_pack("{s:s?, s:O}", "fs", rel, "config", s->config);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	_cleanup_free_ char *p = entry_path(b, key);
	int r = launch_write_file_atomic(p, text, strlen(text), 0600);
	free(text);
	if (r < 0)
		return launch_error_set(err, errno, "cannot write the build cache entry %s", p);
	memcpy(s->key, key, sizeof(s->key));
	return 0;
}

/* --- the stage's tree --- */

/* Does PATH (absolute) exist in S's tree? */
static bool fs_has(struct stage *s, const char *path)
{
	if (!s->fs)
		return false;
	if (!strcmp(path, "/"))
		return true;
	_cleanup_free_ char *d = xstrdup(path), *f = xstrdup(path);
	char **names = NULL;
	if (launch_sqfs_list_dir(s->fs, 0, dirname(d), &names, NULL) != 0) {
		launch_strv_free(names);
		return false;
	}
	const char *base = basename(f);
	bool found = false;
	for (size_t i = 0; names && names[i] && !found; i++)
		found = !strcmp(names[i], base);
	launch_strv_free(names);
	return found;
}

/* Is PATH (absolute) a directory of S's tree? */
static bool fs_is_dir(struct stage *s, const char *path)
{
	char **names = NULL;
	/* 1: missing, or not a directory */
	int r = s->fs ? launch_sqfs_list_dir(s->fs, 0, path, &names, NULL) : -1;
	launch_strv_free(names);
	return r == 0;
}

/* The compression of the step being built: the user's (or the import
 * default) for the last step that writes the target's tree, whose file
 * becomes the image; zstd level 1 for the steps before it, whose files only
 * the next step reads (about 0.7 s less per step on a Debian tree, 2 CPUs),
 * unless --compressor chose one for all. */
static const char *step_compressor(const struct build *b, const struct stage *s)
{
	if (b->o->compressor)
		return b->o->compressor;
	if (s != &b->st[b->target])
		return "zstd:1";
	for (size_t i = b->cur + 1; i < s->end; i++) {
		const char *c = b->cf.v[i].cmd;
		if (!strcmp(c, "RUN") || !strcmp(c, "COPY") || !strcmp(c, "ADD") || !strcmp(c, "WORKDIR"))
			return "zstd:1";
	}
	return NULL;
}

/* S's tree with the layer tar LAYER over it, into step KEY's file. */
static int apply_layer(struct build *b, struct stage *s, const char *layer, const char *key, struct launch_error **err)
{
	_cleanup_free_ char *out = fs_path(b, key);
	struct launch_commit_opts co = {
		.image = s->fs, .layer = layer, .output = out, .compressor = step_compressor(b, s)
	};
	if (launch_commit(b->c, &co, NULL, err) < 0)
		return -1;
	free(s->fs);
	s->fs = steal_pointer(&out);
	return 0;
}

/* A new temporary name in the cache's tmp/ (a directory with DIR). */
static char *cache_tmp(struct build *b, const char *prefix, bool dir, struct launch_error **err)
{
	char *p = xasprintf("%s/tmp/%s-XXXXXX", b->cache, prefix);
	int fd = dir ? (mkdtemp(p) ? 0 : -1) : mkostemp(p, O_CLOEXEC);
	if (fd < 0) {
		launch_error_set(err, errno, "cannot create a temporary in %s/tmp", b->cache);
		free(p);
		return NULL;
	}
	if (!dir)
		close(fd);
	return p;
}

static int rm_child(void *arg, int report)
{
	const char *dir = arg;
	launch_fds_close(&report, 1);
	struct launch_identity id;
	struct launch_error *e = NULL;
	launch_identity_init(&id, true, NULL);
	/* the files of another id inside are the user's subordinate ids' on
	 * the host: only a namespace mapped as the container's may remove them */
	if (launch_upper_info_read(dir, &id, &e) == 0 && launch_container_enter_userns(&id, &e) < 0) {
		launch_write_all(report, e->msg, strlen(e->msg));
		return 1;
	}
	launch_remove_tree(dir);
	return 0;
}

/* Remove a RUN step's overlay directory DIR. */
static void remove_overlay(const char *dir)
{
	struct launch_proc_spec spec = { .child = rm_child, .arg = (void *)dir, .what = "removing the RUN layer" };
	struct launch_error *e = NULL;
	if (launch_proc_run(&spec, NULL, 0, &e) != 0 && e)
		launch_warn("cannot remove %s: %s", dir, e->msg);
	launch_error_free(e);
}

/* --- instructions that change only the config --- */

static void env_set(json_t *cfg, const char *name, const char *value)
{
	json_t *env = json_object_get(cfg, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(cfg, "Env", env);
	}
	size_t n = strlen(name), i;
	json_t *e;
	char *entry = xasprintf("%s=%s", name, value);
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, n) && s[n] == '=') {
			json_array_set_new(env, i, json_string(entry));
			free(entry);
			return;
		}
	}
	json_array_append_new(env, json_string(entry));
	free(entry);
}

/* KEY=VALUE pairs (ENV, LABEL), or ENV's old form "KEY VALUE". */
static int pairs(struct build *b, struct stage *s, const struct launch_cf_instr *in, bool label,
		 struct launch_error **err)
{
	_cleanup_strv_ char **w = words(b, s, in, in->args, true, err);
	if (!w)
		return -1;
	if (!w[0])
		return step_msg(b, in, err, "needs KEY=VALUE");
	if (!strchr(w[0], '=')) { /* ENV KEY VALUE... */
		_cleanup_free_ char *value = NULL;
		const char *rest = in->args;
		while (*rest && *rest != ' ' && *rest != '\t')
			rest++;
		value = word(b, s, in, rest + strspn(rest, " \t"), err);
		if (!value)
			return -1;
		if (label)
			json_object_set_new(json_object_get(s->config, "Labels"), w[0], json_string(value));
		else
			env_set(s->config, w[0], value);
		return 0;
	}
	for (size_t i = 0; w[i]; i++) {
		char *eq = strchr(w[i], '=');
		if (!eq || eq == w[i])
			return step_msg(b, in, err, "%s is not KEY=VALUE", w[i]);
		*eq = '\0';
		if (label) {
			if (!json_is_object(json_object_get(s->config, "Labels")))
				json_object_set_new(s->config, "Labels", json_object());
			json_object_set_new(json_object_get(s->config, "Labels"), w[i], json_string(eq + 1));
		} else {
			env_set(s->config, w[i], eq + 1);
		}
	}
	return 0;
}

/* The argv of a CMD, ENTRYPOINT or RUN: the exec form, or the shell form
 * through SHELL (default /bin/sh -c). */
static json_t *command(struct stage *s, const struct launch_cf_instr *in)
{
	if (in->json)
		return launch_json_from_strv(in->json);
	json_t *shell = json_object_get(s->config, "Shell");
	json_t *v = json_is_array(shell) ? json_deep_copy(shell) : json_pack("[s, s]", "/bin/sh", "-c");
	json_array_append_new(v, json_string(in->args));
	return v;
}

/* A set of names (EXPOSE, VOLUME) as the config's object of empty objects. */
static int name_set(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *key,
		    struct launch_error **err)
{
	_cleanup_strv_ char **w = in->json ? launch_strv_copy(in->json) : words(b, s, in, in->args, true, err);
	if (!w)
		return -1;
	json_t *o = json_object_get(s->config, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(s->config, key, o);
	}
	for (size_t i = 0; w[i]; i++) {
		const char *n = w[i];
		_cleanup_free_ char *port =
			!strcmp(key, "ExposedPorts") && !strchr(n, '/') ? xasprintf("%s/tcp", n) : NULL;
		json_object_set_new(o, port ? port : n, json_object());
	}
	return 0;
}

static int config_step(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct launch_error **err)
{
	const char *c = in->cmd;
	if (!strcmp(c, "ENV"))
		return pairs(b, s, in, false, err);
	if (!strcmp(c, "LABEL"))
		return pairs(b, s, in, true, err);
	if (!strcmp(c, "MAINTAINER")) {
		if (!json_is_object(json_object_get(s->config, "Labels")))
			json_object_set_new(s->config, "Labels", json_object());
		json_object_set_new(json_object_get(s->config, "Labels"), "maintainer", json_string(in->args));
		return 0;
	}
	if (!strcmp(c, "USER") || !strcmp(c, "STOPSIGNAL")) {
		char *v = word(b, s, in, in->args, err);
		if (!v)
			return -1;
		json_object_set_new(s->config, !strcmp(c, "USER") ? "User" : "StopSignal", json_string(v));
		free(v);
		return 0;
	}
	if (!strcmp(c, "CMD")) {
		json_object_set_new(s->config, "Cmd", command(s, in));
		s->cmd_set = true;
		return 0;
	}
	if (!strcmp(c, "ENTRYPOINT")) {
		json_object_set_new(s->config, "Entrypoint", command(s, in));
		if (!s->cmd_set) /* as docker: the base image's Cmd was for its own Entrypoint */
			json_object_del(s->config, "Cmd");
		return 0;
	}
	if (!strcmp(c, "SHELL")) {
		if (!in->json || !in->json[0])
			return step_msg(b, in, err, "needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
		json_object_set_new(s->config, "Shell", launch_json_from_strv(in->json));
		return 0;
	}
	if (!strcmp(c, "EXPOSE"))
		return name_set(b, s, in, "ExposedPorts", err);
	if (!strcmp(c, "VOLUME"))
		return name_set(b, s, in, "Volumes", err);
	if (!strcmp(c, "HEALTHCHECK")) {
		json_object_set_new(s->config, "Healthcheck", json_pack("{s:s}", "Test", in->args));
		launch_info("%s:%d: HEALTHCHECK is recorded in the config; launch runs no health checks", b->cf.name,
			    in->line);
		return 0;
	}
	if (!strcmp(c, "ONBUILD")) {
		launch_warn("%s:%d: ONBUILD is ignored", b->cf.name, in->line);
		return 0;
	}
	return step_msg(b, in, err, "not allowed here");
}

/* --- COPY and ADD --- */

/* One file to copy: from the context (HOST) or the layer writer's source. */
struct centry {
	char *host;
	char *dest; /* absolute, in the image */
	struct stat st;
};

struct copyset {
	struct centry *v;
	size_t n;
};

static void copyset_add(struct copyset *cs, const char *host, const char *dest, const struct stat *st)
{
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	cs->v[cs->n++] = (struct centry){ xstrdup(host), launch_path_normalize(dest), *st };
}

static void copyset_clear(struct copyset *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].host);
		free(cs->v[i].dest);
	}
	free(cs->v);
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The tree under context path REL (a directory) into CS under DEST. */
static int add_tree(struct build *b, struct copyset *cs, const char *rel, const char *dest, struct launch_error **err)
{
	_cleanup_free_ char *host = xasprintf("%s/%s", b->context, rel);
	struct dirent **names;
	int n = scandir(host, &names, NULL, cmp_name);
	if (n < 0)
		return launch_error_set(err, errno, "cannot read %s", host);
	int ret = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (ret == 0 && strcmp(nm, ".") && strcmp(nm, "..")) {
			_cleanup_free_ char *r = *rel ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
			_cleanup_free_ char *h = xasprintf("%s/%s", b->context, r);
			_cleanup_free_ char *d = xasprintf("%s/%s", dest, nm);
			struct stat st;
			if (launch_ignore_match(&b->ig, r)) {
				/* nothing */
			} else if (lstat(h, &st) < 0) {
				ret = launch_error_set(err, errno, "cannot read %s", h);
			} else {
				copyset_add(cs, h, d, &st);
				if (S_ISDIR(st.st_mode))
					ret = add_tree(b, cs, r, d, err);
			}
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/* The sources of a COPY or ADD from the context into CS. */
static int context_sources(struct build *b, struct stage *s, const struct launch_cf_instr *in, char **srcs,
			   size_t n_src, const char *dest, bool dest_dir, struct copyset *cs, struct launch_error **err)
{
	for (size_t i = 0; i < n_src; i++) {
		_cleanup_free_ char *abs = xasprintf("/%s", srcs[i]);
		_cleanup_free_ char *norm = launch_path_normalize(abs);
		const char *rel = norm + 1;
		_cleanup_free_ char *pattern = xasprintf("%s/%s", b->context, rel);
		glob_t g = { 0 };
		int gr = strpbrk(rel, "*?[") ? glob(pattern, GLOB_NOSORT, NULL, &g) : GLOB_NOMATCH;
		char *one[] = { pattern, NULL };
		char **found = gr == 0 ? g.gl_pathv : strpbrk(rel, "*?[") ? NULL : one;
		size_t hits = 0;
		for (size_t k = 0; found && found[k]; k++) {
			const char *r = found[k] + strlen(b->context);
			while (*r == '/')
				r++;
			struct stat st;
			if ((*r && launch_ignore_match(&b->ig, r)) || lstat(found[k], &st) < 0)
				continue;
			hits++;
			if (S_ISDIR(st.st_mode)) {
				if (!fs_has(s, dest))
					copyset_add(cs, found[k], dest,
						    &(struct stat){ .st_mode = S_IFDIR | 0755,
								    .st_mtime = st.st_mtime });
				if (add_tree(b, cs, r, dest, err) < 0) {
					globfree(&g);
					return step_error(b, in, err);
				}
			} else {
				_cleanup_free_ char *rc = xstrdup(r);
				_cleanup_free_ char *d =
					dest_dir ? xasprintf("%s/%s", dest, basename(rc)) : xstrdup(dest);
				copyset_add(cs, found[k], d, &st);
			}
		}
		if (gr == 0)
			globfree(&g);
		if (!hits)
			return step_msg(b, in, err, "no such file in the context: %s", srcs[i]);
	}
	return 0;
}

/* The digest of what CS copies: names, modes, sizes, link targets, bytes. */
static int content_digest(struct copyset *cs, char *out, struct launch_error **err)
{
	struct launch_sha256 *h = launch_sha256_new();
	int ret = 0;
	for (size_t i = 0; i < cs->n && ret == 0; i++) {
		const struct centry *e = &cs->v[i];
		char meta[64];
		snprintf(meta, sizeof(meta), "\n%o %lld\n", (unsigned)e->st.st_mode, (long long)e->st.st_size);
		launch_sha256_update(h, e->dest, strlen(e->dest));
		launch_sha256_update(h, meta, strlen(meta));
		if (S_ISLNK(e->st.st_mode)) {
			char t[PATH_MAX];
			ssize_t n = readlink(e->host, t, sizeof(t));
			if (n > 0)
				launch_sha256_update(h, t, (size_t)n);
		} else if (S_ISREG(e->st.st_mode)) {
			_cleanup_close_ int fd = open(e->host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				ret = launch_error_set(err, errno, "cannot read %s", e->host);
				break;
			}
			char buf[1 << 16];
			ssize_t n;
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				launch_sha256_update(h, buf, (size_t)n);
			if (n < 0)
				ret = launch_error_set(err, errno, "cannot read %s", e->host);
		}
	}
	launch_sha256_final(h, out);
	launch_sha256_free(h);
	return ret;
}

/* An id of --chown: a number, or a name of the tree's passwd or group file. */
static int lookup_id(struct stage *s, const char *file, const char *name, long *id)
{
	char *end;
	errno = 0;
	*id = strtol(name, &end, 10);
	if (*name && !*end && !errno && *id >= 0)
		return 0;
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (!s->fs || launch_sqfs_read_file(s->fs, 0, file, 1 << 20, &data, &len, NULL, NULL) < 0)
		return -1;
	size_t n = strlen(name);
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, name, n) || l[n] != ':')
			continue;
		char *f = strchr(l + n + 1, ':');
		if (f) {
			*id = strtol(f + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

struct owner {
	long uid, gid;
	long mode; /* --chmod, or -1 */
};

static int parse_owner(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct owner *ow,
		       struct launch_error **err)
{
	*ow = (struct owner){ 0, 0, -1 };
	const char *chown = launch_cf_flag(in, "chown"), *chmod_ = launch_cf_flag(in, "chmod");
	if (chown) {
		_cleanup_free_ char *spec = word(b, s, in, chown, err);
		if (!spec)
			return -1;
		char *colon = strchr(spec, ':');
		if (colon)
			*colon++ = '\0';
		if (lookup_id(s, "/etc/passwd", spec, &ow->uid) < 0)
			return step_msg(b, in, err, "--chown: no user %s in the image", spec);
		ow->gid = ow->uid;
		if (colon && lookup_id(s, "/etc/group", colon, &ow->gid) < 0)
			return step_msg(b, in, err, "--chown: no group %s in the image", colon);
	}
	if (chmod_) {
		char *end;
		ow->mode = strtol(chmod_, &end, 8);
		if (!*chmod_ || *end || ow->mode < 0 || ow->mode > 07777)
			return step_msg(b, in, err, "--chmod takes an octal mode, not %s", chmod_);
	}
	return 0;
}

static struct archive *layer_writer(const char *path, struct launch_error **err)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		launch_error_msg(err, "cannot write %s: %s", path, archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int copy_data(struct archive *out, int fd, const char *what, struct launch_error **err)
{
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(out, buf, (size_t)n) != n)
			return launch_error_msg(err, "cannot write the layer: %s", archive_error_string(out));
	return n < 0 ? launch_error_set(err, errno, "cannot read %s", what) : 0;
}

/* CS as a layer tar at PATH, with the owner and mode of OW. */
static int write_copyset(struct copyset *cs, const struct owner *ow, const char *path, struct launch_error **err)
{
	struct archive *a = layer_writer(path, err);
	if (!a)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < cs->n && ret == 0; i++) {
		const struct centry *c = &cs->v[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, c->dest + 1);
		archive_entry_copy_stat(e, &c->st);
		archive_entry_set_uid(e, ow->uid);
		archive_entry_set_gid(e, ow->gid);
		archive_entry_set_nlink(e, 1);
		if (ow->mode >= 0 && !S_ISLNK(c->st.st_mode))
			archive_entry_set_perm(e, (mode_t)ow->mode);
		char t[PATH_MAX];
		if (S_ISLNK(c->st.st_mode)) {
			ssize_t n = readlink(c->host, t, sizeof(t) - 1);
			t[n > 0 ? n : 0] = '\0';
			archive_entry_set_symlink(e, t);
			archive_entry_set_size(e, 0);
		} else if (!S_ISREG(c->st.st_mode)) {
			archive_entry_set_size(e, 0);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			ret = launch_error_msg(err, "cannot write the layer: %s", archive_error_string(a));
		} else if (S_ISREG(c->st.st_mode)) {
			_cleanup_close_ int fd = open(c->host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			ret = fd < 0 ? launch_error_set(err, errno, "cannot read %s", c->host)
				     : copy_data(a, fd, c->host, err);
		}
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK && ret == 0)
		ret = launch_error_msg(err, "cannot write the layer %s: %s", path, archive_error_string(a));
	archive_write_free(a);
	return ret;
}

/* Where entry NAME (of a tree read from an image) goes when source SRC is
 * copied to DEST: NULL when it is not under SRC. */
static char *from_dest(const char *name, const char *src, const char *dest, bool dest_dir, bool *is_top)
{
	*is_top = false;
	if (!strcmp(src, "/") || !*src)
		return *name ? xasprintf("%s/%s", dest, name) : (*is_top = true, xstrdup(dest));
	if (!strcmp(name, src) || launch_path_match(src, name)) {
		*is_top = true;
		_cleanup_free_ char *n = xstrdup(name);
		return dest_dir ? xasprintf("%s/%s", dest, basename(n)) : xstrdup(dest);
	}
	size_t n = strlen(src);
	if (!strncmp(name, src, n) && name[n] == '/')
		return xasprintf("%s/%s", dest, name + n + 1);
	return NULL;
}

/* Entries of tar IN under the sources SRCS, renamed under DEST, into a
 * layer at PATH (COPY --from, and ADD of an archive when SRCS is NULL:
 * everything). */
static int copy_tar(struct archive *in, char **srcs, const char *dest, bool dest_dir, const struct owner *ow,
		    bool keep_owner, const char *path, size_t *copied, struct launch_error **err)
{
	struct archive *a = layer_writer(path, err);
	if (!a)
		return -1;
	int ret = 0;
	struct archive_entry *e;
	*copied = 0;
	while (ret == 0) {
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = launch_error_msg(err, "cannot read: %s", archive_error_string(in));
			break;
		}
		const char *name = archive_entry_pathname(e);
		while (name[0] == '.' && (name[1] == '/' || !name[1]))
			name += name[1] ? 2 : 1;
		while (*name == '/')
			name++;
		char *to = NULL;
		bool top = false;
		for (size_t k = 0; srcs && srcs[k] && !to; k++)
			to = from_dest(name, srcs[k], dest, dest_dir, &top);
		if (!srcs)
			to = *name ? xasprintf("%s/%s", dest, name) : NULL;
		if (!to)
			continue;
		if (top && archive_entry_filetype(e) == AE_IFDIR) {
			free(to); /* a directory's contents are copied, not the directory */
			continue;
		}
		_cleanup_free_ char *norm = launch_path_normalize(to);
		free(to);
		struct archive_entry *o = archive_entry_clone(e);
		archive_entry_set_pathname(o, norm + 1);
		const char *hl = archive_entry_hardlink(e);
		if (hl) {
			_cleanup_free_ char *ht = NULL;
			bool t2;
			while (hl[0] == '.' && hl[1] == '/')
				hl += 2;
			for (size_t k = 0; srcs && srcs[k] && !ht; k++)
				ht = from_dest(hl, srcs[k], dest, dest_dir, &t2);
			if (!srcs)
				ht = xasprintf("%s/%s", dest, hl);
			_cleanup_free_ char *hn = ht ? launch_path_normalize(ht) : NULL;
			if (!hn) {
				archive_entry_free(o);
				ret = launch_error_msg(err, "%s is a hardlink to %s, which is not copied", name, hl);
				break;
			}
			archive_entry_set_hardlink(o, hn + 1);
		}
		if (!keep_owner) {
			archive_entry_set_uid(o, ow->uid);
			archive_entry_set_gid(o, ow->gid);
			archive_entry_set_uname(o, NULL);
			archive_entry_set_gname(o, NULL);
		}
		if (ow->mode >= 0 && archive_entry_filetype(o) != AE_IFLNK)
			archive_entry_set_perm(o, (mode_t)ow->mode);
		if (archive_write_header(a, o) != ARCHIVE_OK)
			ret = launch_error_msg(err, "cannot write the layer: %s", archive_error_string(a));
		archive_entry_free(o);
		(*copied)++;
		char buf[1 << 16];
		la_ssize_t n;
		while (ret == 0 && !hl && (n = archive_read_data(in, buf, sizeof(buf))) != 0) {
			if (n < 0 || archive_write_data(a, buf, (size_t)n) != n)
				ret = launch_error_msg(err, "cannot copy %s: %s", name,
						       archive_error_string(n < 0 ? in : a));
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK && ret == 0)
		ret = launch_error_msg(err, "cannot write the layer %s: %s", path, archive_error_string(a));
	archive_write_free(a);
	return ret;
}

/* The squashfs of --from=NAME: a stage before this one, or an image. */
static int from_source(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *from,
		       char **file, char *id, struct launch_image *img, struct launch_error **err)
{
	char *endp;
	unsigned long idx = strtoul(from, &endp, 10);
	for (size_t k = 0; k < (size_t)(s - b->st); k++)
		if ((b->st[k].name && !strcasecmp(b->st[k].name, from)) || (!*endp && idx == k)) {
			if (!b->st[k].fs)
				return step_msg(b, in, err, "stage %s has no files", from);
			*file = xstrdup(b->st[k].fs);
			snprintf(id, LAUNCH_DIGEST_LEN + 1, "%s", b->st[k].key);
			return 0;
		}
	if (launch_image_resolve(from, b->c, img, err) < 0 || img->kind != LAUNCH_IMAGE_SQUASHFS) {
		if (!*err)
			launch_error_msg(err, "%s is not a squashfs image", from);
		return step_error(b, in, err);
	}
	*file = xstrdup(img->path);
	struct stat st;
	stat(img->path, &st);
	_cleanup_free_ char *t = img->digest ? xstrdup(img->digest)
					     : xasprintf("%s %llu %lld", img->path, (unsigned long long)st.st_ino,
							 (long long)st.st_mtime);
	launch_sha256_buf(t, strlen(t), id);
	return 0;
}

/* COPY --from: the files of another stage or image. */
static int copy_from(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *from, char **srcs,
		     const char *dest, bool dest_dir, const struct owner *ow, const char *text,
		     struct launch_error **err)
{
	_cleanup_free_ char *file = NULL;
	char id[LAUNCH_DIGEST_LEN + 1], key[LAUNCH_DIGEST_LEN + 1];
	struct launch_image img = { 0 };
	int ret = from_source(b, s, in, from, &file, id, &img, err);
	launch_image_clear(&img);
	if (ret < 0)
		return -1;
	step_key(s, text, id, key);
	if (cache_get(b, s, key) == 1)
		return 1;
	for (size_t k = 0; srcs[k]; k++) { /* normalised, relative to the root */
		_cleanup_free_ char *abs = xasprintf("/%s", srcs[k]);
		char *n = launch_path_normalize(abs);
		free(srcs[k]);
		srcs[k] = xstrdup(n + 1);
		free(n);
	}
	_cleanup_free_ char *layer = cache_tmp(b, "copy", false, err);
	if (!layer)
		return -1;
	struct launch_proc p = LAUNCH_PROC_INIT;
	int fd;
	struct launch_layer_reader *r = NULL;
	size_t copied = 0;
	ret = -1;
	if (launch_sqfs_reader_start(file, &p, &fd, err) == 0 && launch_layer_open_fd(fd, file, &r, err) == 0)
		ret = copy_tar(launch_layer_tar(r), srcs, dest, dest_dir, ow, !launch_cf_flag(in, "chown"), layer,
			       &copied, err);
	launch_layer_close(r);
	launch_proc_close(&p);
	if (ret == 0 && !copied)
		ret = step_msg(b, in, err, "no such file in %s: %s", from, srcs[0]);
	else if (ret < 0)
		step_error(b, in, err);
	if (ret == 0)
		ret = apply_layer(b, s, layer, key, err);
	unlink(layer);
	return ret < 0 ? -1 : cache_put(b, s, key, err);
}

/* ADD of a local archive: is SRC one libarchive reads as a (compressed)
 * tar? Then *A is its reader. */
static bool open_archive(const char *src, struct archive **a)
{
	*a = archive_read_new();
	archive_read_support_filter_all(*a);
	archive_read_support_format_tar(*a);
	archive_read_support_format_gnutar(*a);
	struct archive_entry *e;
	if (archive_read_open_filename(*a, src, 1 << 16) == ARCHIVE_OK &&
	    archive_read_next_header(*a, &e) == ARCHIVE_OK) {
		archive_read_free(*a);
		*a = archive_read_new();
		archive_read_support_filter_all(*a);
		archive_read_support_format_tar(*a);
		archive_read_support_format_gnutar(*a);
		if (archive_read_open_filename(*a, src, 1 << 16) == ARCHIVE_OK)
			return true;
	}
	archive_read_free(*a);
	*a = NULL;
	return false;
}

static int copy_step(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct launch_error **err)
{
	bool add = !strcmp(in->cmd, "ADD");
	_cleanup_strv_ char **w = in->json ? launch_strv_copy(in->json) : words(b, s, in, in->args, true, err);
	if (!w)
		return -1;
	size_t n = launch_strv_len(w);
	if (n < 2)
		return step_msg(b, in, err, "needs a source and a destination");
	struct owner ow;
	if (parse_owner(b, s, in, &ow, err) < 0)
		return -1;
	const char *wd = json_string_value(json_object_get(s->config, "WorkingDir"));
	_cleanup_free_ char *dest_raw =
		w[n - 1][0] == '/' ? xstrdup(w[n - 1]) : xasprintf("%s/%s", wd ? wd : "", w[n - 1]);
	_cleanup_free_ char *dest = launch_path_normalize(dest_raw);
	/* as docker: a DEST written as a directory, or one the tree has */
	const char *last = strrchr(w[n - 1], '/') ? strrchr(w[n - 1], '/') + 1 : w[n - 1];
	bool dest_dir = n > 2 || !*last || !strcmp(last, ".") || !strcmp(last, "..") || fs_is_dir(s, dest);
	free(w[n - 1]);
	w[n - 1] = NULL;
	/* the instruction as the key sees it: flags and words after substitution */
	_cleanup_free_ char *text = xasprintf("%s", in->cmd);
	for (size_t i = 0; in->flags[i]; i++) {
		char *t = xasprintf("%s --%s", text, in->flags[i]);
		free(text);
		text = t;
	}
	for (size_t i = 0; w[i]; i++) {
		char *t = xasprintf("%s %s", text, w[i]);
		free(text);
		text = t;
	}
	{
		char *t = xasprintf("%s %s%s", text, dest, dest_dir ? "/" : "");
		free(text);
		text = t;
	}
	const char *from = launch_cf_flag(in, "from");
	if (from && !add)
		return copy_from(b, s, in, from, w, dest, dest_dir, &ow, text, err);
	for (size_t i = 0; add && w[i]; i++)
		if (strstr(w[i], "://") || launch_str_has_prefix(w[i], "git@"))
			return step_msg(b, in, err,
					"%s: URLs are not supported (download the file into the build context, or "
					"fetch it in a RUN step)",
					w[i]);
	struct copyset cs = { 0 };
	char digest[LAUNCH_DIGEST_LEN + 1], key[LAUNCH_DIGEST_LEN + 1];
	int ret = context_sources(b, s, in, w, n - 1, dest, dest_dir, &cs, err);
	if (ret == 0)
		ret = content_digest(&cs, digest, err);
	if (ret == 0) {
		step_key(s, text, digest, key);
		ret = cache_get(b, s, key);
	}
	if (ret != 0) {
		copyset_clear(&cs);
		return ret;
	}
	_cleanup_free_ char *layer = cache_tmp(b, "copy", false, err);
	if (!layer) {
		copyset_clear(&cs);
		return -1;
	}
	/* ADD unpacks a local tar archive (of any compression) into DEST */
	struct archive *arc = NULL;
	if (add && cs.n == 1 && S_ISREG(cs.v[0].st.st_mode) && open_archive(cs.v[0].host, &arc)) {
		size_t copied;
		ret = copy_tar(arc, NULL, dest, true, &ow, !launch_cf_flag(in, "chown"), layer, &copied, err);
		archive_read_free(arc);
	} else {
		ret = write_copyset(&cs, &ow, layer, err);
	}
	copyset_clear(&cs);
	if (ret == 0)
		ret = apply_layer(b, s, layer, key, err);
	unlink(layer);
	return ret < 0 ? step_error(b, in, err) : cache_put(b, s, key, err);
}

/* --- RUN --- */

static int run_step(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *key,
		    struct launch_error **err)
{
	if (!s->fs)
		return step_msg(b, in, err, "the image is empty (FROM scratch): there is no shell to run");
	_cleanup_free_ char *dir = cache_tmp(b, "run", true, err);
	if (!dir)
		return -1;
	char **argv = NULL;
	launch_strv_push(&argv, xstrdup(b->launch));
	if (launch_log_level() < LAUNCH_LOG_WARN)
		launch_strv_push(&argv, xstrdup("-q"));
	const char *fixed[] = { "run", "--root", "--fresh", "--no-home", "--overlay", dir };
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		launch_strv_push(&argv, xstrdup(fixed[i]));
	json_t *env = json_object_get(s->config, "Env"), *e;
	size_t i;
	bool path = false;
	json_array_foreach (env, i, e) {
		launch_strv_push(&argv, xstrdup("-e"));
		launch_strv_push(&argv, xstrdup(json_string_value(e)));
		path = path || launch_str_has_prefix(json_string_value(e), "PATH=");
	}
	if (!path) {
		launch_strv_push(&argv, xstrdup("-e"));
		launch_strv_push(&argv, xstrdup(DEFAULT_PATH));
	}
	for (size_t k = 0; s->args && s->args[k]; k++) /* the ARGs, under ENV's */
		if (strchr(s->args[k], '=') && !lookup(&(struct vars){ env, NULL }, s->args[k])) {
			launch_strv_push(&argv, xstrdup("-e"));
			launch_strv_push(&argv, xstrdup(s->args[k]));
		}
	const char *wd = json_string_value(json_object_get(s->config, "WorkingDir"));
	launch_strv_push(&argv, xstrdup("-w"));
	launch_strv_push(&argv, xstrdup(wd && *wd ? wd : "/"));
	launch_strv_push(&argv, xstrdup(s->fs));
	launch_strv_push(&argv, xstrdup("--"));
	json_t *cmd = command(s, in);
	json_array_foreach (cmd, i, e)
		launch_strv_push(&argv, xstrdup(json_string_value(e)));
	json_decref(cmd);
	/* no input, as docker's RUN: a step that asks waits for nobody */
	struct launch_proc_spec spec = {
		.path = b->launch, .argv = argv, .in = LAUNCH_PROC_NULL, .what = "launch run"
	};
	struct launch_error *e2 = NULL;
	int st = launch_proc_run(&spec, NULL, 0, &e2);
	launch_strv_free(argv);
	int ret = 0;
	if (st != 0) {
		if (st < 0)
			ret = step_msg(b, in, err, "%s", e2 ? e2->msg : "cannot run");
		else
			ret = step_msg(b, in, err, "the command exited with status %d", st);
	}
	launch_error_free(e2);
	if (ret == 0) {
		_cleanup_free_ char *out = fs_path(b, key);
		struct launch_commit_opts co = {
			.overlay = dir, .image = s->fs, .output = out, .compressor = step_compressor(b, s)
		};
		if (launch_commit(b->c, &co, NULL, err) < 0) {
			ret = step_error(b, in, err);
		} else {
			free(s->fs);
			s->fs = steal_pointer(&out);
		}
	}
	remove_overlay(dir);
	return ret;
}

/* WORKDIR: the config, and the directory when the tree lacks it. */
static int workdir_step(struct build *b, struct stage *s, const struct launch_cf_instr *in, const char *key,
			struct launch_error **err)
{
	_cleanup_free_ char *w = word(b, s, in, in->args, err);
	if (!w)
		return -1;
	const char *old = json_string_value(json_object_get(s->config, "WorkingDir"));
	_cleanup_free_ char *abs = w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", old ? old : "", w);
	_cleanup_free_ char *dir = launch_path_normalize(abs);
	json_object_set_new(s->config, "WorkingDir", json_string(dir));
	if (fs_has(s, dir))
		return 0;
	_cleanup_free_ char *layer = cache_tmp(b, "workdir", false, err);
	if (!layer)
		return -1;
	struct copyset cs = { 0 };
	struct stat st = { .st_mode = S_IFDIR | 0755 };
	copyset_add(&cs, "/", dir, &st);
	struct owner ow = { 0, 0, -1 };
	int ret = write_copyset(&cs, &ow, layer, err);
	copyset_clear(&cs);
	if (ret == 0)
		ret = apply_layer(b, s, layer, key, err);
	unlink(layer);
	return ret < 0 ? step_error(b, in, err) : 0;
}

/* --- FROM --- */

static int from_step(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct launch_error **err)
{
	_cleanup_strv_ char **w = words(b, NULL, in, in->args, true, err);
	if (!w)
		return -1;
	size_t n = launch_strv_len(w);
	if (n != 1 && !(n == 3 && !strcasecmp(w[1], "AS")))
		return step_msg(b, in, err, "takes IMAGE [AS NAME]");
	if (n == 3)
		s->name = xstrdup(w[2]);
	const char *platform = launch_cf_flag(in, "platform");
	if (platform && strcmp(platform, "linux/amd64") && strcmp(platform, "$BUILDPLATFORM") &&
	    strcmp(platform, "$TARGETPLATFORM"))
		return step_msg(b, in, err, "--platform %s: only this machine's platform (linux/amd64) is built",
				platform);
	s->config = json_object();
	if (!strcmp(w[0], "scratch")) {
		launch_sha256_buf("scratch", 7, s->key);
		return 0;
	}
	for (size_t k = 0; k < (size_t)(s - b->st); k++)
		if (b->st[k].name && !strcasecmp(b->st[k].name, w[0])) {
			memcpy(s->key, b->st[k].key, sizeof(s->key));
			s->fs = b->st[k].fs ? xstrdup(b->st[k].fs) : NULL;
			json_decref(s->config);
			s->config = json_deep_copy(b->st[k].config);
			return 0;
		}
	struct launch_image img;
	if (launch_image_resolve(w[0], b->c, &img, err) < 0)
		return step_error(b, in, err);
	if (img.kind != LAUNCH_IMAGE_SQUASHFS) {
		launch_image_clear(&img);
		return step_msg(b, in, err, "%s is not a squashfs image (import it first: launch import)", w[0]);
	}
	struct stat st;
	stat(img.path, &st);
	_cleanup_free_ char *t =
		img.digest ? xasprintf("image %s", img.digest)
			   : xasprintf("file %s %llu %lld %lld %llu", img.path, (unsigned long long)st.st_ino,
				       (long long)st.st_size, (long long)st.st_mtime, (unsigned long long)img.offset);
	launch_sha256_buf(t, strlen(t), s->key);
	if (img.offset) {
		/* a SIF file: its partition, once, as a squashfs file of the
		 * cache, which the steps read and flatten from byte 0 */
		_cleanup_free_ char *part = fs_path(b, s->key);
		if (access(part, F_OK) != 0 && launch_image_extract(&img, part, err) < 0) {
			launch_image_clear(&img);
			return step_error(b, in, err);
		}
		s->fs = steal_pointer(&part);
	} else {
		s->fs = xstrdup(img.path);
	}
	/* the base's config, as it is stored */
	if (img.digest) {
		struct launch_store_image si = { 0 };
		struct launch_ref ref = { .digest = img.digest + 7 };
		if (launch_stores_find(b->stores, b->n_stores, &ref, &si, NULL) == 0 && json_is_object(si.config)) {
			json_decref(s->config);
			s->config = json_deep_copy(si.config);
		}
		launch_store_image_clear(&si);
	} else if (img.env) {
		json_object_set_new(s->config, "Env", launch_json_from_strv(img.env));
	}
	launch_image_clear(&img);
	return 0;
}

/* --- the build --- */

/* One instruction of stage S (after its FROM). */
static int step(struct build *b, struct stage *s, const struct launch_cf_instr *in, struct launch_error **err)
{
	const char *c = in->cmd;
	if (!strcmp(c, "ARG") && declare_args(b, s, in, err) < 0)
		return -1;
	if (!strcmp(c, "COPY") || !strcmp(c, "ADD"))
		return copy_step(b, s, in, err);
	/* the instruction as the key sees it: RUN as written (the shell
	 * substitutes), the others after substitution */
	_cleanup_free_ char *text = NULL;
	if (!strcmp(c, "RUN")) {
		if (launch_cf_flag(in, "mount") || launch_cf_flag(in, "network") || launch_cf_flag(in, "security"))
			return step_msg(b, in, err, "--mount, --network and --security are not supported");
		json_t *cmd = command(s, in);
		char *t = json_dumps(cmd, JSON_COMPACT);
		json_decref(cmd);
		text = xasprintf("RUN %s", t);
		free(t);
	} else if (in->json) {
		json_t *j = launch_json_from_strv(in->json);
		char *t = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		text = xasprintf("%s %s", c, t);
		free(t);
	} else {
		char *w = !strcmp(c, "CMD") || !strcmp(c, "ENTRYPOINT") || !strcmp(c, "HEALTHCHECK") ||
					  !strcmp(c, "MAINTAINER")
				  ? xstrdup(in->args)
				  : word(b, s, in, in->args, err);
		if (!w)
			return -1;
		text = xasprintf("%s %s", c, w);
		free(w);
	}
	char key[LAUNCH_DIGEST_LEN + 1];
	step_key(s, text, NULL, key);
	if (cache_get(b, s, key) == 1)
		return 1;
	int r = !strcmp(c, "RUN")	? run_step(b, s, in, key, err)
		: !strcmp(c, "WORKDIR") ? workdir_step(b, s, in, key, err)
		: !strcmp(c, "ARG")	? 0
					: config_step(b, s, in, err);
	return r < 0 ? -1 : cache_put(b, s, key, err);
}

/* The stages of the file: each FROM starts one; ARGs before the first are
 * global. */
static int plan(struct build *b, struct launch_error **err)
{
	size_t i = 0;
	for (; i < b->cf.n && strcmp(b->cf.v[i].cmd, "FROM"); i++) {
		const struct launch_cf_instr *in = &b->cf.v[i];
		if (strcmp(in->cmd, "ARG"))
			return launch_error_msg(err, "%s:%d: %s: the first instruction must be FROM (or ARG)",
						b->cf.name, in->line, in->cmd);
		if (declare_args(b, NULL, in, err) < 0)
			return -1;
	}
	if (i == b->cf.n)
		return launch_error_msg(err, "%s: no FROM instruction", b->cf.name);
	for (; i < b->cf.n; i++) {
		if (!strcmp(b->cf.v[i].cmd, "FROM")) {
			b->st = xrealloc(b->st, (b->n_st + 1) * sizeof(*b->st));
			b->st[b->n_st++] = (struct stage){ .first = i, .end = b->cf.n };
			if (b->n_st > 1)
				b->st[b->n_st - 2].end = i;
			/* the name, for --target, before the stage is built */
			_cleanup_strv_ char **w =
				launch_cf_words(b->cf.v[i].args, b->cf.escape, NULL, NULL, true, NULL);
			if (w && launch_strv_len(w) == 3)
				b->st[b->n_st - 1].name = xstrdup(w[2]);
		}
	}
	b->target = b->n_st - 1;
	if (b->o->target) {
		size_t k = 0;
		while (k < b->n_st && !(b->st[k].name && !strcasecmp(b->st[k].name, b->o->target)))
			k++;
		if (k == b->n_st)
			return launch_error_msg(err, "--target %s: %s has no stage of that name (FROM ... AS %s)",
						b->o->target, b->cf.name, b->o->target);
		b->target = k;
	}
	for (size_t k = 0; k <= b->target; k++)
		b->steps += b->st[k].end - b->st[k].first;
	return 0;
}

static int run_stage(struct build *b, struct stage *s, struct launch_error **err)
{
	free(s->name); /* FROM sets it again, substituted */
	s->name = NULL;
	for (size_t i = s->first; i < s->end; i++) {
		const struct launch_cf_instr *in = &b->cf.v[i];
		_cleanup_free_ char *flags = xstrdup("");
		for (size_t k = 0; in->flags[k]; k++) {
			char *f = xasprintf("%s --%s", flags, in->flags[k]);
			free(flags);
			flags = f;
		}
		say(b, "STEP %zu/%zu: %s%s%s%s", ++b->step, b->steps, in->cmd, flags, *in->args ? " " : "", in->args);
		b->cur = i;
		int r = i == s->first ? from_step(b, s, in, err) : step(b, s, in, err);
		if (r < 0)
			return -1;
		if (r == 1)
			say(b, "--> CACHED");
		else if (i != s->first)
			say(b, "--> %.12s", s->key + 7);
	}
	return 0;
}

/* The image into the store: its digest from the config and the last step. */
static int store_image(struct build *b, struct stage *s, char **digest_out, struct launch_error **err)
{
	if (!s->fs)
		return launch_error_msg(err, "the image is empty: nothing was copied into it");
	json_t *whole =
		json_pack("{s:O, s:{s:s, s:[s]}}", "config", s->config, "rootfs", "type", "layers", "diff_ids", s->key);
	char *text = json_dumps(whole, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(whole);
	char digest[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(text, strlen(text), digest);
	free(text);
	say(b, "COMMIT %s", b->o->tags && b->o->tags[0] ? b->o->tags[0] : "");
	struct launch_store_image found = { 0 };
	struct launch_ref ref = { .digest = digest + 7 };
	int ret;
	if (launch_stores_find(b->stores, 1, &ref, &found, NULL) == 0) {
		ret = 0;
		for (size_t i = 0; b->o->tags && b->o->tags[i] && ret == 0; i++)
			ret = launch_store_retag(&b->stores[0], &ref, b->o->tags[i], err);
	} else {
		_cleanup_free_ char *tmp = NULL;
		int fd;
		ret = launch_store_tmpfile(&b->stores[0], ".sqfs", &tmp, &fd, err);
		if (ret == 0) {
			_cleanup_close_ int in = open(s->fs, O_RDONLY | O_CLOEXEC);
			struct stat st;
			ret = in < 0 || fstat(in, &st) < 0 ? launch_error_set(err, errno, "cannot read %s", s->fs) : 0;
			for (off_t left = ret == 0 ? st.st_size : 0; left > 0 && ret == 0;) {
				ssize_t n = copy_file_range(in, NULL, fd, NULL, (size_t)left, 0);
				if (n <= 0)
					ret = launch_error_set(err, n < 0 ? errno : EIO,
							       "cannot copy %s into the store", s->fs);
				left -= n;
			}
			if (ret == 0 && fsync(fd) < 0)
				ret = launch_error_set(err, errno, "cannot write %s", tmp);
			struct launch_store_image img = {
				.digest = digest, .size = st.st_size, .source = (char *)"build", .config = s->config
			};
			_cleanup_free_ char *src = xasprintf("build:%s", b->cf.name);
			img.source = src;
			if (ret == 0)
				ret = launch_store_add(&b->stores[0], tmp, &img, b->o->tags, err);
			if (ret < 0)
				unlink(tmp);
			close(fd);
		}
	}
	launch_store_image_clear(&found);
	if (ret == 0) {
		say(b, "--> %.19s", digest);
		for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
			say(b, "Successfully tagged %s", b->o->tags[i]);
		say(b, "%s", digest);
		*digest_out = xstrdup(digest);
	}
	return ret;
}

static int prepare(struct build *b, struct launch_error **err)
{
	const struct launch_build_opts *o = b->o;
	b->context = realpath(o->context, NULL);
	struct stat st;
	if (!b->context || stat(b->context, &st) < 0 || !S_ISDIR(st.st_mode))
		return launch_error_set(err, b->context ? ENOTDIR : errno, "build context %s", o->context);
	_cleanup_free_ char *file = NULL;
	if (o->file) {
		file = xstrdup(o->file);
	} else {
		file = xasprintf("%s/Containerfile", b->context);
		if (access(file, F_OK) < 0) {
			free(file);
			file = xasprintf("%s/Dockerfile", b->context);
		}
	}
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (launch_read_file_at(AT_FDCWD, file, 4 << 20, &text, &len) < 0)
		return launch_error_set(err, errno, "cannot read %s%s", file,
					o->file ? ""
						: " (no Containerfile or Dockerfile in the context: give -f FILE)");
	_cleanup_free_ char *name = xstrdup(file);
	if (launch_cf_parse(text, o->file ? o->file : basename(name), &b->cf, err) < 0 ||
	    launch_ignore_load(b->context, &b->ig, err) < 0 || plan(b, err) < 0)
		return -1;
	const char *l = getenv("LAUNCH_PROGRAM");
	if (!l || !*l)
		return launch_error_msg(err, "launch build runs through launch (LAUNCH_PROGRAM is not set)");
	b->launch = xstrdup(l);
	if (launch_stores(b->c, &b->stores, &b->n_stores, err) < 0 || launch_store_prepare(&b->stores[0], err) < 0)
		return -1;
	b->cache = xasprintf("%s/build-cache", b->stores[0].root);
	static const char *const dirs[] = { "", "/fs", "/tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = xasprintf("%s%s", b->cache, dirs[i]);
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			return launch_error_set(err, errno, "cannot create %s", d);
	}
	b->cache_lock = launch_store_build_cache_lock(&b->stores[0], false, err);
	return b->cache_lock < 0 ? -1 : 0;
}

int launch_build(const struct launch_config *c, const struct launch_build_opts *o, char **digest,
		 struct launch_error **err)
{
	struct build b = { .c = c, .o = o, .cache_lock = -1, .progress = launch_log_level() >= LAUNCH_LOG_WARN };
	signal(SIGPIPE, SIG_IGN);
	int ret = prepare(&b, err);
	for (size_t k = 0; ret == 0 && k <= b.target; k++)
		ret = run_stage(&b, &b.st[k], err);
	if (ret == 0)
		ret = store_image(&b, &b.st[b.target], digest, err);
	if (ret < 0 && b.n_stores)
		launch_store_space_hint(&b.stores[0], err);
	for (size_t k = 0; k < b.n_st; k++) {
		free(b.st[k].name);
		free(b.st[k].fs);
		json_decref(b.st[k].config);
		launch_strv_free(b.st[k].args);
	}
	free(b.st);
	if (b.cache_lock >= 0)
		close(b.cache_lock);
	launch_strv_free(b.global_args);
	launch_cf_clear(&b.cf);
	launch_ignore_clear(&b.ig);
	launch_stores_free(b.stores, b.n_stores);
	free(b.context);
	free(b.cache);
	free(b.launch);
	return ret;
}
