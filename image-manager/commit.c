/* SPDX-License-Identifier: Apache-2.0 */
/* Committing a writable layer (see commit.h):
 *
 *   upper dir --(child in the container's user namespace: walk, whiteouts
 *                and opaque markers to .wh. entries)--> pipe  (layer 2)
 *   base squashfs --(sqfs2tar)--> pipe                          (layer 1)
 *   both --(flatten.c, top first)--> pax --> tar2sqfs --> store
 *
 * overlayfs in a user namespace (userxattr) marks a deleted path with a
 * character device 0:0 (or, where it cannot make one, an empty file with the
 * user.overlay.whiteout xattr) and an opaque directory with
 * user.overlay.opaque="y"; its other user.overlay.* xattrs are its own
 * bookkeeping and are not copied. */
#define _GNU_SOURCE
#include "commit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "digest.h"
#include "flatten.h"
#include "ids.h"
#include "image.h"
#include "import.h"
#include "instance.h"
#include "layer.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "sqfswrite.h"
#include "store.h"
#include "upper.h"
#include "util.h"

/* --- the upper directory as a layer --- */

static bool is_overlay_xattr(const char *name)
{
	return launch_str_has_prefix(name, "user.overlay.") || launch_str_has_prefix(name, "trusted.overlay.");
}

/* May container path REL of UPPER (a mount point launch made) be left out:
 * an empty file, or a directory of such mount points only? */
static bool skippable(const char *upper, const char *rel, char *const *mps)
{
	bool listed = false;
	for (size_t i = 0; mps && mps[i] && !listed; i++)
		listed = !strcmp(mps[i] + 1, rel);
	if (!listed)
		return false;
	_cleanup_free_ char *p = xasprintf("%s/%s", upper, rel);
	struct stat st;
	if (lstat(p, &st) < 0)
		return true;
	if (S_ISREG(st.st_mode))
		return st.st_size == 0;
	if (!S_ISDIR(st.st_mode))
		return false;
	DIR *d = opendir(p);
	if (!d)
		return false;
	bool ok = true;
	for (struct dirent *de; ok && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *child = xasprintf("%s/%s", rel, de->d_name);
		ok = skippable(upper, child, mps);
	}
	closedir(d);
	return ok;
}

static int put(struct archive *out, struct archive_entry *e, struct launch_error **err)
{
	int r = archive_write_header(out, e);
	if (r == ARCHIVE_WARN) /* a name written as bytes (see flatten.c's write_header) */
		launch_debug("%s", archive_error_string(out));
	else if (r != ARCHIVE_OK)
		return launch_error_msg(err, "cannot write %s: %s", archive_entry_pathname(e),
					archive_error_string(out));
	return 0;
}

/* A marker entry: an empty file owned by root. */
static int put_marker(struct archive *out, const char *path, struct launch_error **err)
{
	struct archive_entry *m = archive_entry_new();
	archive_entry_set_pathname(m, path);
	archive_entry_set_filetype(m, AE_IFREG);
	archive_entry_set_perm(m, 0);
	archive_entry_set_size(m, 0);
	int r = put(out, m, err);
	archive_entry_free(m);
	return r;
}

int launch_commit_write_upper(const char *upper, char *const *mountpoints, int fd, struct launch_error **err)
{
	struct archive *d = archive_read_disk_new();
	struct archive *out = archive_write_new();
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	archive_entry_linkresolver_set_strategy(links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	archive_write_set_format_pax_restricted(out);
	archive_write_set_bytes_per_block(out, 0);
	archive_read_disk_set_symlink_physical(d);
	archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_ACL |
						  ARCHIVE_READDISK_NO_FFLAGS);
	int ret = -1;
	size_t ulen = strlen(upper);
	char buf[64 * 1024];
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK || archive_read_disk_open(d, upper) != ARCHIVE_OK) {
		launch_error_msg(err, "cannot read the writable layer %s: %s", upper,
				 archive_error_string(d) ? archive_error_string(d) : archive_error_string(out));
		goto out;
	}
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int r = archive_read_next_header2(d, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			launch_error_msg(err, "cannot read the writable layer %s: %s", upper, archive_error_string(d));
			archive_entry_free(e);
			goto out;
		}
		const char *full = archive_entry_pathname(e);
		const char *rel = full + (strlen(full) >= ulen ? ulen : strlen(full));
		while (*rel == '/')
			rel++;
		if (!*rel) { /* the upper root: the base image's root stays */
			archive_read_disk_descend(d);
			archive_entry_free(e);
			continue;
		}
		if (skippable(upper, rel, mountpoints)) {
			launch_debug("commit: leaving out %s, a mount point launch made", rel);
			archive_entry_free(e);
			continue;
		}
		archive_read_disk_descend(d);
		_cleanup_free_ char *relc = xstrdup(rel);
		archive_entry_set_pathname(e, relc);
		/* whiteouts become .wh. entries */
		bool whiteout = archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == 0;
		bool opaque = false;
		const char *xn;
		const void *xv;
		size_t xs;
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK) {
			if (!strcmp(xn, "user.overlay.whiteout") || !strcmp(xn, "trusted.overlay.whiteout"))
				whiteout = true;
			if ((!strcmp(xn, "user.overlay.opaque") || !strcmp(xn, "trusted.overlay.opaque")) && xs >= 1 &&
			    ((const char *)xv)[0] == 'y')
				opaque = true;
		}
		if (whiteout) {
			char *slash = strrchr(relc, '/');
			_cleanup_free_ char *wh = slash ? xasprintf("%.*s/.wh.%s", (int)(slash - relc), relc, slash + 1)
							: xasprintf(".wh.%s", relc);
			archive_entry_free(e);
			if (put_marker(out, wh, err) < 0)
				goto out;
			continue;
		}
		/* copy the xattrs but overlayfs's own */
		struct archive_entry *clean = archive_entry_clone(e);
		archive_entry_xattr_clear(clean);
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK)
			if (!is_overlay_xattr(xn))
				archive_entry_xattr_add_entry(clean, xn, xv, xs);
		archive_entry_set_uname(clean, NULL);
		archive_entry_set_gname(clean, NULL);
		bool data = archive_entry_filetype(clean) == AE_IFREG;
		struct archive_entry *spare = NULL;
		archive_entry_linkify(links, &clean, &spare);
		if (clean) {
			if (archive_entry_hardlink(clean))
				data = false;
			if (put(out, clean, err) < 0) {
				archive_entry_free(clean);
				archive_entry_free(e);
				goto out;
			}
			while (data && archive_entry_size(clean) > 0) {
				la_ssize_t n = archive_read_data(d, buf, sizeof(buf));
				if (n < 0) {
					launch_error_msg(err, "cannot read %s/%s: %s", upper, relc,
							 archive_error_string(d));
					archive_entry_free(clean);
					archive_entry_free(e);
					goto out;
				}
				if (n == 0)
					break;
				if (archive_write_data(out, buf, (size_t)n) != n) {
					launch_error_msg(err, "cannot write %s: %s", relc, archive_error_string(out));
					archive_entry_free(clean);
					archive_entry_free(e);
					goto out;
				}
			}
			archive_entry_free(clean);
		}
		archive_entry_free(spare);
		if (opaque) {
			_cleanup_free_ char *m = xasprintf("%s/.wh..wh..opq", relc);
			if (put_marker(out, m, err) < 0) {
				archive_entry_free(e);
				goto out;
			}
		}
		archive_entry_free(e);
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		launch_error_msg(err, "cannot write the layer: %s", archive_error_string(out));
		goto out;
	}
	ret = 0;
out:
	archive_entry_linkresolver_free(links);
	archive_read_free(d);
	archive_write_free(out);
	return ret;
}

/* --- child processes --- */

/* Where and how to read the upper directory. */
struct upper_src {
	const char *path;
	char **mountpoints;
	const struct launch_identity *id; /* enter a new namespace mapped like this, or */
	pid_t join;			  /* join this process's user and mount namespaces */
};

static int join_ns(pid_t pid, struct launch_error **err)
{
	static const struct {
		const char *name;
		int type;
	} ns[] = { { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS } };
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", pid, ns[i].name);
		_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, ns[i].type) < 0)
			return launch_error_set(err, errno, "cannot enter the instance's %s namespace", ns[i].name);
	}
	return 0;
}

static int walker_main(void *arg, int report)
{
	const struct upper_src *u = arg;
	struct launch_error *e = NULL;
	int r = u->join > 0 ? join_ns(u->join, &e) : launch_container_enter_userns(u->id, &e);
	if (r == 0)
		r = launch_commit_write_upper(u->path, u->mountpoints, STDOUT_FILENO, &e);
	if (r < 0) {
		launch_write_all(report, e->msg, strlen(e->msg));
		return 1;
	}
	return 0;
}

/* Start the walker of U writing to a pipe; *PIPE_FD gets the read end. A
 * failure's message comes back through P's report channel. */
static int start_walker(const struct upper_src *u, struct launch_proc *p, int *pipe_fd, struct launch_error **err)
{
	struct launch_proc_spec spec = { .child = walker_main,
					 .arg = (void *)u,
					 .out = LAUNCH_PROC_PIPE,
					 .die_with_parent = true,
					 .what = "the writable layer's reader" };
	if (launch_proc_spawn(&spec, p, err) < 0)
		return -1;
	*pipe_fd = p->out;
	p->out = -1;
	return 0;
}

/* sqfs2tar IMAGE on a pipe (*PIPE_FD), its stderr kept in P. */
static int start_sqfs2tar(const char *image, struct launch_proc *p, int *pipe_fd, struct launch_error **err)
{
	char *argv[] = { (char *)"sqfs2tar", (char *)"--root-becomes", (char *)".", (char *)image, NULL };
	struct launch_proc_spec spec = { .path = "sqfs2tar",
					 .argv = argv,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_PIPE,
					 .die_with_parent = true };
	struct launch_error *e = NULL;
	if (launch_proc_spawn(&spec, p, &e) < 0) {
		launch_error_msg(err, "%s (install squashfs-tools-ng)", e->msg);
		launch_error_free(e);
		return -1;
	}
	*pipe_fd = p->out;
	p->out = -1;
	return 0;
}

/* Wait for P (nothing when it is done already); a failure's message is
 * what it reported or wrote on its stderr. */
static int finish_child(struct launch_proc *p, const char *what, struct launch_error **err)
{
	if (p->pid <= 0)
		return 0;
	struct launch_proc_io io = { .max = 1024 };
	struct launch_error *e = NULL;
	int st = launch_proc_wait(p, &io, 0, &e);
	launch_proc_close(p);
	p->pid = -1;
	int ret = 0;
	if (st != 0)
		ret = launch_error_msg(err, "%s: %s", what, e ? e->msg : io.err && *io.err ? io.err : "failed");
	launch_error_free(e);
	free(io.out);
	free(io.err);
	return ret;
}

struct base_ctx {
	const char *image;
	struct launch_proc s2t;
	struct launch_layer_reader *reader;
};

static struct archive *reopen_base(void *arg, int k, void **handle, struct launch_error **err)
{
	struct base_ctx *b = arg;
	if (k != 0) {
		launch_error_msg(err, "the writable layer cannot be read twice");
		return NULL;
	}
	struct base_ctx *h = xcalloc(1, sizeof(*h));
	int fd;
	if (start_sqfs2tar(b->image, &h->s2t, &fd, err) < 0) {
		free(h);
		return NULL;
	}
	if (launch_layer_open_fd(fd, b->image, &h->reader, err) < 0) {
		launch_proc_kill(&h->s2t, SIGKILL);
		finish_child(&h->s2t, "sqfs2tar", NULL);
		free(h);
		return NULL;
	}
	*handle = h;
	return launch_layer_tar(h->reader);
}

static void reclose_base(void *arg, void *handle)
{
	(void)arg;
	struct base_ctx *h = handle;
	launch_layer_close(h->reader);
	launch_proc_kill(&h->s2t, SIGKILL);
	finish_child(&h->s2t, "sqfs2tar", NULL);
	free(h);
}

/* --- commit --- */

/* The base's config from the store (a stored image), plus the overrides. */
static json_t *commit_config(const struct launch_config *c, const char *digest, const struct launch_commit_opts *o)
{
	json_t *cfg = NULL;
	if (digest) {
		struct launch_store *stores = NULL;
		size_t n = 0;
		struct launch_store_image img = { 0 };
		struct launch_ref ref = { .digest = (char *)digest + 7 };
		if (launch_stores(c, &stores, &n, NULL) == 0 && launch_stores_find(stores, n, &ref, &img, NULL) == 0)
			cfg = json_deep_copy(img.config);
		launch_store_image_clear(&img);
		launch_stores_free(stores, n);
	}
	if (!cfg)
		cfg = json_object();
	launch_import_override_config(cfg, o->env, o->entrypoint, o->cmd, o->workdir);
	return cfg;
}

int launch_commit(const struct launch_config *c, const struct launch_commit_opts *o, char **digest_out,
		  struct launch_error **err)
{
	struct launch_image base = { 0 };
	struct launch_instance_info info = { 0 };
	struct launch_identity id = { 0 };
	struct launch_store *stores = NULL;
	size_t n_stores = 0;
	struct launch_sqfs_writer *w = NULL;
	struct launch_flatten *f = NULL;
	struct launch_layer_reader *top = NULL, *bottom = NULL;
	_cleanup_free_ char *rundir = NULL, *tmp = NULL, *upper = NULL, *mplist = NULL, *source = NULL;
	_cleanup_free_ char *base_path = NULL, *base_digest = NULL;
	_cleanup_close_ int tmp_fd = -1;
	_cleanup_strv_ char **mps = NULL;
	json_t *cfg = NULL;
	struct launch_proc walker = LAUNCH_PROC_INIT, s2t = LAUNCH_PROC_INIT;
	int ret = -1;

	signal(SIGPIPE, SIG_IGN);
	launch_identity_init(&id, true, NULL);
	struct upper_src u = { .id = &id };
	if (o->instance) {
		if (launch_runtime_dir(c, &rundir, NULL, err) < 0 ||
		    launch_instance_get(rundir, o->instance, &info, err) < 0)
			goto out;
		if (!info.upper) {
			launch_error_msg(err,
					 "instance %s is not writable: only instances started with --writable or "
					 "--overlay have changes to commit",
					 o->instance);
			goto out;
		}
		base_path = xstrdup(info.image);
		base_digest = info.digest ? xstrdup(info.digest) : NULL;
		upper = xstrdup(info.upper);
		mplist = info.mountpoints ? xstrdup(info.mountpoints) : NULL;
		if (info.upper_in_namespace) {
			u.join = info.holder;
		} else {
			_cleanup_free_ char *dir = xstrndup(upper, strlen(upper) - strlen("/upper"));
			if (launch_upper_info_read(dir, &id, err) < 0)
				goto out;
		}
		source = xasprintf("commit:instance %s", o->instance);
	} else {
		if (launch_image_resolve(o->image, c, &base, err) < 0)
			goto out;
		if (base.kind != LAUNCH_IMAGE_SQUASHFS) {
			launch_error_msg(err,
					 "launch commit needs a squashfs base image, and %s is a directory (import it "
					 "with 'launch import --rootfs', or pack it with mksquashfs)",
					 o->image);
			goto out;
		}
		base_path = xstrdup(base.path);
		base_digest = base.digest ? xstrdup(base.digest) : NULL;
		struct stat st;
		_cleanup_free_ char *up = xasprintf("%s/upper", o->overlay);
		if (stat(up, &st) < 0 || !S_ISDIR(st.st_mode)) {
			launch_error_msg(err,
					 "%s is not an overlay directory of launch (no upper/ in it: make one with "
					 "'launch run --overlay %s ...')",
					 o->overlay, o->overlay);
			goto out;
		}
		upper = steal_pointer(&up);
		mplist = xasprintf("%s/mountpoints", o->overlay);
		int r = launch_upper_info_read(o->overlay, &id, err);
		if (r < 0)
			goto out;
		if (r == 1)
			launch_identity_choose_mode(&id, c->root_subids, c->root_seccomp, NULL);
		source = xasprintf("commit:%s + %s", o->image, o->overlay);
	}
	mps = mplist ? launch_upper_mountpoints(mplist) : xcalloc(1, sizeof(char *));
	u.path = upper;
	u.mountpoints = mps;
	cfg = commit_config(c, base_digest, o);

	if (launch_stores(c, &stores, &n_stores, err) < 0 ||
	    launch_store_tmpfile(&stores[0], ".sqfs", &tmp, &tmp_fd, err) < 0)
		goto out;
	int top_fd, bottom_fd;
	if (start_walker(&u, &walker, &top_fd, err) < 0)
		goto out;
	if (start_sqfs2tar(base_path, &s2t, &bottom_fd, err) < 0) {
		close(top_fd);
		goto out;
	}
	if (launch_layer_open_fd(top_fd, "the writable layer", &top, err) < 0) {
		close(bottom_fd);
		goto out;
	}
	if (launch_layer_open_fd(bottom_fd, base_path, &bottom, err) < 0)
		goto out;
	if (launch_sqfs_writer_start(tmp, o->compressor, 0, &w, err) < 0)
		goto out;
	struct base_ctx bc = { .image = base_path };
	struct launch_flatten_layers again = { reopen_base, reclose_base, &bc };
	f = launch_flatten_new(launch_sqfs_writer_archive(w), 2, &again);
	char diff[LAUNCH_DIGEST_LEN + 1];
	if (launch_flatten_layer(f, 1, launch_layer_tar(top), err) < 0 || launch_layer_verify(top, err) < 0) {
		launch_error_wrap(err, "the writable layer");
		goto out;
	}
	launch_layer_diff_id(top, diff);
	if (launch_flatten_layer(f, 0, launch_layer_tar(bottom), err) < 0 || launch_layer_verify(bottom, err) < 0 ||
	    launch_flatten_finish(f, err) < 0) {
		launch_error_wrap(err, "the base image %s", base_path);
		goto out;
	}
	if (finish_child(&walker, "cannot read the writable layer", err) < 0 ||
	    finish_child(&s2t, "cannot read the base image (sqfs2tar)", err) < 0)
		goto out;
	if (launch_sqfs_writer_finish(steal_pointer(&w), err) < 0)
		goto out;
	if (fsync(tmp_fd) < 0) {
		launch_error_set(err, errno, "cannot write the image into the store (%s)", tmp);
		goto out;
	}
	/* identity: the config, the base and the changes */
	json_t *whole = json_pack("{s:O, s:{s:s, s:[s, s]}}", "config", cfg, "rootfs", "type", "layers", "diff_ids",
				  base_digest ? base_digest : "sha256:unknown", diff);
	char *text = json_dumps(whole, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(whole);
	char digest[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(text, strlen(text), digest);
	free(text);
	struct stat st;
	fstat(tmp_fd, &st);
	struct launch_store_image img = { .digest = digest, .size = st.st_size, .source = source, .config = cfg };
	if (launch_store_add(&stores[0], tmp, &img, o->tags, err) < 0)
		goto out;
	free(steal_pointer(&tmp));
	if (digest_out)
		*digest_out = xstrdup(digest);
	ret = 0;
out:
	launch_flatten_free(f);
	launch_layer_close(top);
	launch_layer_close(bottom);
	launch_sqfs_writer_abort(w, err);
	/* the readers are closed: the children see EOF or EPIPE and end */
	if (walker.pid > 0) {
		struct launch_error *we = NULL;
		if (finish_child(&walker, "cannot read the writable layer", &we) < 0 && ret < 0 && err &&
		    !strstr(we->msg, "Broken pipe")) {
			launch_error_free(*err); /* the walker's own failure came first */
			*err = steal_pointer(&we);
		}
		launch_error_free(we);
	}
	launch_proc_kill(&s2t, SIGKILL);
	finish_child(&s2t, "sqfs2tar", NULL);
	if (tmp)
		unlink(tmp);
	if (ret < 0 && n_stores)
		launch_store_space_hint(&stores[0], err);
	json_decref(cfg);
	launch_stores_free(stores, n_stores);
	launch_identity_clear(&id);
	launch_instance_info_clear(&info);
	launch_image_clear(&base);
	return ret;
}
