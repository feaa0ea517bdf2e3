/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the MPI hook's module (hooks/mpi/mpi.c) and of lib/elf.c:
 * library file names and the three compatibility rules; the configuration
 * from the environment; the ELF readers on this machine's libc.so.6 (its
 * highest GLIBC_x.y is gnu_get_libc_version()) and on this program, and on
 * damaged copies of libc (errors, never a crash: the files come from
 * images); the C library of temporary roots (musl, glibc found through
 * symlinks inside the root, never the host's through an escaping one); the
 * `ldconfig -p` parser; and the hook's refusals that come before any mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "launch_elf.h"
#include "hookapi.h"
#include "mpi.h"
#include "testutil.h"
#include "util.h"

static char *tmp;
static char *host_libc; /* the libc.so.6 this program runs with */
static struct launch_elf_version libc_version;

/* --- file names and versions --- */

static void libname(const char *file, const char *name, int a, int b, int c, int n, int line)
{
	struct launch_mpi_libname ln;
	int r = launch_mpi_libname_parse(file, &ln);
	if (!name) {
		check_record_(r < 0, __FILE__, line, "libname(\"%s\") is refused", file);
		return;
	}
	check_record_(r == 0 && !strcmp(ln.name, name) && ln.v[0] == a && ln.v[1] == b && ln.v[2] == c && ln.n == n,
		      __FILE__, line, "libname(\"%s\") = %s %d.%d.%d (%d numbers), got %s %d.%d.%d (%d)", file, name, a,
		      b, c, n, r == 0 ? ln.name : "(refused)", ln.v[0], ln.v[1], ln.v[2], ln.n);
	launch_mpi_libname_clear(&ln);
}
#define LIBNAME(f, name, a, b, c, n) libname(f, name, a, b, c, n, __LINE__)

static void test_libname(void)
{
	LIBNAME("libmpich.so.12.2.2", "libmpich", 12, 2, 2, 3);
	LIBNAME("/usr/lib/x86_64-linux-gnu/libmpich.so.12.3.0", "libmpich", 12, 3, 0, 3);
	LIBNAME("/opt/cray/pe/lib64/libmpi_cray.so.12", "libmpi_cray", 12, 0, 0, 1);
	LIBNAME("libmpi.so.40.30", "libmpi", 40, 30, 0, 2);
	LIBNAME("libfoo.so.1.2.3.4", "libfoo", 1, 2, 3, 3);
	LIBNAME("libstdc++.so.6.0.30", "libstdc++", 6, 0, 30, 3);
	LIBNAME("libmpi.so", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi.so.", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi.so.12a", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi.so.12..1", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi.so.12.", NULL, 0, 0, 0, 0);
	LIBNAME(".so.12", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi.so.99999999999", NULL, 0, 0, 0, 0);
	LIBNAME("/lib.so.1/libmpi", NULL, 0, 0, 0, 0);
	LIBNAME("libmpi-12.so", NULL, 0, 0, 0, 0);
}

struct compat_case {
	int host[3], image[3];
	bool major, full, strict;
};

static void test_compat(void)
{
	static const struct compat_case cases[] = {
		{ { 12, 2, 2 }, { 12, 2, 2 }, true, true, true },
		{ { 12, 3, 0 }, { 12, 2, 2 }, true, true, false },  /* newer minor */
		{ { 12, 2, 3 }, { 12, 2, 2 }, true, true, false },  /* newer patch */
		{ { 12, 2, 1 }, { 12, 2, 2 }, true, false, false }, /* older patch */
		{ { 12, 1, 9 }, { 12, 2, 0 }, true, false, false }, /* older minor, higher patch */
		{ { 12, 3, 0 }, { 12, 2, 9 }, true, true, false },  /* newer minor, lower patch */
		{ { 12, 0, 0 }, { 12, 0, 0 }, true, true, true },
		{ { 13, 0, 0 }, { 12, 2, 2 }, false, false, false },
		{ { 11, 9, 9 }, { 12, 0, 0 }, false, false, false },
		{ { 40, 30, 4 }, { 12, 2, 2 }, false, false, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct compat_case *c = &cases[i];
		CHECK_INTEQ(launch_mpi_compatible(LAUNCH_MPI_COMPAT_MAJOR, c->host, c->image), c->major);
		CHECK_INTEQ(launch_mpi_compatible(LAUNCH_MPI_COMPAT_FULL, c->host, c->image), c->full);
		CHECK_INTEQ(launch_mpi_compatible(LAUNCH_MPI_COMPAT_STRICT, c->host, c->image), c->strict);
	}
	struct launch_error *err = NULL;
	enum launch_mpi_compat t = LAUNCH_MPI_COMPAT_STRICT;
	CHECK(launch_mpi_compat_parse("major", &t, &err) == 0 && t == LAUNCH_MPI_COMPAT_MAJOR);
	CHECK(launch_mpi_compat_parse("full", &t, &err) == 0 && t == LAUNCH_MPI_COMPAT_FULL);
	CHECK(launch_mpi_compat_parse("strict", &t, &err) == 0 && t == LAUNCH_MPI_COMPAT_STRICT);
	CHECK_NO_ERROR(err);
	CHECK(launch_mpi_compat_parse("Major", &t, &err) < 0);
	CHECK_ERROR(err, "MPI_COMPATIBILITY_TYPE=Major", "major, full, strict");
	CHECK_STREQ(launch_mpi_compat_name(LAUNCH_MPI_COMPAT_FULL), "full");
}

static void test_elf_version_parse(void)
{
	struct launch_elf_version v, w;
	CHECK(launch_elf_version_parse("2.2.5", &v) && v.v[0] == 2 && v.v[1] == 2 && v.v[2] == 5);
	CHECK(launch_elf_version_parse("2.36", &w) && w.v[0] == 2 && w.v[1] == 36 && w.v[2] == 0);
	CHECK(launch_elf_version_cmp(&v, &w) < 0 && launch_elf_version_cmp(&w, &v) > 0);
	CHECK(launch_elf_version_parse("3", &v) && v.v[0] == 3 && launch_elf_version_cmp(&v, &w) > 0);
	CHECK(launch_elf_version_parse("2.36.0", &v) && launch_elf_version_cmp(&v, &w) == 0);
	CHECK(!launch_elf_version_parse("PRIVATE", &v));
	CHECK(!launch_elf_version_parse("", &v));
	CHECK(!launch_elf_version_parse("2.", &v));
	CHECK(!launch_elf_version_parse("2.3.4.5", &v));
	CHECK(!launch_elf_version_parse("2.36x", &v));
}

/* --- configuration --- */

static void test_config(void)
{
	struct launch_mpi_config c;
	struct launch_error *err = NULL;
	char *env1[] = { "PATH=/bin", "MPI_LIBS=/opt/mpi/lib/libmpi.so.12::/opt/mpi/lib/libmpifort.so.12", NULL };
	CHECK(launch_mpi_config_load(&c, env1, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(launch_strv_len(c.libs), 2);
	CHECK_STREQ(c.libs[1], "/opt/mpi/lib/libmpifort.so.12");
	CHECK_INTEQ(launch_strv_len(c.deps), 0);
	CHECK_INTEQ(launch_strv_len(c.binds), 0);
	CHECK_STREQ(c.ldconfig, "/sbin/ldconfig");
	CHECK(c.compat == LAUNCH_MPI_COMPAT_MAJOR);
	launch_mpi_config_clear(&c);

	char *env2[] = { "MPI_LIBS=/a/libmpi.so.12",
			 "MPI_DEPENDENCY_LIBS=/a/libfabric.so.1:/a/libcxi.so.1:",
			 "BIND_MOUNTS=/dev/cxi0:/var/spool/slurmd",
			 "LDCONFIG_PATH=/usr/sbin/ldconfig",
			 "MPI_COMPATIBILITY_TYPE=strict",
			 NULL };
	CHECK(launch_mpi_config_load(&c, env2, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(launch_strv_len(c.deps), 2);
	CHECK_STREQ(c.deps[1], "/a/libcxi.so.1");
	CHECK_INTEQ(launch_strv_len(c.binds), 2);
	CHECK_STREQ(c.binds[0], "/dev/cxi0");
	CHECK_STREQ(c.ldconfig, "/usr/sbin/ldconfig");
	CHECK(c.compat == LAUNCH_MPI_COMPAT_STRICT);
	launch_mpi_config_clear(&c);

	char *missing[] = { "PATH=/bin", NULL }, *empty[] = { "MPI_LIBS=:", NULL };
	CHECK(launch_mpi_config_load(&c, missing, &err) < 0);
	CHECK_ERROR(err, "MPI_LIBS is not set", "hook.env");
	CHECK(launch_mpi_config_load(&c, empty, &err) < 0);
	CHECK_ERROR(err, "MPI_LIBS is not set");
	char *rel[] = { "MPI_LIBS=/a/libmpi.so.12", "MPI_DEPENDENCY_LIBS=libfabric.so.1", NULL };
	CHECK(launch_mpi_config_load(&c, rel, &err) < 0);
	CHECK_ERROR(err, "MPI_DEPENDENCY_LIBS: libfabric.so.1 is not an absolute path");
	char *relb[] = { "MPI_LIBS=/a/libmpi.so.12", "BIND_MOUNTS=/dev/x:dev/y", NULL };
	CHECK(launch_mpi_config_load(&c, relb, &err) < 0);
	CHECK_ERROR(err, "BIND_MOUNTS: dev/y is not an absolute path");
	char *badld[] = { "MPI_LIBS=/a/libmpi.so.12", "LDCONFIG_PATH=ldconfig", NULL };
	CHECK(launch_mpi_config_load(&c, badld, &err) < 0);
	CHECK_ERROR(err, "LDCONFIG_PATH: ldconfig is not an absolute path");
	char *badc[] = { "MPI_LIBS=/a/libmpi.so.12", "MPI_COMPATIBILITY_TYPE=loose", NULL };
	CHECK(launch_mpi_config_load(&c, badc, &err) < 0);
	CHECK_ERROR(err, "MPI_COMPATIBILITY_TYPE=loose");
	CHECK_NULL(c.libs);
}

/* --- ELF readers --- */

static char *find_host_libc(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096], *found = NULL;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		const char *base = strrchr(path, '/') + 1;
		if (!strcmp(base, "libc.so.6") || (!strncmp(base, "libc-", 5) && strstr(base, ".so")))
			found = xstrdup(path);
	}
	if (f)
		fclose(f);
	if (!found)
		tu_die("find libc.so.6 in", "/proc/self/maps");
	return found;
}

static int open_ro(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tu_die("open", path);
	return fd;
}

struct needs {
	bool from_libc;
	int n;
};

static int count_needs(const char *file, const char *name, void *data)
{
	struct needs *nd = data;
	nd->n++;
	if (!strcmp(file, "libc.so.6") && launch_str_has_prefix(name, "GLIBC_"))
		nd->from_libc = true;
	return 0;
}

static int stop_at_first(const char *file, const char *name, void *data)
{
	(void)file;
	(void)name;
	(*(int *)data)++;
	return 7;
}

static void test_elf_libc(void)
{
	struct launch_error *err = NULL;
	int fd = open_ro(host_libc);
	CHECK(launch_elf_is_native(fd));
	struct launch_elf_version v;
	char *which = NULL;
	CHECK_INTEQ(launch_elf_max_version(fd, false, "GLIBC_", &v, &which, &err), 1);
	CHECK_NO_ERROR(err);
	CHECK(launch_elf_version_parse(gnu_get_libc_version(), &libc_version));
	check_record_(launch_elf_version_cmp(&v, &libc_version) == 0, __FILE__, __LINE__,
		      "libc.so.6 defines up to %s, gnu_get_libc_version() is %s", check_str_(which),
		      gnu_get_libc_version());
	free(which);
	char *soname = NULL;
	CHECK(launch_elf_soname(fd, &soname, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(soname, "libc.so.6");
	free(soname);
	/* libc.so.6 needs versions of ld.so; none is a GLIBC_ version above its own */
	CHECK(launch_elf_max_version(fd, true, "GLIBC_", &v, NULL, &err) >= 0);
	CHECK_NO_ERROR(err);
	CHECK(launch_elf_version_cmp(&v, &libc_version) <= 0);
	int calls = 0;
	CHECK_INTEQ(launch_elf_versions(fd, false, stop_at_first, &calls, &err), 7);
	CHECK_INTEQ(calls, 1);
	CHECK_INTEQ(launch_elf_max_version(fd, false, "NOSUCH_", &v, NULL, &err), 0);
	CHECK(v.v[0] == 0 && v.v[1] == 0);
	close(fd);

	/* this program needs libc.so.6's versions, none newer than the libc it runs on */
	fd = open_ro("/proc/self/exe");
	struct needs nd = { 0 };
	CHECK(launch_elf_versions(fd, true, count_needs, &nd, &err) == 0);
	CHECK_NO_ERROR(err);
	CHECK(nd.n > 0 && nd.from_libc);
	CHECK_INTEQ(launch_elf_max_version(fd, true, "GLIBC_", &v, &which, &err), 1);
	CHECK(which && launch_str_has_prefix(which, "GLIBC_2."));
	free(which);
	CHECK(launch_elf_version_cmp(&v, &libc_version) <= 0);
	struct launch_elf_version base = { { 2, 2, 0 } };
	CHECK(launch_elf_version_cmp(&v, &base) >= 0);
	CHECK(launch_elf_soname(fd, &soname, &err) == 0 && soname == NULL); /* an executable has none */
	CHECK_NO_ERROR(err);
	/* an executable defines no versions: not an error */
	CHECK_INTEQ(launch_elf_max_version(fd, false, "GLIBC_", &v, NULL, &err), 0);
	CHECK_NO_ERROR(err);
	close(fd);
}

static void test_elf_not_elf(void)
{
	struct launch_error *err = NULL;
	struct launch_elf_version v;
	char *p = tu_write(tmp, "text", "#!/bin/sh\necho this is not ELF at all, but long enough for a header\n");
	int fd = open_ro(p);
	CHECK(!launch_elf_is_native(fd));
	CHECK(launch_elf_max_version(fd, false, "GLIBC_", &v, NULL, &err) < 0);
	CHECK_ERROR(err, "not an ELF file");
	close(fd);
	free(p);
	p = tu_write(tmp, "short", "\177ELF");
	fd = open_ro(p);
	CHECK(launch_elf_max_version(fd, true, "GLIBC_", &v, NULL, &err) < 0);
	CHECK_ERROR(err, "not an ELF file");
	close(fd);
	free(p);
	fd = open_ro(tmp);
	CHECK(launch_elf_max_version(fd, true, "GLIBC_", &v, NULL, &err) < 0);
	CHECK_ERROR(err, "not a regular file");
	close(fd);
}

static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	if (launch_read_file_at(AT_FDCWD, path, 64u << 20, &buf, len) < 0)
		tu_die("read", path);
	return buf;
}

/* Regions of a 64-bit ELF worth damaging: the headers and the sections
 * the readers look at. */
struct region {
	uint64_t off, len;
};

static size_t interesting(const char *b, size_t len, struct region *r, size_t max)
{
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)b;
	size_t n = 0;
	r[n++] = (struct region){ 0, sizeof(*h) };
	r[n++] = (struct region){ h->e_shoff, (uint64_t)h->e_shnum * h->e_shentsize };
	for (unsigned i = 0; i < h->e_shnum && n < max; i++) {
		const Elf64_Shdr *s = (const Elf64_Shdr *)(b + h->e_shoff + (uint64_t)i * sizeof(*s));
		if (s->sh_type == SHT_GNU_verdef || s->sh_type == SHT_GNU_verneed || s->sh_type == SHT_DYNAMIC)
			r[n++] = (struct region){ s->sh_offset, s->sh_size };
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].off >= len || r[i].len > len - r[i].off || r[i].len == 0)
			r[i] = r[0];
	return n;
}

static int ignore_version(const char *file, const char *name, void *data)
{
	(void)file;
	*(size_t *)data += strlen(name);
	return 0;
}

/* Damaged and truncated copies of libc.so.6: every reader returns an error
 * or a result, and never reads outside its buffers (ASan builds check). */
static void test_elf_damaged(void)
{
	size_t len;
	char *orig = read_all(host_libc, &len);
	if (len < sizeof(Elf64_Ehdr) || orig[EI_CLASS] != ELFCLASS64) {
		free(orig);
		return;
	}
	char *p = xasprintf("%s/damaged.so", tmp);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || launch_write_all(fd, orig, len) < 0)
		tu_die("write", p);
	struct region r[16];
	size_t nr = interesting(orig, len, r, ARRAY_SIZE(r));
	unsigned seed = 12345, failures = 0, rounds = 3000;
	for (unsigned round = 0; round < rounds; round++) {
		/* a few random bytes (or 32-bit words of random size) in one region */
		const struct region *g = &r[rand_r(&seed) % nr];
		uint64_t offs[4];
		unsigned char saved[4][4];
		int k = 1 + rand_r(&seed) % 4;
		for (int i = 0; i < k; i++) {
			offs[i] = g->off + (uint64_t)rand_r(&seed) % g->len;
			if (offs[i] + 4 > len)
				offs[i] = len - 4;
			memcpy(saved[i], orig + offs[i], 4);
			uint32_t val = rand_r(&seed) % 3 == 0 ? 0xffffffffu : (uint32_t)rand_r(&seed);
			if (pwrite(fd, &val, 1 + rand_r(&seed) % 4, (off_t)offs[i]) < 0)
				tu_die("pwrite", p);
		}
		struct launch_error *err = NULL;
		struct launch_elf_version v;
		char *s = NULL;
		size_t sum = 0;
		int a = launch_elf_max_version(fd, false, "GLIBC_", &v, NULL, &err);
		launch_error_free(err), err = NULL;
		int b = launch_elf_versions(fd, true, ignore_version, &sum, &err);
		launch_error_free(err), err = NULL;
		int c = launch_elf_soname(fd, &s, &err);
		launch_error_free(err), err = NULL;
		free(s);
		(void)launch_elf_is_native(fd);
		if (a < -1 || a > 1 || b < -1 || b > 0 || c < -1 || c > 0)
			failures++;
		for (int i = k - 1; i >= 0; i--)
			if (pwrite(fd, saved[i], 4, (off_t)offs[i]) < 0)
				tu_die("pwrite", p);
	}
	CHECK_INTEQ(failures, 0);
	/* truncated: the section headers (at the end) are gone */
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)orig;
	if (ftruncate(fd, (off_t)h->e_shoff + 10) < 0)
		tu_die("truncate", p);
	struct launch_error *err = NULL;
	struct launch_elf_version v;
	CHECK(launch_elf_max_version(fd, false, "GLIBC_", &v, NULL, &err) < 0);
	CHECK_ERROR(err, "damaged ELF file");
	CHECK(!launch_elf_is_native(fd));
	close(fd);
	free(p);
	free(orig);
}

/* --- the C library of a root --- */

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf = read_all(from, &len);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || launch_write_all(fd, buf, len) < 0)
		tu_die("write", to);
	close(fd);
	free(buf);
}

static char *mkroot(const char *name)
{
	char *root = xasprintf("%s/%s", tmp, name);
	if (mkdir(root, 0755) < 0)
		tu_die("mkdir", root);
	return root;
}

static void test_libc_roots(void)
{
	struct launch_libc libc;

	char *empty = mkroot("empty");
	CHECK(launch_hook_libc(empty, &libc) == 0);
	CHECK_NULL(libc.kind);

	char *musl = mkroot("musl");
	tu_mkdir(musl, "lib");
	tu_mkdir(musl, "lib/ld-musl-x86_64.so.1.d"); /* not the name: ignored */
	CHECK(launch_hook_libc(musl, &libc) == 0);
	CHECK_NULL(libc.kind);
	free(tu_write(musl, "lib/ld-musl-aarch64.so.1", ""));
	CHECK(launch_hook_libc(musl, &libc) == 0);
	CHECK_STREQ(libc.kind, "musl");

	/* merged /usr (/lib -> usr/lib), libc.so.6 in the multiarch directory
	 * as an absolute link to a file that only the root has */
	_cleanup_free_ char *hostdir = xstrndup(host_libc, (size_t)(strrchr(host_libc, '/') - host_libc));
	const char *triplet = strrchr(hostdir, '/') + 1;
	_cleanup_free_ char *dir = strstr(triplet, "-linux-") ? xasprintf("usr/lib/%s", triplet) : xstrdup("usr/lib64");
	char *deb = mkroot("debian");
	tu_mkdir(deb, "usr");
	tu_mkdir(deb, "usr/lib");
	tu_symlink(deb, "lib", "usr/lib");
	tu_mkdir(deb, dir);
	_cleanup_free_ char *real = xasprintf("%s/%s/libc-only-in-root.so", deb, dir);
	copy_file(host_libc, real);
	_cleanup_free_ char *link = xasprintf("%s/libc.so.6", dir),
			    *target = xasprintf("/%s/libc-only-in-root.so", dir);
	tu_symlink(deb, link, target);
	CHECK(launch_hook_libc(deb, &libc) == 0);
	CHECK_STREQ(libc.kind, "glibc");
	CHECK(libc.major == libc_version.v[0] && libc.minor == libc_version.v[1]);

	/* a libc only where the linker cache says */
	char *odd = mkroot("odd");
	tu_mkdir(odd, "opt");
	_cleanup_free_ char *oddlibc = xasprintf("%s/opt/libc.so.6", odd);
	copy_file(host_libc, oddlibc);
	CHECK(launch_hook_libc(odd, &libc) == 0);
	CHECK_NULL(libc.kind);
	CHECK(launch_elf_libc(odd, "/opt/libc.so.6", &libc) == 0);
	CHECK_STREQ(libc.kind, "glibc");

	/* links that would leave the root (relative, absolute, the host's own
	 * path as the cache entry) find nothing there, not the host's libc */
	char *esc = mkroot("escape");
	tu_symlink(esc, "lib", "../../../../../../../../../../usr/lib");
	tu_mkdir(esc, "usr");
	tu_symlink(esc, "usr/lib", "../../../../../../../../../../../usr/lib");
	tu_symlink(esc, "lib64", hostdir);
	tu_symlink(esc, "usr/lib64", "/../../../../../../lib64");
	CHECK(launch_elf_libc(esc, host_libc, &libc) == 0);
	CHECK_NULL(libc.kind);

	/* not ELF, or a FIFO: ignored, without blocking */
	char *junk = mkroot("junk");
	tu_mkdir(junk, "lib64");
	free(tu_write(junk, "lib64/libc.so.6", "GLIBC_2.99 is not a version definition\n"));
	tu_mkdir(junk, "lib");
	_cleanup_free_ char *fifo = xasprintf("%s/lib/libc.so.6", junk);
	if (mkfifo(fifo, 0644) < 0)
		tu_die("mkfifo", fifo);
	CHECK(launch_hook_libc(junk, &libc) == 0);
	CHECK_NULL(libc.kind);

	_cleanup_free_ char *none = xasprintf("%s/no-such-root", tmp);
	errno = 0;
	CHECK(launch_hook_libc(none, &libc) < 0 && errno == ENOENT);
	free(empty);
	free(musl);
	free(deb);
	free(odd);
	free(esc);
	free(junk);
}

/* --- ldconfig -p --- */

static void test_ldcache_parse(void)
{
#if defined(__x86_64__)
	static const char text[] =
		"5 libs found in cache `/etc/ld.so.cache'\n"
		"\tlibmpich.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libmpich.so.12\n"
		"\tlibmpich.so.12 (libc6) => /usr/lib/i386-linux-gnu/libmpich.so.12\n"
		"\tlibmpi.so.40 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libmpi.so.40\n"
		"\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6\n"
		"\tlibmpich.so.12 (libc6,x86-64) => /opt/other/libmpich.so.12\n"
		"Cache generated by: ldconfig (GNU libc) stable release version 2.36\n";
	struct launch_ldcache c;
	CHECK(launch_ldcache_parse(text, &c) == 0);
	CHECK_INTEQ(c.n, 4);
	const struct launch_ldcache_entry *e = launch_ldcache_find(&c, "libmpich.so.12");
	CHECK(e && !strcmp(e->path, "/usr/lib/x86_64-linux-gnu/libmpich.so.12"));
	e = launch_ldcache_find(&c, "libc.so.6");
	CHECK(e && !strcmp(e->path, "/lib/x86_64-linux-gnu/libc.so.6"));
	CHECK_NULL(launch_ldcache_find(&c, "libmpich.so"));
	if (c.n == 4)
		CHECK_STREQ(c.v[3].path, "/opt/other/libmpich.so.12");
	launch_ldcache_clear(&c);
	CHECK(launch_ldcache_parse("", &c) == 0 && c.n == 0);
	launch_ldcache_clear(&c);
#endif
}

/* --- refusals before any mount --- */

static void test_refusals(void)
{
	struct launch_error *err = NULL;
	struct launch_mpi_config c = { 0 };
	char *musl = xasprintf("%s/musl", tmp); /* made by test_libc_roots */
	char *fake = xasprintf("%s/libmpich.so.12.2.2", tmp);
	copy_file(host_libc, fake); /* an ELF of this machine with a versioned name */
	char *noversion = xasprintf("%s/libmpich.so", tmp);
	copy_file(host_libc, noversion);
	char *text = xasprintf("%s/libmpi.so.12", tmp);
	free(tu_write(tmp, "libmpi.so.12", "INPUT(-lmpich)\n"));
	const char *ldconfig = access("/sbin/ldconfig", X_OK) == 0 ? "/sbin/ldconfig" : NULL;

	if (ldconfig) {
		char *env[] = { xasprintf("MPI_LIBS=%s", fake), NULL };
		CHECK(launch_mpi_config_load(&c, env, &err) == 0);
		CHECK_NO_ERROR(err);
		CHECK(launch_mpi_inject(&c, musl, &err) < 0);
		CHECK_ERROR(err, "the image uses musl libc", "glibc cannot be injected");
		launch_mpi_config_clear(&c);
		free(env[0]);

		char *env2[] = { xasprintf("MPI_LIBS=%s/no-such-libmpi.so.12", tmp), NULL };
		CHECK(launch_mpi_config_load(&c, env2, &err) == 0);
		CHECK(launch_mpi_inject(&c, musl, &err) < 0);
		CHECK_ERROR(err, "MPI_LIBS: cannot use", "no-such-libmpi.so.12", "No such file");
		launch_mpi_config_clear(&c);
		free(env2[0]);

		char *env3[] = { xasprintf("MPI_LIBS=%s", noversion), NULL };
		CHECK(launch_mpi_config_load(&c, env3, &err) == 0);
		CHECK(launch_mpi_inject(&c, musl, &err) < 0);
		CHECK_ERROR(err, "cannot tell the version", "libNAME.so.MAJOR");
		launch_mpi_config_clear(&c);
		free(env3[0]);

		char *env4[] = { xasprintf("MPI_LIBS=%s", fake), xasprintf("MPI_DEPENDENCY_LIBS=%s", text), NULL };
		CHECK(launch_mpi_config_load(&c, env4, &err) == 0);
		CHECK(launch_mpi_inject(&c, musl, &err) < 0);
		CHECK_ERROR(err, "MPI_DEPENDENCY_LIBS", "is not a shared library for this machine");
		launch_mpi_config_clear(&c);
		free(env4[0]);
		free(env4[1]);
	}
	char *env5[] = { xasprintf("MPI_LIBS=%s", fake), "LDCONFIG_PATH=/no/such/ldconfig", NULL };
	CHECK(launch_mpi_config_load(&c, env5, &err) == 0);
	CHECK(launch_mpi_inject(&c, musl, &err) < 0);
	CHECK_ERROR(err, "LDCONFIG_PATH: cannot run /no/such/ldconfig");
	launch_mpi_config_clear(&c);
	free(env5[0]);
	free(musl);
	free(fake);
	free(noversion);
	free(text);
}

int main(void)
{
	tmp = tu_mkdtemp();
	host_libc = find_host_libc();
	test_libname();
	test_compat();
	test_elf_version_parse();
	test_config();
	test_elf_libc();
	test_elf_not_elf();
	test_elf_damaged();
	test_libc_roots();
	test_ldcache_parse();
	test_refusals();
	tu_rm_rf(tmp);
	free(tmp);
	free(host_libc);
	return check_done();
}
