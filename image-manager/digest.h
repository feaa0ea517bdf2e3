/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 digests of image blobs, in the OCI "sha256:HEX" form, computed
 * incrementally while a blob streams by (OpenSSL's EVP interface). */
#ifndef LAUNCH_DIGEST_H
#define LAUNCH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define LAUNCH_DIGEST_LEN 71 /* "sha256:" + 64 hex digits */

struct launch_sha256;

struct launch_sha256 *launch_sha256_new(void);
void launch_sha256_update(struct launch_sha256 *h, const void *data, size_t n);
/* Finish into OUT ("sha256:HEX", LAUNCH_DIGEST_LEN + 1 bytes); H is reset. */
void launch_sha256_final(struct launch_sha256 *h, char *out);
void launch_sha256_free(struct launch_sha256 *h);
/* Digest of a whole buffer. */
void launch_sha256_buf(const void *data, size_t n, char *out);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. */
bool launch_digest_valid(const char *d);
/* Check D; the error names WHAT ("layer 2 of the manifest") and the fix. */
int launch_digest_check(const char *d, const char *what, struct launch_error **err);

#endif
