/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling (see pull.h):
 *
 *   GET the manifest or index of REF -> blob cache
 *   manifest.c plans from a synthetic index.json naming it; every document it
 *     asks for (the config as a blob, nested manifests as manifests) is
 *     fetched into the cache
 *   the layers are downloaded, pull_jobs at a time, into the cache
 *   import.c flattens them from the cache into a squashfs of the store
 *
 * Eight pulls of one image at once download each blob once (flock per blob
 * in registry.c) and flatten it once: the flattening takes a lock per image
 * digest, and whoever comes second finds the image stored and only tags it. */
#define _GNU_SOURCE
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "import.h"
#include "log.h"
#include "manifest.h"
#include "registry.h"
#include "source.h"
#include "store.h"
#include "util.h"

#define DOC_MAX (4u << 20)

struct pull {
	struct launch_registry *reg;
	const struct launch_registry_ref *ref;
	char *cache; /* STORE/blobs */
	char *index; /* the synthetic index.json */
};

static char *cached_path(const struct pull *p, const char *hex)
{
	return xasprintf("%s/sha256/%s", p->cache, hex);
}

/* Keep document BODY (digest DIGEST) in the cache. */
static int cache_doc(const struct pull *p, const char *digest, const char *body, size_t len, struct launch_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/sha256", p->cache), *final = cached_path(p, digest + 7);
	_cleanup_free_ char *tmp = xasprintf("%s/partial/%s.doc.%d", p->cache, digest + 7, (int)getpid());
	_cleanup_free_ char *pdir = xasprintf("%s/partial", p->cache);
	if ((mkdir(p->cache, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(pdir, 0755) < 0 && errno != EEXIST))
		return launch_error_set(err, errno, "cannot create the blob cache %s", p->cache);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot write %s", tmp);
	int r = launch_write_all(fd, body, len);
	int e = errno;
	close(fd);
	if (r < 0 || rename(tmp, final) < 0) {
		if (r == 0)
			e = errno;
		unlink(tmp);
		return launch_error_set(err, e, "cannot write %s", final);
	}
	return 0;
}

/* manifest.c's member reader: index.json is ours; blobs come from the cache,
 * fetched first when missing (as a manifest, else as a blob). */
static int reader(void *arg, const char *name, char **data, size_t *len, struct launch_error **err)
{
	struct pull *p = arg;
	if (!strcmp(name, "manifest.json"))
		return 1;
	if (!strcmp(name, "index.json")) {
		*data = xstrdup(p->index);
		*len = strlen(p->index);
		return 0;
	}
	if (!launch_str_has_prefix(name, "blobs/sha256/"))
		return 1;
	const char *hex = name + 13;
	_cleanup_free_ char *path = cached_path(p, hex), *digest = xasprintf("sha256:%s", hex);
	if (access(path, F_OK) < 0) {
		/* a config is a blob; a manifest that an index names is not one
		 * of the repository's blobs (404), but a manifest */
		struct launch_error *e = NULL;
		if (launch_registry_blob(p->reg, p->ref->repo, digest, -1, p->cache, NULL, NULL, &e) < 0) {
			bool unknown = launch_error_is(e, LAUNCH_ERR_NOT_FOUND);
			char *body = NULL, *mt = NULL;
			size_t n = 0;
			char got[LAUNCH_DIGEST_LEN + 1];
			if (!unknown) {
				if (err)
					*err = e;
				else
					launch_error_free(e);
				return -1;
			}
			launch_error_free(e);
			if (launch_registry_manifest(p->reg, p->ref->repo, digest, &body, &n, &mt, got, err) < 0)
				return -1;
			free(mt);
			int r = cache_doc(p, got, body, n, err);
			free(body);
			if (r < 0)
				return -1;
		}
	}
	return launch_read_file_at(AT_FDCWD, path, DOC_MAX, data, len) < 0
		       ? launch_error_set(err, errno, "cannot read %s from the blob cache", digest)
		       : 0;
}

/* --- layers, several at a time --- */

struct layer_job {
	const struct launch_layer_desc *d;
	uint64_t bytes;
	bool done;
	struct launch_error *err;
};

struct downloads {
	struct pull *p;
	struct layer_job *jobs; /* top layer first: the flattener's order */
	size_t n, next, done;
	pthread_mutex_t lock;
	pthread_cond_t more; /* bytes came, or a job ended */
	bool progress;
	int64_t last_ms;
	pthread_t *threads;
	int started;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mib(uint64_t b, char *buf, size_t n)
{
	snprintf(buf, n, "%.1f", (double)b / 1048576.0);
}

/* One line: each layer still downloading, with its bytes; under the lock. */
static void show(struct downloads *d, bool force)
{
	int64_t t = now_ms();
	if (!d->progress || (!force && t - d->last_ms < 200))
		return;
	d->last_ms = t;
	char line[512];
	size_t o = (size_t)snprintf(line, sizeof(line), "pulling: %zu of %zu layers done", d->done, d->n);
	for (size_t i = 0; i < d->n && o < sizeof(line) - 64; i++) {
		struct layer_job *j = &d->jobs[i];
		if (j->done || (!j->bytes && i >= d->next))
			continue;
		char a[32], b[32];
		mib(j->bytes, a, sizeof(a));
		mib(j->d->size > 0 ? (uint64_t)j->d->size : 0, b, sizeof(b));
		o += (size_t)snprintf(line + o, sizeof(line) - o, " | %.12s %s/%s MiB", j->d->digest + 7, a, b);
	}
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
}

struct job_arg {
	struct downloads *d;
	size_t i;
};

static void on_bytes(void *arg, uint64_t bytes)
{
	struct job_arg *ja = arg;
	pthread_mutex_lock(&ja->d->lock);
	ja->d->jobs[ja->i].bytes = bytes;
	show(ja->d, false);
	pthread_cond_broadcast(&ja->d->more);
	pthread_mutex_unlock(&ja->d->lock);
}

static void *worker(void *arg)
{
	struct downloads *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		size_t i = d->next++;
		pthread_mutex_unlock(&d->lock);
		if (i >= d->n)
			return NULL;
		struct layer_job *j = &d->jobs[i];
		struct job_arg ja = { d, i };
		struct launch_error *e = NULL;
		int r = launch_registry_blob(d->p->reg, d->p->ref->repo, j->d->digest, j->d->size, d->p->cache,
					     on_bytes, &ja, &e);
		pthread_mutex_lock(&d->lock);
		j->done = true;
		j->err = r < 0 ? e : NULL;
		d->done++;
		if (d->progress && r == 0) {
			char a[32];
			mib(j->bytes ? j->bytes : (uint64_t)(j->d->size > 0 ? j->d->size : 0), a, sizeof(a));
			fprintf(stderr, "\r\033[Klayer %.19s: %s MiB%s\n", j->d->digest, a,
				j->bytes ? "" : " (cached)");
		}
		show(d, true);
		pthread_cond_broadcast(&d->more);
		pthread_mutex_unlock(&d->lock);
	}
}

static void start_downloads(struct downloads *d, struct pull *p, const struct launch_image_plan *plan, int jobs,
			    bool progress)
{
	memset(d, 0, sizeof(*d));
	d->p = p;
	d->n = plan->n_layers;
	d->progress = progress;
	d->jobs = xcalloc(plan->n_layers, sizeof(*d->jobs));
	for (size_t i = 0; i < plan->n_layers; i++)
		d->jobs[i].d = &plan->layers[plan->n_layers - 1 - i];
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->more, NULL);
	int n = jobs < 1 ? 1 : jobs;
	if ((size_t)n > d->n)
		n = (int)d->n;
	d->threads = xcalloc((size_t)n, sizeof(pthread_t));
	for (int i = 0; i < n; i++)
		if (pthread_create(&d->threads[i], NULL, worker, d) == 0)
			d->started++;
}

/* Wait for every download; the first failure is the error. */
static int finish_downloads(struct downloads *d, struct launch_error **err)
{
	if (d->started == 0)
		worker(d);
	for (int i = 0; i < d->started; i++)
		pthread_join(d->threads[i], NULL);
	free(d->threads);
	if (d->progress)
		fputs("\r\033[K", stderr);
	int ret = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->jobs[i].err && ret == 0) {
			if (err)
				*err = d->jobs[i].err;
			else
				launch_error_free(d->jobs[i].err);
			ret = -1;
		} else {
			launch_error_free(d->jobs[i].err);
		}
	}
	pthread_cond_destroy(&d->more);
	pthread_mutex_destroy(&d->lock);
	free(d->jobs);
	return ret;
}

/* --- flattening layers while they download --- */

struct growing {
	struct downloads *d;
	struct layer_job *job;
	int fd;
	uint64_t pos;
};

static ssize_t growing_read(void *arg, void *buf, size_t n)
{
	struct growing *g = arg;
	for (;;) {
		ssize_t r = pread(g->fd, buf, n, (off_t)g->pos);
		if (r > 0) {
			g->pos += (uint64_t)r;
			return r;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		pthread_mutex_lock(&g->d->lock);
		bool done = g->job->done, failed = g->job->err != NULL;
		if (!done) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&g->d->more, &g->d->lock, &ts);
		}
		pthread_mutex_unlock(&g->d->lock);
		if (failed) {
			errno = EIO; /* the download's own error is reported */
			return -1;
		}
		if (done) {
			r = pread(g->fd, buf, n, (off_t)g->pos); /* what came last */
			if (r > 0)
				g->pos += (uint64_t)r;
			return r;
		}
	}
}

static void growing_close(void *arg)
{
	struct growing *g = arg;
	close(g->fd);
	free(g);
}

/* source.c's stream hook: a layer still downloading is read as it grows. */
static int open_growing(void *ctx, const char *name, struct launch_blob_stream *out, struct launch_error **err)
{
	struct downloads *d = ctx;
	if (!launch_str_has_prefix(name, "blobs/sha256/"))
		return 1;
	struct layer_job *job = NULL;
	for (size_t i = 0; i < d->n && !job; i++)
		if (!strcmp(d->jobs[i].d->digest + 7, name + 13))
			job = &d->jobs[i];
	if (!job)
		return 1;
	_cleanup_free_ char *final = xasprintf("%s/sha256/%s", d->p->cache, name + 13);
	_cleanup_free_ char *part = xasprintf("%s/partial/%s", d->p->cache, name + 13);
	for (;;) {
		if (access(final, F_OK) == 0)
			return 1; /* complete: read the file */
		int fd = open(part, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			struct growing *g = xcalloc(1, sizeof(*g));
			*g = (struct growing){ d, job, fd, 0 };
			*out = (struct launch_blob_stream){ growing_read, growing_close, g };
			return 0;
		}
		pthread_mutex_lock(&d->lock);
		bool done = job->done, failed = job->err != NULL;
		if (!done) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&d->more, &d->lock, &ts);
		}
		pthread_mutex_unlock(&d->lock);
		if (failed)
			return launch_error_msg(err, "layer %.19s could not be downloaded", job->d->digest);
	}
}

int launch_pull(const struct launch_config *c, const struct launch_pull_opts *o, char **digest_out,
		struct launch_error **err)
{
	struct launch_registry_ref ref = { 0 };
	struct launch_store *stores = NULL;
	size_t n_stores = 0;
	struct pull p = { 0 };
	struct launch_image_plan plan = { 0 };
	struct launch_source src = { .dirfd = -1, .fd = -1 };
	_cleanup_free_ char *body = NULL, *mt = NULL, *what = NULL, *lockpath = NULL, *source = NULL, *locks = NULL;
	_cleanup_strv_ char **tags = NULL;
	_cleanup_close_ int lock = -1, cache_lock = -1;
	int ret = -1;

	if (launch_registry_ref_parse_with(o->ref, c ? c->default_registry : NULL, &ref, err) < 0)
		return -1;
	what = launch_registry_ref_string(&ref);
	if (launch_stores(c, &stores, &n_stores, err) < 0 || launch_store_prepare(&stores[0], err) < 0)
		goto out;
	const struct launch_store *store = &stores[0];
	launch_store_gc(store);
	if (o->tags) {
		tags = launch_strv_copy(o->tags);
	} else {
		tags = xcalloc(1, sizeof(char *));
		launch_strv_push(&tags, launch_registry_ref_local_name(&ref));
	}
	p.ref = &ref;
	p.cache = xasprintf("%s/blobs", store->root);
	/* held while the pull runs: `launch prune` leaves the cache alone */
	cache_lock = launch_store_cache_lock(store, false, err);
	if (cache_lock < 0)
		goto out;
	if (launch_registry_open(c, ref.registry, &p.reg, err) < 0 ||
	    (ref.user && launch_registry_use_user(p.reg, ref.user, err) < 0))
		goto out;
	size_t len = 0;
	char digest[LAUNCH_DIGEST_LEN + 1];
	if (launch_registry_manifest(p.reg, ref.repo, ref.digest ? ref.digest : ref.tag, &body, &len, &mt, digest,
				     err) < 0 ||
	    cache_doc(&p, digest, body, len, err) < 0)
		goto out;
	launch_info("%s: %s %s", what, mt ? mt : "manifest", digest);
	json_t *index = json_pack("{s:i, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
				  mt ? mt : "application/vnd.oci.image.manifest.v1+json", "digest", digest, "size",
				  (json_int_t)len);
	p.index = json_dumps(index, JSON_COMPACT);
	json_decref(index);
	if (launch_plan_parse(reader, &p, o->platform, &plan, err) < 0) {
		launch_error_wrap(err, "%s", what);
		goto out;
	}
	launch_info("%s: %zu layers, config %s, platform %s", what, plan.n_layers, plan.digest,
		    plan.platform ? plan.platform : "unknown");
	/* one flattening per image, whoever pulls it */
	locks = xasprintf("%s/locks", store->root);
	mkdir(locks, 0755);
	lockpath = xasprintf("%s/%s", locks, plan.digest + 7);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock >= 0)
		while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
			;
	struct launch_ref have = { .digest = plan.digest + 7 };
	struct launch_store_image stored = { 0 };
	if (launch_stores_find(store, 1, &have, &stored, NULL) == 0 && access(stored.file, F_OK) == 0) {
		launch_store_image_clear(&stored);
		launch_info("%s: already in the store: tagging it", what);
		struct launch_ref same = { .digest = plan.digest + 7 };
		for (size_t i = 0; tags[i]; i++)
			if (launch_store_retag(store, &same, tags[i], err) < 0)
				goto out;
		if (digest_out)
			*digest_out = xstrdup(plan.digest);
		ret = 0;
		goto out;
	}
	launch_store_image_clear(&stored);
	if (launch_source_open(store->root, &src, err) < 0)
		goto out;
	/* the layers download, top first, while the flattening reads them */
	struct downloads d;
	start_downloads(&d, &p, &plan, c ? c->pull_jobs : 4, o->progress);
	src.open_stream = open_growing;
	src.stream_ctx = &d;
	struct launch_import_opts io = { .tags = tags, .compressor = o->compressor };
	source = xasprintf("docker://%s", what);
	struct launch_error *ie = NULL;
	int ir = launch_import_plan(store, &src, &plan, &io, source, digest_out, &ie);
	int dr = finish_downloads(&d, err); /* a download's failure says more */
	if (dr < 0 || ir < 0) {
		if (dr == 0 && err)
			*err = steal_pointer(&ie);
		launch_error_free(ie);
		launch_error_wrap(err, "%s", what);
		goto out;
	}
	ret = 0;
out:
	if (ret == 0) {
		/* the blobs just used are the cache's most recent; then the
		 * cache shrinks to its limit, once no pull runs */
		launch_store_cache_touch(&stores[0], plan.digest);
		for (size_t i = 0; i < plan.n_layers; i++)
			launch_store_cache_touch(&stores[0], plan.layers[i].digest);
		if (cache_lock >= 0)
			close(steal_fd(&cache_lock));
		int64_t freed = 0;
		if (launch_store_cache_trim(&stores[0], c ? c->blob_cache_max : LAUNCH_BLOB_CACHE_DEFAULT, &freed,
					    NULL) == 0 &&
		    freed)
			launch_info("blob cache: %lld bytes of older blobs removed (blob_cache_max)", (long long)freed);
	}
	if (ret < 0 && n_stores)
		launch_store_space_hint(&stores[0], err);
	launch_source_close(&src);
	launch_plan_clear(&plan);
	launch_registry_close(p.reg);
	free(p.cache);
	free(p.index);
	launch_stores_free(stores, n_stores);
	launch_registry_ref_clear(&ref);
	return ret;
}
