/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics filtered by verbosity (see log.h). */
#define _GNU_SOURCE
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int level = LAUNCH_LOG_WARN;
static launch_log_sink sink;

void launch_log_set_level(int l)
{
	level = l;
}
int launch_log_level(void)
{
	return level;
}
void launch_log_set_sink(launch_log_sink s)
{
	sink = s;
}

void launch_log(int l, const char *fmt, ...)
{
	if (l > level)
		return;
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sink) {
		sink(l, buf);
		return;
	}
	static const char *const tag[] = { "", "warning: ", "", "" };
	/* One write per line so that lines of concurrent processes do not mix. */
	char line[2200];
	int n = snprintf(line, sizeof(line), "launch: %s%s\n", tag[l], buf);
	if (n > 0) {
		ssize_t r = write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)r;
	}
}
