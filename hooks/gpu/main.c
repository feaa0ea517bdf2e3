/* SPDX-License-Identifier: Apache-2.0 */
/* launch-hook-gpu: the OCI hook (createContainer stage) that gives a
 * container the node's NVIDIA driver: device nodes of the GPUs it asked for,
 * the driver's libraries and tools (see README.md). It reads the OCI state
 * on stdin and its configuration from its environment (the hook file's
 * hook.env); on failure it prints one line on stderr and exits 1, which
 * stops the container with that message. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "gpu.h"
#include "hookapi.h"
#include "log.h"

static void sink(int level, const char *msg)
{
	char line[2200];
	const char *tag = level == LAUNCH_LOG_WARN ? "warning: " : "";
	int n = snprintf(line, sizeof(line), "launch-hook-gpu: %s%s\n", tag, msg);
	if (n > 0) {
		ssize_t r = write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)r;
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *level = getenv("LAUNCH_LOG_LEVEL");
	if (level && *level >= '0' && *level <= '3' && !level[1])
		launch_log_set_level(*level - '0');
	launch_log_set_sink(sink);

	struct launch_error *err = NULL;
	struct launch_gpu_config cfg;
	struct launch_hook_state st;
	int ret = launch_gpu_config_from_env(&cfg, &err);
	if (ret == 0) {
		ret = launch_hook_state_read(STDIN_FILENO, &st, &err);
		if (ret == 0) {
			ret = launch_gpu_hook_run(&cfg, &st, &err);
			launch_hook_state_clear(&st);
		}
		launch_gpu_config_clear(&cfg);
	}
	if (ret < 0) {
		launch_log(LAUNCH_LOG_ERROR, "%s", err->msg);
		launch_error_free(err);
		return 1;
	}
	return 0;
}
