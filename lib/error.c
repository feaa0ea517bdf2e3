/* SPDX-License-Identifier: Apache-2.0 */
/* Error values carried from the failure site to the front end (see error.h). */
#define _GNU_SOURCE
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int __attribute__((format(printf, 4, 0)))
set(struct launch_error **err, enum launch_error_kind kind, int errno_, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	struct launch_error *e = xcalloc(1, sizeof(*e));
	e->errno_ = errno_;
	e->exit_code = LAUNCH_EXIT_FAILURE;
	e->kind = kind;
	e->msg = errno_ ? xasprintf("%s: %s", m, strerror(errno_)) : steal_pointer(&m);
	launch_error_free(*err);
	*err = e;
	return -1;
}

int launch_error_set(struct launch_error **err, int errno_, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(err, LAUNCH_ERR_GENERIC, errno_, fmt, ap);
	va_end(ap);
	return -1;
}

int launch_error_msg(struct launch_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(err, LAUNCH_ERR_GENERIC, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int launch_error_kind_msg(struct launch_error **err, enum launch_error_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(err, kind, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int launch_error_kind_set(struct launch_error **err, enum launch_error_kind kind, int errno_, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(err, kind, errno_, fmt, ap);
	va_end(ap);
	return -1;
}

bool launch_error_is(const struct launch_error *e, enum launch_error_kind kind)
{
	return e && e->kind == kind;
}

int launch_error_wrap(struct launch_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *m = xasprintf("%s: %s", ctx, (*err)->msg);
	free((*err)->msg);
	(*err)->msg = m;
	return -1;
}

void launch_error_free(struct launch_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}
