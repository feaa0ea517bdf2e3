/* SPDX-License-Identifier: Apache-2.0 */
/* Import plans from docker-archive and OCI layout metadata (see
 * manifest.h). */
#define _GNU_SOURCE
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "jsonpos.h"
#include "util.h"

#define DOC_MAX (4u << 20) /* manifests, indexes and configs are small */
#define MAX_DEPTH 4	   /* nested indexes */
#define MAX_LAYERS 1000

/* a member read: 0 ok, 1 missing, -1 error */
typedef int (*reader)(void *arg, const char *name, char **data, size_t *len, struct launch_error **err);

struct ctx {
	reader read;
	void *arg;
	const char *want;   /* platform asked for, NULL: the default */
	const char *select; /* the image of several (a tag, REPO:TAG, @N), NULL: the only one */
	struct launch_image_plan *plan;
};

/* "REPO:TAG" without docker.io/ and library/, with :latest when no tag. */
static char *repo_tag_norm(const char *s)
{
	if (launch_str_has_prefix(s, "docker.io/"))
		s += 10;
	if (launch_str_has_prefix(s, "library/"))
		s += 8;
	const char *colon = strrchr(s, ':'), *slash = strrchr(s, '/');
	return colon && (!slash || colon > slash) ? xstrdup(s) : xasprintf("%s:latest", s);
}

/* Append NAME to the ", "-separated list *LIST. */
static void list_add(char **list, const char *name)
{
	char *s = xasprintf("%s%s%s", *list ? *list : "", *list && **list ? ", " : "", name);
	free(*list);
	*list = s;
}

void launch_plan_clear(struct launch_image_plan *p)
{
	free(p->digest);
	json_decref(p->config);
	for (size_t i = 0; i < p->n_layers; i++) {
		free(p->layers[i].member);
		free(p->layers[i].digest);
		free(p->layers[i].media_type);
		free(p->layers[i].diff_id);
	}
	free(p->layers);
	free(p->platform);
	launch_strv_free(p->tags);
	memset(p, 0, sizeof(*p));
}

/* Parse TEXT (taken) as document NAME. */
static int parse(const char *name, char *text, struct launch_json_doc *doc, struct launch_error **err)
{
	return launch_json_doc_parse(doc, name, text, err);
}

/* Read blob DIGEST (checked) of SIZE bytes (-1: unknown) as JSON. */
static int read_blob_doc(struct ctx *c, const char *digest, json_int_t size, const char *what,
			 struct launch_json_doc *doc, char *actual, struct launch_error **err)
{
	if (launch_digest_check(digest, what, err) < 0)
		return -1;
	_cleanup_free_ char *member = xasprintf("blobs/sha256/%s", digest + 7);
	char *data = NULL;
	size_t len = 0;
	int r = c->read(c->arg, member, &data, &len, err);
	if (r == 1)
		return launch_error_msg(err, "%s: blob %s is missing from the source", what, digest);
	if (r < 0)
		return -1;
	char got[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(data, len, got);
	if (strcmp(got, digest) != 0) {
		free(data);
		return launch_error_msg(err, "%s: digest mismatch: expected %s, got %s (the source is corrupt)", what,
					digest, got);
	}
	if (size >= 0 && (json_int_t)len != size) {
		free(data);
		return launch_error_msg(err, "%s: size mismatch: the descriptor says %lld bytes, the blob has %zu",
					what, (long long)size, len);
	}
	if (actual)
		strcpy(actual, got);
	_cleanup_free_ char *name = xasprintf("%s %.19s", what, digest);
	return parse(name, data, doc, err);
}

static bool is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

static bool is_manifest_type(const char *mt)
{
	return !mt || !strcmp(mt, "application/vnd.oci.image.manifest.v1+json") ||
	       !strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json");
}

/* The fields of descriptor D (at POINTER in DOC; WHAT names it) that have a
 * type: mediaType a string, digest a string, size an integer >= 0 (*SIZE,
 * -1 when absent). Whether the digest is valid is checked where it is used,
 * so that the message can say what it was the digest of. */
static int descriptor_types(const struct launch_json_doc *doc, const char *pointer, json_t *d, const char *what,
			    json_int_t *size, struct launch_error **err)
{
	static const char *const strings[] = { "mediaType", "digest" };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		json_t *v = json_object_get(d, strings[i]);
		_cleanup_free_ char *ptr = launch_json_pointer(pointer, strings[i]);
		if (v && !json_is_string(v))
			return launch_json_error_at(err, doc, ptr, "%s: \"%s\" must be a string, not %s", what,
						    strings[i], launch_json_type_name(v));
	}
	json_t *sz = json_object_get(d, "size");
	_cleanup_free_ char *ptr = launch_json_pointer(pointer, "size");
	*size = -1;
	if (!sz)
		return 0;
	if (!json_is_integer(sz))
		return launch_json_error_at(err, doc, ptr,
					    "%s: \"size\" must be a non-negative integer (bytes), not %s", what,
					    launch_json_type_name(sz));
	if (json_integer_value(sz) < 0)
		return launch_json_error_at(err, doc, ptr,
					    "%s: \"size\" must be a non-negative integer (bytes), not %lld", what,
					    (long long)json_integer_value(sz));
	*size = json_integer_value(sz);
	return 0;
}

static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

static char *platform_of(json_t *p)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *var = json_string_value(json_object_get(p, "variant"));
	if (!os || !arch)
		return NULL;
	return var && *var ? xasprintf("%s/%s/%s", os, arch, var) : xasprintf("%s/%s", os, arch);
}

/* Does HAVE ("os/arch[/variant]") satisfy WANT? A WANT without a variant
 * takes any variant. */
static bool platform_matches(const char *have, const char *want)
{
	if (!strcmp(have, want))
		return true;
	/* "os/arch" accepts every variant of it */
	const char *slash = strchr(want, '/');
	if (slash && strchr(slash + 1, '/'))
		return false;
	size_t n = strlen(want);
	return !strncmp(have, want, n) && have[n] == '/';
}

static const char *wanted(const struct ctx *c)
{
	return c->want ? c->want : LAUNCH_DEFAULT_PLATFORM;
}

/* Is a config for HAVE good for WANT? The variant is optional in an image
 * config: one without it is for every variant of its os/arch (the index
 * entry that led to it told the variant apart). */
static bool config_matches(const char *have, const char *want)
{
	if (platform_matches(have, want))
		return true;
	const char *slash = strchr(have, '/');
	size_t n = strlen(have);
	return slash && !strchr(slash + 1, '/') && !strncmp(want, have, n) && want[n] == '/';
}

/* --- the config --- */

static int load_config(struct ctx *c, const char *member, const char *expect, json_int_t size,
		       struct launch_error **err)
{
	struct launch_image_plan *p = c->plan;
	char *data = NULL;
	size_t len = 0;
	int r = c->read(c->arg, member, &data, &len, err);
	if (r == 1)
		return launch_error_msg(err, "the image config (%s) is missing from the source", member);
	if (r < 0)
		return -1;
	char got[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(data, len, got);
	if (expect && strcmp(got, expect) != 0) {
		free(data);
		return launch_error_msg(err,
					"image config: digest mismatch: expected %s, got %s (the source is corrupt)",
					expect, got);
	}
	if (size >= 0 && (json_int_t)len != size) {
		free(data);
		return launch_error_msg(err, "image config: size mismatch: the descriptor says %lld bytes, it has %zu",
					(long long)size, len);
	}
	struct launch_json_doc doc;
	if (parse("image config", data, &doc, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = -1;
	json_t *diff = json_object_get(json_object_get(doc.root, "rootfs"), "diff_ids");
	if (!json_is_object(doc.root)) {
		launch_json_error_at(err, &doc, "", "the image config must be a JSON object");
		goto out;
	}
	if (!json_is_array(diff)) {
		launch_json_error_at(err, &doc, "", "the image config has no rootfs.diff_ids array");
		goto out;
	}
	if (json_array_size(diff) != p->n_layers) {
		launch_json_error_at(err, &doc, "/rootfs/diff_ids",
				     "the image config lists %zu diff_ids for %zu layers", json_array_size(diff),
				     p->n_layers);
		goto out;
	}
	for (size_t i = 0; i < p->n_layers; i++) {
		const char *d = json_string_value(json_array_get(diff, i));
		_cleanup_free_ char *what = xasprintf("image config: diff_id %zu", i + 1);
		if (launch_digest_check(d, what, err) < 0)
			goto out;
		p->layers[i].diff_id = xstrdup(d);
	}
	if (!json_is_object(json_object_get(doc.root, "config")) && json_object_get(doc.root, "config") &&
	    !json_is_null(json_object_get(doc.root, "config"))) {
		launch_json_error_at(err, &doc, "/config", "\"config\" must be an object");
		goto out;
	}
	p->platform = platform_of(doc.root);
	if (p->platform && c->want && !config_matches(p->platform, c->want)) {
		launch_error_msg(err, "the image is for %s, not %s", p->platform, c->want);
		goto out;
	}
	if (p->platform && !c->want && !platform_matches(p->platform, LAUNCH_DEFAULT_PLATFORM)) {
		launch_error_msg(err, "the image is for %s, not %s (import it anyway with --platform %s)", p->platform,
				 LAUNCH_DEFAULT_PLATFORM, p->platform);
		goto out;
	}
	p->digest = xstrdup(got);
	p->config = json_incref(doc.root);
	ret = 0;
out:
	launch_json_doc_clear(&doc);
	return ret;
}

/* --- docker-archive --- */

/* The sha256 a docker-archive member name carries: blobs/sha256/HEX or
 * [DIR/]HEX.json. */
static char *digest_in_name(const char *member)
{
	const char *base = strrchr(member, '/');
	base = base ? base + 1 : member;
	size_t n = strlen(base);
	_cleanup_free_ char *hex = NULL;
	if (launch_str_has_prefix(member, "blobs/sha256/"))
		hex = xstrdup(base);
	else if (n == 69 && !strcmp(base + 64, ".json"))
		hex = xstrndup(base, 64);
	if (!hex)
		return NULL;
	char *d = xasprintf("sha256:%s", hex);
	if (!launch_digest_valid(d)) {
		free(d);
		return NULL;
	}
	return d;
}

static int member_path(const struct launch_json_doc *doc, const char *ptr, json_t *v, char **out,
		       struct launch_error **err)
{
	if (!v) /* (launch_json_type_name takes a value) */
		return launch_json_error_at(err, doc, ptr, "%s is missing (expected a path string)", ptr);
	if (!json_is_string(v))
		return launch_json_error_at(err, doc, ptr, "expected a path string, not %s", launch_json_type_name(v));
	char *n = launch_member_normalize(json_string_value(v));
	if (!n || !*n) {
		free(n);
		return launch_json_error_at(err, doc, ptr, "path `%s` is outside the archive", json_string_value(v));
	}
	*out = n;
	return 0;
}

/* The entry of manifest.json (DOC, an array of at least one) to import:
 * the one c->select names, or the only one. */
static int docker_choose(struct ctx *c, const struct launch_json_doc *doc, size_t *out, struct launch_error **err)
{
	size_t n = json_array_size(doc->root), i;
	_cleanup_free_ char *have = NULL, *want = NULL;
	json_t *m, *t;
	json_array_foreach (doc->root, i, m) {
		size_t k;
		json_array_foreach (json_object_get(m, "RepoTags"), k, t)
			if (json_is_string(t))
				list_add(&have, json_string_value(t));
	}
	if (!c->select) {
		if (n == 1) {
			*out = 0;
			return 0;
		}
		return launch_json_error_at(err, doc, "/1",
					    "the archive holds %zu images (%s): choose one with "
					    "docker-archive:FILE:REPO:TAG, or docker-archive:FILE:@N for the N-th "
					    "from 0 (or save them one by one)",
					    n, have ? have : "none of them tagged");
	}
	if (c->select[0] == '@') {
		char *end;
		unsigned long k = strtoul(c->select + 1, &end, 10);
		if (c->select[1] && !*end && k < n) {
			*out = (size_t)k;
			return 0;
		}
		return launch_error_msg(err, "the archive holds %zu images: %s names none of them (@0 to @%zu)", n,
					c->select, n - 1);
	}
	want = repo_tag_norm(c->select);
	json_array_foreach (doc->root, i, m) {
		size_t k;
		json_array_foreach (json_object_get(m, "RepoTags"), k, t) {
			_cleanup_free_ char *norm = json_is_string(t) ? repo_tag_norm(json_string_value(t)) : NULL;
			if (norm && !strcmp(norm, want)) {
				*out = i;
				return 0;
			}
		}
	}
	return launch_error_msg(err, "the archive has no image %s (it has: %s)", c->select,
				have ? have : "no tagged image; give @N");
}

static int docker_archive(struct ctx *c, char *text, struct launch_error **err)
{
	struct launch_image_plan *p = c->plan;
	struct launch_json_doc doc;
	if (parse("manifest.json", text, &doc, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = -1;
	_cleanup_free_ char *config = NULL, *expect = NULL, *at = NULL, *at_config = NULL;
	if (!json_is_array(doc.root)) {
		launch_json_error_at(err, &doc, "", "manifest.json must be an array of images");
		goto out;
	}
	if (json_array_size(doc.root) == 0) {
		launch_json_error_at(err, &doc, "", "manifest.json lists no image");
		goto out;
	}
	size_t chosen = 0;
	if (docker_choose(c, &doc, &chosen, err) < 0)
		goto out;
	json_t *m = json_array_get(doc.root, chosen), *layers = json_object_get(m, "Layers");
	free(at);
	free(at_config);
	at = xasprintf("/%zu", chosen);
	at_config = xasprintf("/%zu/Config", chosen);
	if (member_path(&doc, at_config, json_object_get(m, "Config"), &config, err) < 0)
		goto out;
	if (!json_is_array(layers) || json_array_size(layers) == 0 || json_array_size(layers) > MAX_LAYERS) {
		launch_json_error_at(err, &doc, at, "\"Layers\" must be an array of 1 to %d paths", MAX_LAYERS);
		goto out;
	}
	p->format = "docker-archive";
	p->n_layers = json_array_size(layers);
	p->layers = xcalloc(p->n_layers, sizeof(*p->layers));
	for (size_t i = 0; i < p->n_layers; i++) {
		_cleanup_free_ char *ptr = xasprintf("/%zu/Layers/%zu", chosen, i);
		if (member_path(&doc, ptr, json_array_get(layers, i), &p->layers[i].member, err) < 0)
			goto out;
		p->layers[i].digest = digest_in_name(p->layers[i].member);
		p->layers[i].size = -1;
	}
	p->tags = xcalloc(1, sizeof(char *));
	json_t *tags = json_object_get(m, "RepoTags"), *t;
	size_t i;
	json_array_foreach (tags, i, t)
		if (json_is_string(t))
			launch_strv_push(&p->tags, xstrdup(json_string_value(t)));
	expect = digest_in_name(config);
	ret = load_config(c, config, expect, -1, err);
out:
	launch_json_doc_clear(&doc);
	return ret;
}

/* --- OCI layout --- */

/* Follow manifest descriptor DESC (its types checked) of DESC_SIZE bytes. */
static int oci_manifest(struct ctx *c, json_t *desc, json_int_t desc_size, struct launch_error **err)
{
	struct launch_image_plan *p = c->plan;
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	struct launch_json_doc doc;
	memset(&doc, 0, sizeof(doc));
	if (read_blob_doc(c, digest, desc_size, "manifest", &doc, NULL, err) < 0) {
		launch_json_doc_clear(&doc);
		return -1;
	}
	int ret = -1;
	_cleanup_free_ char *member = NULL;
	json_t *cfg = json_object_get(doc.root, "config"), *layers = json_object_get(doc.root, "layers");
	if (!json_is_object(doc.root) || json_integer_value(json_object_get(doc.root, "schemaVersion")) != 2) {
		launch_json_error_at(err, &doc, "", "not an image manifest (schemaVersion 2 expected)");
		goto out;
	}
	if (!json_is_object(cfg)) {
		launch_json_error_at(err, &doc, "", "the manifest has no \"config\" descriptor");
		goto out;
	}
	if (!json_is_array(layers) || json_array_size(layers) == 0 || json_array_size(layers) > MAX_LAYERS) {
		launch_json_error_at(err, &doc, "", "\"layers\" must be an array of 1 to %d descriptors", MAX_LAYERS);
		goto out;
	}
	p->format = "oci";
	p->n_layers = json_array_size(layers);
	p->layers = xcalloc(p->n_layers, sizeof(*p->layers));
	for (size_t i = 0; i < p->n_layers; i++) {
		json_t *l = json_array_get(layers, i);
		_cleanup_free_ char *ptr = xasprintf("/layers/%zu", i);
		_cleanup_free_ char *what = xasprintf("manifest layer %zu", i + 1);
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		json_int_t size;
		if (!json_is_object(l)) {
			launch_json_error_at(err, &doc, ptr, "a layer must be a descriptor object");
			goto out;
		}
		if (descriptor_types(&doc, ptr, l, what, &size, err) < 0 || launch_digest_check(d, what, err) < 0)
			goto out;
		bool known = !mt;
		for (size_t k = 0; mt && k < ARRAY_SIZE(layer_types); k++)
			known |= !strcmp(mt, layer_types[k]);
		if (!known) {
			launch_json_error_at(err, &doc, ptr, "layer %zu has media type %s, which launch cannot unpack",
					     i + 1, mt);
			goto out;
		}
		p->layers[i].digest = xstrdup(d);
		p->layers[i].member = xasprintf("blobs/sha256/%s", d + 7);
		p->layers[i].size = size;
		p->layers[i].media_type = mt ? xstrdup(mt) : NULL;
	}
	const char *cd = json_string_value(json_object_get(cfg, "digest"));
	json_int_t csize;
	if (descriptor_types(&doc, "/config", cfg, "manifest config", &csize, err) < 0 ||
	    launch_digest_check(cd, "manifest config", err) < 0)
		goto out;
	member = xasprintf("blobs/sha256/%s", cd + 7);
	ret = load_config(c, member, cd, csize, err);
out:
	launch_json_doc_clear(&doc);
	return ret;
}

static const char *ref_name(json_t *desc)
{
	return json_string_value(
		json_object_get(json_object_get(desc, "annotations"), "org.opencontainers.image.ref.name"));
}

/* Does the index entry's ref.name NAME stand for the tag WANT: equal, or
 * NAME is a reference (REPO:TAG) whose tag, or whose whole, is WANT? */
static bool ref_matches(const char *name, const char *want)
{
	if (!name)
		return false;
	if (!strcmp(name, want))
		return true;
	const char *colon = strrchr(name, ':'), *slash = strrchr(name, '/');
	return colon && (!slash || colon > slash) && !strcmp(colon + 1, want);
}

/* Choose the entry of index DOC to follow, then follow it. */
static int oci_index(struct ctx *c, struct launch_json_doc *doc, int depth, struct launch_error **err)
{
	json_t *ms = json_object_get(doc->root, "manifests");
	if (!json_is_object(doc->root) || !json_is_array(ms))
		return launch_json_error_at(err, doc, "", "not an image index (no \"manifests\" array)");
	if (json_array_size(ms) == 0)
		return launch_json_error_at(err, doc, "/manifests", "the index lists no image");
	/* the top index of a layout of several images: the entries tagged
	 * c->select, or, without it, one tag at most */
	_cleanup_free_ char *tags = NULL;
	size_t tagged = 0, matching = 0;
	if (depth == 0) {
		json_t *e;
		size_t k;
		json_array_foreach (ms, k, e) {
			const char *name = ref_name(e);
			if (name && (!tags || !strstr(tags, name))) {
				list_add(&tags, name);
				tagged++;
			}
			matching += c->select && ref_matches(name, c->select);
		}
		if (c->select && !matching)
			return launch_error_msg(err, "%s: no image is tagged %s (its tags: %s)", doc->path, c->select,
						tags ? tags : "none");
		if (!c->select && tagged > 1)
			return launch_error_msg(
				err,
				"%s: the layout holds images of %zu tags (%s): name one, as oci:DIR:TAG, "
				"oci-archive:FILE:TAG or DIR:TAG",
				doc->path, tagged, tags);
	}
	json_t *chosen = NULL, *plain = NULL, *m; /* the first match, the first entry without a platform */
	size_t i, with_platform = 0, usable = 0;
	_cleanup_free_ char *seen = xstrdup("");
	json_array_foreach (ms, i, m) {
		_cleanup_free_ char *ptr = xasprintf("/manifests/%zu", i);
		_cleanup_free_ char *what = xasprintf("index entry %zu", i + 1);
		json_int_t size;
		if (!json_is_object(m))
			return launch_json_error_at(err, doc, ptr, "an index entry must be a descriptor object");
		/* every entry, chosen or not: a mediaType of the wrong type must
		 * not pass for an absent one */
		if (descriptor_types(doc, ptr, m, what, &size, err) < 0)
			return -1;
		if (depth == 0 && c->select && !ref_matches(ref_name(m), c->select))
			continue; /* another tag's */
		const char *mt = json_string_value(json_object_get(m, "mediaType"));
		if (!is_manifest_type(mt) && !is_index_type(mt))
			continue; /* attestations, signatures, other artifacts */
		usable++;
		_cleanup_free_ char *plat = platform_of(json_object_get(m, "platform"));
		if (plat) {
			with_platform++;
			char *s = xasprintf("%s%s%s", seen, *seen ? ", " : "", plat);
			free(seen);
			seen = s;
			if (!chosen && platform_matches(plat, wanted(c)))
				chosen = m;
		} else if (!plain) {
			plain = m;
		}
	}
	if (usable == 0)
		return launch_json_error_at(err, doc, "/manifests", "the index lists no image manifest");
	if (!with_platform)
		chosen = plain; /* when some entries have platforms, only those are candidates */
	if (!chosen && with_platform)
		return launch_error_msg(err, "%s: no image for %s (it has: %s); choose one with --platform", doc->path,
					wanted(c), seen);
	if (!chosen || (!with_platform && usable > 1))
		return launch_error_msg(err, "%s: %zu images and no platforms to tell them apart", doc->path, usable);
	const char *ref = ref_name(chosen);
	if (ref && !c->plan->tags) {
		c->plan->tags = xcalloc(1, sizeof(char *));
		launch_strv_push(&c->plan->tags, xstrdup(ref));
	}
	const char *mt = json_string_value(json_object_get(chosen, "mediaType"));
	json_t *sz = json_object_get(chosen, "size"); /* an integer >= 0 or absent: checked above */
	json_int_t size = sz ? json_integer_value(sz) : -1;
	if (!is_index_type(mt))
		return oci_manifest(c, chosen, size, err);
	if (depth >= MAX_DEPTH)
		return launch_error_msg(err, "%s: image indexes nested deeper than %d", doc->path, MAX_DEPTH);
	const char *digest = json_string_value(json_object_get(chosen, "digest"));
	struct launch_json_doc sub;
	memset(&sub, 0, sizeof(sub));
	int r = read_blob_doc(c, digest, size, "image index", &sub, NULL, err);
	if (r == 0)
		r = oci_index(c, &sub, depth + 1, err);
	launch_json_doc_clear(&sub);
	return r;
}

int launch_plan_parse(launch_member_reader read, void *arg, const char *platform, struct launch_image_plan *plan,
		      struct launch_error **err)
{
	return launch_plan_parse_select(read, arg, platform, NULL, plan, err);
}

int launch_plan_parse_select(launch_member_reader read, void *arg, const char *platform, const char *select,
			     struct launch_image_plan *plan, struct launch_error **err)
{
	memset(plan, 0, sizeof(*plan));
	struct ctx c = { read, arg, platform, select, plan };
	char *text = NULL;
	size_t len = 0;
	int r = read(arg, "manifest.json", &text, &len, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		r = docker_archive(&c, text, err);
	} else {
		struct launch_json_doc doc;
		memset(&doc, 0, sizeof(doc));
		r = read(arg, "index.json", &text, &len, err);
		if (r == 1)
			return launch_error_msg(err,
						"neither a docker-archive (no manifest.json) nor an OCI image layout "
						"(no index.json); for a root file system tarball, use --rootfs");
		if (r < 0)
			return -1;
		r = parse("index.json", text, &doc, err);
		if (r == 0)
			r = oci_index(&c, &doc, 0, err);
		launch_json_doc_clear(&doc);
	}
	if (r < 0)
		launch_plan_clear(plan);
	return r;
}

static int source_reader(void *arg, const char *name, char **data, size_t *len, struct launch_error **err)
{
	const struct launch_source *s = arg;
	if (!launch_source_has(s, name))
		return 1;
	return launch_source_read(s, name, DOC_MAX, data, len, err);
}

int launch_plan_load(const struct launch_source *src, const char *platform, struct launch_image_plan *plan,
		     struct launch_error **err)
{
	return launch_plan_parse(source_reader, (void *)src, platform, plan, err);
}

int launch_plan_load_select(const struct launch_source *src, const char *platform, const char *select,
			    struct launch_image_plan *plan, struct launch_error **err)
{
	return launch_plan_parse_select(source_reader, (void *)src, platform, select, plan, err);
}

/* --- the runtime part of the config --- */

static bool strv_json(json_t *v)
{
	if (!json_is_array(v))
		return false;
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e)
		if (!json_is_string(e))
			return false;
	return true;
}

json_t *launch_plan_runtime_config(json_t *image_config)
{
	json_t *c = json_object_get(image_config, "config"), *out = json_object();
	static const char *const lists[] = { "Env", "Entrypoint", "Cmd" };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		json_t *v = json_object_get(c, lists[i]);
		if (strv_json(v))
			json_object_set(out, lists[i], v);
	}
	static const char *const strs[] = { "WorkingDir", "User" };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		json_t *v = json_object_get(c, strs[i]);
		if (json_is_string(v) && *json_string_value(v))
			json_object_set(out, strs[i], v);
	}
	json_t *labels = json_object_get(c, "Labels"), *lv;
	const char *k;
	if (json_is_object(labels)) {
		json_t *l = json_object();
		json_object_foreach (labels, k, lv)
			if (json_is_string(lv))
				json_object_set(l, k, lv);
		json_object_set_new(out, "Labels", l);
	}
	return out;
}
