/* SPDX-License-Identifier: Apache-2.0 */
/* Layer readers (see layer.h): two libarchive readers in a row. The outer
 * one has the "raw" format and every filter, so it turns the blob into its
 * uncompressed bytes, whatever the compression; the inner one reads those
 * bytes as a tar archive, through a callback that also hashes them. */
#define _GNU_SOURCE
#include "layer.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef LAUNCH_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "digest.h"
#include "util.h"

struct launch_layer_reader {
	struct launch_blob *blob; /* from a source, or NULL */
	int fd;			  /* a --rootfs tar file */
	struct launch_sha256 *file_sha;
	uint64_t file_bytes;
	struct archive *outer, *inner;
	struct launch_sha256 *diff;
	char *outer_error;
	const struct launch_layer_desc *desc;
	int index;
	char buf[128 * 1024];
	char raw[128 * 1024];
	char diff_id[LAUNCH_DIGEST_LEN + 1];
	bool outer_eof;
	ssize_t pending; /* bytes already in raw (peeked), -1 when none */
	void (*on_read)(void *arg, uint64_t bytes);
	void *on_read_arg;
#ifdef LAUNCH_HAVE_ISAL
	/* gzip blobs are inflated by isa-l (3.6 times zlib's speed on a Debian
	 * layer) instead of libarchive's gzip filter */
	struct inflate_state *gz;
	bool gz_in_eof;
#endif
};

void launch_layer_on_read(struct launch_layer_reader *r, void (*fn)(void *arg, uint64_t bytes), void *arg)
{
	r->on_read = fn;
	r->on_read_arg = arg;
}

uint64_t launch_layer_bytes(const struct launch_layer_reader *r);

/* The next bytes of the blob (or file) into r->raw: >0, 0 at its end, -1
 * with the message in *WHY. */
static ssize_t raw_read(struct launch_layer_reader *r, const char **why)
{
	ssize_t n;
	if (r->blob) {
		n = launch_blob_read(r->blob, r->raw, sizeof(r->raw));
		if (n < 0) {
			*why = launch_blob_error(r->blob);
			return -1;
		}
	} else {
		do
			n = read(r->fd, r->raw, sizeof(r->raw));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			*why = strerror(errno);
			return -1;
		}
		launch_sha256_update(r->file_sha, r->raw, (size_t)n);
		r->file_bytes += (uint64_t)n;
	}
	if (r->on_read)
		r->on_read(r->on_read_arg, launch_layer_bytes(r));
	return n;
}

static la_ssize_t blob_cb(struct archive *a, void *arg, const void **buf)
{
	struct launch_layer_reader *r = arg;
	if (r->pending >= 0) {
		la_ssize_t p = r->pending; /* the bytes start() peeked at */
		r->pending = -1;
		*buf = r->raw;
		return p;
	}
	const char *why = NULL;
	ssize_t n = raw_read(r, &why);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", why);
		return -1;
	}
	*buf = r->raw;
	return n;
}

#ifdef LAUNCH_HAVE_ISAL
/* Up to one buffer of uncompressed bytes from the gzip stream (members one
 * after the other, as gzip allows): >0, 0 at its end, -1 (message set). */
static la_ssize_t gz_read(struct archive *a, struct launch_layer_reader *r)
{
	struct inflate_state *st = r->gz;
	st->next_out = (uint8_t *)r->buf;
	st->avail_out = sizeof(r->buf);
	while (st->avail_out == sizeof(r->buf)) {
		if (st->block_state == ISAL_BLOCK_FINISH) {
			if (st->avail_in == 0 && !r->gz_in_eof) {
				const char *why = NULL;
				ssize_t n = raw_read(r, &why);
				if (n < 0) {
					archive_set_error(a, EIO, "%s", why);
					return -1;
				}
				if (n == 0)
					r->gz_in_eof = true;
				st->next_in = (uint8_t *)r->raw;
				st->avail_in = (uint32_t)n;
			}
			if (st->avail_in < 2 || st->next_in[0] != 0x1f || st->next_in[1] != 0x8b)
				return 0; /* the end (what follows, if anything, is counted by the digest) */
			uint8_t *in = st->next_in;
			uint32_t left = st->avail_in;
			isal_inflate_reset(st); /* the next member */
			st->crc_flag = ISAL_GZIP;
			st->next_in = in;
			st->avail_in = left;
			st->next_out = (uint8_t *)r->buf;
			st->avail_out = sizeof(r->buf);
		}
		if (st->avail_in == 0) {
			if (r->gz_in_eof) {
				archive_set_error(a, EIO, "truncated gzip input");
				return -1;
			}
			const char *why = NULL;
			ssize_t n = raw_read(r, &why);
			if (n < 0) {
				archive_set_error(a, EIO, "%s", why);
				return -1;
			}
			if (n == 0) {
				r->gz_in_eof = true;
				continue;
			}
			st->next_in = (uint8_t *)r->raw;
			st->avail_in = (uint32_t)n;
		}
		int ret = isal_inflate(st);
		if (ret != ISAL_DECOMP_OK) {
			archive_set_error(a, EIO, "corrupt gzip data (isa-l error %d)", ret);
			return -1;
		}
	}
	return (la_ssize_t)(sizeof(r->buf) - st->avail_out);
}
#endif

static la_ssize_t tar_cb(struct archive *a, void *arg, const void **buf)
{
	struct launch_layer_reader *r = arg;
	if (r->outer_eof)
		return 0;
#ifdef LAUNCH_HAVE_ISAL
	if (r->gz) {
		la_ssize_t g = gz_read(a, r);
		if (g < 0)
			return -1;
		if (g == 0)
			r->outer_eof = true;
		launch_sha256_update(r->diff, r->buf, (size_t)g);
		*buf = r->buf;
		return g;
	}
#endif
	la_ssize_t n = archive_read_data(r->outer, r->buf, sizeof(r->buf));
	if (n < 0) {
		const char *m = archive_error_string(r->outer);
		archive_set_error(a, EIO, "%s", m ? m : "cannot decompress");
		return -1;
	}
	if (n == 0)
		r->outer_eof = true;
	launch_sha256_update(r->diff, r->buf, (size_t)n);
	*buf = r->buf;
	return n;
}

/* The tar reader over the (decompressed) blob. */
static int open_tar(struct launch_layer_reader *r, const char *what, struct launch_error **err)
{
	r->inner = archive_read_new();
	archive_read_support_format_tar(r->inner);
	archive_read_support_format_gnutar(r->inner);
	if (archive_read_open(r->inner, r, NULL, tar_cb, NULL) != ARCHIVE_OK)
		return launch_error_msg(err, "%s: cannot read it as a tar archive: %s", what,
					archive_error_string(r->inner));
	return 0;
}

static int start(struct launch_layer_reader *r, const char *what, struct launch_error **err)
{
	r->diff = launch_sha256_new();
#ifdef LAUNCH_HAVE_ISAL
	/* peek: gzip goes to isa-l, anything else to libarchive's filters */
	const char *why = NULL;
	ssize_t first = raw_read(r, &why);
	if (first < 0)
		return launch_error_msg(err, "%s: cannot read it: %s", what, why);
	if (first >= 2 && (unsigned char)r->raw[0] == 0x1f && (unsigned char)r->raw[1] == 0x8b) {
		r->gz = xcalloc(1, sizeof(*r->gz));
		isal_inflate_init(r->gz);
		r->gz->crc_flag = ISAL_GZIP;
		r->gz->next_in = (uint8_t *)r->raw;
		r->gz->avail_in = (uint32_t)first;
		r->gz->block_state = ISAL_BLOCK_NEW_HDR;
		r->gz_in_eof = first == 0;
	} else {
		r->pending = first; /* handed to libarchive first */
	}
	if (r->gz)
		return open_tar(r, what, err);
#endif
	r->outer = archive_read_new();
	archive_read_support_filter_all(r->outer);
	archive_read_support_format_raw(r->outer);
	struct archive_entry *e;
	if (archive_read_open(r->outer, r, NULL, blob_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r->outer, &e) != ARCHIVE_OK)
		return launch_error_msg(err, "%s: cannot read it: %s", what, archive_error_string(r->outer));
	return open_tar(r, what, err);
}

int launch_layer_open(const struct launch_source *src, const struct launch_layer_desc *d, int index,
		      struct launch_layer_reader **out, struct launch_error **err)
{
	struct launch_layer_reader *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->pending = -1;
	r->desc = d;
	r->index = index;
	if (launch_blob_open(src, d->member, &r->blob, err) < 0) {
		launch_error_wrap(err, "layer %d", index + 1);
		launch_layer_close(r);
		return -1;
	}
	_cleanup_free_ char *what = xasprintf("layer %d", index + 1);
	if (start(r, what, err) < 0) {
		launch_layer_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

int launch_layer_open_file(const char *path, struct launch_layer_reader **out, struct launch_error **err)
{
	int fd = launch_open_regular(path, err);
	if (fd < 0)
		return -1;
	return launch_layer_open_fd(fd, path, out, err);
}

int launch_layer_open_fd(int fd, const char *what, struct launch_layer_reader **out, struct launch_error **err)
{
	struct launch_layer_reader *r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->pending = -1;
	r->file_sha = launch_sha256_new();
	if (start(r, what, err) < 0) {
		launch_layer_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

struct archive *launch_layer_tar(struct launch_layer_reader *r)
{
	return r->inner;
}

uint64_t launch_layer_bytes(const struct launch_layer_reader *r)
{
	return r->blob ? launch_blob_bytes(r->blob) : r->file_bytes;
}

int launch_layer_verify(struct launch_layer_reader *r, struct launch_error **err)
{
	/* the end-of-archive blocks need not be the end of the stream */
	while (!r->outer_eof) {
		const void *b;
		if (tar_cb(r->inner, r, &b) < 0)
			return launch_error_msg(err, "layer %d: cannot read it: %s", r->index + 1,
						archive_error_string(r->inner));
	}
	char raw[4096];
	ssize_t n;
	while (r->blob && (n = launch_blob_read(r->blob, raw, sizeof(raw))) > 0)
		;
	launch_sha256_final(r->diff, r->diff_id);
	if (!r->blob)
		return 0;
	const struct launch_layer_desc *d = r->desc;
	char got[LAUNCH_DIGEST_LEN + 1];
	launch_blob_digest(r->blob, got);
	if (d->size >= 0 && launch_blob_bytes(r->blob) != (uint64_t)d->size)
		return launch_error_msg(err, "layer %d: size mismatch: the manifest says %lld bytes, the blob has %llu",
					r->index + 1, (long long)d->size,
					(unsigned long long)launch_blob_bytes(r->blob));
	if (d->digest && strcmp(got, d->digest) != 0)
		return launch_error_msg(err, "layer %d: digest mismatch: expected %s, got %s (the source is corrupt)",
					r->index + 1, d->digest, got);
	if (d->diff_id && strcmp(r->diff_id, d->diff_id) != 0)
		return launch_error_msg(err,
					"layer %d: its uncompressed content does not match the config's diff_id "
					"(expected %s, got %s)",
					r->index + 1, d->diff_id, r->diff_id);
	return 0;
}

void launch_layer_diff_id(struct launch_layer_reader *r, char *out)
{
	strcpy(out, r->diff_id);
}

void launch_layer_close(struct launch_layer_reader *r)
{
	if (!r)
		return;
	if (r->inner)
		archive_read_free(r->inner);
	if (r->outer)
		archive_read_free(r->outer);
	launch_blob_close(r->blob);
	if (r->fd >= 0)
		close(r->fd);
	launch_sha256_free(r->file_sha);
	launch_sha256_free(r->diff);
	free(r->outer_error);
#ifdef LAUNCH_HAVE_ISAL
	free(r->gz);
#endif
	free(r);
}
