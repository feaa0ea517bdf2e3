/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every part of launch: scope-bound cleanup, string
 * building, whole-file reads and writes. Nothing here prints or exits. */
#ifndef LAUNCH_UTIL_H
#define LAUNCH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(launch_freep)
#define _cleanup_close_ _cleanup_(launch_closep)
#define _cleanup_fclose_ _cleanup_(launch_fclosep)
#define _cleanup_strv_ _cleanup_(launch_strv_freep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void launch_freep(void *p)
{
	free(*(void **)p);
}
static inline void launch_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void launch_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Hand ownership on: returns the value and clears the variable. */
#define steal_pointer(pp)                     \
	({                                    \
		__typeof__(*(pp)) _p = *(pp); \
		*(pp) = NULL;                 \
		_p;                           \
	})
#define steal_fd(fdp)             \
	({                        \
		int _fd = *(fdp); \
		*(fdp) = -1;      \
		_fd;              \
	})

/* Allocation failure is not recoverable in a process this small: these abort
 * with a message rather than return NULL (the only abort in lib/). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* NULL-terminated string vectors. */
size_t launch_strv_len(char *const *v);
void launch_strv_free(char **v);
static inline void launch_strv_freep(char ***v)
{
	launch_strv_free(*v);
}
void launch_strv_push(char ***v, char *s); /* takes ownership of s */
char **launch_strv_copy(char *const *v);
/* Remove PATH and everything below it, as far as this process may (best
 * effort, symlinks not followed). */
void launch_remove_tree(const char *path);
/* The VALUE of the entry NAME=VALUE of V (an environment), or NULL. */
const char *launch_strv_value(char *const *v, const char *name);

bool launch_str_has_prefix(const char *s, const char *prefix);
/* True when PATH equals DIR or lies below it (component-wise, both normalised). */
bool launch_path_is_under(const char *path, const char *dir);
/* Lexically normalise an absolute path: collapse "//", drop "." and resolve
 * ".." without leaving "/". Returns NULL when PATH is not absolute. */
char *launch_path_normalize(const char *path);
/* T (seconds since the epoch) as UTC ISO 8601: 2026-12-06T03:04:05Z. */
char *launch_iso_time(int64_t t);

/* A tmpfs size as mount(8) takes it: bytes with an optional k, m or g
 * suffix (either case), above 0 and at most 1 EiB (tmpfs reads a larger
 * one, or 0, as "no limit"), or 1-100% of RAM. */
bool launch_size_valid(const char *s);

/* Search PATH (colon-separated; NULL: /usr/bin:/bin) for the command CMD
 * as execvp does, an empty entry being the working directory, but tell
 * "nowhere" (NULL) apart from "found but not executable": execvp reports
 * EACCES for a PATH entry it may not enter, which would turn a missing
 * command into "permission denied". Returns the first executable file
 * DIR/CMD, else the first one found that is not executable (the caller's
 * exec then fails with EACCES: 126), else NULL (127). Directories are
 * skipped; a CMD with a '/' is returned as it is, unchecked. */
char *launch_find_command(const char *cmd, const char *path);
/* The first executable file DIR/NAME along PATH (colon-separated) that
 * ACCEPT, when not NULL, approves, or NULL: for programs launch runs
 * itself (tar2sqfs, newuidmap), which are never looked for in the working
 * directory (empty entries are skipped). */
char *launch_find_program(const char *name, const char *path, bool (*accept)(const char *file, const struct stat *st));

/* The optimal string alignment distance of A and B: how many insertions,
 * deletions, substitutions and swaps of two adjacent characters turn one
 * into the other ("rnu" is 1 from "run"). */
size_t launch_edit_distance(const char *a, const char *b);
/* The index of the first of the N CANDIDATES nearest to WORD, when it is
 * near enough for WORD to be a typo of it (1 edit for words of up to 5
 * characters, 2 up to 11, else 3), else N: "did you mean" hints. */
size_t launch_closest(const char *word, const char *const *candidates, size_t n);
/* How long before NOW the time THEN was, as people say it: "1 minute ago",
 * "3 days ago" (seconds below a minute, minutes below an hour, hours below
 * two days, days below two weeks, weeks below two months, months below two
 * years, then years). A THEN after NOW is "0 seconds ago". */
void launch_time_ago(int64_t then, int64_t now, char *buf, size_t size);

/* Text in aligned columns, for the tables commands print: each column as
 * wide as its widest cell (header included), three spaces between columns,
 * the last column unpadded so that no line ends in blanks. Width counts
 * UTF-8 characters. */
struct launch_table {
	size_t ncols, nrows;
	char **cells; /* row after row */
};
void launch_table_init(struct launch_table *t, size_t ncols);
/* Append a row of NCOLS cells (copied; NULL is empty). */
void launch_table_add(struct launch_table *t, const char *const *row);
/* The table as lines, each ended by a newline. */
char *launch_table_text(const struct launch_table *t);
void launch_table_clear(struct launch_table *t);

/* Read a whole file (at most MAX bytes) into a NUL-terminated buffer. */
int launch_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);
int launch_read_fd(int fd, size_t max, char **out, size_t *len);
/* Write all of BUF to FD, retrying short writes. */
int launch_write_all(int fd, const void *buf, size_t len);
/* Read FD to its end, keeping about the last MAX bytes (NUL-terminated). */
char *launch_read_tail(int fd, size_t max);
/* Run ARGV[0] (an absolute path) with ARGV and collect its standard output
 * (and error, with WITH_STDERR), keeping about the last MAX bytes, trailing
 * blanks removed, in *OUT (always set). Returns its exit status (128+N for
 * signal N), -1 with errno when it could not be started. */
int launch_run_capture(char *const *argv, bool with_stderr, size_t max, char **out);
/* Before an exec: every descriptor above 2 except the N in KEEP gets
 * close-on-exec, so the program sees exactly 0-2 and KEEP whatever this
 * process inherited (slurmstepd's descriptors, a FUSE server's). Only system
 * calls: safe in a vfork child. 0, or -1 with errno. */
int launch_fds_close_on_exec(const int *keep, size_t n);
/* The same, closing them now: for a child that does not exec, which
 * otherwise holds whatever its parent had open (the parent's end of its
 * own pipes among them). */
int launch_fds_close(const int *keep, size_t n);
/* The descriptor PMI_FD names in ENV (environ-like) when it is open here,
 * else -1: MPI's process managers hand it to ranks on purpose. */
int launch_fds_pmi(char *const *env);
/* Replace PATH with LEN bytes of DATA: written to PATH.tmp, created
 * O_EXCL|O_NOFOLLOW with MODE (a leftover is removed first), then renamed
 * over PATH. 0, or -1 with errno. */
int launch_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* Write a small string to an existing file (e.g. /proc/self/uid_map). */
int launch_write_file(const char *path, const char *s);

#endif
