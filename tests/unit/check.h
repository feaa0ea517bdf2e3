/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny assertion kit for the unit tests: each CHECK* macro records one
 * check, prints file:line and what differed when it fails, and carries on;
 * check_done() prints "N passed, M failed" and gives main its exit status
 * (non-zero when anything failed). CHECK_ERROR also frees the error it
 * inspected, so that tests stay leak-free under LeakSanitizer. */
#ifndef LAUNCH_TEST_CHECK_H
#define LAUNCH_TEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static int check_passed_, check_failed_;

__attribute__((format(printf, 4, 5))) static inline bool check_record_(bool ok, const char *file, int line,
								       const char *fmt, ...)
{
	if (ok) {
		check_passed_++;
		return true;
	}
	check_failed_++;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: check failed: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return false;
}

/* Print the summary line and return main's exit status. */
static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed_, check_failed_);
	fflush(stdout);
	return check_failed_ ? 1 : 0;
}

static inline const char *check_str_(const char *s)
{
	return s ? s : "(null)";
}

#define CHECK(cond) check_record_(!!(cond), __FILE__, __LINE__, "%s", #cond)

#define CHECK_STREQ(a, b)                                                                                         \
	do {                                                                                                      \
		const char *check_a_ = (a), *check_b_ = (b);                                                      \
		check_record_(check_a_ &&check_b_ &&strcmp(check_a_, check_b_) == 0, __FILE__, __LINE__,          \
			      "%s == %s (\"%s\" vs \"%s\")", #a, #b, check_str_(check_a_), check_str_(check_b_)); \
	} while (0)

#define CHECK_NULL(p)                                                                                       \
	do {                                                                                                \
		const void *check_p_ = (p);                                                                 \
		check_record_(check_p_ == NULL, __FILE__, __LINE__, "%s is NULL (it is %p)", #p, check_p_); \
	} while (0)

#define CHECK_INTEQ(a, b)                                                                                            \
	do {                                                                                                         \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                                      \
		check_record_(check_a_ == check_b_, __FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, check_a_, \
			      check_b_);                                                                             \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                       \
	do {                                                                                              \
		const char *check_h_ = (hay), *check_n_ = (needle);                                       \
		check_record_(check_h_ &&strstr(check_h_, check_n_), __FILE__, __LINE__,                  \
			      "%s contains \"%s\" (it is \"%s\")", #hay, check_n_, check_str_(check_h_)); \
	} while (0)

/* ERR (a struct launch_error * variable) is set and its message contains
 * every one of the strings that follow; ERR is then freed and cleared. */
#define CHECK_ERROR(err, ...)                                                                                 \
	do {                                                                                                  \
		const char *const check_needles_[] = { __VA_ARGS__, NULL };                                   \
		if (check_record_((err) != NULL, __FILE__, __LINE__, "%s is set (expected \"%s\")", #err,     \
				  check_needles_[0]))                                                         \
			for (size_t check_i_ = 0; check_needles_[check_i_]; check_i_++)                       \
				check_record_(strstr((err)->msg, check_needles_[check_i_]) != NULL, __FILE__, \
					      __LINE__, "%s names \"%s\" (message: \"%s\")", #err,            \
					      check_needles_[check_i_], (err)->msg);                          \
		launch_error_free(err);                                                                       \
		(err) = NULL;                                                                                 \
	} while (0)

/* ERR is not set; when it is, its message is printed and it is freed. */
#define CHECK_NO_ERROR(err)                                                                               \
	do {                                                                                              \
		check_record_((err) == NULL, __FILE__, __LINE__, "%s is not set (message: \"%s\")", #err, \
			      (err) ? (err)->msg : "");                                                   \
		launch_error_free(err);                                                                   \
		(err) = NULL;                                                                             \
	} while (0)

/* EXPR returns -1 (or another negative value) with errno set to E. */
#define CHECK_ERRNO(expr, e)                                                                                  \
	do {                                                                                                  \
		errno = 0;                                                                                    \
		long check_r_ = (long)(expr);                                                                 \
		int check_e_ = errno;                                                                         \
		check_record_(check_r_ < 0 && check_e_ == (e), __FILE__, __LINE__,                            \
			      "%s fails with %s (returned %ld, errno %d: %s)", #expr, #e, check_r_, check_e_, \
			      strerror(check_e_));                                                            \
	} while (0)

#endif
