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
#include "jsonpos.h"
#include "layer.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "sif.h"
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

/* The error of a failed write of WHAT to OUT; LAUNCH_ERR_PIPE_CLOSED when
 * its reader went away. */
static int write_failed(struct archive *out, const char *what, struct launch_error **err)
{
	return launch_error_kind_msg(err, archive_errno(out) == EPIPE ? LAUNCH_ERR_PIPE_CLOSED : LAUNCH_ERR_GENERIC,
				     "cannot write %s: %s", what, archive_error_string(out));
}

static int put(struct archive *out, struct archive_entry *e, struct launch_error **err)
{
	int r = archive_write_header(out, e);
	if (r == ARCHIVE_WARN) /* a name written as bytes (see flatten.c's write_header) */
		launch_debug("%s", archive_error_string(out));
	else if (r != ARCHIVE_OK)
		return write_failed(out, archive_entry_pathname(e), err);
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

/* The walk of an upper directory into a pax stream. */
struct upper_walk {
	const char *upper;
	char *const *mountpoints;
	struct archive *disk;
	struct archive *out;
	struct archive_entry_linkresolver *links;
};

/* What overlayfs says of E: a whiteout (a 0:0 character device, or its
 * xattr), an opaque directory (its xattr). */
static void overlay_marks(struct archive_entry *e, bool *whiteout, bool *opaque)
{
	*whiteout = archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == 0;
	*opaque = false;
	const char *xn;
	const void *xv;
	size_t xs;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK) {
		if (!strcmp(xn, "user.overlay.whiteout") || !strcmp(xn, "trusted.overlay.whiteout"))
			*whiteout = true;
		if ((!strcmp(xn, "user.overlay.opaque") || !strcmp(xn, "trusted.overlay.opaque")) && xs >= 1 &&
		    ((const char *)xv)[0] == 'y')
			*opaque = true;
	}
}

/* A copy of E without overlayfs's own xattrs, and without user and group
 * names (the ids are what the container saw). */
static struct archive_entry *clean_entry(struct archive_entry *e)
{
	struct archive_entry *clean = archive_entry_clone(e);
	archive_entry_xattr_clear(clean);
	const char *xn;
	const void *xv;
	size_t xs;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK)
		if (!is_overlay_xattr(xn))
			archive_entry_xattr_add_entry(clean, xn, xv, xs);
	archive_entry_set_uname(clean, NULL);
	archive_entry_set_gname(clean, NULL);
	return clean;
}

/* The data of the file the walk is at, REL, into the output. */
static int copy_data(struct upper_walk *w, const char *rel, struct launch_error **err)
{
	char buf[64 * 1024];
	for (;;) {
		la_ssize_t n = archive_read_data(w->disk, buf, sizeof(buf));
		if (n < 0)
			return launch_error_msg(err, "cannot read %s/%s: %s", w->upper, rel,
						archive_error_string(w->disk));
		if (n == 0)
			return 0;
		if (archive_write_data(w->out, buf, (size_t)n) != n)
			return write_failed(w->out, rel, err);
	}
}

/* E, named REL, copied as it is but for overlayfs's xattrs; another name
 * of a file written before becomes a hardlink to it. */
static int put_copy(struct upper_walk *w, struct archive_entry *e, const char *rel, struct launch_error **err)
{
	struct archive_entry *clean = clean_entry(e);
	bool data = archive_entry_filetype(clean) == AE_IFREG;
	struct archive_entry *spare = NULL;
	archive_entry_linkify(w->links, &clean, &spare);
	int r = 0;
	if (clean) {
		if (archive_entry_hardlink(clean))
			data = false;
		r = put(w->out, clean, err);
		if (r == 0 && data && archive_entry_size(clean) > 0)
			r = copy_data(w, rel, err);
		archive_entry_free(clean);
	}
	archive_entry_free(spare);
	return r;
}

/* One entry of the walk: left out, written as a whiteout, or copied (with
 * the marker of an opaque directory after it). */
static int walk_entry(struct upper_walk *w, struct archive_entry *e, struct launch_error **err)
{
	const char *full = archive_entry_pathname(e);
	size_t ulen = strlen(w->upper);
	const char *rel = full + (strlen(full) >= ulen ? ulen : strlen(full));
	while (*rel == '/')
		rel++;
	if (!*rel) { /* the upper root: the base image's root stays */
		archive_read_disk_descend(w->disk);
		return 0;
	}
	if (skippable(w->upper, rel, w->mountpoints)) {
		launch_debug("commit: leaving out %s, a mount point launch made", rel);
		return 0;
	}
	archive_read_disk_descend(w->disk);
	_cleanup_free_ char *relc = xstrdup(rel);
	archive_entry_set_pathname(e, relc);
	bool whiteout, opaque;
	overlay_marks(e, &whiteout, &opaque);
	if (whiteout) { /* whiteouts become .wh. entries */
		char *slash = strrchr(relc, '/');
		_cleanup_free_ char *wh = slash ? xasprintf("%.*s/.wh.%s", (int)(slash - relc), relc, slash + 1)
						: xasprintf(".wh.%s", relc);
		return put_marker(w->out, wh, err);
	}
	if (put_copy(w, e, relc, err) < 0)
		return -1;
	if (opaque) {
		_cleanup_free_ char *m = xasprintf("%s/.wh..wh..opq", relc);
		return put_marker(w->out, m, err);
	}
	return 0;
}

/* The walk's next entry into *E: 1, or 0 at its end, or -1. */
static int next_entry(struct upper_walk *w, struct archive_entry **e, struct launch_error **err)
{
	*e = archive_entry_new();
	int r = archive_read_next_header2(w->disk, *e);
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	archive_entry_free(*e);
	*e = NULL;
	if (r == ARCHIVE_EOF)
		return 0;
	return launch_error_msg(err, "cannot read the writable layer %s: %s", w->upper, archive_error_string(w->disk));
}

int launch_commit_write_upper(const char *upper, char *const *mountpoints, int fd, struct launch_error **err)
{
	struct upper_walk w = { upper, mountpoints, archive_read_disk_new(), archive_write_new(),
				archive_entry_linkresolver_new() };
	archive_entry_linkresolver_set_strategy(w.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	archive_write_set_format_pax_restricted(w.out);
	archive_write_set_bytes_per_block(w.out, 0);
	archive_read_disk_set_symlink_physical(w.disk);
	archive_read_disk_set_behavior(w.disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_ACL |
						       ARCHIVE_READDISK_NO_FFLAGS);
	int r;
	if (archive_write_open_fd(w.out, fd) != ARCHIVE_OK || archive_read_disk_open(w.disk, upper) != ARCHIVE_OK) {
		r = launch_error_msg(err, "cannot read the writable layer %s: %s", upper,
				     archive_error_string(w.disk) ? archive_error_string(w.disk)
								  : archive_error_string(w.out));
	} else {
		struct archive_entry *e;
		while ((r = next_entry(&w, &e, err)) > 0) {
			r = walk_entry(&w, e, err);
			archive_entry_free(e);
			if (r < 0)
				break;
		}
	}
	if (r == 0 && archive_write_close(w.out) != ARCHIVE_OK)
		r = write_failed(w.out, "the layer", err);
	archive_entry_linkresolver_free(w.links);
	archive_read_free(w.disk);
	archive_write_free(w.out);
	return r;
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

/* The walker's exit statuses: the parent keeps its own error when the
 * walker stopped only because the parent had stopped reading. */
enum { WALKER_FAILED = 1, WALKER_READER_GONE = 2 };

static int walker_main(void *arg, int report)
{
	const struct upper_src *u = arg;
	/* holding the read end of its own pipe, the walker would block on a
	 * full pipe once the commit stopped reading, instead of failing with
	 * EPIPE, and the commit would wait for it for ever */
	launch_fds_close(&report, 1);
	struct launch_error *e = NULL;
	int r = u->join > 0 ? join_ns(u->join, &e) : launch_container_enter_userns(u->id, &e);
	if (r == 0)
		r = launch_commit_write_upper(u->path, u->mountpoints, STDOUT_FILENO, &e);
	if (r < 0) {
		launch_write_all(report, e->msg, strlen(e->msg));
		int st = launch_error_is(e, LAUNCH_ERR_PIPE_CLOSED) ? WALKER_READER_GONE : WALKER_FAILED;
		launch_error_free(e);
		return st;
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
	return launch_sqfs_reader_start(image, p, pipe_fd, err);
}

/* Wait for P (nothing when it is done already); a failure's message is
 * what it reported or wrote on its stderr. *STATUS (may be NULL) gets its
 * exit status, 0 when it was done already. */
static int finish_child(struct launch_proc *p, const char *what, int *status, struct launch_error **err)
{
	if (status)
		*status = 0;
	if (p->pid <= 0)
		return 0;
	struct launch_proc_io io = { .max = 1024 };
	struct launch_error *e = NULL;
	int st = launch_proc_wait(p, &io, 0, &e);
	if (status) /* with a report, launch_proc_wait gives -1 and the status in the error */
		*status = st < 0 && e ? e->exit_code : st;
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
	if (k != 0 || !b->image) {
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
		finish_child(&h->s2t, "sqfs2tar", NULL, NULL);
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
	finish_child(&h->s2t, "sqfs2tar", NULL, NULL);
	free(h);
}

/* --- commit --- */

/* The base's config from the store (a stored image), or what the base's
 * file gave (BASE: a SIF's environment and runscript), plus the overrides. */
static json_t *commit_config(const struct launch_config *c, const char *digest, const struct launch_image *base,
			     const struct launch_commit_opts *o)
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
	if (!cfg) {
		cfg = json_object();
		if (base->env)
			json_object_set_new(cfg, "Env", launch_json_from_strv(base->env));
		if (base->cmd)
			json_object_set_new(cfg, "Cmd", launch_json_from_strv(base->cmd));
	}
	launch_import_override_config(cfg, o->env, o->entrypoint, o->cmd, o->workdir);
	return cfg;
}

/* One commit: where the base and the changes come from, and what is made
 * of them. */
struct commit {
	const struct launch_config *c;
	const struct launch_commit_opts *o;
	struct launch_image base;
	struct launch_instance_info info;
	struct launch_identity id;
	struct upper_src u;
	char *base_path, *base_digest, *upper, *mplist, *source;
	char **mps;
	json_t *cfg;
	struct launch_store *stores;
	size_t n_stores;
	char *tmp; /* the new image's file until it is in the store */
	int tmp_fd;
	char *part; /* a SIF base's partition, copied for sqfs2tar */
	int part_fd;
	struct launch_proc walker, s2t;
	struct launch_layer_reader *top, *bottom;
	struct launch_sqfs_writer *w;
	struct base_ctx bc;
	struct launch_flatten *f;
	char diff[LAUNCH_DIGEST_LEN + 1]; /* the changes' diff_id */
};

/* The changes of a running instance: its upper directory, and the
 * namespaces to join or the id mapping to enter to read it. */
static int commit_from_instance(struct commit *cm, struct launch_error **err)
{
	const char *name = cm->o->instance;
	_cleanup_free_ char *rundir = NULL;
	if (launch_runtime_dir(cm->c, &rundir, NULL, err) < 0 || launch_instance_get(rundir, name, &cm->info, err) < 0)
		return -1;
	if (!cm->info.upper)
		return launch_error_msg(err,
					"instance %s is not writable: only instances started with --writable or "
					"--overlay have changes to commit",
					name);
	/* the image as the user named it: its file is what its digest names
	 * (the name may have moved since), or the path itself */
	_cleanup_free_ char *ref = cm->info.digest ? xasprintf("@%s", cm->info.digest) : xstrdup(cm->info.image);
	if (launch_image_resolve(ref, cm->c, &cm->base, err) < 0)
		return launch_error_wrap(err, "the image of instance %s", name);
	if (cm->base.kind != LAUNCH_IMAGE_SQUASHFS)
		return launch_error_msg(err, "launch commit needs a squashfs base image, and instance %s runs %s", name,
					cm->info.image);
	cm->base_path = xstrdup(cm->base.path);
	cm->base_digest = cm->info.digest ? xstrdup(cm->info.digest) : NULL;
	cm->upper = xstrdup(cm->info.upper);
	cm->mplist = cm->info.mountpoints ? xstrdup(cm->info.mountpoints) : NULL;
	if (cm->info.upper_in_namespace) {
		cm->u.join = cm->info.holder;
	} else {
		_cleanup_free_ char *dir = xstrndup(cm->upper, strlen(cm->upper) - strlen("/upper"));
		if (launch_upper_info_read(dir, &cm->id, err) < 0)
			return -1;
	}
	cm->source = xasprintf("commit:instance %s", name);
	return 0;
}

/* The changes an --overlay directory holds over a squashfs image, and the
 * id mapping the container had. */
static int commit_from_overlay(struct commit *cm, struct launch_error **err)
{
	const struct launch_commit_opts *o = cm->o;
	if (launch_image_resolve(o->image, cm->c, &cm->base, err) < 0)
		return -1;
	if (cm->base.kind != LAUNCH_IMAGE_SQUASHFS)
		return launch_error_msg(err,
					"launch commit needs a squashfs base image, and %s is a directory (import it "
					"with 'launch import --rootfs', or pack it with mksquashfs)",
					o->image);
	cm->base_path = xstrdup(cm->base.path);
	cm->base_digest = cm->base.digest ? xstrdup(cm->base.digest) : NULL;
	struct stat st;
	_cleanup_free_ char *up = xasprintf("%s/upper", o->overlay);
	if (stat(up, &st) < 0 || !S_ISDIR(st.st_mode))
		return launch_error_msg(err,
					"%s is not an overlay directory of launch (no upper/ in it: make one with "
					"'launch run --overlay %s ...')",
					o->overlay, o->overlay);
	cm->upper = steal_pointer(&up);
	cm->mplist = xasprintf("%s/mountpoints", o->overlay);
	int r = launch_upper_info_read(o->overlay, &cm->id, err);
	if (r < 0)
		return -1;
	if (r == 1)
		launch_identity_choose_mode(&cm->id, cm->c->root_subids, cm->c->root_seccomp, NULL);
	cm->source = xasprintf("commit:%s + %s", o->image, o->overlay);
	return 0;
}

/* The changes as a layer tar (launch build's COPY), over a squashfs image
 * or over nothing. */
static int commit_from_layer(struct commit *cm, struct launch_error **err)
{
	const struct launch_commit_opts *o = cm->o;
	if (o->image) {
		if (launch_image_resolve(o->image, cm->c, &cm->base, err) < 0)
			return -1;
		if (cm->base.kind != LAUNCH_IMAGE_SQUASHFS)
			return launch_error_msg(err, "%s is not a squashfs image", o->image);
		cm->base_path = xstrdup(cm->base.path);
		cm->base_digest = cm->base.digest ? xstrdup(cm->base.digest) : NULL;
	}
	cm->source = xasprintf("commit:%s + %s", o->image ? o->image : "scratch", o->layer);
	return 0;
}

/* --output FILE: a new file beside it, renamed over it at the end */
static int output_tmpfile(struct commit *cm, struct launch_error **err)
{
	cm->tmp = xasprintf("%s.tmp.%d", cm->o->output, (int)getpid());
	cm->tmp_fd = open(cm->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (cm->tmp_fd < 0) {
		int e = errno;
		free(steal_pointer(&cm->tmp));
		return launch_error_set(err, e, "cannot create %s.tmp.*", cm->o->output);
	}
	return 0;
}

/* A SIF file as the base: sqfs2tar reads whole squashfs files only, so its
 * primary partition is copied into a store temporary first. */
static int sif_partition(struct commit *cm, struct launch_error **err)
{
	_cleanup_close_ int fd = open(cm->base_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || !launch_sif_is(fd))
		return 0; /* a squashfs file; errors come from sqfs2tar */
	struct launch_sif sif;
	if (launch_sif_read(fd, cm->base_path, &sif, err) < 0)
		return -1;
	int ret = -1;
	if (launch_store_tmpfile(&cm->stores[0], ".sqfs", &cm->part, &cm->part_fd, err) < 0)
		goto out;
	static char buf[1 << 20];
	for (uint64_t done = 0; done < sif.size;) {
		size_t want = sif.size - done < sizeof(buf) ? (size_t)(sif.size - done) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)(sif.offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			launch_error_set(err, n < 0 ? errno : EIO, "cannot read %s", cm->base_path);
			goto out;
		}
		if (launch_write_all(cm->part_fd, buf, (size_t)n) < 0) {
			launch_error_set(err, errno, "cannot copy the partition of %s into %s", cm->base_path,
					 cm->part);
			goto out;
		}
		done += (uint64_t)n;
	}
	free(cm->base_path);
	cm->base_path = xstrdup(cm->part);
	ret = 0;
out:
	launch_sif_clear(&sif);
	return ret;
}

/* The children and the readers: the walker of the changes and sqfs2tar of
 * the base, each on a pipe into a layer reader; tar2sqfs writing a
 * temporary file of the store (or beside --output). */
static int commit_start(struct commit *cm, struct launch_error **err)
{
	if (launch_stores(cm->c, &cm->stores, &cm->n_stores, err) < 0 ||
	    (cm->o->output ? output_tmpfile(cm, err)
			   : launch_store_tmpfile(&cm->stores[0], ".sqfs", &cm->tmp, &cm->tmp_fd, err)) < 0 ||
	    sif_partition(cm, err) < 0)
		return -1;
	int top_fd, bottom_fd;
	if (cm->o->layer) {
		if (launch_layer_open_file(cm->o->layer, &cm->top, err) < 0)
			return -1;
		if (cm->base_path && (start_sqfs2tar(cm->base_path, &cm->s2t, &bottom_fd, err) < 0 ||
				      launch_layer_open_fd(bottom_fd, cm->base_path, &cm->bottom, err) < 0))
			return -1;
		return launch_sqfs_writer_start(cm->tmp, cm->o->compressor, 0, &cm->w, err);
	}
	if (start_walker(&cm->u, &cm->walker, &top_fd, err) < 0)
		return -1;
	if (start_sqfs2tar(cm->base_path, &cm->s2t, &bottom_fd, err) < 0) {
		close(top_fd);
		return -1;
	}
	if (launch_layer_open_fd(top_fd, "the writable layer", &cm->top, err) < 0) {
		close(bottom_fd);
		return -1;
	}
	if (launch_layer_open_fd(bottom_fd, cm->base_path, &cm->bottom, err) < 0)
		return -1;
	return launch_sqfs_writer_start(cm->tmp, cm->o->compressor, 0, &cm->w, err);
}

/* The changes over the base, flattened into tar2sqfs; then the children's
 * own failures, and the file on disk. */
static int commit_flatten(struct commit *cm, struct launch_error **err)
{
	cm->bc.image = cm->base_path;
	struct launch_flatten_layers again = { reopen_base, reclose_base, &cm->bc };
	int top = cm->bottom ? 1 : 0;
	cm->f = launch_flatten_new(launch_sqfs_writer_archive(cm->w), top + 1, &again);
	if (launch_flatten_layer(cm->f, top, launch_layer_tar(cm->top), err) < 0 ||
	    launch_layer_verify(cm->top, err) < 0)
		return launch_error_wrap(err, "%s", cm->o->layer ? cm->o->layer : "the writable layer");
	launch_layer_diff_id(cm->top, cm->diff);
	if (cm->bottom && (launch_flatten_layer(cm->f, 0, launch_layer_tar(cm->bottom), err) < 0 ||
			   launch_layer_verify(cm->bottom, err) < 0))
		return launch_error_wrap(err, "the base image %s", cm->base_path);
	if (launch_flatten_finish(cm->f, err) < 0)
		return launch_error_wrap(err, "the base image %s", cm->base_path ? cm->base_path : "(none)");
	if (finish_child(&cm->walker, "cannot read the writable layer", NULL, err) < 0 ||
	    finish_child(&cm->s2t, "cannot read the base image (sqfs2tar)", NULL, err) < 0)
		return -1;
	if (launch_sqfs_writer_finish(steal_pointer(&cm->w), err) < 0)
		return -1;
	if (fsync(cm->tmp_fd) < 0)
		return launch_error_set(err, errno, "cannot write the image into the store (%s)", cm->tmp);
	return 0;
}

/* The new image's identity (from the config, the base and the changes),
 * and the image into the store under it. */
static int commit_store(struct commit *cm, char **digest_out, struct launch_error **err)
{
	if (cm->o->output) {
		if (rename(cm->tmp, cm->o->output) < 0)
			return launch_error_set(err, errno, "cannot write %s", cm->o->output);
		free(steal_pointer(&cm->tmp));
		return 0;
	}
	json_t *whole = json_pack("{s:O, s:{s:s, s:[s, s]}}", "config", cm->cfg, "rootfs", "type", "layers", "diff_ids",
				  cm->base_digest ? cm->base_digest : "sha256:unknown", cm->diff);
	char *text = json_dumps(whole, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(whole);
	char digest[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(text, strlen(text), digest);
	free(text);
	struct stat st;
	fstat(cm->tmp_fd, &st);
	struct launch_store_image img = {
		.digest = digest, .size = st.st_size, .source = cm->source, .config = cm->cfg
	};
	if (launch_store_add(&cm->stores[0], cm->tmp, &img, cm->o->tags, err) < 0)
		return -1;
	free(steal_pointer(&cm->tmp));
	if (digest_out)
		*digest_out = xstrdup(digest);
	return 0;
}

/* The end of a commit that returns RET: the readers closed, tar2sqfs
 * stopped, the children reaped, the temporary file removed (a failed
 * commit leaves nothing in the store). */
static void commit_end(struct commit *cm, int ret, struct launch_error **err)
{
	launch_flatten_free(cm->f);
	launch_layer_close(cm->top);
	launch_layer_close(cm->bottom);
	launch_sqfs_writer_abort(cm->w, err);
	/* the readers are closed: the children see EOF or EPIPE and end; a
	 * walker that failed for a reason of its own failed first */
	if (cm->walker.pid > 0) {
		struct launch_error *we = NULL;
		int st;
		if (finish_child(&cm->walker, "cannot read the writable layer", &st, &we) < 0 && ret < 0 && err &&
		    st != WALKER_READER_GONE) {
			launch_error_free(*err);
			*err = steal_pointer(&we);
		}
		launch_error_free(we);
	}
	launch_proc_kill(&cm->s2t, SIGKILL);
	finish_child(&cm->s2t, "sqfs2tar", NULL, NULL);
	if (cm->tmp)
		unlink(cm->tmp);
	if (cm->part)
		unlink(cm->part);
	if (cm->part_fd >= 0)
		close(cm->part_fd);
	free(cm->part);
	if (ret < 0 && cm->n_stores)
		launch_store_space_hint(&cm->stores[0], err);
	if (cm->tmp_fd >= 0)
		close(cm->tmp_fd);
	free(cm->tmp);
	json_decref(cm->cfg);
	launch_strv_free(cm->mps);
	free(cm->base_path);
	free(cm->base_digest);
	free(cm->upper);
	free(cm->mplist);
	free(cm->source);
	launch_stores_free(cm->stores, cm->n_stores);
	launch_identity_clear(&cm->id);
	launch_instance_info_clear(&cm->info);
	launch_image_clear(&cm->base);
}

int launch_commit(const struct launch_config *c, const struct launch_commit_opts *o, char **digest_out,
		  struct launch_error **err)
{
	struct commit cm = {
		.c = c, .o = o, .tmp_fd = -1, .part_fd = -1, .walker = LAUNCH_PROC_INIT, .s2t = LAUNCH_PROC_INIT
	};
	signal(SIGPIPE, SIG_IGN);
	launch_identity_init(&cm.id, true, NULL);
	cm.u.id = &cm.id;
	int ret = o->instance ? commit_from_instance(&cm, err)
		  : o->layer  ? commit_from_layer(&cm, err)
			      : commit_from_overlay(&cm, err);
	if (ret == 0) {
		cm.mps = cm.mplist ? launch_upper_mountpoints(cm.mplist) : xcalloc(1, sizeof(char *));
		cm.u.path = cm.upper;
		cm.u.mountpoints = cm.mps;
		cm.cfg = commit_config(c, cm.base_digest, &cm.base, o);
		if (commit_start(&cm, err) < 0 || commit_flatten(&cm, err) < 0 ||
		    commit_store(&cm, digest_out, err) < 0)
			ret = -1;
	}
	commit_end(&cm, ret, err);
	return ret;
}
