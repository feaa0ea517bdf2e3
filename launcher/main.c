/* SPDX-License-Identifier: Apache-2.0 */
/* `launch`: dispatch to the subcommands. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "log.h"
#include "sqfs.h"
#include "commands.h"
#include "util.h"

/* Every command, in the order `launch --help` lists them; an entry without
 * a summary is another name of the one before it. The usage is printed
 * from this table, so that no command goes unlisted. */
static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, "run a command in a container from an image" },
	{ "pull", cmd_image_helper, "pull an image from a registry (docker://...) into your store" },
	{ "import", cmd_image_helper, "import a docker-archive, OCI layout, rootfs tar or squashfs" },
	{ "images", cmd_images, "list the images of your store and the site's" },
	{ "inspect", cmd_inspect, "show an image's details and config as JSON" },
	{ "rmi", cmd_rmi, "remove images from your store" },
	{ "tag", cmd_tag, "give an image another name" },
	{ "prune", cmd_prune, "remove untagged images, the blob cache and unfinished imports" },
	{ "df", cmd_df, "show the space your image store takes, and what prune frees" },
	{ "commit", cmd_image_helper, "make an image of a writable container's changes" },
	{ "build", cmd_image_helper, "build an image from a Containerfile, step by step, cached" },
	{ "export", cmd_image_helper, "write an image as a squashfs file, docker-archive or OCI archive" },
	{ "login", cmd_image_helper, "keep your credentials for a registry" },
	{ "logout", cmd_image_helper, "forget the credentials login kept for a registry" },
	{ "start", cmd_start, "start a named instance that processes can join" },
	{ "exec", cmd_exec, "run a command inside a running instance" },
	{ "ps", cmd_ps, "list your instances and image servers" },
	{ "list", cmd_ps, NULL },
	{ "stop", cmd_stop, "end instances" },
	{ "hooks", cmd_hooks, "list the site's OCI hooks and which would run for a container" },
	{ "oci", cmd_oci, "run OCI bundles as runc would, for Slurm's --container (oci.conf)" },
	{ "doctor", cmd_doctor, "check what this node offers launch, and how to fix what is missing" },
	{ "config", cmd_config, "print the configuration in effect, and where each value comes from" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("Usage: launch [-v|-q] COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Run container images on HPC systems as an ordinary user: no root, no\n"
	      "setuid helper, no daemon.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!commands[i].summary)
			continue;
		char names[64];
		int n = snprintf(names, sizeof(names), "%s", commands[i].name);
		for (size_t j = i + 1; j < N_COMMANDS && !commands[j].summary; j++)
			n += snprintf(names + n, sizeof(names) - (size_t)n, ", %s", commands[j].name);
		fprintf(f, "  %-9s %s\n", names, commands[i].summary);
	}
	fputs("  version   print the version\n"
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
	      "127 when it does not exist in the container.\n",
	      f);
}

/* An unknown command: the error names the nearest command when NAME looks
 * like a typo of it. */
static int unknown_command(const char *name)
{
	const char *names[N_COMMANDS + 2];
	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i].name;
	names[N_COMMANDS] = "version";
	names[N_COMMANDS + 1] = "help";
	size_t k = launch_closest(name, names, ARRAY_SIZE(names));
	if (k < ARRAY_SIZE(names))
		launch_log(LAUNCH_LOG_ERROR, "unknown command `%s` (did you mean `%s`?)", name, names[k]);
	else
		launch_log(LAUNCH_LOG_ERROR, "unknown command `%s` (see 'launch --help')", name);
	return LAUNCH_EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	launch_image_set_files(&launch_sqfs_files); /* a SIF image's /.singularity.d */
	int c;
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
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
		usage(stderr);
		return LAUNCH_EXIT_FAILURE;
	}
	const char *name = argv[optind];
	if (!strcmp(name, "version")) {
		printf("launch %s\n", LAUNCH_VERSION);
		return 0;
	}
	if (!strcmp(name, "help")) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		name = argv[optind + 1];
		for (size_t i = 0; i < N_COMMANDS; i++)
			if (!strcmp(commands[i].name, name)) {
				char *hargv[] = { (char *)name, (char *)"--help", NULL };
				optind = 0;
				return commands[i].fn(2, hargv);
			}
	}
	/* not for users: the shared image server that launch run starts (server.h) */
	if (!strcmp(name, "image-server"))
		return cmd_image_server(argc - optind, argv + optind);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* restart getopt for the subcommand */
			return commands[i].fn(sub_argc, sub_argv);
		}
	return unknown_command(name);
}
