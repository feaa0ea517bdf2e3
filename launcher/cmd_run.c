/* SPDX-License-Identifier: Apache-2.0 */
/* `launch run`: parse the command line into a launch_spec and run it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "container.h"
#include "log.h"
#include "paths.h"
#include "sqfs.h"
#include "util.h"

extern char **environ;

static const char help[] =
	"Usage: launch run [OPTIONS] IMAGE [--] [COMMAND [ARG...]]\n"
	"\n"
	"Run COMMAND (default: /bin/sh) in a container made from IMAGE, a squashfs\n"
	"file or an unpacked root file system directory. The image is read-only.\n"
	"You keep your own uid and gid inside, with no capabilities.\n"
	"\n"
	"Options:\n"
	"  -r, --root              be uid 0 inside, with only CAP_CHOWN, CAP_DAC_OVERRIDE,\n"
	"                          CAP_FOWNER, CAP_SETUID and CAP_SETGID (still no power\n"
	"                          over host files you could not touch yourself)\n"
	"  -m, --bind HOST[:CTR[:ro|rw]]\n"
	"                          bind-mount HOST at CTR (default: the same path)\n"
	"      --mount type=bind,source=HOST,destination=CTR[,readonly]\n"
	"                          the same, in docker's long form\n"
	"                          Destinations are created when the image lacks them;\n"
	"                          symlinks in the image are followed inside the image.\n"
	"  -w, --workdir DIR       start in DIR (default: the current directory if it\n"
	"                          exists in the container, else /)\n"
	"  -e, --env NAME=VALUE    set a variable; NAME alone copies it from the host\n"
	"      --env-file FILE     set the NAME=VALUE lines of FILE\n"
	"      --no-home           do not mount your home directory\n"
	"      --private-tmp       a private, empty /tmp instead of the host's\n"
	"  -v, --verbose           more detail\n"
	"  -q, --quiet             only errors\n"
	"  -h, --help              this help\n"
	"\n"
	"The container sees: the image; /proc and /sys of the host; a minimal /dev\n"
	"(null, zero, full, random, urandom, tty, ptmx, pts, and the host's /dev/shm);\n"
	"the host's /tmp; your home directory; /etc/passwd and /etc/group that know\n"
	"you; the host's /etc/hosts and /etc/resolv.conf; the site's mounts; yours.\n"
	"\n"
	"Environment: the host's variables, except LD_PRELOAD, LD_LIBRARY_PATH,\n"
	"LD_AUDIT, XDG_RUNTIME_DIR and the site's env_deny list; then --env-file\n"
	"files, then --env options, in order. PATH defaults to the usual directories.\n"
	"\n"
	"Signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH\n"
	"and SIGCONT sent to launch reach the command. When the command exits, processes it left behind get\n"
	"SIGTERM, then SIGKILL 2 seconds later; nothing stays mounted.\n"
	"\n"
	"Exit status: the command's; 128+N when signal N killed it; 125 when launch\n"
	"failed; 126 when the command cannot be executed; 127 when it is not found.\n";

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum { OPT_MOUNT = 1000, OPT_ENV_FILE, OPT_NO_HOME, OPT_PRIVATE_TMP };

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", no_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'm' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "workdir", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "no-home", no_argument, NULL, OPT_NO_HOME },
		{ "private-tmp", no_argument, NULL, OPT_PRIVATE_TMP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_error *err = NULL;
	struct launch_config config;
	struct launch_spec spec = { 0 };
	_cleanup_free_ char *note = NULL;
	_cleanup_strv_ char **env_args = NULL; /* "e:..." or "f:...", applied in order */
	bool root = false, no_home = false, private_tmp = false, private_tmp_set = false;
	int ret = LAUNCH_EXIT_FAILURE, c;

	launch_config_init(&config);
	while ((c = getopt_long(argc, argv, "+rm:w:e:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		struct launch_mount m;
		switch (c) {
		case 'h':
			fputs(help, stdout);
			ret = 0;
			goto out;
		case 'r':
			root = true;
			break;
		case 'm':
		case OPT_MOUNT:
			if ((c == 'm' ? launch_mountspec_parse_short(optarg, &m, &err)
				      : launch_mountspec_parse_long(optarg, &m, &err)) < 0)
				goto fail;
			launch_mounts_push(&spec.mounts, &m);
			break;
		case 'w':
			if (optarg[0] != '/') {
				launch_error_msg(&err, "invalid --workdir `%s`: it must be an absolute path in the container",
						 optarg);
				goto fail;
			}
			free(spec.workdir);
			spec.workdir = launch_path_normalize(optarg);
			break;
		case 'e':
			launch_strv_push(&env_args, xasprintf("e:%s", optarg));
			break;
		case OPT_ENV_FILE:
			launch_strv_push(&env_args, xasprintf("f:%s", optarg));
			break;
		case OPT_NO_HOME:
			no_home = true;
			break;
		case OPT_PRIVATE_TMP:
			private_tmp = private_tmp_set = true;
			break;
		default:
			fputs("Try 'launch run --help'.\n", stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		launch_error_msg(&err, "missing IMAGE (usage: launch run [OPTIONS] IMAGE [COMMAND...])");
		goto fail;
	}
	const char *image = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;

	if (launch_privs_verify(&err) < 0)
		goto fail;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0)
		goto fail;
	if (root && !config.allow_root) {
		launch_error_msg(&err, "--root is disabled on this system (allow_root is false in %s)", config.path);
		goto fail;
	}
	spec.config = &config;
	spec.no_home = no_home;
	spec.private_tmp = private_tmp_set ? private_tmp : config.private_tmp;
	launch_identity_init(&spec.id, root, NULL);
	if (launch_image_resolve(image, &spec.image, &err) < 0)
		goto fail;

	launch_env_from_host(&spec.env, environ, config.env_deny);
	/* env files first, then --env options, each in command-line order */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; env_args && env_args[i]; i++) {
			if (env_args[i][0] != (pass == 0 ? 'f' : 'e'))
				continue;
			if ((pass == 0 ? launch_env_apply_file(&spec.env, env_args[i] + 2, &err)
				       : launch_env_apply_arg(&spec.env, env_args[i] + 2, &err)) < 0)
				goto fail;
		}
	if (!launch_env_get(&spec.env, "PATH"))
		launch_env_set(&spec.env, "PATH", default_path);
	launch_env_set(&spec.env, "container", "launch");

	if (optind < argc)
		spec.argv = launch_strv_copy(argv + optind);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)))
		spec.host_cwd = xstrdup(cwd);
	if (launch_runtime_dir(&config, &spec.runtime_dir, &note, &err) < 0)
		goto fail;
	launch_info("image %s (%s), %s mode, runtime directory %s", spec.image.path,
		    launch_image_kind_name(spec.image.kind), root ? "root" : "user", spec.runtime_dir);
	if (note)
		launch_info("%s: using %s", note, spec.runtime_dir);
	if (spec.image.kind == LAUNCH_IMAGE_SQUASHFS)
		launch_info("squashfs served by %s", launch_sqfs_backend());

	int status = 0;
	if (launch_container_run(&spec, &status, &err) < 0)
		goto fail;
	ret = status;
	goto out;
fail:
	ret = launcher_fail(err);
out:
	launch_spec_clear(&spec);
	launch_config_clear(&config);
	return ret;
}
