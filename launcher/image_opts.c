/* SPDX-License-Identifier: Apache-2.0 */
/* The options of import, commit and pull that shape the image they write
 * (see commands.h): one parser for the three. */
#define _GNU_SOURCE
#include <string.h>

#include "commands.h"
#include "env.h"
#include "sqfswrite.h"
#include "util.h"

/* --entrypoint "a b": words split at blanks */
static char **split_words(const char *s)
{
	char **v = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		launch_strv_push(&v, xstrdup(t));
	return v;
}

int launcher_image_option(int c, const char *arg, struct launcher_image_opts *io, struct launch_error **err)
{
	switch (c) {
	case LAUNCHER_OPT_PLATFORM:
		if (!strchr(arg, '/'))
			return launch_error_msg(err, "invalid --platform `%s`: give OS/ARCH, e.g. linux/arm64", arg);
		io->platform = arg;
		return 1;
	case LAUNCHER_OPT_COMPRESSOR:
		if (!launch_sqfs_compressor_valid(arg))
			return launch_error_msg(err,
						"invalid --compressor `%s`: use zstd[:1-22], gzip[:1-9], xz[:0-9], lz4 "
						"or lzo[:1-9]",
						arg);
		io->compressor = arg;
		return 1;
	case 'e': {
		const char *eq = strchr(arg, '=');
		if (!eq || !launch_env_name_valid(arg, (size_t)(eq - arg)))
			return launch_error_msg(err, "invalid --env `%s`: expected NAME=VALUE", arg);
		launch_strv_push(&io->env, xstrdup(arg));
		return 1;
	}
	case LAUNCHER_OPT_ENTRYPOINT:
		launch_strv_free(io->entrypoint);
		io->entrypoint = split_words(arg);
		return 1;
	case LAUNCHER_OPT_CMD:
		launch_strv_free(io->cmd);
		io->cmd = split_words(arg);
		return 1;
	case 'w':
		if (arg[0] != '/')
			return launch_error_msg(err, "invalid --workdir `%s`: it must be an absolute path", arg);
		io->workdir = arg;
		return 1;
	default:
		return 0;
	}
}

void launcher_image_opts_clear(struct launcher_image_opts *io)
{
	launch_strv_free(io->env);
	launch_strv_free(io->entrypoint);
	launch_strv_free(io->cmd);
	memset(io, 0, sizeof(*io));
}
