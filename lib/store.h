/* SPDX-License-Identifier: Apache-2.0 */
/* Image stores: the user's (read-write) and the site's (read-only), each a
 * directory
 *   index.json          {"version":1, "images":{DIGEST:{...}}, "tags":{"NAME:TAG":DIGEST}}
 *   images/HEX.sqfs     one squashfs file per image, named by its digest
 *   tmp/                imports in progress, each file flock'ed by its writer
 *   lock                flock'ed (exclusive) by every change of the index
 *   blobs/              the pull's blob cache: sha256/HEX, partial/HEX (a
 *                       download, flock'ed by its writer)
 *   locks/              blob-cache (shared by every pull, exclusive for a
 *                       clean-up of the cache), build-cache (the same for
 *                       launch build), HEX (one flattening per image)
 *   build-cache/        launch build's steps (image-manager/build.h)
 * Each image file is also a use marker: every container running it holds a
 * shared flock on it for as long as it runs (launch_store_use), and an
 * image is removed only under an exclusive one, taken without waiting; a
 * killed container's lock goes with it.
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
	json_t *meta;	 /* what else is known of where it came from (a SIF's definition file), or NULL */
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
/* The same as an import or pull points a tag: the image NEW_TAG named
 * before goes when no tag is left and no container uses it (else it stays,
 * untagged, until 'launch prune'). */
int launch_store_retag(const struct launch_store *store, const struct launch_ref *ref, const char *new_tag,
		       struct launch_error **err);

enum launch_store_removal {
	LAUNCH_STORE_UNTAGGED,	  /* the tag went; other tags still name the image */
	LAUNCH_STORE_REMOVED,	  /* the image went */
	LAUNCH_STORE_KEPT_IN_USE, /* the last tag went; a container uses the image, which stays untagged */
};
/* Remove tag REF; the image goes too when no tag is left, unless a
 * container uses it (an @ reference removes the image and all its tags,
 * and fails when it is in use). *WHAT tells which. Works on a full disk
 * when an image goes (see above). */
int launch_store_remove(const struct launch_store *store, const struct launch_ref *ref, enum launch_store_removal *what,
			struct launch_error **err);
/* Remove leftovers of killed writers: unlocked temporaries, image files no
 * entry names, entries whose image file is gone. Takes the store lock;
 * silent, best effort. */
void launch_store_gc(const struct launch_store *store);
/* When *ERR is a full disk or quota (errno ENOSPC or EDQUOT), add where to
 * make room (STORE, and how) unless it says so already (its kind is
 * LAUNCH_ERR_NO_SPACE, which it then gets). Returns -1. */
int launch_store_space_hint(const struct launch_store *store, struct launch_error **err);

/* --- use markers --- */

/* Mark image FILE as used for as long as the returned descriptor stays open
 * (a shared flock, close-on-exec). Fails when the file was removed while
 * this waited (a removal holds the exclusive lock while it unlinks). A file
 * system without flock gives a descriptor without the lock. */
int launch_store_use(const char *file, struct launch_error **err);
/* Does a running container use image FILE (a shared lock held on it)? */
bool launch_store_in_use(const char *file);

/* --- clean-up and usage --- */

enum launch_prune_kind {
	LAUNCH_PRUNE_IMAGE,   /* an image: untagged, or (--all) not used */
	LAUNCH_PRUNE_BLOB,    /* a blob of the pull cache */
	LAUNCH_PRUNE_PARTIAL, /* an unfinished download or import */
	LAUNCH_PRUNE_BUILD,   /* launch build's step cache, as one item */
};
struct launch_prune_item {
	enum launch_prune_kind kind;
	char *name; /* digest, or the file's name */
	int64_t bytes;
};
struct launch_prune_report {
	struct launch_prune_item *items; /* what was (with DRY_RUN: would be) removed */
	size_t n;
	int64_t bytes;
	char **kept; /* why something was left: "NAME: in use by a running container", ... */
};
void launch_prune_report_clear(struct launch_prune_report *r);
enum {
	LAUNCH_PRUNE_ALL = 1 << 0,     /* tagged images too, when no container uses them */
	LAUNCH_PRUNE_DRY_RUN = 1 << 1, /* remove nothing, report what would go */
};
/* Remove untagged images (all with LAUNCH_PRUNE_ALL) that no container
 * uses, the pull's blob cache (unless a pull is running), the build cache
 * (unless a build is running) and the
 * temporaries of downloads and imports that are not running. Works on a
 * full disk. */
int launch_store_prune(const struct launch_store *store, unsigned flags, struct launch_prune_report *out,
		       struct launch_error **err);

/* What the user's store holds, in bytes on disk. */
struct launch_store_usage {
	size_t images, untagged, in_use;
	int64_t images_bytes, untagged_bytes, in_use_bytes;
	int64_t images_reclaimable; /* untagged and not in use: what 'launch prune' frees */
	size_t blobs;
	int64_t blobs_bytes;
	size_t partials, partials_active; /* active: a download or import runs */
	int64_t partials_bytes, partials_active_bytes;
	size_t build_steps; /* launch build's cached steps */
	int64_t build_bytes;
};
int launch_store_usage(const struct launch_store *store, struct launch_store_usage *out, struct launch_error **err);

/* The pull's blob cache (STORE/blobs): a pull holds it shared for as long
 * as it runs (WAIT: until a clean-up is done); a clean-up takes it
 * exclusive without waiting (returns -2, no error, when a pull runs). */
int launch_store_cache_lock(const struct launch_store *store, bool exclusive, struct launch_error **err);
/* The same for launch build's step cache (STORE/build-cache): every build
 * holds it shared; prune takes it exclusive without waiting. */
int launch_store_build_cache_lock(const struct launch_store *store, bool exclusive, struct launch_error **err);
/* Shrink the blob cache to at most MAX bytes, least recently used blobs
 * first (a blob's mtime is its last use). Only when no pull runs; *FREED
 * (may be NULL) gets the bytes removed. */
int launch_store_cache_trim(const struct launch_store *store, int64_t max, int64_t *freed, struct launch_error **err);
/* Mark cached blob DIGEST (sha256:HEX) as used now, for the trim's order. */
void launch_store_cache_touch(const struct launch_store *store, const char *digest);

/* "NAME:TAG" for NAME[:TAG] (validated); NULL with an error when invalid. */
char *launch_ref_canonical(const char *s, struct launch_error **err);

#endif
