/* SPDX-License-Identifier: Apache-2.0 */
/* Layer flattening (see flatten.h). Layer numbers in messages count from 1
 * at the bottom, as `launch inspect` and the manifests list them. */
#define _GNU_SOURCE
#include "flatten.h"

#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pathmap.h"
#include "source.h"
#include "util.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define MAX_LINK_HOPS 8

struct pending_link {
	char *link, *target;
	int layer;
};

struct launch_flatten {
	struct archive *out;
	int n_layers;
	struct launch_flatten_layers layers;
	struct launch_pathmap map;
	struct pending_link *pending;
	size_t n_pending;
	uint64_t entries;
	char buf[64 * 1024];
};

struct launch_flatten *launch_flatten_new(struct archive *out, int n_layers, const struct launch_flatten_layers *l)
{
	struct launch_flatten *f = xcalloc(1, sizeof(*f));
	f->out = out;
	f->n_layers = n_layers;
	if (l)
		f->layers = *l;
	launch_pathmap_init(&f->map);
	return f;
}

void launch_flatten_free(struct launch_flatten *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_pending; i++) {
		free(f->pending[i].link);
		free(f->pending[i].target);
	}
	free(f->pending);
	launch_pathmap_clear(&f->map);
	free(f);
}

uint64_t launch_flatten_entries(const struct launch_flatten *f)
{
	return f->entries;
}

/* Entry name to a normalised path ("" for the root): no leading "./" or
 * "/"-runs, no "." components, no trailing "/". Absolute names and ".."
 * components are errors; so are names too long for the kernel. */
static int normalize(const char *name, int layer, const char *what, char **out, struct launch_error **err)
{
	if (name[0] == '/')
		return launch_error_kind_msg(err, LAUNCH_ERR_OUTSIDE,
					     "layer %d: %s `%.200s` is an absolute path (an image may only name paths "
					     "inside itself)",
					     layer + 1, what, name);
	size_t n = strlen(name);
	if (n >= PATH_MAX)
		return launch_error_msg(err, "layer %d: %s `%.60s...` is too long (%zu bytes, the limit is %d)",
					layer + 1, what, name, n, PATH_MAX - 1);
	char *r = launch_member_normalize(name);
	if (!r)
		return launch_error_kind_msg(err, LAUNCH_ERR_OUTSIDE,
					     "layer %d: %s `%.200s` has a `..` component (an image may only name "
					     "paths inside itself)",
					     layer + 1, what, name);
	for (const char *p = r; *p;) {
		const char *end = strchrnul(p, '/');
		size_t l = (size_t)(end - p);
		if (l > NAME_MAX) {
			free(r);
			return launch_error_msg(err,
						"layer %d: %s `%.60s...` has a name component that is too long (%zu "
						"bytes, the limit is %d)",
						layer + 1, what, name, l, NAME_MAX);
		}
		p = *end ? end + 1 : end;
	}
	*out = r;
	return 0;
}

static const char *show(const char *p)
{
	return *p ? p : "/";
}

static char type_of(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return 'f';
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return 'd';
	case AE_IFLNK:
		return 'l';
	default:
		return 'f';
	}
}

/* Is PATH hidden from layer K by what the layers above decided about its
 * ancestors (the root included)? 1: hidden, 0: visible, -1: an ancestor is
 * a non-directory of layer K itself (an entry written through a symlink). */
static int ancestors_hide(struct launch_flatten *f, const char *path, int k, struct launch_error **err)
{
	size_t len = strlen(path);
	for (size_t i = 0; i <= len; i++) {
		if (i != 0 && path[i] != '/' && path[i] != '\0')
			continue;
		if (i == len)
			break; /* the path itself is not its own ancestor */
		struct launch_pnode *a = launch_pathmap_get(&f->map, path, i);
		if (!a)
			continue;
		if (a->deleted_by > k || a->opaque_at > k)
			return 1;
		if (a->layer > k && a->type != 'd')
			return 1;
		if (a->layer == k && a->type != 'd')
			return launch_error_msg(err,
						"layer %d: entry %s goes %s %s, which the same layer made a %s (an "
						"image that writes through a symlink is refused)",
						k + 1, path, a->type == 'l' ? "through a symlink at" : "under",
						show(a->path), a->type == 'l' ? "symlink" : "non-directory");
	}
	return 0;
}

/* Is PATH (itself or an ancestor) hidden from layer K? */
static bool hidden(struct launch_flatten *f, const char *path, int k)
{
	if (ancestors_hide(f, path, k, NULL) != 0)
		return true;
	struct launch_pnode *n = launch_pathmap_get(&f->map, path, strlen(path));
	return n && (n->deleted_by > k || n->layer > k);
}

static void mark_emitted(struct launch_flatten *f, const char *path, int k, char type)
{
	struct launch_pnode *n = launch_pathmap_add(&f->map, path, strlen(path));
	n->layer = k;
	n->type = type;
	size_t len = strlen(path);
	for (size_t i = len; i > 0; i--)
		if (path[i - 1] == '/') {
			launch_pathmap_add(&f->map, path, i - 1)->has_below = true;
		}
	if (len)
		launch_pathmap_add(&f->map, "", 0)->has_below = true;
}

static int write_header(struct launch_flatten *f, struct archive_entry *o, int k, const char *path,
			struct launch_error **err)
{
	int r = archive_write_header(f->out, o);
	/* ARCHIVE_WARN: a name, link target or owner name that the pax writer
	 * could not translate to UTF-8 (not text in the locale's charset: any
	 * byte over 127 in the C locale launch runs in, valid UTF-8 or not) is
	 * written as it is, under hdrcharset=BINARY, which is what an image
	 * needs (names are bytes) and what tar2sqfs stores. Asking for BINARY up
	 * front would put a pax header before every entry. */
	if (r == ARCHIVE_WARN)
		launch_debug("layer %d: %s: %s", k + 1, show(path), archive_error_string(f->out));
	else if (r != ARCHIVE_OK)
		return launch_error_msg(err, "layer %d: cannot write %s to the image: %s", k + 1, show(path),
					archive_error_string(f->out));
	f->entries++;
	return 0;
}

static int copy_data(struct launch_flatten *f, struct archive *in, int k, const char *path, struct launch_error **err)
{
	for (;;) {
		la_ssize_t r = archive_read_data(in, f->buf, sizeof(f->buf));
		if (r < 0)
			return launch_error_msg(err, "layer %d: cannot read %s: %s", k + 1, show(path),
						archive_error_string(in));
		if (r == 0)
			return 0;
		if (archive_write_data(f->out, f->buf, (size_t)r) != r)
			return launch_error_msg(err, "layer %d: cannot write %s to the image: %s", k + 1, show(path),
						archive_error_string(f->out));
	}
}

/* Write hardlink LINK (entry E of layer K) as a regular file with the data
 * its TARGET has in layer K: a higher layer hid the target. */
static int copy_hidden_target(struct launch_flatten *f, int k, struct archive_entry *e, const char *link,
			      const char *target, struct launch_error **err)
{
	if (!f->layers.open)
		return launch_error_msg(err, "layer %d: hardlink %s -> %s: the target is hidden by a higher layer",
					k + 1, link, target);
	_cleanup_free_ char *want = xstrdup(target);
	for (int hop = 0; hop < MAX_LINK_HOPS; hop++) {
		void *h = NULL;
		struct archive *in = f->layers.open(f->layers.arg, k, &h, err);
		if (!in)
			return -1;
		struct archive_entry *t;
		int r;
		while ((r = archive_read_next_header(in, &t)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
			_cleanup_free_ char *p = NULL;
			const char *name = archive_entry_pathname(t);
			if (!name || normalize(name, k, "entry", &p, NULL) < 0 || strcmp(p, want) != 0)
				continue;
			const char *hl = archive_entry_hardlink(t);
			if (hl) {
				_cleanup_free_ char *next = NULL;
				if (normalize(hl, k, "hardlink target", &next, err) < 0) {
					f->layers.close(f->layers.arg, h);
					return -1;
				}
				free(want);
				want = steal_pointer(&next);
				break;
			}
			if (archive_entry_filetype(t) != AE_IFREG)
				break;
			struct archive_entry *o = archive_entry_clone(t);
			archive_entry_sparse_clear(o); /* written dense, see entry() */
			archive_entry_set_pathname(o, link);
			archive_entry_set_nlink(o, 1);
			int ret = write_header(f, o, k, link, err);
			archive_entry_free(o);
			if (ret == 0)
				ret = copy_data(f, in, k, link, err);
			f->layers.close(f->layers.arg, h);
			if (ret == 0)
				mark_emitted(f, link, k, 'f');
			return ret;
		}
		f->layers.close(f->layers.arg, h);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			break;
	}
	(void)e;
	return launch_error_msg(err,
				"layer %d: hardlink %s -> %s: a higher layer replaced or deleted the target, and "
				"layer %d does not hold its data",
				k + 1, link, target, k + 1);
}

static int hardlink(struct launch_flatten *f, int k, struct archive_entry *e, const char *path, const char *hl,
		    struct launch_error **err)
{
	_cleanup_free_ char *target = NULL;
	/* Docker (pkg/archive) and containerd resolve a hardlink target inside
	 * the root they extract to, so "/etc/shadow" is the image's own
	 * etc/shadow there. No builder writes such targets (GNU tar strips the
	 * "/", Go's archive/tar writes relative names), and docs/security.md
	 * promises them refused: an absolute target is refused here, saying
	 * so, rather than read two ways. */
	if (hl[0] == '/')
		return launch_error_msg(err,
					"layer %d: hardlink %s -> %.200s: the target is outside the image (an "
					"absolute path; a hardlink target names a path relative to the image's root)",
					k + 1, path, hl);
	struct launch_error *e2 = NULL;
	if (normalize(hl, k, "hardlink target", &target, &e2) < 0) {
		bool outside = launch_error_is(e2, LAUNCH_ERR_OUTSIDE); /* `..`: absolute names were refused above */
		launch_error_free(e2);
		if (outside)
			return launch_error_msg(err,
						"layer %d: hardlink %s -> %.200s: the target is outside the image (a "
						"`..` path)",
						k + 1, path, hl);
		return normalize(hl, k, "hardlink target", &target, err);
	}
	if (!*target || !strcmp(target, path))
		return launch_error_msg(err, "layer %d: hardlink %s -> %s: the target is missing", k + 1, path, hl);
	struct launch_pnode *t = launch_pathmap_get(&f->map, target, strlen(target));
	if (t && t->layer >= 0 && t->type == 'd')
		return launch_error_msg(err, "layer %d: hardlink %s -> %s: the target is a directory", k + 1, path,
					target);
	if (hidden(f, target, k) && !(t && t->layer == k))
		return copy_hidden_target(f, k, e, path, target, err);
	struct archive_entry *o = archive_entry_clone(e);
	archive_entry_sparse_clear(o);
	archive_entry_set_pathname(o, path);
	archive_entry_set_hardlink(o, target);
	archive_entry_set_size(o, 0);
	int r = write_header(f, o, k, path, err);
	archive_entry_free(o);
	if (r < 0)
		return -1;
	mark_emitted(f, path, k, 'f');
	if (!t || t->layer != k) {
		f->pending = xrealloc(f->pending, (f->n_pending + 1) * sizeof(*f->pending));
		f->pending[f->n_pending++] = (struct pending_link){ xstrdup(path), steal_pointer(&target), k };
	}
	return 0;
}

/* Is NAME (".wh.X") a whiteout of no name at all: ".wh.", ".wh.." or
 * ".wh..."? Taken literally, ".wh." in the root would hide the root, that is
 * the whole of every lower layer, which no image builder ever means. */
static bool whiteout_of_nothing(const char *name)
{
	const char *victim = name + strlen(WH_PREFIX);
	return !*victim || !strcmp(victim, ".") || !strcmp(victim, "..");
}

/* A whiteout or opaque marker NAME in directory DIR. */
static void whiteout(struct launch_flatten *f, int k, const char *dir, const char *name)
{
	if (!strcmp(name, WH_OPAQUE)) {
		/* a higher layer listing the directory again (as every layer that
		 * changes it does) leaves it opaque: only its removal or
		 * replacement by a non-directory makes the marker moot */
		struct launch_pnode *d = launch_pathmap_get(&f->map, dir, strlen(dir));
		if (*dir && d && (d->deleted_by > k || (d->layer > k && d->type != 'd')))
			return;
		struct launch_pnode *n = launch_pathmap_add(&f->map, dir, strlen(dir));
		if (n->opaque_at < k)
			n->opaque_at = k;
		return;
	}
	if (launch_str_has_prefix(name, WH_PREFIX WH_PREFIX))
		return; /* other aufs metadata (.wh..wh.plnk, ...) */
	_cleanup_free_ char *victim = *dir ? xasprintf("%s/%s", dir, name + 4) : xstrdup(name + 4);
	if (ancestors_hide(f, victim, k, NULL) != 0)
		return;
	struct launch_pnode *n = launch_pathmap_add(&f->map, victim, strlen(victim));
	if (n->deleted_by < k)
		n->deleted_by = k;
}

/* The target of symlink E (PATH in layer K): not empty, and short enough to
 * be read back. A symlink holds at most PATH_MAX - 1 bytes: the kernel's
 * symlink(2) refuses more, and readlink through FUSE (squashfuse) or the
 * kernel's squashfs gets one page, so a longer target is stored by tar2sqfs
 * but every readlink of it fails with EIO. */
static int check_symlink(struct archive_entry *e, int k, const char *path, struct launch_error **err)
{
	const char *t = archive_entry_symlink(e);
	if (!t || !*t)
		return launch_error_msg(err, "layer %d: symlink %s has an empty target (a corrupt or hostile layer)",
					k + 1, show(path));
	size_t n = strlen(t);
	if (n >= PATH_MAX)
		return launch_error_msg(err,
					"layer %d: symlink %s has a target of %zu bytes (`%.60s...`), more than "
					"the %d bytes a symlink can hold",
					k + 1, show(path), n, t, PATH_MAX - 1);
	return 0;
}

static int entry(struct launch_flatten *f, int k, struct archive *in, struct archive_entry *e,
		 struct launch_error **err)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return launch_error_msg(err, "layer %d: an entry has no readable name", k + 1);
	_cleanup_free_ char *path = NULL;
	if (normalize(name, k, "entry", &path, err) < 0)
		return -1;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (launch_str_has_prefix(base, WH_PREFIX)) {
		_cleanup_free_ char *dir = xstrndup(path, base == path ? 0 : (size_t)(base - path - 1));
		if (whiteout_of_nothing(base))
			return launch_error_msg(err,
						"layer %d: entry `%.200s` is a whiteout without a name (`%s`), which "
						"would hide its whole directory from the layers below: a corrupt or "
						"hostile layer",
						k + 1, name, base);
		if (k == 0)
			return 0; /* nothing below the bottom layer to hide */
		int r = ancestors_hide(f, path, k, err);
		if (r < 0)
			return -1;
		if (r == 0)
			whiteout(f, k, dir, base);
		return 0;
	}
	/* libarchive gives a hardlink entry (tar type 1) no file type; one
	 * whose target it cannot read (an empty link name in the ustar header:
	 * libarchive then drops a pax linkpath record) reaches us as an entry of
	 * no type and no target, which no writer can write */
	if (archive_entry_filetype(e) == 0 && !archive_entry_hardlink(e))
		return launch_error_msg(err,
					"layer %d: entry %s is a hardlink without a target that can be read (the link "
					"name in its tar header is empty; a pax linkpath record is not read then): "
					"a corrupt or hostile layer",
					k + 1, show(path));
	if (archive_entry_filetype(e) == AE_IFLNK && check_symlink(e, k, path, err) < 0)
		return -1;
	char type = type_of(e);
	/* written as "./", which the pax writer turns into a directory while
	 * the entry's data still follows: the data would be read as entries */
	if (!*path && type != 'd')
		return launch_error_msg(err,
					"layer %d: entry `%.200s` makes the root of the image a %s, not a directory (a "
					"corrupt or hostile layer)",
					k + 1, name,
					type == 'l'		    ? "symlink"
					: archive_entry_hardlink(e) ? "hardlink"
								    : "non-directory");
	if (type == 'f' && archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
	    archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > LAUNCH_FLATTEN_MAX_FILE)
		return launch_error_msg(err,
					"layer %d: entry %s claims %lld bytes, more than the %llu GiB limit for one "
					"file (a corrupt or hostile layer)",
					k + 1, show(path), (long long)archive_entry_size(e),
					LAUNCH_FLATTEN_MAX_FILE >> 30);
	int r = ancestors_hide(f, path, k, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	struct launch_pnode *n = launch_pathmap_get(&f->map, path, strlen(path));
	if (n) {
		if (n->deleted_by > k || n->layer > k)
			return 0;
		if (n->layer == k) {
			if (n->type == 'd' && type == 'd')
				return 0;
			return launch_error_msg(err, "layer %d has two entries for %s", k + 1, show(path));
		}
		if (type != 'd' && n->has_below)
			return launch_error_msg(err,
						"layer %d: %s is a %s, but a higher layer writes below it (an image "
						"that writes through a symlink is refused)",
						k + 1, show(path), type == 'l' ? "symlink" : "non-directory");
	}
	const char *hl = archive_entry_hardlink(e);
	if (hl)
		return hardlink(f, k, e, path, hl, err);
	struct archive_entry *o = archive_entry_clone(e);
	/* archive_read_data gives a sparse file's holes as zeros, and every
	 * byte is written: a sparse map kept on the entry would misplace them */
	archive_entry_sparse_clear(o);
	archive_entry_set_pathname(o, *path ? path : "./");
	if (type != 'f' || archive_entry_filetype(e) != AE_IFREG)
		archive_entry_set_size(o, 0);
	r = write_header(f, o, k, path, err);
	archive_entry_free(o);
	if (r < 0)
		return -1;
	if (archive_entry_filetype(e) == AE_IFREG && copy_data(f, in, k, path, err) < 0)
		return -1;
	mark_emitted(f, path, k, type);
	return 0;
}

int launch_flatten_layer(struct launch_flatten *f, int k, struct archive *in, struct launch_error **err)
{
	struct archive_entry *e;
	for (;;) {
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r == ARCHIVE_WARN)
			launch_debug("layer %d: %s", k + 1, archive_error_string(in));
		else if (r != ARCHIVE_OK)
			return launch_error_msg(err, "layer %d: cannot read it as a tar archive: %s", k + 1,
						archive_error_string(in));
		if (entry(f, k, in, e, err) < 0)
			return -1;
	}
}

int launch_flatten_finish(struct launch_flatten *f, struct launch_error **err)
{
	for (size_t i = 0; i < f->n_pending; i++) {
		struct pending_link *p = &f->pending[i];
		struct launch_pnode *t = launch_pathmap_get(&f->map, p->target, strlen(p->target));
		if (!t || t->layer < 0 || t->layer > p->layer)
			return launch_error_msg(err,
						"layer %d: hardlink %s -> %s: the target is missing from the image",
						p->layer + 1, p->link, p->target);
		if (t->type == 'd')
			return launch_error_msg(err, "layer %d: hardlink %s -> %s: the target is a directory",
						p->layer + 1, p->link, p->target);
	}
	return 0;
}
