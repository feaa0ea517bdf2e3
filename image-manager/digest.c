/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 digests (see digest.h). */
#include "digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

struct launch_sha256 {
	EVP_MD_CTX *ctx;
};

struct launch_sha256 *launch_sha256_new(void)
{
	struct launch_sha256 *h = xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fputs("launch: cannot initialise SHA-256 (OpenSSL)\n", stderr);
		abort();
	}
	return h;
}

void launch_sha256_update(struct launch_sha256 *h, const void *data, size_t n)
{
	if (n)
		EVP_DigestUpdate(h->ctx, data, n);
}

void launch_sha256_final(struct launch_sha256 *h, char *out)
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void launch_sha256_free(struct launch_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void launch_sha256_buf(const void *data, size_t n, char *out)
{
	struct launch_sha256 *h = launch_sha256_new();
	launch_sha256_update(h, data, n);
	launch_sha256_final(h, out);
	launch_sha256_free(h);
}

bool launch_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != LAUNCH_DIGEST_LEN)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int launch_digest_check(const char *d, const char *what, struct launch_error **err)
{
	if (launch_digest_valid(d))
		return 0;
	if (d && !strncmp(d, "sha512:", 7))
		return launch_error_msg(err, "%s: sha512 digests are not supported (only sha256): `%s`", what, d);
	return launch_error_msg(err, "%s: invalid digest `%s` (expected sha256: and 64 hex digits)", what,
				d ? d : "(missing)");
}
