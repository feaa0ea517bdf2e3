/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/error.c: messages with and without errno text, wrapping
 * with context, replacing an earlier error, error kinds, and a NULL error
 * pointer. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "util.h"

static int fail_with_cleanup(int *ran)
{
	_cleanup_error_ struct launch_error *e = NULL;
	launch_error_msg(&e, "freed at the end of the scope");
	*ran = 1;
	return e != NULL;
}

int main(void)
{
	struct launch_error *err = NULL;

	CHECK_INTEQ(launch_error_msg(&err, "plain %s %d", "message", 7), -1);
	if (CHECK(err != NULL)) {
		CHECK_STREQ(err->msg, "plain message 7");
		CHECK_INTEQ(err->errno_, 0);
		CHECK_INTEQ(err->exit_code, LAUNCH_EXIT_FAILURE);
		CHECK(launch_error_is(err, LAUNCH_ERR_GENERIC));
	}
	launch_error_free(err);
	err = NULL;

	/* a kind, kept through context */
	CHECK_INTEQ(launch_error_kind_msg(&err, LAUNCH_ERR_NOT_FOUND, "no %s", "blob"), -1);
	CHECK_INTEQ(launch_error_wrap(&err, "pulling"), -1);
	if (CHECK(err != NULL)) {
		CHECK_STREQ(err->msg, "pulling: no blob");
		CHECK_INTEQ(err->errno_, 0);
		CHECK_INTEQ(err->exit_code, LAUNCH_EXIT_FAILURE);
		CHECK(launch_error_is(err, LAUNCH_ERR_NOT_FOUND));
		CHECK(!launch_error_is(err, LAUNCH_ERR_GENERIC));
	}
	/* a new error replaces it, kind and all */
	launch_error_msg(&err, "other");
	CHECK(launch_error_is(err, LAUNCH_ERR_GENERIC));
	launch_error_free(err);
	err = NULL;
	CHECK(!launch_error_is(NULL, LAUNCH_ERR_GENERIC));
	CHECK_INTEQ(launch_error_kind_msg(NULL, LAUNCH_ERR_AMBIGUOUS, "nowhere"), -1);
	/* a kind with errno text */
	CHECK_INTEQ(launch_error_kind_set(&err, LAUNCH_ERR_NO_SPACE, ENOSPC, "disk %s", "full"), -1);
	if (CHECK(err != NULL)) {
		_cleanup_free_ char *want = xasprintf("disk full: %s", strerror(ENOSPC));
		CHECK_STREQ(err->msg, want);
		CHECK_INTEQ(err->errno_, ENOSPC);
		CHECK_INTEQ(err->exit_code, LAUNCH_EXIT_FAILURE);
		CHECK(launch_error_is(err, LAUNCH_ERR_NO_SPACE));
	}
	launch_error_free(err);
	err = NULL;
	CHECK_INTEQ(launch_error_kind_set(NULL, LAUNCH_ERR_NO_SPACE, ENOSPC, "nowhere"), -1);

	CHECK_INTEQ(launch_error_set(&err, ENOENT, "cannot open %s", "/x"), -1);
	if (CHECK(err != NULL)) {
		_cleanup_free_ char *want = xasprintf("cannot open /x: %s", strerror(ENOENT));
		CHECK_STREQ(err->msg, want);
		CHECK_INTEQ(err->errno_, ENOENT);
		CHECK_INTEQ(err->exit_code, LAUNCH_EXIT_FAILURE);
	}
	/* wrapping adds context in front and keeps errno */
	CHECK_INTEQ(launch_error_wrap(&err, "step %d", 2), -1);
	if (CHECK(err != NULL)) {
		_cleanup_free_ char *want = xasprintf("step 2: cannot open /x: %s", strerror(ENOENT));
		CHECK_STREQ(err->msg, want);
		CHECK_INTEQ(err->errno_, ENOENT);
	}
	/* a new error replaces the old one (LeakSanitizer checks the free) */
	CHECK_INTEQ(launch_error_set(&err, 0, "second"), -1);
	if (CHECK(err != NULL)) {
		CHECK_STREQ(err->msg, "second");
		CHECK_INTEQ(err->errno_, 0);
	}
	launch_error_free(err);
	err = NULL;

	/* no error to wrap, or nowhere to put one */
	CHECK_INTEQ(launch_error_wrap(&err, "context"), -1);
	CHECK_NULL(err);
	CHECK_INTEQ(launch_error_wrap(NULL, "context"), -1);
	CHECK_INTEQ(launch_error_msg(NULL, "dropped"), -1);
	CHECK_INTEQ(launch_error_set(NULL, EPERM, "dropped"), -1);
	launch_error_free(NULL);

	/* "%" in arguments is not reinterpreted */
	launch_error_msg(&err, "%s", "100%s done");
	launch_error_wrap(&err, "%s", "50%d");
	if (CHECK(err != NULL))
		CHECK_STREQ(err->msg, "50%d: 100%s done");
	launch_error_free(err);
	err = NULL;

	int ran = 0;
	CHECK(fail_with_cleanup(&ran) && ran);

	CHECK(LAUNCH_EXIT_FAILURE == 125 && LAUNCH_EXIT_CANNOT_EXEC == 126 && LAUNCH_EXIT_NOT_FOUND == 127);
	return check_done();
}
