/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the layer flattener (image-manager/flatten.c). The
 * input is a tar archive, one layer; when it holds the marker
 * "\n--LAUNCH-LAYER--\n", what precedes it is the bottom layer and what
 * follows the top one. The layers are read from memory (and re-read for
 * hardlinks whose target a higher layer hid) and flattened into a writer
 * that keeps at most OUT_MAX bytes and then fails, so that size claims cost
 * nothing. The checksum of every 512-byte block that carries the ustar
 * magic is recomputed first, so that mutated headers reach the flattener.
 * Contract: no crash, an error set exactly when the flattening
 * fails; and when it succeeds, the result reads back as a tar archive of
 * as many entries as were written, every path written is relative,
 * normalised, without "..", not a whiteout, and written once (the root as
 * "./", a directory), and every hardlink target is such a path too. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatten.h"
#include "pathmap.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

#define MARKER "\n--LAUNCH-LAYER--\n"
#define OUT_MAX (4u << 20)

struct layer {
	const void *data;
	size_t len;
};

struct sink {
	char *buf;
	size_t len;
};

static la_ssize_t sink_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct sink *s = arg;
	if (n > OUT_MAX - s->len) {
		archive_set_error(a, EFBIG, "the fuzzer's output limit");
		return -1;
	}
	memcpy(s->buf + s->len, buf, n);
	s->len += n;
	return (la_ssize_t)n;
}

static struct archive *open_layer(const struct layer *l)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_memory(a, l->data, l->len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static struct archive *reopen(void *arg, int k, void **handle, struct launch_error **err)
{
	struct layer *layers = arg;
	struct archive *a = open_layer(&layers[k]);
	if (!a) {
		launch_error_msg(err, "layer %d: cannot read it again", k + 1);
		return NULL;
	}
	*handle = a;
	return a;
}

static void reclose(void *arg, void *handle)
{
	(void)arg;
	archive_read_free(handle);
}

/* P is a path the flattener may write: "" aside, relative, normalised. */
static bool clean_path(const char *p)
{
	if (!*p || p[0] == '/')
		return false;
	for (const char *c = p; *c;) {
		const char *e = strchrnul(c, '/');
		size_t l = (size_t)(e - c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = *e ? e + 1 : e;
	}
	return p[strlen(p) - 1] != '/';
}

static void check_output(const struct sink *s, uint64_t entries)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, s->buf, s->len) != ARCHIVE_OK)
		abort();
	struct launch_pathmap seen;
	launch_pathmap_init(&seen);
	struct archive_entry *e;
	uint64_t n = 0;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		n++;
		if (getenv("LAUNCH_FUZZ_VERBOSE"))
			fprintf(stderr, "  %s (%o, %lld bytes)\n", archive_entry_pathname(e),
				(unsigned)archive_entry_filetype(e), (long long)archive_entry_size(e));
		_cleanup_free_ char *path = xstrdup(archive_entry_pathname(e));
		size_t len = strlen(path);
		bool is_dir = archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e);
		if (!strcmp(path, "./")) {
			if (!is_dir)
				abort();
			len = 0; /* the root */
		} else {
			if (is_dir && len > 1 && path[len - 1] == '/')
				path[--len] = '\0'; /* the writer's "/" */
			if (!clean_path(path))
				abort();
			const char *base = strrchr(path, '/');
			base = base ? base + 1 : path;
			if (launch_str_has_prefix(base, ".wh."))
				abort();
		}
		struct launch_pnode *node = launch_pathmap_add(&seen, path, len);
		if (node->layer >= 0)
			abort(); /* written twice */
		node->layer = 0;
		const char *hl = archive_entry_hardlink(e);
		if (hl && !clean_path(hl))
			abort();
	}
	if (getenv("LAUNCH_FUZZ_VERBOSE"))
		fprintf(stderr, "read back %llu entries: %s\n", (unsigned long long)n,
			r == ARCHIVE_EOF ? "end" : archive_error_string(a));
	if (r != ARCHIVE_EOF || n != entries)
		abort();
	launch_pathmap_clear(&seen);
	archive_read_free(a);
}

/* Give each ustar/GNU header block of BUF[0..LEN) its right checksum. */
static void fix_checksums(uint8_t *buf, size_t len)
{
	for (size_t o = 0; o + 512 <= len; o += 512) {
		uint8_t *h = buf + o;
		if (memcmp(h + 257, "ustar", 5) != 0)
			continue;
		unsigned sum = 0;
		for (size_t i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		char field[8];
		snprintf(field, sizeof(field), "%06o", sum & 0777777);
		memcpy(h + 148, field, 7); /* six digits and a NUL, then the space */
		h[155] = ' ';
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static uint8_t data[1 << 20];
	if (size > sizeof(data))
		return 0;
	memcpy(data, input, size);
	struct layer layers[2];
	int n = 1;
	const uint8_t *m = memmem(data, size, MARKER, sizeof(MARKER) - 1);
	layers[0] = (struct layer){ data, m ? (size_t)(m - data) : size };
	fix_checksums(data, layers[0].len);
	if (m) {
		uint8_t *top = data + (m - data) + sizeof(MARKER) - 1;
		layers[1] = (struct layer){ top, (size_t)(data + size - top) };
		fix_checksums(top, layers[1].len);
		n = 2;
	}

	static char out_buf[OUT_MAX];
	struct sink s = { out_buf, 0 };
	struct archive *out = archive_write_new();
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_per_block(out, 0);
	if (archive_write_open(out, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
		abort();
	struct launch_flatten_layers again = { reopen, reclose, layers };
	struct launch_flatten *f = launch_flatten_new(out, n, &again);
	struct launch_error *err = NULL;
	int r = 0;
	for (int k = n - 1; k >= 0 && r == 0; k--) {
		struct archive *in = open_layer(&layers[k]);
		if (!in) {
			r = 1; /* not a tar archive libarchive recognises: nothing to flatten */
			break;
		}
		r = launch_flatten_layer(f, k, in, &err);
		archive_read_free(in);
		if (r != 0 && r != -1)
			abort();
	}
	if (r == 0) {
		r = launch_flatten_finish(f, &err);
		if (r != 0 && r != -1)
			abort();
	}
	if (r == 0 && err)
		abort(); /* success with an error */
	if (r == -1 && (!err || !err->msg || !launch_str_has_prefix(err->msg, "layer ")))
		abort(); /* failure without one, or one that names no layer */
	uint64_t entries = launch_flatten_entries(f);
	if (getenv("LAUNCH_FUZZ_VERBOSE")) /* what a seed does */
		fprintf(stderr, "%d layer(s): %s (%llu entries)\n", n,
			r == 1	 ? "not a tar"
			: r == 0 ? "ok"
				 : err->msg,
			(unsigned long long)entries);
	launch_flatten_free(f);
	/* close, not fail: it pads what an entry cut short lacks (the sink's
	 * limit bounds that) and frees the writer's state */
	int closed = archive_write_close(out);
	archive_write_free(out);
	const char *keep = getenv("LAUNCH_FUZZ_OUT"); /* the result, to look at */
	FILE *kf = keep ? fopen(keep, "wb") : NULL;
	if (kf) {
		fwrite(s.buf, 1, s.len, kf);
		fclose(kf);
	}
	if (r == 0 && closed == ARCHIVE_OK)
		check_output(&s, entries);
	launch_error_free(err);
	return 0;
}
