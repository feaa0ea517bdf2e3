/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image-manager/flatten.c (and pathmap.c under it): layer tars
 * are written in memory with libarchive, flattened into an in-memory pax
 * archive, and the result read back as a sorted listing of
 *   PATH TYPE MODE UID GID EXTRA
 * (EXTRA: =CONTENT for files, ->TARGET for symlinks, =>TARGET for hardlinks,
 * - otherwise). Covered: upper entries winning, whiteouts and opaque
 * directories (and what they must not hide), type changes across layers,
 * the root entry, name normalisation, duplicates, writes through symlinks,
 * hostile names and sizes, every kind of hardlink, aufs metadata, whiteouts
 * of no name, symlink targets (longest, too long, empty), hardlinks whose
 * target libarchive cannot read, names that are bytes in no encoding. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "flatten.h"
#include "pathmap.h"
#include "util.h"

/* --- writing layers --- */

#define LAYER_MAX (4u << 20)

struct layer {
	struct archive *a;
	char *buf;
	size_t used;
};

static void die(const char *what, struct archive *a)
{
	fprintf(stderr, "test setup failed: %s: %s\n", what, a ? archive_error_string(a) : "");
	exit(2);
}

static void layer_begin(struct layer *l)
{
	l->buf = xmalloc(LAYER_MAX);
	l->used = 0;
	l->a = archive_write_new();
	archive_write_set_format_pax(l->a);
	archive_write_set_bytes_per_block(l->a, 0); /* every header reaches the buffer at once */
	if (archive_write_open_memory(l->a, l->buf, LAYER_MAX, &l->used) != ARCHIVE_OK)
		die("archive_write_open_memory", l->a);
}

static void layer_end(struct layer *l)
{
	if (archive_write_close(l->a) != ARCHIVE_OK)
		die("archive_write_close", l->a);
	archive_write_free(l->a);
	l->a = NULL;
}

static void layer_free(struct layer *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static struct archive_entry *new_entry(const char *path, mode_t type, mode_t perm, int uid, int gid)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, 1700000000, 0);
	return e;
}

static void put_entry(struct layer *l, struct archive_entry *e, const char *data)
{
	int r = archive_write_header(l->a, e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) /* (WARN: a name written as bytes, hdrcharset=BINARY) */
		die("archive_write_header", l->a);
	if (data && archive_write_data(l->a, data, strlen(data)) != (la_ssize_t)strlen(data))
		die("archive_write_data", l->a);
	archive_entry_free(e);
}

static void file_o(struct layer *l, const char *path, mode_t perm, int uid, int gid, const char *content)
{
	struct archive_entry *e = new_entry(path, AE_IFREG, perm, uid, gid);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	put_entry(l, e, content);
}

static void file(struct layer *l, const char *path, const char *content)
{
	file_o(l, path, 0644, 0, 0, content);
}

static void dir_o(struct layer *l, const char *path, mode_t perm, int uid, int gid)
{
	put_entry(l, new_entry(path, AE_IFDIR, perm, uid, gid), NULL);
}

static void dir(struct layer *l, const char *path)
{
	dir_o(l, path, 0755, 0, 0);
}

static void symlink_(struct layer *l, const char *path, const char *target)
{
	struct archive_entry *e = new_entry(path, AE_IFLNK, 0777, 0, 0);
	archive_entry_set_symlink(e, target);
	put_entry(l, e, NULL);
}

static void hardlink(struct layer *l, const char *path, const char *target)
{
	struct archive_entry *e = new_entry(path, AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	put_entry(l, e, NULL);
}

static void fifo(struct layer *l, const char *path)
{
	put_entry(l, new_entry(path, AE_IFIFO, 0600, 0, 0), NULL);
}

/* A whiteout or opaque marker: an empty regular file. */
static void wh(struct layer *l, const char *path)
{
	file_o(l, path, 0000, 0, 0, "");
}

/* A header claiming SIZE bytes, then the end of the archive: no data. */
static void huge(struct layer *l, const char *path, la_int64_t size)
{
	struct archive_entry *e = new_entry(path, AE_IFREG, 0644, 0, 0);
	archive_entry_set_size(e, size);
	if (archive_write_header(l->a, e) != ARCHIVE_OK)
		die("archive_write_header", l->a);
	archive_entry_free(e);
	/* cut the archive after the header: closing pads zeros until the
	 * buffer is full (archive_write_fail would leak the writer's state) */
	size_t header_end = l->used;
	archive_write_close(l->a);
	archive_write_free(l->a);
	l->a = NULL;
	l->used = header_end;
	if (l->used + 1024 > LAYER_MAX)
		die("layer buffer full", NULL);
	memset(l->buf + l->used, 0, 1024);
	l->used += 1024;
}

/* A layer of raw tar blocks, for what libarchive's writer cannot write:
 * raw_begin, raw_header..., raw_end (L[k].a stays NULL). */
static void raw_begin(struct layer *l)
{
	l->buf = xcalloc(1, LAYER_MAX);
	l->used = 0;
	l->a = NULL;
}

/* A ustar header for NAME of TYPEFLAG with link name LINK and SIZE bytes of
 * DATA; when PAX_KEY is set, after a pax header with that one record. */
static void raw_header(struct layer *l, const char *name, char typeflag, const char *link, const char *data,
		       const char *pax_key, const char *pax_value)
{
	if (pax_key) {
		char rec[600];
		size_t body = strlen(pax_key) + strlen(pax_value) + 3; /* " k=v\n" without the length */
		size_t n = body + 1;
		while (n != body + (size_t)snprintf(NULL, 0, "%zu", n))
			n = body + (size_t)snprintf(NULL, 0, "%zu", n);
		snprintf(rec, sizeof(rec), "%zu %s=%s\n", n, pax_key, pax_value);
		raw_header(l, "PaxHeaders/x", 'x', "", rec, NULL, NULL);
	}
	size_t len = data ? strlen(data) : 0;
	if (l->used + 512 + len + 512 + 1024 > LAYER_MAX)
		die("raw layer full", NULL);
	char *h = l->buf + l->used;
	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	char size[32];
	snprintf(size, sizeof(size), "%011o", (unsigned)len); /* (len is small: the data of one test entry) */
	memcpy(h + 124, size, 12);
	memcpy(h + 136, "15121523000", 12);
	h[156] = typeflag;
	memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	l->used += 512;
	if (len) {
		memcpy(l->buf + l->used, data, len);
		l->used += (len + 511) & ~(size_t)511;
	}
}

static void raw_end(struct layer *l)
{
	l->used += 1024; /* zeros: the buffer was cleared */
}

/* --- reading layers and the result --- */

static struct archive *open_layer(const struct layer *l)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_memory(a, l->buf, l->used) != ARCHIVE_OK)
		die("archive_read_open_memory", a);
	return a;
}

struct reopen {
	struct layer *layers;
	int opens, closes;
};

static struct archive *reopen_layer(void *arg, int k, void **handle, struct launch_error **err)
{
	struct reopen *r = arg;
	r->opens++;
	struct archive *a = open_layer(&r->layers[k]);
	*handle = a;
	return a;
}

static void reclose_layer(void *arg, void *handle)
{
	struct reopen *r = arg;
	r->closes++;
	archive_read_free(handle);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted listing of the archive in BUF, one line per entry. */
static char *listing(const char *buf, size_t len, size_t *n_entries)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		die("reading the result", a);
	char **lines = xcalloc(1, sizeof(char *));
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char type = '?';
		_cleanup_free_ char *extra = NULL;
		const char *hl = archive_entry_hardlink(e);
		switch (archive_entry_filetype(e)) {
		case AE_IFDIR:
			type = 'd';
			break;
		case AE_IFLNK:
			type = 'l';
			break;
		case AE_IFREG:
			type = 'f';
			break;
		case AE_IFIFO:
			type = 'p';
			break;
		case AE_IFCHR:
			type = 'c';
			break;
		default:
			break;
		}
		if (hl) {
			type = 'h';
			extra = xasprintf("=>%s", hl);
		} else if (type == 'l') {
			extra = xasprintf("->%s", archive_entry_symlink(e));
		} else if (type == 'f') {
			la_int64_t size = archive_entry_size(e);
			char *data = xcalloc(1, (size_t)size + 1);
			la_ssize_t got = archive_read_data(a, data, (size_t)size + 1);
			if (got != size)
				die("reading a file of the result", a);
			extra = xasprintf("=%s", data);
			free(data);
		} else {
			extra = xstrdup("-");
		}
		/* directories as the flattener names them (the writer adds a "/") */
		_cleanup_free_ char *name = xstrdup(archive_entry_pathname(e));
		size_t nl = strlen(name);
		if (type == 'd' && nl > 1 && name[nl - 1] == '/' && strcmp(name, "./") != 0)
			name[nl - 1] = '\0';
		launch_strv_push(&lines,
				 xasprintf("%s %c %04o %lld %lld %s", name, type, (unsigned)archive_entry_perm(e),
					   (long long)archive_entry_uid(e), (long long)archive_entry_gid(e), extra));
	}
	if (r != ARCHIVE_EOF)
		die("reading the result", a);
	archive_read_free(a);
	size_t n = launch_strv_len(lines);
	qsort(lines, n, sizeof(char *), cmp_str);
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *s = xasprintf("%s%s\n", out, lines[i]);
		free(out);
		out = s;
	}
	launch_strv_free(lines);
	*n_entries = n;
	return out;
}

struct result {
	int rc;
	char *list; /* NULL on failure */
	struct launch_error *err;
	int opens, closes; /* layers re-read */
};

/* Flatten LAYERS[0..N) (0 the bottom); REOPEN: give the flattener a way to
 * re-read layers. */
static struct result flatten(struct layer *layers, int n, bool reopen)
{
	struct result res = { 0 };
	size_t cap = 16u << 20, used = 0;
	char *buf = xmalloc(cap);
	struct archive *out = archive_write_new();
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_per_block(out, 0);
	if (archive_write_open_memory(out, buf, cap, &used) != ARCHIVE_OK)
		die("archive_write_open_memory", out);
	struct reopen ro = { layers, 0, 0 };
	struct launch_flatten_layers again = { reopen_layer, reclose_layer, &ro };
	struct launch_flatten *f = launch_flatten_new(out, n, reopen ? &again : NULL);
	res.rc = 0;
	for (int k = n - 1; k >= 0 && res.rc == 0; k--) {
		struct archive *in = open_layer(&layers[k]);
		res.rc = launch_flatten_layer(f, k, in, &res.err);
		archive_read_free(in);
	}
	if (res.rc == 0)
		res.rc = launch_flatten_finish(f, &res.err);
	uint64_t entries = launch_flatten_entries(f);
	launch_flatten_free(f);
	if (res.rc == 0) {
		if (archive_write_close(out) != ARCHIVE_OK)
			die("archive_write_close", out);
		size_t listed = 0;
		res.list = listing(buf, used, &listed);
		check_record_(listed == entries, __FILE__, __LINE__,
			      "launch_flatten_entries is %llu, the result has %zu", (unsigned long long)entries,
			      listed);
	} else {
		archive_write_close(out); /* pads what an entry cut short lacks; frees the writer's state */
	}
	archive_write_free(out);
	free(buf);
	res.opens = ro.opens;
	res.closes = ro.closes;
	return res;
}

static void result_clear(struct result *r)
{
	free(r->list);
	launch_error_free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Layers built by the test: L[0] the bottom. */
static struct layer L[4];

static void begin(int n)
{
	for (int i = 0; i < n; i++)
		layer_begin(&L[i]);
}

static void end(int n)
{
	for (int i = 0; i < n; i++)
		if (L[i].a)
			layer_end(&L[i]);
}

static void clear_layers(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(L); i++)
		layer_free(&L[i]);
}

#define EXPECT_TREE(n, reopen, want)                                                                     \
	do {                                                                                             \
		end(n);                                                                                  \
		struct result r_ = flatten(L, (n), (reopen));                                            \
		check_record_(r_.rc == 0, __FILE__, __LINE__, "flattening succeeds (error: %s)",         \
			      r_.err ? r_.err->msg : "none");                                            \
		if (r_.list)                                                                             \
			check_record_(!strcmp(r_.list, (want)), __FILE__, __LINE__,                      \
				      "flattened tree\n--- got:\n%s--- expected:\n%s", r_.list, (want)); \
		result_clear(&r_);                                                                       \
		clear_layers();                                                                          \
	} while (0)

#define EXPECT_ERROR(n, reopen, ...)                                                                     \
	do {                                                                                             \
		end(n);                                                                                  \
		struct result r_ = flatten(L, (n), (reopen));                                            \
		check_record_(r_.rc == -1, __FILE__, __LINE__, "flattening fails (returned %d)", r_.rc); \
		CHECK_ERROR(r_.err, __VA_ARGS__);                                                        \
		result_clear(&r_);                                                                       \
		clear_layers();                                                                          \
	} while (0)

/* --- the cases --- */

static void test_upper_wins(void)
{
	begin(2);
	dir_o(&L[0], "a", 0700, 1, 1);
	file_o(&L[0], "a/f", 0644, 1, 1, "lower");
	file(&L[0], "a/g", "lower g");
	dir_o(&L[1], "a", 0755, 2, 3);
	file_o(&L[1], "a/f", 04750, 2, 3, "upper");
	EXPECT_TREE(2, false,
		    "a d 0755 2 3 -\n"
		    "a/f f 4750 2 3 =upper\n"
		    "a/g f 0644 0 0 =lower g\n");

	/* three layers: the top one decides, the middle one fills in */
	begin(3);
	file(&L[0], "x", "0");
	file(&L[0], "y", "0");
	file(&L[0], "z", "0");
	file(&L[1], "x", "1");
	file(&L[1], "y", "1");
	file(&L[2], "x", "2");
	fifo(&L[2], "p");
	EXPECT_TREE(3, false,
		    "p p 0600 0 0 -\n"
		    "x f 0644 0 0 =2\n"
		    "y f 0644 0 0 =1\n"
		    "z f 0644 0 0 =0\n");
}

static void test_whiteouts(void)
{
	/* a file */
	begin(2);
	dir(&L[0], "a");
	file(&L[0], "a/f", "f");
	file(&L[0], "a/g", "g");
	wh(&L[1], "a/.wh.f");
	EXPECT_TREE(2, false,
		    "a d 0755 0 0 -\n"
		    "a/g f 0644 0 0 =g\n");

	/* a whole directory, subtree and all; a whiteout of nothing */
	begin(2);
	dir(&L[0], "d");
	file(&L[0], "d/x", "x");
	dir(&L[0], "d/sub");
	file(&L[0], "d/sub/y", "y");
	symlink_(&L[0], "d/sub/l", "../x");
	file(&L[0], "e", "e");
	wh(&L[1], ".wh.d");
	wh(&L[1], ".wh.nothing");
	wh(&L[1], "no/such/dir/.wh.x");
	EXPECT_TREE(2, false, "e f 0644 0 0 =e\n");

	/* a whiteout hides only the layers below: not its own layer's file,
	 * before or after it */
	begin(2);
	file(&L[0], "f", "lower");
	file(&L[0], "g", "lower");
	wh(&L[1], ".wh.f");
	file(&L[1], "f", "upper");
	file(&L[1], "g", "upper");
	wh(&L[1], ".wh.g");
	EXPECT_TREE(2, false,
		    "f f 0644 0 0 =upper\n"
		    "g f 0644 0 0 =upper\n");

	/* a whiteout in a middle layer: hidden below, not above */
	begin(3);
	file(&L[0], "f", "0");
	wh(&L[1], ".wh.f");
	file(&L[2], "f", "2");
	file(&L[0], "g", "0");
	wh(&L[1], ".wh.g");
	EXPECT_TREE(3, false, "f f 0644 0 0 =2\n");

	/* a whiteout under a directory a higher layer deleted is moot */
	begin(3);
	dir(&L[0], "d");
	file(&L[0], "d/f", "0");
	wh(&L[1], "d/.wh.f");
	wh(&L[2], ".wh.d");
	EXPECT_TREE(3, false, "");
}

static void test_opaque(void)
{
	/* lower children hidden, the same layer's kept (before and after the marker) */
	begin(2);
	dir(&L[0], "o");
	file(&L[0], "o/low", "low");
	dir(&L[0], "o/lowdir");
	file(&L[0], "o/lowdir/x", "x");
	file(&L[0], "other", "other");
	dir_o(&L[1], "o", 0750, 0, 0);
	file(&L[1], "o/new", "new");
	wh(&L[1], "o/.wh..wh..opq");
	file(&L[1], "o/new2", "new2");
	EXPECT_TREE(2, false,
		    "o d 0750 0 0 -\n"
		    "o/new f 0644 0 0 =new\n"
		    "o/new2 f 0644 0 0 =new2\n"
		    "other f 0644 0 0 =other\n");

	/* an opaque directory in a middle layer, the directory listed again
	 * by the layer above (as every layer that changes it does) */
	begin(3);
	dir(&L[0], "o");
	file(&L[0], "o/x", "x");
	dir(&L[1], "o");
	wh(&L[1], "o/.wh..wh..opq");
	file(&L[1], "o/y", "y");
	dir_o(&L[2], "o", 0700, 0, 0);
	file(&L[2], "o/z", "z");
	EXPECT_TREE(3, false,
		    "o d 0700 0 0 -\n"
		    "o/y f 0644 0 0 =y\n"
		    "o/z f 0644 0 0 =z\n");

	/* an opaque root */
	begin(2);
	file(&L[0], "gone", "0");
	dir(&L[0], "d");
	wh(&L[1], ".wh..wh..opq");
	file(&L[1], "kept", "1");
	EXPECT_TREE(2, false, "kept f 0644 0 0 =1\n");

	/* a marker in a directory that a higher layer replaced by a file */
	begin(3);
	dir(&L[0], "o");
	file(&L[0], "o/x", "x");
	wh(&L[1], "o/.wh..wh..opq");
	file(&L[1], "o/y", "y");
	file(&L[2], "o", "file");
	EXPECT_TREE(3, false, "o f 0644 0 0 =file\n");
}

static void test_type_changes(void)
{
	/* a directory replaced by a file hides what the lower layers had in it */
	begin(2);
	dir(&L[0], "d");
	file(&L[0], "d/x", "x");
	dir(&L[0], "d/sub");
	file(&L[0], "d/sub/y", "y");
	file(&L[1], "d", "now a file");
	EXPECT_TREE(2, false, "d f 0644 0 0 =now a file\n");

	/* ... or by a symlink */
	begin(2);
	dir(&L[0], "d");
	file(&L[0], "d/x", "x");
	symlink_(&L[1], "d", "/elsewhere");
	EXPECT_TREE(2, false, "d l 0777 0 0 ->/elsewhere\n");

	/* a file replaced by a directory */
	begin(2);
	file(&L[0], "d", "a file");
	dir(&L[1], "d");
	file(&L[1], "d/y", "y");
	EXPECT_TREE(2, false,
		    "d d 0755 0 0 -\n"
		    "d/y f 0644 0 0 =y\n");

	/* a lower symlink replaced by a directory */
	begin(2);
	symlink_(&L[0], "d", "/etc");
	dir(&L[1], "d");
	file(&L[1], "d/y", "y");
	EXPECT_TREE(2, false,
		    "d d 0755 0 0 -\n"
		    "d/y f 0644 0 0 =y\n");
}

static void test_root_and_names(void)
{
	/* the root entry: once, from the top layer */
	begin(2);
	dir_o(&L[0], "./", 0700, 5, 5);
	file(&L[0], "./a", "a");
	dir_o(&L[1], "./", 0755, 0, 0);
	file(&L[1], "b", "b");
	EXPECT_TREE(2, false,
		    "./ d 0755 0 0 -\n"
		    "a f 0644 0 0 =a\n"
		    "b f 0644 0 0 =b\n");

	/* ... or from the one layer that has it; "." is the root too */
	begin(2);
	dir_o(&L[0], ".", 0711, 0, 0);
	file(&L[1], "b", "b");
	dir_o(&L[1], "./.", 0711, 0, 0);
	EXPECT_TREE(2, false,
		    "./ d 0711 0 0 -\n"
		    "b f 0644 0 0 =b\n");

	/* "./" prefixes, "/"-runs, "." components and trailing slashes */
	begin(2);
	dir(&L[0], "./x/");
	file(&L[0], ".//x//y", "lower y");
	file(&L[0], "x/./z", "z");
	file(&L[1], "./x/y", "upper y");
	wh(&L[1], "./x//.wh.z");
	dir(&L[1], "./w//v/");
	EXPECT_TREE(2, false,
		    "w/v d 0755 0 0 -\n"
		    "x d 0755 0 0 -\n"
		    "x/y f 0644 0 0 =upper y\n");

	/* the same file under two spellings in one layer */
	begin(1);
	file(&L[0], "a/b", "1");
	file(&L[0], "./a//b", "2");
	EXPECT_ERROR(1, false, "layer 1 has two entries for a/b");

	/* a root that is not a directory: its data would follow a directory
	 * header in the result, and be read as entries (here, one that
	 * escapes) */
	begin(1);
	file(&L[0], "../../etc/cron.d/evil", "* * * * * root sh");
	layer_end(&L[0]);
	size_t inner_len = L[0].used;
	char *inner = xmalloc(inner_len);
	memcpy(inner, L[0].buf, inner_len);
	layer_free(&L[0]);
	begin(1);
	struct archive_entry *root = new_entry(".", AE_IFREG, 0644, 0, 0); /* ("./" the writer makes a directory) */
	archive_entry_set_size(root, (la_int64_t)inner_len);
	if (archive_write_header(L[0].a, root) != ARCHIVE_OK ||
	    archive_write_data(L[0].a, inner, inner_len) != (la_ssize_t)inner_len)
		die("writing the root file", L[0].a);
	archive_entry_free(root);
	free(inner);
	EXPECT_ERROR(1, false, "layer 1: entry `.` makes the root of the image a non-directory, not a directory");
	begin(1);
	symlink_(&L[0], ".", "/etc");
	EXPECT_ERROR(1, false, "layer 1: entry `.` makes the root of the image a symlink");
	begin(2);
	file(&L[1], "f", "f");
	hardlink(&L[1], "./", "f");
	EXPECT_ERROR(2, false, "layer 2: entry `./` makes the root of the image a hardlink");
	begin(1);
	fifo(&L[0], "./");
	EXPECT_ERROR(1, false, "makes the root of the image a non-directory");

	/* names at the limits */
	char name[NAME_MAX + 2];
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	char path[PATH_MAX + 1];
	size_t p = 0;
	while (p + 101 < PATH_MAX - 1) {
		memset(path + p, 'p', 100);
		path[p + 100] = '/';
		p += 101;
	}
	memset(path + p, 'q', PATH_MAX - 1 - p);
	path[PATH_MAX - 1] = '\0'; /* PATH_MAX - 1 bytes: the longest path */
	begin(1);
	file(&L[0], name, "longest name");
	file(&L[0], path, "longest path");
	end(1);
	struct result r = flatten(L, 1, false);
	CHECK_INTEQ(r.rc, 0);
	CHECK_NO_ERROR(r.err);
	CHECK(r.list && strstr(r.list, name) && strstr(r.list, path));
	result_clear(&r);
	clear_layers();

	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = '\0';
	begin(1);
	_cleanup_free_ char *deep = xasprintf("a/%s/b", name);
	file(&L[0], deep, "x");
	EXPECT_ERROR(1, false, "layer 1: entry `a/nnnn",
		     "has a name component that is too long (256 bytes, the limit is 255)");

	path[PATH_MAX - 1] = 'q';
	path[PATH_MAX] = '\0';
	begin(2);
	file(&L[1], path, "x");
	EXPECT_ERROR(2, false, "layer 2: entry `pppp", "is too long (4096 bytes, the limit is 4095)");

	/* a whiteout's name is checked as well */
	begin(2);
	_cleanup_free_ char *whname = xasprintf("../.wh.x");
	wh(&L[1], whname);
	EXPECT_ERROR(2, false, "layer 2: entry `../.wh.x` has a `..` component");
}

static void test_hostile(void)
{
	begin(1);
	file(&L[0], "/etc/evil", "x");
	EXPECT_ERROR(1, false, "layer 1: entry `/etc/evil` is an absolute path");

	begin(3);
	file(&L[0], "ok", "x");
	file(&L[1], "usr/../../evil", "x");
	EXPECT_ERROR(3, false, "layer 2: entry `usr/../../evil` has a `..` component");

	begin(1);
	file(&L[0], "../evil", "x");
	EXPECT_ERROR(1, false, "has a `..` component");

	begin(1);
	file(&L[0], "a/..", "x");
	EXPECT_ERROR(1, false, "has a `..` component");

	/* symlink, then an entry through it, in one layer */
	begin(1);
	symlink_(&L[0], "a", "/etc");
	file(&L[0], "a/passwd", "root::0:0::/:/bin/sh");
	EXPECT_ERROR(1, false,
		     "layer 1: entry a/passwd goes through a symlink at a, which the same layer made a symlink");

	/* the same with a relative escape and a deeper entry */
	begin(1);
	dir(&L[0], "x");
	symlink_(&L[0], "x/a", "../../../../etc");
	dir(&L[0], "x/a/sub");
	EXPECT_ERROR(1, false, "entry x/a/sub goes through a symlink at x/a");

	/* under a file of the same layer */
	begin(1);
	file(&L[0], "f", "x");
	file(&L[0], "f/g", "y");
	EXPECT_ERROR(1, false, "entry f/g goes under f, which the same layer made a non-directory");

	/* a whiteout through a symlink of the same layer */
	begin(2);
	symlink_(&L[1], "a", "/etc");
	wh(&L[1], "a/.wh.passwd");
	EXPECT_ERROR(2, false, "layer 2: entry a/.wh.passwd goes through a symlink at a");

	/* a lower symlink with an upper child */
	begin(2);
	symlink_(&L[0], "a", "/etc");
	file(&L[1], "a/passwd", "x");
	EXPECT_ERROR(2, false, "layer 1: a is a symlink, but a higher layer writes below it");

	begin(3);
	file(&L[0], "a", "a file");
	dir(&L[2], "a/b");
	EXPECT_ERROR(3, false, "layer 1: a is a non-directory, but a higher layer writes below it");

	/* child first, then the symlink, in one layer */
	begin(1);
	file(&L[0], "a/passwd", "x");
	symlink_(&L[0], "a", "/etc");
	EXPECT_ERROR(1, false, "layer 1: a is a symlink", "writes below it");

	/* duplicates: directories may repeat, the first one counts; files may not */
	begin(1);
	dir_o(&L[0], "d", 0700, 0, 0);
	file(&L[0], "d/f", "f");
	dir_o(&L[0], "d/", 0755, 0, 0);
	EXPECT_TREE(1, false,
		    "d d 0700 0 0 -\n"
		    "d/f f 0644 0 0 =f\n");
	begin(2);
	file(&L[1], "f", "1");
	file(&L[1], "f", "2");
	EXPECT_ERROR(2, false, "layer 2 has two entries for f");
	begin(1);
	dir(&L[0], "f");
	file(&L[0], "f", "2");
	EXPECT_ERROR(1, false, "layer 1 has two entries for f");
	begin(1);
	file(&L[0], "f", "2");
	dir(&L[0], "f");
	EXPECT_ERROR(1, false, "layer 1 has two entries for f");
	begin(1);
	dir(&L[0], "./");
	dir(&L[0], ".");
	EXPECT_TREE(1, false, "./ d 0755 0 0 -\n");

	/* an absurd size claim, refused before any data is read */
	begin(2);
	file(&L[1], "ok", "x");
	huge(&L[1], "big", (la_int64_t)LAUNCH_FLATTEN_MAX_FILE + 1);
	EXPECT_ERROR(2, false, "layer 2: entry big claims 68719476737 bytes, more than the 64 GiB limit for one file");
	begin(1);
	huge(&L[0], "big", (la_int64_t)1 << 40);
	EXPECT_ERROR(1, false, "claims 1099511627776 bytes");

	/* garbage after the first entry; a truncated file */
	begin(1);
	file(&L[0], "first", "FIRST");
	end(1);
	const char *first = memmem(L[0].buf, L[0].used, "FIRST", 5);
	CHECK(first != NULL);
	size_t garbage_at = first ? (size_t)(first - L[0].buf) + 512 : 0;
	memset(L[0].buf + garbage_at, 'x', L[0].used - garbage_at);
	struct result r = flatten(L, 1, false);
	CHECK_INTEQ(r.rc, -1);
	CHECK_ERROR(r.err, "layer 1: cannot read it as a tar archive");
	result_clear(&r);
	clear_layers();
	begin(1);
	file(&L[0], "f", "some data that will be cut off");
	end(1);
	const char *data = memmem(L[0].buf, L[0].used, "some data", 9);
	CHECK(data != NULL);
	L[0].used = data ? (size_t)(data - L[0].buf) + 5 : 0; /* the header and part of the data */
	r = flatten(L, 1, false);
	CHECK_INTEQ(r.rc, -1);
	CHECK_ERROR(r.err, "layer 1: cannot read f");
	result_clear(&r);
	clear_layers();
}

static void test_hardlinks(void)
{
	/* in one layer */
	begin(1);
	file(&L[0], "f", "data");
	hardlink(&L[0], "h", "f");
	hardlink(&L[0], "./g", "./f");
	EXPECT_TREE(1, false,
		    "f f 0644 0 0 =data\n"
		    "g h 0644 0 0 =>f\n"
		    "h h 0644 0 0 =>f\n");

	/* to a file of a lower layer: checked at the end */
	begin(2);
	dir(&L[0], "bin");
	file_o(&L[0], "bin/t", 0755, 0, 0, "lower");
	hardlink(&L[1], "h", "bin/t");
	EXPECT_TREE(2, false,
		    "bin d 0755 0 0 -\n"
		    "bin/t f 0755 0 0 =lower\n"
		    "h h 0644 0 0 =>bin/t\n");

	/* a target a higher layer replaced: the link gets its own layer's data */
	begin(2);
	file(&L[0], "t", "old");
	hardlink(&L[0], "h", "t");
	file(&L[1], "t", "new");
	end(2);
	struct result r = flatten(L, 2, true);
	CHECK_INTEQ(r.rc, 0);
	CHECK_NO_ERROR(r.err);
	CHECK_STREQ(r.list,
		    "h f 0644 0 0 =old\n"
		    "t f 0644 0 0 =new\n");
	CHECK_INTEQ(r.opens, 1);
	CHECK_INTEQ(r.closes, 1);
	result_clear(&r);
	/* without a way to re-read the layer it is an error */
	r = flatten(L, 2, false);
	CHECK_INTEQ(r.rc, -1);
	CHECK_ERROR(r.err, "layer 1: hardlink h -> t: the target is hidden by a higher layer");
	result_clear(&r);
	clear_layers();

	/* a target deleted above, the link a link to a link */
	begin(2);
	file(&L[0], "t", "old");
	hardlink(&L[0], "h1", "t");
	hardlink(&L[0], "h2", "h1");
	wh(&L[1], ".wh.t");
	wh(&L[1], ".wh.h1");
	end(2);
	r = flatten(L, 2, true);
	CHECK_INTEQ(r.rc, 0);
	CHECK_NO_ERROR(r.err);
	CHECK_STREQ(r.list, "h2 f 0644 0 0 =old\n");
	CHECK_INTEQ(r.opens, 2);
	CHECK_INTEQ(r.closes, 2);
	result_clear(&r);
	clear_layers();

	/* a target hidden above and not in the link's layer: refused */
	begin(2);
	hardlink(&L[0], "h", "t");
	file(&L[1], "t", "new");
	EXPECT_ERROR(2, true,
		     "layer 1: hardlink h -> t: a higher layer replaced or deleted the target, and layer 1 does not "
		     "hold its data");
	/* ... a loop of links in the link's layer */
	begin(2);
	hardlink(&L[0], "a", "b");
	hardlink(&L[0], "b", "a");
	wh(&L[1], ".wh.a");
	wh(&L[1], ".wh.b");
	file(&L[1], "c", "c");
	hardlink(&L[0], "x", "a");
	EXPECT_ERROR(2, true, "layer 1: hardlink", "a higher layer replaced or deleted the target");

	/* hostile and broken targets */
	begin(1);
	file(&L[0], "etc/shadow", "x");
	hardlink(&L[0], "evil", "/etc/shadow");
	EXPECT_ERROR(1, false,
		     "layer 1: hardlink evil -> /etc/shadow: the target is outside the image (an absolute path;");
	begin(1);
	file(&L[0], "etc/shadow", "x");
	hardlink(&L[0], "evil", "../../etc/shadow");
	EXPECT_ERROR(1, false,
		     "layer 1: hardlink evil -> ../../etc/shadow: the target is outside the image (a `..` path)");
	begin(1);
	hardlink(&L[0], "evil", "no/such/file");
	EXPECT_ERROR(1, false, "layer 1: hardlink evil -> no/such/file: the target is missing from the image");
	begin(2);
	file(&L[0], "other", "x");
	hardlink(&L[1], "evil", "no/such/file");
	EXPECT_ERROR(2, false, "layer 2: hardlink evil -> no/such/file: the target is missing from the image");
	begin(1);
	hardlink(&L[0], "self", "./self");
	EXPECT_ERROR(1, false, "layer 1: hardlink self -> ./self: the target is missing");
	begin(1);
	hardlink(&L[0], "root", "./");
	EXPECT_ERROR(1, false, "layer 1: hardlink root -> ./: the target is missing");
	begin(1);
	dir(&L[0], "d");
	hardlink(&L[0], "h", "d");
	EXPECT_ERROR(1, false, "layer 1: hardlink h -> d: the target is a directory");
	begin(2);
	dir(&L[0], "d");
	hardlink(&L[1], "h", "d");
	EXPECT_ERROR(2, false, "layer 2: hardlink h -> d: the target is a directory");
	/* a target in a lower layer that the link's own layer deletes */
	begin(2);
	file(&L[0], "t", "x");
	hardlink(&L[1], "h", "t");
	wh(&L[1], ".wh.t");
	EXPECT_ERROR(2, true, "layer 2: hardlink h -> t: the target is missing from the image");
	/* a long target name */
	char name[NAME_MAX + 2];
	memset(name, 'n', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	begin(1);
	hardlink(&L[0], "h", name);
	EXPECT_ERROR(1, false, "layer 1: hardlink target `nnn", "too long");
}

/* A sparse file comes out as a plain one with the same bytes (holes as
 * zeros): the flattener writes every byte it reads, and a sparse map
 * carried over would describe data that is not there. */
static void test_sparse(void)
{
	begin(1);
	struct archive_entry *e = new_entry("sparse", AE_IFREG, 0644, 0, 0);
	archive_entry_set_size(e, 65536);
	archive_entry_sparse_add_entry(e, 4096, 5);
	archive_entry_sparse_add_entry(e, 65531, 5);
	char *logical = xcalloc(1, 65536); /* the writer takes the holes' bytes too, and drops them */
	memcpy(logical + 4096, "hello", 5);
	memcpy(logical + 65531, "world", 5);
	if (archive_write_header(L[0].a, e) != ARCHIVE_OK || archive_write_data(L[0].a, logical, 65536) != 65536)
		die("writing a sparse file", L[0].a);
	free(logical);
	archive_entry_free(e);
	file(&L[0], "after", "after");
	end(1);
	/* the layer itself reads back sparse */
	struct archive *in = open_layer(&L[0]);
	struct archive_entry *ie;
	CHECK(archive_read_next_header(in, &ie) == ARCHIVE_OK && archive_entry_sparse_count(ie) > 0);
	archive_read_free(in);

	size_t cap = 1u << 20, used = 0;
	char *buf = xmalloc(cap);
	struct archive *out = archive_write_new();
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_per_block(out, 0);
	if (archive_write_open_memory(out, buf, cap, &used) != ARCHIVE_OK)
		die("archive_write_open_memory", out);
	struct launch_flatten *f = launch_flatten_new(out, 1, NULL);
	struct launch_error *err = NULL;
	in = open_layer(&L[0]);
	CHECK_INTEQ(launch_flatten_layer(f, 0, in, &err), 0);
	CHECK_NO_ERROR(err);
	archive_read_free(in);
	CHECK_INTEQ(launch_flatten_finish(f, &err), 0);
	CHECK_NO_ERROR(err);
	launch_flatten_free(f);
	CHECK(archive_write_close(out) == ARCHIVE_OK);
	archive_write_free(out);

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, buf, used) == ARCHIVE_OK);
	int n = 0, r;
	while ((r = archive_read_next_header(a, &ie)) == ARCHIVE_OK) {
		n++;
		if (!strcmp(archive_entry_pathname(ie), "sparse")) {
			CHECK_INTEQ(archive_entry_size(ie), 65536);
			char *data = xcalloc(1, 65536 + 1);
			size_t got = 0;
			la_ssize_t k;
			while ((k = archive_read_data(a, data + got, 65536 + 1 - got)) > 0)
				got += (size_t)k;
			CHECK_INTEQ(got, 65536);
			CHECK(!memcmp(data + 4096, "hello", 5) && !memcmp(data + 65531, "world", 5));
			CHECK(data[0] == 0 && data[4095] == 0 && data[4101] == 0 && data[65530] == 0);
			free(data);
		} else {
			CHECK_STREQ(archive_entry_pathname(ie), "after");
		}
	}
	CHECK_INTEQ(r, ARCHIVE_EOF);
	CHECK_INTEQ(n, 2);
	archive_read_free(a);
	free(buf);
	clear_layers();
}

static void test_aufs_and_bottom(void)
{
	/* aufs metadata is not part of the image */
	begin(2);
	file(&L[0], "f", "f");
	dir(&L[1], ".wh..wh.plnk");
	wh(&L[1], ".wh..wh.aufs");
	dir(&L[1], "d");
	wh(&L[1], "d/.wh..wh.other");
	EXPECT_TREE(2, false,
		    "d d 0755 0 0 -\n"
		    "f f 0644 0 0 =f\n");

	/* whiteouts in the bottom layer: nothing below to hide, not written */
	begin(1);
	file(&L[0], "f", "f");
	wh(&L[0], ".wh.f");
	wh(&L[0], ".wh.g");
	dir(&L[0], "d");
	wh(&L[0], "d/.wh..wh..opq");
	file(&L[0], "d/x", "x");
	EXPECT_TREE(1, false,
		    "d d 0755 0 0 -\n"
		    "d/x f 0644 0 0 =x\n"
		    "f f 0644 0 0 =f\n");

	/* an empty layer, an empty image */
	begin(2);
	file(&L[0], "f", "f");
	EXPECT_TREE(2, false, "f f 0644 0 0 =f\n");
	begin(1);
	EXPECT_TREE(1, false, "");
}

/* Whiteouts of no name are refused: ".wh." would hide the root. */
static void test_empty_whiteouts(void)
{
	static const char *const names[] = { ".wh.", "./.wh.", "d/.wh.", ".wh..", "d/.wh...", "./d//.wh." };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		begin(2);
		dir(&L[0], "d");
		file(&L[0], "d/f", "f");
		wh(&L[1], names[i]);
		_cleanup_free_ char *want = xasprintf("layer 2: entry `%s` is a whiteout without a name", names[i]);
		EXPECT_ERROR(2, false, want, "would hide its whole directory");
	}
	/* in the bottom layer too, where whiteouts are otherwise dropped */
	begin(1);
	file(&L[0], "f", "f");
	wh(&L[0], ".wh.");
	EXPECT_ERROR(1, false, "layer 1: entry `.wh.` is a whiteout without a name");
	/* names that merely start with a dot are whiteouts like any other */
	begin(2);
	file(&L[0], ".hidden", "h");
	file(&L[0], "..x", "x");
	file(&L[0], "kept", "k");
	wh(&L[1], ".wh..hidden");
	wh(&L[1], ".wh...x");
	EXPECT_TREE(2, false, "kept f 0644 0 0 =k\n");
}

/* Symlink targets: at most PATH_MAX - 1 bytes (what readlink can give
 * back), never empty. */
static void test_symlink_targets(void)
{
	char target[PATH_MAX + 2];
	memset(target, 't', sizeof(target));
	for (size_t i = 200; i < sizeof(target); i += 201)
		target[i] = '/';
	target[PATH_MAX - 1] = '\0'; /* 4095 bytes */
	begin(1);
	symlink_(&L[0], "l", target);
	end(1);
	struct result r = flatten(L, 1, false);
	CHECK_INTEQ(r.rc, 0);
	CHECK_NO_ERROR(r.err);
	_cleanup_free_ char *want = xasprintf("l l 0777 0 0 ->%s\n", target);
	CHECK_STREQ(r.list, want);
	result_clear(&r);
	clear_layers();

	target[PATH_MAX - 1] = 'x'; /* 4096 bytes */
	target[PATH_MAX] = '\0';
	begin(2);
	symlink_(&L[1], "a/l", target);
	EXPECT_ERROR(2, false, "layer 2: symlink a/l has a target of 4096 bytes (`tttt",
		     "more than the 4095 bytes a symlink can hold");

	/* an empty target: a symlink header with no link name (a pax linkpath
	 * of nothing) */
	raw_begin(&L[0]);
	raw_header(&L[0], "evil", '2', "", NULL, "linkpath", "");
	raw_end(&L[0]);
	EXPECT_ERROR(1, false, "layer 1: symlink evil has an empty target");
}

/* A hardlink whose target is only in a pax linkpath record, the ustar link
 * name empty: libarchive gives it neither a type nor a target. */
static void test_unreadable_hardlink(void)
{
	static const char *const targets[] = { "/etc/hostname", "etc/hostname" };
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		raw_begin(&L[0]);
		raw_header(&L[0], "etc/hostname", '0', "", "x", NULL, NULL);
		raw_header(&L[0], "evil", '1', "", NULL, "linkpath", targets[i]);
		raw_end(&L[0]);
		EXPECT_ERROR(1, false, "layer 1: entry evil is a hardlink without a target that can be read");
	}
	/* with the ustar link name set, the pax linkpath is read: refused for
	 * what it is */
	raw_begin(&L[0]);
	raw_header(&L[0], "etc/hostname", '0', "", "x", NULL, NULL);
	raw_header(&L[0], "evil", '1', "etc/hostname", NULL, "linkpath", "/etc/hostname");
	raw_end(&L[0]);
	EXPECT_ERROR(1, false, "layer 1: hardlink evil -> /etc/hostname: the target is outside the image");
	raw_begin(&L[0]);
	raw_header(&L[0], "etc/hostname", '0', "", "x", NULL, NULL);
	raw_header(&L[0], "good", '1', "etc/hostname", NULL, NULL, NULL);
	raw_end(&L[0]);
	EXPECT_TREE(1, false,
		    "etc/hostname f 0644 0 0 =x\n"
		    "good h 0644 0 0 =>etc/hostname\n");
}

/* Names are bytes: Latin-1, invalid UTF-8 or UTF-8, in names, symlink and
 * hardlink targets, whiteouts; written as they are. */
static void test_byte_names(void)
{
	begin(2);
	file(&L[0], "caf\xe9", "latin-1");
	file(&L[0], "gone\xff", "x");
	file(&L[0], "caf\xc3\xa9", "utf-8");
	dir(&L[1], "d\xfe");
	file(&L[1], "d\xfe/f\xfd", "in a byte-named directory");
	symlink_(&L[1], "l\xfc", "caf\xe9");
	hardlink(&L[1], "h\xfb", "caf\xe9");
	wh(&L[1], ".wh.gone\xff");
	EXPECT_TREE(2, false,
		    "caf\xc3\xa9 f 0644 0 0 =utf-8\n"
		    "caf\xe9 f 0644 0 0 =latin-1\n"
		    "d\xfe d 0755 0 0 -\n"
		    "d\xfe/f\xfd f 0644 0 0 =in a byte-named directory\n"
		    "h\xfb h 0644 0 0 =>caf\xe9\n"
		    "l\xfc l 0777 0 0 ->caf\xe9\n");
	/* a raw ustar name, as GNU tar writes one */
	raw_begin(&L[0]);
	raw_header(&L[0], "gnu\xff", '0', "", "raw", NULL, NULL);
	raw_end(&L[0]);
	EXPECT_TREE(1, false, "gnu\xff f 0644 0 0 =raw\n");
}

/* Many paths: the map grows and still finds every one. */
static void test_pathmap(void)
{
	struct launch_pathmap m;
	launch_pathmap_init(&m);
	CHECK_NULL(launch_pathmap_get(&m, "", 0));
	enum { N = 5000 };
	for (int i = 0; i < N; i++) {
		char p[32];
		int n = snprintf(p, sizeof(p), "dir/%d", i);
		struct launch_pnode *node = launch_pathmap_add(&m, p, (size_t)n);
		node->layer = i;
	}
	CHECK_INTEQ(m.n, N);
	CHECK(m.cap >= N * 10 / 7);
	bool all = true;
	for (int i = 0; i < N; i++) {
		char p[32];
		int n = snprintf(p, sizeof(p), "dir/%d", i);
		struct launch_pnode *node = launch_pathmap_get(&m, p, (size_t)n);
		all &= node && node->layer == i && node->deleted_by == -1 && node->opaque_at == -1 && !node->has_below;
	}
	CHECK(all);
	/* a prefix of a stored path is another path */
	CHECK_NULL(launch_pathmap_get(&m, "dir/1", 4));
	CHECK(launch_pathmap_get(&m, "dir/12345", 6) == launch_pathmap_get(&m, "dir/12", 6));
	struct launch_pnode *a = launch_pathmap_add(&m, "dir/7", 5);
	CHECK_INTEQ(a->layer, 7); /* add finds what is there */
	CHECK_INTEQ(m.n, N);
	struct launch_pnode *root = launch_pathmap_add(&m, "", 0);
	CHECK(root && root->layer == -1 && !strcmp(root->path, ""));
	launch_pathmap_clear(&m);
	CHECK(m.slots == NULL && m.n == 0);

	/* the same through the flattener: a wide layer under a whiteout */
	begin(2);
	dir(&L[0], "w");
	for (int i = 0; i < 3000; i++) {
		char p[32];
		snprintf(p, sizeof(p), "w/f%d", i);
		file(&L[0], p, "");
	}
	wh(&L[1], ".wh.w");
	file(&L[1], "kept", "k");
	EXPECT_TREE(2, false, "kept f 0644 0 0 =k\n");
}

int main(void)
{
	test_upper_wins();
	test_whiteouts();
	test_opaque();
	test_type_changes();
	test_root_and_names();
	test_hostile();
	test_hardlinks();
	test_sparse();
	test_aufs_and_bottom();
	test_empty_whiteouts();
	test_symlink_targets();
	test_unreadable_hardlink();
	test_byte_names();
	test_pathmap();
	return check_done();
}
