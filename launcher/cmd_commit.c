/* SPDX-License-Identifier: Apache-2.0 */
/* `launch commit`, run by the launch-image helper (see cmd_import.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "commit.h"
#include "config.h"
#include "env.h"
#include "log.h"
#include "sqfswrite.h"
#include "store.h"
#include "trust.h"
#include "util.h"

static const char commit_help[] =
	"Usage: launch commit [OPTIONS] --overlay DIR IMAGE NAME[:TAG]\n"
	"       launch commit [OPTIONS] --instance INSTANCE NAME[:TAG]\n"
	"       launch commit [OPTIONS] --instance INSTANCE --output FILE.sqfs\n"
	"\n"
	"Make a new image in your store from IMAGE (a squashfs image: a stored name\n"
	"or a .sqfs file) and the changes a writable container made to it: those\n"
	"kept in DIR by 'launch run --overlay DIR IMAGE ...', or those of a running\n"
	"instance started with --writable or --overlay. Deleted files are deleted\n"
	"in the new image; owners, modes, xattrs and hardlinks are kept as the\n"
	"container saw them. The new image has IMAGE's config, with the changes\n"
	"the options below make. Mount points launch made in the layer (your home\n"
	"directory, bind-mount destinations) are left out.\n"
	"\n"
	"Options:\n"
	"      --overlay DIR       the persistent layer (needs IMAGE)\n"
	"      --instance NAME     the writable layer of running instance NAME\n"
	"      --output FILE       write the image to the squashfs file FILE instead of\n"
	"                          your store (no tag; the config is not kept)\n"
	"      --compressor NAME[:LEVEL]  as for 'launch import' (default zstd:3)\n"
	"  -e, --env NAME=VALUE    add to the Env (repeatable)\n"
	"      --entrypoint CMD    set the Entrypoint (\"\" for none)\n"
	"      --cmd CMD           set the Cmd (\"\" for none)\n"
	"  -w, --workdir DIR       set the WorkingDir\n"
	"  -q, --quiet, -v, --verbose, -h, --help\n";

enum { OPT_OVERLAY = 1000, OPT_INSTANCE, OPT_OUTPUT };

int cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "overlay", required_argument, NULL, OPT_OVERLAY },
		{ "instance", required_argument, NULL, OPT_INSTANCE },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "compressor", required_argument, NULL, LAUNCHER_OPT_COMPRESSOR },
		{ "env", required_argument, NULL, 'e' },
		{ "entrypoint", required_argument, NULL, LAUNCHER_OPT_ENTRYPOINT },
		{ "cmd", required_argument, NULL, LAUNCHER_OPT_CMD },
		{ "workdir", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_commit_opts o = { 0 };
	struct launch_error *err = NULL;
	_cleanup_strv_ char **tags = NULL;
	_cleanup_free_ char *overlay = NULL;
	_cleanup_(launcher_image_opts_clear) struct launcher_image_opts io = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "+e:w:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		int r = launcher_image_option(c, optarg, &io, &err);
		if (r < 0)
			return launcher_fail(err);
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(commit_help, stdout);
			return 0;
		case OPT_OVERLAY:
			free(overlay);
			overlay = realpath(optarg, NULL);
			if (!overlay) {
				launch_error_set(&err, errno, "--overlay %s", optarg);
				return launcher_fail(err);
			}
			/* its files become the image: nobody else may have put any
			 * there (trust.h) */
			int fd = launch_trust_dir(overlay, getuid(), 0, 0, "overlay directory", NULL, &err);
			if (fd < 0)
				return launcher_fail(err);
			close(fd);
			break;
		case OPT_INSTANCE:
			o.instance = optarg;
			break;
		case OPT_OUTPUT:
			o.output = optarg;
			break;
		default:
			fputs("Try 'launch commit --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	int want = (overlay ? 2 : 1) - (o.output ? 1 : 0);
	if ((!overlay) == (!o.instance) || argc - optind != want) {
		launch_error_msg(&err,
				 "usage: launch commit --overlay DIR IMAGE NAME[:TAG], or launch commit --instance "
				 "NAME NEWNAME[:TAG], or --output FILE instead of the new name (see 'launch commit "
				 "--help')");
		return launcher_fail(err);
	}
	o.overlay = overlay;
	o.image = overlay ? argv[optind] : NULL;
	const char *tag = o.output;
	if (!o.output) {
		char *t = launch_ref_canonical(argv[argc - 1], &err);
		if (!t)
			return launcher_fail(err);
		launch_strv_push(&tags, t);
		tag = t;
	}
	o.tags = tags;
	o.compressor = io.compressor;
	o.workdir = io.workdir;
	o.env = io.env;
	o.entrypoint = io.entrypoint;
	o.cmd = io.cmd;

	struct launch_config config;
	launch_config_init(&config);
	_cleanup_free_ char *digest = NULL;
	int ret = 0;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_commit(&config, &o, &digest, &err) < 0)
		ret = launcher_fail(err);
	else if (launch_log_level() >= LAUNCH_LOG_WARN && o.output)
		fprintf(stderr, "saved %s\n", tag);
	else if (launch_log_level() >= LAUNCH_LOG_WARN)
		fprintf(stderr, "committed %s (%.19s)\n", tag, digest);
	launch_config_clear(&config);
	return ret;
}
