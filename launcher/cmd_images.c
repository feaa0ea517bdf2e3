/* SPDX-License-Identifier: Apache-2.0 */
/* The store commands: `launch images`, `inspect`, `rmi`, `tag` (core only;
 * `launch import` runs in the launch-image helper, cmd_import.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char images_help[] =
	"Usage: launch images [--format table|json]\n"
	"\n"
	"List the images of your store, then those of the site's stores: NAME, TAG,\n"
	"DIGEST (the first 12 hex digits), SIZE (of the squashfs file), CREATED.\n"
	"Run one with 'launch run NAME[:TAG]' or 'launch run @DIGEST'.\n";

static const char inspect_help[] =
	"Usage: launch inspect NAME[:TAG] | @DIGEST\n"
	"\n"
	"Print what the store knows of an image as JSON: digest, tags, store, file,\n"
	"size, creation time, source, and its config (Env, Entrypoint, Cmd,\n"
	"WorkingDir, User, Labels).\n";

static const char rmi_help[] =
	"Usage: launch rmi NAME[:TAG]... | @DIGEST...\n"
	"\n"
	"Remove tags from your store; an image goes when its last tag does. @DIGEST\n"
	"removes the image and all its tags. Containers running it keep running.\n"
	"Images of the site's stores cannot be removed.\n";

static const char tag_help[] =
	"Usage: launch tag SOURCE NAME[:TAG]\n"
	"\n"
	"Give the image SOURCE (NAME[:TAG] or @DIGEST of your store) another name.\n";

static int load(struct launch_config *c, struct launch_store **stores, size_t *n, struct launch_error **err)
{
	launch_config_init(c);
	if (launch_config_load(c, LAUNCH_CONFIG_HONOR_ENV, err) < 0)
		return -1;
	return launch_stores(c, stores, n, err);
}

/* getopt for commands with only -v/-q/-h and a few long options. */
static int simple_opts(int argc, char **argv, const char *help, const struct option *extra, int (*on)(int, void *),
		       void *arg)
{
	struct option opts[16] = { { "verbose", no_argument, NULL, 'v' },
				   { "quiet", no_argument, NULL, 'q' },
				   { "help", no_argument, NULL, 'h' } };
	size_t n = 3;
	for (size_t i = 0; extra && extra[i].name && n < ARRAY_SIZE(opts) - 1; i++)
		opts[n++] = extra[i];
	int c;
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(help, stdout);
			return 1;
		}
		if (c != '?' && on && on(c, arg) == 0)
			continue;
		fprintf(stderr, "Try 'launch %s --help'.\n", argv[0]);
		return -1;
	}
	return 0;
}

/* --- images --- */

static void human_size(int64_t b, char *buf, size_t n)
{
	if (b >= 1000LL * 1000 * 1000)
		snprintf(buf, n, "%.1fGB", (double)b / 1e9);
	else if (b >= 1000LL * 1000)
		snprintf(buf, n, "%.1fMB", (double)b / 1e6);
	else
		snprintf(buf, n, "%.1fkB", (double)b / 1e3);
}

static void ago(int64_t t, char *buf, size_t n)
{
	int64_t s = (int64_t)time(NULL) - t;
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%lld seconds ago", (long long)s);
	else if (s < 3600)
		snprintf(buf, n, "%lld minutes ago", (long long)(s / 60));
	else if (s < 86400 * 2)
		snprintf(buf, n, "%lld hours ago", (long long)(s / 3600));
	else
		snprintf(buf, n, "%lld days ago", (long long)(s / 86400));
}

static char *iso_time(int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static json_t *image_json(const struct launch_store_image *im)
{
	_cleanup_free_ char *created = iso_time(im->created);
	json_t *tags = json_array();
	for (size_t i = 0; im->tags[i]; i++)
		json_array_append_new(tags, json_string(im->tags[i]));
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:O}", "digest", im->digest, "tags", tags, "store",
			 im->store, "store_kind", im->site ? "site" : "user", "file", im->file, "size",
			 (json_int_t)im->size, "created", created, "source", im->source, "config", im->config);
}

static int format_opt(int c, void *arg)
{
	if (c != 'f')
		return -1;
	if (strcmp(optarg, "json") && strcmp(optarg, "table"))
		return -1;
	*(bool *)arg = !strcmp(optarg, "json");
	return 0;
}

int cmd_images(int argc, char **argv)
{
	static const struct option extra[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	bool json = false;
	int r = simple_opts(argc, argv, images_help, extra, format_opt, &json);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0) {
		ret = launcher_fail(err);
		goto out;
	}
	launch_store_gc(&stores[0]); /* what killed imports left */
	json_t *arr = json_array();
	if (!json)
		printf("%-40s %-16s %-14s %-9s %s\n", "NAME", "TAG", "DIGEST", "SIZE", "CREATED");
	for (size_t s = 0; s < n; s++) {
		struct launch_store_image *v = NULL;
		size_t m = 0;
		if (launch_store_list(&stores[s], &v, &m, &err) < 0) {
			ret = launcher_fail(steal_pointer(&err));
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			if (json) {
				json_array_append_new(arr, image_json(&v[i]));
			} else {
				char size[32], when[64];
				human_size(v[i].size, size, sizeof(size));
				ago(v[i].created, when, sizeof(when));
				const char *hex = v[i].digest + 7;
				size_t k = 0;
				do {
					const char *t = v[i].tags[k];
					_cleanup_free_ char *name = t ? xstrndup(t, (size_t)(strrchr(t, ':') - t)) : NULL;
					printf("%-40s %-16s %-14.12s %-9s %s%s\n", name ? name : "<none>",
					       t ? strrchr(t, ':') + 1 : "<none>", hex, size, when,
					       v[i].site ? "  (site)" : "");
				} while (v[i].tags[k] && v[i].tags[++k]);
			}
			launch_store_image_clear(&v[i]);
		}
		free(v);
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	json_decref(arr);
out:
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}

/* --- inspect, rmi, tag --- */

int cmd_inspect(int argc, char **argv)
{
	int r = simple_opts(argc, argv, inspect_help, NULL, NULL, NULL);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (argc - optind != 1) {
		launch_error_msg(&err, "usage: launch inspect NAME[:TAG] | @DIGEST");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_ref ref = { 0 };
	struct launch_store_image im = { 0 };
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0 || launch_ref_parse(argv[optind], &ref, &err) < 0 ||
	    launch_stores_find(stores, n, &ref, &im, &err) < 0) {
		ret = launcher_fail(err);
	} else {
		json_t *j = image_json(&im);
		char *s = json_dumps(j, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(j);
	}
	launch_store_image_clear(&im);
	launch_ref_clear(&ref);
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}

int cmd_rmi(int argc, char **argv)
{
	int r = simple_opts(argc, argv, rmi_help, NULL, NULL, NULL);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (optind >= argc) {
		launch_error_msg(&err, "usage: launch rmi NAME[:TAG]... | @DIGEST...");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0) {
		ret = launcher_fail(err);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		struct launch_ref ref;
		struct launch_store_image im = { 0 };
		if (launch_ref_parse(argv[i], &ref, &err) < 0) {
			ret = launcher_fail(steal_pointer(&err));
			continue;
		}
		bool gone = false;
		if (launch_stores_find(stores, n, &ref, &im, NULL) == 0 && im.site) {
			launch_error_msg(&err, "%s is in the site image store %s, which is read-only (ask your admins to "
					       "remove it)",
					 argv[i], im.store);
			ret = launcher_fail(steal_pointer(&err));
		} else if (launch_store_remove(&stores[0], &ref, &gone, &err) < 0) {
			ret = launcher_fail(steal_pointer(&err));
		} else if (launch_log_level() >= LAUNCH_LOG_WARN) {
			printf("untagged %s%s\n", argv[i], gone ? " (image removed)" : "");
		}
		launch_store_image_clear(&im);
		launch_ref_clear(&ref);
	}
out:
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}

int cmd_tag(int argc, char **argv)
{
	int r = simple_opts(argc, argv, tag_help, NULL, NULL, NULL);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (argc - optind != 2) {
		launch_error_msg(&err, "usage: launch tag SOURCE NAME[:TAG]");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_ref ref = { 0 };
	struct launch_store_image im = { 0 };
	_cleanup_free_ char *tag = NULL;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0 || launch_ref_parse(argv[optind], &ref, &err) < 0 ||
	    !(tag = launch_ref_canonical(argv[optind + 1], &err))) {
		ret = launcher_fail(err);
	} else if (launch_stores_find(stores, n, &ref, &im, NULL) == 0 && im.site) {
		launch_error_msg(&err, "%s is in the site image store %s: tags live in your own store, and the image "
				       "is not there (import it, or run it by its site name)",
				 argv[optind], im.store);
		ret = launcher_fail(err);
	} else if (launch_store_tag(&stores[0], &ref, tag, &err) < 0) {
		ret = launcher_fail(err);
	}
	launch_store_image_clear(&im);
	launch_ref_clear(&ref);
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}
