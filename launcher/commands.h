/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands of `launch`, one file each. Each returns the exit status. */
#ifndef LAUNCH_COMMANDS_H
#define LAUNCH_COMMANDS_H

#include "error.h"

int cmd_run(int argc, char **argv);
int cmd_image_server(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_import(int argc, char **argv); /* in launch-image */
int cmd_commit(int argc, char **argv); /* in launch-image */
int cmd_pull(int argc, char **argv);   /* in launch-image */
int cmd_login(int argc, char **argv);  /* in launch-image */
int cmd_logout(int argc, char **argv); /* in launch-image */
int cmd_export(int argc, char **argv); /* in launch-image */
int cmd_build(int argc, char **argv);  /* in launch-image */
int cmd_image_helper(int argc, char **argv);
int cmd_oci(int argc, char **argv);
int cmd_hooks(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_df(int argc, char **argv);

/* Shared by the subcommands: -v/-q handling and error printing. */
int launcher_verbosity_option(int opt);
int launcher_fail(struct launch_error *err);

/* The options that shape a written image, shared by import, commit and
 * pull (each lists those it takes in its getopt table): --platform,
 * --compressor, -e/--env, --entrypoint, --cmd, -w/--workdir. */
struct launcher_image_opts {
	const char *platform, *compressor, *workdir;
	char **env, **entrypoint, **cmd;
};
enum { LAUNCHER_OPT_PLATFORM = 900, LAUNCHER_OPT_COMPRESSOR, LAUNCHER_OPT_ENTRYPOINT, LAUNCHER_OPT_CMD };
/* Option C with argument ARG: 1 when it is one of those (taken into IO), 0
 * when it is not, -1 with ERR set when ARG is invalid. */
int launcher_image_option(int c, const char *arg, struct launcher_image_opts *io, struct launch_error **err);
void launcher_image_opts_clear(struct launcher_image_opts *io);

#endif
