/* SPDX-License-Identifier: Apache-2.0 */
/* `launch build`, run by the launch-image helper (see cmd_import.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "sqfswrite.h"
#include "store.h"
#include "util.h"

static const char build_help[] =
	"Usage: launch build [OPTIONS] -t NAME[:TAG] CONTEXT\n"
	"\n"
	"Build an image from a Containerfile (or Dockerfile) as an ordinary user,\n"
	"and store it as NAME:TAG. CONTEXT is the directory that COPY and ADD take\n"
	"files from (less what its .containerignore or .dockerignore leaves out).\n"
	"RUN steps run as root in the container, with the identity of 'launch run\n"
	"--root' (your subordinate ids, or the seccomp fake root without them), so\n"
	"apt-get and dnf work. Each step's result is cached in your store: a\n"
	"rebuild runs only the steps from the first one whose instruction, build\n"
	"arguments or copied files changed ('launch df' shows the cache, 'launch\n"
	"prune' removes it).\n"
	"\n"
	"Instructions: FROM (a stored image, docker://REF, a squashfs or SIF file,\n"
	"scratch, or an earlier stage; AS NAME), RUN, COPY (--from, --chown,\n"
	"--chmod), ADD (local tar archives are unpacked; no URLs), ENV, ARG,\n"
	"WORKDIR, USER, ENTRYPOINT, CMD, LABEL, SHELL, EXPOSE, VOLUME, STOPSIGNAL,\n"
	"HEALTHCHECK (recorded, never run), MAINTAINER. RUN always runs as root:\n"
	"USER only sets the image's config.\n"
	"\n"
	"Options:\n"
	"  -f, --file FILE         the Containerfile (default: CONTEXT/Containerfile,\n"
	"                          else CONTEXT/Dockerfile)\n"
	"  -t, --tag NAME[:TAG]    name the image (repeatable; at least one)\n"
	"      --build-arg NAME[=VALUE]  set an ARG (without a value: from your\n"
	"                          environment; repeatable)\n"
	"      --target STAGE      build the stage FROM ... AS STAGE and stop there\n"
	"      --no-cache          run every step again (the results are cached anew)\n"
	"      --platform P        only linux/amd64, this machine's, is built\n"
	"      --compressor NAME[:LEVEL]  as for 'launch import' (default zstd:3)\n"
	"  -q, --quiet             print only errors and the image's digest\n"
	"  -v, --verbose, -h, --help\n"
	"\n"
	"Progress: 'STEP N/M: INSTRUCTION' for each step, the output of RUN steps,\n"
	"'--> CACHED' for a step taken from the cache, and the image's digest.\n"
	"Errors name the Containerfile's line: 'Containerfile:7: COPY: no such\n"
	"file in the context: src/app.c'.\n";

enum { OPT_BUILD_ARG = 1000, OPT_TARGET, OPT_NO_CACHE };

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "tag", required_argument, NULL, 't' },
		{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "platform", required_argument, NULL, LAUNCHER_OPT_PLATFORM },
		{ "compressor", required_argument, NULL, LAUNCHER_OPT_COMPRESSOR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_build_opts o = { 0 };
	struct launch_error *err = NULL;
	_cleanup_strv_ char **tags = xcalloc(1, sizeof(char *));
	_cleanup_strv_ char **args = xcalloc(1, sizeof(char *));
	_cleanup_(launcher_image_opts_clear) struct launcher_image_opts io = { 0 };
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f:t:vqh", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		if (launcher_verbosity_option(c))
			continue;
		int r = launcher_image_option(c, optarg, &io, &err);
		if (r < 0)
			return launcher_fail(err);
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(build_help, stdout);
			return 0;
		case 'f':
			o.file = optarg;
			break;
		case 't': {
			char *t = launch_ref_canonical(optarg, &err);
			if (!t)
				return launcher_fail(err);
			launch_strv_push(&tags, t);
			break;
		}
		case OPT_BUILD_ARG:
			launch_strv_push(&args, xstrdup(optarg));
			break;
		case OPT_TARGET:
			o.target = optarg;
			break;
		case OPT_NO_CACHE:
			o.no_cache = true;
			break;
		default:
			fputs("Try 'launch build --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	if (argc - optind != 1 || !tags[0]) {
		launch_error_msg(&err,
				 "usage: launch build [-f FILE] -t NAME[:TAG] CONTEXT (see 'launch build --help')");
		return launcher_fail(err);
	}
	if (io.platform && strcmp(io.platform, "linux/amd64")) {
		launch_error_msg(&err, "--platform %s: only this machine's platform (linux/amd64) is built",
				 io.platform);
		return launcher_fail(err);
	}
	o.context = argv[optind];
	o.tags = tags;
	o.build_args = args;
	o.compressor = io.compressor;
	struct launch_config config;
	launch_config_init(&config);
	_cleanup_free_ char *digest = NULL;
	int ret = 0;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_build(&config, &o, &digest, &err) < 0)
		ret = launcher_fail(err);
	else if (quiet)
		printf("%s\n", digest);
	launch_config_clear(&config);
	return ret;
}
