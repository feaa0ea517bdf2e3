/* SPDX-License-Identifier: Apache-2.0 */
/* The registry client (see registry.h).
 *
 * Authentication follows the registry's challenge: a 401 with
 * `WWW-Authenticate: Bearer realm=R,service=S,scope=X` sends us to R for a
 * token (anonymously, or with the stored credentials as Basic auth); one
 * with `Basic` takes the credentials directly. Tokens are kept, with their
 * expiry, in RUNTIME_DIR/registry-tokens.json (0600), so that the commands
 * of a job share them. Several threads may use one client: the token state
 * is under a mutex, and every request has its own curl handle. */
#define _GNU_SOURCE
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#define DOCKER_HUB "registry-1.docker.io"
#define DOC_MAX (4u << 20)
#define MAX_RATE_WAIT_S 60

static const char accept_manifests[] =
	"Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/* --- credentials --- */

char *launch_auth_file(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	if (x && x[0] == '/')
		return xasprintf("%s/launch/auth.json", x);
	const char *home = getenv("HOME");
	return xasprintf("%s/.config/launch/auth.json", home && *home ? home : "/nonexistent");
}

/* docker keys Docker Hub's credentials by its v1 index URL */
static const char *auth_key(const char *registry)
{
	return !strcmp(registry, DOCKER_HUB) || !strcmp(registry, "docker.io") ? "https://index.docker.io/v1/"
									       : registry;
}

static char *b64(const void *data, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

static int auth_from_file(const char *file, const char *registry, char **user, char **password)
{
	json_error_t jerr;
	json_t *j = json_load_file(file, 0, &jerr);
	if (!j)
		return 1;
	json_t *e = json_object_get(json_object_get(j, "auths"), auth_key(registry));
	if (!e && strcmp(auth_key(registry), registry))
		e = json_object_get(json_object_get(j, "auths"), registry);
	const char *a = json_string_value(json_object_get(e, "auth"));
	int ret = 1;
	if (a && *a) {
		size_t n = strlen(a);
		unsigned char *dec = xmalloc(n + 1);
		int m = EVP_DecodeBlock(dec, (const unsigned char *)a, (int)n);
		if (m > 0) {
			while (m > 0 && dec[m - 1] == '\0')
				m--; /* padding */
			dec[m] = '\0';
			char *colon = strchr((char *)dec, ':');
			if (colon) {
				*user = xstrndup((char *)dec, (size_t)(colon - (char *)dec));
				*password = xstrdup(colon + 1);
				ret = 0;
			}
		}
		free(dec);
	}
	json_decref(j);
	return ret;
}

int launch_auth_find(const char *registry, char **user, char **password)
{
	_cleanup_free_ char *own = launch_auth_file();
	if (auth_from_file(own, registry, user, password) == 0)
		return 0;
	const char *home = getenv("HOME");
	_cleanup_free_ char *docker = xasprintf("%s/.docker/config.json", home && *home ? home : "/nonexistent");
	return auth_from_file(docker, registry, user, password);
}

static int auth_write(json_t *j, const char *file, struct launch_error **err)
{
	_cleanup_free_ char *dir = xstrdup(file);
	*strrchr(dir, '/') = '\0';
	_cleanup_free_ char *parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	mkdir(parent, 0700);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create %s", dir);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", file, (int)getpid());
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -1 : launch_write_all(fd, text, strlen(text));
	int e = errno;
	free(text);
	if (fd >= 0) {
		fchmod(fd, 0600);
		close(fd);
	}
	if (r < 0 || rename(tmp, file) < 0) {
		if (r == 0)
			e = errno;
		unlink(tmp);
		return launch_error_set(err, e, "cannot write %s", file);
	}
	return 0;
}

int launch_auth_store(const char *registry, const char *user, const char *password, struct launch_error **err)
{
	_cleanup_free_ char *file = launch_auth_file();
	json_error_t jerr;
	json_t *j = json_load_file(file, 0, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	if (!json_is_object(json_object_get(j, "auths")))
		json_object_set_new(j, "auths", json_object());
	_cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
	_cleanup_free_ char *enc = b64(pair, strlen(pair));
	json_object_set_new(json_object_get(j, "auths"), auth_key(registry), json_pack("{s:s}", "auth", enc));
	/* and as USER@REGISTRY, for references that name the user */
	_cleanup_free_ char *user_key = xasprintf("%s@%s", user, auth_key(registry));
	json_object_set_new(json_object_get(j, "auths"), user_key, json_pack("{s:s}", "auth", enc));
	int r = auth_write(j, file, err);
	json_decref(j);
	return r;
}

int launch_auth_remove(const char *registry, struct launch_error **err)
{
	_cleanup_free_ char *file = launch_auth_file();
	json_error_t jerr;
	json_t *j = json_load_file(file, 0, &jerr);
	json_t *auths = j ? json_object_get(j, "auths") : NULL;
	if (!auths || !json_object_get(auths, auth_key(registry))) {
		json_decref(j);
		return 1;
	}
	json_object_del(auths, auth_key(registry));
	int r = auth_write(j, file, err);
	json_decref(j);
	return r;
}

/* --- the client --- */

struct launch_registry {
	char *host;
	char *base;    /* https://HOST or http://HOST */
	bool verify;   /* TLS peer verification */
	char *ca_file; /* the site's CA bundle, or NULL */
	char *user, *password;
	int retries;
	char *token_cache;
	pthread_mutex_t lock; /* the token state below */
	char *token, *token_scope;
	bool basic;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* In the site's insecure_registries: "HOST" (TLS, not verified) or
 * "http://HOST" (no TLS). */
static bool listed(char *const *v, const char *host, bool http)
{
	for (size_t i = 0; v && v[i]; i++) {
		const char *e = v[i];
		bool is_http = launch_str_has_prefix(e, "http://");
		if (is_http)
			e += 7;
		else if (launch_str_has_prefix(e, "https://"))
			e += 8;
		if (!strcmp(e, host) && is_http == http)
			return true;
	}
	return false;
}

int launch_registry_use_user(struct launch_registry *r, const char *user, struct launch_error **err)
{
	_cleanup_free_ char *key = xasprintf("%s@%s", user, auth_key(r->host)), *own = launch_auth_file();
	char *u = NULL, *pw = NULL;
	if (auth_from_file(own, key, &u, &pw) != 0 && (launch_auth_find(r->host, &u, &pw) != 0 || strcmp(u, user))) {
		free(u);
		free(pw);
		return launch_error_msg(err,
					"no credentials of user %s for %s: run 'launch login --username %s %s' first",
					user, r->host, user, r->host);
	}
	free(r->user);
	free(r->password);
	r->user = u;
	r->password = pw;
	return 0;
}

int launch_registry_open(const struct launch_config *c, const char *registry, struct launch_registry **out,
			 struct launch_error **err)
{
	pthread_once(&curl_once, init_curl);
	struct launch_registry *r = xcalloc(1, sizeof(*r));
	r->host = xstrdup(registry);
	bool http = c && listed(c->insecure_registries, registry, true);
	r->verify = !(c && listed(c->insecure_registries, registry, false));
	r->base = xasprintf("%s://%s", http ? "http" : "https", registry);
	r->ca_file = c && c->registry_ca_file ? xstrdup(c->registry_ca_file) : NULL;
	r->retries = c ? c->pull_retries : 6;
	pthread_mutex_init(&r->lock, NULL);
	launch_auth_find(registry, &r->user, &r->password);
	_cleanup_free_ char *rundir = NULL;
	if (launch_runtime_dir(c, &rundir, NULL, NULL) == 0)
		r->token_cache = xasprintf("%s/registry-tokens.json", rundir);
	*out = r;
	(void)err;
	return 0;
}

void launch_registry_close(struct launch_registry *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->base);
	free(r->ca_file);
	free(r->user);
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->token_cache);
	free(r->token);
	free(r->token_scope);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* --- one HTTP exchange --- */

struct resp {
	long status;
	char *body; /* non-2xx responses, or all when there is no output file */
	size_t len;
	char *content_type, *digest, *www_auth, *retry_after;
	/* streaming into a file */
	int fd;
	struct launch_sha256 *sha;
	uint64_t *have;
	bool restart_if_200;
	int write_errno;
	CURL *curl;
	void (*on_bytes)(void *arg, uint64_t bytes);
	void *arg;
};

static void resp_clear(struct resp *p)
{
	free(p->body);
	free(p->content_type);
	free(p->digest);
	free(p->www_auth);
	free(p->retry_after);
	p->body = p->content_type = p->digest = p->www_auth = p->retry_after = NULL;
	p->len = 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *p = arg;
	size_t len = size * n;
	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) { /* a new response (after a redirect) */
		free(p->content_type), free(p->digest), free(p->www_auth), free(p->retry_after);
		p->content_type = p->digest = p->www_auth = p->retry_after = NULL;
		return len;
	}
	static const struct {
		const char *name;
		size_t off;
	} keep[] = { { "content-type:", offsetof(struct resp, content_type) },
		     { "docker-content-digest:", offsetof(struct resp, digest) },
		     { "www-authenticate:", offsetof(struct resp, www_auth) },
		     { "retry-after:", offsetof(struct resp, retry_after) } };
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		size_t kl = strlen(keep[i].name);
		if (len > kl && !strncasecmp(buf, keep[i].name, kl)) {
			const char *v = buf + kl;
			size_t vl = len - kl;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
				vl--;
			char **slot = (char **)((char *)p + keep[i].off);
			free(*slot);
			*slot = xstrndup(v, vl);
		}
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *p = arg;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
	if (p->fd >= 0 && (status == 200 || status == 206)) {
		if (status == 200 && p->restart_if_200) {
			/* the server ignored our Range: start again */
			p->restart_if_200 = false;
			if (ftruncate(p->fd, 0) < 0 || lseek(p->fd, 0, SEEK_SET) < 0) {
				p->write_errno = errno;
				return 0;
			}
			*p->have = 0;
			launch_sha256_final(p->sha, (char[LAUNCH_DIGEST_LEN + 1]){ 0 }); /* resets it */
		}
		if (launch_write_all(p->fd, buf, len) < 0) {
			p->write_errno = errno;
			return 0;
		}
		launch_sha256_update(p->sha, buf, len);
		*p->have += len;
		if (p->on_bytes)
			p->on_bytes(p->arg, *p->have);
		return len;
	}
	if (p->len + len > DOC_MAX)
		return 0;
	p->body = xrealloc(p->body, p->len + len + 1);
	memcpy(p->body + p->len, buf, len);
	p->len += len;
	p->body[p->len] = '\0';
	return len;
}

/* Perform GET URL with HEADERS into P; the curl result. */
static CURLcode perform(struct launch_registry *r, const char *url, struct curl_slist *headers, struct resp *p,
			char *errbuf)
{
	CURL *h = curl_easy_init();
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	p->curl = h;
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "launch/" LAUNCH_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 KiB/s for 60 s) is a dropped one */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (!r->verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (r->ca_file) {
		/* the site's CAs and the system's */
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, "/etc/ssl/certs");
	}
	CURLcode c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &p->status);
	curl_easy_cleanup(h);
	p->curl = NULL;
	return c;
}

static int transport_error(const struct launch_registry *r, CURLcode c, const char *errbuf, const struct resp *p,
			   struct launch_error **err)
{
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(c);
	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return launch_error_msg(err,
					"TLS verification of registry %s failed: %s (its certificate is not trusted "
					"here: ask your admins to add its CA as registry_ca_file in the site config, "
					"or to list it in insecure_registries)",
					r->host, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR: /* a handshake cut short (a reset), not a refused certificate */
		return launch_error_msg(err,
					"registry %s is unreachable: %s (check the name, this node's network and "
					"the https_proxy variable)",
					r->host, detail);
	case CURLE_WRITE_ERROR:
		if (p && p->write_errno == ENOSPC)
			return launch_error_kind_set(err, LAUNCH_ERR_NO_SPACE, ENOSPC,
						     "disk full while downloading from %s (free space in your image "
						     "store, or ask your admins for a store elsewhere)",
						     r->host);
		if (p && p->write_errno)
			return launch_error_set(err, p->write_errno, "cannot write what %s sends", r->host);
		return launch_error_msg(err, "registry %s sent more than expected", r->host);
	default:
		return launch_error_msg(err, "cannot talk to registry %s: %s", r->host, detail);
	}
}

static bool retryable(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
	       c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SEND_ERROR || c == CURLE_PARTIAL_FILE ||
	       c == CURLE_GOT_NOTHING || c == CURLE_HTTP2 || c == CURLE_HTTP2_STREAM;
}

/* A parameter of an authentication challenge: NAME="VALUE". */
static char *challenge_param(const char *ch, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = ch; (p = strcasestr(p, name));) {
		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[n] == '=') {
			const char *v = p + n + 1;
			if (*v == '"') {
				const char *end = strchr(v + 1, '"');
				return end ? xstrndup(v + 1, (size_t)(end - v - 1)) : NULL;
			}
			return xstrndup(v, strcspn(v, ","));
		}
		p += n;
	}
	return NULL;
}

static char *url_escape(const char *s)
{
	CURL *h = curl_easy_init();
	char *e = curl_easy_escape(h, s, 0);
	char *out = xstrdup(e ? e : s);
	curl_free(e);
	curl_easy_cleanup(h);
	return out;
}

/* --- the token cache --- */

static char *cache_key(const struct launch_registry *r, const char *realm, const char *service, const char *scope)
{
	return xasprintf("%s|%s|%s|%s", realm, service ? service : "", scope, r->user ? r->user : "");
}

static char *cached_token(const struct launch_registry *r, const char *key)
{
	if (!r->token_cache)
		return NULL;
	json_error_t jerr;
	json_t *j = json_load_file(r->token_cache, 0, &jerr);
	json_t *e = json_object_get(j, key);
	char *t = NULL;
	if (json_integer_value(json_object_get(e, "expires")) > now_s() + 10)
		t = xstrdup(json_string_value(json_object_get(e, "token")) ?: "");
	json_decref(j);
	if (t && !*t) {
		free(t);
		t = NULL;
	}
	return t;
}

static void cache_token(const struct launch_registry *r, const char *key, const char *token, int64_t expires)
{
	if (!r->token_cache)
		return;
	_cleanup_free_ char *lock = xasprintf("%s.lock", r->token_cache);
	_cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
		return;
	json_error_t jerr;
	json_t *j = json_load_file(r->token_cache, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(j, tmp, k, v) if (json_integer_value(json_object_get(v, "expires")) <= now_s())
		json_object_del(j, k);
	json_object_set_new(j, key, json_pack("{s:s, s:I}", "token", token, "expires", (json_int_t)expires));
	_cleanup_free_ char *t = xasprintf("%s.tmp.%d", r->token_cache, (int)getpid());
	char *text = json_dumps(j, JSON_COMPACT);
	int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int ok = launch_write_all(fd, text, strlen(text));
		close(fd);
		if (ok < 0 || rename(t, r->token_cache) < 0)
			unlink(t);
	}
	free(text);
	json_decref(j);
}

/* Get a token for SCOPE from the Bearer challenge CH. Called with the lock. */
static int fetch_token(struct launch_registry *r, const char *ch, const char *scope, struct launch_error **err)
{
	_cleanup_free_ char *realm = challenge_param(ch, "realm"), *service = challenge_param(ch, "service");
	_cleanup_free_ char *ch_scope = challenge_param(ch, "scope");
	if (!realm)
		return launch_error_msg(err, "registry %s asked for a token without saying where to get it", r->host);
	const char *want = ch_scope ? ch_scope : scope ? scope : "";
	_cleanup_free_ char *key = cache_key(r, realm, service, want);
	char *cached = cached_token(r, key);
	if (cached) {
		launch_debug("registry %s: cached token for %s", r->host, want);
		free(r->token);
		r->token = cached;
		return 0;
	}
	_cleanup_free_ char *es = service ? url_escape(service) : NULL, *esc = url_escape(want);
	_cleanup_free_ char *url =
		xasprintf("%s%s%s%s%s%s", realm, strchr(realm, '?') ? "&" : "?", *want ? "scope=" : "",
			  *want ? esc : "", es ? (*want ? "&service=" : "service=") : "", es ? es : "");
	struct curl_slist *hdr = NULL;
	_cleanup_free_ char *basic = NULL;
	if (r->user) {
		_cleanup_free_ char *pair = xasprintf("%s:%s", r->user, r->password);
		_cleanup_free_ char *enc = b64(pair, strlen(pair));
		basic = xasprintf("Authorization: Basic %s", enc);
		hdr = curl_slist_append(hdr, basic);
	}
	struct resp p = { .fd = -1 };
	char eb[CURL_ERROR_SIZE];
	CURLcode c = perform(r, url, hdr, &p, eb);
	curl_slist_free_all(hdr);
	int ret = 0;
	if (c != CURLE_OK) {
		ret = transport_error(r, c, eb, &p, err);
	} else if (p.status == 401 || p.status == 403) {
		ret = r->user ? launch_error_msg(err,
						 "authentication failed for %s: the token service refused the "
						 "credentials of user %s (check them with 'launch login %s')",
						 r->host, r->user, r->host)
			      : launch_error_msg(err,
						 "authentication required: %s refused an anonymous token for %s (log "
						 "in with 'launch login %s')",
						 r->host, want, r->host);
	} else if (p.status != 200) {
		ret = launch_error_msg(err, "the token service of %s answered HTTP %ld", r->host, p.status);
	} else {
		json_error_t jerr;
		json_t *j = json_loads(p.body ? p.body : "", 0, &jerr);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (!t)
			t = json_string_value(json_object_get(j, "access_token"));
		if (!t) {
			ret = launch_error_msg(err, "the token service of %s gave no token", r->host);
		} else {
			json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
			free(r->token);
			r->token = xstrdup(t);
			cache_token(r, key, t, now_s() + (ttl > 0 ? ttl : 60));
		}
		json_decref(j);
	}
	resp_clear(&p);
	return ret;
}

/* GET PATH (below /v2/) of REPO with auth. P has its output set up by the
 * caller. */
static CURLcode authed_get(struct launch_registry *r, const char *repo, const char *path, const char *accept,
			   const char *range, struct resp *p, char *eb, struct launch_error **err, int *failed)
{
	_cleanup_free_ char *url = xasprintf("%s/v2/%s", r->base, path);
	_cleanup_free_ char *scope = xasprintf("repository:%s:pull", repo);
	*failed = 0;
	for (int attempt = 0;; attempt++) {
		struct curl_slist *hdr = NULL;
		if (accept)
			hdr = curl_slist_append(hdr, accept);
		if (range)
			hdr = curl_slist_append(hdr, range);
		_cleanup_free_ char *auth = NULL;
		pthread_mutex_lock(&r->lock);
		if (r->token) {
			auth = xasprintf("Authorization: Bearer %s", r->token);
		} else if (r->basic && r->user) {
			_cleanup_free_ char *pair = xasprintf("%s:%s", r->user, r->password);
			_cleanup_free_ char *enc = b64(pair, strlen(pair));
			auth = xasprintf("Authorization: Basic %s", enc);
		}
		pthread_mutex_unlock(&r->lock);
		if (auth)
			hdr = curl_slist_append(hdr, auth);
		resp_clear(p);
		CURLcode c = perform(r, url, hdr, p, eb);
		curl_slist_free_all(hdr);
		if (c != CURLE_OK || p->status != 401 || attempt >= 2)
			return c;
		const char *ch = p->www_auth ? p->www_auth : "";
		pthread_mutex_lock(&r->lock);
		int ok;
		if (!strncasecmp(ch, "Bearer", 6)) {
			ok = fetch_token(r, ch, scope, err);
		} else if (r->user && !r->basic) {
			r->basic = true;
			ok = 0;
		} else {
			ok = r->user ? launch_error_msg(err,
							"authentication failed for %s: user %s was refused (check the "
							"credentials with 'launch login %s')",
							r->host, r->user, r->host)
				     : launch_error_msg(err,
							"authentication required by %s (log in with 'launch login %s')",
							r->host, r->host);
		}
		pthread_mutex_unlock(&r->lock);
		if (ok < 0) {
			*failed = 1;
			return CURLE_OK;
		}
	}
}

/* The registry's error for a non-2xx answer. */
static int http_error(const struct launch_registry *r, const char *what, const struct resp *p,
		      struct launch_error **err)
{
	const char *code = NULL;
	json_error_t jerr;
	json_t *j = p->body ? json_loads(p->body, 0, &jerr) : NULL;
	code = json_string_value(json_object_get(json_array_get(json_object_get(j, "errors"), 0), "code"));
	int ret;
	if (p->status == 404 || (code && (!strcmp(code, "MANIFEST_UNKNOWN") || !strcmp(code, "NAME_UNKNOWN"))))
		ret = launch_error_kind_msg(err, LAUNCH_ERR_NOT_FOUND, "%s not found in %s%s", what, r->host,
					    code && !strcmp(code, "NAME_UNKNOWN")	? " (no such repository)"
					    : code && !strcmp(code, "MANIFEST_UNKNOWN") ? " (no such tag or digest)"
											: "");
	else if (p->status == 401 || p->status == 403)
		ret = r->user ? launch_error_msg(err, "authentication failed for %s: %s is not allowed to user %s",
						 r->host, what, r->user)
			      : launch_error_msg(err,
						 "authentication required: %s refuses anonymous access to %s (log in "
						 "with 'launch login %s')",
						 r->host, what, r->host);
	else if (p->status == 429)
		ret = launch_error_msg(err, "rate-limited by %s: too many requests%s%s%s", r->host,
				       p->retry_after ? " (retry after " : " (try again later)",
				       p->retry_after ? p->retry_after : "", p->retry_after ? " seconds)" : "");
	else
		ret = launch_error_msg(err, "registry %s answered HTTP %ld for %s%s%s", r->host, p->status, what,
				       code ? ": " : "", code ? code : "");
	json_decref(j);
	return ret;
}

static void backoff(int attempt)
{
	unsigned s = attempt < 5 ? 1u << attempt : 30;
	launch_debug("retrying in %u s", s);
	sleep(s);
}

int launch_registry_manifest(struct launch_registry *r, const char *repo, const char *ref, char **body, size_t *len,
			     char **media_type, char *digest, struct launch_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/manifests/%s", repo, ref);
	_cleanup_free_ char *what = xasprintf("image %s:%s", repo, ref);
	if (launch_str_has_prefix(ref, "sha256:"))
		what[strlen(repo) + 6] = '@';
	struct resp p = { .fd = -1 };
	char eb[CURL_ERROR_SIZE];
	int ret = -1;
	_cleanup_free_ char *ct = NULL;
	for (int attempt = 0;; attempt++) {
		int failed;
		CURLcode c = authed_get(r, repo, path, accept_manifests, NULL, &p, eb, err, &failed);
		if (failed)
			goto out;
		if (c == CURLE_OK && p.status / 100 != 5)
			break;
		if (attempt >= r->retries || (c != CURLE_OK && !retryable(c))) {
			if (c != CURLE_OK)
				transport_error(r, c, eb, &p, err);
			else
				http_error(r, what, &p, err);
			goto out;
		}
		backoff(attempt);
	}
	if (p.status != 200) {
		http_error(r, what, &p, err);
		goto out;
	}
	char got[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(p.body ? p.body : "", p.len, got);
	if (launch_str_has_prefix(ref, "sha256:") && strcmp(got, ref) != 0) {
		launch_error_msg(err, "%s: digest mismatch: asked for %s, got %s", what, ref, got);
		goto out;
	}
	strcpy(digest, got);
	ct = p.content_type ? xstrndup(p.content_type, strcspn(p.content_type, ";")) : NULL;
	*media_type = ct ? steal_pointer(&ct) : NULL;
	*body = p.body ? steal_pointer(&p.body) : xstrdup("");
	*len = p.len;
	ret = 0;
out:
	resp_clear(&p);
	return ret;
}

static int mkdirs(const char *a, const char *b)
{
	if (mkdir(a, 0755) < 0 && errno != EEXIST)
		return -1;
	if (mkdir(b, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* A download of one blob into the partial file of the cache. */
struct blob_dl {
	struct launch_registry *r;
	const char *repo, *digest;
	int64_t size; /* -1: unknown */
	int fd;	      /* the partial file, locked */
	const char *part;
	char *path; /* below /v2/ */
	char *what; /* for messages */
	struct launch_sha256 *sha;
	uint64_t have; /* bytes in the partial file, all hashed */
	void (*on_bytes)(void *arg, uint64_t bytes);
	void *arg;
};

/* What one request for a blob came to. */
enum { BLOB_FAILED = -1, BLOB_DONE, BLOB_RETRY, BLOB_WAITED };

static bool blob_cached(const char *final, int64_t size)
{
	struct stat st;
	return stat(final, &st) == 0 && (size < 0 || st.st_size == size);
}

/* Hash what an earlier, interrupted download left, to resume after it; a
 * partial file longer than the blob starts afresh. */
static int blob_resume(struct blob_dl *b, struct launch_error **err)
{
	char buf[64 * 1024];
	ssize_t n;
	while ((n = pread(b->fd, buf, sizeof(buf), (off_t)b->have)) > 0) {
		launch_sha256_update(b->sha, buf, (size_t)n);
		b->have += (uint64_t)n;
	}
	if (b->size >= 0 && b->have > (uint64_t)b->size) {
		if (ftruncate(b->fd, 0) < 0)
			return launch_error_set(err, errno, "cannot truncate %s", b->part);
		launch_sha256_free(b->sha);
		b->sha = launch_sha256_new();
		b->have = 0;
	}
	if (b->have)
		launch_info("blob %.19s: resuming at byte %llu", b->digest, (unsigned long long)b->have);
	return 0;
}

/* What to do after request ATTEMPT got answer P, or transport error C:
 * BLOB_DONE, BLOB_RETRY (after a back-off), BLOB_WAITED (the rate limit's
 * wait is over), or BLOB_FAILED with ERR set. */
static int blob_answer(struct blob_dl *b, int attempt, CURLcode c, const struct resp *p, const char *eb,
		       struct launch_error **err)
{
	struct launch_registry *r = b->r;
	/* 416: nothing left to send: what we have is all, or wrong */
	if (c == CURLE_OK && (p->status == 200 || p->status == 206 || p->status == 416))
		return BLOB_DONE;
	if (c == CURLE_OK && p->status == 429 && p->retry_after && atoi(p->retry_after) <= MAX_RATE_WAIT_S &&
	    attempt < r->retries) {
		launch_info("rate-limited by %s: waiting %s s", r->host, p->retry_after);
		sleep((unsigned)atoi(p->retry_after));
		return BLOB_WAITED;
	}
	bool again = (c != CURLE_OK && retryable(c)) || (c == CURLE_OK && p->status / 100 == 5);
	if (!again || attempt >= r->retries) {
		if (c != CURLE_OK)
			transport_error(r, c, eb, p, err);
		else
			http_error(r, b->what, p, err);
		if (c != CURLE_OK && again)
			launch_error_wrap(err, "gave up after %d attempts (what came is kept: the next pull resumes)",
					  attempt + 1);
		return BLOB_FAILED;
	}
	launch_info("%s: %s; resuming at byte %llu", b->what,
		    c != CURLE_OK ? (*eb ? eb : curl_easy_strerror(c)) : "server error", (unsigned long long)b->have);
	return BLOB_RETRY;
}

/* Request ATTEMPT: the rest of the blob, appended to the partial file. */
static int blob_request(struct blob_dl *b, int attempt, struct launch_error **err)
{
	if (lseek(b->fd, (off_t)b->have, SEEK_SET) < 0)
		return launch_error_set(err, errno, "cannot seek in %s", b->part);
	_cleanup_free_ char *range = b->have ? xasprintf("Range: bytes=%llu-", (unsigned long long)b->have) : NULL;
	struct resp p = { .fd = b->fd,
			  .sha = b->sha,
			  .have = &b->have,
			  .restart_if_200 = b->have > 0,
			  .on_bytes = b->on_bytes,
			  .arg = b->arg };
	char eb[CURL_ERROR_SIZE];
	int failed;
	CURLcode c = authed_get(b->r, b->repo, b->path, NULL, range, &p, eb, err, &failed);
	int step = failed ? BLOB_FAILED : blob_answer(b, attempt, c, &p, eb, err);
	resp_clear(&p);
	return step;
}

/* The rest of the blob, retried with back-off. */
static int blob_download(struct blob_dl *b, struct launch_error **err)
{
	for (int attempt = 0;; attempt++) {
		if (b->size >= 0 && b->have == (uint64_t)b->size)
			return 0; /* complete already */
		int step = blob_request(b, attempt, err);
		if (step == BLOB_DONE)
			return 0;
		if (step == BLOB_FAILED)
			return -1;
		if (step == BLOB_RETRY)
			backoff(attempt);
	}
}

/* The download's digest and size; a wrong one leaves nothing behind. */
static int blob_verify(struct blob_dl *b, struct launch_error **err)
{
	char got[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_final(b->sha, got);
	bool digest_ok = strcmp(got, b->digest) == 0;
	if (digest_ok && (b->size < 0 || b->have == (uint64_t)b->size))
		return 0;
	/* no corrupt entry may stay: the next pull starts afresh */
	if (ftruncate(b->fd, 0) < 0)
		unlink(b->part);
	if (!digest_ok)
		return launch_error_msg(err, "%s: digest mismatch: got %s (%llu bytes); nothing was kept", b->what, got,
					(unsigned long long)b->have);
	return launch_error_msg(err, "%s: size mismatch: expected %lld bytes, got %llu", b->what, (long long)b->size,
				(unsigned long long)b->have);
}

int launch_registry_blob(struct launch_registry *r, const char *repo, const char *digest, int64_t size,
			 const char *cache, void (*on_bytes)(void *arg, uint64_t bytes), void *arg,
			 struct launch_error **err)
{
	if (!launch_digest_valid(digest))
		return launch_error_msg(err, "invalid blob digest `%s`", digest);
	_cleanup_free_ char *dir = xasprintf("%s/sha256", cache), *pdir = xasprintf("%s/partial", cache);
	_cleanup_free_ char *final = xasprintf("%s/%s", dir, digest + 7), *part = xasprintf("%s/%s", pdir, digest + 7);
	if (blob_cached(final, size))
		return 0;
	if (mkdirs(cache, dir) < 0 || mkdirs(pdir, pdir) < 0)
		return launch_error_set(err, errno, "cannot create the blob cache in %s", cache);
	_cleanup_close_ int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot create %s", part);
	/* one download per blob, whoever asks: the others wait, then find it */
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return launch_error_set(err, errno, "cannot lock %s", part);
	if (blob_cached(final, size)) {
		launch_debug("blob %.19s: fetched by another process", digest);
		return 0;
	}
	_cleanup_free_ char *path = xasprintf("%s/blobs/%s", repo, digest);
	_cleanup_free_ char *what = xasprintf("blob %s of %s", digest, repo);
	struct blob_dl b = { .r = r,
			     .repo = repo,
			     .digest = digest,
			     .size = size,
			     .fd = fd,
			     .part = part,
			     .path = path,
			     .what = what,
			     .sha = launch_sha256_new(),
			     .on_bytes = on_bytes,
			     .arg = arg };
	int ret = -1;
	if (blob_resume(&b, err) == 0 && blob_download(&b, err) == 0 && blob_verify(&b, err) == 0) {
		if (fsync(fd) < 0 || rename(part, final) < 0)
			launch_error_set(err, errno, "cannot store %s in %s", what, dir);
		else
			ret = 0;
	}
	launch_sha256_free(b.sha);
	return ret;
}

int launch_registry_login_check(const struct launch_config *c, const char *registry, const char *user,
				const char *password, struct launch_error **err)
{
	struct launch_registry *r;
	if (launch_registry_open(c, registry, &r, err) < 0)
		return -1;
	free(r->user);
	free(r->password);
	r->user = xstrdup(user);
	r->password = xstrdup(password);
	free(r->token_cache); /* always ask the token service */
	r->token_cache = NULL;
	struct resp p = { .fd = -1 };
	char eb[CURL_ERROR_SIZE];
	int ret = -1;
	/* /v2/ itself: a Bearer challenge there has no scope; ask for none */
	_cleanup_free_ char *url = xasprintf("%s/v2/", r->base);
	for (int attempt = 0; attempt < 3; attempt++) {
		struct curl_slist *hdr = NULL;
		_cleanup_free_ char *auth = NULL;
		if (r->token) {
			auth = xasprintf("Authorization: Bearer %s", r->token);
		} else if (r->basic) {
			_cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
			_cleanup_free_ char *enc = b64(pair, strlen(pair));
			auth = xasprintf("Authorization: Basic %s", enc);
		}
		if (auth)
			hdr = curl_slist_append(hdr, auth);
		resp_clear(&p);
		CURLcode cc = perform(r, url, hdr, &p, eb);
		curl_slist_free_all(hdr);
		if (cc != CURLE_OK) {
			transport_error(r, cc, eb, &p, err);
			goto out;
		}
		if (p.status == 200) {
			ret = 0;
			goto out;
		}
		if (p.status != 401 || attempt == 2)
			break;
		const char *ch = p.www_auth ? p.www_auth : "";
		if (!strncasecmp(ch, "Bearer", 6)) {
			if (fetch_token(r, ch, NULL, err) < 0)
				goto out;
		} else if (!r->basic) {
			r->basic = true;
		} else {
			break;
		}
	}
	launch_error_msg(err, "login to %s failed: user %s and this password were refused", registry, user);
out:
	resp_clear(&p);
	launch_registry_close(r);
	return ret;
}
