/* SPDX-License-Identifier: Apache-2.0 */
/* Exporting images (see export.h):
 *
 *   squashfs:        the image file (or a SIF file's partition) copied as it is
 *   docker-archive,  sqfs2tar IMAGE --> layer tar in STORE/tmp (sha256: the diff_id)
 *   oci-archive:     config (the stored config, rootfs.diff_ids = [diff_id])
 *                    [+ manifest, index.json, oci-layout] --> pax tar --> FILE
 *
 * The layer goes uncompressed (the OCI media type ...layer.v1.tar, docker's
 * ...rootfs.diff.tar), so its digest is its diff_id, and every reader takes
 * it. The output is an O_TMPFILE in FILE's directory, linked to a hidden
 * name and renamed over FILE at the end; a file system without O_TMPFILE
 * gets a hidden temporary instead, removed on failure. The image is marked
 * in use while it is read (store.h), so that a `launch prune` meanwhile
 * leaves it. */
#define _GNU_SOURCE
#include "export.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "image.h"
#include "jsonpos.h"
#include "log.h"
#include "proc.h"
#include "sqfs.h"
#include "sqfswrite.h"
#include "store.h"
#include "util.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"

static const char *const format_names[] = { "squashfs", "docker-archive", "oci-archive" };

int launch_export_format_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
		if (!strcmp(s, format_names[i]))
			return (int)i;
	return -1;
}

const char *launch_export_format_name(enum launch_export_format f)
{
	return format_names[f];
}

/* --- the image --- */

struct src {
	struct launch_image img;
	json_t *config; /* the runtime config: Env, Entrypoint, Cmd, WorkingDir, User, Labels */
	char *tag;	/* NAME:TAG, or NULL */
	char *platform; /* OS/ARCH[/VARIANT] */
	int64_t created;
	int use; /* the use marker */
};

static void src_clear(struct src *s)
{
	launch_image_clear(&s->img);
	json_decref(s->config);
	free(s->tag);
	free(s->platform);
	if (s->use >= 0)
		close(s->use);
}

/* The config of an image that has none stored (a squashfs or SIF path):
 * what launch_image_resolve found. */
static json_t *config_of(const struct launch_image *im)
{
	json_t *c = json_object();
	if (im->env)
		json_object_set_new(c, "Env", launch_json_from_strv(im->env));
	if (im->entrypoint)
		json_object_set_new(c, "Entrypoint", launch_json_from_strv(im->entrypoint));
	if (im->cmd)
		json_object_set_new(c, "Cmd", launch_json_from_strv(im->cmd));
	if (im->workdir)
		json_object_set_new(c, "WorkingDir", json_string(im->workdir));
	if (im->user)
		json_object_set_new(c, "User", json_string(im->user));
	return c;
}

/* The platform of this machine, as an image config says it. */
static char *host_platform(void)
{
	struct utsname u;
	const char *arch = "amd64";
	if (uname(&u) == 0) {
		static const char *const map[][2] = { { "x86_64", "amd64" },	{ "aarch64", "arm64" },
						      { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
						      { "riscv64", "riscv64" }, { "i686", "386" } };
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i][0]))
				arch = map[i][1];
	}
	return xasprintf("linux/%s", arch);
}

static int find_source(const struct launch_config *c, const struct launch_export_opts *o, struct src *s,
		       struct launch_error **err)
{
	if (launch_image_resolve(o->image, c, &s->img, err) < 0)
		return -1;
	if (s->img.kind != LAUNCH_IMAGE_SQUASHFS)
		return launch_error_msg(err,
					"cannot export %s: it is a directory; export takes images of your store, "
					"squashfs and SIF files (make one with 'launch import --rootfs %s NAME')",
					o->image, o->image);
	s->created = (int64_t)time(NULL);
	if (s->img.digest) {
		/* stored: its whole config, its tags, where it came from */
		struct launch_store *stores = NULL;
		size_t n = 0;
		struct launch_store_image im = { 0 };
		struct launch_ref ref = { .digest = s->img.digest + 7 };
		if (launch_stores(c, &stores, &n, err) < 0)
			return -1;
		int r = launch_stores_find(stores, n, &ref, &im, err);
		launch_stores_free(stores, n);
		if (r < 0)
			return -1;
		s->config = json_incref(im.config);
		s->created = im.created;
		if (im.tags[0])
			s->tag = xstrdup(im.tags[0]);
		const char *plat = json_string_value(json_object_get(im.meta, "platform"));
		if (plat)
			s->platform = xstrdup(plat);
		launch_store_image_clear(&im);
		if (!launch_registry_ref_is(o->image) && o->image[0] != '@' && launch_ref_looks_like(o->image)) {
			free(s->tag);
			s->tag = launch_ref_canonical(o->image, NULL);
		}
	} else {
		s->config = config_of(&s->img);
	}
	if (o->tag) {
		free(s->tag);
		if (!(s->tag = launch_ref_canonical(o->tag, err)))
			return -1;
	}
	if (!s->platform)
		s->platform = host_platform();
	s->use = launch_store_use(s->img.path, err);
	return s->use < 0 ? -1 : 0;
}

/* --- the output file --- */

struct out {
	const char *path;
	char *dir, *tmp; /* TMP: the named temporary, when there is no O_TMPFILE */
	int fd;
};

static int out_open(struct out *o, const char *path, struct launch_error **err)
{
	*o = (struct out){ .path = path, .fd = -1 };
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return launch_error_msg(err, "cannot write %s: it is a directory (give the file to write)", path);
	_cleanup_free_ char *copy = xstrdup(path), *base_copy = xstrdup(path);
	o->dir = xstrdup(dirname(copy));
	mode_t mask = umask(0);
	umask(mask);
	o->fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666 & ~mask);
	if (o->fd >= 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS)
		return launch_error_set(err, errno, "cannot write %s", path);
	/* no O_TMPFILE here: a hidden temporary, removed on failure */
	o->tmp = xasprintf("%s/.%s.export-XXXXXX", o->dir, basename(base_copy));
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int e = errno;
		free(steal_pointer(&o->tmp));
		return launch_error_set(err, e, "cannot write %s", path);
	}
	if (fchmod(o->fd, 0666 & ~mask) < 0)
		launch_debug("cannot chmod %s: %s", o->tmp, strerror(errno));
	return 0;
}

/* The complete output in place of PATH. */
static int out_commit(struct out *o, struct launch_error **err)
{
	if (fsync(o->fd) < 0)
		return launch_error_set(err, errno, "cannot write %s", o->path);
	if (!o->tmp) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
		for (int i = 0;; i++) {
			char *name = xasprintf("%s/.launch-export-%d-%d", o->dir, (int)getpid(), i);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
				o->tmp = name;
				break;
			}
			int e = errno;
			free(name);
			if (e != EEXIST || i > 100)
				return launch_error_set(err, e, "cannot write %s", o->path);
		}
	}
	if (rename(o->tmp, o->path) < 0) {
		int e = errno;
		unlink(o->tmp);
		free(steal_pointer(&o->tmp));
		return launch_error_set(err, e, "cannot write %s", o->path);
	}
	free(steal_pointer(&o->tmp));
	return 0;
}

static void out_close(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->dir);
	o->fd = -1;
	o->tmp = o->dir = NULL;
}

/* --- copying bytes --- */

/* SIZE bytes of IN from OFFSET to the end of OUT (OUT_PATH for messages),
 * hashed into H when not NULL. */
static int copy_range(int in, uint64_t offset, uint64_t size, int out, const char *in_path, const char *out_path,
		      struct launch_sha256 *h, struct launch_error **err)
{
	static char buf[1 << 20];
	while (size > 0) {
		size_t want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return launch_error_set(err, errno, "cannot read %s", in_path);
		if (n == 0)
			return launch_error_msg(err, "cannot read %s: it ends before its squashfs does (truncated?)",
						in_path);
		if (h)
			launch_sha256_update(h, buf, (size_t)n);
		if (launch_write_all(out, buf, (size_t)n) < 0)
			return launch_error_set(err, errno, "cannot write %s", out_path);
		offset += (uint64_t)n;
		size -= (uint64_t)n;
	}
	return 0;
}

/* The squashfs bytes of S: [offset, offset + size), size 0 meaning the end. */
static int squashfs_extent(const struct src *s, uint64_t *offset, uint64_t *size, struct launch_error **err)
{
	struct stat st;
	if (fstat(s->use, &st) < 0)
		return launch_error_set(err, errno, "cannot read %s", s->img.path);
	*offset = s->img.offset;
	*size = s->img.size ? s->img.size : (uint64_t)st.st_size - s->img.offset;
	char magic[4];
	if (*offset + *size > (uint64_t)st.st_size || pread(s->use, magic, 4, (off_t)*offset) != 4 ||
	    memcmp(magic, "hsqs", 4) != 0)
		return launch_error_msg(err, "%s has no squashfs image at byte %llu", s->img.path,
					(unsigned long long)*offset);
	return 0;
}

static int export_squashfs(const struct src *s, struct out *o, struct launch_error **err)
{
	uint64_t offset, size;
	if (squashfs_extent(s, &offset, &size, err) < 0)
		return -1;
	return copy_range(s->use, offset, size, o->fd, s->img.path, o->path, NULL, err);
}

/* --- the layer --- */

struct layer {
	char *path; /* in STORE/tmp */
	int fd;
	char diff_id[LAUNCH_DIGEST_LEN + 1];
	uint64_t size;
};

static void layer_clear(struct layer *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->path)
		unlink(l->path);
	free(l->path);
}

/* The image's tree as one tar (sqfs2tar) in a store temporary, hashed. A
 * squashfs inside a SIF file is copied out first: sqfs2tar reads whole
 * files only. */
static int make_layer(const struct launch_store *store, const struct src *s, struct layer *l, struct launch_error **err)
{
	_cleanup_free_ char *part = NULL;
	_cleanup_close_ int part_fd = -1;
	const char *image = s->img.path;
	if (s->img.offset) {
		uint64_t offset, size;
		if (squashfs_extent(s, &offset, &size, err) < 0 ||
		    launch_store_tmpfile(store, ".sqfs", &part, &part_fd, err) < 0)
			return -1;
		if (copy_range(s->use, offset, size, part_fd, s->img.path, part, NULL, err) < 0) {
			unlink(part);
			return -1;
		}
		image = part;
	}
	int ret = -1;
	if (launch_store_tmpfile(store, ".tar", &l->path, &l->fd, err) < 0)
		goto out;
	struct launch_proc p = LAUNCH_PROC_INIT;
	int in = -1;
	if (launch_sqfs_reader_start(image, &p, &in, err) < 0)
		goto out;
	struct launch_sha256 *h = launch_sha256_new();
	static char buf[1 << 20];
	ssize_t n;
	int werr = 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			werr = errno;
			break;
		}
		launch_sha256_update(h, buf, (size_t)n);
		if (launch_write_all(l->fd, buf, (size_t)n) < 0) {
			werr = errno;
			break;
		}
		l->size += (uint64_t)n;
	}
	launch_sha256_final(h, l->diff_id);
	launch_sha256_free(h);
	close(in);
	if (werr)
		launch_proc_kill(&p, SIGKILL);
	struct launch_proc_io io = { .max = 2048 };
	struct launch_error *e = NULL;
	int st = launch_proc_wait(&p, &io, 0, &e);
	launch_proc_close(&p);
	if (werr)
		launch_error_set(err, werr, "cannot write the layer of the export into %s", l->path);
	else if (st != 0)
		launch_error_msg(err, "sqfs2tar could not read %s: %s", s->img.path,
				 e		     ? e->msg
				 : io.err && *io.err ? io.err
						     : "it failed");
	else
		ret = 0;
	launch_error_free(e);
	free(io.out);
	free(io.err);
out:
	if (part)
		unlink(part);
	return ret;
}

/* --- the archive --- */

static int archive_fail(struct archive *a, const struct out *o, struct launch_error **err)
{
	int e = archive_errno(a);
	return e > 0 ? launch_error_set(err, e, "cannot write %s", o->path)
		     : launch_error_msg(err, "cannot write %s: %s", o->path, archive_error_string(a));
}

static int add_entry(struct archive *a, const char *name, mode_t type, int64_t size, int64_t mtime, const struct out *o,
		     struct launch_error **err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	int r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : archive_fail(a, o, err);
}

static int add_data(struct archive *a, const char *name, const char *data, size_t len, int64_t mtime,
		    const struct out *o, struct launch_error **err)
{
	if (add_entry(a, name, AE_IFREG, (int64_t)len, mtime, o, err) < 0)
		return -1;
	if (len && archive_write_data(a, data, len) != (la_ssize_t)len)
		return archive_fail(a, o, err);
	return 0;
}

static int add_layer(struct archive *a, const char *name, const struct layer *l, int64_t mtime, const struct out *o,
		     struct launch_error **err)
{
	if (add_entry(a, name, AE_IFREG, (int64_t)l->size, mtime, o, err) < 0)
		return -1;
	static char buf[1 << 20];
	uint64_t off = 0;
	while (off < l->size) {
		ssize_t n = pread(l->fd, buf, sizeof(buf), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return launch_error_set(err, n < 0 ? errno : EIO, "cannot read the layer %s", l->path);
		if (archive_write_data(a, buf, (size_t)n) != (la_ssize_t)n)
			return archive_fail(a, o, err);
		off += (uint64_t)n;
	}
	return 0;
}

/* The image config of S with LAYER as its one layer, as compact JSON. */
static char *image_config(const struct src *s, const struct layer *l)
{
	_cleanup_free_ char *plat = xstrdup(s->platform), *created = launch_iso_time(s->created);
	char *arch = strchr(plat, '/'), *variant = NULL;
	if (arch) {
		*arch++ = '\0';
		variant = strchr(arch, '/');
		if (variant)
			*variant++ = '\0';
	}
	json_t *cfg =
		json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "architecture", arch ? arch : "amd64",
			  "os", plat, "created", created, "config", s->config, "rootfs", "type", "layers", "diff_ids",
			  l->diff_id, "history", "created", created, "created_by", "launch export");
	if (variant)
		json_object_set_new(cfg, "variant", json_string(variant));
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	return text;
}

static char *dumps(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

static int write_docker(struct archive *a, const struct src *s, const struct layer *l, const char *cfg,
			const char *cfg_digest, const struct out *o, struct launch_error **err)
{
	int64_t now = (int64_t)time(NULL);
	_cleanup_free_ char *cfg_name = xasprintf("%s.json", cfg_digest + 7);
	_cleanup_free_ char *layer_name = xasprintf("%s.tar", l->diff_id + 7);
	json_t *entry = json_pack("{s:s, s:[s]}", "Config", cfg_name, "Layers", layer_name);
	json_object_set_new(entry, "RepoTags", s->tag ? json_pack("[s]", s->tag) : json_array());
	_cleanup_free_ char *manifest = dumps(json_pack("[o]", entry));
	if (add_data(a, "manifest.json", manifest, strlen(manifest), now, o, err) < 0 ||
	    add_data(a, cfg_name, cfg, strlen(cfg), now, o, err) < 0 || add_layer(a, layer_name, l, now, o, err) < 0)
		return -1;
	return 0;
}

static int write_oci(struct archive *a, const struct src *s, const struct layer *l, const char *cfg,
		     const char *cfg_digest, const struct out *o, struct launch_error **err)
{
	int64_t now = (int64_t)time(NULL);
	_cleanup_free_ char *manifest =
		dumps(json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "mediaType",
				MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", cfg_digest, "size",
				(json_int_t)strlen(cfg), "layers", "mediaType", MT_OCI_LAYER, "digest", l->diff_id,
				"size", (json_int_t)l->size));
	char m_digest[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(manifest, strlen(manifest), m_digest);
	json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_MANIFEST, "digest", m_digest, "size",
				 (json_int_t)strlen(manifest));
	if (s->tag) {
		/* the tag alone, as skopeo's oci:DIR:TAG and umoci write it */
		const char *colon = strrchr(s->tag, ':');
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s}", "org.opencontainers.image.ref.name",
					      colon ? colon + 1 : s->tag));
	}
	_cleanup_free_ char *index = dumps(json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType",
						     "application/vnd.oci.image.index.v1+json", "manifests", desc));
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	_cleanup_free_ char *m_name = xasprintf("blobs/sha256/%s", m_digest + 7);
	_cleanup_free_ char *c_name = xasprintf("blobs/sha256/%s", cfg_digest + 7);
	_cleanup_free_ char *l_name = xasprintf("blobs/sha256/%s", l->diff_id + 7);
	if (add_data(a, "oci-layout", layout, strlen(layout), now, o, err) < 0 ||
	    add_data(a, "index.json", index, strlen(index), now, o, err) < 0 ||
	    add_entry(a, "blobs", AE_IFDIR, 0, now, o, err) < 0 ||
	    add_entry(a, "blobs/sha256", AE_IFDIR, 0, now, o, err) < 0 ||
	    add_data(a, m_name, manifest, strlen(manifest), now, o, err) < 0 ||
	    add_data(a, c_name, cfg, strlen(cfg), now, o, err) < 0 || add_layer(a, l_name, l, now, o, err) < 0)
		return -1;
	return 0;
}

static int export_archive(const struct launch_store *store, const struct src *s, enum launch_export_format f,
			  struct out *o, struct launch_error **err)
{
	struct layer l = { .fd = -1 };
	_cleanup_free_ char *cfg = NULL;
	int ret = -1;
	if (make_layer(store, s, &l, err) < 0)
		goto out;
	cfg = image_config(s, &l);
	char cfg_digest[LAUNCH_DIGEST_LEN + 1];
	launch_sha256_buf(cfg, strlen(cfg), cfg_digest);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, o->fd) != ARCHIVE_OK) {
		archive_fail(a, o, err);
		archive_write_free(a);
		goto out;
	}
	int r = f == LAUNCH_EXPORT_DOCKER_ARCHIVE ? write_docker(a, s, &l, cfg, cfg_digest, o, err)
						  : write_oci(a, s, &l, cfg, cfg_digest, o, err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = archive_fail(a, o, err);
	archive_write_free(a);
	if (r == 0)
		ret = 0;
out:
	layer_clear(&l);
	return ret;
}

int launch_export(const struct launch_config *c, const struct launch_export_opts *o, struct launch_error **err)
{
	struct src s = { .use = -1 };
	struct out out = { .fd = -1 };
	struct launch_store *stores = NULL;
	size_t n = 0;
	int ret = -1;
	signal(SIGPIPE, SIG_IGN); /* a dying sqfs2tar is an error, not our death */
	if (find_source(c, o, &s, err) < 0 || launch_stores(c, &stores, &n, err) < 0)
		goto out;
	launch_info("exporting %s (%s) as %s to %s", o->image, s.img.path, launch_export_format_name(o->format),
		    o->output);
	if (out_open(&out, o->output, err) < 0)
		goto out;
	int r = o->format == LAUNCH_EXPORT_SQUASHFS ? export_squashfs(&s, &out, err)
						    : export_archive(&stores[0], &s, o->format, &out, err);
	if (r < 0 || out_commit(&out, err) < 0)
		goto out;
	ret = 0;
out:
	out_close(&out);
	src_clear(&s);
	launch_stores_free(stores, n);
	return ret;
}
