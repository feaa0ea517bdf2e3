/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks (see hooks.h): oci-hooks(5) 1.0.0 files, their when-conditions
 * with podman's semantics, and running them with the state on stdin. */
#define _GNU_SOURCE
#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hookapi.h"
#include "log.h"
#include "proc.h"
#include "trust.h"
#include "util.h"

static const char *const stage_names[LAUNCH_HOOK_N_STAGES] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *launch_hook_stage_name(enum launch_hook_stage s)
{
	return s < LAUNCH_HOOK_N_STAGES ? stage_names[s] : "?";
}

bool launch_hook_stage_fatal(enum launch_hook_stage s)
{
	return s <= LAUNCH_HOOK_START_CONTAINER;
}

void launch_hook_clear(struct launch_hook *h)
{
	free(h->file);
	free(h->name);
	free(h->path);
	launch_strv_free(h->args);
	launch_strv_free(h->env);
	launch_strv_free(h->ann_keys);
	launch_strv_free(h->ann_values);
	launch_strv_free(h->commands);
	memset(h, 0, sizeof(*h));
}

void launch_hooks_clear(struct launch_hooks *hooks)
{
	for (size_t i = 0; i < hooks->n; i++)
		launch_hook_clear(&hooks->v[i]);
	free(hooks->v);
	memset(hooks, 0, sizeof(*hooks));
}

void launch_hooks_push(struct launch_hooks *hooks, const struct launch_hook *h)
{
	hooks->v = xrealloc(hooks->v, (hooks->n + 1) * sizeof(*hooks->v));
	struct launch_hook *c = &hooks->v[hooks->n++];
	*c = *h;
	c->file = h->file ? xstrdup(h->file) : NULL;
	c->name = h->name ? xstrdup(h->name) : NULL;
	c->path = xstrdup(h->path);
	c->args = h->args ? launch_strv_copy(h->args) : NULL;
	c->env = launch_strv_copy(h->env);
	c->ann_keys = h->ann_keys ? launch_strv_copy(h->ann_keys) : NULL;
	c->ann_values = h->ann_values ? launch_strv_copy(h->ann_values) : NULL;
	c->commands = h->commands ? launch_strv_copy(h->commands) : NULL;
}

/* --- parsing --- */

struct pctx {
	const struct launch_json_doc *doc;
	struct launch_error **err;
};

static int check_keys(struct pctx *x, json_t *obj, const char *ptr, const char *what, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach (obj, k, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || !strcmp(k, allowed[i]);
		if (!ok) {
			_cleanup_free_ char *p = launch_json_pointer(ptr, k);
			return launch_json_error_at(x->err, x->doc, p, "unknown key \"%s\" in %s", k, what);
		}
	}
	return 0;
}

/* Whether PATTERN stacks repetition operators (`a++`, `a*{2}`): undefined
 * for POSIX extended expressions, and glibc's regcomp copies the expression
 * for each of them, so that a few dozen take gigabytes. */
static bool stacked_repetition(const char *pattern)
{
	bool after_rep = false;
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\') {
			after_rep = false;
			if (!*++p)
				break;
			continue;
		}
		if (*p == '[') { /* a bracket expression: up to its closing ] */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char close = p[1];
					for (p += 2; *p && !(*p == close && p[1] == ']'); p++)
						;
					if (*p)
						p++;
				}
				if (*p)
					p++;
			}
			if (!*p)
				break;
			after_rep = false;
			continue;
		}
		bool rep = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		if (rep && after_rep)
			return true;
		if (*p == '{')
			while (p[1] && *p != '}')
				p++;
		after_rep = rep;
	}
	return false;
}

static int check_regex(struct pctx *x, const char *pattern, const char *ptr, const char *what)
{
	if (strlen(pattern) > 1024)
		return launch_json_error_at(x->err, x->doc, ptr, "%s is longer than 1024 characters", what);
	if (stacked_repetition(pattern))
		return launch_json_error_at(x->err, x->doc, ptr,
					    "%s `%s` stacks repetition operators (such as `a++` or `a*{2}`), which "
					    "regular expressions leave undefined: write `a+` or group them, `(a+)+`",
					    what, pattern);
	regex_t re;
	int r = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char msg[200];
		regerror(r, &re, msg, sizeof(msg));
		return launch_json_error_at(x->err, x->doc, ptr, "%s `%s` is not a valid regular expression: %s", what,
					    pattern, msg);
	}
	regfree(&re);
	return 0;
}

static int get_tristate(struct pctx *x, json_t *w, const char *key, int *out)
{
	json_t *v = json_object_get(w, key);
	*out = -1;
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		_cleanup_free_ char *p = launch_json_pointer("/when", key);
		return launch_json_error_at(x->err, x->doc, p, "when.%s must be true or false, not %s", key,
					    launch_json_type_name(v));
	}
	*out = json_is_true(v);
	return 0;
}

/* A hook object (`hook` of a hook file, an entry of a bundle's hooks) at
 * PTR: path, args, env, timeout. */
static int parse_command(struct pctx *x, struct launch_hook *h, json_t *hk, const char *ptr, const char *what)
{
	static const char *const keys[] = { "path", "args", "env", "timeout", NULL };
	if (!json_is_object(hk))
		return launch_json_error_at(x->err, x->doc, ptr, "%s must be an object, not %s", what,
					    launch_json_type_name(hk));
	if (check_keys(x, hk, ptr, what, keys) < 0)
		return -1;
	_cleanup_free_ char *pp = xasprintf("%s/path", ptr), *pa = xasprintf("%s/args", ptr),
			    *pe = xasprintf("%s/env", ptr), *pt = xasprintf("%s/timeout", ptr);
	json_t *path = json_object_get(hk, "path");
	if (!json_is_string(path) || json_string_value(path)[0] != '/')
		return launch_json_error_at(x->err, x->doc, path ? pp : ptr,
					    "hook.path must be the absolute path of the hook program");
	h->path = xstrdup(json_string_value(path));
	json_t *v;
	if ((v = json_object_get(hk, "args"))) {
		if (launch_json_get_strv(x->doc, v, pa, "hook.args", 0, &h->args, x->err) < 0)
			return -1;
		if (!h->args[0])
			return launch_json_error_at(x->err, x->doc, pa,
						    "hook.args must not be empty: it starts with the program's name "
						    "(argv[0]); leave it out for just the path");
	}
	if ((v = json_object_get(hk, "env"))) {
		if (launch_json_get_strv(x->doc, v, pe, "hook.env", 0, &h->env, x->err) < 0)
			return -1;
		for (size_t i = 0; h->env[i]; i++) {
			const char *eq = strchr(h->env[i], '=');
			if (!eq || eq == h->env[i]) {
				_cleanup_free_ char *p = xasprintf("%s/%zu", pe, i);
				return launch_json_error_at(x->err, x->doc, p, "hook.env entry `%s` must be NAME=VALUE",
							    h->env[i]);
			}
		}
	} else {
		h->env = xcalloc(1, sizeof(char *));
	}
	if ((v = json_object_get(hk, "timeout"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 86400)
			return launch_json_error_at(x->err, x->doc, pt,
						    "hook.timeout must be a number of seconds from 1 to 86400");
		h->timeout = (int)json_integer_value(v);
	}
	return 0;
}

static int parse_when(struct pctx *x, struct launch_hook *h, json_t *w)
{
	static const char *const keys[] = { "always", "annotations", "commands", "hasBindMounts", NULL };
	if (!json_is_object(w))
		return launch_json_error_at(x->err, x->doc, "/when", "\"when\" must be an object, not %s",
					    launch_json_type_name(w));
	if (check_keys(x, w, "/when", "\"when\"", keys) < 0)
		return -1;
	if (json_object_size(w) == 0)
		return launch_json_error_at(x->err, x->doc, "/when",
					    "\"when\" needs at least one of always, annotations, commands, "
					    "hasBindMounts (use \"always\": true for every container)");
	if (get_tristate(x, w, "always", &h->always) < 0 ||
	    get_tristate(x, w, "hasBindMounts", &h->has_bind_mounts) < 0)
		return -1;
	json_t *a = json_object_get(w, "annotations");
	if (a) {
		if (!json_is_object(a))
			return launch_json_error_at(x->err, x->doc, "/when/annotations",
						    "when.annotations must be an object of KEY-PATTERN: VALUE-PATTERN");
		h->ann_keys = xcalloc(1, sizeof(char *));
		h->ann_values = xcalloc(1, sizeof(char *));
		const char *k;
		json_t *v;
		json_object_foreach (a, k, v) {
			_cleanup_free_ char *p = launch_json_pointer("/when/annotations", k);
			if (!json_is_string(v))
				return launch_json_error_at(
					x->err, x->doc, p, "when.annotations values must be strings (patterns), not %s",
					launch_json_type_name(v));
			if (check_regex(x, k, p, "annotation key pattern") < 0 ||
			    check_regex(x, json_string_value(v), p, "annotation value pattern") < 0)
				return -1;
			launch_strv_push(&h->ann_keys, xstrdup(k));
			launch_strv_push(&h->ann_values, xstrdup(json_string_value(v)));
		}
	}
	json_t *c = json_object_get(w, "commands");
	if (c) {
		if (launch_json_get_strv(x->doc, c, "/when/commands", "when.commands", 0, &h->commands, x->err) < 0)
			return -1;
		for (size_t i = 0; h->commands[i]; i++) {
			_cleanup_free_ char *p = xasprintf("/when/commands/%zu", i);
			if (check_regex(x, h->commands[i], p, "command pattern") < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_stages(struct pctx *x, struct launch_hook *h, json_t *s)
{
	if (!json_is_array(s) || json_array_size(s) == 0)
		return launch_json_error_at(x->err, x->doc, s ? "/stages" : "",
					    "\"stages\" must be a non-empty array of stage names (prestart, "
					    "createRuntime, createContainer, startContainer, poststart, poststop)");
	size_t i;
	json_t *e;
	json_array_foreach (s, i, e) {
		_cleanup_free_ char *p = xasprintf("/stages/%zu", i);
		const char *name = json_string_value(e);
		int found = -1;
		for (int k = 0; name && k < LAUNCH_HOOK_N_STAGES; k++)
			if (!strcmp(name, stage_names[k]))
				found = k;
		if (found < 0)
			return launch_json_error_at(x->err, x->doc, p,
						    "unknown stage %s%s%s (known: prestart, createRuntime, "
						    "createContainer, startContainer, poststart, poststop)",
						    name ? "\"" : "", name ? name : launch_json_type_name(e),
						    name ? "\"" : "");
		h->stages |= 1u << found;
	}
	return 0;
}

int launch_hook_parse(struct launch_hook *h, const struct launch_json_doc *doc, struct launch_error **err)
{
	static const char *const keys[] = { "version", "hook", "when", "stages", NULL };
	struct pctx x = { doc, err };
	memset(h, 0, sizeof(*h));
	h->always = h->has_bind_mounts = -1;
	int ret = -1;
	if (!json_is_object(doc->root)) {
		launch_json_error_at(err, doc, "", "a hook file must be a JSON object");
		goto out;
	}
	if (check_keys(&x, doc->root, "", "a hook file", keys) < 0)
		goto out;
	json_t *ver = json_object_get(doc->root, "version");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "1.0.0") != 0) {
		launch_json_error_at(err, doc, ver ? "/version" : "",
				     "\"version\" must be \"1.0.0\" (the oci-hooks(5) format launch reads)");
		goto out;
	}
	json_t *hk = json_object_get(doc->root, "hook"), *w = json_object_get(doc->root, "when");
	if (!hk || !w) {
		launch_json_error_at(err, doc, "", "a hook file needs \"hook\", \"when\" and \"stages\"");
		goto out;
	}
	if (parse_command(&x, h, hk, "/hook", "\"hook\"") < 0 || parse_when(&x, h, w) < 0 ||
	    parse_stages(&x, h, json_object_get(doc->root, "stages")) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		launch_hook_clear(h);
	return ret;
}

int launch_hooks_parse_bundle(struct launch_hooks *hooks, const struct launch_json_doc *doc, json_t *obj,
			      const char *file, struct launch_error **err)
{
	struct pctx x = { doc, err };
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return launch_json_error_at(err, doc, "/hooks", "\"hooks\" must be an object of stages");
	const char *stage;
	json_t *list;
	json_object_foreach (obj, stage, list) {
		_cleanup_free_ char *ptr = launch_json_pointer("/hooks", stage);
		int found = -1;
		for (int k = 0; k < LAUNCH_HOOK_N_STAGES; k++)
			if (!strcmp(stage, stage_names[k]))
				found = k;
		if (found < 0)
			return launch_json_error_at(err, doc, ptr, "unknown hook stage \"%s\"", stage);
		if (!json_is_array(list))
			return launch_json_error_at(err, doc, ptr, "hooks.%s must be an array of hooks", stage);
		size_t i;
		json_t *e;
		json_array_foreach (list, i, e) {
			_cleanup_free_ char *p = xasprintf("%s/%zu", ptr, i);
			struct launch_hook h = { .always = 1, .has_bind_mounts = -1, .stages = 1u << found };
			if (parse_command(&x, &h, e, p, "a hook") < 0) {
				launch_hook_clear(&h);
				return -1;
			}
			h.file = xstrdup(file);
			h.name = xasprintf("%s[%zu]", stage, i);
			hooks->v = xrealloc(hooks->v, (hooks->n + 1) * sizeof(*hooks->v));
			hooks->v[hooks->n++] = h;
		}
	}
	return 0;
}

/* --- loading the directories --- */

static int by_name(const void *a, const void *b)
{
	const struct launch_hook *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static bool have_name(const struct launch_hooks *hooks, const char *name)
{
	for (size_t i = 0; i < hooks->n; i++)
		if (!strcmp(hooks->v[i].name, name))
			return true;
	return false;
}

static int load_file(struct launch_hooks *hooks, int dirfd, const char *dir, const char *name,
		     struct launch_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot read hook file %s%s", path,
					errno == ELOOP ? " (symlinks are not followed there)" : "");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode))
		return 0;
	if (launch_file_check_trusted(path, &st, true, err) < 0)
		return -1;
	char *text = NULL;
	if (launch_read_fd(fd, 1u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read hook file %s", path);
	struct launch_json_doc doc;
	if (launch_json_doc_parse(&doc, path, text, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	struct launch_hook h;
	int r = launch_hook_parse(&h, &doc, err);
	launch_json_doc_clear(&doc);
	if (r < 0)
		return -1;
	h.file = steal_pointer(&path);
	h.name = xstrndup(name, strlen(name) - 5);
	hooks->v = xrealloc(hooks->v, (hooks->n + 1) * sizeof(*hooks->v));
	hooks->v[hooks->n++] = h;
	return 0;
}

int launch_hooks_load(struct launch_hooks *hooks, char *const *dirs, struct launch_error **err)
{
	memset(hooks, 0, sizeof(*hooks));
	for (size_t d = 0; dirs && dirs[d]; d++) {
		/* root's or the caller's, and so is every directory above it:
		 * nobody else may swap the programs that run as the caller */
		struct launch_error *e = NULL;
		int dfd = launch_trust_dir(dirs[d], getuid(), 0, LAUNCH_TRUST_ROOT | LAUNCH_TRUST_MISSING_OK,
					   "hooks directory", "ask your admins to fix hooks_dirs", &e);
		if (dfd < 0 && !e)
			continue;
		if (dfd < 0) {
			if (err)
				*err = e;
			else
				launch_error_free(e);
			goto fail;
		}
		DIR *dir = fdopendir(dfd);
		if (!dir) {
			close(dfd);
			launch_error_set(err, errno, "cannot list hooks directory %s", dirs[d]);
			goto fail;
		}
		/* names first, so that a masked file of a later directory
		 * is not even read */
		struct launch_hooks here = { 0 };
		int r = 0;
		for (struct dirent *de; r == 0 && (de = readdir(dir));) {
			size_t n = strlen(de->d_name);
			if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
				continue;
			_cleanup_free_ char *base = xstrndup(de->d_name, n - 5);
			if (have_name(hooks, base))
				continue; /* masked by an earlier directory */
			r = load_file(&here, dirfd(dir), dirs[d], de->d_name, err);
		}
		closedir(dir);
		if (here.n) {
			hooks->v = xrealloc(hooks->v, (hooks->n + here.n) * sizeof(*hooks->v));
			memcpy(hooks->v + hooks->n, here.v, here.n * sizeof(*here.v));
			hooks->n += here.n;
		}
		free(here.v);
		if (r < 0)
			goto fail;
	}
	if (hooks->n)
		qsort(hooks->v, hooks->n, sizeof(*hooks->v), by_name);
	return 0;
fail:
	launch_hooks_clear(hooks);
	return -1;
}

/* --- when --- */

static bool pattern_matches(const char *pattern, const char *s, bool anchored)
{
	_cleanup_free_ char *full = anchored ? xasprintf("^(%s)$", pattern) : xstrdup(pattern);
	regex_t re;
	if (regcomp(&re, full, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool m = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

static bool annotation_matches(char *const *annotations, const char *kpat, const char *vpat)
{
	for (size_t i = 0; annotations && annotations[i]; i++) {
		const char *eq = strchr(annotations[i], '=');
		if (!eq)
			continue;
		_cleanup_free_ char *key = xstrndup(annotations[i], (size_t)(eq - annotations[i]));
		if (pattern_matches(kpat, key, false) && pattern_matches(vpat, eq + 1, false))
			return true;
	}
	return false;
}

static bool decide(char **why, bool verdict, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool decide(char **why, bool verdict, const char *fmt, ...)
{
	if (why) {
		va_list ap;
		va_start(ap, fmt);
		free(*why);
		*why = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return verdict;
}

bool launch_hook_applies(const struct launch_hook *h, const struct launch_hook_target *t, char **why)
{
	if (why)
		*why = NULL;
	if (h->always == 0)
		return decide(why, false, "when.always is false");
	if (h->has_bind_mounts == 0)
		return decide(why, false, "when.hasBindMounts is false (it never matches)");
	if (h->has_bind_mounts == 1 && !t->has_bind_mounts)
		return decide(why, false, "no bind mounts (when.hasBindMounts)");
	for (size_t i = 0; h->ann_keys && h->ann_keys[i]; i++)
		if (!annotation_matches(t->annotations, h->ann_keys[i], h->ann_values[i]))
			return decide(why, false, "no annotation matches %s=%s", h->ann_keys[i], h->ann_values[i]);
	if (h->commands) {
		bool any = false;
		for (size_t i = 0; t->command && h->commands[i] && !any; i++)
			any = pattern_matches(h->commands[i], t->command, true);
		if (!any)
			return decide(why, false,
				      t->command ? "command %s matches no when.commands pattern"
						 : "%sno command (an instance): when.commands never match",
				      t->command ? t->command : "");
	}
	if (h->always == 1)
		return decide(why, true, "when.always");
	return decide(why, true, "%s",
		      h->ann_keys && h->ann_keys[0] ? "annotations match"
		      : h->commands		    ? "command matches"
						    : "has bind mounts");
}

/* --- running --- */

bool launch_hooks_have_stage(const struct launch_hooks *hooks, enum launch_hook_stage stage)
{
	for (size_t i = 0; hooks && i < hooks->n; i++)
		if (hooks->v[i].stages & (1u << stage))
			return true;
	return false;
}

char *launch_hook_state_json(const struct launch_hook_run *run)
{
	json_t *ann = json_object();
	for (size_t i = 0; run->annotations && run->annotations[i]; i++) {
		const char *eq = strchr(run->annotations[i], '=');
		if (!eq)
			continue;
		_cleanup_free_ char *k = xstrndup(run->annotations[i], (size_t)(eq - run->annotations[i]));
		json_object_set_new(ann, k, json_string(eq + 1));
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "ociVersion", "1.0.2", "id", run->id, "status", run->status,
			      "bundle", run->bundle, "annotations", ann);
	if (run->pid > 0)
		json_object_set_new(j, "pid", json_integer(run->pid));
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Every capability we hold in our user namespace, made ambient, so that a
 * hook that is not uid 0 there keeps them across execve (they give no power
 * outside the namespace). */
static void raise_ambient(void)
{
	cap_t caps = cap_get_proc();
	if (!caps)
		return;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_SET);
	}
	cap_set_proc(caps);
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
	}
	cap_free(caps);
}

struct hook_child_ctx {
	const struct launch_hook *h;
	const struct launch_hook_run *run;
};

/* In the hook's process, before its exec. */
static int hook_child(void *arg, int report)
{
	const struct hook_child_ctx *c = arg;
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	struct launch_error *e = NULL;
	if (c->run->enter_pid > 0 && launch_hook_enter(c->run->enter_pid, &e) < 0) {
		dprintf(report, "%s", e->msg);
		return 126;
	}
	if (c->run->bundle && chdir(c->run->bundle) < 0 && chdir("/") < 0)
		return 126;
	raise_ambient();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

/* The last lines of OUT, at most about 1500 bytes, on one line each. */
static const char *tail(const char *out)
{
	size_t n = strlen(out);
	if (n <= 1500)
		return out;
	const char *p = out + n - 1500, *nl = strchr(p, '\n');
	return nl ? nl + 1 : p;
}

static int run_one(const struct launch_hook *h, enum launch_hook_stage stage, const struct launch_hook_run *run,
		   const char *state, struct launch_error **err)
{
	int timeout = h->timeout > 0 ? h->timeout : run->default_timeout;
	int64_t t0 = now_us();
	char *const dflt[] = { h->path, NULL };
	struct hook_child_ctx ctx = { h, run };
	/* its own process group: killed whole at the deadline */
	struct launch_proc_spec spec = { .path = h->path,
					 .argv = h->args ? h->args : dflt,
					 .envp = h->env,
					 .child = hook_child,
					 .arg = &ctx,
					 .in = LAUNCH_PROC_PIPE,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_STDOUT,
					 .new_pgrp = true,
					 .what = h->path };
	/* Its output is read until it exits, not until EOF: a child it left in
	 * the background may hold the pipe. */
	struct launch_proc_io io = { .input = state, .input_len = strlen(state), .max = 8192 };
	struct launch_error *e = NULL;
	struct launch_proc proc;
	int st = launch_proc_spawn(&spec, &proc, &e);
	if (st == 0)
		st = launch_proc_wait(&proc, &io, timeout * 1000, &e);
	bool signalled = st > 0 && proc.reaped && WIFSIGNALED(proc.status);
	launch_proc_close(&proc);
	const char *out = io.out ? io.out : "";
	size_t n = strlen(out);
	int64_t us = now_us() - t0;
	launch_info("hook %s (%s): %lld.%03lld ms%s%s", h->name, stage_names[stage], (long long)(us / 1000),
		    (long long)(us % 1000), n && !io.timed_out && st == 0 ? ": " : "",
		    n && !io.timed_out && st == 0 ? tail(out) : "");
	int ret = 0;
	if (st < 0) {
		/* it could not start, or not be run (exec failed, or its set-up
		 * in the child: joining the container) */
		ret = launch_error_msg(err, "hook %s (%s, %s) failed (exit status %d): %s", h->name,
				       h->file ? h->file : h->path, stage_names[stage],
				       e->exit_code ? e->exit_code : 127, e->msg);
	} else if (io.timed_out) {
		ret = launch_error_msg(err, "hook %s (%s, %s) timed out after %d s%s%s", h->name,
				       h->file ? h->file : h->path, stage_names[stage], timeout, n ? ": " : "",
				       tail(out));
	} else if (st != 0) {
		char how[64];
		if (signalled)
			snprintf(how, sizeof(how), "was killed by signal %d", st - 128);
		else
			snprintf(how, sizeof(how), "failed (exit status %d)", st);
		ret = launch_error_msg(err, "hook %s (%s, %s) %s%s%s", h->name, h->file ? h->file : h->path,
				       stage_names[stage], how, n ? ": " : "", tail(out));
	}
	launch_error_free(e);
	free(io.out);
	free(io.err);
	return ret;
}

int launch_hooks_run_stage(const struct launch_hooks *hooks, enum launch_hook_stage stage,
			   const struct launch_hook_run *run, struct launch_error **err)
{
	if (!launch_hooks_have_stage(hooks, stage))
		return 0;
	_cleanup_free_ char *state = launch_hook_state_json(run);
	bool fatal = launch_hook_stage_fatal(stage);
	for (size_t i = 0; i < hooks->n; i++) {
		const struct launch_hook *h = &hooks->v[i];
		if (!(h->stages & (1u << stage)))
			continue;
		struct launch_error *e = NULL;
		if (run_one(h, stage, run, state, &e) == 0)
			continue;
		if (fatal) {
			if (err)
				*err = e;
			else
				launch_error_free(e);
			return -1;
		}
		launch_warn("%s", e->msg);
		launch_error_free(e);
	}
	return 0;
}
