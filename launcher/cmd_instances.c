/* SPDX-License-Identifier: Apache-2.0 */
/* `launch ps` and `launch stop`: list and end the caller's instances. */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "instance.h"
#include "log.h"
#include "paths.h"
#include "server.h"
#include "util.h"

static const char ps_help[] =
	"Usage: launch ps [--format table|json]\n"
	"\n"
	"List your running instances: NAME, IMAGE (as it was given to 'launch start':\n"
	"a store name or a path), AGE, PROCESSES (joined processes still running, the\n"
	"instance's own init not counted) and STATE. Instances whose supervisor died\n"
	"are cleaned up on the way. 'launch list' is the same.\n"
	"\n"
	"Then your image servers on this node (see 'launch help run'): NAME\n"
	"server:KEY, IMAGE (the file served), AGE, PROCESSES (the containers using it)\n"
	"and STATE (serving, or idle until its linger time is over; the id mode).\n"
	"\n"
	"Options:\n"
	"      --format table|json a table (the default), or a JSON array\n";

static const char stop_help[] =
	"Usage: launch stop NAME... | --all\n"
	"\n"
	"End every process of each instance (SIGTERM, then SIGKILL 2 seconds later),\n"
	"unmount it and remove its state.\n";

static int runtime_dir(char **out, struct launch_error **err)
{
	struct launch_config config;
	launch_config_init(&config);
	int r = launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, err);
	if (r == 0)
		r = launch_runtime_dir(&config, out, NULL, err);
	launch_config_clear(&config);
	return r;
}

static void age(int64_t created, char *buf, size_t size)
{
	int64_t s = (int64_t)time(NULL) - created;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "f:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(ps_help, stdout);
			return 0;
		}
		if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table"))) {
			json = !strcmp(optarg, "json");
			continue;
		}
		struct launch_error *e = NULL;
		launch_error_msg(&e, "launch ps: unknown option or format (see 'launch ps --help')");
		return launcher_fail(e);
	}
	struct launch_error *err = NULL;
	_cleanup_free_ char *dir = NULL;
	struct launch_instance_info *v = NULL;
	size_t n = 0;
	if (runtime_dir(&dir, &err) < 0 || launch_instance_list(dir, &v, &n, &err) < 0)
		return launcher_fail(err);
	json_t *arr = json ? json_array() : NULL;
	struct launch_table t;
	launch_table_init(&t, 5);
	launch_table_add(&t, (const char *[]){ "NAME", "IMAGE", "AGE", "PROCESSES", "STATE" });
	for (size_t i = 0; i < n; i++) {
		char a[32], procs[16];
		age(v[i].created, a, sizeof(a));
		snprintf(procs, sizeof(procs), "%d", v[i].processes);
		if (json)
			json_array_append_new(arr,
					      json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:b, s:I}", "name", v[i].name,
							"kind", "instance", "image", v[i].image, "created",
							(json_int_t)v[i].created, "processes", v[i].processes, "state",
							"running", "root", v[i].root, "pid", (json_int_t)v[i].holder));
		else
			launch_table_add(&t, (const char *[]){ v[i].name, v[i].image, a, procs, "running" });
		launch_instance_info_clear(&v[i]);
	}
	free(v);
	struct launch_server_info *sv = NULL;
	if (launch_server_list(dir, &sv, &n, &err) < 0)
		return launcher_fail(err);
	for (size_t i = 0; i < n; i++) {
		char a[32], procs[16], name[32], state[64];
		age(sv[i].started, a, sizeof(a));
		snprintf(procs, sizeof(procs), "%d", sv[i].containers);
		snprintf(name, sizeof(name), "server:%.8s", sv[i].key);
		if (sv[i].containers)
			snprintf(state, sizeof(state), "serving (%s)", sv[i].mode);
		else
			snprintf(state, sizeof(state), "idle (%s, ends %ds after its last)", sv[i].mode, sv[i].linger);
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:I, s:i}", "name",
							     name, "kind", "image-server", "image", sv[i].image,
							     "created", (json_int_t)sv[i].started, "processes",
							     sv[i].containers, "state",
							     sv[i].containers ? "serving" : "idle", "mode", sv[i].mode,
							     "pid", (json_int_t)sv[i].pid, "linger", sv[i].linger));
		else
			launch_table_add(&t, (const char *[]){ name, sv[i].image, a, procs, state });
		launch_server_info_clear(&sv[i]);
	}
	free(sv);
	_cleanup_free_ char *text = json ? json_dumps(arr, JSON_INDENT(2)) : launch_table_text(&t);
	printf("%s%s", text, json ? "\n" : "");
	json_decref(arr);
	launch_table_clear(&t);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "avqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(stop_help, stdout);
			return 0;
		}
		if (c == 'a') {
			all = true;
			continue;
		}
		fputs("Try 'launch stop --help'.\n", stderr);
		return LAUNCH_EXIT_FAILURE;
	}
	struct launch_error *err = NULL;
	if (!all && optind >= argc) {
		launch_error_msg(&err, "missing NAME (usage: launch stop NAME... | --all)");
		return launcher_fail(err);
	}
	_cleanup_free_ char *dir = NULL;
	if (runtime_dir(&dir, &err) < 0)
		return launcher_fail(err);
	int ret = 0;
	if (all) {
		struct launch_instance_info *v = NULL;
		size_t n = 0;
		if (launch_instance_list(dir, &v, &n, &err) < 0)
			return launcher_fail(err);
		for (size_t i = 0; i < n; i++) {
			if (launch_instance_stop(dir, v[i].name, &err) < 0)
				ret = launcher_fail(steal_pointer(&err));
			launch_instance_info_clear(&v[i]);
		}
		free(v);
		return ret;
	}
	for (int i = optind; i < argc; i++)
		if (launch_instance_stop(dir, argv[i], &err) < 0)
			ret = launcher_fail(steal_pointer(&err));
	return ret;
}

/* `launch image-server ...`: not for users; launch run starts it. */
int cmd_image_server(int argc, char **argv)
{
	return launch_server_main(argc - 1, argv + 1);
}
