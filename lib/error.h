/* SPDX-License-Identifier: Apache-2.0 */
/* Error values for every fallible function in lib/: a function returns <0 or
 * NULL and sets exactly one `struct launch_error`, which callers may prefix
 * with context. Only front ends print errors and choose exit codes. */
#ifndef LAUNCH_ERROR_H
#define LAUNCH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* Exit codes of `launch` itself; a container's own status passes through. */
enum {
	LAUNCH_EXIT_FAILURE = 125,     /* launch could not start the command */
	LAUNCH_EXIT_CANNOT_EXEC = 126, /* the command exists but cannot be run */
	LAUNCH_EXIT_NOT_FOUND = 127,   /* the command does not exist in the container */
};

/* What a caller may have to tell apart without reading the message. An
 * error gets a kind other than LAUNCH_ERR_GENERIC only where some caller
 * branches on it; the kind is set where the error is made and kept by
 * launch_error_wrap. */
enum launch_error_kind {
	LAUNCH_ERR_GENERIC = 0,
	LAUNCH_ERR_NOT_FOUND,	/* a registry has no such repository, tag or blob */
	LAUNCH_ERR_AMBIGUOUS,	/* a digest prefix matches more than one stored image */
	LAUNCH_ERR_OUTSIDE,	/* an image names a path outside itself (absolute, or with `..`) */
	LAUNCH_ERR_NO_SPACE,	/* a full disk or quota, and the message says where to make room */
	LAUNCH_ERR_PIPE_CLOSED, /* a write into a pipe whose reader went away (EPIPE) */
};

struct launch_error {
	int errno_;		     /* errno at the point of failure, 0 if none */
	int exit_code;		     /* suggested exit status for a front end */
	enum launch_error_kind kind; /* LAUNCH_ERR_GENERIC unless set */
	char *msg;		     /* full message, without the "launch: " prefix */
};

/* Sets *err (if err is not NULL) and returns -1. When ERRNO_ is not 0, its
 * strerror is appended: "msg: strerror". */
int launch_error_set(struct launch_error **err, int errno_, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like launch_error_set, but with a message only (no errno text). */
int launch_error_msg(struct launch_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like launch_error_msg, for an error of KIND. */
int launch_error_kind_msg(struct launch_error **err, enum launch_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like launch_error_set, for an error of KIND. */
int launch_error_kind_set(struct launch_error **err, enum launch_error_kind kind, int errno_, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Whether E is an error of KIND (false for no error). */
bool launch_error_is(const struct launch_error *e, enum launch_error_kind kind);
/* Prefixes the existing error: "context: previous". Returns -1. */
int launch_error_wrap(struct launch_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void launch_error_free(struct launch_error *e);
static inline void launch_error_freep(struct launch_error **e)
{
	launch_error_free(*e);
}
#define _cleanup_error_ __attribute__((cleanup(launch_error_freep)))

#endif
