/* SPDX-License-Identifier: Apache-2.0 */
/* `launch`: dispatch to the subcommands. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "commands.h"

static const char usage[] =
	"Usage: launch [-v|-q] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"Run container images on HPC systems as an ordinary user: no root, no\n"
	"setuid helper, no daemon.\n"
	"\n"
	"Commands:\n"
	"  run       run a command in a container from an image\n"
	"  pull      pull an image from a registry (docker://...) into your store\n"
	"  import    import a docker-archive, OCI layout, rootfs tar or squashfs\n"
	"  images    list the images of your store and the site's\n"
	"  inspect   show an image's details and config as JSON\n"
	"  rmi       remove images from your store\n"
	"  tag       give an image another name\n"
	"  commit    make an image of a writable container's changes\n"
	"  login     keep your credentials for a registry (logout forgets them)\n"
	"  start     start a named instance that processes can join\n"
	"  exec      run a command inside a running instance\n"
	"  ps        list your instances (also: list)\n"
	"  stop      end instances\n"
	"  hooks     list the site's OCI hooks and which would run for a container\n"
	"  oci       run OCI bundles as runc would, for Slurm's --container (oci.conf)\n"
	"  doctor    check what this node offers launch, and how to fix what is missing\n"
	"  version   print the version\n"
	"  help      show help for a command: launch help run\n"
	"\n"
	"Options:\n"
	"  -v, --verbose   more detail (repeat for debug output)\n"
	"  -q, --quiet     only errors\n"
	"  -h, --help      this help\n"
	"      --version   print the version\n"
	"\n"
	"Exit status: the container command's own status; 128+N when signal N killed\n"
	"it; 125 when launch itself failed; 126 when the command cannot be executed;\n"
	"127 when it does not exist in the container.\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "run", cmd_run },
	{ "doctor", cmd_doctor },
	{ "start", cmd_start },
	{ "exec", cmd_exec },
	{ "ps", cmd_ps },
	{ "list", cmd_ps },
	{ "stop", cmd_stop },
	{ "oci", cmd_oci },
	{ "hooks", cmd_hooks },
	{ "import", cmd_image_helper },
	{ "commit", cmd_image_helper },
	{ "pull", cmd_image_helper },
	{ "login", cmd_image_helper },
	{ "logout", cmd_image_helper },
	{ "images", cmd_images },
	{ "inspect", cmd_inspect },
	{ "rmi", cmd_rmi },
	{ "tag", cmd_tag },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },    { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("launch %s\n", LAUNCH_VERSION);
			return 0;
		default:
			fputs("Try 'launch --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return LAUNCH_EXIT_FAILURE;
	}
	const char *name = argv[optind];
	if (!strcmp(name, "version")) {
		printf("launch %s\n", LAUNCH_VERSION);
		return 0;
	}
	if (!strcmp(name, "help")) {
		if (optind + 1 >= argc) {
			fputs(usage, stdout);
			return 0;
		}
		name = argv[optind + 1];
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(commands[i].name, name)) {
				char *hargv[] = { (char *)name, (char *)"--help", NULL };
				optind = 0;
				return commands[i].fn(2, hargv);
			}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* restart getopt for the subcommand */
			return commands[i].fn(sub_argc, sub_argv);
		}
	launch_log(LAUNCH_LOG_ERROR, "unknown command `%s` (see 'launch --help')", name);
	return LAUNCH_EXIT_FAILURE;
}
