/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for launch_plan_parse (image-manager/manifest.c). The
 * input is split on NUL bytes into documents. The first is manifest.json
 * when its first byte is odd ("[" is), else index.json (so an index starts
 * with a space); the others are blobs, found under their own sha256
 * (blobs/sha256/HEX, or any name ending in HEX.json, as docker-archive
 * configs are named), so that valid chains of index, manifest and config
 * can be built. A last document "#C" is options, not a blob: bit 0 of C
 * serves a member that no blob matches with the last blob (to reach the
 * digest and size mismatch checks), bits 1-2 choose the platform asked for.
 * The plan's contract: on success at least one layer, every member a
 * normalised relative path, every digest valid or NULL (diff_ids and the
 * config's always valid), a config object; on failure an error with a
 * message, and the plan cleared. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "manifest.h"
#include "source.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 16

struct doc {
	const char *data;
	size_t len;
	char digest[LAUNCH_DIGEST_LEN + 1];
};

struct input {
	struct doc docs[MAX_DOCS];
	size_t n;
	const char *first_name;
	bool fallback;
};

static int serve(const struct doc *d, char **data, size_t *len)
{
	*data = xmalloc(d->len + 1);
	memcpy(*data, d->data, d->len);
	(*data)[d->len] = '\0';
	*len = d->len;
	return 0;
}

static int reader(void *arg, const char *name, char **data, size_t *len, struct launch_error **err)
{
	struct input *in = arg;
	(void)err;
	if (!name)
		abort();
	if (!strcmp(name, in->first_name))
		return serve(&in->docs[0], data, len);
	size_t n = strlen(name);
	for (size_t i = 1; i < in->n; i++) {
		const char *hex = in->docs[i].digest + 7;
		if (launch_str_has_prefix(name, "blobs/sha256/") && !strcmp(name + 13, hex))
			return serve(&in->docs[i], data, len);
		if (n >= 69 && !strcmp(name + n - 5, ".json") && !strncmp(name + n - 69, hex, 64))
			return serve(&in->docs[i], data, len);
	}
	if (in->fallback && in->n > 1 && strcmp(name, "manifest.json") != 0 && strcmp(name, "index.json") != 0)
		return serve(&in->docs[in->n - 1], data, len);
	return 1;
}

static bool plan_is_clear(const struct launch_image_plan *p)
{
	return !p->format && !p->digest && !p->config && !p->layers && !p->n_layers && !p->platform && !p->tags;
}

static void check_member(const char *m)
{
	if (!m || !*m)
		abort();
	char *n = launch_member_normalize(m);
	if (!n || strcmp(n, m) != 0)
		abort(); /* absolute, "..", or not normalised */
	free(n);
}

static bool strv_json(json_t *v)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v))
		return false;
	json_array_foreach (v, i, e)
		if (!json_is_string(e))
			return false;
	return true;
}

static void check_runtime(json_t *config)
{
	json_t *rc = launch_plan_runtime_config(config);
	const char *k;
	json_t *v;
	if (!json_is_object(rc))
		abort();
	json_object_foreach (rc, k, v) {
		if (!strcmp(k, "Env") || !strcmp(k, "Entrypoint") || !strcmp(k, "Cmd")) {
			if (!strv_json(v))
				abort();
		} else if (!strcmp(k, "WorkingDir") || !strcmp(k, "User")) {
			if (!json_is_string(v) || !*json_string_value(v))
				abort();
		} else if (!strcmp(k, "Labels")) {
			const char *lk;
			json_t *lv;
			if (!json_is_object(v))
				abort();
			json_object_foreach (v, lk, lv)
				if (!json_is_string(lv))
					abort();
		} else {
			abort();
		}
	}
	json_decref(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const platforms[] = { NULL, "linux/arm64", "linux/arm/v7", "linux/arm" };
	struct input in;
	memset(&in, 0, sizeof(in));
	const char *p = (const char *)data, *end = p + size;
	while (in.n < MAX_DOCS) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		struct doc *d = &in.docs[in.n++];
		d->data = p;
		d->len = z ? (size_t)(z - p) : (size_t)(end - p);
		launch_sha256_buf(d->data, d->len, d->digest);
		if (!z)
			break;
		p = z + 1;
	}
	unsigned char first = size ? data[0] : 0, opts = 0;
	in.first_name = (first & 1) ? "manifest.json" : "index.json";
	if (in.n > 1 && in.docs[in.n - 1].len == 2 && in.docs[in.n - 1].data[0] == '#')
		opts = (unsigned char)in.docs[--in.n].data[1];
	in.fallback = (opts & 1) != 0;
	const char *platform = platforms[(opts >> 1) & 3];

	struct launch_image_plan plan;
	struct launch_error *err = NULL;
	int r = launch_plan_parse(reader, &in, platform, &plan, &err);
	if (getenv("LAUNCH_FUZZ_VERBOSE")) /* what a seed does */
		fprintf(stderr, "%s: %s\n", r == 0 ? "plan" : "error", r == 0 ? plan.digest : err ? err->msg : "-");
	if (r == 0) {
		if (err)
			abort();
		if (plan.n_layers < 1 || plan.n_layers > 1000 || !plan.layers)
			abort();
		if (!plan.format || (strcmp(plan.format, "oci") != 0 && strcmp(plan.format, "docker-archive") != 0))
			abort();
		if (!launch_digest_valid(plan.digest) || !json_is_object(plan.config))
			abort();
		if (plan.platform && !strchr(plan.platform, '/'))
			abort();
		for (size_t i = 0; i < plan.n_layers; i++) {
			const struct launch_layer_desc *l = &plan.layers[i];
			check_member(l->member);
			if (l->digest && !launch_digest_valid(l->digest))
				abort();
			if (!launch_digest_valid(l->diff_id))
				abort();
		}
		check_runtime(plan.config);
		launch_plan_clear(&plan);
		if (!plan_is_clear(&plan))
			abort();
	} else if (r == -1) {
		if (!err || !err->msg || !*err->msg)
			abort();
		if (!plan_is_clear(&plan))
			abort();
		launch_plan_clear(&plan); /* harmless on a cleared plan */
	} else {
		abort();
	}
	launch_error_free(err);
	return 0;
}
