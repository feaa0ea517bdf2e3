/* SPDX-License-Identifier: Apache-2.0 */
/* From an import source to a plan: which config and which layers, in which
 * order, with which digests. Reads a docker-archive's manifest.json (classic
 * and Docker >= 25 layouts) or an OCI layout's index.json, following nested
 * indexes and choosing the platform. Every JSON document is hostile: types,
 * digests and member paths are checked, and errors carry FILE:LINE:COLUMN. */
#ifndef LAUNCH_MANIFEST_H
#define LAUNCH_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

struct launch_layer_desc {
	char *member;	  /* where the blob is in the source */
	char *digest;	  /* expected blob digest; NULL when the format gives none */
	int64_t size;	  /* expected size; -1 when unknown */
	char *media_type; /* NULL when unknown */
	char *diff_id;	  /* expected digest of the uncompressed tar (from the config) */
};

struct launch_image_plan {
	const char *format;		  /* "docker-archive" or "oci" */
	char *digest;			  /* the config's digest: the image's identity */
	json_t *config;			  /* the whole image config */
	struct launch_layer_desc *layers; /* bottom first */
	size_t n_layers;
	char *platform; /* "OS/ARCH[/VARIANT]" of the config */
	char **tags;	/* RepoTags of a docker-archive, or the OCI ref.name */
};

/* The default platform when none is asked for. */
#define LAUNCH_DEFAULT_PLATFORM "linux/amd64"

/* PLATFORM: "OS/ARCH[/VARIANT]", or NULL for the default. */
int launch_plan_load(const struct launch_source *src, const char *platform, struct launch_image_plan *plan,
		     struct launch_error **err);
/* The same for a source holding several images: SELECT (NULL: the only
 * one) names the image: for an OCI layout, its tag (the index entry's
 * org.opencontainers.image.ref.name, or the tag part of a NAME:TAG there);
 * for a docker-archive, one of its RepoTags (REPO:TAG, docker.io/ and
 * library/ optional, :latest by default) or @N, its place in manifest.json
 * from 0. A source of several images without SELECT is an error that lists
 * them. */
int launch_plan_load_select(const struct launch_source *src, const char *platform, const char *select,
			    struct launch_image_plan *plan, struct launch_error **err);
/* The same from documents in memory, for tests and the fuzzer: READ returns
 * member NAME of the source. */
typedef int (*launch_member_reader)(void *arg, const char *name, char **data, size_t *len, struct launch_error **err);
int launch_plan_parse(launch_member_reader read, void *arg, const char *platform, struct launch_image_plan *plan,
		      struct launch_error **err);
int launch_plan_parse_select(launch_member_reader read, void *arg, const char *platform, const char *select,
			     struct launch_image_plan *plan, struct launch_error **err);
void launch_plan_clear(struct launch_image_plan *plan);

/* The subset of an image config's "config" object that the store keeps:
 * Env, Entrypoint, Cmd, WorkingDir, User and Labels, type-checked. */
json_t *launch_plan_runtime_config(json_t *image_config);

#endif
