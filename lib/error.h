/* SPDX-License-Identifier: Apache-2.0 */
/* Error values for every fallible function in lib/: a function returns <0 or
 * NULL and sets exactly one `struct launch_error`, which callers may prefix
 * with context. Only front ends print errors and choose exit codes. */
#ifndef LAUNCH_ERROR_H
#define LAUNCH_ERROR_H

#include <stdarg.h>

/* Exit codes of `launch` itself; a container's own status passes through. */
enum {
	LAUNCH_EXIT_FAILURE = 125,     /* launch could not start the command */
	LAUNCH_EXIT_CANNOT_EXEC = 126, /* the command exists but cannot be run */
	LAUNCH_EXIT_NOT_FOUND = 127,   /* the command does not exist in the container */
};

struct launch_error {
	int errno_;    /* errno at the point of failure, 0 if none */
	int exit_code; /* suggested exit status for a front end */
	char *msg;     /* full message, without the "launch: " prefix */
};

/* Sets *err (if err is not NULL) and returns -1. When ERRNO_ is not 0, its
 * strerror is appended: "msg: strerror". */
int launch_error_set(struct launch_error **err, int errno_, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like launch_error_set, but with a message only (no errno text). */
int launch_error_msg(struct launch_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing error: "context: previous". Returns -1. */
int launch_error_wrap(struct launch_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void launch_error_free(struct launch_error *e);
static inline void launch_error_freep(struct launch_error **e)
{
	launch_error_free(*e);
}
#define _cleanup_error_ __attribute__((cleanup(launch_error_freep)))

#endif
