/* SPDX-License-Identifier: Apache-2.0 */
/* `launch export`, run by the launch-image helper (libarchive, sqfs2tar). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "export.h"
#include "log.h"
#include "util.h"

static const char export_help[] =
	"Usage: launch export [--format squashfs|docker-archive|oci-archive] [--tag NAME[:TAG]]\n"
	"                     IMAGE FILE\n"
	"\n"
	"Write IMAGE (NAME[:TAG] or @DIGEST of your store or the site's, a squashfs\n"
	"file, or a SIF file) to FILE, for other runtimes:\n"
	"  squashfs        the image's squashfs file as it is (the default): mount it\n"
	"                  with squashfuse, run it with ch-run or apptainer\n"
	"  docker-archive  a 'docker save' archive of one layer, for 'docker load',\n"
	"                  'podman load', skopeo and 'launch import'\n"
	"  oci-archive     an OCI image layout in a tar, one layer, for skopeo,\n"
	"                  podman, umoci and 'launch import'\n"
	"The archives keep the image's config (Env, Entrypoint, Cmd, WorkingDir,\n"
	"User, Labels); a squashfs file has none. FILE is replaced when it exists,\n"
	"and only once the export is complete: a failed or interrupted export\n"
	"leaves no partial FILE.\n"
	"\n"
	"Options:\n"
	"  -f, --format FORMAT     squashfs (default), docker-archive or oci-archive\n"
	"  -t, --tag NAME[:TAG]    the name the archive gives the image (default:\n"
	"                          IMAGE when it is a name, else the image's first tag)\n"
	"  -q, --quiet             only errors\n"
	"  -v, --verbose           more detail\n";

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "tag", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },	    { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	struct launch_export_opts o = { .format = LAUNCH_EXPORT_SQUASHFS };
	struct launch_error *err = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "f:t:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		switch (c) {
		case 'h':
			fputs(export_help, stdout);
			return 0;
		case 'f': {
			int f = launch_export_format_parse(optarg);
			if (f < 0) {
				launch_error_msg(&err,
						 "invalid --format `%s`: use squashfs, docker-archive or oci-archive",
						 optarg);
				return launcher_fail(err);
			}
			o.format = (enum launch_export_format)f;
			break;
		}
		case 't':
			o.tag = optarg;
			break;
		default:
			fputs("Try 'launch export --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	if (argc - optind != 2) {
		launch_error_msg(&err,
				 "usage: launch export [--format FORMAT] IMAGE FILE (see 'launch export --help')");
		return launcher_fail(err);
	}
	o.image = argv[optind];
	o.output = argv[optind + 1];
	struct launch_config config;
	launch_config_init(&config);
	int ret = 0;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 || launch_export(&config, &o, &err) < 0)
		ret = launcher_fail(err);
	else if (launch_log_level() >= LAUNCH_LOG_WARN)
		fprintf(stderr, "exported %s to %s (%s)\n", o.image, o.output, launch_export_format_name(o.format));
	launch_config_clear(&config);
	return ret;
}
