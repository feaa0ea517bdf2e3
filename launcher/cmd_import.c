/* SPDX-License-Identifier: Apache-2.0 */
/* `launch import`, run by the launch-image helper, which links the image
 * manager (libarchive, OpenSSL) so that `launch` itself stays small and
 * starts fast. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "env.h"
#include "import.h"
#include "log.h"
#include "sqfswrite.h"
#include "store.h"
#include "util.h"

static const char import_help[] =
	"Usage: launch import [OPTIONS] SOURCE NAME[:TAG]\n"
	"\n"
	"Import SOURCE into your image store as NAME:TAG (TAG defaults to latest).\n"
	"SOURCE is one of:\n"
	"  a docker-archive tar ('docker save' or 'podman save' output, both layouts)\n"
	"  an OCI image layout, as a directory or a tar\n"
	"  a squashfs file (stored as it is), or an Apptainer SIF file\n"
	"  with --rootfs, a root file system tar (gzip, zstd, xz or none), or a\n"
	"  directory tree (owners, modes and xattrs kept as you can read them)\n"
	"  - : any of those tars on standard input\n"
	"A source of several images names the one to import:\n"
	"  oci:DIR[:TAG], DIR:TAG      an OCI layout directory, by its tag\n"
	"  oci-archive:FILE[:TAG]      an OCI layout tar, by its tag\n"
	"  docker-archive:FILE[:REPO:TAG | :@N], FILE:REPO:TAG\n"
	"                              a docker-archive, by a RepoTag or the N-th (0...)\n"
	"Layers are flattened and written to a squashfs file as a stream: owners,\n"
	"modes, times, xattrs, hardlinks, device nodes and setuid bits are kept\n"
	"exactly. Every blob is checked against its digest. Hostile content (paths\n"
	"leaving the image, writes through symlinks, ...) is refused. Nothing enters\n"
	"the store unless the whole import succeeds.\n"
	"\n"
	"Options:\n"
	"      --platform OS/ARCH[/VARIANT]  the image to take from a multi-platform\n"
	"                          index (default: linux/amd64)\n"
	"      --rootfs            SOURCE is a root file system tarball\n"
	"      --compressor NAME[:LEVEL]  zstd[:1-22] (default zstd:3), gzip[:1-9],\n"
	"                          xz[:0-9], lz4 or lzo[:1-9]\n"
	"  -e, --env NAME=VALUE    add to the image's Env (repeatable)\n"
	"      --entrypoint CMD    set the Entrypoint to CMD (\"\" for none)\n"
	"      --cmd CMD           set the Cmd to CMD, split at spaces (\"\" for none)\n"
	"  -w, --workdir DIR       set the WorkingDir\n"
	"  -q, --quiet             no progress display\n"
	"  -v, --verbose           more detail\n"
	"\n"
	"Progress is shown when stderr is a terminal. The store is\n"
	"$XDG_DATA_HOME/launch (default ~/.local/share/launch) unless the site\n"
	"config says otherwise; see 'launch images'.\n";

enum { OPT_ROOTFS = 1000 };

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, LAUNCHER_OPT_PLATFORM },
		{ "rootfs", no_argument, NULL, OPT_ROOTFS },
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
	struct launch_import_opts o = { 0 };
	struct launch_error *err = NULL;
	_cleanup_strv_ char **tags = NULL;
	_cleanup_free_ char *digest = NULL; /* before any goto */
	_cleanup_(launcher_image_opts_clear) struct launcher_image_opts io = { 0 };
	bool quiet = false;
	int c, ret = LAUNCH_EXIT_FAILURE;
	while ((c = getopt_long(argc, argv, "+e:w:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c)) {
			quiet |= c == 'q';
			continue;
		}
		int r = launcher_image_option(c, optarg, &io, &err);
		if (r < 0)
			goto fail;
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(import_help, stdout);
			ret = 0;
			goto out;
		case OPT_ROOTFS:
			o.rootfs = true;
			break;
		default:
			fputs("Try 'launch import --help'.\n", stderr);
			goto out;
		}
	}
	if (argc - optind != 2) {
		launch_error_msg(&err, "usage: launch import [OPTIONS] SOURCE NAME[:TAG] (see 'launch import --help')");
		goto fail;
	}
	char *tag = launch_ref_canonical(argv[optind + 1], &err);
	if (!tag)
		goto fail;
	launch_strv_push(&tags, tag);
	o.source = argv[optind];
	o.tags = tags;
	o.platform = io.platform;
	o.compressor = io.compressor;
	o.workdir = io.workdir;
	o.env = io.env;
	o.entrypoint = io.entrypoint;
	o.cmd = io.cmd;
	o.progress = !quiet && launch_log_level() >= LAUNCH_LOG_WARN && isatty(STDERR_FILENO);

	struct launch_config config;
	launch_config_init(&config);
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_import(&config, &o, &digest, &err) < 0) {
		ret = launcher_fail(err);
	} else {
		if (launch_log_level() >= LAUNCH_LOG_WARN)
			fprintf(stderr, "imported %s (%.19s)\n", tag, digest);
		ret = 0;
	}
	launch_config_clear(&config);
	goto out;
fail:
	ret = launcher_fail(err);
out:
	return ret;
}
