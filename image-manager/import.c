/* SPDX-License-Identifier: Apache-2.0 */
/* Importing images into the user's store (see import.h):
 *
 *   source --(manifest.c)--> plan: config + layers
 *   layers, top first --(layer.c: digest, decompress, diff_id)--> tar entries
 *     --(flatten.c: whiteouts, hostile entries)--> one pax stream
 *     --(sqfswrite.c: tar2sqfs)--> STORE/tmp/PID-XXXXXX.sqfs (flock'ed)
 *   --(store.c, under the store lock)--> STORE/images/HEX.sqfs + index entry
 *
 * Digests are checked as each layer ends, before the image can enter the
 * store; any failure kills tar2sqfs and removes the temporary file. */
#define _GNU_SOURCE
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "flatten.h"
#include "jsonpos.h"
#include "layer.h"
#include "log.h"
#include "image.h"
#include "manifest.h"
#include "proc.h"
#include "sif.h"
#include "sqfs.h"
#include "sqfswrite.h"
#include "store.h"
#include "util.h"

struct progress {
	bool on;
	int layer, layers;
	uint64_t total; /* bytes of this layer, 0: unknown */
	int64_t last_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void human(uint64_t b, char *buf, size_t n)
{
	if (b >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1ull << 20));
	else
		snprintf(buf, n, "%.0f KiB", (double)b / 1024.0);
}

static void on_read(void *arg, uint64_t bytes)
{
	struct progress *p = arg;
	int64_t t = now_ms();
	if (!p->on || t - p->last_ms < 200)
		return;
	p->last_ms = t;
	char done[32], total[32];
	human(bytes, done, sizeof(done));
	if (p->total) {
		human(p->total, total, sizeof(total));
		fprintf(stderr, "\r\033[Kimporting: layer %d of %d: %s of %s (%.0f%%)", p->layer, p->layers, done,
			total, 100.0 * (double)bytes / (double)p->total);
	} else {
		fprintf(stderr, "\r\033[Kimporting: layer %d of %d: %s", p->layer, p->layers, done);
	}
	fflush(stderr);
}

static void progress_end(struct progress *p)
{
	if (p->on && p->last_ms) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/* --- re-reading a layer for the flattener --- */

struct reopen_ctx {
	const struct launch_source *src;
	const struct launch_image_plan *plan;
};

static struct archive *reopen(void *arg, int k, void **handle, struct launch_error **err)
{
	struct reopen_ctx *c = arg;
	struct launch_layer_reader *r;
	if (launch_layer_open(c->src, &c->plan->layers[k], k, &r, err) < 0)
		return NULL;
	*handle = r;
	return launch_layer_tar(r);
}

static void reclose(void *arg, void *handle)
{
	launch_layer_close(handle);
}

/* --- the config --- */

void launch_import_override_config(json_t *c, char *const *env, char *const *entrypoint, char *const *cmd,
				   const char *workdir)
{
	if (env) {
		json_t *out = json_array(), *e;
		size_t i;
		json_array_foreach (json_object_get(c, "Env"), i, e) {
			const char *kv = json_string_value(e), *eq = kv ? strchr(kv, '=') : NULL;
			bool replaced = false;
			for (size_t j = 0; eq && env[j]; j++)
				replaced |= !strncmp(env[j], kv, (size_t)(eq - kv) + 1);
			if (!replaced)
				json_array_append(out, e);
		}
		for (size_t j = 0; env[j]; j++)
			json_array_append_new(out, json_string(env[j]));
		json_object_set_new(c, "Env", out);
	}
	if (entrypoint)
		json_object_set_new(c, "Entrypoint", launch_json_from_strv(entrypoint));
	if (cmd)
		json_object_set_new(c, "Cmd", launch_json_from_strv(cmd));
	if (workdir)
		json_object_set_new(c, "WorkingDir", json_string(workdir));
}

/* The digest of a config we make ourselves (rootfs and squashfs imports):
 * of its canonical JSON, with CONTENT (the tar's or the file's sha256) as
 * its only diff_id, so different contents or configs never share one. */
static void made_config_digest(json_t *runtime, const char *content, const char *platform, char *out)
{
	_cleanup_free_ char *plat = xstrdup(platform ? platform : LAUNCH_DEFAULT_PLATFORM);
	char *arch = strchr(plat, '/');
	if (arch)
		*arch++ = '\0';
	json_t *cfg = json_pack("{s:s, s:s, s:O, s:{s:s, s:[s]}}", "architecture", arch ? arch : "amd64", "os", plat,
				"config", runtime, "rootfs", "type", "layers", "diff_ids", content);
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	launch_sha256_buf(text, strlen(text), out);
	free(text);
	json_decref(cfg);
}

/* --- the three kinds of import --- */

static int flatten_plan(const struct launch_source *src, const struct launch_image_plan *plan, struct archive *out,
			struct progress *pr, struct launch_error **err)
{
	struct reopen_ctx rc = { src, plan };
	struct launch_flatten_layers again = { reopen, reclose, &rc };
	struct launch_flatten *f = launch_flatten_new(out, (int)plan->n_layers, &again);
	int ret = -1;
	for (int k = (int)plan->n_layers - 1; k >= 0; k--) {
		struct launch_layer_reader *r;
		pr->layer = k + 1; /* numbered from the bottom, as in messages */
		int64_t size = plan->layers[k].size >= 0 ? plan->layers[k].size
							 : launch_source_size(src, plan->layers[k].member);
		pr->total = size > 0 ? (uint64_t)size : 0;
		launch_debug("layer %d (%s): %s", k + 1, plan->layers[k].digest ? plan->layers[k].digest : "-",
			     plan->layers[k].member);
		if (launch_layer_open(src, &plan->layers[k], k, &r, err) < 0)
			goto out;
		launch_layer_on_read(r, on_read, pr);
		int r1 = launch_flatten_layer(f, k, launch_layer_tar(r), err);
		if (r1 == 0)
			r1 = launch_layer_verify(r, err);
		launch_layer_close(r);
		if (r1 < 0)
			goto out;
	}
	ret = launch_flatten_finish(f, err);
	launch_info("%llu entries from %zu layers", (unsigned long long)launch_flatten_entries(f), plan->n_layers);
out:
	launch_flatten_free(f);
	return ret;
}

/* One root file system tar, from PATH, or from FD when it is not -1 (a pipe
 * of tar's, PATH then naming the directory). */
static int flatten_rootfs(const char *path, int fd, struct archive *out, struct progress *pr, char *diff_id,
			  struct launch_error **err)
{
	struct launch_layer_reader *r;
	if ((fd >= 0 ? launch_layer_open_fd(fd, path, &r, err) : launch_layer_open_file(path, &r, err)) < 0)
		return -1;
	struct stat st;
	pr->layer = pr->layers = 1;
	pr->total = fd < 0 && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	launch_layer_on_read(r, on_read, pr);
	struct launch_flatten *f = launch_flatten_new(out, 1, NULL);
	int ret = launch_flatten_layer(f, 0, launch_layer_tar(r), err);
	if (ret == 0)
		ret = launch_layer_verify(r, err);
	if (ret == 0)
		ret = launch_flatten_finish(f, err);
	if (ret == 0)
		launch_layer_diff_id(r, diff_id);
	else
		launch_error_wrap(err, "%s", path);
	launch_flatten_free(f);
	launch_layer_close(r);
	return ret;
}

/* Copy squashfs file SRC (from byte OFFSET, SIZE bytes; 0: to its end) to
 * the open DST, hashing it. */
static int copy_squashfs(const char *src, uint64_t offset, uint64_t size, int dst, struct progress *pr, char *digest,
			 struct launch_error **err)
{
	_cleanup_close_ int in = launch_open_regular(src, err);
	if (in < 0)
		return -1;
	struct stat st;
	fstat(in, &st);
	if (!size)
		size = (uint64_t)st.st_size - offset;
	pr->layer = pr->layers = 1;
	pr->total = size;
	if (lseek(in, (off_t)offset, SEEK_SET) < 0)
		return launch_error_set(err, errno, "cannot read %s", src);
	struct launch_sha256 *h = launch_sha256_new();
	static char buf[1 << 20];
	uint64_t done = 0;
	ssize_t n = 0;
	while (done < size &&
	       (n = read(in, buf, size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf))) > 0) {
		launch_sha256_update(h, buf, (size_t)n);
		if (launch_write_all(dst, buf, (size_t)n) < 0) {
			int e = errno;
			launch_sha256_free(h);
			return launch_error_set(err, e, "cannot write the image into the store");
		}
		done += (uint64_t)n;
		on_read(pr, done);
	}
	int e = errno;
	launch_sha256_final(h, digest);
	launch_sha256_free(h);
	if (n < 0)
		return launch_error_set(err, e, "cannot read %s", src);
	if (done < size)
		return launch_error_msg(err, "cannot read %s: it ends before its squashfs does (truncated?)", src);
	return 0;
}

static bool is_squashfs(const char *path)
{
	/* (a FIFO is no squashfs file, and must not block the open) */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && launch_sqfs_is_image(fd);
}

static bool is_sif(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && launch_sif_is(fd);
}

/* The primary partition of SIF file PATH copied to TMP_FD (TMP), hashed
 * into CONTENT; its config (the Env and runscript Apptainer gives it, its
 * JSON labels as Labels) into *RUNTIME, what else the SIF says into *META
 * (the definition file, the labels, whether it is signed), its platform
 * into *PLATFORM. */
static int import_sif(const char *path, const char *tmp, int tmp_fd, struct progress *pr, char *content,
		      json_t **runtime, json_t **meta, char **platform, struct launch_error **err)
{
	_cleanup_close_ int fd = launch_open_regular(path, err);
	if (fd < 0)
		return -1;
	struct launch_sif sif;
	if (launch_sif_read(fd, path, &sif, err) < 0)
		return -1;
	int ret = -1;
	struct launch_image img = { .kind = LAUNCH_IMAGE_SQUASHFS, .path = xstrdup(tmp), .ref = xstrdup(path) };
	if (copy_squashfs(path, sif.offset, sif.size, tmp_fd, pr, content, err) < 0 || fsync(tmp_fd) < 0 ||
	    launch_image_sif_config(&img, err) < 0)
		goto out;
	if (sif.signed_)
		launch_info(
			"%s is signed: launch does not verify SIF signatures (check it with 'apptainer verify "
			"%s')",
			path, path);
	*runtime = json_object();
	if (img.env)
		json_object_set_new(*runtime, "Env", launch_json_from_strv(img.env));
	if (img.cmd)
		json_object_set_new(*runtime, "Cmd", launch_json_from_strv(img.cmd));
	*meta = json_pack("{s:s, s:b}", "format", "sif", "signed", sif.signed_);
	json_t *labels = sif.labels ? json_loads(sif.labels, 0, NULL) : NULL;
	if (json_is_object(labels)) {
		json_t *l = json_object(), *v;
		const char *k;
		json_object_foreach (labels, k, v)
			if (json_is_string(v))
				json_object_set(l, k, v);
		json_object_set_new(*runtime, "Labels", l);
		json_object_set(*meta, "labels", labels);
	} else if (sif.labels) {
		launch_info("%s: its labels object is not a JSON object: not kept", path);
	}
	json_decref(labels);
	if (sif.deffile) {
		json_t *def = json_string(sif.deffile);
		if (def)
			json_object_set_new(*meta, "definition", def);
	}
	const char *arch = launch_sif_arch_name(sif.arch);
	*platform = xasprintf("linux/%s", arch ? arch : "amd64");
	ret = 0;
out:
	launch_image_clear(&img);
	launch_sif_clear(&sif);
	return ret;
}

/* The last steps of every import: TMP (written, open as TMP_FD) into
 * STORE with DIGEST, the runtime config and the tags. */
static int store_result(const struct launch_store *store, char *tmp, int tmp_fd, const char *digest, json_t *runtime,
			json_t *meta, const char *source, char *const *tags, char **digest_out,
			struct launch_error **err)
{
	if (fsync(tmp_fd) < 0)
		return launch_error_set(err, errno, "cannot write the image into the store (%s)", tmp);
	struct stat st;
	fstat(tmp_fd, &st);
	struct launch_store_image img = {
		.digest = (char *)digest, .size = st.st_size, .source = (char *)source, .config = runtime, .meta = meta
	};
	if (launch_store_add(store, tmp, &img, tags, err) < 0)
		return -1;
	if (digest_out)
		*digest_out = xstrdup(digest);
	return 0;
}

int launch_import_plan(const struct launch_store *store, const struct launch_source *src,
		       const struct launch_image_plan *plan, const struct launch_import_opts *o, const char *source,
		       char **digest_out, struct launch_error **err)
{
	struct progress pr = { .on = o->progress, .layers = (int)plan->n_layers };
	struct launch_sqfs_writer *w = NULL;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int tmp_fd = -1;
	json_t *runtime = NULL, *meta = NULL;
	int ret = -1;
	signal(SIGPIPE, SIG_IGN); /* a dying tar2sqfs is an error, not our death */
	if (launch_store_tmpfile(store, ".sqfs", &tmp, &tmp_fd, err) < 0 ||
	    launch_sqfs_writer_start(tmp, o->compressor, 0, &w, err) < 0)
		goto out;
	if (flatten_plan(src, plan, launch_sqfs_writer_archive(w), &pr, err) < 0 ||
	    launch_sqfs_writer_finish(steal_pointer(&w), err) < 0)
		goto out;
	runtime = launch_plan_runtime_config(plan->config);
	launch_import_override_config(runtime, o->env, o->entrypoint, o->cmd, o->workdir);
	progress_end(&pr);
	if (plan->platform)
		meta = json_pack("{s:s}", "platform", plan->platform);
	if (store_result(store, tmp, tmp_fd, plan->digest, runtime, meta, source, o->tags, digest_out, err) < 0)
		goto out;
	free(steal_pointer(&tmp)); /* moved into the store */
	ret = 0;
out:
	progress_end(&pr);
	launch_sqfs_writer_abort(w, err);
	if (tmp)
		unlink(tmp);
	if (ret < 0)
		launch_store_space_hint(store, err);
	json_decref(runtime);
	json_decref(meta);
	return ret;
}

/* --- where an import reads from --- */

enum source_kind { SRC_ANY, SRC_OCI_DIR, SRC_OCI_ARCHIVE, SRC_DOCKER_ARCHIVE };

struct source_spec {
	enum source_kind kind;
	char *path;   /* what is read: a file or a directory (for stdin, the spooled copy) */
	char *select; /* the image of several: a tag, REPO:TAG or @N */
	bool stdin_;
};

static void source_spec_clear(struct source_spec *s)
{
	free(s->path);
	free(s->select);
	memset(s, 0, sizeof(*s));
}

/* REST of a source: a path that exists, or PATH:SELECT where PATH exists
 * (the last `:` first, then the first: a docker-archive's FILE:REPO:TAG). */
static int split_select(const char *rest, const char *whole, struct source_spec *out, struct launch_error **err)
{
	if (access(rest, F_OK) == 0) {
		out->path = xstrdup(rest);
		return 0;
	}
	const char *cuts[] = { strrchr(rest, ':'), strchr(rest, ':') };
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		if (!cuts[i] || cuts[i] == rest || !cuts[i][1])
			continue;
		_cleanup_free_ char *path = xstrndup(rest, (size_t)(cuts[i] - rest));
		if (access(path, F_OK) == 0) {
			out->path = steal_pointer(&path);
			out->select = xstrdup(cuts[i] + 1);
			return 0;
		}
	}
	return launch_error_set(err, ENOENT, "cannot read %s", whole);
}

static const struct {
	const char *prefix;
	enum source_kind kind;
} prefixes[] = { { "oci:", SRC_OCI_DIR },
		 { "oci-archive:", SRC_OCI_ARCHIVE },
		 { "docker-archive:", SRC_DOCKER_ARCHIVE } };

/* SOURCE as launch import takes it: FILE or DIR, DIR:TAG, FILE:REPO:TAG,
 * oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG|:@N],
 * or - (standard input). */
static int parse_source(const char *s, bool rootfs, struct source_spec *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "-")) {
		out->stdin_ = true;
		return 0;
	}
	if (launch_registry_ref_is(s))
		return launch_error_msg(err, "%s is a registry reference: use 'launch pull %s'", s, s);
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (!launch_str_has_prefix(s, prefixes[i].prefix))
			continue;
		if (rootfs)
			return launch_error_msg(err, "--rootfs takes a tar or a directory, not %s", s);
		out->kind = prefixes[i].kind;
		if (split_select(s + strlen(prefixes[i].prefix), s, out, err) < 0)
			return -1;
		struct stat st;
		if (stat(out->path, &st) < 0)
			return launch_error_set(err, errno, "cannot read %s", s);
		if (out->kind == SRC_OCI_DIR && !S_ISDIR(st.st_mode))
			return launch_error_msg(
				err,
				"%s: oci: names an OCI layout directory, and %s is a file (for a tar of "
				"one, write oci-archive:%s)",
				s, out->path, out->path);
		if (out->kind != SRC_OCI_DIR && S_ISDIR(st.st_mode))
			return launch_error_msg(err,
						"%s: %s is a directory, not an archive (for an OCI layout "
						"directory, write oci:%s)",
						s, out->path, out->path);
		return 0;
	}
	if (split_select(s, s, out, err) < 0)
		return -1;
	if (rootfs && out->select)
		return launch_error_msg(err, "--rootfs takes a tar or a directory, not %s", s);
	return 0;
}

/* Standard input (a tar, possibly compressed, of any kind launch imports)
 * into a store temporary that the caller removes: sources are read more
 * than once. */
static int spool_stdin(const struct launch_store *store, char **path, int *fd, struct launch_error **err)
{
	if (isatty(STDIN_FILENO))
		return launch_error_msg(err,
					"launch import -: standard input is a terminal (pipe an archive into it: "
					"docker save IMAGE | launch import - NAME)");
	if (launch_store_tmpfile(store, ".in", path, fd, err) < 0)
		return -1;
	static char buf[1 << 20];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return launch_error_set(err, errno, "cannot read standard input");
		if (n == 0)
			break;
		if (launch_write_all(*fd, buf, (size_t)n) < 0)
			return launch_error_set(err, errno, "cannot keep standard input in %s", *path);
		total += (uint64_t)n;
	}
	if (!total)
		return launch_error_msg(err, "launch import -: standard input was empty (pipe an archive into it)");
	return 0;
}

/* tar of directory DIR on a pipe (*FD), for --rootfs DIR: numeric owners,
 * xattrs, and the same stream for the same tree, so that it gives the same
 * image: names sorted, no access or change times, pax headers not named
 * after tar's pid. */
static int start_dir_tar(const char *dir, struct launch_proc *p, int *fd, struct launch_error **err)
{
	char *argv[] = { (char *)"tar",
			 (char *)"--create",
			 (char *)"--file=-",
			 (char *)"--format=pax",
			 (char *)"--numeric-owner",
			 (char *)"--xattrs",
			 (char *)"--xattrs-include=*",
			 (char *)"--sort=name",
			 (char *)"--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
			 (char *)"--directory",
			 (char *)dir,
			 (char *)".",
			 NULL };
	struct launch_proc_spec spec = { .path = "tar",
					 .argv = argv,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_PIPE,
					 .die_with_parent = true,
					 .what = "tar" };
	struct launch_error *e = NULL;
	if (launch_proc_spawn(&spec, p, &e) < 0) {
		launch_error_msg(err, "%s (--rootfs DIR reads the directory with GNU tar: install tar)", e->msg);
		launch_error_free(e);
		return -1;
	}
	*fd = p->out;
	p->out = -1;
	return 0;
}

/* After the stream of start_dir_tar: its failure (a file the user cannot
 * read) as the error. */
static int finish_dir_tar(struct launch_proc *p, const char *dir, struct launch_error **err)
{
	struct launch_proc_io io = { .max = 2048 };
	struct launch_error *e = NULL;
	int st = launch_proc_wait(p, &io, 0, &e);
	launch_proc_close(p);
	int ret = 0;
	if (st != 0) {
		/* tar's complaints on one line, without its closing remark */
		_cleanup_free_ char *why = xstrdup("");
		char *save = NULL;
		for (char *l = strtok_r(io.err ? io.err : (char *)"", "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			if (strstr(l, "Exiting with failure status"))
				continue;
			char *s = xasprintf("%s%s%s", why, *why ? "; " : "",
					    launch_str_has_prefix(l, "tar: ") ? l + 5 : l);
			free(why);
			why = s;
		}
		ret = launch_error_msg(err,
				       "cannot read all of %s: %s (every file must be readable by you; owners, modes "
				       "and xattrs are kept as you can read them)",
				       dir,
				       *why ? why
				       : e  ? e->msg
					    : "tar failed");
	}
	launch_error_free(e);
	free(io.out);
	free(io.err);
	return ret;
}

/* Before the plan: does the source have the document of the kind named? */
static int check_member(const struct source_spec *spec, const struct launch_source *src, struct launch_error **err)
{
	bool manifest = launch_source_has(src, "manifest.json"), index = launch_source_has(src, "index.json");
	if (spec->kind == SRC_DOCKER_ARCHIVE && !manifest)
		return launch_error_msg(err, "not a docker-archive (it has no manifest.json)%s%s",
					index ? ": it is an OCI layout, write oci-archive:" : "",
					index ? spec->path : "");
	if ((spec->kind == SRC_OCI_DIR || spec->kind == SRC_OCI_ARCHIVE) && !index)
		return launch_error_msg(err, "not an OCI image layout (it has no index.json)%s%s",
					manifest ? ": it is a docker-archive, write docker-archive:" : "",
					manifest ? spec->path : "");
	return 0;
}

/* The image format of SPEC's kind, to check the plan against. */
static int check_kind(const struct source_spec *spec, const struct launch_image_plan *plan, const char *source,
		      struct launch_error **err)
{
	bool oci = !strcmp(plan->format, "oci");
	if ((spec->kind == SRC_OCI_DIR || spec->kind == SRC_OCI_ARCHIVE) && !oci)
		return launch_error_msg(err, "%s is a docker-archive, not an OCI layout: write docker-archive:%s",
					source, spec->path);
	if (spec->kind == SRC_DOCKER_ARCHIVE && oci)
		return launch_error_msg(err, "%s is an OCI layout, not a docker-archive: write oci-archive:%s", source,
					spec->path);
	return 0;
}

int launch_import(const struct launch_config *c, const struct launch_import_opts *o, char **digest_out,
		  struct launch_error **err)
{
	struct launch_store *stores = NULL;
	size_t n_stores = 0;
	struct launch_source src = { .dirfd = -1, .fd = -1 };
	struct launch_image_plan plan = { 0 };
	struct launch_sqfs_writer *w = NULL;
	struct launch_proc dir_tar = LAUNCH_PROC_INIT;
	struct progress pr = { .on = o->progress, .layers = 1 };
	struct source_spec spec = { 0 };
	_cleanup_free_ char *tmp = NULL, *abs = NULL, *source = NULL, *spooled = NULL;
	_cleanup_close_ int tmp_fd = -1, spool_fd = -1, tar_fd = -1;
	json_t *runtime = NULL, *meta = NULL;
	char digest[LAUNCH_DIGEST_LEN + 1] = "";
	int ret = -1;

	signal(SIGPIPE, SIG_IGN); /* a dying tar2sqfs is an error, not our death */
	if (parse_source(o->source, o->rootfs, &spec, err) < 0)
		return -1;
	if (launch_stores(c, &stores, &n_stores, err) < 0)
		goto out;
	const struct launch_store *store = &stores[0];
	launch_store_gc(store);
	if (spec.stdin_) {
		if (spool_stdin(store, &spooled, &spool_fd, err) < 0)
			goto out;
		abs = xstrdup(spooled);
	} else {
		if (access(spec.path, R_OK) < 0) {
			launch_error_set(err, errno, "cannot read %s", spec.path);
			goto out;
		}
		if (!(abs = realpath(spec.path, NULL))) {
			launch_error_set(err, errno, "cannot read %s", spec.path);
			goto out;
		}
	}
	const char *shown = spec.stdin_ ? "standard input" : abs; /* the source recorded */
	struct stat st;
	bool dir = stat(abs, &st) == 0 && S_ISDIR(st.st_mode);
	bool sqfs = !o->rootfs && !spec.kind && !spec.select && is_squashfs(abs);
	bool sif = !o->rootfs && !spec.kind && !spec.select && !sqfs && is_sif(abs);
	if (!sqfs && !sif && !o->rootfs) {
		if (launch_source_open(abs, &src, err) < 0 || check_member(&spec, &src, err) < 0 ||
		    launch_plan_load_select(&src, o->platform, spec.select, &plan, err) < 0 ||
		    check_kind(&spec, &plan, o->source, err) < 0) {
			launch_error_wrap(err, "%s", o->source);
			goto out;
		}
		launch_info("%s: %s image, %zu layers, config %s, platform %s", o->source, plan.format, plan.n_layers,
			    plan.digest, plan.platform ? plan.platform : "unknown");
		source = spec.select ? xasprintf("%s:%s:%s", plan.format, shown, spec.select)
				     : xasprintf("%s:%s", plan.format, shown);
		if (launch_import_plan(store, &src, &plan, o, source, digest_out, err) < 0) {
			launch_error_wrap(err, "%s", o->source);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (launch_store_tmpfile(store, ".sqfs", &tmp, &tmp_fd, err) < 0)
		goto out;
	if (sqfs) {
		char content[LAUNCH_DIGEST_LEN + 1];
		if (copy_squashfs(abs, 0, 0, tmp_fd, &pr, content, err) < 0)
			goto out;
		runtime = json_object();
		launch_import_override_config(runtime, o->env, o->entrypoint, o->cmd, o->workdir);
		made_config_digest(runtime, content, o->platform, digest);
	} else if (sif) {
		char content[LAUNCH_DIGEST_LEN + 1];
		_cleanup_free_ char *platform = NULL;
		if (import_sif(abs, tmp, tmp_fd, &pr, content, &runtime, &meta, &platform, err) < 0) {
			launch_error_wrap(err, "%s", o->source);
			goto out;
		}
		launch_import_override_config(runtime, o->env, o->entrypoint, o->cmd, o->workdir);
		made_config_digest(runtime, content, o->platform ? o->platform : platform, digest);
		json_object_set_new(meta, "platform", json_string(o->platform ? o->platform : platform));
	} else {
		char diff_id[LAUNCH_DIGEST_LEN + 1];
		if (dir && start_dir_tar(abs, &dir_tar, &tar_fd, err) < 0)
			goto out;
		if (launch_sqfs_writer_start(tmp, o->compressor, 0, &w, err) < 0)
			goto out;
		int r = flatten_rootfs(abs, steal_fd(&tar_fd), launch_sqfs_writer_archive(w), &pr, diff_id, err);
		/* a tar that failed (an unreadable file) says why, before
		 * what its early end did to the flattening */
		if (dir && finish_dir_tar(&dir_tar, abs, err) < 0 && r == 0)
			r = -1;
		if (r < 0 || launch_sqfs_writer_finish(steal_pointer(&w), err) < 0)
			goto out;
		runtime = json_object();
		launch_import_override_config(runtime, o->env, o->entrypoint, o->cmd, o->workdir);
		made_config_digest(runtime, diff_id, o->platform, digest);
	}
	source = xasprintf("%s:%s", sqfs ? "squashfs" : sif ? "sif" : dir ? "rootfs-dir" : "rootfs", shown);
	progress_end(&pr);
	if (store_result(store, tmp, tmp_fd, digest, runtime, meta, source, o->tags, digest_out, err) < 0)
		goto out;
	free(steal_pointer(&tmp)); /* moved into the store */
	ret = 0;
out:
	progress_end(&pr);
	launch_sqfs_writer_abort(w, err);
	if (dir_tar.pid > 0) {
		launch_proc_kill(&dir_tar, SIGKILL);
		launch_proc_close(&dir_tar);
	}
	if (tmp)
		unlink(tmp);
	if (spooled)
		unlink(spooled);
	if (ret < 0 && n_stores)
		launch_store_space_hint(&stores[0], err);
	json_decref(runtime);
	json_decref(meta);
	launch_plan_clear(&plan);
	launch_source_close(&src);
	launch_stores_free(stores, n_stores);
	source_spec_clear(&spec);
	return ret;
}
