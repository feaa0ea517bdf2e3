/* SPDX-License-Identifier: Apache-2.0 */
/* `launch config`: print the configuration in effect (the built-in
 * defaults, the site's file, the user's file and the environment, as
 * launch_config_items gives it), as `key = value` lines or JSON, and with
 * --show-origin where each value came from. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "util.h"

/* around the site file's path */
static const char help_head[] =
	"Usage: launch config [--show-origin] [--format lines|json] [KEY...]\n"
	"\n"
	"Print the configuration launch uses: the built-in defaults, the site's\n"
	"file (";
static const char help_tail[] =
	", or $LAUNCH_CONFIG), your own file\n"
	"($XDG_CONFIG_HOME/launch/launch.json, else ~/.config/launch/launch.json)\n"
	"and the environment, later ones winning; options of a command win over all\n"
	"of them. runtime_dir and store are the directories launch would use. With\n"
	"KEY..., only those keys.\n"
	"\n"
	"Options:\n"
	"      --show-origin   where each value comes from: built-in, FILE:LINE or\n"
	"                      env NAME\n"
	"      --format FMT    lines (default): `key = value`, one line per entry of\n"
	"                      a list; json: one object\n"
	"  -v, --verbose       more detail\n"
	"  -q, --quiet         only errors\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: 0, or 125 when a config file is invalid or a KEY unknown.\n";

static char *value_text(const json_t *v)
{
	if (!v)
		return xstrdup("");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY);
}

static bool wanted(const char *key, char *const *only)
{
	if (!only || !only[0])
		return true;
	for (size_t i = 0; only[i]; i++)
		if (!strcmp(only[i], key))
			return true;
	return false;
}

static void print_lines(const struct launch_config_items *it, char *const *only, bool origins)
{
	for (size_t i = 0; i < it->n; i++) {
		const struct launch_config_item *x = &it->v[i];
		if (!wanted(x->key, only))
			continue;
		_cleanup_free_ char *text = value_text(x->value);
		if (origins)
			printf("%s\t", x->origin);
		printf("%s =%s%s\n", x->key, *text ? " " : "", text);
	}
}

static void print_json(const struct launch_config_items *it, char *const *only, bool origins)
{
	json_t *root = json_object();
	for (size_t i = 0; i < it->n; i++) {
		const struct launch_config_item *x = &it->v[i];
		if (!wanted(x->key, only))
			continue;
		json_t *value = x->value ? json_incref(x->value) : json_null();
		if (origins)
			value = json_pack("{s:o, s:s}", "value", value, "origin", x->origin);
		if (!x->list) {
			json_object_set_new(root, x->key, value);
			continue;
		}
		json_t *arr = json_object_get(root, x->key);
		if (!arr) {
			arr = json_array();
			json_object_set_new(root, x->key, arr);
		}
		if (x->value)
			json_array_append_new(arr, value);
		else
			json_decref(value); /* an empty list */
	}
	char *s = json_dumps(root, JSON_INDENT(2));
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(root);
}

int cmd_config(int argc, char **argv)
{
	enum { OPT_SHOW_ORIGIN = 1000, OPT_FORMAT };
	static const struct option opts[] = {
		{ "show-origin", no_argument, NULL, OPT_SHOW_ORIGIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool origins = false, json = false;
	struct launch_error *err = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		switch (c) {
		case 'h':
			printf("%s%s%s", help_head, launch_config_default_path(), help_tail);
			return 0;
		case OPT_SHOW_ORIGIN:
			origins = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "lines") && strcmp(optarg, "json")) {
				launch_error_msg(&err, "invalid --format `%s`: use lines or json", optarg);
				return launcher_fail(err);
			}
			json = !strcmp(optarg, "json");
			break;
		default:
			fputs("Try 'launch config --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	char *const *only = argv + optind;
	for (size_t i = 0; only[i]; i++)
		if (!launch_config_key_known(only[i])) {
			launch_error_msg(&err, "unknown key `%s` (see 'launch config' for them all)", only[i]);
			return launcher_fail(err);
		}
	struct launch_config config;
	struct launch_config_items items = { NULL, 0 };
	launch_config_init(&config);
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_config_items(&config, &items, &err) < 0) {
		launch_config_clear(&config);
		return launcher_fail(err);
	}
	if (json)
		print_json(&items, only, origins);
	else
		print_lines(&items, only, origins);
	launch_config_items_clear(&items);
	launch_config_clear(&config);
	return 0;
}
