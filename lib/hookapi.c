/* SPDX-License-Identifier: Apache-2.0 */
/* The library side of hook programs (see hookapi.h): the OCI state and
 * bundle, joining the container, and the dynamic linker cache. Putting files
 * into the root is rootfs.c's (launch_inject_*). */
#define _GNU_SOURCE
#include "hookapi.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonpos.h"
#include "resolve.h"
#include "util.h"

/* --- state and bundle --- */

static char **strv_from_json(json_t *a)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach (a, i, e)
		if (json_is_string(e))
			launch_strv_push(&v, xstrdup(json_string_value(e)));
	return v;
}

static int read_bundle(struct launch_hook_state *st, struct launch_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", st->bundle);
	struct launch_json_doc doc;
	if (launch_json_doc_load(&doc, path, err) < 0)
		return -1;
	int ret = -1;
	json_t *root = json_object_get(doc.root, "root");
	const char *rp = json_string_value(json_object_get(root, "path"));
	if (!rp) {
		launch_json_error_at(err, &doc, "", "the bundle has no root.path");
		goto out;
	}
	st->root = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", st->bundle, rp);
	st->root_readonly = json_is_true(json_object_get(root, "readonly"));
	json_t *proc = json_object_get(doc.root, "process");
	st->args = strv_from_json(json_object_get(proc, "args"));
	st->env = strv_from_json(json_object_get(proc, "env"));
	const char *cwd = json_string_value(json_object_get(proc, "cwd"));
	st->cwd = xstrdup(cwd ? cwd : "/");
	ret = 0;
out:
	launch_json_doc_clear(&doc);
	return ret;
}

int launch_hook_state_read(int fd, struct launch_hook_state *st, struct launch_error **err)
{
	memset(st, 0, sizeof(*st));
	char *text = NULL;
	if (launch_read_fd(fd, 1u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read the container state on standard input");
	struct launch_json_doc doc;
	if (launch_json_doc_parse(&doc, "the container state", text, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = -1;
	const char *ver = json_string_value(json_object_get(doc.root, "ociVersion"));
	const char *id = json_string_value(json_object_get(doc.root, "id"));
	const char *status = json_string_value(json_object_get(doc.root, "status"));
	const char *bundle = json_string_value(json_object_get(doc.root, "bundle"));
	if (!ver || !id || !status || !bundle) {
		launch_json_error_at(err, &doc, "", "the container state lacks ociVersion, id, status or bundle");
		goto out;
	}
	st->oci_version = xstrdup(ver);
	st->id = xstrdup(id);
	st->status = xstrdup(status);
	st->bundle = xstrdup(bundle);
	st->pid = (pid_t)json_integer_value(json_object_get(doc.root, "pid"));
	st->annotations = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(doc.root, "annotations"), k, v)
		if (json_is_string(v))
			launch_strv_push(&st->annotations, xasprintf("%s=%s", k, json_string_value(v)));
	ret = read_bundle(st, err);
out:
	launch_json_doc_clear(&doc);
	if (ret < 0)
		launch_hook_state_clear(st);
	return ret;
}

void launch_hook_state_clear(struct launch_hook_state *st)
{
	free(st->oci_version);
	free(st->id);
	free(st->status);
	free(st->bundle);
	launch_strv_free(st->annotations);
	free(st->root);
	launch_strv_free(st->args);
	launch_strv_free(st->env);
	free(st->cwd);
	memset(st, 0, sizeof(*st));
}

const char *launch_hook_state_getenv(const struct launch_hook_state *st, const char *name)
{
	return launch_strv_value(st->env, name);
}

const char *launch_hook_state_annotation(const struct launch_hook_state *st, const char *key)
{
	return launch_strv_value(st->annotations, key);
}

/* --- namespaces --- */

static int join(pid_t pid, const char *ns, int type, struct launch_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open %s (has the container ended?)", path);
	struct stat theirs, ours;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (fstat(fd, &theirs) == 0 && stat(path, &ours) == 0 && theirs.st_ino == ours.st_ino &&
	    theirs.st_dev == ours.st_dev)
		return 0; /* there already */
	if (setns(fd, type) < 0)
		return launch_error_set(err, errno, "cannot join the %s namespace of process %d", ns, pid);
	return 0;
}

int launch_hook_enter(pid_t pid, struct launch_error **err)
{
	if (pid <= 0)
		return launch_error_msg(err, "the container state has no pid to join (is the container running?)");
	if (join(pid, "user", CLONE_NEWUSER, err) < 0 || join(pid, "mnt", CLONE_NEWNS, err) < 0)
		return -1;
	return 0;
}

/* --- the dynamic linker cache --- */

#if defined(__x86_64__)
#define ABI_MARK "x86-64"
#elif defined(__aarch64__)
#define ABI_MARK "AArch64"
#elif defined(__powerpc64__)
#define ABI_MARK "64bit"
#else
#define ABI_MARK NULL
#endif

/* Lines of `ldconfig -p`: "\tNAME (FLAGS) => PATH" */
int launch_ldcache_parse(const char *text, struct launch_ldcache *c)
{
	memset(c, 0, sizeof(*c));
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '\t' && line[0] != ' ')
			continue; /* "N libs found in cache ..." */
		while (*line == '\t' || *line == ' ')
			line++;
		char *open = strstr(line, " ("), *arrow = strstr(line, ") => ");
		if (!open || !arrow || arrow < open)
			continue;
		_cleanup_free_ char *flags = xstrndup(open + 2, (size_t)(arrow - open - 2));
		if (ABI_MARK && !strstr(flags, ABI_MARK))
			continue;
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		c->v[c->n].name = xstrndup(line, (size_t)(open - line));
		c->v[c->n].path = xstrdup(arrow + 5);
		c->n++;
	}
	return 0;
}

int launch_ldcache_read(const char *ldconfig, const char *root, struct launch_ldcache *c, struct launch_error **err)
{
	memset(c, 0, sizeof(*c));
	char *argv[] = { (char *)ldconfig, "-r", (char *)(root ? root : "/"), "-p", NULL };
	_cleanup_free_ char *out = NULL;
	int r = launch_run_capture(argv, true, 64u << 20, &out);
	if (r < 0)
		return launch_error_set(err, errno, "cannot run %s", ldconfig);
	if (r != 0)
		return launch_error_msg(err,
					"cannot read the linker cache of %s (is there an etc/ld.so.cache?): %s -r %s "
					"-p failed (status %d)%s%s",
					argv[2], ldconfig, argv[2], r, *out ? ": " : "", out);
	return launch_ldcache_parse(out, c);
}

void launch_ldcache_clear(struct launch_ldcache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].path);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const struct launch_ldcache_entry *launch_ldcache_find(const struct launch_ldcache *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

/* ldconfig -X -i -r ROOT [-C CACHE] DIRS... */
static int run_ldconfig(const char *ldconfig, const char *root, const char *cache, char *const *dirs,
			struct launch_error **err)
{
	char **argv = NULL;
	launch_strv_push(&argv, xstrdup(ldconfig));
	launch_strv_push(&argv, xstrdup("-X"));
	launch_strv_push(&argv, xstrdup("-i"));
	launch_strv_push(&argv, xstrdup("-r"));
	launch_strv_push(&argv, xstrdup(root));
	if (cache) {
		launch_strv_push(&argv, xstrdup("-C"));
		launch_strv_push(&argv, xstrdup(cache));
	}
	for (size_t i = 0; dirs && dirs[i]; i++)
		launch_strv_push(&argv, xstrdup(dirs[i]));
	_cleanup_free_ char *out = NULL;
	int r = launch_run_capture(argv, true, 2048, &out);
	launch_strv_free(argv);
	if (r < 0)
		return launch_error_set(err, errno, "cannot run %s", ldconfig);
	if (r != 0)
		return launch_error_msg(err, "%s could not rebuild the container's linker cache (status %d)%s%s",
					ldconfig, r, *out ? ": " : "", out);
	return 0;
}

/* DIRS, then the directories of what ROOT's cache lists now (what earlier
 * hooks added stays), each once. */
static char **cache_dirs(const char *ldconfig, const char *root, char *const *dirs)
{
	char **all = launch_strv_copy(dirs);
	if (!all)
		all = xcalloc(1, sizeof(char *));
	struct launch_ldcache c;
	if (launch_ldcache_read(ldconfig, root, &c, NULL) < 0)
		return all;
	for (size_t i = 0; i < c.n; i++) {
		const char *slash = strrchr(c.v[i].path, '/');
		if (!slash || slash == c.v[i].path)
			continue;
		_cleanup_free_ char *d = xstrndup(c.v[i].path, (size_t)(slash - c.v[i].path));
		bool have = false;
		for (size_t k = 0; all[k] && !have; k++)
			have = !strcmp(all[k], d);
		if (!have)
			launch_strv_push(&all, steal_pointer(&d));
	}
	launch_ldcache_clear(&c);
	return all;
}

int launch_ldcache_update(const char *ldconfig, const char *root, char *const *dirs, struct launch_error **err)
{
	_cleanup_strv_ char **all = cache_dirs(ldconfig, root, dirs);
	dirs = all;
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return launch_error_set(err, errno, "cannot open the container root %s", root);
	_cleanup_close_ int etc = launch_resolve_in_root(rootfd, "/etc", O_RDONLY | O_DIRECTORY);
	if (etc < 0)
		return launch_error_set(err, errno, "cannot open /etc in the container");
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", etc);
	if (access(p, W_OK) == 0)
		return run_ldconfig(ldconfig, root, NULL, dirs, err); /* a writable container */

	/* Read-only: build the cache in a private directory of the container's
	 * /tmp (ldconfig works chrooted, so the file must be inside the root),
	 * bind it over /etc/ld.so.cache, and remove the directory: the mount
	 * keeps the file. */
	_cleanup_close_ int tmp = launch_resolve_in_root(rootfd, "/tmp", O_RDONLY | O_DIRECTORY);
	if (tmp < 0)
		return launch_error_set(err, errno, "cannot open /tmp in the container");
	char name[64];
	int made = -1;
	for (int i = 0; i < 100 && made < 0; i++) {
		snprintf(name, sizeof(name), ".launch-ldcache.%d.%d", (int)getpid(), i);
		made = mkdirat(tmp, name, 0700);
		if (made < 0 && errno != EEXIST)
			return launch_error_set(err, errno, "cannot create a directory in the container's /tmp");
	}
	if (made < 0)
		return launch_error_msg(err, "cannot create a directory in the container's /tmp");
	_cleanup_free_ char *cache = xasprintf("/tmp/%s/ld.so.cache", name);
	int ret = run_ldconfig(ldconfig, root, cache, dirs, err);
	if (ret == 0) {
		/* the cache an earlier hook bound here is a file already
		 * unlinked, on which nothing can be mounted: take it off */
		_cleanup_close_ int old = launch_resolve_in_root(rootfd, "/etc/ld.so.cache", O_PATH | O_NOFOLLOW);
		struct stat ost;
		if (old >= 0 && fstat(old, &ost) == 0 && ost.st_nlink == 0) {
			snprintf(p, sizeof(p), "/proc/self/fd/%d", old);
			if (umount2(p, MNT_DETACH) < 0)
				ret = launch_error_set(err, errno,
						       "cannot replace the linker cache an earlier hook made");
		}
	}
	if (ret == 0) {
		_cleanup_free_ char *src = xasprintf("/proc/self/fd/%d/%s/ld.so.cache", tmp, name);
		struct launch_inject *inj = NULL;
		ret = launch_inject_begin(root, &inj, err);
		if (ret == 0) {
			ret = launch_inject_bind(inj, src, "/etc/ld.so.cache", true, err);
			int r = launch_inject_end(inj, ret < 0 ? NULL : err);
			ret = ret < 0 ? ret : r;
		}
	}
	_cleanup_free_ char *file = xasprintf("%s/ld.so.cache", name), *tilde = xasprintf("%s/ld.so.cache~", name);
	unlinkat(tmp, file, 0);
	unlinkat(tmp, tilde, 0);
	unlinkat(tmp, name, AT_REMOVEDIR);
	return ret;
}
