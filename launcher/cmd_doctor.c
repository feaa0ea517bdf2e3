/* SPDX-License-Identifier: Apache-2.0 */
/* `launch doctor`: print the node checks and how to fix each failure. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "doctor.h"
#include "log.h"

static const char help[] =
	"Usage: launch doctor [-v]\n"
	"\n"
	"Check what this node offers launch: the site config, user namespaces,\n"
	"/dev/fuse, the squashfs server, the runtime directory, overlayfs in a user\n"
	"namespace, how --root maps ids, the image stores, tar2sqfs, the site's\n"
	"hooks and cgroups. Each line says OK, INFO, WARN or FAIL, with the command\n"
	"that fixes a problem.\n"
	"\n"
	"Exit status: 0 when `launch run` can work here, 1 when it cannot.\n";

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		fputs("Try 'launch doctor --help'.\n", stderr);
		return 2;
	}
	struct launch_config config;
	struct launch_error *err = NULL;
	launch_config_init(&config);
	int loaded = launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err);
	struct launch_checks checks = { 0 };
	launch_doctor_run(loaded < 0 ? NULL : &config, loaded < 0 ? err->msg : NULL, &checks);
	launch_error_free(err);
	for (size_t i = 0; i < checks.n; i++) {
		const struct launch_check *k = &checks.v[i];
		printf("%-5s %s: %s\n", launch_check_status_name(k->status), k->name, k->detail);
		if (k->fix && k->status != LAUNCH_CHECK_OK)
			printf("      fix: %s\n", k->fix);
	}
	bool ok = launch_doctor_ok(&checks);
	printf("%s\n",
	       ok ? "launch run can work on this node." : "launch run cannot work on this node: see FAIL above.");
	launch_checks_clear(&checks);
	launch_config_clear(&config);
	return ok ? 0 : 1;
}
