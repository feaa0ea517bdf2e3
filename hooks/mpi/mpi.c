/* SPDX-License-Identifier: Apache-2.0 */
/* The MPI hook's work (see mpi.h). Everything is checked before the first
 * mount: the configuration, the host libraries (ELF files of this machine,
 * the GLIBC_x.y they need), the image's C library and its MPI, found in the
 * image's own linker cache. The result is a plan, a list of binds and
 * symlinks, which one launch_inject batch then carries out; the linker
 * cache is rebuilt only when files were added. Image paths are resolved
 * inside the root (resolve.h), and the file a path ends at is named by its
 * container path, so that a bind lands on exactly that file. */
#define _GNU_SOURCE
#include "mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch_elf.h"
#include "hookapi.h"
#include "resolve.h"
#include "util.h"

static const char *const compat_names[] = { "major", "full", "strict" };

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* --- configuration --- */

/* A colon-separated list of absolute paths (empty elements are skipped). */
static int path_list(const char *var, const char *value, char ***out, struct launch_error **err)
{
	_cleanup_strv_ char **v = xcalloc(1, sizeof(char *));
	for (const char *p = value; p && *p;) {
		const char *colon = strchrnul(p, ':');
		if (colon > p) {
			char *e = xstrndup(p, (size_t)(colon - p));
			launch_strv_push(&v, e);
			if (e[0] != '/')
				return launch_error_msg(
					err, "%s: %s is not an absolute path (fix %s in the hook file's hook.env)", var,
					e, var);
		}
		p = *colon ? colon + 1 : colon;
	}
	*out = steal_pointer(&v);
	return 0;
}

int launch_mpi_compat_parse(const char *s, enum launch_mpi_compat *c, struct launch_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(compat_names); i++)
		if (!strcmp(s, compat_names[i])) {
			*c = (enum launch_mpi_compat)i;
			return 0;
		}
	return launch_error_msg(err,
				"MPI_COMPATIBILITY_TYPE=%s is not one of major, full, strict (fix it in the hook "
				"file's hook.env)",
				s);
}

const char *launch_mpi_compat_name(enum launch_mpi_compat c)
{
	return (size_t)c < ARRAY_SIZE(compat_names) ? compat_names[c] : "?";
}

int launch_mpi_config_load(struct launch_mpi_config *c, char *const *envp, struct launch_error **err)
{
	memset(c, 0, sizeof(*c));
	if (path_list("MPI_LIBS", launch_strv_value(envp, "MPI_LIBS"), &c->libs, err) < 0 ||
	    path_list("MPI_DEPENDENCY_LIBS", launch_strv_value(envp, "MPI_DEPENDENCY_LIBS"), &c->deps, err) < 0 ||
	    path_list("BIND_MOUNTS", launch_strv_value(envp, "BIND_MOUNTS"), &c->binds, err) < 0)
		goto fail;
	if (!c->libs[0]) {
		launch_error_msg(err,
				 "MPI_LIBS is not set in the hook's environment (list the host's MPI libraries, "
				 "colon-separated, in the hook file's hook.env)");
		goto fail;
	}
	const char *ldconfig = launch_strv_value(envp, "LDCONFIG_PATH");
	c->ldconfig = xstrdup(ldconfig && *ldconfig ? ldconfig : LAUNCH_MPI_DEFAULT_LDCONFIG);
	if (c->ldconfig[0] != '/') {
		launch_error_msg(err, "LDCONFIG_PATH: %s is not an absolute path (fix it in the hook file's hook.env)",
				 c->ldconfig);
		goto fail;
	}
	const char *compat = launch_strv_value(envp, "MPI_COMPATIBILITY_TYPE");
	c->compat = LAUNCH_MPI_COMPAT_MAJOR;
	if (compat && *compat && launch_mpi_compat_parse(compat, &c->compat, err) < 0)
		goto fail;
	return 0;
fail:
	launch_mpi_config_clear(c);
	return -1;
}

void launch_mpi_config_clear(struct launch_mpi_config *c)
{
	launch_strv_free(c->libs);
	launch_strv_free(c->deps);
	launch_strv_free(c->binds);
	free(c->ldconfig);
	memset(c, 0, sizeof(*c));
}

/* --- versions --- */

bool launch_mpi_compatible(enum launch_mpi_compat c, const int host[3], const int image[3])
{
	if (host[0] != image[0])
		return false;
	switch (c) {
	case LAUNCH_MPI_COMPAT_MAJOR:
		return true;
	case LAUNCH_MPI_COMPAT_FULL:
		return host[1] > image[1] || (host[1] == image[1] && host[2] >= image[2]);
	case LAUNCH_MPI_COMPAT_STRICT:
		return host[1] == image[1] && host[2] == image[2];
	}
	return false;
}

int launch_mpi_libname_parse(const char *file, struct launch_mpi_libname *ln)
{
	memset(ln, 0, sizeof(*ln));
	const char *base = base_name(file), *so = strstr(base, ".so.");
	if (!so || so == base)
		return -1;
	int v[3] = { 0, 0, 0 }, n = 0;
	for (const char *p = so + 4;; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		long x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (*p++ - '0');
			if (x > 1000000)
				return -1;
		}
		if (n < 3)
			v[n] = (int)x;
		n++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return -1;
	}
	ln->name = xstrndup(base, (size_t)(so - base));
	memcpy(ln->v, v, sizeof(v));
	ln->n = n < 3 ? n : 3;
	return 0;
}

void launch_mpi_libname_clear(struct launch_mpi_libname *ln)
{
	free(ln->name);
	memset(ln, 0, sizeof(*ln));
}

/* "12", "12.2" or "12.2.2", as many numbers as the name had (malloc'ed). */
static char *version_str(const struct launch_mpi_libname *ln)
{
	if (ln->n <= 1)
		return xasprintf("%d", ln->v[0]);
	if (ln->n == 2)
		return xasprintf("%d.%d", ln->v[0], ln->v[1]);
	return xasprintf("%d.%d.%d", ln->v[0], ln->v[1], ln->v[2]);
}

/* --- host libraries --- */

struct hostlib {
	const char *var;		 /* the variable that named it */
	char *real;			 /* the file, symlinks resolved */
	char *soname;			 /* DT_SONAME, else the name it was given */
	struct launch_mpi_libname ln;	 /* MPI_LIBS only */
	struct launch_elf_version glibc; /* the highest GLIBC_x.y it needs */
	char *glibc_name;		 /* that version's name; NULL: needs none */
};

static void hostlib_clear(struct hostlib *h)
{
	free(h->real);
	free(h->soname);
	launch_mpi_libname_clear(&h->ln);
	free(h->glibc_name);
	memset(h, 0, sizeof(*h));
}

/* The name an MPI library is matched by comes from the path given
 * (libmpi.so.12, which may link to a vendor's libmpi_gnu_91.so.12.0.0), its
 * version from the real file's name when that has the same major (which
 * the link to libmpich.so.12.2.2 has); a path without a version is named
 * by its real file alone. */
static int mpi_name(const char *given, const char *real, struct launch_mpi_libname *ln)
{
	struct launch_mpi_libname g, r;
	bool have_g = launch_mpi_libname_parse(given, &g) == 0, have_r = launch_mpi_libname_parse(real, &r) == 0;
	if (have_g && have_r && r.v[0] == g.v[0] && r.n > g.n) {
		memcpy(g.v, r.v, sizeof(g.v));
		g.n = r.n;
	}
	if (have_g) {
		*ln = g;
		launch_mpi_libname_clear(&r);
		return 0;
	}
	*ln = r;
	return have_r ? 0 : -1;
}

static int hostlib_load(const char *var, const char *path, bool mpi, struct hostlib *h, struct launch_error **err)
{
	memset(h, 0, sizeof(*h));
	h->var = var;
	h->real = realpath(path, NULL);
	if (!h->real)
		return launch_error_set(err, errno, "%s: cannot use %s (fix the hook file's hook.env)", var, path);
	_cleanup_close_ int fd = open(h->real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "%s: cannot open %s", var, h->real);
	if (!launch_elf_is_native(fd))
		return launch_error_msg(err,
					"%s: %s is not a shared library for this machine (fix the hook file's "
					"hook.env)",
					var, h->real);
	if (mpi && mpi_name(path, h->real, &h->ln) < 0)
		return launch_error_msg(err,
					"%s: cannot tell the version of %s: the file name must be "
					"libNAME.so.MAJOR[.MINOR[.PATCH]] (fix the hook file's hook.env)",
					var, path);
	if (launch_elf_soname(fd, &h->soname, err) < 0 ||
	    launch_elf_max_version(fd, true, "GLIBC_", &h->glibc, &h->glibc_name, err) < 0)
		return launch_error_wrap(err, "%s: %s", var, h->real);
	if (h->soname && (strchr(h->soname, '/') || !strcmp(h->soname, ".") || !strcmp(h->soname, ".."))) {
		free(h->soname); /* not a file name: not usable as a link in the added directory */
		h->soname = NULL;
	}
	if (!h->soname)
		h->soname = xstrdup(strstr(base_name(path), ".so.") ? base_name(path) : base_name(h->real));
	return 0;
}

/* --- the plan --- */

struct action {
	char *src;    /* host path to bind; NULL for a symlink */
	char *target; /* the symlink's target */
	char *dst;    /* container path */
	bool readonly;
};

struct ctx {
	const struct launch_mpi_config *c;
	const char *root;
	int rootfd;
	char *rootreal;
	struct launch_ldcache cache;
	struct hostlib *libs; /* MPI_LIBS, then MPI_DEPENDENCY_LIBS */
	size_t nlibs, nmpi;
	struct action *plan;
	size_t nplan;
	bool added;
};

static void ctx_clear(struct ctx *x)
{
	if (x->rootfd >= 0)
		close(x->rootfd);
	free(x->rootreal);
	launch_ldcache_clear(&x->cache);
	for (size_t i = 0; i < x->nlibs; i++)
		hostlib_clear(&x->libs[i]);
	free(x->libs);
	for (size_t i = 0; i < x->nplan; i++) {
		free(x->plan[i].src);
		free(x->plan[i].target);
		free(x->plan[i].dst);
	}
	free(x->plan);
}

static const struct action *plan_find(const struct ctx *x, const char *dst)
{
	for (size_t i = 0; i < x->nplan; i++)
		if (!strcmp(x->plan[i].dst, dst))
			return &x->plan[i];
	return NULL;
}

static void plan_push(struct ctx *x, const char *src, const char *target, const char *dst, bool readonly)
{
	x->plan = xrealloc(x->plan, (x->nplan + 1) * sizeof(*x->plan));
	x->plan[x->nplan++] = (struct action){
		.src = src ? xstrdup(src) : NULL,
		.target = target ? xstrdup(target) : NULL,
		.dst = xstrdup(dst),
		.readonly = readonly,
	};
}

/* Bind host file SRC over the image's file DST, once. */
static int plan_replace(struct ctx *x, const struct hostlib *h, const char *dst, struct launch_error **err)
{
	const struct action *a = plan_find(x, dst);
	if (!a) {
		plan_push(x, h->real, NULL, dst, true);
		return 0;
	}
	if (a->src && !strcmp(a->src, h->real))
		return 0;
	return launch_error_msg(err, "%s and %s would both replace the image's %s (fix the hook file's hook.env)",
				a->src ? a->src : a->target, h->real, dst);
}

/* Add host file H to LAUNCH_MPI_ADD_DIR, with its soname as a symlink. */
static int plan_add(struct ctx *x, const struct hostlib *h, struct launch_error **err)
{
	const char *base = base_name(h->real);
	_cleanup_free_ char *dst = xasprintf("%s/%s", LAUNCH_MPI_ADD_DIR, base);
	_cleanup_free_ char *link = xasprintf("%s/%s", LAUNCH_MPI_ADD_DIR, h->soname);
	bool need_link = strcmp(base, h->soname) != 0;
	const struct action *a = plan_find(x, dst), *l = need_link ? plan_find(x, link) : NULL;
	if (a && (!a->src || strcmp(a->src, h->real)))
		return launch_error_msg(err, "%s: two host libraries are named %s (fix the hook file's hook.env)",
					h->var, base);
	if (l && (!l->target || strcmp(l->target, base)))
		return launch_error_msg(err, "%s: two host libraries have the soname %s (fix the hook file's hook.env)",
					h->var, h->soname);
	if (!a)
		plan_push(x, h->real, NULL, dst, true);
	if (need_link && !l)
		plan_push(x, NULL, base, link, false);
	x->added = true;
	return 0;
}

/* The container path of the file that container path CPATH ends at
 * (symlinks followed inside the root), or NULL with errno set. */
static char *image_file(const struct ctx *x, const char *cpath, struct stat *st)
{
	_cleanup_close_ int fd = launch_resolve_in_root(x->rootfd, cpath, O_PATH);
	if (fd < 0 || fstat(fd, st) < 0)
		return NULL;
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	size_t rl = strcmp(x->rootreal, "/") ? strlen(x->rootreal) : 0;
	if (strncmp(buf, x->rootreal, rl) || (buf[rl] != '/' && buf[rl] != '\0')) {
		errno = EXDEV; /* not reached through the root: never bind there */
		return NULL;
	}
	return xstrdup(buf[rl] ? buf + rl : "/");
}

static int incompatible(const struct ctx *x, const struct hostlib *h, const char *image, const int iv[3],
			struct launch_error **err)
{
	const char *type = launch_mpi_compat_name(x->c->compat);
	if (h->ln.v[0] != iv[0])
		return launch_error_msg(err,
					"the host's %s cannot replace the image's %s: MPI_COMPATIBILITY_TYPE=%s "
					"needs equal major versions (use an image whose MPI has ABI version %d, "
					"or run without --mpi)",
					base_name(h->real), image, type, h->ln.v[0]);
	_cleanup_free_ char *hv = version_str(&h->ln);
	bool full = x->c->compat == LAUNCH_MPI_COMPAT_FULL;
	return launch_error_msg(err,
				"the host's %s cannot replace the image's %s: MPI_COMPATIBILITY_TYPE=%s needs %s "
				"(use an image whose %s is version %s%s, or run without --mpi)",
				base_name(h->real), image, type,
				full ? "a host version at least the image's" : "the same version", h->ln.name, hv,
				full ? " or older" : "");
}

/* The image's libraries named like MPI library H (libNAME.so.*), in cache
 * order: those of H's major version are replaced, after the version check
 * (*FOUND). Another major of the same name is another ABI (Open MPI's
 * libmpi.so.40 beside an MPICH): the first is kept in *OTHER and *OTHER_V
 * for the message, should no MPI library match at all. */
static int plan_mpi_lib(struct ctx *x, const struct hostlib *h, bool *found, char **other, int other_v[3],
			struct launch_error **err)
{
	_cleanup_free_ char *prefix = xasprintf("%s.so.", h->ln.name);
	*found = false;
	*other = NULL;
	for (size_t i = 0; i < x->cache.n; i++) {
		const struct launch_ldcache_entry *e = &x->cache.v[i];
		struct launch_mpi_libname en, rn;
		struct stat st;
		if (!launch_str_has_prefix(e->name, prefix) || launch_mpi_libname_parse(e->name, &en) < 0)
			continue;
		_cleanup_free_ char *file = image_file(x, e->path, &st);
		if (!file || !S_ISREG(st.st_mode)) {
			launch_mpi_libname_clear(&en); /* a stale entry: ld.so skips it too */
			continue;
		}
		/* The real file's name carries the full version; the soname only the major. */
		bool named =
			launch_mpi_libname_parse(file, &rn) == 0 && !strcmp(rn.name, en.name) && rn.v[0] == en.v[0];
		const int *iv = named ? rn.v : en.v;
		int r = 0;
		if (iv[0] != h->ln.v[0]) {
			if (!*other) {
				*other = xstrdup(base_name(file));
				memcpy(other_v, iv, 3 * sizeof(int));
			}
		} else if (!launch_mpi_compatible(x->c->compat, h->ln.v, iv)) {
			r = incompatible(x, h, base_name(file), iv, err);
		} else {
			*found = true;
			r = plan_replace(x, h, file, err);
		}
		launch_mpi_libname_clear(&en);
		launch_mpi_libname_clear(&rn);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* A dependency the image has (same soname) is replaced, else added. */
static int plan_dep(struct ctx *x, const struct hostlib *h, struct launch_error **err)
{
	const struct launch_ldcache_entry *e = launch_ldcache_find(&x->cache, h->soname);
	struct stat st;
	_cleanup_free_ char *file = e ? image_file(x, e->path, &st) : NULL;
	if (file && S_ISREG(st.st_mode))
		return plan_replace(x, h, file, err);
	return plan_add(x, h, err);
}

static int check_glibc(const struct ctx *x, const struct launch_libc *libc, struct launch_error **err)
{
	if (!libc->kind || strcmp(libc->kind, "glibc"))
		return 0; /* none found: nothing to compare with (ld.so will say what it misses) */
	const struct launch_elf_version have = { { libc->major, libc->minor, 0 } };
	const struct hostlib *worst = NULL;
	for (size_t i = 0; i < x->nlibs; i++)
		if (x->libs[i].glibc_name && (!worst || launch_elf_version_cmp(&x->libs[i].glibc, &worst->glibc) > 0))
			worst = &x->libs[i];
	if (!worst || launch_elf_version_cmp(&worst->glibc, &have) <= 0)
		return 0;
	const char *need = worst->glibc_name + strlen("GLIBC_");
	return launch_error_msg(err,
				"the host's %s needs %s, but the image's glibc is %d.%d: use an image with glibc "
				"%s or newer (or a host MPI built for glibc %d.%d), or run without --mpi",
				base_name(worst->real), worst->glibc_name, libc->major, libc->minor, need, libc->major,
				libc->minor);
}

static int load_libs(struct ctx *x, struct launch_error **err)
{
	size_t n = launch_strv_len(x->c->libs), m = launch_strv_len(x->c->deps);
	x->libs = xcalloc(n + m + 1, sizeof(*x->libs));
	for (size_t i = 0; i < n + m; i++) {
		bool mpi = i < n;
		if (hostlib_load(mpi ? "MPI_LIBS" : "MPI_DEPENDENCY_LIBS", mpi ? x->c->libs[i] : x->c->deps[i - n], mpi,
				 &x->libs[x->nlibs], err) < 0) {
			hostlib_clear(&x->libs[x->nlibs]);
			return -1;
		}
		x->nlibs++;
		if (mpi)
			x->nmpi++;
	}
	return 0;
}

/* Whether library I was listed before: an MPI library by its name (libmpi
 * and libmpich may well be one host file, and both are looked for), a
 * dependency by its file. */
static bool seen_before(const struct ctx *x, size_t i)
{
	for (size_t j = i < x->nmpi ? 0 : x->nmpi; j < i; j++)
		if (i < x->nmpi ? !strcmp(x->libs[j].ln.name, x->libs[i].ln.name)
				: !strcmp(x->libs[j].real, x->libs[i].real))
			return true;
	return false;
}

static int make_plan(struct ctx *x, struct launch_error **err)
{
	/* MPI libraries: replace first; add those without a counterpart only
	 * once one matched (else the image has no MPI of the host's ABI) */
	bool *found = xcalloc(x->nmpi + 1, sizeof(bool)), any = false;
	char *other = NULL;
	int other_v[3] = { 0, 0, 0 }, r = 0;
	size_t other_i = 0;
	for (size_t i = 0; i < x->nmpi && r == 0; i++) {
		char *o = NULL;
		int ov[3];
		if (seen_before(x, i))
			continue;
		r = plan_mpi_lib(x, &x->libs[i], &found[i], &o, ov, err);
		any = any || found[i];
		if (o && !other) {
			other = o, other_i = i;
			memcpy(other_v, ov, sizeof(other_v));
		} else {
			free(o);
		}
	}
	if (r == 0 && !any && other) {
		r = incompatible(x, &x->libs[other_i], other, other_v, err);
	} else if (r == 0 && !any) {
		_cleanup_free_ char *names = xstrdup("");
		for (size_t i = 0; i < x->nmpi; i++) {
			if (seen_before(x, i))
				continue;
			char *s = xasprintf("%s%s%s.so.*", names, *names ? ", " : "", x->libs[i].ln.name);
			free(names);
			names = s;
		}
		r = launch_error_msg(err,
				     "the image has no MPI in its linker cache (looked for %s): use an image "
				     "with an MPICH-ABI MPI installed where ldconfig finds it, or run without "
				     "--mpi",
				     names);
	}
	for (size_t i = 0; i < x->nmpi && r == 0; i++)
		if (!found[i] && !seen_before(x, i))
			r = plan_add(x, &x->libs[i], err);
	free(found);
	free(other);
	if (r < 0)
		return -1;
	for (size_t i = x->nmpi; i < x->nlibs; i++)
		if (!seen_before(x, i) && plan_dep(x, &x->libs[i], err) < 0)
			return -1;
	for (size_t i = 0; x->c->binds[i]; i++) {
		struct stat st;
		if (stat(x->c->binds[i], &st) < 0)
			return launch_error_set(err, errno, "BIND_MOUNTS: cannot use %s (fix the hook file's hook.env)",
						x->c->binds[i]);
		if (!plan_find(x, x->c->binds[i]))
			plan_push(x, x->c->binds[i], NULL, x->c->binds[i], false);
	}
	return 0;
}

static int carry_out(struct ctx *x, struct launch_error **err)
{
	struct launch_inject *inj;
	if (launch_inject_begin(x->root, &inj, err) < 0)
		return -1;
	for (size_t i = 0; i < x->nplan; i++) {
		const struct action *a = &x->plan[i];
		int r = a->src ? launch_inject_bind(inj, a->src, a->dst, a->readonly, err)
			       : launch_inject_symlink(inj, a->target, a->dst, err);
		if (r < 0) {
			launch_inject_end(inj, NULL);
			return -1;
		}
	}
	if (launch_inject_end(inj, err) < 0)
		return -1;
	if (!x->added)
		return 0;
	char *dirs[] = { (char *)LAUNCH_MPI_ADD_DIR, NULL };
	if (launch_ldcache_update(x->c->ldconfig, x->root, dirs, err) < 0)
		return launch_error_wrap(err, "updating the container's linker cache");
	return 0;
}

static int inject(struct ctx *x, struct launch_error **err)
{
	if (access(x->c->ldconfig, X_OK) < 0)
		return launch_error_set(err, errno,
					"LDCONFIG_PATH: cannot run %s (set LDCONFIG_PATH in the hook file "
					"to the host's ldconfig)",
					x->c->ldconfig);
	if (load_libs(x, err) < 0)
		return -1;
	x->rootfd = open(x->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	x->rootreal = x->rootfd >= 0 ? realpath(x->root, NULL) : NULL;
	if (!x->rootreal)
		return launch_error_set(err, errno, "cannot open the container root %s", x->root);

	/* The C library before the cache: a musl image usually has none. */
	struct launch_libc libc;
	if (launch_elf_libc(x->root, NULL, &libc) < 0)
		return launch_error_set(err, errno, "cannot open the container root %s", x->root);
	if (libc.kind && !strcmp(libc.kind, "musl"))
		return launch_error_msg(err,
					"the image uses musl libc: a host MPI built for glibc cannot be injected; "
					"use an image based on a glibc distribution (Debian, Ubuntu, RHEL, ...), "
					"or run without --mpi");
	struct stat st;
	_cleanup_close_ int cache = launch_resolve_in_root(x->rootfd, "/etc/ld.so.cache", O_PATH);
	if (cache < 0 || fstat(cache, &st) < 0 || !S_ISREG(st.st_mode))
		return launch_error_msg(err,
					"the image has no linker cache (/etc/ld.so.cache), so its MPI cannot be "
					"found: run ldconfig in the image when building it, or run without --mpi");
	if (launch_ldcache_read(x->c->ldconfig, x->root, &x->cache, err) < 0)
		return launch_error_wrap(err, "reading the image's linker cache");
	const struct launch_ldcache_entry *cached = launch_ldcache_find(&x->cache, "libc.so.6");
	if (cached && launch_elf_libc(x->root, cached->path, &libc) < 0)
		return launch_error_set(err, errno, "cannot open the container root %s", x->root);
	if (check_glibc(x, &libc, err) < 0 || make_plan(x, err) < 0)
		return -1;
	return carry_out(x, err);
}

int launch_mpi_inject(const struct launch_mpi_config *c, const char *root, struct launch_error **err)
{
	struct ctx x = { .c = c, .root = root, .rootfd = -1 };
	int r = inject(&x, err);
	ctx_clear(&x);
	return r;
}

int launch_mpi_hook(char *const *envp, int state_fd, struct launch_error **err)
{
	struct launch_hook_state st;
	if (launch_hook_state_read(state_fd, &st, err) < 0)
		return -1;
	struct launch_mpi_config c;
	int r = launch_mpi_config_load(&c, envp, err);
	if (r == 0) {
		r = launch_hook_enter(st.pid, err);
		if (r == 0)
			r = launch_mpi_inject(&c, st.root, err);
		launch_mpi_config_clear(&c);
	}
	launch_hook_state_clear(&st);
	return r;
}
