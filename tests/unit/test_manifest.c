/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image-manager/manifest.c on documents in memory: classic and
 * OCI-style docker-archives, OCI layouts (index, nested indexes, platform
 * choice), every refusal of a hostile or inconsistent document (digests,
 * sizes, diff_ids, media types, paths, nesting, platforms, JSON errors at
 * FILE:LINE:COL; descriptor fields of the wrong type), the runtime subset of
 * the config the store keeps, and the files of a source (regular files
 * only, a FIFO never waited for). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "digest.h"
#include "manifest.h"
#include "source.h"
#include "testutil.h"
#include "util.h"

#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* --- a source in memory: a table of {name, bytes} --- */

struct member {
	char *name;
	char *data;
	size_t len;
};

struct mem_source {
	struct member v[64];
	size_t n;
	const char *fail; /* reading this member is an I/O error */
	int reads;
};

static void put_n(struct mem_source *s, const char *name, const char *data, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name)) {
			free(s->v[i].data);
			s->v[i].data = xmalloc(len + 1);
			memcpy(s->v[i].data, data, len);
			s->v[i].data[len] = '\0';
			s->v[i].len = len;
			return;
		}
	if (s->n == ARRAY_SIZE(s->v)) {
		fprintf(stderr, "test setup failed: too many members\n");
		exit(2);
	}
	struct member *m = &s->v[s->n++];
	m->name = xstrdup(name);
	m->data = xmalloc(len + 1);
	memcpy(m->data, data, len);
	m->data[len] = '\0';
	m->len = len;
}

static void put(struct mem_source *s, const char *name, const char *text)
{
	put_n(s, name, text, strlen(text));
}

static void source_clear(struct mem_source *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].data);
	}
	memset(s, 0, sizeof(*s));
}

static int mem_read(void *arg, const char *name, char **data, size_t *len, struct launch_error **err)
{
	struct mem_source *s = arg;
	s->reads++;
	if (s->fail && !strcmp(name, s->fail))
		return launch_error_msg(err, "cannot read %s: simulated I/O error", name);
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name)) {
			*data = xmalloc(s->v[i].len + 1);
			memcpy(*data, s->v[i].data, s->v[i].len + 1);
			*len = s->v[i].len;
			return 0;
		}
	return 1;
}

/* Store TEXT as blobs/sha256/HEX; returns "sha256:HEX" (free it). */
static char *blob(struct mem_source *s, const char *text)
{
	char d[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(text, strlen(text), d);
	_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", d + 7);
	put(s, name, text);
	return xstrdup(d);
}

/* A descriptor of TEXT (stored as a blob): {"mediaType":MT,"digest":..,"size":..EXTRA}. */
static char *desc(struct mem_source *s, const char *mt, const char *text, const char *extra)
{
	_cleanup_free_ char *d = blob(s, text);
	_cleanup_free_ char *m = mt ? xasprintf("\"mediaType\":\"%s\",", mt) : xstrdup("");
	return xasprintf("{%s\"digest\":\"%s\",\"size\":%zu%s}", m, d, strlen(text), extra ? extra : "");
}

/* A well-formed digest that is not the digest of anything here. */
static char *fake_digest(int i)
{
	char hex[65];
	for (int k = 0; k < 64; k++)
		hex[k] = "0123456789abcdef"[(i * 7 + k) % 16];
	hex[64] = '\0';
	return xasprintf("sha256:%s", hex);
}

/* An image config for OS/ARCH[/VARIANT] (VARIANT may be NULL) with N_LAYERS diff_ids. */
static char *config_json(const char *arch, const char *variant, size_t n_layers)
{
	char *diff = xstrdup("");
	for (size_t i = 0; i < n_layers; i++) {
		_cleanup_free_ char *d = fake_digest((int)i + 100);
		char *n = xasprintf("%s%s\"%s\"", diff, i ? "," : "", d);
		free(diff);
		diff = n;
	}
	_cleanup_free_ char *var = variant ? xasprintf("\"variant\":\"%s\",", variant) : xstrdup("");
	char *c = xasprintf(
		"{\"architecture\":\"%s\",%s\"os\":\"linux\",\n"
		" \"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/w\"},\n"
		" \"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
		arch, var, diff);
	free(diff);
	return c;
}

/* An OCI manifest with config CONFIG and layers of media type MT (N_LAYERS of them). */
static char *manifest_json(struct mem_source *s, const char *config, size_t n_layers, const char *mt)
{
	_cleanup_free_ char *cd = desc(s, OCI_CONFIG, config, NULL);
	char *layers = xstrdup("");
	for (size_t i = 0; i < n_layers; i++) {
		_cleanup_free_ char *ld = fake_digest((int)i);
		char *n = xasprintf("%s%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", layers, i ? "," : "",
				    mt, ld, 1000 + i);
		free(layers);
		layers = n;
	}
	char *m = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\n \"config\":%s,\n \"layers\":[%s]}",
			    OCI_MANIFEST, cd, layers);
	free(layers);
	return m;
}

static bool plan_is_clear(const struct launch_image_plan *p)
{
	return !p->format && !p->digest && !p->config && !p->layers && !p->n_layers && !p->platform && !p->tags;
}

static int parse(struct mem_source *s, const char *platform, struct launch_image_plan *p, struct launch_error **err)
{
	int r = launch_plan_parse(mem_read, s, platform, p, err);
	if (r < 0)
		check_record_(plan_is_clear(p), __FILE__, __LINE__, "the plan is cleared after a failure");
	else
		check_record_(p->n_layers >= 1 && p->layers && p->config && p->digest, __FILE__, __LINE__,
			      "a plan has layers, a config and a digest");
	return r;
}

/* --- docker-archive --- */

static void test_docker_classic(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 2);
	char cd[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(cfg, strlen(cfg), cd);
	_cleanup_free_ char *cname = xasprintf("%s.json", cd + 7);
	put(&s, cname, cfg);
	_cleanup_free_ char *m = xasprintf(
		"[{\"Config\":\"%s\",\"RepoTags\":[\"lab/x:1\",7,\"lab/x:latest\"],\n"
		"  \"Layers\":[\"abc/layer.tar\",\"./def//layer.tar\"]}]",
		cname);
	put(&s, "manifest.json", m);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.format, "docker-archive");
	CHECK_STREQ(p.digest, cd);
	CHECK_STREQ(p.platform, "linux/amd64");
	CHECK_INTEQ(p.n_layers, 2);
	if (p.n_layers == 2) {
		CHECK_STREQ(p.layers[0].member, "abc/layer.tar");
		CHECK_STREQ(p.layers[1].member, "def/layer.tar");
		CHECK_NULL(p.layers[0].digest); /* the format gives none */
		CHECK_INTEQ(p.layers[0].size, -1);
		CHECK_NULL(p.layers[0].media_type);
		_cleanup_free_ char *d0 = fake_digest(100), *d1 = fake_digest(101);
		CHECK_STREQ(p.layers[0].diff_id, d0);
		CHECK_STREQ(p.layers[1].diff_id, d1);
	}
	CHECK_INTEQ(launch_strv_len(p.tags), 2);
	if (launch_strv_len(p.tags) == 2) {
		CHECK_STREQ(p.tags[0], "lab/x:1");
		CHECK_STREQ(p.tags[1], "lab/x:latest");
	}
	CHECK_STREQ(json_string_value(json_object_get(p.config, "architecture")), "amd64");
	launch_plan_clear(&p);
	CHECK(plan_is_clear(&p));
	launch_plan_clear(&p); /* twice is harmless */

	/* the config's name carries its digest: a changed config is caught */
	put(&s, cname, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[]}}");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "image config: digest mismatch: expected", cd, "the source is corrupt");

	/* a config named otherwise is not checked, but its digest is the identity */
	put(&s, "config.json", cfg);
	put(&s, "manifest.json", "[{\"Config\":\"config.json\",\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]}]");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.digest, cd);
	CHECK_INTEQ(launch_strv_len(p.tags), 0);
	launch_plan_clear(&p);

	/* the config is missing; reading fails */
	put(&s, "manifest.json", "[{\"Config\":\"nothere.json\",\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]}]");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "the image config (nothere.json) is missing from the source");
	s.fail = "manifest.json";
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "simulated I/O error");
	s.fail = "config.json";
	put(&s, "manifest.json", "[{\"Config\":\"config.json\",\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]}]");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "simulated I/O error");
	s.fail = NULL;
	source_clear(&s);
}

static void test_docker_oci_style(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 1);
	_cleanup_free_ char *cd = blob(&s, cfg);
	_cleanup_free_ char *ld = fake_digest(3);
	_cleanup_free_ char *m = xasprintf(
		"[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":null,\n"
		"  \"Layers\":[\"blobs/sha256/%s\"]}]",
		cd + 7, ld + 7);
	put(&s, "manifest.json", m);
	put(&s, "index.json", "not even JSON: manifest.json comes first");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.format, "docker-archive");
	CHECK_STREQ(p.digest, cd);
	if (p.n_layers == 1) {
		CHECK_STREQ(p.layers[0].digest, ld); /* from the member's name */
		_cleanup_free_ char *member = xasprintf("blobs/sha256/%s", ld + 7);
		CHECK_STREQ(p.layers[0].member, member);
	}
	launch_plan_clear(&p);

	/* a config blob whose content does not match its name */
	_cleanup_free_ char *cname = xasprintf("blobs/sha256/%s", cd + 7);
	put(&s, cname, "{\"rootfs\":{\"diff_ids\":[]}}");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "image config: digest mismatch");
	source_clear(&s);
}

static void test_docker_errors(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 1);
	put(&s, "c.json", cfg);

	const struct {
		const char *manifest, *error1, *error2;
	} cases[] = {
		{ "[]", "manifest.json:1:1: manifest.json lists no image", NULL },
		{ "{}", "manifest.json:1:1: manifest.json must be an array of images", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\"]},\n {\"Config\":\"c.json\",\"Layers\":[\"l.tar\"]}]",
		  "manifest.json:2:2: the archive holds 2 images", "save them one by one" },
		{ "[{\"Config\":\"c.json\",\n  \"Layers\":[\"../x\"]}]",
		  "manifest.json:2:13: path `../x` is outside the archive", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"a/../../x\"]}]", "path `a/../../x` is outside the archive",
		  NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"/etc/passwd\"]}]", "path `/etc/passwd` is outside the archive",
		  NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"./\"]}]", "path `./` is outside the archive", NULL },
		{ "[{\"Config\":\"../c.json\",\"Layers\":[\"l.tar\"]}]",
		  "manifest.json:1:3: path `../c.json` is outside", NULL },
		{ "[{\"Layers\":[\"l.tar\"]}]", "manifest.json: /0/Config is missing (expected a path string)", NULL },
		{ "[{\"Config\":7,\"Layers\":[\"l.tar\"]}]",
		  "manifest.json:1:3: expected a path string, not an integer", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[]}]", "\"Layers\" must be an array of 1 to 1000 paths", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":\"l.tar\"}]", "\"Layers\" must be an array", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\",{}]}]", "expected a path string, not an object",
		  NULL },
		{ "[\"x\"]", "manifest.json: /0/Config is missing", NULL },
		{ "[{\"Config\":\"c.json\",\"Layers\":[\"a.tar\",\"b.tar\"]}]",
		  "image config:3:28: the image config lists 1 diff_ids for 2 layers", NULL },
		{ "[{\"Config\":\"c.json\",\n\"Layers\":[\"a.tar\",]}]", "manifest.json:2:", "invalid JSON" },
		{ "[{\"Config\":\"c.json\",\"Config\":\"d.json\",\"Layers\":[\"a.tar\"]}]",
		  "manifest.json:1:", "duplicate object key" },
		{ "", "manifest.json:", "invalid JSON" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		put(&s, "manifest.json", cases[i].manifest);
		int r = parse(&s, NULL, &p, &err);
		check_record_(r == -1, __FILE__, __LINE__, "case %zu (%s) fails", i, cases[i].manifest);
		if (cases[i].error2)
			CHECK_ERROR(err, cases[i].error1, cases[i].error2);
		else
			CHECK_ERROR(err, cases[i].error1);
		launch_plan_clear(&p);
	}

	/* bad configs */
	const struct {
		const char *config, *error1, *error2;
	} configs[] = {
		{ "[]", "image config:1:1: the image config must be a JSON object", NULL },
		{ "{\"architecture\":\"amd64\",\"os\":\"linux\"}",
		  "image config:1:1: the image config has no rootfs.diff_ids "
		  "array",
		  NULL },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:abc\"]}}",
		  "image config: diff_id 1: invalid digest `sha256:abc`", NULL },
		{ "{\"rootfs\":{\"diff_ids\":[7]}}", "image config: diff_id 1: invalid digest `(missing)`", NULL },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha512:00\"]}}", "sha512 digests are not supported (only sha256)",
		  NULL },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]},\n"
		  " \"config\":[]}",
		  "image config:2:2: \"config\" must be an object", NULL },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]},\n"
		  " \"os\":\"linux\",\"architecture\":\"arm64\"}",
		  "the image is for linux/arm64, not linux/amd64 (import it anyway with --platform linux/arm64)",
		  NULL },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]},\n"
		  " \"os\":\"linux\",\"architecture\":\"amd64\"",
		  "image config:", "invalid JSON" },
	};
	put(&s, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\"]}]");
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
		put(&s, "c.json", configs[i].config);
		int r = parse(&s, NULL, &p, &err);
		check_record_(r == -1, __FILE__, __LINE__, "config case %zu fails", i);
		if (configs[i].error2)
			CHECK_ERROR(err, configs[i].error1, configs[i].error2);
		else
			CHECK_ERROR(err, configs[i].error1);
	}

	/* a null config object is allowed; so is a config with no platform */
	put(&s, "c.json",
	    "{\"rootfs\":{\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]},"
	    "\"config\":null}");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_NULL(p.platform);
	launch_plan_clear(&p);

	/* another platform: with --platform, and with a variant-less ask */
	put(&s, "c.json",
	    "{\"rootfs\":{\"diff_ids\":[\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]},"
	    "\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err,
		    "the image is for linux/arm/v7, not linux/amd64 (import it anyway with --platform linux/arm/v7)");
	CHECK_INTEQ(parse(&s, "linux/arm/v7", &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.platform, "linux/arm/v7");
	launch_plan_clear(&p);
	CHECK_INTEQ(parse(&s, "linux/arm", &p, &err), 0);
	CHECK_NO_ERROR(err);
	launch_plan_clear(&p);
	CHECK_INTEQ(parse(&s, "linux/arm/v6", &p, &err), -1);
	CHECK_ERROR(err, "the image is for linux/arm/v7, not linux/arm/v6");
	CHECK_INTEQ(parse(&s, "linux/s390x", &p, &err), -1);
	CHECK_ERROR(err, "the image is for linux/arm/v7, not linux/s390x");
	CHECK_INTEQ(parse(&s, "linux/ar", &p, &err), -1); /* a prefix of the arch is not the arch */
	CHECK_ERROR(err, "not linux/ar");
	source_clear(&s);

	/* neither layout */
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "neither a docker-archive (no manifest.json) nor an OCI image layout (no index.json)",
		    "--rootfs");
}

/* --- OCI layouts --- */

static void test_oci_simple(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 2);
	char cd[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(cfg, strlen(cfg), cd);
	_cleanup_free_ char *man = manifest_json(&s, cfg, 2, OCI_LAYER_GZ);
	_cleanup_free_ char *md =
		desc(&s, OCI_MANIFEST, man, ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}");
	_cleanup_free_ char *idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", md);
	put(&s, "index.json", idx);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.format, "oci");
	CHECK_STREQ(p.digest, cd);
	CHECK_STREQ(p.platform, "linux/amd64");
	CHECK_INTEQ(launch_strv_len(p.tags), 1);
	if (p.tags)
		CHECK_STREQ(p.tags[0], "v1");
	CHECK_INTEQ(p.n_layers, 2);
	for (size_t i = 0; i < p.n_layers && i < 2; i++) {
		_cleanup_free_ char *d = fake_digest((int)i), *dd = fake_digest((int)i + 100);
		_cleanup_free_ char *member = xasprintf("blobs/sha256/%s", d + 7);
		CHECK_STREQ(p.layers[i].digest, d);
		CHECK_STREQ(p.layers[i].member, member);
		CHECK_INTEQ(p.layers[i].size, 1000 + (int)i);
		CHECK_STREQ(p.layers[i].media_type, OCI_LAYER_GZ);
		CHECK_STREQ(p.layers[i].diff_id, dd);
	}
	launch_plan_clear(&p);

	/* Docker's media types, descriptors without mediaType or size */
	_cleanup_free_ char *cd2 = blob(&s, cfg);
	_cleanup_free_ char *l0 = fake_digest(0), *l1 = fake_digest(1);
	_cleanup_free_ char *man2 = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"digest\":\"%s\"},"
		"\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\"},{\"digest\":\"%s\"}]}",
		DOCKER_MANIFEST, cd2, DOCKER_LAYER, l0, l1);
	_cleanup_free_ char *md2 = desc(&s, DOCKER_MANIFEST, man2, NULL);
	_cleanup_free_ char *list =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", DOCKER_LIST, md2);
	_cleanup_free_ char *ld = desc(&s, DOCKER_LIST, list, NULL);
	_cleanup_free_ char *idx2 = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", ld);
	put(&s, "index.json", idx2);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	if (p.n_layers == 2) {
		CHECK_INTEQ(p.layers[0].size, -1);
		CHECK_STREQ(p.layers[0].media_type, DOCKER_LAYER);
		CHECK_NULL(p.layers[1].media_type);
		CHECK_STREQ(p.layers[1].digest, l1);
	}
	CHECK_NULL(p.tags);
	launch_plan_clear(&p);
	source_clear(&s);
}

/* index.json -> nested index of linux/arm64, linux/amd64 and linux/arm/v7
 * manifests (each with a config of its own platform). */
static void build_multiarch(struct mem_source *s, char digests[3][LAUNCH_DIGEST_LEN + 1])
{
	const char *arch[] = { "arm64", "amd64", "arm" }, *var[] = { NULL, NULL, "v7" };
	char *entries = xstrdup("");
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *cfg = config_json(arch[i], var[i], 1);
		launch_sha256_buf(cfg, strlen(cfg), digests[i]);
		_cleanup_free_ char *man = manifest_json(s, cfg, 1, OCI_LAYER_GZ);
		_cleanup_free_ char *plat = var[i] ? xasprintf(",\"variant\":\"%s\"", var[i]) : xstrdup("");
		_cleanup_free_ char *extra =
			xasprintf(",\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"%s}", arch[i], plat);
		_cleanup_free_ char *d = desc(s, OCI_MANIFEST, man, extra);
		char *n = xasprintf("%s%s\n  %s", entries, i ? "," : "", d);
		free(entries);
		entries = n;
	}
	/* an attestation manifest with an unknown platform, as buildx makes */
	_cleanup_free_ char *att = xasprintf(
		"{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\",\"size\":1,\"platform\":{\"architecture\":\"unknown\","
		"\"os\":\"unknown\"}}",
		OCI_MANIFEST, 0);
	_cleanup_free_ char *nested = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s,\n  %s]}",
						OCI_INDEX, entries, att);
	free(entries);
	_cleanup_free_ char *nd = desc(s, OCI_INDEX, nested, NULL);
	_cleanup_free_ char *idx =
		xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", OCI_INDEX, nd);
	put(s, "index.json", idx);
}

static void test_oci_platforms(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	char d[3][LAUNCH_DIGEST_LEN + 1];
	build_multiarch(&s, d);
	const struct {
		const char *want, *platform;
		int which;
	} cases[] = {
		{ NULL, "linux/amd64", 1 },
		{ "linux/amd64", "linux/amd64", 1 },
		{ "linux/arm64", "linux/arm64", 0 },
		{ "linux/arm", "linux/arm/v7", 2 },
		{ "linux/arm/v7", "linux/arm/v7", 2 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = parse(&s, cases[i].want, &p, &err);
		check_record_(r == 0, __FILE__, __LINE__, "platform %s is found", check_str_(cases[i].want));
		CHECK_NO_ERROR(err);
		CHECK_STREQ(p.platform, cases[i].platform);
		CHECK_STREQ(p.digest, d[cases[i].which]);
		CHECK_STREQ(p.format, "oci");
		launch_plan_clear(&p);
	}
	CHECK_INTEQ(parse(&s, "linux/ppc64le", &p, &err), -1);
	CHECK_ERROR(err,
		    "no image for linux/ppc64le (it has: linux/arm64, linux/amd64, linux/arm/v7, unknown/unknown); "
		    "choose one with --platform");
	CHECK_INTEQ(parse(&s, "linux/arm/v6", &p, &err), -1);
	CHECK_ERROR(err, "no image for linux/arm/v6");
	CHECK_INTEQ(parse(&s, "linux/arm64/v8", &p, &err), -1);
	CHECK_ERROR(err, "no image for linux/arm64/v8");
	source_clear(&s);

	/* a platform-less entry before a matching one: the matching one */
	_cleanup_free_ char *c1 = config_json("amd64", NULL, 1), *c2 = config_json("arm64", NULL, 1);
	char want[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(c1, strlen(c1), want);
	_cleanup_free_ char *m1 = manifest_json(&s, c1, 1, OCI_LAYER_GZ), *m2 = manifest_json(&s, c2, 1, OCI_LAYER_GZ);
	_cleanup_free_ char *e2 = desc(&s, OCI_MANIFEST, m2, NULL);
	_cleanup_free_ char *e1 =
		desc(&s, OCI_MANIFEST, m1, ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}");
	_cleanup_free_ char *idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s,%s]}", e2, e1);
	put(&s, "index.json", idx);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.digest, want);
	launch_plan_clear(&p);

	/* unknown entries (signatures, attestations) are skipped */
	_cleanup_free_ char *e1b = desc(&s, OCI_MANIFEST, m1, NULL);
	_cleanup_free_ char *idx2 = xasprintf(
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		"vnd.in-toto+json\",\"digest\":\"sha256:%064d\",\"size\":3},%s]}",
		0, e1b);
	put(&s, "index.json", idx2);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.digest, want);
	launch_plan_clear(&p);

	/* several images without platforms */
	_cleanup_free_ char *idx3 = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s,\n%s]}", e1b, e2);
	put(&s, "index.json", idx3);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "index.json: 2 images and no platforms to tell them apart");

	/* a config without a variant (it is optional) chosen for linux/arm/v7 */
	_cleanup_free_ char *c3 = config_json("arm", NULL, 1);
	_cleanup_free_ char *m3 = manifest_json(&s, c3, 1, OCI_LAYER_GZ);
	_cleanup_free_ char *e3 = desc(&s, OCI_MANIFEST, m3,
				       ",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}");
	_cleanup_free_ char *idx4 = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s,%s]}", e1, e3);
	put(&s, "index.json", idx4);
	CHECK_INTEQ(parse(&s, "linux/arm/v7", &p, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(p.platform, "linux/arm");
	launch_plan_clear(&p);
	CHECK_INTEQ(parse(&s, "linux/arm", &p, &err), 0);
	CHECK_NO_ERROR(err);
	launch_plan_clear(&p);
	source_clear(&s);
}

/* An index.json over DEPTH nested indexes (each one entry, no platform) over a manifest. */
static void build_nested(struct mem_source *s, int depth)
{
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 1);
	_cleanup_free_ char *man = manifest_json(s, cfg, 1, OCI_LAYER_GZ);
	char *d = desc(s, OCI_MANIFEST, man, NULL);
	for (int i = 0; i < depth; i++) {
		_cleanup_free_ char *ix =
			xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", OCI_INDEX, d);
		free(d);
		d = desc(s, OCI_INDEX, ix, NULL);
	}
	_cleanup_free_ char *top = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", d);
	free(d);
	put(s, "index.json", top);
}

static void test_oci_errors(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;

	/* nesting: 4 indexes below index.json are fine, 5 are not */
	build_nested(&s, 4);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	launch_plan_clear(&p);
	source_clear(&s);
	build_nested(&s, 5);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "image indexes nested deeper than 4");
	source_clear(&s);

	/* the config: digest and size mismatches */
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 1);
	_cleanup_free_ char *cd = blob(&s, cfg);
	_cleanup_free_ char *l0 = fake_digest(0);
	_cleanup_free_ char *layer =
		xasprintf("{\"mediaType\":\"" OCI_LAYER_GZ "\",\"digest\":\"%s\",\"size\":10}", l0);
	struct {
		char *manifest;
		const char *error1, *error2;
	} cases[] = {
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}", cd,
			    strlen(cfg) + 1, layer),
		  "image config: size mismatch: the descriptor says", NULL },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[%s]}", l0, layer),
		  "the image config (blobs/sha256/", "is missing from the source" },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:%.60s\"},\"layers\":[%s]}", cd + 7,
			    layer),
		  "manifest config: invalid digest `sha256:", "expected sha256: and 64 hex digits" },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[%s,%s]}", cd, layer,
			    layer),
		  "the image config lists 1 diff_ids for 2 layers", NULL },
		{ xasprintf(
			  "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[{\"digest\":\"sha256:../../"
			  "etc/passwd\"}]}",
			  cd),
		  "manifest layer 1: invalid digest `sha256:../../etc/passwd`", NULL },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[{\"digest\":\"%s\",\n"
			    "\"mediaType\":\"application/x-foo\"}]}",
			    cd, l0),
		  "manifest sha256:", "layer 1 has media type application/x-foo, which launch cannot unpack" },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[%s,\"x\"]}", cd, layer),
		  ":1:", "a layer must be a descriptor object" },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[]}", cd),
		  "\"layers\" must be an array of 1 to 1000 descriptors", NULL },
		{ xasprintf("{\"schemaVersion\":2,\"layers\":[%s]}", layer),
		  "the manifest has no \"config\" descriptor", NULL },
		{ xasprintf("{\"schemaVersion\":1,\"config\":{\"digest\":\"%s\"},\"layers\":[%s]}", cd, layer),
		  "not an image manifest (schemaVersion 2 expected)", NULL },
		{ xasprintf("[{\"schemaVersion\":2}]"), "not an image manifest", NULL },
		{ xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[%s]", cd, layer),
		  "manifest sha256:", "invalid JSON" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *md = desc(&s, OCI_MANIFEST, cases[i].manifest, NULL);
		_cleanup_free_ char *idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", md);
		put(&s, "index.json", idx);
		int r = parse(&s, NULL, &p, &err);
		check_record_(r == -1, __FILE__, __LINE__, "manifest case %zu fails", i);
		if (cases[i].error2)
			CHECK_ERROR(err, cases[i].error1, cases[i].error2);
		else
			CHECK_ERROR(err, cases[i].error1);
		free(cases[i].manifest);
	}

	/* a config blob changed after its digest was taken */
	_cleanup_free_ char *man =
		xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[%s]}", cd, layer);
	_cleanup_free_ char *cname = xasprintf("blobs/sha256/%s", cd + 7);
	put(&s, cname, "{\"rootfs\":{\"diff_ids\":[]}}");
	_cleanup_free_ char *md = desc(&s, OCI_MANIFEST, man, NULL);
	_cleanup_free_ char *idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", md);
	put(&s, "index.json", idx);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "image config: digest mismatch: expected", cd);
	put(&s, cname, cfg);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	launch_plan_clear(&p);

	/* the manifest blob: changed, wrong size, missing, bad digests */
	_cleanup_free_ char *mdig = blob(&s, man);
	_cleanup_free_ char *mname = xasprintf("blobs/sha256/%s", mdig + 7);
	put(&s, mname, "{}");
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "manifest: digest mismatch: expected", mdig, "the source is corrupt");
	put(&s, mname, man);
	_cleanup_free_ char *idx_size =
		xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", mdig, strlen(man) - 1);
	put(&s, "index.json", idx_size);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "manifest: size mismatch: the descriptor says");
	_cleanup_free_ char *other = fake_digest(9);
	_cleanup_free_ char *idx_missing = xasprintf("{\"manifests\":[{\"digest\":\"%s\"}]}", other);
	put(&s, "index.json", idx_missing);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "manifest: blob", other, "is missing from the source");
	s.fail = mname;
	_cleanup_free_ char *idx_ok = xasprintf("{\"manifests\":[{\"digest\":\"%s\"}]}", mdig);
	put(&s, "index.json", idx_ok);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "simulated I/O error");
	s.fail = NULL;
	const struct {
		const char *index, *error1, *error2;
	} idxs[] = {
		{ "{\"manifests\":[{\"digest\":\"sha256:ABCD\"}]}", "manifest: invalid digest `sha256:ABCD`", NULL },
		{ "{\"manifests\":[{\"size\":3}]}", "manifest: invalid digest `(missing)`", NULL },
		{ "{\"manifests\":[{\"digest\":\"sha512:abcd\"}]}", "sha512 digests are not supported", NULL },
		{ "{\"manifests\":[{\"mediaType\":\"" OCI_INDEX "\",\"digest\":\"md5:x\"}]}",
		  "image index: invalid digest `md5:x`", NULL },
		{ "{\"manifests\":[]}", "index.json:1:2: the index lists no image", NULL },
		{ "{\"manifests\":[{\"mediaType\":\"application/vnd.in-toto+json\"}]}",
		  "index.json:1:2: the index lists no image manifest", NULL },
		{ "{\"manifests\":{}}", "index.json:1:1: not an image index (no \"manifests\" array)", NULL },
		{ "[]", "index.json:1:1: not an image index", NULL },
		{ "{\"manifests\":[\n  7]}", "index.json:2:3: an index entry must be a descriptor object", NULL },
		{ "{\n  \"manifests\": [\n    {,\n", "index.json:3:6: invalid JSON", NULL },
		{ "{\"manifests\":[]} x", "index.json:1:", "invalid JSON" },
		{ "", "index.json:", "invalid JSON" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(idxs); i++) {
		put(&s, "index.json", idxs[i].index);
		int r = parse(&s, NULL, &p, &err);
		check_record_(r == -1, __FILE__, __LINE__, "index case %zu fails", i);
		if (idxs[i].error2)
			CHECK_ERROR(err, idxs[i].error1, idxs[i].error2);
		else
			CHECK_ERROR(err, idxs[i].error1);
	}
	source_clear(&s);

	/* a nested index: errors name it */
	_cleanup_free_ char *nested = blob(&s, "{\n\"manifests\":[]}");
	_cleanup_free_ char *top =
		xasprintf("{\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\"}]}", OCI_INDEX, nested);
	put(&s, "index.json", top);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	_cleanup_free_ char *where = xasprintf("image index %.19s:2:1: the index lists no image", nested);
	CHECK_ERROR(err, where);
	source_clear(&s);
}

/* Descriptor fields of the wrong type: refused with the field named, at
 * FILE:LINE:COL, whichever descriptor holds them. */
static void test_descriptor_types(void)
{
	struct mem_source s = { 0 };
	struct launch_error *err = NULL;
	struct launch_image_plan p;
	_cleanup_free_ char *cfg = config_json("amd64", NULL, 1);
	_cleanup_free_ char *cd = blob(&s, cfg);
	_cleanup_free_ char *l0 = fake_digest(0);
	/* a layer descriptor with a field more, or a config descriptor with a
	 * field more (after its digest: JSON, or NULL for the real one) */
	const struct {
		const char *layer, *config, *error1, *error2, *config_digest;
	} mcases[] = {
		{ "\"size\":\"12\"", NULL,
		  ":3:", "manifest layer 1: \"size\" must be a non-negative integer (bytes), not a string", NULL },
		{ "\"size\":-1", NULL,
		  ":3:", "manifest layer 1: \"size\" must be a non-negative integer (bytes), not -1", NULL },
		{ "\"size\":1.5", NULL, ":3:", "\"size\" must be a non-negative integer (bytes), not a number", NULL },
		{ "\"size\":true", NULL, ":3:", "not a boolean", NULL },
		{ "\"size\":null", NULL, ":3:", "not null", NULL },
		{ "\"mediaType\":5", NULL, ":3:", "manifest layer 1: \"mediaType\" must be a string, not an integer",
		  NULL },
		{ NULL, "\"size\":\"12\"",
		  ":2:", "manifest config: \"size\" must be a non-negative integer (bytes), not a string", NULL },
		{ NULL, "\"size\":-5",
		  ":2:", "manifest config: \"size\" must be a non-negative integer (bytes), not -5", NULL },
		{ NULL, "\"mediaType\":[]", ":2:", "manifest config: \"mediaType\" must be a string, not an array",
		  NULL },
		{ NULL, "\"size\":1", ":2:", "manifest config: \"digest\" must be a string, not an object", "{}" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(mcases); i++) {
		_cleanup_free_ char *cdj =
			mcases[i].config_digest ? xstrdup(mcases[i].config_digest) : xasprintf("\"%s\"", cd);
		_cleanup_free_ char *man = xasprintf(
			"{\"schemaVersion\":2,\n\"config\":{\"digest\":%s%s%s},\n"
			"\"layers\":[{\"digest\":\"%s\"%s%s}]}",
			cdj, mcases[i].config ? "," : "", mcases[i].config ? mcases[i].config : "", l0,
			mcases[i].layer ? "," : "", mcases[i].layer ? mcases[i].layer : "");
		_cleanup_free_ char *md = desc(&s, OCI_MANIFEST, man, NULL);
		_cleanup_free_ char *idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", md);
		put(&s, "index.json", idx);
		int r = parse(&s, NULL, &p, &err);
		check_record_(r == -1, __FILE__, __LINE__, "manifest descriptor case %zu fails", i);
		CHECK_ERROR(err, "manifest sha256:", mcases[i].error1, mcases[i].error2);
	}
	/* a size of 0 is a size (an empty blob): checked like any other */
	_cleanup_free_ char *man0 = xasprintf(
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":0},"
		"\"layers\":[{\"digest\":\"%s\",\"size\":0}]}",
		cd, l0);
	_cleanup_free_ char *md0 = desc(&s, OCI_MANIFEST, man0, NULL);
	_cleanup_free_ char *idx0 = xasprintf("{\"manifests\":[%s]}", md0);
	put(&s, "index.json", idx0);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "image config: size mismatch: the descriptor says 0 bytes");

	/* index entries: every one is checked, not only the one chosen */
	_cleanup_free_ char *good = xasprintf(
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[{\"digest\":"
		"\"%s\"}]}",
		cd, l0);
	_cleanup_free_ char *gd = blob(&s, good);
	const struct {
		const char *entry, *error;
	} icases[] = {
		{
			"\"size\":\"12\"",
			"index.json:2:",
		},
		{ "\"size\":-1", "index.json:2:" },
		{ "\"size\":1.5", "index.json:2:" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(icases); i++) {
		_cleanup_free_ char *idx = xasprintf("{\"manifests\":[\n{\"digest\":\"%s\",%s}]}", gd, icases[i].entry);
		put(&s, "index.json", idx);
		CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
		CHECK_ERROR(err, icases[i].error, "index entry 1: \"size\" must be a non-negative integer (bytes)");
	}
	_cleanup_free_ char *idx_mt =
		xasprintf("{\"manifests\":[{\"digest\":\"%s\"},\n{\"mediaType\":7,\"digest\":\"%s\"}]}", gd, gd);
	put(&s, "index.json", idx_mt);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "index.json:2:", "index entry 2: \"mediaType\" must be a string, not an integer");
	_cleanup_free_ char *idx_dg = xasprintf("{\"manifests\":[{\"digest\":7}]}");
	put(&s, "index.json", idx_dg);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), -1);
	CHECK_ERROR(err, "index.json:1:", "index entry 1: \"digest\" must be a string, not an integer");
	/* the same entry with its size right is taken */
	_cleanup_free_ char *idx_ok = xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", gd, strlen(good));
	put(&s, "index.json", idx_ok);
	CHECK_INTEQ(parse(&s, NULL, &p, &err), 0);
	CHECK_NO_ERROR(err);
	launch_plan_clear(&p);
	source_clear(&s);
}

/* --- the files of a source --- */

/* Only regular files are read, and a FIFO never blocks the open: a source
 * in a shared directory is another user's to fill. */
static void test_source_files(void)
{
	_cleanup_free_ char *dir = tu_mkdtemp();
	struct launch_error *err = NULL;
	_cleanup_free_ char *lay = xasprintf("%s/layout", dir);
	tu_mkdir(dir, "layout");
	tu_mkdir(lay, "blobs");
	free(tu_write(lay, "index.json", "{}"));
	free(tu_write(lay, "blobs/file", "data"));
	_cleanup_free_ char *fifo = xasprintf("%s/blobs/fifo", lay), *link = xasprintf("%s/blobs/link", lay);
	_cleanup_free_ char *outside = xasprintf("%s/outside", lay);
	if (mkfifo(fifo, 0600) < 0 || symlink("fifo", link) < 0 || symlink("/blobs/file", outside) < 0)
		tu_die("mkfifo", fifo);
	tu_mkdir(lay, "blobs/dir");

	struct launch_source src;
	CHECK_INTEQ(launch_source_open(lay, &src, &err), 0);
	CHECK_NO_ERROR(err);
	char *data = NULL;
	size_t len = 0;
	CHECK_INTEQ(launch_source_read(&src, "blobs/file", 100, &data, &len, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(data, "data");
	free(data);
	/* a symlink inside the source is followed, and stays inside it */
	CHECK_INTEQ(launch_source_read(&src, "outside", 100, &data, &len, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(data, "data");
	free(data);
	CHECK(launch_source_has(&src, "blobs/fifo")); /* there: refused when read, by name */
	CHECK(!launch_source_has(&src, "blobs/dir"));
	CHECK(!launch_source_has(&src, "blobs/none"));
	CHECK_INTEQ(launch_source_read(&src, "blobs/fifo", 100, &data, &len, &err), -1);
	CHECK_ERROR(err, fifo, ": it is a FIFO, not a regular file");
	CHECK_INTEQ(launch_source_read(&src, "blobs/link", 100, &data, &len, &err), -1);
	CHECK_ERROR(err, link, ": it is a FIFO, not a regular file");
	CHECK_INTEQ(launch_source_read(&src, "blobs/dir", 100, &data, &len, &err), -1);
	CHECK_ERROR(err, "blobs/dir: it is a directory, not a regular file");
	launch_source_close(&src);

	/* a source that is a FIFO, or a symlink given where a file is opened */
	CHECK_INTEQ(launch_source_open(fifo, &src, &err), -1);
	CHECK_ERROR(err, "cannot read ", fifo, ": it is a FIFO, not a regular file");
	CHECK_INTEQ(launch_open_regular(fifo, &err), -1);
	CHECK_ERROR(err, "it is a FIFO");
	CHECK_INTEQ(launch_open_regular(link, &err), -1);
	CHECK_ERROR(err, link, "it is a symlink");
	_cleanup_free_ char *file = xasprintf("%s/blobs/file", lay);
	int fd = launch_open_regular(file, &err);
	CHECK(fd >= 0);
	CHECK_NO_ERROR(err);
	if (fd >= 0) {
		CHECK_INTEQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
		close(fd);
	}

	/* a tar source: read through the fd opened first, also once its path
	 * names something else */
	_cleanup_free_ char *tar = xasprintf("%s/src.tar", dir);
	char block[3 * 512 + 1024];
	memset(block, 0, sizeof(block));
	memcpy(block, "index.json", 10);
	memcpy(block + 100, "0000644", 8);
	memcpy(block + 108, "0000000", 8);
	memcpy(block + 116, "0000000", 8);
	memcpy(block + 124, "00000000002", 12);
	memcpy(block + 136, "15121523000", 12);
	block[156] = '0';
	memcpy(block + 257, "ustar", 6);
	memcpy(block + 263, "00", 2);
	memset(block + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < 512; i++)
		sum += (unsigned char)block[i];
	snprintf(block + 148, 8, "%06o", sum);
	memcpy(block + 512, "{}", 2);
	int tfd = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tfd < 0 || launch_write_all(tfd, block, sizeof(block)) < 0)
		tu_die("write", tar);
	close(tfd);
	CHECK_INTEQ(launch_source_open(tar, &src, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(launch_source_has(&src, "index.json"));
	if (unlink(tar) < 0 || mkfifo(tar, 0600) < 0)
		tu_die("mkfifo", tar);
	CHECK_INTEQ(launch_source_read(&src, "index.json", 100, &data, &len, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(data, "{}");
	free(data);
	launch_source_close(&src);
	tu_rm_rf(dir);
}

/* --- the runtime config --- */

static void test_runtime_config(void)
{
	json_error_t jerr;
	json_t *img = json_loads(
		"{\"architecture\":\"amd64\",\"config\":{"
		"\"Env\":[\"A=1\",\"B=2\"],\"Entrypoint\":[\"/init\"],\"Cmd\":[\"sh\",\"-c\",\"x\"],"
		"\"WorkingDir\":\"/w\",\"User\":\"1000:1000\",\"Labels\":{\"a\":\"1\",\"n\":2,\"b\":\"\"},"
		"\"ExposedPorts\":{\"80/tcp\":{}},\"Volumes\":{\"/v\":{}},\"StopSignal\":\"SIGTERM\","
		"\"Healthcheck\":{\"Test\":[\"x\"]},\"OnBuild\":[\"RUN x\"],\"Shell\":[\"/bin/sh\"]},"
		"\"rootfs\":{}}",
		0, &jerr);
	CHECK(img != NULL);
	json_t *rc = launch_plan_runtime_config(img);
	CHECK(json_is_object(rc));
	CHECK_INTEQ(json_object_size(rc), 6);
	json_t *env = json_object_get(rc, "Env");
	CHECK(json_is_array(env) && json_array_size(env) == 2);
	CHECK_STREQ(json_string_value(json_array_get(env, 1)), "B=2");
	CHECK_STREQ(json_string_value(json_array_get(json_object_get(rc, "Entrypoint"), 0)), "/init");
	CHECK_INTEQ(json_array_size(json_object_get(rc, "Cmd")), 3);
	CHECK_STREQ(json_string_value(json_object_get(rc, "WorkingDir")), "/w");
	CHECK_STREQ(json_string_value(json_object_get(rc, "User")), "1000:1000");
	json_t *labels = json_object_get(rc, "Labels");
	CHECK(json_is_object(labels) && json_object_size(labels) == 2); /* the integer label is dropped */
	CHECK_STREQ(json_string_value(json_object_get(labels, "a")), "1");
	CHECK_STREQ(json_string_value(json_object_get(labels, "b")), "");
	CHECK_NULL(json_object_get(rc, "ExposedPorts"));
	CHECK_NULL(json_object_get(rc, "Shell"));
	json_decref(rc);
	json_decref(img);

	/* wrong types are left out, not errors */
	img = json_loads(
		"{\"config\":{\"Env\":\"A=1\",\"Entrypoint\":[\"/init\",3],\"Cmd\":null,"
		"\"WorkingDir\":\"\",\"User\":7,\"Labels\":[\"a\"]}}",
		0, &jerr);
	CHECK(img != NULL);
	rc = launch_plan_runtime_config(img);
	CHECK(json_is_object(rc) && json_object_size(rc) == 0);
	json_decref(rc);
	json_decref(img);

	/* no config at all, a config that is not an object, NULL */
	img = json_loads("{\"config\":[1]}", 0, &jerr);
	rc = launch_plan_runtime_config(img);
	CHECK(json_is_object(rc) && json_object_size(rc) == 0);
	json_decref(rc);
	json_decref(img);
	rc = launch_plan_runtime_config(NULL);
	CHECK(json_is_object(rc) && json_object_size(rc) == 0);
	json_decref(rc);

	/* empty lists are kept (an empty Entrypoint clears the image's) */
	img = json_loads("{\"config\":{\"Entrypoint\":[],\"Labels\":{}}}", 0, &jerr);
	rc = launch_plan_runtime_config(img);
	CHECK(json_is_array(json_object_get(rc, "Entrypoint")) &&
	      json_array_size(json_object_get(rc, "Entrypoint")) == 0);
	CHECK(json_is_object(json_object_get(rc, "Labels")));
	json_decref(rc);
	json_decref(img);
}

/* --- member names --- */

static void test_member_normalize(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
		{ "a", "a" },	{ "./a", "a" },	    { "a//b", "a/b" },	  { "./a/./b/", "a/b" }, { ".//a", "a" },
		{ ".", "" },	{ "", "" },	    { "a/..b", "a/..b" }, { "...", "..." },	 { "/a", NULL },
		{ "..", NULL }, { "a/../b", NULL }, { "a/..", NULL },	  { "./../a", NULL },	 { "//a", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = launch_member_normalize(cases[i].in);
		if (cases[i].out)
			CHECK_STREQ(n, cases[i].out);
		else
			check_record_(n == NULL, __FILE__, __LINE__,
				      "launch_member_normalize(\"%s\") is NULL (got \"%s\")", cases[i].in,
				      check_str_(n));
		free(n);
	}
}

static void test_digest(void)
{
	char d[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf("", 0, d);
	CHECK_STREQ(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	launch_sha256_buf("abc", 3, d);
	CHECK_STREQ(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	struct launch_sha256 *h = launch_sha256_new();
	launch_sha256_update(h, "a", 1);
	launch_sha256_update(h, NULL, 0);
	launch_sha256_update(h, "bc", 2);
	launch_sha256_final(h, d);
	CHECK_STREQ(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	launch_sha256_final(h, d); /* reset: the empty digest */
	CHECK_STREQ(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	launch_sha256_free(h);
	launch_sha256_free(NULL);
	CHECK(launch_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(!launch_digest_valid("sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(!launch_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
	CHECK(!launch_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"));
	CHECK(!launch_digest_valid("sha256e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"));
	CHECK(!launch_digest_valid(NULL));
	CHECK(!launch_digest_valid(""));
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_digest_check("sha256:xyz", "layer 2", &err), -1);
	CHECK_ERROR(err, "layer 2: invalid digest `sha256:xyz` (expected sha256: and 64 hex digits)");
	CHECK_INTEQ(launch_digest_check(NULL, "layer 3", &err), -1);
	CHECK_ERROR(err, "layer 3: invalid digest `(missing)`");
	CHECK_INTEQ(launch_digest_check("sha512:00", "x", &err), -1);
	CHECK_ERROR(err, "x: sha512 digests are not supported (only sha256): `sha512:00`");
	CHECK_INTEQ(launch_digest_check(d, "x", &err), 0);
	CHECK_NO_ERROR(err);
}

int main(void)
{
	test_docker_classic();
	test_docker_oci_style();
	test_docker_errors();
	test_oci_simple();
	test_oci_platforms();
	test_oci_errors();
	test_descriptor_types();
	test_source_files();
	test_runtime_config();
	test_member_normalize();
	test_digest();
	return check_done();
}
