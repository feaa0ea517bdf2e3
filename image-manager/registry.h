/* SPDX-License-Identifier: Apache-2.0 */
/* A client of the OCI distribution API (registries: Docker Hub, NGC,
 * GitLab, Harbor, a site's own) over libcurl: references, manifests and
 * blobs, the bearer-token and basic authentication flows, credentials in
 * docker's config.json format, TLS verified against the system's CAs and the
 * site's, retries with back-off and resumed downloads. */
#ifndef LAUNCH_REGISTRY_H
#define LAUNCH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "store.h" /* launch_registry_ref */

struct launch_registry;

int launch_registry_open(const struct launch_config *c, const char *registry, struct launch_registry **out,
			 struct launch_error **err);
void launch_registry_close(struct launch_registry *r);

/* GET a manifest or index of REPO by tag or digest: its bytes, media type
 * and digest (checked against REF when REF is a digest). */
int launch_registry_manifest(struct launch_registry *r, const char *repo, const char *ref, char **body, size_t *len,
			     char **media_type, char *digest, struct launch_error **err);

/* Download blob DIGEST of REPO (SIZE bytes, -1 unknown) into the
 * content-addressed cache directory CACHE (CACHE/sha256/HEX), resuming a
 * partial download, retrying with back-off, checking the digest as it
 * streams. Concurrent calls for one blob, from any process, download it
 * once. ON_BYTES (may be NULL) is told the bytes of this blob so far. */
int launch_registry_blob(struct launch_registry *r, const char *repo, const char *digest, int64_t size,
			 const char *cache, void (*on_bytes)(void *arg, uint64_t bytes), void *arg,
			 struct launch_error **err);

/* Check USER and PASSWORD against REGISTRY (GET /v2/ with either flow). */
int launch_registry_login_check(const struct launch_config *c, const char *registry, const char *user,
				const char *password, struct launch_error **err);

/* --- credentials (docker's config.json "auths" format) --- */

/* launch's own file: $XDG_CONFIG_HOME/launch/auth.json (default
 * ~/.config/launch/auth.json), mode 0600. ~/.docker/config.json is read
 * after it. */
char *launch_auth_file(void);
int launch_auth_store(const char *registry, const char *user, const char *password, struct launch_error **err);
/* 1 when there was nothing to remove. */
int launch_auth_remove(const char *registry, struct launch_error **err);
/* The credentials for REGISTRY, or 1 when none are known. */
int launch_auth_find(const char *registry, char **user, char **password);
/* Use the credentials of USER for R (an enroot reference's USER@): those
 * `launch login --username USER` stored for R's registry. */
int launch_registry_use_user(struct launch_registry *r, const char *user, struct launch_error **err);

#endif
