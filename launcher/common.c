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
#include "paths.h"
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

/* The image manager (libarchive, OpenSSL, libcurl) lives in a helper
 * program, so that `launch run` loads none of it (launch_helper_path). */
int cmd_image_helper(int argc, char **argv)
{
	_cleanup_free_ char *helper = launch_helper_path();
	struct launch_error *err = NULL;
	if (!helper) {
		launch_error_msg(&err,
				 "launch %s needs the launch-image helper, found neither next to launch nor in %s "
				 "(reinstall launch)",
				 argv[0], LAUNCH_LIBEXECDIR);
		return launcher_fail(err);
	}
	char **v = xcalloc((size_t)argc + 2, sizeof(char *));
	v[0] = helper;
	for (int k = 0; k < argc; k++)
		v[k + 1] = argv[k];
	/* the verbosity chosen before the subcommand travels along */
	char level[8];
	snprintf(level, sizeof(level), "%d", launch_log_level());
	setenv("LAUNCH_LOG_LEVEL", level, 1);
	/* launch build runs its RUN steps with launch run: this program */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0 && !strcmp(argv[0], "build")) {
		self[n] = '\0';
		setenv("LAUNCH_PROGRAM", self, 1);
	}
	launch_fds_close_on_exec(NULL, 0);
	execv(helper, v);
	int e = errno;
	free(v);
	launch_error_set(&err, e, "cannot run %s", helper);
	return launcher_fail(err);
}
