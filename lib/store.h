/* SPDX-License-Identifier: Apache-2.0 */
/* Image stores: the user's (read-write) and the site's (read-only), each a
 * directory
 *   index.json          {"version":1, "images":{DIGEST:{...}}, "tags":{"NAME:TAG":DIGEST}}
 *   images/HEX.sqfs     one squashfs file per image, named by its digest
 *   tmp/                imports in progress, each file flock'ed by its writer
 *   lock                flock'ed (exclusive) by every change of the index
 * Readers never lock: the index is only ever replaced whole by rename(2).
 * Writers hold the lock from reading the index to renaming the new one, so
 * concurrent imports, tags and removals serialise, and a writer killed at any
 * point leaves the previous index, plus files that the next writer removes
 * (an unlocked temporary, an image file no index entry names).
 *
 * The order of each change keeps every state in between valid:
 *   add:    the file is renamed into images/, then the index names it;
 *   remove: the index drops it, then its file is unlinked; except on a
 *           full disk (ENOSPC, EDQUOT), where no new index can be written
 *           until some space is free: then the file goes first and the index
 *           after, so that removing images always works.
 * So an index entry whose image file is missing is an image removed there,
 * killed (or still short of space) before its index was written: readers
 * treat it as gone, never as a damaged store, and the next writer drops it
 * (with the tags naming it). An image file no entry names is one added and
 * killed before its index was written: the next writer removes it.
 *
 * Only jansson: the SPANK plugin resolves images through this file too;
 * writing images is the image manager's (image-manager/). */
#ifndef LAUNCH_STORE_H
#define LAUNCH_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* What users write for an image: NAME[:TAG] (TAG defaults to "latest") or
 * @DIGEST-PREFIX (hex digits of the sha256, at least 4, optionally after
 * "sha256:"). */
struct launch_ref {
	char *name; /* NULL for a digest reference */
	char *tag;
	char *digest; /* the hex prefix, for @ references */
};
int launch_ref_parse(const char *s, struct launch_ref *out, struct launch_error **err);
void launch_ref_clear(struct launch_ref *r);
/* True when S is syntactically a store reference (not a path). */
bool launch_ref_looks_like(const char *s);

/* docker://[REGISTRY/]REPO[:TAG|@sha256:DIGEST], docker's defaults: no
 * registry is Docker Hub (registry-1.docker.io), whose one-component
 * repositories are under library/; no tag is latest. */
struct launch_registry_ref {
	char *user;	/* USER@ of an enroot reference: whose credentials (NULL: any) */
	char *registry; /* host[:port] to connect to */
	char *repo;
	char *tag;    /* NULL when pinned by digest */
	char *digest; /* "sha256:HEX" or NULL */
};
/* S with or without the docker:// prefix: [REGISTRY/]REPOSITORY[:TAG][@DIGEST],
 * or as enroot and pyxis write it, [USER@][REGISTRY#]REPOSITORY[:TAG]. */
int launch_registry_ref_parse(const char *s, struct launch_registry_ref *out, struct launch_error **err);
/* The same with DEFAULT_REGISTRY (HOST[:PORT], NULL: Docker Hub) for a
 * reference that names no registry (the config's default_registry). */
int launch_registry_ref_parse_with(const char *s, const char *default_registry, struct launch_registry_ref *out,
				   struct launch_error **err);
void launch_registry_ref_clear(struct launch_registry_ref *r);
/* "REGISTRY/REPO:TAG" or "...@DIGEST", for messages. */
char *launch_registry_ref_string(const struct launch_registry_ref *r);
/* The name a pulled image gets by default: REPO:TAG with Docker Hub's
 * library/ dropped, the registry kept otherwise (e.g. nvcr.io/nvidia/x:1);
 * REPO:sha256-HEX for a reference pinned by digest. */
char *launch_registry_ref_local_name(const struct launch_registry_ref *r);

/* The host to reach for registry R: Docker Hub's other names (docker.io,
 * index.docker.io, hub.docker.com) are registry-1.docker.io. */
const char *launch_registry_host(const char *r);

/* Is S a registry reference: docker://..., or enroot's [USER@][REGISTRY#]IMAGE
 * (with a # or a USER@)? */
bool launch_registry_ref_is(const char *s);
/* Is TAG (the part after NAME:) the one an image pulled by digest gets,
 * sha256-HEX (launch_registry_ref_local_name)? */
bool launch_ref_tag_is_digest(const char *tag);

struct launch_store {
	char *root;
	bool site; /* read-only */
};

struct launch_store_image {
	char *digest;	 /* "sha256:HEX" */
	char *file;	 /* absolute path of the squashfs */
	int64_t size;	 /* bytes */
	int64_t created; /* seconds since the epoch, when it was stored */
	char *source;	 /* what it was imported or pulled from */
	json_t *config;	 /* {Env, Entrypoint, Cmd, WorkingDir, User, Labels}, each optional */
	char **tags;	 /* "NAME:TAG" entries naming it, sorted */
	char *store;	 /* root of the store holding it */
	bool site;
};
void launch_store_image_clear(struct launch_store_image *i);

/* The user's store (from the config) and the site's stores, in search order. */
int launch_stores(const struct launch_config *c, struct launch_store **out, size_t *n, struct launch_error **err);
void launch_stores_free(struct launch_store *v, size_t n);

/* Find REF in STORES, first match in order. ENOENT-like failures have a
 * message that names where it looked. */
int launch_stores_find(const struct launch_store *stores, size_t n, const struct launch_ref *ref,
		       struct launch_store_image *out, struct launch_error **err);
/* Every image of STORE. */
int launch_store_list(const struct launch_store *store, struct launch_store_image **out, size_t *n,
		      struct launch_error **err);

/* --- writing (the user's store only) --- */

/* Create the store's directories (0700 root) if missing. */
int launch_store_prepare(const struct launch_store *store, struct launch_error **err);
/* A new temporary file in STORE/tmp, created empty and flock'ed for as long
 * as *LOCK_FD stays open; the caller writes PATH and removes it on failure. */
int launch_store_tmpfile(const struct launch_store *store, const char *suffix, char **path, int *lock_fd,
			 struct launch_error **err);
/* Move TMP_FILE (a finished squashfs) into the store as image IMG->digest
 * (with IMG's size, source and config; created is set here) and point each
 * "NAME:TAG" of TAGS at it. An image already stored with that digest is
 * kept, and TMP_FILE removed. */
int launch_store_add(const struct launch_store *store, const char *tmp_file, const struct launch_store_image *img,
		     char *const *tags, struct launch_error **err);
/* Point NEW_TAG ("NAME[:TAG]") at the image REF names. */
int launch_store_tag(const struct launch_store *store, const struct launch_ref *ref, const char *new_tag,
		     struct launch_error **err);
/* Remove tag REF; the image goes too when no tag is left (an @ reference
 * removes the image and all its tags). *REMOVED_IMAGE tells which. Works
 * on a full disk when an image goes (see above). */
int launch_store_remove(const struct launch_store *store, const struct launch_ref *ref, bool *removed_image,
			struct launch_error **err);
/* Remove leftovers of killed writers: unlocked temporaries, image files no
 * entry names, entries whose image file is gone. Takes the store lock;
 * silent, best effort. */
void launch_store_gc(const struct launch_store *store);
/* When *ERR is a full disk or quota (errno ENOSPC or EDQUOT), add where to
 * make room (STORE, and how) unless it says so already (its kind is
 * LAUNCH_ERR_NO_SPACE, which it then gets). Returns -1. */
int launch_store_space_hint(const struct launch_store *store, struct launch_error **err);

/* "NAME:TAG" for NAME[:TAG] (validated); NULL with an error when invalid. */
char *launch_ref_canonical(const char *s, struct launch_error **err);

#endif
