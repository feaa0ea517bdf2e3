/* SPDX-License-Identifier: Apache-2.0 */
/* Image stores (see store.h): references, the index, locking, and the
 * clean-up of what killed writers left. */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "trust.h"
#include "util.h"

#define INDEX_MAX (64u << 20)
#define DOCKER_HUB "registry-1.docker.io"

/* --- references --- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool sha256_valid(const char *d)
{
	if (!launch_str_has_prefix(d, "sha256:") || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!is_hex(*p))
			return false;
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(is_alnum(t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(is_alnum(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

/* Components [A-Za-z0-9][A-Za-z0-9._-]* joined by '/'; the first may end in
 * ":PORT" (a registry host). */
static bool name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255)
		return false;
	bool first = true, start = true, port = false;
	for (const char *p = name; *p; p++) {
		if (*p == '/') {
			if (start)
				return false;
			first = false;
			start = true;
			port = false;
			continue;
		}
		if (start) {
			if (!is_alnum(*p))
				return false;
			start = false;
			continue;
		}
		if (port) {
			if (!(*p >= '0' && *p <= '9'))
				return false;
			continue;
		}
		if (*p == ':' && first) {
			port = true;
			if (!(p[1] >= '0' && p[1] <= '9'))
				return false;
			continue;
		}
		if (!(is_alnum(*p) || *p == '.' || *p == '_' || *p == '-'))
			return false;
	}
	return !start && !(port && first && !strchr(name, '/'));
}

int launch_ref_parse(const char *s, struct launch_ref *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	if (s[0] == '@') {
		const char *h = s + 1;
		if (launch_str_has_prefix(h, "sha256:"))
			h += 7;
		size_t n = strlen(h);
		bool ok = n >= 4 && n <= 64;
		for (size_t i = 0; ok && i < n; i++)
			ok = is_hex(h[i]);
		if (!ok)
			return launch_error_msg(err,
						"invalid image digest `%s`: give @ and 4 to 64 lowercase hex digits of "
						"its sha256 (see 'launch images')",
						s);
		out->digest = xstrdup(h);
		return 0;
	}
	if (strchr(s, '@'))
		return launch_error_msg(err,
					"invalid image name `%s`: NAME@DIGEST is for pulling; a stored image is "
					"NAME[:TAG] or @DIGEST",
					s);
	const char *colon = strrchr(s, ':'), *slash = strrchr(s, '/');
	_cleanup_free_ char *name = NULL;
	const char *tag = "latest";
	if (colon && (!slash || colon > slash)) {
		name = xstrndup(s, (size_t)(colon - s));
		tag = colon + 1;
	} else {
		name = xstrdup(s);
	}
	if (!name_valid(name))
		return launch_error_msg(err,
					"invalid image name `%s`: use letters, digits, `.`, `_` and `-`, in "
					"components separated by `/` (e.g. debian:bookworm, lab/tools:1.2)",
					s);
	if (!tag_valid(tag))
		return launch_error_msg(err,
					"invalid image tag `%s` in `%s`: use up to 128 letters, digits, `_`, `.` "
					"and `-`, not starting with `.` or `-`",
					tag, s);
	out->name = steal_pointer(&name);
	out->tag = xstrdup(tag);
	return 0;
}

void launch_ref_clear(struct launch_ref *r)
{
	free(r->name);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

bool launch_ref_looks_like(const char *s)
{
	if (!*s || s[0] == '/' || s[0] == '.')
		return false;
	struct launch_ref r;
	if (launch_ref_parse(s, &r, NULL) < 0)
		return false;
	launch_ref_clear(&r);
	return true;
}

char *launch_ref_canonical(const char *s, struct launch_error **err)
{
	struct launch_ref r;
	if (launch_ref_parse(s, &r, err) < 0)
		return NULL;
	if (!r.name) {
		launch_ref_clear(&r);
		launch_error_msg(err, "`%s` is a digest: give a NAME[:TAG]", s);
		return NULL;
	}
	char *c = xasprintf("%s:%s", r.name, r.tag);
	launch_ref_clear(&r);
	return c;
}

/* --- registry references --- */

void launch_registry_ref_clear(struct launch_registry_ref *r)
{
	free(r->user);
	free(r->registry);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static bool repo_valid(const char *s)
{
	if (!*s || strlen(s) > 255 || s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' ||
		      *p == '/'))
			return false;
	return true;
}

int launch_registry_ref_parse(const char *s, struct launch_registry_ref *out, struct launch_error **err)
{
	return launch_registry_ref_parse_with(s, NULL, out, err);
}

int launch_registry_ref_parse_with(const char *s, const char *default_registry, struct launch_registry_ref *out,
				   struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	const char *orig = s;
	if (launch_str_has_prefix(s, "docker://"))
		s += 9;
	/* enroot's USER@: an @ not followed by a digest */
	const char *user_at = strchr(s, '@');
	if (user_at && !launch_str_has_prefix(user_at + 1, "sha256:")) {
		out->user = xstrndup(s, (size_t)(user_at - s));
		s = user_at + 1;
		if (!*out->user) {
			launch_registry_ref_clear(out);
			return launch_error_msg(err, "invalid reference `%s`: the user before `@` is empty", orig);
		}
	}
	_cleanup_free_ char *rest = xstrdup(s);
	/* enroot's REGISTRY#IMAGE */
	char *hash = strchr(rest, '#');
	if (hash) {
		if (hash == rest || strchr(hash + 1, '#')) {
			launch_registry_ref_clear(out);
			return launch_error_msg(err, "invalid reference `%s`: expected [USER@][REGISTRY#]IMAGE[:TAG]",
						orig);
		}
		*hash = '/';
	}
	char *at = strchr(rest, '@');
	if (at) {
		*at = '\0';
		if (!sha256_valid(at + 1))
			return launch_error_msg(err,
						"invalid reference `%s`: the digest must be sha256: and 64 hex digits",
						orig);
		out->digest = xstrdup(at + 1);
	}
	char *slash = strchr(rest, '/');
	const char *path = rest;
	/* a first component with a dot, a colon or "localhost" is a registry,
	 * and so is what came before a # */
	if (slash && (hash || memchr(rest, '.', (size_t)(slash - rest)) || memchr(rest, ':', (size_t)(slash - rest)) ||
		      !strncmp(rest, "localhost", (size_t)(slash - rest)))) {
		out->registry = xstrndup(rest, (size_t)(slash - rest));
		path = slash + 1;
	} else {
		out->registry = xstrdup(default_registry && *default_registry ? launch_registry_host(default_registry)
									      : DOCKER_HUB);
	}
	_cleanup_free_ char *repo = xstrdup(path);
	char *colon = strrchr(repo, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		out->tag = xstrdup(colon + 1);
	}
	if (!out->tag && !out->digest)
		out->tag = xstrdup("latest");
	if (!strcmp(out->registry, DOCKER_HUB) && !strchr(repo, '/')) {
		char *lib = xasprintf("library/%s", repo);
		free(repo);
		repo = lib;
	}
	out->repo = steal_pointer(&repo);
	bool tag_ok =
		!out->tag || (*out->tag && strlen(out->tag) <= 128 &&
			      strspn(out->tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
				      strlen(out->tag) &&
			      out->tag[0] != '.' && out->tag[0] != '-');
	if (!*out->registry || !repo_valid(out->repo) || !tag_ok) {
		launch_registry_ref_clear(out);
		return launch_error_msg(err,
					"invalid reference `%s`: expected docker://[REGISTRY/]REPOSITORY[:TAG|@sha256:"
					"DIGEST], with a lowercase repository (e.g. docker://debian:12, "
					"docker://nvcr.io/nvidia/pytorch:24.01-py3)",
					orig);
	}
	return 0;
}

char *launch_registry_ref_string(const struct launch_registry_ref *r)
{
	const char *reg = !strcmp(r->registry, DOCKER_HUB) ? "docker.io" : r->registry;
	if (r->digest)
		return xasprintf("%s/%s@%s", reg, r->repo, r->digest);
	return xasprintf("%s/%s:%s", reg, r->repo, r->tag);
}

char *launch_registry_ref_local_name(const struct launch_registry_ref *r)
{
	const char *repo = r->repo;
	bool hub = !strcmp(r->registry, DOCKER_HUB);
	if (hub && launch_str_has_prefix(repo, "library/"))
		repo += 8;
	/* pinned by digest: a tag of its own, so it never stands for another */
	_cleanup_free_ char *pinned = r->digest ? xasprintf("sha256-%s", r->digest + 7) : NULL;
	const char *tag = pinned ? pinned : r->tag ? r->tag : "latest";
	return hub ? xasprintf("%s:%s", repo, tag) : xasprintf("%s/%s:%s", r->registry, repo, tag);
}

const char *launch_registry_host(const char *r)
{
	if (!strcmp(r, "docker.io") || !strcmp(r, "index.docker.io") || !strcmp(r, "hub.docker.com"))
		return DOCKER_HUB;
	return r;
}

bool launch_registry_ref_is(const char *s)
{
	if (launch_str_has_prefix(s, "docker://"))
		return true;
	/* enroot's [USER@][REGISTRY#]IMAGE: a user (a plain word before @) or a
	 * registry host before #, never in a store name, a path or a source
	 * such as docker-archive:FILE:@N */
	if (s[0] == '/' || s[0] == '.' || s[0] == '@')
		return false;
	const char *at = strchr(s, '@'), *hash = strchr(s, '#');
	size_t word = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	bool user = at && s + word == at && !launch_str_has_prefix(at + 1, "sha256:");
	const char *host = user ? at + 1 : s;
	return user || (hash && hash > host && !memchr(host, '/', (size_t)(hash - host)));
}

bool launch_ref_tag_is_digest(const char *tag)
{
	if (!launch_str_has_prefix(tag, "sha256-") || strlen(tag) != 7 + 64)
		return false;
	for (const char *p = tag + 7; *p; p++)
		if (!is_hex(*p))
			return false;
	return true;
}

/* --- stores and the index --- */

int launch_stores(const struct launch_config *c, struct launch_store **out, size_t *n, struct launch_error **err)
{
	_cleanup_free_ char *user = NULL;
	if (launch_store_dir(c, &user, err) < 0)
		return -1;
	size_t sites = launch_strv_len(c ? c->site_stores : NULL);
	struct launch_store *v = xcalloc(1 + sites, sizeof(*v));
	v[0].root = steal_pointer(&user);
	for (size_t i = 0; i < sites; i++) {
		v[1 + i].root = xstrdup(c->site_stores[i]);
		v[1 + i].site = true;
	}
	*out = v;
	*n = 1 + sites;
	return 0;
}

void launch_stores_free(struct launch_store *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].root);
	free(v);
}

void launch_store_image_clear(struct launch_store_image *i)
{
	free(i->digest);
	free(i->file);
	free(i->source);
	json_decref(i->config);
	json_decref(i->meta);
	launch_strv_free(i->tags);
	free(i->store);
	memset(i, 0, sizeof(*i));
}

static char *index_path(const struct launch_store *s)
{
	return xasprintf("%s/index.json", s->root);
}

/* Check the store's root before anything in it is read or written: an index
 * and images that another user could replace would run as the caller's
 * (trust.h). The user's store must be the caller's, a site store root's or
 * the caller's. Returns 1 when it does not exist (and CREATE is false). */
static int store_check(const struct launch_store *s, bool create, struct launch_error **err)
{
	unsigned flags = (s->site ? LAUNCH_TRUST_ROOT : 0) | (create ? LAUNCH_TRUST_CREATE : LAUNCH_TRUST_MISSING_OK);
	struct launch_error *e = NULL;
	int fd = launch_trust_dir(
		s->root, getuid(), 0700, flags, s->site ? "site image store" : "image store",
		s->site ? "ask your admins to fix site_stores"
			: "set XDG_DATA_HOME, or ask your admins to change \"store\" in the site config",
		&e);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (!e)
		return 1; /* missing */
	if (err)
		*err = e;
	else
		launch_error_free(e);
	return -1;
}

/* The index, or an empty one when the store has none yet. */
static json_t *index_load(const struct launch_store *s, struct launch_error **err)
{
	_cleanup_free_ char *path = index_path(s);
	_cleanup_free_ char *text = NULL;
	int st = store_check(s, false, err);
	if (st < 0)
		return NULL;
	if (st > 0)
		return json_pack("{s:i, s:{}, s:{}}", "version", 1, "images", "tags");
	if (launch_read_file_at(AT_FDCWD, path, INDEX_MAX, &text, NULL) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return json_pack("{s:i, s:{}, s:{}}", "version", 1, "images", "tags");
		launch_error_set(err, errno, "cannot read image store index %s", path);
		return NULL;
	}
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	json_t *images = j ? json_object_get(j, "images") : NULL, *tags = j ? json_object_get(j, "tags") : NULL;
	if (!j || !json_is_object(images) || !json_is_object(tags) ||
	    json_integer_value(json_object_get(j, "version")) != 1) {
		json_decref(j);
		launch_error_msg(err, "image store index %s is damaged%s%s (move it away to start an empty store)",
				 path, j ? "" : ": ", j ? "" : jerr.text);
		return NULL;
	}
	return j;
}

static int index_save(const struct launch_store *s, json_t *index, struct launch_error **err)
{
	_cleanup_free_ char *path = index_path(s);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	char *text = json_dumps(index, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return launch_error_msg(err, "cannot serialise the image store index");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = fd < 0 ? -1 : launch_write_all(fd, text, strlen(text));
	int e = errno;
	free(text);
	if (fd >= 0 && r == 0 && fsync(fd) < 0) {
		r = -1;
		e = errno;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0 || rename(tmp, path) < 0) {
		if (r == 0)
			e = errno;
		unlink(tmp);
		launch_error_set(err, e, "cannot write image store index %s", path);
		return launch_store_space_hint(s, err);
	}
	return 0;
}

int launch_store_space_hint(const struct launch_store *s, struct launch_error **err)
{
	if (!err || !*err || ((*err)->errno_ != ENOSPC && (*err)->errno_ != EDQUOT) ||
	    launch_error_is(*err, LAUNCH_ERR_NO_SPACE))
		return -1;
	char *m = xasprintf(
		"%s (free space in %s: 'launch rmi' removes images, even on a full disk; or move your "
		"image store to a larger file system: XDG_DATA_HOME, or \"store\" in the site config)",
		(*err)->msg, s->root);
	free((*err)->msg);
	(*err)->msg = m;
	(*err)->kind = LAUNCH_ERR_NO_SPACE;
	return -1;
}

static char *image_file(const struct launch_store *s, const char *digest)
{
	const char *hex = strchr(digest, ':');
	return xasprintf("%s/images/%s.sqfs", s->root, hex ? hex + 1 : digest);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fill_image(const struct launch_store *s, json_t *index, const char *digest, json_t *entry,
		       struct launch_store_image *out)
{
	memset(out, 0, sizeof(*out));
	out->digest = xstrdup(digest);
	out->file = image_file(s, digest);
	out->size = json_integer_value(json_object_get(entry, "size"));
	out->created = json_integer_value(json_object_get(entry, "created"));
	const char *src = json_string_value(json_object_get(entry, "source"));
	out->source = xstrdup(src ? src : "");
	json_t *cfg = json_object_get(entry, "config");
	out->config = json_is_object(cfg) ? json_incref(cfg) : json_object();
	json_t *meta = json_object_get(entry, "meta");
	out->meta = json_is_object(meta) ? json_incref(meta) : NULL;
	out->tags = xcalloc(1, sizeof(char *));
	const char *tag;
	json_t *v;
	json_object_foreach (json_object_get(index, "tags"), tag, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), digest))
			launch_strv_push(&out->tags, xstrdup(tag));
	qsort(out->tags, launch_strv_len(out->tags), sizeof(char *), cmp_str);
	out->store = xstrdup(s->root);
	out->site = s->site;
}

/* Is image DIGEST of S gone: its index entry left by a removal that freed
 * the space first (see store.h)? Only a missing file counts: one that
 * cannot be looked at for another reason is left to fail when opened. */
static bool file_gone(const struct launch_store *s, const char *digest)
{
	_cleanup_free_ char *file = image_file(s, digest);
	return access(file, F_OK) < 0 && errno == ENOENT;
}

/* The digest REF names in INDEX of S, or NULL (with the reason in *why). */
static const char *lookup(const struct launch_store *s, json_t *index, const struct launch_ref *ref, char **why)
{
	if (ref->name) {
		_cleanup_free_ char *key = xasprintf("%s:%s", ref->name, ref->tag);
		const char *d = json_string_value(json_object_get(json_object_get(index, "tags"), key));
		if (!d || !json_object_get(json_object_get(index, "images"), d) || file_gone(s, d))
			return NULL;
		return d;
	}
	const char *found = NULL, *digest;
	json_t *v;
	size_t matches = 0;
	json_object_foreach (json_object_get(index, "images"), digest, v) {
		const char *hex = strchr(digest, ':');
		if (hex && launch_str_has_prefix(hex + 1, ref->digest) && !file_gone(s, digest)) {
			found = digest;
			matches++;
		}
	}
	if (matches > 1) {
		*why = xasprintf("digest prefix @%s is ambiguous (%zu images): give more digits", ref->digest, matches);
		return NULL;
	}
	return found;
}

static char *ref_text(const struct launch_ref *ref)
{
	return ref->name ? xasprintf("%s:%s", ref->name, ref->tag) : xasprintf("@%s", ref->digest);
}

/* The tags of STORES whose image is there, then the NAME part of each. */
static void stored_tags(const struct launch_store *stores, size_t n, char ***tags, char ***names)
{
	*tags = xcalloc(1, sizeof(char *));
	*names = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *index = index_load(&stores[i], NULL), *v;
		if (!index)
			continue;
		const char *tag;
		json_object_foreach (json_object_get(index, "tags"), tag, v) {
			const char *d = json_string_value(v), *colon = strrchr(tag, ':');
			if (!d || !colon || !json_object_get(json_object_get(index, "images"), d) ||
			    file_gone(&stores[i], d))
				continue;
			launch_strv_push(tags, xstrdup(tag));
			launch_strv_push(names, xstrndup(tag, (size_t)(colon - tag)));
		}
		json_decref(index);
	}
}

/* The stored tag REF is likely a typo of: the nearest NAME:TAG, else the
 * first tag of the nearest NAME (`ubuntu` when only ubuntu:22.04 is
 * there); NULL when none is near (launch_closest). */
static char *suggest(const struct launch_store *stores, size_t n, const struct launch_ref *ref)
{
	if (!ref->name)
		return NULL;
	_cleanup_strv_ char **tags = NULL, **names = NULL;
	stored_tags(stores, n, &tags, &names);
	_cleanup_free_ char *want = ref_text(ref);
	size_t count = launch_strv_len(tags);
	size_t k = launch_closest(want, (const char *const *)tags, count);
	if (k == count)
		k = launch_closest(ref->name, (const char *const *)names, count);
	return k < count ? xstrdup(tags[k]) : NULL;
}

/* REF is in none of STORES: say where it was looked for, and what it may
 * have meant. */
static int not_found(const struct launch_store *stores, size_t n, const struct launch_ref *ref,
		     struct launch_error **err)
{
	_cleanup_free_ char *what = ref_text(ref), *near = suggest(stores, n, ref);
	const char *where = n > 1 ? " nor the site's" : "";
	if (near)
		return launch_error_msg(err,
					"image %s not found in your image store (%s)%s (did you mean `%s`? see "
					"'launch images')",
					what, stores[0].root, where, near);
	return launch_error_msg(err,
				"image %s not found in your image store (%s)%s (see 'launch images'; add images "
				"with 'launch import')",
				what, stores[0].root, where);
}

/* The digest REF names in INDEX of the one store S, or NULL with the error:
 * an ambiguous digest prefix, or not found. */
static const char *lookup_in(const struct launch_store *s, json_t *index, const struct launch_ref *ref,
			     struct launch_error **err)
{
	_cleanup_free_ char *why = NULL;
	const char *digest = lookup(s, index, ref, &why);
	if (digest)
		return digest;
	if (why)
		launch_error_kind_msg(err, LAUNCH_ERR_AMBIGUOUS, "%s", why);
	else
		not_found(s, 1, ref, err);
	return NULL;
}

int launch_stores_find(const struct launch_store *stores, size_t n, const struct launch_ref *ref,
		       struct launch_store_image *out, struct launch_error **err)
{
	for (size_t i = 0; i < n; i++) {
		json_t *index = index_load(&stores[i], err);
		if (!index)
			return -1;
		_cleanup_free_ char *why = NULL;
		const char *digest = lookup(&stores[i], index, ref, &why);
		if (digest) {
			fill_image(&stores[i], index, digest, json_object_get(json_object_get(index, "images"), digest),
				   out);
			json_decref(index);
			return 0;
		}
		json_decref(index);
		if (why)
			return launch_error_kind_msg(err, LAUNCH_ERR_AMBIGUOUS, "%s", why);
	}
	return not_found(stores, n, ref, err);
}

static int cmp_image(const void *a, const void *b)
{
	const struct launch_store_image *x = a, *y = b;
	const char *tx = x->tags[0], *ty = y->tags[0];
	if (!tx || !ty)
		return (!tx) - (!ty);
	return strcmp(tx, ty);
}

int launch_store_list(const struct launch_store *store, struct launch_store_image **out, size_t *n,
		      struct launch_error **err)
{
	*out = NULL;
	*n = 0;
	json_t *index = index_load(store, err);
	if (!index)
		return -1;
	json_t *images = json_object_get(index, "images"), *v;
	const char *digest;
	*out = xcalloc(json_object_size(images) + 1, sizeof(**out));
	json_object_foreach (images, digest, v)
		if (!file_gone(store, digest))
			fill_image(store, index, digest, v, &(*out)[(*n)++]);
	qsort(*out, *n, sizeof(**out), cmp_image);
	json_decref(index);
	return 0;
}

/* --- writing --- */

static int refuse_site(const struct launch_store *s, struct launch_error **err)
{
	if (s->site)
		return launch_error_msg(err, "the site image store %s is read-only", s->root);
	return 0;
}

int launch_store_prepare(const struct launch_store *store, struct launch_error **err)
{
	if (refuse_site(store, err) < 0)
		return -1;
	if (store_check(store, true, err) < 0)
		return -1;
	static const char *const sub[] = { "/images", "/tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		_cleanup_free_ char *d = xasprintf("%s%s", store->root, sub[i]);
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return launch_error_set(err, errno, "cannot create image store directory %s", d);
	}
	return 0;
}

/* flock(FD, OP), again when a signal interrupts it. */
static int flock_wait(int fd, int op)
{
	int r;
	do
		r = flock(fd, op);
	while (r < 0 && errno == EINTR);
	return r;
}

static int store_lock(const struct launch_store *s, struct launch_error **err)
{
	int st = store_check(s, false, err);
	if (st != 0)
		return st < 0 ? -1 : launch_error_msg(err, "image store %s does not exist", s->root);
	_cleanup_free_ char *path = xasprintf("%s/lock", s->root);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image store lock %s", path);
	if (flock_wait(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return launch_error_set(err, e, "cannot lock image store %s (does its file system support flock?)",
					s->root);
	}
	return fd;
}

/* Is FD still the file PATH names? A clean-up that found a temporary
 * unlocked (between its creation and its writer's flock) may have removed
 * it: the writer then starts again with a new one. */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && a.st_nlink > 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int launch_store_tmpfile(const struct launch_store *store, const char *suffix, char **path, int *lock_fd,
			 struct launch_error **err)
{
	if (launch_store_prepare(store, err) < 0)
		return -1;
	for (int attempt = 0;; attempt++) {
		char *p = xasprintf("%s/tmp/%d-XXXXXX%s", store->root, (int)getpid(), suffix);
		int fd = mkostemps(p, (int)strlen(suffix), O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			free(p);
			return launch_error_set(err, e, "cannot create a temporary file in %s/tmp", store->root);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			unlink(p);
			free(p);
			if (e == EWOULDBLOCK && attempt < 100)
				continue; /* a clean-up holds it for a moment: another name */
			return launch_error_set(err, e, "cannot lock a temporary file in %s/tmp", store->root);
		}
		if (still_linked(fd, p)) {
			*path = p;
			*lock_fd = fd;
			return 0;
		}
		close(fd);
		free(p);
		if (attempt >= 100)
			return launch_error_msg(err, "cannot keep a temporary file in %s/tmp: something removes them",
						store->root);
	}
}

/* Drop from INDEX the images of S whose file is gone, and the tags naming
 * no image; true when there were any. */
static bool drop_gone(const struct launch_store *s, json_t *index)
{
	json_t *images = json_object_get(index, "images"), *tags = json_object_get(index, "tags"), *v;
	const char *k;
	void *it;
	bool dropped = false;
	json_object_foreach_safe(images, it, k, v)
	{
		if (file_gone(s, k)) {
			launch_debug("image store: dropping image %s, whose file is gone", k);
			json_object_del(images, k);
			dropped = true;
		}
	}
	json_object_foreach_safe(tags, it, k, v)
	{
		if (!json_is_string(v) || !json_object_get(images, json_string_value(v))) {
			json_object_del(tags, k);
			dropped = true;
		}
	}
	return dropped;
}

/* Under the store lock: remove unlocked temporaries, index temporaries of
 * killed writers, and unnamed images; drop the entries of images whose
 * file is gone. */
static void gc_locked(const struct launch_store *s, json_t *index)
{
	if (drop_gone(s, index))
		index_save(s, index, NULL); /* or the next writer's */
	DIR *top = opendir(s->root);
	for (struct dirent *de; top && (de = readdir(top));)
		if (launch_str_has_prefix(de->d_name, "index.json.tmp."))
			unlinkat(dirfd(top), de->d_name, 0);
	if (top)
		closedir(top);
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", s->root);
	DIR *d = opendir(tmp);
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			launch_debug("image store: removing %s/%s, left by a writer that died", tmp, de->d_name);
			unlinkat(dirfd(d), de->d_name, 0);
		}
		close(fd);
	}
	if (d)
		closedir(d);
	_cleanup_free_ char *imgs = xasprintf("%s/images", s->root);
	d = opendir(imgs);
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".sqfs") != 0)
			continue;
		_cleanup_free_ char *digest = xasprintf("sha256:%.*s", (int)(l - 5), de->d_name);
		if (!json_object_get(json_object_get(index, "images"), digest)) {
			launch_debug("image store: removing %s/%s, which no index entry names", imgs, de->d_name);
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	if (d)
		closedir(d);
}

void launch_store_gc(const struct launch_store *store)
{
	if (store->site || access(store->root, W_OK) < 0)
		return;
	int lock = store_lock(store, NULL);
	if (lock < 0)
		return;
	json_t *index = index_load(store, NULL);
	if (index)
		gc_locked(store, index);
	json_decref(index);
	close(lock);
}

/* --- use markers --- */

int launch_store_use(const char *file, struct launch_error **err)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", file);
	if (flock_wait(fd, LOCK_SH) < 0) {
		/* a file system without flock (a site store on NFS without
		 * locks): the image runs, unmarked; removals there are the
		 * admins' */
		launch_debug("image %s: no use marker (%s)", file, strerror(errno));
		return fd;
	}
	if (!still_linked(fd, file)) {
		close(fd);
		return launch_error_msg(err,
					"image %s was removed while the container started ('launch rmi' or 'launch "
					"prune'): import or pull it again",
					file);
	}
	return fd;
}

/* Claim image FILE for its removal: an exclusive flock, not waited for.
 * The fd (held until the file is unlinked, so that no container can start
 * on it meanwhile), or -1 when a container uses it (or its lock cannot be
 * taken: then it counts as used). A missing file is claimed as -2. */
static int claim(const char *file)
{
	int fd = open(file, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -2 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool launch_store_in_use(const char *file)
{
	int fd = claim(file);
	if (fd >= 0)
		close(fd);
	return fd == -1;
}

/* Images a change removes, claimed: digests and their locked fds. */
struct doomed {
	char **digests;
	int *fds;
	size_t n;
};

static void doomed_add(struct doomed *d, const char *digest, int fd)
{
	d->digests = xrealloc(d->digests, (d->n + 2) * sizeof(char *));
	d->fds = xrealloc(d->fds, (d->n + 1) * sizeof(int));
	d->digests[d->n] = xstrdup(digest);
	d->digests[d->n + 1] = NULL;
	d->fds[d->n++] = fd;
}

static void doomed_clear(struct doomed *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->fds[i] >= 0)
			close(d->fds[i]);
	launch_strv_free(d->digests);
	free(d->fds);
	memset(d, 0, sizeof(*d));
}

/* Claim image DIGEST of S and drop it from INDEX (with its tags); false,
 * with nothing changed, when a container uses it. */
static bool doom(const struct launch_store *s, json_t *index, const char *digest, struct doomed *d)
{
	_cleanup_free_ char *file = image_file(s, digest);
	int fd = claim(file);
	if (fd == -1)
		return false;
	_cleanup_free_ char *key = xstrdup(digest); /* DIGEST may be the index's own key */
	json_object_del(json_object_get(index, "images"), key);
	json_t *tags = json_object_get(index, "tags"), *v;
	const char *k;
	void *it;
	json_object_foreach_safe(tags, it, k, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), key))
			json_object_del(tags, k);
	}
	doomed_add(d, key, fd);
	return true;
}

static void unlink_doomed(const struct launch_store *store, struct doomed *d, size_t i)
{
	_cleanup_free_ char *file = image_file(store, d->digests[i]);
	if (unlink(file) < 0 && errno != ENOENT)
		launch_debug("cannot remove %s: %s", file, strerror(errno));
	/* the claim goes with the name: its space is free only once no
	 * descriptor holds the file, and a container that waited for the
	 * lock finds the file gone (launch_store_use) */
	if (d->fds[i] >= 0)
		close(d->fds[i]);
	d->fds[i] = -1;
}

/* Write INDEX, from which the images of D were removed, then remove their
 * files (claimed: no container runs them). On a full disk (or quota) the
 * new index cannot be written: the files go first, which frees their
 * space, and the index is written after, so that images can be removed
 * whatever the free space. An entry whose file is gone reads as removed
 * (store.h). */
static int save_removal(const struct launch_store *store, json_t *index, struct doomed *d, struct launch_error **err)
{
	struct launch_error *e = NULL;
	if (index_save(store, index, &e) == 0) {
		for (size_t i = 0; i < d->n; i++)
			unlink_doomed(store, d, i);
		return 0;
	}
	if (!d->n || (e->errno_ != ENOSPC && e->errno_ != EDQUOT)) {
		if (err)
			*err = e;
		else
			launch_error_free(e);
		return -1;
	}
	launch_debug("image store: %s; removing the images first", e->msg);
	launch_error_free(steal_pointer(&e));
	for (size_t i = 0; i < d->n; i++) {
		_cleanup_free_ char *file = image_file(store, d->digests[i]);
		if (access(file, F_OK) == 0 && unlink(file) < 0)
			return launch_error_set(err, errno, "cannot remove %s, which a full disk made go first", file);
		unlink_doomed(store, d, i);
	}
	if (index_save(store, index, &e) < 0) {
		/* the space is still short: the images are removed all the
		 * same, and their entries go with the next write of the index */
		launch_warn(
			"%zu image(s) removed, but the store index still lists them until it can be written "
			"again (%s)",
			d->n, e->msg);
		launch_error_free(e);
	}
	return 0;
}

/* Does a tag of INDEX name DIGEST? */
static bool tagged(json_t *index, const char *digest)
{
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(index, "tags"), k, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), digest))
			return true;
	return false;
}

/* Point TAG at DIGEST in INDEX; with DROP, the image it named before goes
 * into D when that was its last tag and no container uses it. */
static void point_tag(const struct launch_store *s, json_t *index, const char *tag, const char *digest, bool drop,
		      struct doomed *d)
{
	json_t *tags = json_object_get(index, "tags");
	const char *old = json_string_value(json_object_get(tags, tag));
	_cleanup_free_ char *before = old && strcmp(old, digest) ? xstrdup(old) : NULL;
	json_object_set_new(tags, tag, json_string(digest));
	if (!drop || !before || tagged(index, before) || !json_object_get(json_object_get(index, "images"), before))
		return;
	if (doom(s, index, before, d))
		launch_debug("image store: %s lost its last tag (%s): removed", before, tag);
	else
		launch_info(
			"image %.19s lost its last tag (%s) but a container uses it: it stays, untagged, "
			"until 'launch prune'",
			before, tag);
}

int launch_store_add(const struct launch_store *store, const char *tmp_file, const struct launch_store_image *img,
		     char *const *tags, struct launch_error **err)
{
	if (launch_store_prepare(store, err) < 0)
		return -1;
	int lock = store_lock(store, err);
	if (lock < 0)
		return -1;
	int ret = -1;
	bool moved = false;
	struct doomed d = { 0 };
	_cleanup_free_ char *file = image_file(store, img->digest);
	json_t *index = index_load(store, err);
	if (!index)
		goto out;
	drop_gone(store, index);
	json_t *images = json_object_get(index, "images");
	if (!json_object_get(images, img->digest)) {
		/* built first: json_pack fails on a source that is not UTF-8 */
		json_t *entry = json_pack("{s:I, s:I, s:s, s:o}", "size", (json_int_t)img->size, "created",
					  (json_int_t)time(NULL), "source", img->source ? img->source : "", "config",
					  img->config ? json_incref(img->config) : json_object());
		if (!entry) {
			launch_error_msg(err,
					 "cannot record image %s in the store index: its source `%s` is not valid "
					 "UTF-8 (rename it)",
					 img->digest, img->source ? img->source : "");
			goto out;
		}
		if (img->meta)
			json_object_set(entry, "meta", img->meta);
		if (rename(tmp_file, file) < 0) {
			launch_error_set(err, errno, "cannot move the new image into %s", file);
			json_decref(entry);
			goto out;
		}
		moved = true;
		json_object_set_new(images, img->digest, entry);
	} else {
		launch_debug("image %s is already stored: keeping the stored copy", img->digest);
		unlink(tmp_file);
	}
	/* a tag imported again names the new image; the old one goes unless
	 * a container uses it (then `launch prune` takes it later) */
	for (size_t i = 0; tags && tags[i]; i++)
		point_tag(store, index, tags[i], img->digest, true, &d);
	if (save_removal(store, index, &d, err) < 0) {
		if (moved)
			unlink(file); /* unnamed: its space back now (a full disk), not at the next gc */
		goto out;
	}
	gc_locked(store, index);
	ret = 0;
out:
	doomed_clear(&d);
	json_decref(index);
	close(lock);
	return ret;
}

static int tag_impl(const struct launch_store *store, const struct launch_ref *ref, const char *new_tag, bool drop,
		    struct launch_error **err)
{
	if (refuse_site(store, err) < 0)
		return -1;
	_cleanup_free_ char *tag = launch_ref_canonical(new_tag, err); /* NAME alone is NAME:latest */
	if (!tag)
		return -1;
	if (launch_store_prepare(store, err) < 0)
		return -1;
	int lock = store_lock(store, err);
	if (lock < 0)
		return -1;
	int ret = -1;
	struct doomed d = { 0 };
	_cleanup_free_ char *digest = NULL;
	json_t *index = index_load(store, err);
	if (!index)
		goto out;
	const char *found = lookup_in(store, index, ref, err);
	if (!found)
		goto out;
	digest = xstrdup(found);
	point_tag(store, index, tag, digest, drop, &d);
	drop_gone(store, index);
	ret = save_removal(store, index, &d, err);
out:
	doomed_clear(&d);
	json_decref(index);
	close(lock);
	return ret;
}

int launch_store_tag(const struct launch_store *store, const struct launch_ref *ref, const char *new_tag,
		     struct launch_error **err)
{
	return tag_impl(store, ref, new_tag, false, err);
}

int launch_store_retag(const struct launch_store *store, const struct launch_ref *ref, const char *new_tag,
		       struct launch_error **err)
{
	return tag_impl(store, ref, new_tag, true, err);
}

int launch_store_remove(const struct launch_store *store, const struct launch_ref *ref, enum launch_store_removal *what,
			struct launch_error **err)
{
	*what = LAUNCH_STORE_UNTAGGED;
	if (refuse_site(store, err) < 0)
		return -1;
	if (access(store->root, F_OK) < 0)
		return not_found(store, 1, ref, err);
	int lock = store_lock(store, err);
	if (lock < 0)
		return -1;
	int ret = -1;
	struct doomed d = { 0 };
	_cleanup_free_ char *digest = NULL;
	json_t *index = index_load(store, err);
	if (!index)
		goto out;
	const char *found = lookup_in(store, index, ref, err);
	if (!found)
		goto out;
	digest = xstrdup(found);
	if (ref->name) {
		_cleanup_free_ char *key = xasprintf("%s:%s", ref->name, ref->tag);
		json_object_del(json_object_get(index, "tags"), key);
	}
	if (!ref->name || !tagged(index, digest)) {
		if (doom(store, index, digest, &d)) {
			*what = LAUNCH_STORE_REMOVED;
		} else if (ref->name) {
			*what = LAUNCH_STORE_KEPT_IN_USE;
		} else {
			_cleanup_free_ char *text = ref_text(ref);
			launch_error_msg(err,
					 "image %s is in use by a running container or instance: nothing was "
					 "removed (stop it first; 'launch ps' lists instances)",
					 text);
			goto out;
		}
	}
	drop_gone(store, index);
	if (save_removal(store, index, &d, err) < 0)
		goto out;
	gc_locked(store, index);
	ret = 0;
out:
	doomed_clear(&d);
	json_decref(index);
	close(lock);
	return ret;
}

/* --- clean-up and usage --- */

void launch_prune_report_clear(struct launch_prune_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].name);
	free(r->items);
	launch_strv_free(r->kept);
	memset(r, 0, sizeof(*r));
}

static void report(struct launch_prune_report *r, enum launch_prune_kind kind, const char *name, int64_t bytes)
{
	r->items = xrealloc(r->items, (r->n + 1) * sizeof(*r->items));
	r->items[r->n++] = (struct launch_prune_item){ kind, xstrdup(name), bytes };
	r->bytes += bytes;
}

static void kept(struct launch_prune_report *r, char *why)
{
	if (!r->kept)
		r->kept = xcalloc(1, sizeof(char *));
	launch_strv_push(&r->kept, why);
}

/* Bytes a file takes on disk (what removing it frees), 0 when gone. */
static int64_t disk_bytes(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (int64_t)st.st_blocks * 512;
}

/* Each entry of DIR (a path under the store) that is not a dot file: ON is
 * called with the open directory and the name. */
static void each_entry(const char *dir, void (*on)(int dfd, const char *name, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d));)
		if (de->d_name[0] != '.')
			on(dirfd(d), de->d_name, arg);
	if (d)
		closedir(d);
}

struct sweep {
	struct launch_prune_report *rep;
	enum launch_prune_kind kind;
	bool dry_run, locked_only; /* LOCKED_ONLY: a file its writer holds locked is skipped */
	size_t busy;
};

static void sweep_one(int dfd, const char *name, void *arg)
{
	struct sweep *s = arg;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (s->locked_only && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		s->busy++;
		close(fd);
		return;
	}
	int64_t bytes = disk_bytes(dfd, name);
	if (s->dry_run || unlinkat(dfd, name, 0) == 0)
		report(s->rep, s->kind, name, bytes);
	close(fd);
}

/* The images prune takes: untagged ones, or all with LAUNCH_PRUNE_ALL,
 * claimed (a container's image is kept, and said so). */
static void prune_images(const struct launch_store *s, json_t *index, unsigned flags, struct doomed *d,
			 struct launch_prune_report *rep)
{
	json_t *images = json_object_get(index, "images"), *v;
	const char *digest;
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	json_object_foreach (images, digest, v)
		if ((flags & LAUNCH_PRUNE_ALL) || !tagged(index, digest))
			launch_strv_push(&names, xstrdup(digest));
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *file = image_file(s, names[i]);
		struct stat st;
		int64_t bytes = stat(file, &st) == 0 ? (int64_t)st.st_blocks * 512 : 0;
		size_t before = d->n;
		if (!doom(s, index, names[i], d)) {
			kept(rep, xasprintf("image %.19s: in use by a running container or instance", names[i]));
			continue;
		}
		report(rep, LAUNCH_PRUNE_IMAGE, names[i], bytes);
		if (flags & LAUNCH_PRUNE_DRY_RUN) {
			/* nothing goes: the claim only told that it could */
			close(d->fds[before]);
			d->fds[before] = -1;
		}
	}
}

/* A cache's lock (LOCK_FN), exclusive, for prune: -1 when WHO (a pull, a
 * build) holds it or it cannot be taken, which the report says. */
static int prune_lock(const struct launch_store *s,
		      int (*lock_fn)(const struct launch_store *, bool, struct launch_error **), const char *what,
		      const char *who, struct launch_prune_report *rep)
{
	struct launch_error *e = NULL;
	int lock = lock_fn(s, true, &e);
	if (lock == -2)
		kept(rep, xasprintf("%s: %s is running (run 'launch prune' again after it)", what, who));
	else if (lock < 0)
		kept(rep, xasprintf("%s: %s", what, e->msg));
	launch_error_free(e);
	return lock < 0 ? -1 : lock;
}

/* The blob cache and the pull's per-image locks, when no pull runs. */
static void prune_cache(const struct launch_store *s, unsigned flags, struct launch_prune_report *rep)
{
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", s->root);
	if (access(blobs, F_OK) < 0)
		return;
	int lock = prune_lock(s, launch_store_cache_lock, "the blob cache", "a pull", rep);
	if (lock < 0)
		return;
	bool dry = flags & LAUNCH_PRUNE_DRY_RUN;
	_cleanup_free_ char *done = xasprintf("%s/sha256", blobs), *partial = xasprintf("%s/partial", blobs);
	struct sweep sw = { rep, LAUNCH_PRUNE_BLOB, dry, false, 0 };
	each_entry(done, sweep_one, &sw);
	sw = (struct sweep){ rep, LAUNCH_PRUNE_PARTIAL, dry, true, 0 };
	each_entry(partial, sweep_one, &sw);
	if (!dry) {
		/* the per-image locks of pulls (none runs) */
		_cleanup_free_ char *locks = xasprintf("%s/locks", s->root);
		DIR *d = opendir(locks);
		for (struct dirent *de; d && (de = readdir(d));)
			if (strlen(de->d_name) == 64)
				unlinkat(dirfd(d), de->d_name, 0);
		if (d)
			closedir(d);
	}
	close(lock);
}

/* What launch build's cache holds: *N steps (their entries), *BYTES on
 * disk, everything counted (the step files and leftovers of killed
 * builds). */
static int64_t tree_bytes;
static int tree_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	if (ftw->level > 0)
		tree_bytes += (int64_t)st->st_blocks * 512;
	return 0;
}

static void build_cache_size(const char *dir, size_t *n, int64_t *bytes)
{
	*n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d));)
		*n += strlen(de->d_name) > 5 && !strcmp(de->d_name + strlen(de->d_name) - 5, ".json");
	if (d)
		closedir(d);
	tree_bytes = 0;
	nftw(dir, tree_add, 16, FTW_PHYS);
	*bytes = tree_bytes;
}

/* The build cache, when no build runs: removed whole. Files that RUN steps
 * left owned by other ids (subordinate ids, a killed build's) cannot be
 * removed here, and are said so. */
static void prune_build(const struct launch_store *s, unsigned flags, struct launch_prune_report *rep)
{
	_cleanup_free_ char *dir = xasprintf("%s/build-cache", s->root);
	if (access(dir, F_OK) < 0)
		return;
	int lock = prune_lock(s, launch_store_build_cache_lock, "the build cache", "a build", rep);
	if (lock < 0)
		return;
	size_t n;
	int64_t bytes;
	build_cache_size(dir, &n, &bytes);
	if (!(flags & LAUNCH_PRUNE_DRY_RUN)) {
		launch_remove_tree(dir);
		size_t left;
		int64_t left_bytes;
		build_cache_size(dir, &left, &left_bytes);
		if (left_bytes > 8192)
			kept(rep,
			     xasprintf("%s: files a RUN step left owned by other ids (remove them with 'launch run "
				       "--root -m %s:/c IMAGE rm -rf /c/tmp')",
				       dir, dir));
		bytes -= left_bytes;
	}
	_cleanup_free_ char *name = xasprintf("of %zu steps", n);
	report(rep, LAUNCH_PRUNE_BUILD, name, bytes);
	close(lock);
}

int launch_store_prune(const struct launch_store *store, unsigned flags, struct launch_prune_report *out,
		       struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	if (refuse_site(store, err) < 0)
		return -1;
	if (access(store->root, F_OK) < 0 && errno == ENOENT)
		return 0; /* nothing stored yet */
	int lock = store_lock(store, err);
	if (lock < 0)
		return -1;
	int ret = -1;
	struct doomed d = { 0 };
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", store->root);
	json_t *index = index_load(store, err);
	if (!index)
		goto out;
	drop_gone(store, index);
	prune_images(store, index, flags, &d, out);
	bool dry = flags & LAUNCH_PRUNE_DRY_RUN;
	/* the removal first: on a full disk its files free the space */
	if (!dry && save_removal(store, index, &d, err) < 0)
		goto out;
	struct sweep sw = { out, LAUNCH_PRUNE_PARTIAL, dry, true, 0 };
	each_entry(tmp, sweep_one, &sw);
	if (sw.busy)
		kept(out, xasprintf("%zu import(s) or commit(s) in progress", sw.busy));
	prune_cache(store, flags, out);
	prune_build(store, flags, out);
	if (!dry)
		gc_locked(store, index);
	ret = 0;
out:
	doomed_clear(&d);
	json_decref(index);
	close(lock);
	return ret;
}

struct tally {
	size_t n, active;
	int64_t bytes, active_bytes;
	bool lockable; /* count files their writer holds as active */
};

static void tally_one(int dfd, const char *name, void *arg)
{
	struct tally *t = arg;
	int64_t bytes = disk_bytes(dfd, name);
	t->n++;
	t->bytes += bytes;
	if (!t->lockable)
		return;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		t->active++;
		t->active_bytes += bytes;
	}
	close(fd);
}

int launch_store_usage(const struct launch_store *store, struct launch_store_usage *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	struct launch_store_image *v = NULL;
	size_t n = 0;
	if (launch_store_list(store, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int64_t bytes = stat(v[i].file, &st) == 0 ? (int64_t)st.st_blocks * 512 : v[i].size;
		out->images++;
		out->images_bytes += bytes;
		bool used = !store->site && launch_store_in_use(v[i].file);
		if (!v[i].tags[0]) {
			out->untagged++;
			out->untagged_bytes += bytes;
			if (!used)
				out->images_reclaimable += bytes;
		}
		if (used) {
			out->in_use++;
			out->in_use_bytes += bytes;
		}
		launch_store_image_clear(&v[i]);
	}
	free(v);
	_cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", store->root);
	_cleanup_free_ char *partial = xasprintf("%s/blobs/partial", store->root);
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", store->root);
	struct tally t = { 0 };
	each_entry(blobs, tally_one, &t);
	out->blobs = t.n;
	out->blobs_bytes = t.bytes;
	t = (struct tally){ .lockable = true };
	each_entry(partial, tally_one, &t);
	each_entry(tmp, tally_one, &t);
	out->partials = t.n;
	out->partials_active = t.active;
	out->partials_bytes = t.bytes;
	out->partials_active_bytes = t.active_bytes;
	_cleanup_free_ char *build = xasprintf("%s/build-cache", store->root);
	build_cache_size(build, &out->build_steps, &out->build_bytes);
	return 0;
}

/* STORE/locks/NAME, shared or (EXCLUSIVE, without waiting: -2 when
 * held) exclusive; WHAT names it in errors. */
static int named_lock(const struct launch_store *store, const char *name, const char *what, bool exclusive,
		      struct launch_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/locks", store->root), *path = xasprintf("%s/%s", dir, name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create %s", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open the %s lock %s", what, path);
	if (flock_wait(fd, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return -2;
		return launch_error_set(err, e, "cannot lock the %s %s", what, path);
	}
	return fd;
}

int launch_store_cache_lock(const struct launch_store *store, bool exclusive, struct launch_error **err)
{
	return named_lock(store, "blob-cache", "blob cache", exclusive, err);
}

int launch_store_build_cache_lock(const struct launch_store *store, bool exclusive, struct launch_error **err)
{
	return named_lock(store, "build-cache", "build cache", exclusive, err);
}

struct cached {
	char name[80];
	int64_t bytes;
	struct timespec used;
};

static int cmp_cached(const void *a, const void *b)
{
	const struct cached *x = a, *y = b;
	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

int launch_store_cache_trim(const struct launch_store *store, int64_t max, int64_t *freed, struct launch_error **err)
{
	if (freed)
		*freed = 0;
	if (max < 0)
		return 0;
	_cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", store->root);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : launch_error_set(err, errno, "cannot read the blob cache %s", dir);
	int lock = launch_store_cache_lock(store, true, err);
	if (lock < 0) {
		closedir(d);
		return lock == -2 ? 0 : -1; /* a pull runs: the last one to end trims */
	}
	struct cached *v = NULL;
	size_t n = 0;
	int64_t total = 0;
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(v->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		memcpy(v[n].name, de->d_name, strlen(de->d_name) + 1); /* it fits: checked above */
		v[n].bytes = (int64_t)st.st_blocks * 512;
		v[n].used = st.st_mtim;
		total += v[n++].bytes;
	}
	qsort(v, n, sizeof(*v), cmp_cached);
	for (size_t i = 0; i < n && total > max; i++) {
		if (unlinkat(dirfd(d), v[i].name, 0) < 0)
			continue;
		launch_debug("blob cache: evicted %s (%lld bytes)", v[i].name, (long long)v[i].bytes);
		total -= v[i].bytes;
		if (freed)
			*freed += v[i].bytes;
	}
	free(v);
	closedir(d);
	close(lock);
	return 0;
}

void launch_store_cache_touch(const struct launch_store *store, const char *digest)
{
	const char *hex = strchr(digest, ':');
	_cleanup_free_ char *path = xasprintf("%s/blobs/sha256/%s", store->root, hex ? hex + 1 : digest);
	utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
}
