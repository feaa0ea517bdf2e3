/* SPDX-License-Identifier: Apache-2.0 */
/* What every subcommand of launch and launch-image shares: -v/-q, error
 * printing, and starting the launch-image helper. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "error.h"
#include "log.h"
#include "util.h"

#ifndef LAUNCH_LIBEXECDIR
#define LAUNCH_LIBEXECDIR "/usr/local/libexec/launch"
#endif

int launcher_verbosity_option(int opt)
{
	if (opt == 'v') {
		launch_log_set_level(launch_log_level() < LAUNCH_LOG_INFO ? LAUNCH_LOG_INFO : LAUNCH_LOG_DEBUG);
		return 1;
	}
	if (opt == 'q') {
		launch_log_set_level(LAUNCH_LOG_ERROR);
		return 1;
	}
	return 0;
}

int launcher_fail(struct launch_error *err)
{
	int code = err ? err->exit_code : LAUNCH_EXIT_FAILURE;
	launch_log(LAUNCH_LOG_ERROR, "%s", err ? err->msg : "unknown error");
	launch_error_free(err);
	return code;
}

/* The image manager (libarchive, OpenSSL) lives in a helper program, so
 * that `launch run` loads none of it. It is looked for next to launch (a
 * build tree, a relocated install), then in LAUNCH_LIBEXECDIR. */
int cmd_image_helper(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	_cleanup_free_ char *near = NULL;
	if (n > 0) {
		self[n] = '\0';
		near = xasprintf("%s/launch-image", dirname(self));
	}
	const char *cands[] = { near, LAUNCH_LIBEXECDIR "/launch-image" };
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!cands[i] || access(cands[i], X_OK) < 0)
			continue;
		char **v = xcalloc((size_t)argc + 2, sizeof(char *));
		v[0] = (char *)cands[i];
		for (int k = 0; k < argc; k++)
			v[k + 1] = argv[k];
		/* the verbosity chosen before the subcommand travels along */
		char level[8];
		snprintf(level, sizeof(level), "%d", launch_log_level());
		setenv("LAUNCH_LOG_LEVEL", level, 1);
		execv(cands[i], v);
		int e = errno;
		free(v);
		struct launch_error *err = NULL;
		launch_error_set(&err, e, "cannot run %s", cands[i]);
		return launcher_fail(err);
	}
	struct launch_error *err = NULL;
	launch_error_msg(&err, "launch %s needs the launch-image helper, found neither next to launch nor in %s "
			       "(reinstall launch)",
			 argv[0], LAUNCH_LIBEXECDIR);
	return launcher_fail(err);
}
