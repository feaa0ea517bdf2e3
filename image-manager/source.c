/* SPDX-License-Identifier: Apache-2.0 */
/* Import sources (see source.h). A tar source is scanned once for its
 * member names; each blob read then opens it again and skips to the
 * member, which costs a header walk (with seeks for an uncompressed tar)
 * and keeps memory flat whatever the size of the archive.
 *
 * Every file of a source is opened O_NONBLOCK and checked to be a regular
 * file before a byte is read: whoever wrote the source (another user of a
 * shared directory) could have put a FIFO where a blob belongs, and a plain
 * open would wait for a writer forever. A tar source is opened once and
 * read again through /proc/self/fd, so the file every read sees is the one
 * that was checked, whatever is renamed over its path meanwhile. */
#define _GNU_SOURCE
#include "source.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolve.h"
#include "util.h"

char *launch_member_normalize(const char *name)
{
	if (name[0] == '/')
		return NULL;
	size_t n = strlen(name);
	char *out = xmalloc(n + 1), *o = out;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t l = (size_t)(end - p);
		if (l == 0)
			break;
		if (l == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (o != out)
			*o++ = '/';
		memcpy(o, p, l);
		o += l;
		p = end;
	}
	*o = '\0';
	return out;
}

static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a file";
	}
}

int launch_regular_fd(int fd, const char *path, struct launch_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return launch_error_set(err, e, "cannot read %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return launch_error_msg(err,
					"cannot read %s: it is %s, not a regular file (an image source holds regular "
					"files only)",
					path, kind_of(st.st_mode));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return launch_error_set(err, e, "cannot read %s", path);
	}
	return fd;
}

int launch_open_regular(const char *path, struct launch_error **err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return launch_error_msg(err,
					"cannot read %s: it is a symlink, not a regular file (give the file it points "
					"to)",
					path);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot read %s", path);
	return launch_regular_fd(fd, path, err);
}

/* A new open file of tar source S (its own offset, for readers side by
 * side), or -1 with the message in *ERR. */
static int reopen_tar(const struct launch_source *s, struct launch_error **err)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s->fd);
	int fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot read %s again (through %s: is /proc mounted?)", s->path,
					proc);
	return fd;
}

static struct archive *tar_reader(void)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	return a;
}

static int scan_tar(struct launch_source *s, struct launch_error **err)
{
	_cleanup_close_ int fd = reopen_tar(s, err);
	if (fd < 0)
		return -1;
	struct archive *a = tar_reader();
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
		launch_error_msg(err, "cannot read %s as a tar archive: %s", s->path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	s->members = xcalloc(1, sizeof(char *));
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		char *norm = name ? launch_member_normalize(name) : NULL;
		if (norm && *norm && archive_entry_filetype(e) == AE_IFREG) {
			size_t n = launch_strv_len(s->members);
			s->sizes = xrealloc(s->sizes, (n + 1) * sizeof(int64_t));
			s->sizes[n] = archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1;
			launch_strv_push(&s->members, norm);
		} else
			free(norm);
		archive_read_data_skip(a);
	}
	if (r != ARCHIVE_EOF) {
		launch_error_msg(err, "cannot read %s as a tar archive: %s", s->path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	archive_read_free(a);
	return 0;
}

int launch_source_open(const char *path, struct launch_source *s, struct launch_error **err)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	s->fd = -1;
	struct stat st;
	if (stat(path, &st) < 0)
		return launch_error_set(err, errno, "cannot read %s", path);
	s->path = xstrdup(path);
	if (S_ISDIR(st.st_mode)) {
		s->is_dir = true;
		s->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0) {
			int e = errno;
			launch_source_close(s);
			return launch_error_set(err, e, "cannot open %s", path);
		}
		return 0;
	}
	s->fd = launch_open_regular(path, err);
	if (s->fd < 0) {
		launch_source_close(s);
		return -1;
	}
	if (scan_tar(s, err) < 0) {
		launch_source_close(s);
		return -1;
	}
	return 0;
}

void launch_source_close(struct launch_source *s)
{
	free(s->path);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->fd >= 0)
		close(s->fd);
	launch_strv_free(s->members);
	free(s->sizes);
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	s->fd = -1;
}

bool launch_source_has(const struct launch_source *s, const char *name)
{
	if (s->is_dir) {
		/* a FIFO or a device is there, and refused when read, by name */
		int fd = launch_resolve_in_root(s->dirfd, name, O_PATH);
		if (fd < 0)
			return false;
		struct stat st;
		bool there = fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode);
		close(fd);
		return there;
	}
	for (size_t i = 0; s->members && s->members[i]; i++)
		if (!strcmp(s->members[i], name))
			return true;
	return false;
}

int64_t launch_source_size(const struct launch_source *s, const char *name)
{
	if (s->is_dir) {
		int fd = launch_resolve_in_root(s->dirfd, name, O_PATH);
		struct stat st;
		int64_t r = fd >= 0 && fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
		if (fd >= 0)
			close(fd);
		return r;
	}
	for (size_t i = 0; s->members && s->members[i]; i++)
		if (!strcmp(s->members[i], name))
			return s->sizes[i];
	return -1;
}

struct launch_blob {
	struct launch_blob_stream stream; /* or a stream */
	int fd;				  /* the member (directory sources) or the archive (tar sources) */
	struct archive *a;		  /* tar sources, positioned at the member's data */
	struct launch_sha256 *sha;
	uint64_t bytes;
	char *error;
	char *name;
};

int launch_blob_open(const struct launch_source *s, const char *name, struct launch_blob **out,
		     struct launch_error **err)
{
	_cleanup_free_ char *norm = launch_member_normalize(name);
	if (!norm || !*norm)
		return launch_error_msg(err, "%s: member `%s` is outside the archive", s->path, name);
	struct launch_blob *b = xcalloc(1, sizeof(*b));
	b->fd = -1;
	b->name = xstrdup(norm);
	int sr = s->open_stream ? s->open_stream(s->stream_ctx, norm, &b->stream, err) : 1;
	if (sr < 0) {
		launch_blob_close(b);
		return -1;
	}
	if (sr == 0) {
		/* a stream */
	} else if (s->is_dir) {
		/* symlinks are followed, inside the source only (docker save
		 * makes a repeated layer a symlink to the first one) */
		_cleanup_free_ char *shown = xasprintf("%s/%s", s->path, norm);
		b->fd = launch_resolve_in_root(s->dirfd, norm, O_RDONLY | O_NONBLOCK);
		if (b->fd < 0) {
			int e = errno;
			launch_blob_close(b);
			return launch_error_set(err, e, "cannot open %s", shown);
		}
		b->fd = launch_regular_fd(b->fd, shown, err);
		if (b->fd < 0) {
			launch_blob_close(b);
			return -1;
		}
	} else {
		b->fd = reopen_tar(s, err);
		if (b->fd < 0) {
			launch_blob_close(b);
			return -1;
		}
		b->a = tar_reader();
		if (archive_read_open_fd(b->a, b->fd, 64 * 1024) != ARCHIVE_OK) {
			launch_error_msg(err, "cannot read %s: %s", s->path, archive_error_string(b->a));
			launch_blob_close(b);
			return -1;
		}
		struct archive_entry *e;
		int r;
		bool found = false;
		while (!found && ((r = archive_read_next_header(b->a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
			const char *n = archive_entry_pathname(e);
			_cleanup_free_ char *m = n ? launch_member_normalize(n) : NULL;
			if (m && !strcmp(m, norm) && archive_entry_filetype(e) == AE_IFREG)
				found = true;
			else
				archive_read_data_skip(b->a);
		}
		if (!found) {
			launch_error_msg(err, "%s: member %s is missing", s->path, norm);
			launch_blob_close(b);
			return -1;
		}
	}
	b->sha = launch_sha256_new();
	*out = b;
	return 0;
}

ssize_t launch_blob_read(struct launch_blob *b, void *buf, size_t n)
{
	ssize_t r;
	if (b->stream.read) {
		r = b->stream.read(b->stream.arg, buf, n);
		if (r < 0) {
			free(b->error);
			b->error = xasprintf("cannot read %s: %s", b->name, strerror(errno));
			return -1;
		}
	} else if (b->a) {
		r = archive_read_data(b->a, buf, n);
		if (r < 0) {
			free(b->error);
			b->error = xasprintf("cannot read %s: %s", b->name, archive_error_string(b->a));
			return -1;
		}
	} else {
		do
			r = read(b->fd, buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			free(b->error);
			b->error = xasprintf("cannot read %s: %s", b->name, strerror(errno));
			return -1;
		}
	}
	launch_sha256_update(b->sha, buf, (size_t)r);
	b->bytes += (uint64_t)r;
	return r;
}

const char *launch_blob_error(const struct launch_blob *b)
{
	return b->error ? b->error : "read error";
}
uint64_t launch_blob_bytes(const struct launch_blob *b)
{
	return b->bytes;
}
void launch_blob_digest(struct launch_blob *b, char *out)
{
	launch_sha256_final(b->sha, out);
}

void launch_blob_close(struct launch_blob *b)
{
	if (!b)
		return;
	if (b->stream.close)
		b->stream.close(b->stream.arg);
	if (b->a)
		archive_read_free(b->a);
	if (b->fd >= 0)
		close(b->fd);
	launch_sha256_free(b->sha);
	free(b->error);
	free(b->name);
	free(b);
}

int launch_source_read(const struct launch_source *s, const char *name, size_t max, char **data, size_t *len,
		       struct launch_error **err)
{
	struct launch_blob *b;
	if (launch_blob_open(s, name, &b, err) < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				launch_blob_close(b);
				return launch_error_msg(err,
							"%s: %s is larger than %zu bytes: not a manifest or config",
							s->path, name, max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = launch_blob_read(b, buf + n, cap - n);
		if (r < 0) {
			launch_error_msg(err, "%s: %s", s->path, launch_blob_error(b));
			free(buf);
			launch_blob_close(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	launch_blob_close(b);
	*data = buf;
	if (len)
		*len = n;
	return 0;
}
