/* SPDX-License-Identifier: Apache-2.0 */
/* The store commands: `launch images`, `inspect`, `rmi`, `tag`, `prune`,
 * `df` (core only; `launch import` runs in the launch-image helper,
 * cmd_import.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "image.h"
#include "jsonpos.h"
#include "log.h"
#include "sif.h"
#include "sqfs.h"
#include "store.h"
#include "util.h"

static const char images_help[] =
	"Usage: launch images [--format table|json] [REPOSITORY[:TAG]]\n"
	"\n"
	"List the images of your store, then those of the site's stores: NAME, TAG,\n"
	"DIGEST (the first 12 hex digits), SIZE (of the squashfs file), CREATED.\n"
	"An image pulled by digest shows TAG <none>. Run one with\n"
	"'launch run NAME[:TAG]' or 'launch run @DIGEST'.\n"
	"\n"
	"REPOSITORY[:TAG] lists only the images of that name (all its tags when no\n"
	"TAG is given); * and ? match any characters but /.\n"
	"\n"
	"Options:\n"
	"      --format table|json a table (the default), or a JSON array with an\n"
	"                          object per image, as 'launch inspect' prints it\n";

static const char inspect_help[] =
	"Usage: launch inspect [--pull] NAME[:TAG] | @DIGEST | docker://REF | FILE\n"
	"\n"
	"Print what the store knows of an image as JSON: digest, tags, store, file,\n"
	"size, creation time, source, and its config (Env, Entrypoint, Cmd,\n"
	"WorkingDir, User, Labels); for an image imported from a SIF file, also its\n"
	"labels and definition file. docker://REF is the image pulled from REF.\n"
	"FILE, a squashfs or SIF file, is described as launch run would take it: a\n"
	"SIF file's partition, signature, labels, definition file, and the Env and\n"
	"Cmd of its /.singularity.d.\n"
	"\n"
	"      --pull  find the image as 'launch run' does: a docker://REF missing\n"
	"              from the store is pulled first (where the site pulls on run)\n";

static const char rmi_help[] =
	"Usage: launch rmi NAME[:TAG]... | @DIGEST...\n"
	"\n"
	"Remove tags from your store; an image goes when its last tag does. @DIGEST\n"
	"removes the image and all its tags. An image a running container or\n"
	"instance uses is never removed: its last tag goes, the image stays untagged\n"
	"until 'launch prune' finds it unused (an @DIGEST removal fails instead).\n"
	"Works on a full disk. Images of the site's stores cannot be removed.\n";

static const char tag_help[] =
	"Usage: launch tag SOURCE NAME[:TAG]\n"
	"\n"
	"Give the image SOURCE (NAME[:TAG] or @DIGEST of your store) another name.\n";

static const char prune_help[] =
	"Usage: launch prune [--all] [--dry-run]\n"
	"\n"
	"Free space in your image store, without asking: remove the images no tag\n"
	"names (<none> in 'launch images'), the pull's blob cache (the layers 'launch\n"
	"pull' downloaded, which no stored image needs), the build cache (the steps\n"
	"'launch build' keeps) and what interrupted downloads and imports left.\n"
	"Each removal is printed with its size, then the total. An image a running\n"
	"container or instance uses is never removed, nor a download, import or\n"
	"build that is running. Works on a full disk.\n"
	"\n"
	"Options:\n"
	"  -a, --all       also remove tagged images that no running container or\n"
	"                  instance uses\n"
	"  -n, --dry-run   list what would be removed, remove nothing\n";

static const char df_help[] =
	"Usage: launch df [--format table|json]\n"
	"\n"
	"Show the space your image store takes: the images (with those no tag names\n"
	"and those running containers use), the pull's blob cache (its limit is\n"
	"blob_cache_max in 'launch config'), the build cache of 'launch build' and\n"
	"unfinished downloads and imports, with what 'launch prune' would free.\n"
	"\n"
	"Options:\n"
	"      --format table|json a table (the default), or a JSON object\n";

static int load(struct launch_config *c, struct launch_store **stores, size_t *n, struct launch_error **err)
{
	launch_config_init(c);
	if (launch_config_load(c, LAUNCH_CONFIG_HONOR_ENV, err) < 0)
		return -1;
	return launch_stores(c, stores, n, err);
}

/* getopt for commands with only -v/-q/-h and a few long options. Their
 * operands are image names, so options may come before or after them. */
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
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
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

static char *human(int64_t b)
{
	char buf[32];
	human_size(b, buf, sizeof(buf));
	return xstrdup(buf);
}

static json_t *image_json(const struct launch_store_image *im)
{
	_cleanup_free_ char *created = launch_iso_time(im->created);
	json_t *tags = launch_json_from_strv(im->tags);
	json_t *j = json_pack("{s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:O}", "digest", im->digest, "tags", tags,
			      "store", im->store, "store_kind", im->site ? "site" : "user", "file", im->file, "size",
			      (json_int_t)im->size, "created", created, "source", im->source, "config", im->config);
	/* a SIF's definition file and labels, the platform */
	if (im->meta)
		json_object_update(j, im->meta);
	return j;
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

/* Does TAG ("NAME:TAG") match FILTER, docker's REPOSITORY[:TAG]: a name
 * alone stands for all its tags; * and ? do not cross a /. */
static bool tag_matches(const char *tag, const char *filter)
{
	const char *fc = strrchr(filter, ':'), *fs = strrchr(filter, '/'), *c = strrchr(tag, ':');
	if (!c)
		return false; /* not NAME:TAG: a damaged index */
	if (fc && fs && fc < fs)
		fc = NULL; /* registry:port/name */
	_cleanup_free_ char *fname = fc ? xstrndup(filter, (size_t)(fc - filter)) : xstrdup(filter);
	_cleanup_free_ char *name = xstrndup(tag, (size_t)(c - tag));
	return fnmatch(fname, name, FNM_PATHNAME) == 0 && (!fc || fnmatch(fc + 1, c + 1, 0) == 0);
}

static bool image_matches(const struct launch_store_image *im, const char *filter)
{
	for (size_t k = 0; im->tags[k]; k++)
		if (tag_matches(im->tags[k], filter))
			return true;
	return false;
}

/* The table's lines of IM: one per tag FILTER (NULL: all) lets through,
 * one with NAME and TAG <none> for an untagged image when there is no
 * FILTER. The tag of an image pulled by digest (sha256-HEX, 71 characters)
 * shows as <none>, as docker shows such an image: the pin is no name to
 * type, and `launch inspect` shows it whole. */
static void add_rows(struct launch_table *t, const struct launch_store_image *im, const char *filter)
{
	char size[32], when[64], hex[13];
	human_size(im->size, size, sizeof(size));
	launch_time_ago(im->created, (int64_t)time(NULL), when, sizeof(when));
	snprintf(hex, sizeof(hex), "%.12s", im->digest + strlen("sha256:"));
	_cleanup_free_ char *created = xasprintf("%s%s", when, im->site ? "  (site)" : "");
	if (!im->tags[0] && !filter)
		launch_table_add(t, (const char *[]){ "<none>", "<none>", hex, size, created });
	for (size_t k = 0; im->tags[k]; k++) {
		const char *c = strrchr(im->tags[k], ':');
		if (!c || (filter && !tag_matches(im->tags[k], filter)))
			continue;
		_cleanup_free_ char *name = xstrndup(im->tags[k], (size_t)(c - im->tags[k]));
		const char *tag = launch_ref_tag_is_digest(c + 1) ? "<none>" : c + 1;
		launch_table_add(t, (const char *[]){ name, tag, hex, size, created });
	}
}

/* Every image of STORES that FILTER (NULL: all) lets through, into the
 * table T or the JSON array ARR. Returns the exit status. */
static int list_images(const struct launch_store *stores, size_t n, const char *filter, struct launch_table *t,
		       json_t *arr)
{
	int ret = 0;
	for (size_t s = 0; s < n; s++) {
		struct launch_error *err = NULL;
		struct launch_store_image *v = NULL;
		size_t m = 0;
		if (launch_store_list(&stores[s], &v, &m, &err) < 0)
			ret = launcher_fail(err);
		for (size_t i = 0; i < m; i++) {
			if (arr && (!filter || image_matches(&v[i], filter)))
				json_array_append_new(arr, image_json(&v[i]));
			else if (!arr)
				add_rows(t, &v[i], filter);
			launch_store_image_clear(&v[i]);
		}
		free(v);
	}
	return ret;
}

int cmd_images(int argc, char **argv)
{
	static const struct option extra[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	bool json = false;
	int r = simple_opts(argc, argv, images_help, extra, format_opt, &json);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (argc - optind > 1) {
		launch_error_msg(&err, "usage: launch images [--format table|json] [REPOSITORY[:TAG]]");
		return launcher_fail(err);
	}
	const char *filter = optind < argc ? argv[optind] : NULL;
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	if (load(&config, &stores, &n, &err) < 0) {
		launch_stores_free(stores, n);
		launch_config_clear(&config);
		return launcher_fail(err);
	}
	launch_store_gc(&stores[0]); /* what killed imports left */
	struct launch_table t;
	launch_table_init(&t, 5);
	launch_table_add(&t, (const char *[]){ "NAME", "TAG", "DIGEST", "SIZE", "CREATED" });
	json_t *arr = json ? json_array() : NULL;
	int ret = list_images(stores, n, filter, &t, arr);
	_cleanup_free_ char *text = arr ? json_dumps(arr, JSON_INDENT(2)) : launch_table_text(&t);
	printf("%s%s", text, arr ? "\n" : "");
	json_decref(arr);
	launch_table_clear(&t);
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}

/* --- inspect, rmi, tag --- */

static int pull_opt(int c, void *arg)
{
	if (c != 'p')
		return -1;
	*(bool *)arg = true;
	return 0;
}

/* What inspect looks up for WHAT: a docker://REF is the image pulled from
 * it; with PULL, whatever 'launch run' would run (pulled when missing). */
static char *inspect_ref(const char *what, const struct launch_config *c, bool pull, struct launch_error **err)
{
	if (pull) {
		struct launch_image img;
		if (launch_image_resolve(what, c, &img, err) < 0)
			return NULL;
		/* a stored image by its digest; a file as it is */
		char *ref = img.digest ? xasprintf("@%s", img.digest) : xstrdup(what);
		launch_image_clear(&img);
		return ref;
	}
	if (!launch_registry_ref_is(what))
		return xstrdup(what);
	struct launch_registry_ref rr;
	if (launch_registry_ref_parse_with(what, c->default_registry, &rr, err) < 0)
		return NULL;
	char *local = launch_registry_ref_local_name(&rr);
	launch_registry_ref_clear(&rr);
	return local;
}

/* FILE described as launch run takes it (see inspect_help). */
static int inspect_file(const char *path, const struct launch_config *c)
{
	struct launch_error *err = NULL;
	struct launch_image img = { 0 };
	if (launch_image_resolve(path, c, &img, &err) < 0)
		return launcher_fail(err);
	json_t *cfg = json_object();
	if (img.env)
		json_object_set_new(cfg, "Env", launch_json_from_strv(img.env));
	if (img.cmd)
		json_object_set_new(cfg, "Cmd", launch_json_from_strv(img.cmd));
	json_t *j = json_pack("{s:s, s:s, s:o}", "file", img.path, "format",
			      img.sif ? "sif" : launch_image_kind_name(img.kind), "config", cfg);
	_cleanup_close_ int fd = img.sif ? open(img.path, O_RDONLY | O_CLOEXEC) : -1;
	struct launch_sif sif = { 0 };
	if (fd >= 0 && launch_sif_read(fd, img.path, &sif, &err) == 0) {
		const char *arch = launch_sif_arch_name(sif.arch);
		json_object_set_new(j, "partition",
				    json_pack("{s:I, s:I, s:s, s:I}", "offset", (json_int_t)sif.offset, "size",
					      (json_int_t)sif.size, "arch", arch ? arch : sif.arch, "partitions",
					      (json_int_t)sif.partitions));
		json_object_set_new(j, "signed", json_boolean(sif.signed_));
		json_t *labels = sif.labels ? json_loads(sif.labels, 0, NULL) : NULL;
		if (labels)
			json_object_set_new(j, "labels", labels);
		else if (sif.labels)
			json_object_set_new(j, "labels", json_string(sif.labels));
		json_t *def = sif.deffile ? json_string(sif.deffile) : NULL;
		if (def)
			json_object_set_new(j, "definition", def);
	}
	launch_error_free(err);
	launch_sif_clear(&sif);
	launch_image_clear(&img);
	char *s = json_dumps(j, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option extra[] = { { "pull", no_argument, NULL, 'p' }, { NULL, 0, NULL, 0 } };
	bool pull = false;
	int r = simple_opts(argc, argv, inspect_help, extra, pull_opt, &pull);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (argc - optind != 1) {
		launch_error_msg(&err, "usage: launch inspect [--pull] NAME[:TAG] | @DIGEST | docker://REF");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_ref ref = { 0 };
	struct launch_store_image im = { 0 };
	_cleanup_free_ char *what = NULL;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0 || !(what = inspect_ref(argv[optind], &config, pull, &err))) {
		ret = launcher_fail(err);
	} else if (!launch_ref_looks_like(what) ||
		   ((launch_ref_parse(what, &ref, NULL) < 0 || launch_stores_find(stores, n, &ref, &im, NULL) < 0) &&
		    access(what, F_OK) == 0)) {
		ret = inspect_file(what, &config); /* a path, or a file of that name */
	} else if ((!ref.name && !ref.digest && launch_ref_parse(what, &ref, &err) < 0) ||
		   (!im.digest && launch_stores_find(stores, n, &ref, &im, &err) < 0)) {
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
		enum launch_store_removal what = LAUNCH_STORE_UNTAGGED;
		if (launch_stores_find(stores, n, &ref, &im, NULL) == 0 && im.site) {
			launch_error_msg(&err,
					 "%s is in the site image store %s, which is read-only (ask your admins to "
					 "remove it)",
					 argv[i], im.store);
			ret = launcher_fail(steal_pointer(&err));
		} else if (launch_store_remove(&stores[0], &ref, &what, &err) < 0) {
			ret = launcher_fail(steal_pointer(&err));
		} else if (launch_log_level() >= LAUNCH_LOG_WARN) {
			printf("%s %s%s\n", ref.name ? "untagged" : "removed", argv[i],
			       what == LAUNCH_STORE_REMOVED && ref.name ? " (image removed)"
			       : what == LAUNCH_STORE_KEPT_IN_USE
				       ? " (image kept: a running container uses it; 'launch prune' removes it later)"
				       : "");
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
		launch_error_msg(&err,
				 "%s is in the site image store %s: tags live in your own store, and the image "
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

/* --- prune, df --- */

static int prune_opt(int c, void *arg)
{
	unsigned *flags = arg;
	if (c == 'a')
		*flags |= LAUNCH_PRUNE_ALL;
	else if (c == 'n')
		*flags |= LAUNCH_PRUNE_DRY_RUN;
	else
		return -1;
	return 0;
}

static const char *const prune_kinds[] = { "image", "blob", "partial", "build cache" };

int cmd_prune(int argc, char **argv)
{
	static const struct option extra[] = { { "all", no_argument, NULL, 'a' },
					       { "dry-run", no_argument, NULL, 'n' },
					       { NULL, 0, NULL, 0 } };
	unsigned flags = 0;
	int r = simple_opts(argc, argv, prune_help, extra, prune_opt, &flags);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (optind < argc) {
		launch_error_msg(&err,
				 "usage: launch prune [--all] [--dry-run] (it takes no image names: see 'launch "
				 "rmi')");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_prune_report rep = { 0 };
	_cleanup_free_ char *total = NULL;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0 || launch_store_prune(&stores[0], flags, &rep, &err) < 0) {
		ret = launcher_fail(err);
		goto out;
	}
	bool dry = flags & LAUNCH_PRUNE_DRY_RUN;
	for (size_t i = 0; i < rep.n; i++) {
		_cleanup_free_ char *size = human(rep.items[i].bytes);
		printf("%s %s %s (%s)\n", dry ? "would remove" : "removed", prune_kinds[rep.items[i].kind],
		       rep.items[i].name, size);
	}
	for (size_t i = 0; rep.kept && rep.kept[i]; i++)
		printf("kept %s\n", rep.kept[i]);
	total = human(rep.bytes);
	printf("%s: %s\n", dry ? "would free" : "freed", total);
out:
	launch_prune_report_clear(&rep);
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}

static json_t *usage_json(const struct launch_store *s, const struct launch_store_usage *u, int64_t cache_max)
{
	return json_pack(
		"{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}, "
		"s:{s:I, s:I}, s:I}",
		"store", s->root, "images", "count", (json_int_t)u->images, "bytes", (json_int_t)u->images_bytes,
		"untagged", (json_int_t)u->untagged, "untagged_bytes", (json_int_t)u->untagged_bytes, "in_use",
		(json_int_t)u->in_use, "in_use_bytes", (json_int_t)u->in_use_bytes, "reclaimable_bytes",
		(json_int_t)u->images_reclaimable, "blob_cache", "count", (json_int_t)u->blobs, "bytes",
		(json_int_t)u->blobs_bytes, "max_bytes", (json_int_t)cache_max, "partials", "count",
		(json_int_t)u->partials, "bytes", (json_int_t)u->partials_bytes, "active",
		(json_int_t)u->partials_active, "active_bytes", (json_int_t)u->partials_active_bytes, "build_cache",
		"steps", (json_int_t)u->build_steps, "bytes", (json_int_t)u->build_bytes, "reclaimable_bytes",
		(json_int_t)(u->images_reclaimable + u->blobs_bytes + u->partials_bytes - u->partials_active_bytes +
			     u->build_bytes));
}

static void usage_table(const struct launch_store *s, const struct launch_store_usage *u, int64_t cache_max)
{
	struct launch_table t;
	launch_table_init(&t, 4);
	launch_table_add(&t, (const char *[]){ "TYPE", "COUNT", "SIZE", "RECLAIMABLE" });
	char count[32];
	_cleanup_free_ char *isz = human(u->images_bytes), *irc = human(u->images_reclaimable);
	_cleanup_free_ char *inote = xasprintf("%s (%zu untagged, %zu in use)", irc, u->untagged, u->in_use);
	snprintf(count, sizeof(count), "%zu", u->images);
	launch_table_add(&t, (const char *[]){ "images", count, isz, inote });
	_cleanup_free_ char *bsz = human(u->blobs_bytes), *cap = launch_config_size_text(cache_max);
	_cleanup_free_ char *bnote = xasprintf("%s (blob_cache_max %s)", bsz, cap);
	snprintf(count, sizeof(count), "%zu", u->blobs);
	launch_table_add(&t, (const char *[]){ "blob cache", count, bsz, bnote });
	_cleanup_free_ char *psz = human(u->partials_bytes), *prc = human(u->partials_bytes - u->partials_active_bytes);
	_cleanup_free_ char *pnote = xasprintf("%s (%zu running)", prc, u->partials_active);
	snprintf(count, sizeof(count), "%zu", u->partials);
	launch_table_add(&t, (const char *[]){ "partial", count, psz, pnote });
	_cleanup_free_ char *csz = human(u->build_bytes);
	snprintf(count, sizeof(count), "%zu", u->build_steps);
	launch_table_add(&t, (const char *[]){ "build cache", count, csz, csz });
	_cleanup_free_ char *text = launch_table_text(&t);
	printf("%s", text);
	launch_table_clear(&t);
	printf("\nstore: %s ('launch prune' frees what is reclaimable)\n", s->root);
}

int cmd_df(int argc, char **argv)
{
	static const struct option extra[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	bool json = false;
	int r = simple_opts(argc, argv, df_help, extra, format_opt, &json);
	if (r != 0)
		return r > 0 ? 0 : LAUNCH_EXIT_FAILURE;
	struct launch_error *err = NULL;
	if (optind < argc) {
		launch_error_msg(&err, "usage: launch df [--format table|json]");
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_store_usage u;
	int ret = 0;
	if (load(&config, &stores, &n, &err) < 0 || launch_store_usage(&stores[0], &u, &err) < 0) {
		ret = launcher_fail(err);
	} else if (json) {
		json_t *j = usage_json(&stores[0], &u, config.blob_cache_max);
		_cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2));
		printf("%s\n", text);
		json_decref(j);
	} else {
		usage_table(&stores[0], &u, config.blob_cache_max);
	}
	launch_stores_free(stores, n);
	launch_config_clear(&config);
	return ret;
}
