/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving the IMAGE argument (see image.h). */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "sif.h"
#include "sqfs.h"
#include "store.h"
#include "trust.h"
#include "util.h"

extern char **environ;

/* Does FD hold the squashfs magic at byte OFFSET? */
static bool has_sqfs_magic(int fd, uint64_t offset)
{
	char magic[4];
	return pread(fd, magic, 4, (off_t)offset) == 4 && memcmp(magic, "hsqs", 4) == 0;
}

/* Here rather than in sqfs_*.c: the SPANK plugin links image.c, not FUSE. */
bool launch_sqfs_is_image(int fd)
{
	return has_sqfs_magic(fd, 0);
}

int launch_sqfs_open_file(const char *image, uint64_t offset, struct launch_error **err)
{
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", image);
	if (!has_sqfs_magic(fd, offset)) {
		close(fd);
		return launch_error_msg(err, "%s is not a squashfs image (no squashfs magic at byte %llu)", image,
					(unsigned long long)offset);
	}
	return fd;
}

const char *launch_image_kind_name(enum launch_image_kind k)
{
	return k == LAUNCH_IMAGE_SQUASHFS ? "squashfs" : "directory";
}

static const struct launch_image_files *files;

void launch_image_set_files(const struct launch_image_files *f)
{
	files = f;
}

#define SIF_ENV_DIR "/.singularity.d/env"
#define SIF_RUNSCRIPT "/.singularity.d/runscript"
#define SIF_FILE_MAX (1u << 20)

int launch_image_sif_config(struct launch_image *img, struct launch_error **err)
{
	if (!files) {
		launch_debug("%s: its environment and runscript are not read here", img->path);
		return 0;
	}
	_cleanup_strv_ char **names = NULL;
	int r = files->list_dir(img->path, img->offset, SIF_ENV_DIR, &names, err);
	if (r < 0)
		return launch_error_wrap(err, "SIF image %s", img->ref ? img->ref : img->path);
	char **env = xcalloc(1, sizeof(char *));
	for (size_t i = 0; r == 0 && names[i]; i++) {
		size_t n = strlen(names[i]);
		if (n < 4 || strcmp(names[i] + n - 3, ".sh") != 0)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", SIF_ENV_DIR, names[i]), *text = NULL;
		unsigned mode = 0;
		int fr = files->read_file(img->path, img->offset, path, SIF_FILE_MAX, &text, NULL, &mode, err);
		if (fr < 0) {
			launch_strv_free(env);
			return launch_error_wrap(err, "SIF image %s", img->ref ? img->ref : img->path);
		}
		if (fr > 0)
			continue;
		size_t skipped = 0;
		launch_sif_env_parse(text, &env, &skipped);
		if (skipped)
			launch_debug("%s: %zu line(s) of %s are not simple assignments: not taken", img->path, skipped,
				     path);
	}
	launch_strv_free(img->env);
	img->env = env;
	_cleanup_free_ char *script = NULL;
	unsigned mode = 0;
	r = files->read_file(img->path, img->offset, SIF_RUNSCRIPT, SIF_FILE_MAX, &script, NULL, &mode, err);
	if (r < 0)
		return launch_error_wrap(err, "SIF image %s", img->ref ? img->ref : img->path);
	if (r == 0 && !img->cmd && !img->entrypoint) {
		/* Apptainer's run action executes it, or sources it in /bin/sh
		 * when it is not executable */
		img->cmd = xcalloc(1, sizeof(char *));
		if (!(mode & 0111))
			launch_strv_push(&img->cmd, xstrdup("/bin/sh"));
		launch_strv_push(&img->cmd, xstrdup(SIF_RUNSCRIPT));
	}
	return 0;
}

/* PATH, open as FD, is a SIF file: its primary partition, its config. */
static int resolve_sif(const char *ref, int fd, struct launch_image *out, struct launch_error **err)
{
	struct launch_sif sif;
	if (launch_sif_read(fd, out->path, &sif, err) < 0)
		return -1;
	out->kind = LAUNCH_IMAGE_SQUASHFS;
	out->sif = true;
	out->offset = sif.offset;
	out->size = sif.size;
	if (sif.signed_)
		launch_info(
			"%s is signed: launch does not verify SIF signatures (check it with 'apptainer verify "
			"%s')",
			ref, ref);
	if (sif.partitions > 1)
		launch_debug("%s: %zu partitions, running the primary one (at byte %llu)", ref, sif.partitions,
			     (unsigned long long)sif.offset);
	launch_sif_clear(&sif);
	return launch_image_sif_config(out, err);
}

static int resolve_path(const char *ref, struct launch_image *out, struct launch_error **err)
{
	struct stat st;
	if (stat(ref, &st) < 0)
		return launch_error_set(err, errno, "image %s", ref);
	char *abs = realpath(ref, NULL);
	if (!abs)
		return launch_error_set(err, errno, "image %s", ref);
	out->path = abs;
	out->ref = xstrdup(ref);
	if (S_ISDIR(st.st_mode)) {
		out->kind = LAUNCH_IMAGE_DIRECTORY;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		launch_image_clear(out);
		return launch_error_msg(err, "image %s is neither a squashfs file nor a directory", ref);
	}
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		launch_image_clear(out);
		return launch_error_set(err, e, "cannot open image %s", ref);
	}
	if (launch_sif_is(fd)) {
		if (resolve_sif(ref, fd, out, err) < 0) {
			launch_image_clear(out);
			return -1;
		}
		return 0;
	}
	if (!launch_sqfs_is_image(fd)) {
		launch_image_clear(out);
		return launch_error_msg(err,
					"image %s is neither a squashfs file nor a SIF file (no squashfs magic at its "
					"start; import docker-archives and OCI layouts with 'launch import')",
					ref);
	}
	out->kind = LAUNCH_IMAGE_SQUASHFS;
	return 0;
}

static char **strv_of(json_t *a)
{
	if (!json_is_array(a))
		return NULL;
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach (a, i, e)
		if (json_is_string(e))
			launch_strv_push(&v, xstrdup(json_string_value(e)));
	return v;
}

static char *str_of(json_t *s)
{
	return json_is_string(s) && *json_string_value(s) ? xstrdup(json_string_value(s)) : NULL;
}

void launch_image_set_config(struct launch_image *img, json_t *c)
{
	img->env = strv_of(json_object_get(c, "Env"));
	img->entrypoint = strv_of(json_object_get(c, "Entrypoint"));
	img->cmd = strv_of(json_object_get(c, "Cmd"));
	img->workdir = str_of(json_object_get(c, "WorkingDir"));
	img->user = str_of(json_object_get(c, "User"));
}

static int resolve_stored(const char *ref, const struct launch_config *c, struct launch_image *out, bool *missing,
			  struct launch_error **err)
{
	struct launch_ref r;
	if (launch_ref_parse(ref, &r, err) < 0)
		return -1;
	struct launch_store *stores = NULL;
	size_t n = 0;
	struct launch_store_image img = { 0 };
	int ret = -1;
	if (launch_stores(c, &stores, &n, err) < 0) {
		*missing = true;
		goto out;
	}
	struct launch_error *e = NULL;
	if (launch_stores_find(stores, n, &r, &img, &e) < 0) {
		*missing = !launch_error_is(e, LAUNCH_ERR_AMBIGUOUS);
		if (err)
			*err = e;
		else
			launch_error_free(e);
		goto out;
	}
	struct stat st;
	if (stat(img.file, &st) < 0) {
		launch_error_set(err, errno, "image %s: its file %s is missing from the store", ref, img.file);
		goto out;
	}
	out->kind = LAUNCH_IMAGE_SQUASHFS;
	out->path = steal_pointer(&img.file);
	out->ref = xstrdup(ref);
	out->digest = steal_pointer(&img.digest);
	launch_image_set_config(out, img.config);
	ret = 0;
out:
	launch_store_image_clear(&img);
	launch_stores_free(stores, n);
	launch_ref_clear(&r);
	return ret;
}

/* Run `launch-image pull -q REF` and wait for it; its errors go to our
 * stderr, after which a one-line summary is ours. */
static int pull_with_helper(const char *ref, struct launch_error **err)
{
	_cleanup_free_ char *helper = launch_helper_path();
	if (!helper)
		return launch_error_msg(err,
					"cannot pull %s: the launch-image helper is not installed (reinstall launch)",
					ref);
	launch_info("%s is not in your store: pulling it", ref);
	char level[16];
	snprintf(level, sizeof(level), "%d", launch_log_level());
	struct launch_env env = { launch_strv_copy(environ) };
	launch_env_set(&env, "LAUNCH_LOG_LEVEL", level);
	char *argv[] = { helper, (char *)"pull", (char *)ref, NULL };
	/* its output is for the user: on stderr, as launch's stdout may be data (inspect) */
	struct launch_proc_spec spec = {
		.path = helper, .argv = argv, .envp = env.vars, .out = STDERR_FILENO, .what = "launch-image pull"
	};
	int st = launch_proc_run(&spec, NULL, 0, err);
	launch_env_clear(&env);
	if (st < 0)
		return -1;
	if (st != 0)
		return launch_error_msg(err, "cannot run %s: pulling it failed (the reason is above)", ref);
	return 0;
}

/* docker://REF: the image pulled under its local name, pulled now when it
 * is missing and the site allows (pull_on_run). */
static int resolve_remote(const char *ref, const struct launch_config *c, struct launch_image *out,
			  struct launch_error **err)
{
	struct launch_registry_ref rr;
	if (launch_registry_ref_parse_with(ref, c ? c->default_registry : NULL, &rr, err) < 0)
		return -1;
	_cleanup_free_ char *local = launch_registry_ref_local_name(&rr);
	launch_registry_ref_clear(&rr);
	bool missing = false;
	struct launch_error *e = NULL;
	if (resolve_stored(local, c, out, &missing, &e) == 0)
		return 0;
	if (!missing || (c && !c->pull_on_run)) {
		if (missing) {
			launch_error_free(e);
			return launch_error_msg(err,
						"%s is not in your image store, and this site does not pull on run "
						"(pull_on_run): run 'launch pull %s' first",
						ref, ref);
		}
		if (err)
			*err = e;
		else
			launch_error_free(e);
		return -1;
	}
	launch_error_free(e);
	if (pull_with_helper(ref, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (resolve_stored(local, c, out, &missing, err) < 0)
		return -1;
	free(out->ref);
	out->ref = xstrdup(ref);
	return 0;
}

int launch_image_resolve(const char *ref, const struct launch_config *c, struct launch_image *out,
			 struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!*ref)
		return launch_error_msg(err, "the image name is empty");
	if (launch_registry_ref_is(ref))
		return resolve_remote(ref, c, out, err);
	if (!launch_ref_looks_like(ref))
		return resolve_path(ref, out, err);
	struct launch_error *e = NULL;
	bool missing = false;
	if (resolve_stored(ref, c, out, &missing, &e) == 0)
		return 0;
	/* not stored: a file or directory of that name will do */
	if (missing && ref[0] != '@' && access(ref, F_OK) == 0) {
		launch_error_free(e);
		return resolve_path(ref, out, err);
	}
	/* then, where the site says so, the registry (as pyxis and enroot do) */
	if (missing && ref[0] != '@' && c && c->pull_by_name) {
		launch_error_free(e);
		_cleanup_free_ char *remote = xasprintf("docker://%s", ref);
		return resolve_remote(remote, c, out, err);
	}
	if (missing && ref[0] != '@' && e) {
		struct launch_error *why = NULL;
		launch_error_msg(
			&why,
			"%s; no file or directory %s is here either (a path starts with / or ./), and this "
			"site does not pull names from its registry (pull_by_name): give docker://%s to pull it",
			e->msg, ref, ref);
		why->errno_ = e->errno_;
		why->exit_code = e->exit_code;
		why->kind = e->kind;
		launch_error_free(e);
		e = why;
	}
	if (err)
		*err = e;
	else
		launch_error_free(e);
	return -1;
}

/* SIZE bytes of SRC from byte START as the file NAME in DFD: written to a
 * temporary beside it, renamed over NAME at the end, so NAME is never seen
 * half-written. */
static int copy_as(int src, off_t start, off_t size, int dfd, const char *name, struct launch_error **err)
{
	_cleanup_free_ char *tmp = xasprintf(".%s.%d", name, (int)getpid());
	unlinkat(dfd, tmp, 0); /* a killed copy's, of a process with our pid */
	int out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return launch_error_set(err, errno, "cannot create %s", tmp);
	off_t done = 0;
	while (done < size) {
		off_t at = start + done;
		ssize_t n = copy_file_range(src, &at, out, NULL, (size_t)(size - done), 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
			char buf[1 << 16];
			size_t want = size - done < (off_t)sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
			n = pread(src, buf, want, start + done);
			if (n > 0 && write(out, buf, (size_t)n) != n)
				n = -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;
			close(out);
			unlinkat(dfd, tmp, 0);
			return launch_error_set(err, e, "cannot copy the image to %s", tmp);
		}
		done += n;
	}
	if (close(out) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		return launch_error_set(err, e, "cannot copy the image to %s", name);
	}
	return 0;
}

int launch_image_stage(struct launch_image *img, const char *dir, struct launch_error **err)
{
	if (img->kind != LAUNCH_IMAGE_SQUASHFS)
		return 0;
	int src = open(img->path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return launch_error_set(err, errno, "cannot open the image %s", img->path);
	struct stat st;
	int dfd = -1, ret = -1;
	_cleanup_free_ char *name = NULL;
	if (fstat(src, &st) < 0) {
		launch_error_set(err, errno, "cannot stat the image %s", img->path);
		goto out;
	}
	dfd = launch_trust_dir(dir, getuid(), 0700, LAUNCH_TRUST_CREATE, "staging directory",
			       "choose another stage_dir in plugstack.conf", err);
	if (dfd < 0)
		goto out;
	if (img->digest && launch_str_has_prefix(img->digest, "sha256:"))
		name = xasprintf("%s.sqfs", img->digest + 7);
	else
		name = xasprintf("file-%llx-%llx-%llx-%lld.%09ld.sqfs", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
				 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct stat have;
	if (fstatat(dfd, name, &have, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(have.st_mode) && have.st_uid == getuid() &&
	    have.st_size == st.st_size) {
		launch_debug("staging: %s/%s is there already", dir, name);
	} else {
		launch_debug("staging: copying %s to %s/%s", img->path, dir, name);
		if (copy_as(src, 0, st.st_size, dfd, name, err) < 0)
			goto out;
	}
	free(img->path);
	img->path = xasprintf("%s/%s", dir, name);
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	close(src);
	return ret;
}

int launch_image_extract(const struct launch_image *img, const char *path, struct launch_error **err)
{
	int src = open(img->path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return launch_error_set(err, errno, "cannot open the image %s", img->path);
	struct stat st;
	if (fstat(src, &st) < 0) {
		int e = errno;
		close(src);
		return launch_error_set(err, e, "cannot stat the image %s", img->path);
	}
	off_t size = img->size ? (off_t)img->size : st.st_size - (off_t)img->offset;
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = dfd < 0 ? launch_error_set(err, errno, "cannot open %s", dir)
			  : copy_as(src, (off_t)img->offset, size, dfd, slash ? slash + 1 : path, err);
	if (dfd >= 0)
		close(dfd);
	close(src);
	return ret;
}

void launch_image_clear(struct launch_image *img)
{
	free(img->path);
	free(img->ref);
	free(img->digest);
	launch_strv_free(img->env);
	launch_strv_free(img->entrypoint);
	launch_strv_free(img->cmd);
	free(img->workdir);
	free(img->user);
	memset(img, 0, sizeof(*img));
}
