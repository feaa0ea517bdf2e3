/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every part of launch (see util.h). */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "proc.h"

static void oom(void)
{
	static const char msg[] = "launch: out of memory\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *r = strdup(s);
	if (!r)
		oom();
	return r;
}

char *xstrndup(const char *s, size_t n)
{
	char *r = strndup(s, n);
	if (!r)
		oom();
	return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t launch_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void launch_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void launch_strv_push(char ***v, char *s)
{
	size_t n = launch_strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

char **launch_strv_copy(char *const *v)
{
	size_t n = launch_strv_len(v);
	char **r = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno == EACCES && chmod(path, 0700) == 0) /* a directory without w or x */
		remove(path);
	return 0;
}

void launch_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *launch_strv_value(char *const *v, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], name, n) && v[i][n] == '=')
			return v[i] + n + 1;
	return NULL;
}

bool launch_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool launch_path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *launch_iso_time(int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

char *launch_path_normalize(const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	size_t len = strlen(path);
	char *out = xmalloc(len + 2);
	size_t o = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* The one walk along PATH. PROGRAM: a program launch runs itself, which is
 * only ever an executable file, and never from the working directory (an
 * empty entry); otherwise a user's command, as execvp finds it, where the
 * first file found that is not executable is kept for the caller's 126 in
 * case no later entry has an executable one. Directories never match. */
static char *path_search(const char *name, const char *path, bool program,
			 bool (*accept)(const char *file, const struct stat *st))
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *next = copy, *first = NULL;
	for (char *dir; (dir = strsep(&next, ":"));) {
		if (program && !*dir)
			continue;
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
		struct stat st;
		if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode) && (!accept || accept(cand, &st))) {
			if (access(cand, X_OK) == 0) {
				free(first);
				return cand;
			}
			if (!first && !program) {
				first = cand;
				continue;
			}
		}
		free(cand);
	}
	return first;
}

char *launch_find_command(const char *cmd, const char *path)
{
	if (strchr(cmd, '/'))
		return xstrdup(cmd);
	return path_search(cmd, path ? path : "/usr/bin:/bin", false, NULL);
}

char *launch_find_program(const char *name, const char *path, bool (*accept)(const char *file, const struct stat *st))
{
	return path_search(name, path, true, accept);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

size_t launch_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	/* three rows of the matrix: i-2 (for swaps), i-1 and i */
	size_t *rows = xcalloc(3 * (m + 1), sizeof(size_t));
	size_t *before = rows, *prev = rows + m + 1, *cur = rows + 2 * (m + 1);
	for (size_t j = 0; j <= m; j++)
		prev[j] = j;
	for (size_t i = 1; i <= n; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t d = min_size(min_size(prev[j], cur[j - 1]) + 1, prev[j - 1] + (a[i - 1] != b[j - 1]));
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d = min_size(d, before[j - 2] + 1);
			cur[j] = d;
		}
		size_t *t = before;
		before = prev;
		prev = cur;
		cur = t;
	}
	size_t d = prev[m];
	free(rows);
	return d;
}

bool launch_size_valid(const char *s)
{
	const char *p = s;
	unsigned long long n = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (1ULL << 60) / 10)
			return false;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (p == s || n == 0 || (*p && p[1]))
		return false;
	if (*p == '%')
		return n <= 100;
	unsigned shift = 0;
	if (*p) {
		const char *units = "kKmMgG";
		const char *u = strchr(units, *p);
		if (!u)
			return false;
		shift = 10 * (unsigned)((u - units) / 2 + 1);
	}
	return n <= (1ULL << 60) >> shift;
}

size_t launch_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word), limit = len < 6 ? 1 : len < 12 ? 2 : 3;
	size_t best = n, best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(candidates[i]);
		if ((l > len ? l - len : len - l) > limit)
			continue; /* too far, whatever the edits */
		size_t d = launch_edit_distance(word, candidates[i]);
		if (d < best_d) {
			best = i;
			best_d = d;
		}
	}
	return best;
}

void launch_time_ago(int64_t then, int64_t now, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		int64_t seconds, below;
	} units[] = {
		{ "second", 1, 60 },
		{ "minute", 60, 3600 },
		{ "hour", 3600, 2 * 86400 },
		{ "day", 86400, 14 * 86400 },
		{ "week", 7 * 86400, 60 * 86400 },
		{ "month", 30 * 86400, 730 * 86400 },
		{ "year", 365 * 86400, INT64_MAX },
	};
	int64_t s = now > then ? now - then : 0;
	size_t i = 0;
	while (s >= units[i].below)
		i++;
	long long k = (long long)(s / units[i].seconds);
	snprintf(buf, size, "%lld %s%s ago", k, units[i].unit, k == 1 ? "" : "s");
}

void launch_table_init(struct launch_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void launch_table_add(struct launch_table *t, const char *const *row)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(row[c] ? row[c] : "");
	t->nrows++;
}

/* What a terminal shows of S: one column per UTF-8 character (continuation
 * bytes, 10xxxxxx, add none). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

char *launch_table_text(const struct launch_table *t)
{
	size_t cells = t->nrows * t->ncols, size = 1;
	size_t *width = xcalloc(t->ncols, sizeof(size_t));
	for (size_t i = 0; i < cells; i++) {
		size_t w = text_width(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t i = 0; i < cells; i++)
		size += strlen(t->cells[i]) + width[i % t->ncols] + 3; /* enough for the padding and the separator */
	char *text = xmalloc(size), *p = text, *content_end = text;
	for (size_t i = 0; i < cells; i++) {
		size_t c = i % t->ncols, len = strlen(t->cells[i]);
		memcpy(p, t->cells[i], len);
		p += len;
		if (len)
			content_end = p;
		if (c + 1 == t->ncols) {
			p = content_end; /* no padding before empty last cells */
			*p++ = '\n';
			content_end = p;
			continue;
		}
		size_t pad = width[c] - text_width(t->cells[i]) + 3;
		memset(p, ' ', pad);
		p += pad;
	}
	*p = '\0';
	free(width);
	return text;
}

void launch_table_clear(struct launch_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int launch_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return launch_read_fd(fd, max, out, len);
}

int launch_read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		errno = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	*out = steal_pointer(&buf);
	if (len)
		*len = n;
	return 0;
}

int launch_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int launch_write_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return launch_write_all(fd, s, strlen(s));
}

char *launch_read_tail(int fd, size_t max)
{
	size_t n = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t r;
	while ((r = read(fd, buf + n, cap - 1 - n)) > 0 || (r < 0 && errno == EINTR)) {
		if (r <= 0)
			continue;
		n += (size_t)r;
		if (n + 1 == cap) {
			if (cap > max) {
				memmove(buf, buf + cap / 2, n - cap / 2); /* keep the end */
				n -= cap / 2;
			} else {
				cap *= 2;
				buf = xrealloc(buf, cap);
			}
		}
	}
	buf[n] = '\0';
	return buf;
}

int launch_run_capture(char *const *argv, bool with_stderr, size_t max, char **out)
{
	struct launch_proc_spec spec = { .path = argv[0],
					 .argv = argv,
					 .out = LAUNCH_PROC_PIPE,
					 .err = with_stderr ? LAUNCH_PROC_STDOUT : LAUNCH_PROC_INHERIT };
	struct launch_proc_io io = { .max = max };
	int r = launch_proc_run(&spec, &io, 0, NULL);
	*out = io.out ? io.out : xstrdup("");
	return r < 0 ? 127 : r; /* could not run */
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static bool kept(int fd, const int *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Kernels before 5.11 have no CLOSE_RANGE_CLOEXEC (before 5.9 no
 * close_range at all): walk /proc/self/fd with getdents64 into a stack
 * buffer (no malloc: vfork children call this), and mark or close. */
static int fds_walk(const int *keep, size_t n, bool close_them)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		long got = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (got <= 0) {
			close(dfd);
			return got < 0 ? -1 : 0;
		}
		for (long off = 0; off < got;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(buf + off);
			off += de->d_reclen;
			int fd = 0;
			const char *c = de->d_name;
			if (*c < '0' || *c > '9')
				continue;
			for (; *c >= '0' && *c <= '9'; c++)
				fd = fd * 10 + (*c - '0');
			if (fd <= 2 || fd == dfd || kept(fd, keep, n))
				continue;
			if (close_them)
				close(fd);
			else
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
	}
}

/* close_range with FLAGS over the ranges between the kept descriptors */
static int fds_ranges(const int *keep, size_t n, unsigned int flags)
{
	/* the ranges between the kept descriptors, in order */
	unsigned int lo = 3;
	for (;;) {
		unsigned int next = ~0U;
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (unsigned int)keep[i] < next)
				next = (unsigned int)keep[i];
		unsigned int hi = next == ~0U ? ~0U : next - 1;
		if (hi >= lo && syscall(SYS_close_range, lo, hi, flags) < 0)
			return fds_walk(keep, n, !(flags & CLOSE_RANGE_CLOEXEC));
		if (next == ~0U)
			return 0;
		lo = next + 1;
	}
}

int launch_fds_close_on_exec(const int *keep, size_t n)
{
	return fds_ranges(keep, n, CLOSE_RANGE_CLOEXEC);
}

int launch_fds_close(const int *keep, size_t n)
{
	return fds_ranges(keep, n, 0);
}

int launch_fds_pmi(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++) {
		if (strncmp(env[i], "PMI_FD=", 7) != 0)
			continue;
		char *end;
		errno = 0;
		long fd = strtol(env[i] + 7, &end, 10);
		if (errno || end == env[i] + 7 || *end || fd < 3 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
			return -1;
		return (int)fd;
	}
	return -1;
}

int launch_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (launch_write_all(fd, data, len) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
