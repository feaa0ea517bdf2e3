/* SPDX-License-Identifier: Apache-2.0 */
/* launch-image: the image manager's commands (`launch import`, `commit`, `pull`,
 * `login`, `logout`, `export`, `build`), started by
 * launch as `launch-image import ARGS...` (see cmd_image_helper). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "image.h"
#include "log.h"
#include "sqfs.h"

int main(int argc, char **argv)
{
	const char *level = getenv("LAUNCH_LOG_LEVEL");
	if (level && *level >= '0' && *level <= '3' && !level[1])
		launch_log_set_level(*level - '0');
	unsetenv("LAUNCH_LOG_LEVEL");
	launch_image_set_files(&launch_sqfs_files); /* a SIF image's /.singularity.d */
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = { { "import", cmd_import }, { "commit", cmd_commit }, { "pull", cmd_pull },	{ "login", cmd_login },
		     { "logout", cmd_logout }, { "export", cmd_export }, { "build", cmd_build } };
	for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "launch-image: run it through launch (launch import ...)\n");
	return LAUNCH_EXIT_FAILURE;
}
