/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/store.c: image references (valid and invalid forms,
 * canonical NAME:TAG, error texts) and a store in a temporary directory:
 * adding images from store temporaries, finding them by name, tag and digest
 * prefix, listing, tagging, removing tags and images, the read-only site
 * store, the clean-up of what killed writers leave (an index entry whose
 * image file is gone among them), the hint a full disk gets, a damaged
 * index; use markers (an image in use is never removed: re-import, rmi,
 * prune), prune and its dry run, the usage summary, and the blob cache
 * (its lock, least-recently-used trimming). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

/* --- references --- */

struct ref_case {
	const char *in;
	const char *name, *tag, *digest; /* expected fields; all NULL: invalid */
	const char *error;		 /* expected error text when invalid */
};

static void test_ref_parse(void)
{
	static char long_tag[160], long_tag_ok[160], long_name[300], long_name_ok[300];
	memset(long_tag, 0, sizeof(long_tag));
	memcpy(long_tag, "x:", 2);
	memset(long_tag + 2, 't', 129); /* 129 characters */
	memcpy(long_tag_ok, "x:", 2);
	memset(long_tag_ok + 2, 't', 128);
	memset(long_name, 'n', 256);
	memset(long_name_ok, 'n', 255);
	const char *d64 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	_cleanup_free_ char *at64 = xasprintf("@%s", d64);
	_cleanup_free_ char *at65 = xasprintf("@%s0", d64);
	_cleanup_free_ char *name_at = xasprintf("x@%s", d64);

	const struct ref_case cases[] = {
		{ "debian", "debian", "latest", NULL, NULL },
		{ "debian:12", "debian", "12", NULL, NULL },
		{ "lab/tools:1.2", "lab/tools", "1.2", NULL, NULL },
		{ "localhost:5000/x/y:z", "localhost:5000/x/y", "z", NULL, NULL },
		{ "localhost:5000/x", "localhost:5000/x", "latest", NULL, NULL },
		{ "a.b_c-d/e:_T.1-x", "a.b_c-d/e", "_T.1-x", NULL, NULL },
		{ "@abcd", NULL, NULL, "abcd", NULL },
		{ at64, NULL, NULL, d64 + 7, NULL },
		{ "@sha256:abcd", NULL, NULL, "abcd", NULL },
		{ long_tag_ok, "x", long_tag_ok + 2, NULL, NULL },
		{ long_name_ok, long_name_ok, "latest", NULL, NULL },
		{ "", NULL, NULL, NULL, "invalid image name ``" },
		{ "Bad Name", NULL, NULL, NULL, "invalid image name `Bad Name`: use letters, digits" },
		{ "x:", NULL, NULL, NULL, "invalid image tag `` in `x:`" },
		{ ":x", NULL, NULL, NULL, "invalid image name `:x`" },
		{ "a//b", NULL, NULL, NULL, "invalid image name `a//b`" },
		{ "a/", NULL, NULL, NULL, "invalid image name `a/`" },
		{ "/a", NULL, NULL, NULL, "invalid image name `/a`" },
		{ "-x", NULL, NULL, NULL, "invalid image name `-x`" },
		{ "x/.y", NULL, NULL, NULL, "invalid image name `x/.y`" },
		{ "x:-1", NULL, NULL, NULL, "invalid image tag `-1` in `x:-1`" },
		{ "x:.1", NULL, NULL, NULL, "invalid image tag `.1`" },
		{ "x:a/b", NULL, NULL, NULL, "invalid image name `x:a/b`" },
		{ "host:port/x", NULL, NULL, NULL, "invalid image name `host:port/x`" },
		{ name_at, NULL, NULL, NULL, "NAME@DIGEST is for pulling" },
		{ "x@abcd", NULL, NULL, NULL, "NAME@DIGEST is for pulling" },
		{ "@abc", NULL, NULL, NULL, "invalid image digest `@abc`: give @ and 4 to 64 lowercase hex digits" },
		{ "@xyz1", NULL, NULL, NULL, "invalid image digest `@xyz1`" },
		{ "@ABCD", NULL, NULL, NULL, "invalid image digest `@ABCD`" },
		{ "@", NULL, NULL, NULL, "invalid image digest `@`" },
		{ "@sha256:", NULL, NULL, NULL, "invalid image digest `@sha256:`" },
		{ at65, NULL, NULL, NULL, "invalid image digest" },
		{ long_tag, NULL, NULL, NULL, "invalid image tag `ttt" },
		{ long_name, NULL, NULL, NULL, "invalid image name `nnn" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ref_case *c = &cases[i];
		struct launch_ref r;
		struct launch_error *err = NULL;
		int rc = launch_ref_parse(c->in, &r, &err);
		bool valid = c->name || c->digest;
		check_record_(rc == (valid ? 0 : -1), __FILE__, __LINE__,
			      "launch_ref_parse(\"%.40s\") returns %d (got %d)", c->in, valid ? 0 : -1, rc);
		if (valid) {
			CHECK_NO_ERROR(err);
			if (c->name) {
				CHECK_STREQ(r.name, c->name);
				CHECK_STREQ(r.tag, c->tag);
				CHECK_NULL(r.digest);
			} else {
				CHECK_NULL(r.name);
				CHECK_STREQ(r.digest, c->digest);
			}
			launch_ref_clear(&r);
			CHECK(r.name == NULL && r.tag == NULL && r.digest == NULL);
		} else {
			CHECK(r.name == NULL && r.tag == NULL && r.digest == NULL);
			CHECK_ERROR(err, c->error);
		}
		/* launch_ref_looks_like agrees (paths aside) */
		check_record_(launch_ref_looks_like(c->in) == valid, __FILE__, __LINE__,
			      "launch_ref_looks_like(\"%.40s\") is %d", c->in, valid);
	}
	/* a NULL error pointer is fine */
	struct launch_ref r;
	CHECK(launch_ref_parse("Bad Name", &r, NULL) < 0);
	CHECK(launch_ref_parse("ok", &r, NULL) == 0);
	launch_ref_clear(&r);

	/* paths are never references */
	CHECK(!launch_ref_looks_like("./debian"));
	CHECK(!launch_ref_looks_like("/images/debian.sqfs"));
	CHECK(!launch_ref_looks_like(".hidden"));
	CHECK(!launch_ref_looks_like("dir/image.sqfs:x/y"));
	CHECK(launch_ref_looks_like("image.sqfs")); /* syntactically a name */

	/* the tag of an image pulled by digest (launch_registry_ref_local_name) */
	char pinned[80];
	snprintf(pinned, sizeof(pinned), "sha256-%064d", 7);
	CHECK(launch_ref_tag_is_digest(pinned));
	pinned[70] = 'g';
	CHECK(!launch_ref_tag_is_digest(pinned));
	pinned[70] = '\0';
	CHECK(!launch_ref_tag_is_digest(pinned));
	CHECK(!launch_ref_tag_is_digest("latest"));
	CHECK(!launch_ref_tag_is_digest("sha256-"));
}

static void registry_ref(const char *s, const char *dflt, const char *reg, const char *repo, const char *tag,
			 const char *local, int line)
{
	struct launch_registry_ref r;
	struct launch_error *err = NULL;
	int rc = launch_registry_ref_parse_with(s, dflt, &r, &err);
	_cleanup_free_ char *name = rc == 0 ? launch_registry_ref_local_name(&r) : NULL;
	check_record_(rc == 0 && !strcmp(r.registry, reg) && !strcmp(r.repo, repo) &&
			      (tag ? r.tag && !strcmp(r.tag, tag) : !r.tag) && !strcmp(name, local),
		      __FILE__, line, "%s (default %s) is %s / %s : %s, named %s; got %s / %s : %s, %s (%s)", s,
		      check_str_(dflt), reg, repo, check_str_(tag), local, rc ? "-" : r.registry, rc ? "-" : r.repo,
		      rc ? "-" : check_str_(r.tag), check_str_(name), err ? err->msg : "no error");
	if (rc == 0)
		launch_registry_ref_clear(&r);
	launch_error_free(err);
}
#define REGISTRY_REF(s, d, reg, repo, tag, local) registry_ref(s, d, reg, repo, tag, local, __LINE__)

static void test_registry_refs(void)
{
	REGISTRY_REF("docker://debian:12", NULL, "registry-1.docker.io", "library/debian", "12", "debian:12");
	REGISTRY_REF("debian", NULL, "registry-1.docker.io", "library/debian", "latest", "debian:latest");
	REGISTRY_REF("docker://nvcr.io/nvidia/pytorch:24.01-py3", NULL, "nvcr.io", "nvidia/pytorch", "24.01-py3",
		     "nvcr.io/nvidia/pytorch:24.01-py3");
	REGISTRY_REF("localhost:5000/lab/x", NULL, "localhost:5000", "lab/x", "latest", "localhost:5000/lab/x:latest");
	/* default_registry: a reference without a host goes there */
	REGISTRY_REF("docker://nvidia/pytorch:24.01", "nvcr.io", "nvcr.io", "nvidia/pytorch", "24.01",
		     "nvcr.io/nvidia/pytorch:24.01");
	REGISTRY_REF("ubuntu", "127.0.0.1:5000", "127.0.0.1:5000", "ubuntu", "latest", "127.0.0.1:5000/ubuntu:latest");
	REGISTRY_REF("docker://quay.io/x/y:1", "nvcr.io", "quay.io", "x/y", "1", "quay.io/x/y:1");
	REGISTRY_REF("ubuntu", "docker.io", "registry-1.docker.io", "library/ubuntu", "latest", "ubuntu:latest");
	/* enroot's and pyxis's [USER@][REGISTRY#]IMAGE[:TAG] */
	REGISTRY_REF("nvcr.io#nvidia/pytorch:24.01-py3", NULL, "nvcr.io", "nvidia/pytorch", "24.01-py3",
		     "nvcr.io/nvidia/pytorch:24.01-py3");
	REGISTRY_REF("docker://localhost:5000#lab/x", NULL, "localhost:5000", "lab/x", "latest",
		     "localhost:5000/lab/x:latest");
	REGISTRY_REF("reg#x", NULL, "reg", "x", "latest", "reg/x:latest");
	REGISTRY_REF("alice@nvcr.io#nvidia/cuda:12", NULL, "nvcr.io", "nvidia/cuda", "12", "nvcr.io/nvidia/cuda:12");
	REGISTRY_REF("alice@ubuntu:22.04", NULL, "registry-1.docker.io", "library/ubuntu", "22.04", "ubuntu:22.04");
	struct launch_registry_ref r;
	struct launch_error *err = NULL;
	CHECK(launch_registry_ref_parse_with("alice@nvcr.io#nvidia/cuda:12", NULL, &r, &err) == 0);
	CHECK_STREQ(r.user, "alice");
	launch_registry_ref_clear(&r);
	CHECK(launch_registry_ref_parse_with("docker://debian:12", NULL, &r, &err) == 0);
	CHECK(r.user == NULL);
	launch_registry_ref_clear(&r);
	CHECK(launch_registry_ref_parse_with("docker://Bad/Name", "nvcr.io", &r, &err) < 0);
	CHECK_ERROR(err, "invalid reference `docker://Bad/Name`");
	CHECK(launch_registry_ref_parse_with("#x", NULL, &r, &err) < 0);
	CHECK_ERROR(err, "expected [USER@][REGISTRY#]IMAGE[:TAG]");
	CHECK(launch_registry_ref_parse_with("@x", NULL, &r, &err) < 0);
	CHECK_ERROR(err, "the user before `@` is empty");
	/* what is one without docker:// */
	CHECK(launch_registry_ref_is("docker://debian"));
	CHECK(launch_registry_ref_is("nvcr.io#nvidia/pytorch:24.01"));
	CHECK(launch_registry_ref_is("alice@ubuntu"));
	CHECK(launch_registry_ref_is("alice@localhost:5000#lab/x"));
	CHECK(!launch_registry_ref_is("debian:12"));
	CHECK(!launch_registry_ref_is("@sha256:0123"));
	CHECK(!launch_registry_ref_is("./dir#1/x.sqfs"));
	CHECK(!launch_registry_ref_is("data/x#1.sqfs"));
	CHECK(!launch_registry_ref_is("docker-archive:/x/y.tar:@0"));
	CHECK(!launch_registry_ref_is("lab/x@sha256:0123"));
}

static void test_ref_canonical(void)
{
	struct launch_error *err = NULL;
	char *c = launch_ref_canonical("debian", &err);
	CHECK_STREQ(c, "debian:latest");
	free(c);
	c = launch_ref_canonical("lab/tools:1.2", &err);
	CHECK_STREQ(c, "lab/tools:1.2");
	free(c);
	c = launch_ref_canonical("localhost:5000/x/y", &err);
	CHECK_STREQ(c, "localhost:5000/x/y:latest");
	free(c);
	CHECK_NO_ERROR(err);
	CHECK_NULL(launch_ref_canonical("@abcd", &err));
	CHECK_ERROR(err, "`@abcd` is a digest: give a NAME[:TAG]");
	CHECK_NULL(launch_ref_canonical("x:", &err));
	CHECK_ERROR(err, "invalid image tag");
	CHECK_NULL(launch_ref_canonical("Bad Name", &err));
	CHECK_ERROR(err, "invalid image name `Bad Name`");
}

/* --- a store in a temporary directory --- */

/* "sha256:" + HEX padded with zeros to 64 digits. */
static char *mkdigest(const char *hex)
{
	char buf[65];
	memset(buf, '0', 64);
	buf[64] = '\0';
	memcpy(buf, hex, strlen(hex));
	return xasprintf("sha256:%s", buf);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *image_path(const char *root, const char *digest)
{
	return xasprintf("%s/images/%s.sqfs", root, digest + 7);
}

/* Import CONTENT as image DIGEST with TAGS (NULL-terminated) the way the
 * image manager does: a store temporary, then launch_store_add. Returns
 * launch_store_add's result. */
static int add_image(const struct launch_store *s, const char *digest, const char *content, json_t *config,
		     const char *source, char *const *tags, struct launch_error **err)
{
	char *tmp = NULL;
	int fd = -1;
	if (launch_store_tmpfile(s, ".sqfs", &tmp, &fd, err) < 0)
		return -1;
	check_record_(launch_str_has_prefix(tmp, s->root) && strstr(tmp, "/tmp/") && strstr(tmp, ".sqfs"), __FILE__,
		      __LINE__, "temporary %s is in %s/tmp", tmp, s->root);
	if (launch_write_all(fd, content, strlen(content)) < 0)
		tu_die("write", tmp);
	struct launch_store_image img = {
		.digest = (char *)digest, .size = (int64_t)strlen(content), .source = (char *)source, .config = config
	};
	int r = launch_store_add(s, tmp, &img, tags, err);
	if (r == 0)
		CHECK(!exists(tmp)); /* moved into the store, or removed */
	else
		unlink(tmp); /* the caller's job on failure */
	close(fd);
	free(tmp);
	return r;
}

static int find(const struct launch_store *stores, size_t n, const char *text, struct launch_store_image *out,
		struct launch_error **err)
{
	struct launch_ref ref;
	if (launch_ref_parse(text, &ref, err) < 0)
		return -2;
	int r = launch_stores_find(stores, n, &ref, out, err);
	launch_ref_clear(&ref);
	return r;
}

static int remove_ref(const struct launch_store *s, const char *text, bool *removed, struct launch_error **err)
{
	struct launch_ref ref;
	if (launch_ref_parse(text, &ref, err) < 0)
		return -2;
	enum launch_store_removal what = LAUNCH_STORE_KEPT_IN_USE;
	int r = launch_store_remove(s, &ref, &what, err);
	*removed = what == LAUNCH_STORE_REMOVED;
	launch_ref_clear(&ref);
	return r;
}

static int tag_ref(const struct launch_store *s, const char *text, const char *new_tag, struct launch_error **err)
{
	struct launch_ref ref;
	if (launch_ref_parse(text, &ref, err) < 0)
		return -2;
	int r = launch_store_tag(s, &ref, new_tag, err);
	launch_ref_clear(&ref);
	return r;
}

/* The digest TEXT finds in STORE, or NULL (freed by the caller). */
static char *digest_of(const struct launch_store *s, const char *text)
{
	struct launch_store_image img;
	struct launch_error *err = NULL;
	if (find(s, 1, text, &img, &err) < 0) {
		launch_error_free(err);
		return NULL;
	}
	char *d = xstrdup(img.digest);
	launch_store_image_clear(&img);
	return d;
}

static void test_store_basics(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/user/store", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	_cleanup_free_ char *d1 = mkdigest("abcd1"), *d2 = mkdigest("abcd2"), *d3 = mkdigest("ef01");
	_cleanup_free_ char *f1 = image_path(root, d1), *f2 = image_path(root, d2), *f3 = image_path(root, d3);

	/* an empty (missing) store: nothing found, the message names it */
	struct launch_store_image img;
	CHECK_INTEQ(find(&s, 1, "debian", &img, &err), -1);
	CHECK_ERROR(err, "image debian:latest not found in your image store", root, "launch import");
	struct launch_store_image *list = NULL;
	size_t n = 99;
	CHECK_INTEQ(launch_store_list(&s, &list, &n, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(n, 0);
	free(list);

	/* add: the store's directories appear, the file moves in */
	json_t *cfg = json_pack("{s:[s], s:s}", "Env", "A=1", "WorkingDir", "/w");
	char *tags1[] = { "debian:latest", "debian:12", NULL };
	CHECK_INTEQ(add_image(&s, d1, "image one", cfg, "docker-archive:/x/debian.tar", tags1, &err), 0);
	CHECK_NO_ERROR(err);
	json_decref(cfg);
	struct stat st;
	CHECK(stat(root, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
	CHECK(exists(f1));
	_cleanup_free_ char *index = xasprintf("%s/index.json", root);
	CHECK(exists(index));

	/* by name (with the default tag), by tag, by digest prefix */
	memset(&img, 0, sizeof(img));
	CHECK_INTEQ(find(&s, 1, "debian", &img, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(img.digest, d1);
	CHECK_STREQ(img.file, f1);
	CHECK_INTEQ(img.size, 9);
	CHECK(img.created > 1600000000);
	CHECK_STREQ(img.source, "docker-archive:/x/debian.tar");
	CHECK_STREQ(json_string_value(json_object_get(img.config, "WorkingDir")), "/w");
	CHECK_STREQ(json_string_value(json_array_get(json_object_get(img.config, "Env"), 0)), "A=1");
	CHECK_INTEQ(launch_strv_len(img.tags), 2);
	CHECK_STREQ(img.tags[0], "debian:12"); /* sorted */
	CHECK_STREQ(img.tags[1], "debian:latest");
	CHECK_STREQ(img.store, root);
	CHECK(!img.site);
	launch_store_image_clear(&img);
	CHECK(img.digest == NULL && img.tags == NULL && img.config == NULL);

	_cleanup_free_ char *x = digest_of(&s, "debian:12");
	CHECK_STREQ(x, d1);
	free(x);
	x = digest_of(&s, "@abcd");
	CHECK_STREQ(x, d1);
	free(x);
	x = digest_of(&s, d1 + 7);
	CHECK_NULL(x); /* a bare hex string is a name, and no such tag exists */
	_cleanup_free_ char *at = xasprintf("@%s", d1);
	x = digest_of(&s, at);
	CHECK_STREQ(x, d1);
	free(x);
	x = NULL;
	CHECK_INTEQ(find(&s, 1, "debian:11", &img, &err), -1);
	CHECK_ERROR(err, "image debian:11 not found", "(did you mean `debian:12`? see 'launch images')");
	/* did you mean: a typo of a stored NAME:TAG, of a NAME, or nothing */
	CHECK_INTEQ(find(&s, 1, "debain", &img, &err), -1);
	CHECK_ERROR(err, "image debain:latest not found", "did you mean `debian:latest`?");
	CHECK_INTEQ(find(&s, 1, "debian:bookworm", &img, &err), -1);
	CHECK_ERROR(err, "did you mean `debian:12`?"); /* the first tag of that name */
	CHECK_INTEQ(find(&s, 1, "centos", &img, &err), -1);
	CHECK(err && !strstr(err->msg, "did you mean") && strstr(err->msg, "launch import"));
	launch_error_free(steal_pointer(&err));
	CHECK_INTEQ(find(&s, 1, "@abcd9", &img, &err), -1);
	CHECK_ERROR(err, "image @abcd9 not found");

	/* a second image (no config), a third without tags */
	char *tags2[] = { "lab/tools:1.2", NULL };
	CHECK_INTEQ(add_image(&s, d2, "image two", NULL, NULL, tags2, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(add_image(&s, d3, "image three", NULL, "rootfs:/r.tar", NULL, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(exists(f2) && exists(f3));
	memset(&img, 0, sizeof(img));
	CHECK_INTEQ(find(&s, 1, "lab/tools:1.2", &img, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(json_is_object(img.config) && json_object_size(img.config) == 0);
	CHECK_STREQ(img.source, "");
	launch_store_image_clear(&img);

	/* an ambiguous prefix, then a longer one */
	CHECK_INTEQ(find(&s, 1, "@abcd", &img, &err), -1);
	CHECK_ERROR(err, "digest prefix @abcd is ambiguous (2 images): give more digits");
	x = digest_of(&s, "@sha256:abcd2");
	CHECK_STREQ(x, d2);
	free(x);
	x = digest_of(&s, "@ef01");
	CHECK_STREQ(x, d3);
	free(x);
	x = NULL;

	/* list: sorted by first tag, untagged last */
	CHECK_INTEQ(launch_store_list(&s, &list, &n, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(n, 3);
	if (n == 3) {
		CHECK_STREQ(list[0].digest, d1);
		CHECK_STREQ(list[1].digest, d2);
		CHECK_STREQ(list[2].digest, d3);
		CHECK_INTEQ(launch_strv_len(list[2].tags), 0);
		CHECK_STREQ(list[1].tags[0], "lab/tools:1.2");
		CHECK_STREQ(list[2].source, "rootfs:/r.tar");
	}
	for (size_t i = 0; i < n; i++)
		launch_store_image_clear(&list[i]);
	free(list);

	/* tag: a new name for an image; a moved tag */
	CHECK_INTEQ(tag_ref(&s, "@ef01", "alias:1", &err), 0);
	CHECK_NO_ERROR(err);
	x = digest_of(&s, "alias:1");
	CHECK_STREQ(x, d3);
	free(x);
	CHECK_INTEQ(tag_ref(&s, "debian", "alias:1", &err), 0);
	CHECK_NO_ERROR(err);
	x = digest_of(&s, "alias:1");
	CHECK_STREQ(x, d1);
	free(x);
	/* NEW_TAG may leave out the tag, as store.h says */
	CHECK_INTEQ(tag_ref(&s, "@ef01", "three", &err), 0);
	CHECK_NO_ERROR(err);
	x = digest_of(&s, "three");
	CHECK_STREQ(x, d3);
	free(x);
	x = digest_of(&s, "three:latest");
	CHECK_STREQ(x, d3);
	free(x);
	x = NULL;
	CHECK(tag_ref(&s, "@ef01", "Bad Tag", &err) < 0);
	CHECK_ERROR(err, "invalid image name `Bad Tag`");
	CHECK_INTEQ(tag_ref(&s, "nothere", "x:1", &err), -1);
	CHECK_ERROR(err, "image nothere:latest not found in your image store", root);
	CHECK_INTEQ(tag_ref(&s, "lab/tool:1.2", "x:1", &err), -1);
	CHECK_ERROR(err, "image lab/tool:1.2 not found", "did you mean `lab/tools:1.2`?");
	CHECK_INTEQ(tag_ref(&s, "@abcd", "x:1", &err), -1);
	CHECK_ERROR(err, "ambiguous");
	CHECK_NULL(digest_of(&s, "x:1"));

	/* remove a tag: the image stays while another tag names it */
	bool removed = true;
	CHECK_INTEQ(remove_ref(&s, "debian:12", &removed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(!removed);
	CHECK(exists(f1));
	CHECK_NULL(digest_of(&s, "debian:12"));
	x = digest_of(&s, "debian");
	CHECK_STREQ(x, d1);
	free(x);
	x = NULL;
	CHECK_INTEQ(remove_ref(&s, "debian", &removed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(!removed); /* alias:1 still names it */
	CHECK(exists(f1));
	/* the last tag: the image goes, file and all */
	CHECK_INTEQ(remove_ref(&s, "alias:1", &removed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(removed);
	CHECK(!exists(f1));
	CHECK_NULL(digest_of(&s, "@abcd1"));
	x = digest_of(&s, "@abcd"); /* no longer ambiguous */
	CHECK_STREQ(x, d2);
	free(x);
	x = NULL;
	CHECK_INTEQ(remove_ref(&s, "alias:1", &removed, &err), -1);
	CHECK_ERROR(err, "image alias:1 not found in your image store", root);
	CHECK_INTEQ(remove_ref(&s, "lab/tools:1.3", &removed, &err), -1);
	CHECK_ERROR(err, "did you mean `lab/tools:1.2`?");

	/* @digest: the image and every tag naming it */
	CHECK_INTEQ(remove_ref(&s, "@ef01", &removed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(removed);
	CHECK(!exists(f3));
	CHECK_NULL(digest_of(&s, "three"));
	CHECK_INTEQ(remove_ref(&s, "@ef01", &removed, &err), -1);
	CHECK_ERROR(err, "image @ef01 not found");
	_cleanup_free_ char *images = xasprintf("%s/images", root);
	CHECK_INTEQ(count_entries(images), 1);

	/* the same digest twice: one file, the tags of both adds */
	char *tags2b[] = { "lab/tools:latest", NULL };
	CHECK_INTEQ(add_image(&s, d2, "a different copy", NULL, "other", tags2b, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(count_entries(images), 1);
	_cleanup_free_ char *tmpdir = xasprintf("%s/tmp", root);
	CHECK_INTEQ(count_entries(tmpdir), 0);
	memset(&img, 0, sizeof(img));
	CHECK_INTEQ(find(&s, 1, "lab/tools", &img, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(img.digest, d2);
	CHECK_INTEQ(img.size, 9); /* the stored copy's entry is kept */
	CHECK_INTEQ(launch_strv_len(img.tags), 2);
	launch_store_image_clear(&img);
	_cleanup_free_ char *text = NULL;
	CHECK(launch_read_file_at(AT_FDCWD, f2, 4096, &text, NULL) == 0);
	CHECK_STREQ(text, "image two");

	/* a source that is not UTF-8 (a Latin-1 file name): the image is stored
	 * and found, or the add fails; it never vanishes after a success */
	_cleanup_free_ char *d4 = mkdigest("4444");
	_cleanup_free_ char *f4 = image_path(root, d4);
	char *tags4[] = { "latin:1", NULL };
	int r = add_image(&s, d4, "image four", NULL, "rootfs:/home/u/caf\xe9.tar", tags4, &err);
	if (r == 0) {
		CHECK_NO_ERROR(err);
		x = digest_of(&s, "latin:1");
		CHECK_STREQ(x, d4);
		free(x);
		x = NULL;
		CHECK(exists(f4));
	} else {
		CHECK_ERROR(err, "UTF-8");
		CHECK(!exists(f4));
		CHECK_NULL(digest_of(&s, "latin:1"));
	}
	CHECK_INTEQ(count_entries(tmpdir), 0);
}

static void test_site_store(const char *dir)
{
	_cleanup_free_ char *uroot = xasprintf("%s/site-user", dir), *sroot = xasprintf("%s/site", dir);
	struct launch_store user = { uroot, false }, site = { sroot, false };
	struct launch_error *err = NULL;
	_cleanup_free_ char *d = mkdigest("5175");
	char *tags[] = { "centos:7", NULL };
	CHECK_INTEQ(add_image(&site, d, "site image", NULL, "admin", tags, &err), 0); /* made by the admin */
	CHECK_NO_ERROR(err);
	site.site = true;

	/* found through the user's store, which has not been created */
	struct launch_store stores[2] = { user, site };
	struct launch_store_image img;
	memset(&img, 0, sizeof(img));
	CHECK_INTEQ(find(stores, 2, "centos:7", &img, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(img.digest, d);
	CHECK(img.site);
	CHECK_STREQ(img.store, sroot);
	launch_store_image_clear(&img);
	CHECK_INTEQ(find(stores, 2, "centos:8", &img, &err), -1);
	CHECK_ERROR(err, "image centos:8 not found in your image store", uroot, "nor the site's");
	CHECK(!exists(uroot));

	/* every change of a site store is refused */
	bool removed = true;
	CHECK_INTEQ(remove_ref(&site, "centos:7", &removed, &err), -1);
	CHECK_ERROR(err, "the site image store", sroot, "is read-only");
	CHECK(!removed);
	CHECK_INTEQ(tag_ref(&site, "centos:7", "c:1", &err), -1);
	CHECK_ERROR(err, "is read-only");
	CHECK_INTEQ(launch_store_prepare(&site, &err), -1);
	CHECK_ERROR(err, "is read-only");
	char *tmp = NULL;
	int fd = -1;
	CHECK_INTEQ(launch_store_tmpfile(&site, ".sqfs", &tmp, &fd, &err), -1);
	CHECK_ERROR(err, "is read-only");
	_cleanup_free_ char *loose = tu_write(dir, "loose.sqfs", "x");
	struct launch_store_image add = { .digest = mkdigest("6666"), .size = 1 };
	char *t2[] = { "new:1", NULL };
	CHECK_INTEQ(launch_store_add(&site, loose, &add, t2, &err), -1);
	CHECK_ERROR(err, "is read-only");
	free(add.digest);
	CHECK(exists(loose));
	/* gc leaves a site store alone */
	_cleanup_free_ char *stray = xasprintf("%s/tmp/stray", sroot);
	free(tu_write(sroot, "tmp/stray", "x"));
	launch_store_gc(&site);
	CHECK(exists(stray));
	struct launch_store_image *list = NULL;
	size_t n = 0;
	CHECK_INTEQ(launch_store_list(&site, &list, &n, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(n, 1);
	if (n == 1)
		CHECK(list[0].site);
	for (size_t i = 0; i < n; i++)
		launch_store_image_clear(&list[i]);
	free(list);
}

static void test_gc(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/gc", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	_cleanup_free_ char *d = mkdigest("600d");
	char *tags[] = { "kept:1", NULL };
	CHECK_INTEQ(add_image(&s, d, "kept", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *kept = image_path(root, d);

	/* an unlocked temporary (its writer died), a locked one (an import in
	 * progress: its fd stays open), an image no entry names, and files gc
	 * does not know */
	_cleanup_free_ char *dead_tmp = xasprintf("%s/tmp/123-dead.sqfs", root);
	free(tu_write(root, "tmp/123-dead.sqfs", "partial"));
	char *live_tmp = NULL;
	int live_fd = -1;
	CHECK_INTEQ(launch_store_tmpfile(&s, ".sqfs", &live_tmp, &live_fd, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *orphan_d = mkdigest("0ff");
	_cleanup_free_ char *orphan = image_path(root, orphan_d);
	free(tu_write(root, orphan + strlen(root) + 1, "orphan"));
	_cleanup_free_ char *other = xasprintf("%s/images/README", root);
	free(tu_write(root, "images/README", "not an image"));
	CHECK(exists(dead_tmp) && exists(orphan) && exists(live_tmp));

	launch_store_gc(&s);
	CHECK(!exists(dead_tmp));
	CHECK(!exists(orphan));
	CHECK(live_tmp && exists(live_tmp));
	CHECK(exists(kept));
	CHECK(exists(other));
	/* once its writer is gone, the temporary goes too */
	close(live_fd);
	launch_store_gc(&s);
	CHECK(live_tmp && !exists(live_tmp));
	CHECK(exists(kept));
	free(live_tmp);

	/* a store that does not exist: nothing happens, nothing is created */
	_cleanup_free_ char *none = xasprintf("%s/none", dir);
	struct launch_store missing = { none, false };
	launch_store_gc(&missing);
	CHECK(!exists(none));
}

/* An index entry whose image file is gone (a removal that freed the space
 * first, killed before it wrote the index): read as removed, never as a
 * damaged store, and dropped, with its tags, by the next writer. */
static void test_entry_without_file(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/nofile", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	_cleanup_free_ char *d1 = mkdigest("90ee1"), *d2 = mkdigest("90ee2");
	_cleanup_free_ char *f1 = image_path(root, d1), *f2 = image_path(root, d2);
	_cleanup_free_ char *index = xasprintf("%s/index.json", root);
	char *tags1[] = { "gone:1", "gone:2", NULL }, *tags2[] = { "kept:1", NULL };
	CHECK_INTEQ(add_image(&s, d1, "one", NULL, NULL, tags1, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(add_image(&s, d2, "two", NULL, NULL, tags2, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(unlink(f1) == 0);

	struct launch_store_image img;
	CHECK_INTEQ(find(&s, 1, "gone:1", &img, &err), -1);
	CHECK_ERROR(err, "image gone:1 not found in your image store");
	CHECK_INTEQ(find(&s, 1, "@90ee1", &img, &err), -1);
	CHECK_ERROR(err, "image @90ee1 not found");
	_cleanup_free_ char *x = digest_of(&s, "@90ee"); /* not ambiguous: one image is left */
	CHECK_STREQ(x, d2);
	struct launch_store_image *list = NULL;
	size_t n = 0;
	CHECK_INTEQ(launch_store_list(&s, &list, &n, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(n, 1);
	if (n == 1)
		CHECK_STREQ(list[0].digest, d2);
	for (size_t i = 0; i < n; i++)
		launch_store_image_clear(&list[i]);
	free(list);
	bool removed = false;
	CHECK_INTEQ(remove_ref(&s, "gone:2", &removed, &err), -1);
	CHECK_ERROR(err, "image gone:2 not found");
	CHECK_INTEQ(tag_ref(&s, "gone:1", "again:1", &err), -1);
	CHECK_ERROR(err, "image gone:1 not found");
	/* the readers wrote nothing: the entry is still there */
	_cleanup_free_ char *text = NULL;
	CHECK(launch_read_file_at(AT_FDCWD, index, 1 << 20, &text, NULL) == 0);
	CHECK(text && strstr(text, d1) && strstr(text, "gone:2"));
	free(steal_pointer(&text));

	/* gc drops it, and the tags naming it */
	launch_store_gc(&s);
	CHECK(launch_read_file_at(AT_FDCWD, index, 1 << 20, &text, NULL) == 0);
	CHECK(text && !strstr(text, d1) && !strstr(text, "gone:") && strstr(text, d2) && strstr(text, "kept:1"));
	free(steal_pointer(&text));
	CHECK(exists(f2));

	/* ... as does any other writer; and the image can come back */
	CHECK(unlink(f2) == 0);
	CHECK_INTEQ(add_image(&s, d1, "one again", NULL, NULL, tags1, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(launch_read_file_at(AT_FDCWD, index, 1 << 20, &text, NULL) == 0);
	CHECK(text && strstr(text, d1) && !strstr(text, d2) && !strstr(text, "kept:1"));
	free(steal_pointer(&text));
	free(x);
	x = digest_of(&s, "gone:2");
	CHECK_STREQ(x, d1);
	free(x);
	x = NULL;
}

/* The hint a full disk gets: once, naming the store. */
static void test_space_hint(void)
{
	struct launch_store s = { "/somewhere/launch", false };
	struct launch_error *err = NULL;
	launch_error_set(&err, ENOSPC, "cannot write x");
	CHECK_INTEQ(launch_store_space_hint(&s, &err), -1);
	CHECK_INTEQ(launch_store_space_hint(&s, &err), -1);
	CHECK_STREQ(err->msg,
		    "cannot write x: No space left on device (free space in /somewhere/launch: 'launch rmi' "
		    "removes images, even on a full disk; or move your image store to a larger file system: "
		    "XDG_DATA_HOME, or \"store\" in the site config)");
	CHECK_INTEQ(err->errno_, ENOSPC);
	CHECK(launch_error_is(err, LAUNCH_ERR_NO_SPACE));
	/* context added after the hint does not bring a second one */
	launch_error_wrap(&err, "importing");
	launch_store_space_hint(&s, &err);
	const char *hint = strstr(err->msg, "(free space in");
	CHECK(hint && !strstr(hint + 1, "(free space in"));
	CHECK(!strncmp(err->msg, "importing: cannot write x", strlen("importing: cannot write x")));
	launch_error_free(err);
	err = NULL;
	/* nor does an error that says where to make room itself */
	launch_error_kind_set(&err, LAUNCH_ERR_NO_SPACE, ENOSPC, "disk full while downloading (free space)");
	launch_store_space_hint(&s, &err);
	CHECK_STREQ(err->msg, "disk full while downloading (free space): No space left on device");
	launch_error_free(err);
	err = NULL;
	launch_error_set(&err, EDQUOT, "cannot write y");
	launch_store_space_hint(&s, &err);
	CHECK_ERROR(err, "cannot write y: Disk quota exceeded (free space in /somewhere/launch");
	launch_error_set(&err, EIO, "cannot write z");
	launch_store_space_hint(&s, &err);
	CHECK_STREQ(err->msg, "cannot write z: Input/output error");
	launch_error_free(err);
	err = NULL;
	CHECK_INTEQ(launch_store_space_hint(&s, &err), -1); /* no error: nothing to do */
	CHECK_NULL(err);
	CHECK_INTEQ(launch_store_space_hint(&s, NULL), -1);
}

static void test_damaged_index(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/damaged", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_store_prepare(&s, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *index = xasprintf("%s/index.json", root);
	const char *const bad[] = {
		"{\"version\": 1, \"images\": {}, \"tags\": {",
		"{\"version\": 2, \"images\": {}, \"tags\": {}}",
		"{\"version\": 1, \"images\": [], \"tags\": {}}",
		"{\"version\": 1, \"images\": {}}",
		"[]",
		"",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		free(tu_write(root, "index.json", bad[i]));
		struct launch_store_image img;
		CHECK_INTEQ(find(&s, 1, "x", &img, &err), -1);
		CHECK_ERROR(err, "image store index", index, "is damaged", "move it away");
		struct launch_store_image *list = NULL;
		size_t n = 0;
		CHECK_INTEQ(launch_store_list(&s, &list, &n, &err), -1);
		CHECK_ERROR(err, index, "is damaged");
		CHECK_NULL(list);
		bool removed = true;
		CHECK_INTEQ(remove_ref(&s, "x", &removed, &err), -1);
		CHECK_ERROR(err, index, "is damaged");
		CHECK_INTEQ(tag_ref(&s, "x", "y:1", &err), -1);
		CHECK_ERROR(err, index, "is damaged");
		_cleanup_free_ char *dg = mkdigest("bad");
		char *tags[] = { "x:1", NULL };
		CHECK_INTEQ(add_image(&s, dg, "x", NULL, NULL, tags, &err), -1);
		CHECK_ERROR(err, index, "is damaged");
		_cleanup_free_ char *f = image_path(root, dg);
		CHECK(!exists(f));
		/* the damaged index is left as it was */
		_cleanup_free_ char *text = NULL;
		CHECK(launch_read_file_at(AT_FDCWD, index, 4096, &text, NULL) == 0);
		CHECK_STREQ(text, bad[i]);
	}
	/* the JSON error's own text is part of the message */
	free(tu_write(root, "index.json", "{\"version\": 1,"));
	struct launch_store_image img;
	CHECK_INTEQ(find(&s, 1, "x", &img, &err), -1);
	CHECK_ERROR(err, "is damaged: ");
	/* a damaged index in a later (site) store is an error too */
	_cleanup_free_ char *ok_root = xasprintf("%s/damaged-ok", dir);
	struct launch_store stores[2] = { { ok_root, false }, { root, true } };
	CHECK_INTEQ(find(stores, 2, "x", &img, &err), -1);
	CHECK_ERROR(err, index, "is damaged");
}

/* The name of each item of R of KIND, "|"-separated, in order. */
static char *report_names(const struct launch_prune_report *r, enum launch_prune_kind kind)
{
	char *out = xstrdup("");
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i].kind != kind)
			continue;
		char *s = xasprintf("%s%s%s", out, *out ? "|" : "", r->items[i].name);
		free(out);
		out = s;
	}
	return out;
}

/* Use markers: a re-import drops the image that lost its tag unless a
 * container uses it; rmi keeps an image in use, untagged; @DIGEST fails. */
static void test_in_use(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/inuse", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	_cleanup_free_ char *d1 = mkdigest("1111"), *d2 = mkdigest("2222"), *d3 = mkdigest("3333");
	_cleanup_free_ char *f1 = image_path(root, d1), *f2 = image_path(root, d2), *f3 = image_path(root, d3);
	char *tags[] = { "app:1", NULL }, *both[] = { "app:1", "app:2", NULL };

	/* imported again under the same tag: the old image goes */
	CHECK_INTEQ(add_image(&s, d1, "one", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(add_image(&s, d2, "two", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(!exists(f1) && exists(f2));
	CHECK_NULL(digest_of(&s, "@1111"));
	/* not while another tag names it */
	CHECK_INTEQ(add_image(&s, d1, "one", NULL, NULL, both, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(!exists(f2)); /* app:1 and app:2 both left it: no tag names d2 */
	CHECK_INTEQ(add_image(&s, d3, "three", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(exists(f1) && exists(f3)); /* app:2 still names d1 */

	/* in use: a re-import leaves it, untagged */
	int use = launch_store_use(f3, &err);
	CHECK(use >= 0);
	CHECK_NO_ERROR(err);
	CHECK(launch_store_in_use(f3));
	CHECK(!launch_store_in_use(f1));
	CHECK_INTEQ(add_image(&s, d2, "two", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(exists(f3));
	_cleanup_free_ char *x = digest_of(&s, "@3333");
	CHECK_STREQ(x, d3);
	free(steal_pointer(&x));

	/* rmi: the last tag of an image in use goes, the image stays */
	CHECK_INTEQ(tag_ref(&s, "@3333", "used:1", &err), 0);
	CHECK_NO_ERROR(err);
	struct launch_ref ref;
	enum launch_store_removal what = LAUNCH_STORE_REMOVED;
	CHECK_INTEQ(launch_ref_parse("used:1", &ref, &err), 0);
	CHECK_INTEQ(launch_store_remove(&s, &ref, &what, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(what, LAUNCH_STORE_KEPT_IN_USE);
	launch_ref_clear(&ref);
	CHECK(exists(f3));
	CHECK_NULL(digest_of(&s, "used:1"));
	/* by digest: refused, nothing changes */
	CHECK_INTEQ(launch_ref_parse("@3333", &ref, &err), 0);
	CHECK_INTEQ(launch_store_remove(&s, &ref, &what, &err), -1);
	CHECK_ERROR(err, "image @3333 is in use by a running container or instance", "nothing was removed");
	CHECK(exists(f3));

	/* prune: the untagged image in use is kept, and said so */
	struct launch_prune_report rep;
	CHECK_INTEQ(launch_store_prune(&s, 0, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(rep.n, 0);
	CHECK(rep.kept && rep.kept[0] && strstr(rep.kept[0], "in use by a running container"));
	launch_prune_report_clear(&rep);
	CHECK(exists(f3));
	/* --all leaves it too, and takes the unused tagged images */
	CHECK_INTEQ(launch_store_prune(&s, LAUNCH_PRUNE_ALL | LAUNCH_PRUNE_DRY_RUN, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *names = report_names(&rep, LAUNCH_PRUNE_IMAGE);
	CHECK(strstr(names, d1) && strstr(names, d2) && !strstr(names, d3));
	launch_prune_report_clear(&rep);
	CHECK(exists(f1) && exists(f2) && exists(f3)); /* a dry run */

	/* the container ends: then prune removes it; or a removal waits it
	 * out, and a start that comes after a removal fails */
	close(use);
	CHECK(!launch_store_in_use(f3));
	CHECK_INTEQ(launch_store_prune(&s, 0, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	free(names);
	names = report_names(&rep, LAUNCH_PRUNE_IMAGE);
	CHECK_STREQ(names, d3);
	CHECK(rep.bytes >= 0);
	launch_prune_report_clear(&rep);
	CHECK(!exists(f3));
	CHECK(exists(f1) && exists(f2));
	launch_ref_clear(&ref);
	CHECK_INTEQ(launch_store_use(f3, &err), -1);
	CHECK_ERROR(err, "cannot open image", f3);
}

/* prune of partials and the blob cache: what a writer holds stays. */
static void test_prune(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/prune", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	struct launch_prune_report rep;
	/* nothing stored yet: nothing to do, nothing created */
	CHECK_INTEQ(launch_store_prune(&s, 0, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(rep.n, 0);
	launch_prune_report_clear(&rep);
	CHECK(!exists(root));

	_cleanup_free_ char *d1 = mkdigest("aaaa");
	char *tags[] = { "keep:1", NULL };
	CHECK_INTEQ(add_image(&s, d1, "tagged", NULL, NULL, tags, &err), 0);
	CHECK_NO_ERROR(err);
	tu_mkdir(root, "blobs");
	tu_mkdir(root, "blobs/sha256");
	tu_mkdir(root, "blobs/partial");
	free(tu_write(root, "blobs/sha256/b1", "blob one"));
	free(tu_write(root, "blobs/partial/p1", "half a blob"));
	free(tu_write(root, "tmp/99-dead.sqfs", "half an image"));
	char *live = NULL;
	int live_fd = -1;
	CHECK_INTEQ(launch_store_tmpfile(&s, ".sqfs", &live, &live_fd, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *b1 = xasprintf("%s/blobs/sha256/b1", root), *p1 = xasprintf("%s/blobs/partial/p1", root);
	_cleanup_free_ char *dead = xasprintf("%s/tmp/99-dead.sqfs", root);

	struct launch_store_usage u;
	CHECK_INTEQ(launch_store_usage(&s, &u, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(u.images, 1);
	CHECK_INTEQ(u.untagged, 0);
	CHECK_INTEQ(u.blobs, 1);
	CHECK_INTEQ(u.partials, 3);
	CHECK_INTEQ(u.partials_active, 1);
	CHECK(u.blobs_bytes > 0 && u.images_bytes > 0);

	/* a pull running: the blob cache is left alone */
	int pull = launch_store_cache_lock(&s, false, &err);
	CHECK(pull >= 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(launch_store_cache_lock(&s, true, &err), -2);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(launch_store_prune(&s, LAUNCH_PRUNE_DRY_RUN, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *partials = report_names(&rep, LAUNCH_PRUNE_PARTIAL);
	CHECK_STREQ(partials, "99-dead.sqfs");
	CHECK(rep.kept && launch_strv_len(rep.kept) == 2 && strstr(rep.kept[0], "1 import(s)") &&
	      strstr(rep.kept[1], "a pull is running"));
	launch_prune_report_clear(&rep);
	CHECK(exists(dead) && exists(b1) && exists(p1));
	close(pull);

	CHECK_INTEQ(launch_store_prune(&s, 0, &rep, &err), 0);
	CHECK_NO_ERROR(err);
	free(partials);
	partials = report_names(&rep, LAUNCH_PRUNE_PARTIAL);
	_cleanup_free_ char *blobs = report_names(&rep, LAUNCH_PRUNE_BLOB),
			    *imgs = report_names(&rep, LAUNCH_PRUNE_IMAGE);
	CHECK_STREQ(partials, "99-dead.sqfs|p1");
	CHECK_STREQ(blobs, "b1");
	CHECK_STREQ(imgs, "");
	CHECK(rep.bytes > 0);
	launch_prune_report_clear(&rep);
	CHECK(!exists(dead) && !exists(b1) && !exists(p1));
	CHECK(exists(live)); /* an import in progress */
	_cleanup_free_ char *f1 = image_path(root, d1);
	CHECK(exists(f1));
	close(live_fd);
	free(live);

	/* a site store is never pruned */
	struct launch_store site = { root, true };
	CHECK_INTEQ(launch_store_prune(&site, 0, &rep, &err), -1);
	CHECK_ERROR(err, "read-only");
	launch_prune_report_clear(&rep);
}

/* The blob cache's trim: least recently used first, down to the limit. */
static void test_cache_trim(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/trim", dir);
	struct launch_store s = { root, false };
	struct launch_error *err = NULL;
	int64_t freed = -1;
	CHECK_INTEQ(launch_store_cache_trim(&s, 0, &freed, &err), 0); /* no cache: nothing */
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(freed, 0);
	CHECK_INTEQ(launch_store_prepare(&s, &err), 0);
	tu_mkdir(root, "blobs");
	tu_mkdir(root, "blobs/sha256");
	static char big[16384];
	memset(big, 'x', sizeof(big) - 1);
	const char *names[] = { "old", "mid", "new" };
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", names[i]);
		char *p = tu_write(root, rel, big);
		struct timespec t[2] = { { 1000000 + i * 100, 0 }, { 1000000 + i * 100, 0 } };
		CHECK(utimensat(AT_FDCWD, p, t, 0) == 0);
		free(p);
	}
	/* using "old" makes it the most recent */
	_cleanup_free_ char *old = xasprintf("%s/blobs/sha256/old", root),
			    *mid = xasprintf("%s/blobs/sha256/mid", root);
	_cleanup_free_ char *newer = xasprintf("%s/blobs/sha256/new", root);
	launch_store_cache_touch(&s, "sha256:old");
	struct stat st;
	CHECK(stat(old, &st) == 0 && st.st_mtime > 2000000);
	int64_t one = (int64_t)st.st_blocks * 512;
	/* unlimited: nothing goes */
	CHECK_INTEQ(launch_store_cache_trim(&s, -1, &freed, &err), 0);
	CHECK(exists(old) && exists(mid) && exists(newer));
	/* a pull runs: nothing goes */
	int pull = launch_store_cache_lock(&s, false, &err);
	CHECK_INTEQ(launch_store_cache_trim(&s, 0, &freed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(exists(old) && exists(mid) && exists(newer));
	close(pull);
	/* room for two: the least recently used goes */
	CHECK_INTEQ(launch_store_cache_trim(&s, 2 * one, &freed, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(freed, one);
	CHECK(exists(old) && !exists(mid) && exists(newer));
	CHECK_INTEQ(launch_store_cache_trim(&s, one, &freed, &err), 0);
	CHECK(exists(old) && !exists(newer));
	CHECK_INTEQ(launch_store_cache_trim(&s, 0, &freed, &err), 0);
	CHECK(!exists(old));
}

int main(void)
{
	test_registry_refs();
	char *dir = tu_mkdtemp();
	test_ref_parse();
	test_ref_canonical();
	test_store_basics(dir);
	test_site_store(dir);
	test_gc(dir);
	test_entry_without_file(dir);
	test_space_hint();
	test_damaged_index(dir);
	test_in_use(dir);
	test_prune(dir);
	test_cache_trim(dir);
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
