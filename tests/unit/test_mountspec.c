/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/mountspec.c: the short form SRC[:DST[:FLAGS]] with
 * every flag, tmpfs and umount, the long docker-style form with its keys,
 * the comma-separated list, every error message, path normalisation,
 * relative sources made absolute against the cwd, and the way back
 * (launch_mountspec_format): each mount that parses is written back and
 * parsed again to the very same mount. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "mountspec.h"
#include "testutil.h"
#include "util.h"

enum form { SHORT, LONG };

static int parse(enum form f, const char *spec, struct launch_mount *m, struct launch_error **err)
{
	return f == LONG ? launch_mountspec_parse_long(spec, m, err) : launch_mountspec_parse_short(spec, m, err);
}

/* Every field, for messages. */
static char *describe(const struct launch_mount *m)
{
	return xasprintf(
		"{type %d src %s dst %s ro %d nonrec %d nosuid %d nodev %d noexec %d prop %d create %d "
		"mode %o size %s}",
		m->type, check_str_(m->source), check_str_(m->destination), m->readonly, m->nonrecursive, m->nosuid,
		m->nodev, m->noexec, m->propagation, m->create, m->tmpfs_mode, check_str_(m->tmpfs_size));
}

/* M written back (launch_mountspec_format) parses to M again. */
static void round_trip(const char *spec, const struct launch_mount *m)
{
	bool is_long = false;
	_cleanup_free_ char *back = launch_mountspec_format(m, &is_long);
	if (!check_record_(back != NULL, __FILE__, __LINE__, "`%s` can be written back", spec))
		return;
	struct launch_mount again;
	struct launch_error *err = NULL;
	if (!check_record_(parse(is_long ? LONG : SHORT, back, &again, &err) == 0, __FILE__, __LINE__,
			   "`%s` written back as `%s` parses (error: %s)", spec, back, err ? err->msg : "none")) {
		launch_error_free(err);
		return;
	}
	_cleanup_free_ char *a = describe(m), *b = describe(&again);
	check_record_(launch_mount_equal(m, &again), __FILE__, __LINE__, "`%s` -> `%s` -> the same mount (%s vs %s)",
		      spec, back, a, b);
	launch_mount_clear(&again);
}

/* Parse SPEC and expect success with exactly WANT (all fields). */
static void good_m(enum form f, const char *spec, const struct launch_mount *want)
{
	struct launch_mount m;
	struct launch_error *err = NULL;
	int r = parse(f, spec, &m, &err);
	if (!check_record_(r == 0, __FILE__, __LINE__, "`%s` parses (error: %s)", spec, err ? err->msg : "none")) {
		launch_error_free(err);
		return;
	}
	CHECK_NO_ERROR(err);
	_cleanup_free_ char *got = describe(&m), *exp = describe(want);
	check_record_(launch_mount_equal(&m, want), __FILE__, __LINE__, "`%s`: got %s, expected %s", spec, got, exp);
	round_trip(spec, &m);
	launch_mount_clear(&m);
	CHECK(m.source == NULL && m.destination == NULL && m.tmpfs_size == NULL);
}

/* A plain bind: SRC on DST, read-only when RO, every other field default. */
static void good(enum form f, const char *spec, const char *src, const char *dst, bool ro)
{
	struct launch_mount want = { .source = (char *)src, .destination = (char *)dst, .readonly = ro };
	good_m(f, spec, &want);
}

/* Parse SPEC and expect an error "invalid mount `SPEC`: ...WHAT...". */
static void bad(enum form f, const char *spec, const char *what)
{
	struct launch_mount m;
	struct launch_error *err = NULL;
	const struct launch_mount zero = { 0 };
	int r = parse(f, spec, &m, &err);
	check_record_(r < 0, __FILE__, __LINE__, "`%s` is refused", spec);
	/* A failed parse leaves nothing behind to free. */
	check_record_(launch_mount_equal(&m, &zero), __FILE__, __LINE__, "`%s`: output cleared", spec);
	if (r < 0) {
		_cleanup_free_ char *quoted = xasprintf("invalid mount `%s`: ", spec);
		CHECK_ERROR(err, quoted, what);
	} else {
		launch_mount_clear(&m);
		launch_error_free(err);
	}
}

static void test_short(void)
{
	good(SHORT, "/data", "/data", "/data", false);
	good(SHORT, "/data:/mnt", "/data", "/mnt", false);
	good(SHORT, "/data:/mnt:ro", "/data", "/mnt", true);
	good(SHORT, "/data:/mnt:rw", "/data", "/mnt", false);
	/* normalisation of both paths */
	good(SHORT, "//data//x/", "/data/x", "/data/x", false);
	good(SHORT, "/data/./a/../b:/mnt//c/./d/..:ro", "/data/b", "/mnt/c", true);
	good(SHORT, "/../../data:/../mnt", "/data", "/mnt", false);
	/* `+` is part of a path; it separates flags only */
	good(SHORT, "/a+b:/c+d:ro", "/a+b", "/c+d", true);

	bad(SHORT, "/data:/mnt:xx", "unknown flag `xx` (valid flags, joined by `+`: ro, rw, bind, rbind");
	bad(SHORT, "/data:/mnt:RO", "unknown flag `RO`");
	bad(SHORT, "/data:/mnt:", "empty flag (valid flags");
	bad(SHORT, "/data:/mnt:ro:extra", "too many `:` (expected SRC[:DST[:FLAGS]]");
	bad(SHORT, "/a:/b:ro:", "too many `:`");
	bad(SHORT, "/a:/b:c:d:e", "too many `:`");
	bad(SHORT, "", "the source path is empty");
	bad(SHORT, ":/mnt", "the source path is empty");
	bad(SHORT, "::", "the source path is empty");
	bad(SHORT, "/data:", "the destination path is empty");
	bad(SHORT, "/data::ro", "the destination path is empty");
	bad(SHORT, "/data:/", "cannot mount over the container's root directory");
	bad(SHORT, "/data://", "cannot mount over the container's root directory");
	bad(SHORT, "/data:/mnt/..", "cannot mount over the container's root directory");
	bad(SHORT, "/", "cannot mount over the container's root directory");
	bad(SHORT, "/a/..", "cannot mount over the container's root directory");
}

/* Relative destinations stay refused (as documented), and the message says
 * what to write. */
static void test_relative_destination(void)
{
	bad(SHORT, "/data:mnt", "the destination `mnt` must be an absolute path in the container (write `/mnt`)");
	bad(SHORT, "/data:./mnt:ro",
	    "the destination `./mnt` must be an absolute path in the container (write `/mnt`)");
	bad(SHORT, "/data:../x/./y/",
	    "the destination `../x/./y/` must be an absolute path in the container (write `/x/y`)");
	bad(SHORT, "tmpfs:scratch",
	    "the destination `scratch` must be an absolute path in the container (write `/scratch`)");
	bad(SHORT, "umount:dev/shm", "(write `/dev/shm`)");
	bad(LONG, "type=bind,source=/a,destination=b",
	    "the destination `b` must be an absolute path in the container (");
	bad(LONG, "type=tmpfs,destination=s", "(write `/s`)");
}

/* Each flag alone, then together. */
static void test_flags(void)
{
	struct launch_mount w = { .source = "/a", .destination = "/b" };

	w.nonrecursive = true;
	good_m(SHORT, "/a:/b:bind", &w);
	w.nonrecursive = false;
	good_m(SHORT, "/a:/b:rbind", &w);

	static const struct {
		const char *flag;
		enum launch_mount_propagation p;
	} props[] = {
		{ "private", LAUNCH_PROPAGATION_PRIVATE },	 { "rprivate", LAUNCH_PROPAGATION_RPRIVATE },
		{ "slave", LAUNCH_PROPAGATION_SLAVE },		 { "rslave", LAUNCH_PROPAGATION_RSLAVE },
		{ "shared", LAUNCH_PROPAGATION_SHARED },	 { "rshared", LAUNCH_PROPAGATION_RSHARED },
		{ "unbindable", LAUNCH_PROPAGATION_UNBINDABLE }, { "runbindable", LAUNCH_PROPAGATION_RUNBINDABLE },
	};
	for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
		_cleanup_free_ char *spec = xasprintf("/a:/b:%s", props[i].flag);
		w.propagation = props[i].p;
		good_m(SHORT, spec, &w);
		_cleanup_free_ char *lspec = xasprintf("type=bind,src=/a,dst=/b,bind-propagation=%s", props[i].flag);
		good_m(LONG, lspec, &w);
	}
	w.propagation = LAUNCH_PROPAGATION_DEFAULT;

	w.nosuid = true;
	good_m(SHORT, "/a:/b:nosuid", &w);
	w.nosuid = false;
	w.nodev = true;
	good_m(SHORT, "/a:/b:nodev", &w);
	w.nodev = false;
	w.noexec = true;
	good_m(SHORT, "/a:/b:noexec", &w);
	w.noexec = false;

	w.create = LAUNCH_CREATE_DIR;
	good_m(SHORT, "/a:/b:x-create=dir", &w);
	w.create = LAUNCH_CREATE_FILE;
	good_m(SHORT, "/a:/b:x-create=file", &w);
	w.create = LAUNCH_CREATE_AUTO;
	good_m(SHORT, "/a:/b:x-create=auto", &w);

	/* combinations, in any order; a flag given twice is harmless */
	struct launch_mount c1 = {
		.source = "/a", .destination = "/b", .readonly = true, .propagation = LAUNCH_PROPAGATION_RPRIVATE
	};
	good_m(SHORT, "/a:/b:ro+rprivate", &c1);
	good_m(SHORT, "/a:/b:rprivate+ro", &c1);
	good_m(SHORT, "/a:/b:ro+rprivate+ro", &c1);
	struct launch_mount c2 = { .source = "/a", .destination = "/b", .nosuid = true, .nodev = true };
	good_m(SHORT, "/a:/b:rw+nosuid+nodev", &c2);
	struct launch_mount c3 = { .source = "/a",
				   .destination = "/b",
				   .readonly = true,
				   .nonrecursive = true,
				   .nosuid = true,
				   .nodev = true,
				   .noexec = true,
				   .propagation = LAUNCH_PROPAGATION_RSLAVE,
				   .create = LAUNCH_CREATE_FILE };
	good_m(SHORT, "/a:/b:x-create=file+noexec+nodev+nosuid+rslave+bind+ro", &c3);
	good_m(LONG,
	       "type=bind,source=/a,destination=/b,readonly,bind-nonrecursive,bind-propagation=rslave,nosuid,"
	       "nodev,noexec,x-create=file",
	       &c3);

	/* contradictions name both flags */
	bad(SHORT, "/a:/b:ro+rw", "`rw` contradicts `ro`");
	bad(SHORT, "/a:/b:rw+nosuid+ro", "`ro` contradicts `rw`");
	bad(SHORT, "/a:/b:bind+rbind", "`rbind` contradicts `bind`");
	bad(SHORT, "/a:/b:private+rshared", "`rshared` contradicts `private`");
	bad(SHORT, "/a:/b:slave+rslave", "`rslave` contradicts `slave`");
	bad(SHORT, "/a:/b:x-create=dir+x-create=file", "`x-create=file` contradicts `x-create=dir`");
	/* unknown flags and values */
	bad(SHORT, "/a:/b:x-create=bogus", "unknown x-create value `bogus` (expected dir, file or auto)");
	bad(SHORT, "/a:/b:x-create=", "unknown x-create value `` (expected dir, file or auto)");
	bad(SHORT, "/a:/b:rprivat", "unknown flag `rprivat`, did you mean `rprivate`? (valid flags");
	bad(SHORT, "/a:/b:ro+nosiud", "unknown flag `nosiud`, did you mean `nosuid`?");
	bad(SHORT, "/a:/b:ro,nosuid", "unknown flag `ro,nosuid`");
	bad(SHORT, "/a:/b:ro++nosuid", "empty flag");
	bad(SHORT, "/a:/b:ro+", "empty flag");
	bad(SHORT, "/a:/b:+ro", "empty flag");
	/* what would give a mount more than its source has is not offered */
	bad(SHORT, "/a:/b:suid", "flag `suid` is not offered: a mount never gets more than its source has");
	bad(SHORT, "/a:/b:ro+dev", "flag `dev` is not offered");
	bad(SHORT, "/a:/b:exec", "flag `exec` is not offered");
	bad(LONG, "type=bind,source=/a,destination=/b,suid", "unknown key `suid`");
	/* tmpfs options are for tmpfs */
	bad(SHORT, "/a:/b:mode=0755", "`mode` is for tmpfs only");
	bad(SHORT, "/a:/b:ro+size=1g", "`size` is for tmpfs only");
}

static void test_tmpfs(void)
{
	struct launch_mount t = { .destination = "/scratch",
				  .type = LAUNCH_MOUNT_TMPFS,
				  .nosuid = true,
				  .nodev = true,
				  .create = LAUNCH_CREATE_DIR,
				  .tmpfs_mode = 01777 };
	good_m(SHORT, "tmpfs:/scratch", &t);
	good_m(SHORT, "tmpfs://scratch/", &t);
	good_m(SHORT, "tmpfs:/scratch:x-create=dir", &t);
	good_m(SHORT, "tmpfs:/scratch:x-create=auto", &t);
	good_m(SHORT, "tmpfs:/scratch:nosuid+nodev", &t);
	good_m(SHORT, "tmpfs:/scratch:rw", &t);
	good_m(LONG, "type=tmpfs,destination=/scratch", &t);
	good_m(LONG, "type=tmpfs,target=/scratch,tmpfs-mode=1777", &t);

	struct launch_mount t2 = t;
	t2.tmpfs_mode = 0700;
	t2.tmpfs_size = "64m";
	t2.readonly = true;
	t2.noexec = true;
	t2.propagation = LAUNCH_PROPAGATION_RSHARED;
	good_m(SHORT, "tmpfs:/scratch:mode=700+size=64m+ro+noexec+rshared", &t2);
	good_m(SHORT, "tmpfs:/scratch:rshared+noexec+ro+size=64m+mode=0700", &t2);
	good_m(LONG, "type=tmpfs,dst=/scratch,tmpfs-mode=0700,tmpfs-size=64m,readonly,noexec,bind-propagation=rshared",
	       &t2);
	t2 = t;
	t2.tmpfs_mode = 0;
	t2.tmpfs_size = "50%";
	good_m(SHORT, "tmpfs:/scratch:mode=0+size=50%", &t2);
	t2.tmpfs_mode = 07777;
	t2.tmpfs_size = "2G";
	good_m(SHORT, "tmpfs:/scratch:mode=7777+size=2G+mode=07777", &t2);

	bad(SHORT, "tmpfs", "tmpfs needs a destination (tmpfs:/PATH; for a host directory named tmpfs, write ./tmpfs)");
	bad(SHORT, "tmpfs:", "the destination path is empty");
	bad(SHORT, "tmpfs:/", "cannot mount over the container's root directory");
	bad(SHORT, "tmpfs:/s:x-create=file", "a tmpfs is a directory: `x-create=file` is not possible");
	bad(SHORT, "tmpfs:/s:bind", "`bind` is for host paths, not for tmpfs");
	bad(SHORT, "tmpfs:/s:rbind", "`rbind` is for host paths, not for tmpfs");
	bad(SHORT, "tmpfs:/s:mode=8", "mode must be an octal mode from 0 to 7777, not `8`");
	bad(SHORT, "tmpfs:/s:mode=17777", "not `17777`");
	bad(SHORT, "tmpfs:/s:mode=", "not ``");
	bad(SHORT, "tmpfs:/s:mode=-1", "not `-1`");
	bad(SHORT, "tmpfs:/s:mode=0755x", "not `0755x`");
	bad(SHORT, "tmpfs:/s:mode=0755+mode=0700", "`mode=0700` contradicts `mode=0755`");
	bad(SHORT, "tmpfs:/s:size=0", "size must be a size above 0 with an optional k, m or g suffix");
	bad(SHORT, "tmpfs:/s:size=1t", "not `1t`");
	bad(SHORT, "tmpfs:/s:size=101%", "not `101%`");
	bad(SHORT, "tmpfs:/s:size=", "not ``");
	bad(SHORT, "tmpfs:/s:size=1g+size=2g", "`size=2g` contradicts `size=1g`");
	bad(LONG, "type=tmpfs,source=/a,destination=/s", "a tmpfs takes no source");
	bad(LONG, "type=tmpfs,destination=/s,bind-nonrecursive",
	    "`bind-nonrecursive` is for host paths, not for tmpfs");
	bad(LONG, "type=tmpfs,destination=/s,tmpfs-mode=999",
	    "tmpfs-mode must be an octal mode from 0 to 7777, not `999`");
	bad(LONG, "type=tmpfs,destination=/s,tmpfs-size=lots", "tmpfs-size must be a size above 0");
	bad(LONG, "type=tmpfs", "missing destination=CONTAINER_PATH");
	bad(LONG, "type=bind,source=/a,destination=/b,tmpfs-size=1g", "`tmpfs-size` is for tmpfs only");
}

static void test_umount(void)
{
	struct launch_mount u = { .destination = "/dev/shm", .type = LAUNCH_MOUNT_UMOUNT };
	good_m(SHORT, "umount:/dev/shm", &u);
	good_m(SHORT, "umount://dev/./shm/", &u);
	bad(SHORT, "umount",
	    "umount needs a destination (umount:/PATH; for a host directory named umount, write ./umount)");
	bad(SHORT, "umount:/", "cannot mount over the container's root directory");
	bad(SHORT, "umount:/dev/shm:ro", "umount takes no flags (`ro`)");
	bad(SHORT, "umount:/dev/shm:x-create=dir", "umount takes no flags (`x-create=dir`)");
	bad(SHORT, "umount:/x:bogus", "unknown flag `bogus`");
	bad(LONG, "type=umount,destination=/dev/shm", "unsupported type `umount`");
}

/* Relative sources are made absolute against the cwd (then normalised); a
 * host directory named tmpfs or umount is reached as ./tmpfs. */
static void test_relative_source(void)
{
	char *dir = tu_mkdtemp();
	tu_mkdir(dir, "sub");
	char old[PATH_MAX];
	CHECK(getcwd(old, sizeof(old)) != NULL);
	_cleanup_free_ char *sub = xasprintf("%s/sub", dir);
	CHECK(chdir(sub) == 0);

	_cleanup_free_ char *data = xasprintf("%s/sub/data", dir);
	_cleanup_free_ char *up = xasprintf("%s/other", dir);
	good(SHORT, "data", data, data, false); /* the destination defaults to the absolute source */
	good(SHORT, "data:/mnt:ro", data, "/mnt", true);
	good(SHORT, "./data/.:/mnt", data, "/mnt", false);
	good(SHORT, "../other:/o", up, "/o", false);
	good(SHORT, ".:/here", sub, "/here", false);
	good(LONG, "type=bind,src=data,dst=/mnt", data, "/mnt", false);
	_cleanup_free_ char *tmpfs = xasprintf("%s/sub/tmpfs", dir), *um = xasprintf("%s/sub/umount", dir);
	_cleanup_free_ char *tmpfsx = xasprintf("%s/sub/tmpfsx", dir);
	good(SHORT, "./tmpfs:/x", tmpfs, "/x", false);
	good(SHORT, "./umount:/x:ro", um, "/x", true);
	good(SHORT, "./tmpfs", tmpfs, tmpfs, false);
	good(SHORT, "tmpfsx:/x", tmpfsx, "/x", false);
	good(LONG, "type=bind,source=tmpfs,destination=/x", tmpfs, "/x", false);

	/* a cwd that no longer exists cannot anchor a relative source */
	tu_mkdir(dir, "gone");
	_cleanup_free_ char *gone = xasprintf("%s/gone", dir);
	CHECK(chdir(gone) == 0);
	CHECK(rmdir(gone) == 0);
	bad(SHORT, "rel:/mnt", "cannot make `rel` absolute: No such file or directory");
	bad(LONG, "type=bind,source=rel,destination=/mnt", "cannot make `rel` absolute");
	good(SHORT, "/abs/is/fine", "/abs/is/fine", "/abs/is/fine", false);
	struct launch_mount t = { .destination = "/t",
				  .type = LAUNCH_MOUNT_TMPFS,
				  .nosuid = true,
				  .nodev = true,
				  .create = LAUNCH_CREATE_DIR,
				  .tmpfs_mode = 01777 };
	good_m(SHORT, "tmpfs:/t", &t); /* needs no cwd */

	CHECK(chdir(old) == 0);
	tu_rm_rf(dir);
	free(dir);
}

static void test_long(void)
{
	good(LONG, "type=bind,source=/data,destination=/mnt", "/data", "/mnt", false);
	good(LONG, "type=bind,src=/data,dst=/mnt", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,target=/mnt", "/data", "/mnt", false);
	good(LONG, "destination=/mnt,source=/data,type=bind", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=true", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=1", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=false", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,readonly=0", "/data", "/mnt", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,ro", "/data", "/mnt", true);
	good(LONG, "type=bind,source=/data,destination=/mnt,ro,readonly=true", "/data", "/mnt", true);
	good(LONG, "type=bind,source=//data/./x/..,destination=/mnt//y/", "/data", "/mnt/y", false);
	good(LONG, "type=bind,source=/data,destination=/mnt,bind-nonrecursive=false", "/data", "/mnt", false);
	/* Paths may contain `:`, which the short form cannot express. */
	good(LONG, "type=bind,source=/a:b,destination=/c:d", "/a:b", "/c:d", false);
	struct launch_mount w = { .source = "/a", .destination = "/b", .nonrecursive = true };
	good_m(LONG, "type=bind,source=/a,destination=/b,bind-nonrecursive", &w);
	good_m(LONG, "type=bind,source=/a,destination=/b,bind-nonrecursive=true", &w);
	w.nonrecursive = false;
	w.create = LAUNCH_CREATE_DIR;
	good_m(LONG, "type=bind,source=/a,destination=/b,x-create=dir", &w);

	bad(LONG, "source=/data,destination=/mnt", "missing type=bind (or type=tmpfs)");
	bad(LONG, "", "missing type=bind");
	bad(LONG, "type=volume,source=/data,destination=/mnt",
	    "unsupported type `volume` (expected type=bind or type=tmpfs)");
	bad(LONG, "type,source=/data,destination=/mnt", "unsupported type ``");
	bad(LONG, "type=,source=/data,destination=/mnt", "unsupported type ``");
	bad(LONG, "type=bind,type=tmpfs,destination=/mnt", "type given twice");
	bad(LONG, "type=bind,destination=/mnt", "missing source=HOST_PATH");
	bad(LONG, "type=bind,source=/data", "missing destination=CONTAINER_PATH");
	bad(LONG, "type=bind,readonly", "missing source=HOST_PATH");
	bad(LONG, "type=bind,source=/a,source=/b,destination=/mnt", "source given twice");
	bad(LONG, "type=bind,src=/a,source=/b,destination=/mnt", "source given twice");
	bad(LONG, "type=bind,source=/a,dst=/b,target=/c", "destination given twice");
	bad(LONG, "type=bind,source=/a,destination=/b,destination=/c", "destination given twice");
	bad(LONG, "type=bind,source=/a,destination=/b,readonly=yes", "readonly must be true or false, not `yes`");
	bad(LONG, "type=bind,source=/a,destination=/b,readonly=", "readonly must be true or false, not ``");
	bad(LONG, "type=bind,source=/a,destination=/b,readonly,readonly=false",
	    "`readonly=false` contradicts `readonly`");
	bad(LONG, "type=bind,source=/a,destination=/b,bind-nonrecursive=2",
	    "bind-nonrecursive must be true or false, not `2`");
	bad(LONG, "type=bind,source=/a,destination=/b,bind-propagation=both",
	    "unknown bind-propagation `both` (expected private, rprivate, slave, rslave, shared, rshared, "
	    "unbindable or runbindable)");
	bad(LONG, "type=bind,source=/a,destination=/b,bind-propagation", "unknown bind-propagation ``");
	bad(LONG, "type=bind,source=/a,destination=/b,bind-propagation=shared,bind-propagation=slave",
	    "`slave` contradicts `shared`");
	bad(LONG, "type=bind,source=/a,destination=/b,nosuid=true", "nosuid takes no value (`nosuid=true`)");
	bad(LONG, "type=bind,source=/a,destination=/b,x-create=maybe", "unknown x-create value `maybe`");
	bad(LONG, "type=bind,source=/a,destination=/b,Source=/c",
	    "unknown key `Source` (expected type, source, destination, readonly, bind-propagation, "
	    "bind-nonrecursive, nosuid, nodev, noexec, x-create, tmpfs-mode, tmpfs-size)");
	bad(LONG, "type=bind,source=,destination=/b", "the source path is empty");
	bad(LONG, "type=bind,source,destination=/b", "the source path is empty");
	bad(LONG, "type=bind,source=/a,destination=", "the destination path is empty");
	bad(LONG, "type=bind,source=/a,destination=/", "cannot mount over the container's root directory");
	bad(LONG, "type=bind,source=/a,destination=/b/../..", "cannot mount over the container's root directory");
}

static void test_list(void)
{
	struct launch_mounts ms = { 0 };
	struct launch_error *err = NULL;

	CHECK_INTEQ(launch_mountspec_parse_list("/a,/b:/c:ro,/d:/e:rw", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	if (CHECK(ms.n == 3)) {
		CHECK_STREQ(ms.v[0].source, "/a");
		CHECK_STREQ(ms.v[0].destination, "/a");
		CHECK(!ms.v[0].readonly);
		CHECK_STREQ(ms.v[1].source, "/b");
		CHECK_STREQ(ms.v[1].destination, "/c");
		CHECK(ms.v[1].readonly);
		CHECK_STREQ(ms.v[2].source, "/d");
		CHECK_STREQ(ms.v[2].destination, "/e");
		CHECK(!ms.v[2].readonly);
	}
	/* a second list appends */
	CHECK_INTEQ(launch_mountspec_parse_list(",,/x//y,,", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	if (CHECK(ms.n == 4))
		CHECK_STREQ(ms.v[3].destination, "/x/y");
	launch_mounts_clear(&ms);
	CHECK(ms.n == 0 && ms.v == NULL);

	CHECK_INTEQ(launch_mountspec_parse_list("", &ms, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(ms.n, 0);

	/* what pyxis users write */
	CHECK_INTEQ(launch_mountspec_parse_list("/a:/b:ro+rprivate,tmpfs:/scratch,umount:/dev/shm,/c:/d:x-create=file",
						&ms, &err),
		    0);
	CHECK_NO_ERROR(err);
	if (CHECK(ms.n == 4)) {
		CHECK(ms.v[0].type == LAUNCH_MOUNT_BIND && ms.v[0].readonly &&
		      ms.v[0].propagation == LAUNCH_PROPAGATION_RPRIVATE);
		CHECK(ms.v[1].type == LAUNCH_MOUNT_TMPFS && ms.v[1].source == NULL);
		CHECK_STREQ(ms.v[1].destination, "/scratch");
		CHECK(ms.v[2].type == LAUNCH_MOUNT_UMOUNT && ms.v[2].source == NULL);
		CHECK_STREQ(ms.v[2].destination, "/dev/shm");
		CHECK(ms.v[3].create == LAUNCH_CREATE_FILE);
	}
	launch_mounts_clear(&ms);

	/* an error names the offending entry; entries before it stay for the caller to clear */
	CHECK(launch_mountspec_parse_list("/a,/b:rel,/c", &ms, &err) < 0);
	CHECK_ERROR(err, "invalid mount `/b:rel`", "the destination `rel` must be an absolute path");
	CHECK_INTEQ(ms.n, 1);
	launch_mounts_clear(&ms);

	CHECK(launch_mountspec_parse_list("/a:/b:ro:x", &ms, &err) < 0);
	CHECK_ERROR(err, "invalid mount `/a:/b:ro:x`", "too many `:`");
	CHECK_INTEQ(ms.n, 0);
	launch_mounts_clear(&ms);

	CHECK(launch_mountspec_parse_list("/a:/b:ro+rw,tmpfs:/s", &ms, &err) < 0);
	CHECK_ERROR(err, "invalid mount `/a:/b:ro+rw`", "`rw` contradicts `ro`");
	launch_mounts_clear(&ms);

	/* launch_mounts_push moves the mount and clears the original */
	struct launch_mount m = { .source = xstrdup("/s"), .destination = xstrdup("/d"), .readonly = true };
	launch_mounts_push(&ms, &m);
	CHECK(m.source == NULL && m.destination == NULL && !m.readonly);
	CHECK(ms.n == 1 && ms.v[0].readonly);
	launch_mounts_clear(&ms);
	launch_mounts_clear(&ms); /* clearing twice is harmless */
}

/* FORMAT(SPEC) gives WANT, in the long form when IS_LONG. */
static void formats(enum form f, const char *spec, const char *want, bool want_long)
{
	struct launch_mount m;
	struct launch_error *err = NULL;
	if (!check_record_(parse(f, spec, &m, &err) == 0, __FILE__, __LINE__, "`%s` parses", spec)) {
		launch_error_free(err);
		return;
	}
	bool is_long = !want_long;
	_cleanup_free_ char *got = launch_mountspec_format(&m, &is_long);
	check_record_(got && !strcmp(got, want) && is_long == want_long, __FILE__, __LINE__,
		      "`%s` is written back as `%s` (%s form), not `%s` (%s form)", spec, want,
		      want_long ? "long" : "short", check_str_(got), is_long ? "long" : "short");
	launch_mount_clear(&m);
}

static void test_format(void)
{
	formats(SHORT, "/a", "/a", false);
	formats(SHORT, "/a:/a", "/a", false);
	formats(SHORT, "/a:/b", "/a:/b", false);
	formats(SHORT, "/a:/b:rw+rbind+x-create=auto", "/a:/b", false);
	formats(SHORT, "/a:/a:ro", "/a:/a:ro", false);
	formats(SHORT, "/a:/b:x-create=dir+noexec+nodev+nosuid+rslave+bind+ro",
		"/a:/b:ro+bind+rslave+nosuid+nodev+noexec+x-create=dir", false);
	formats(SHORT, "tmpfs:/s", "tmpfs:/s", false);
	formats(SHORT, "tmpfs:/s:nosuid+nodev+mode=1777+x-create=dir", "tmpfs:/s", false);
	formats(SHORT, "tmpfs:/s:size=1g+mode=755+ro", "tmpfs:/s:ro+mode=0755+size=1g", false);
	formats(SHORT, "umount:/dev/shm", "umount:/dev/shm", false);
	formats(LONG, "type=tmpfs,destination=/s,tmpfs-size=10%", "tmpfs:/s:size=10%", false);
	/* paths with `:` need the long form */
	formats(LONG, "type=bind,source=/a:b,destination=/c", "type=bind,source=/a:b,destination=/c", true);
	formats(LONG, "type=bind,source=/a,destination=/c:d,ro,bind-propagation=rprivate,nodev",
		"type=bind,source=/a,destination=/c:d,readonly,bind-propagation=rprivate,nodev", true);
	formats(LONG, "type=tmpfs,destination=/c:d,tmpfs-mode=700,tmpfs-size=1m,noexec",
		"type=tmpfs,destination=/c:d,noexec,tmpfs-mode=0700,tmpfs-size=1m", true);
	formats(LONG, "type=bind,source=/a:b,destination=/c,bind-nonrecursive,x-create=file",
		"type=bind,source=/a:b,destination=/c,bind-nonrecursive,x-create=file", true);
	round_trip("(long)", &(struct launch_mount){ .source = "/a:b",
						     .destination = "/c",
						     .readonly = true,
						     .nonrecursive = true,
						     .nosuid = true,
						     .nodev = true,
						     .noexec = true,
						     .propagation = LAUNCH_PROPAGATION_RUNBINDABLE,
						     .create = LAUNCH_CREATE_DIR });
	/* neither form holds a path with both `:` and `,`, nor an umount with `:` */
	bool is_long;
	struct launch_mount both = { .source = "/a:b", .destination = "/c,d" };
	CHECK_NULL(launch_mountspec_format(&both, &is_long));
	struct launch_mount um = { .destination = "/c:d", .type = LAUNCH_MOUNT_UMOUNT };
	CHECK_NULL(launch_mountspec_format(&um, &is_long));
	/* a path with `,` alone is fine in the short form (-m takes one mount) */
	struct launch_mount comma = { .source = "/a,b", .destination = "/c,d" };
	_cleanup_free_ char *s = launch_mountspec_format(&comma, &is_long);
	CHECK_STREQ(s, "/a,b:/c,d");
	CHECK(!is_long);
}

static void test_copy_equal(void)
{
	struct launch_mount a = { .source = xstrdup("/a"),
				  .destination = xstrdup("/b"),
				  .type = LAUNCH_MOUNT_TMPFS,
				  .tmpfs_mode = 0700,
				  .tmpfs_size = xstrdup("1g"),
				  .noexec = true };
	struct launch_mount b;
	launch_mount_copy(&b, &a);
	CHECK(launch_mount_equal(&a, &b));
	CHECK(a.source != b.source && a.destination != b.destination && a.tmpfs_size != b.tmpfs_size);
	b.noexec = false;
	CHECK(!launch_mount_equal(&a, &b));
	b.noexec = true;
	free(b.tmpfs_size);
	b.tmpfs_size = NULL;
	CHECK(!launch_mount_equal(&a, &b));
	launch_mount_clear(&a);
	launch_mount_clear(&b);
}

int main(void)
{
	test_short();
	test_relative_destination();
	test_flags();
	test_tmpfs();
	test_umount();
	test_relative_source();
	test_long();
	test_list();
	test_format();
	test_copy_equal();
	return check_done();
}
