/* SPDX-License-Identifier: Apache-2.0 */
/* ELF version information and the C library of a root (see launch_elf.h). Only the
 * section header table and the few sections asked for are read, each with
 * pread into a buffer of its own size (at most MAX_SECTION), so a hostile
 * or truncated file of an image costs a bounded amount of memory and ends in
 * an error, never in a read outside a buffer. The version structures have
 * the same layout in 32- and 64-bit files (glibc's <elf.h>); only the file
 * and section headers differ. */
#define _GNU_SOURCE
#include "launch_elf.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolve.h"
#include "util.h"

/* Version and dynamic sections of real libraries are a few KiB. */
#define MAX_SECTION (16u << 20)
/* More entries than any real file has: the end of a walk on damaged data. */
#define MAX_ENTRIES 65536u

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#define MULTIARCH "aarch64-linux-gnu"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_MACHINE EM_PPC64
#define MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_MACHINE EM_RISCV
#define MULTIARCH "riscv64-linux-gnu"
#else
#error "unknown machine: add its EM_ value and Debian multiarch triplet here"
#endif
#define NATIVE_CLASS (__SIZEOF_POINTER__ == 8 ? ELFCLASS64 : ELFCLASS32)
#define NATIVE_DATA (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB)

struct elf {
	int fd;
	uint64_t size;
	bool is64;
	uint16_t machine;
	uint64_t shoff;
	uint32_t shnum;
	uint16_t shentsize;
};

struct section {
	uint32_t type, link;
	uint64_t offset, size;
};

static int damaged(struct launch_error **err, const char *what)
{
	return launch_error_msg(err, "damaged ELF file (%s)", what);
}

/* N bytes at OFF, which must lie inside the file. */
static int elf_read(const struct elf *e, void *buf, size_t n, uint64_t off, struct launch_error **err)
{
	if (off > e->size || n > e->size - off)
		return damaged(err, "data beyond the end of the file");
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(e->fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return launch_error_set(err, errno, "cannot read");
		if (r == 0)
			return damaged(err, "the file is shorter than it was");
		done += (size_t)r;
	}
	return 0;
}

static int elf_section(const struct elf *e, uint32_t i, struct section *s, struct launch_error **err)
{
	if (i >= e->shnum)
		return damaged(err, "section index out of range");
	uint64_t off = e->shoff + (uint64_t)i * e->shentsize;
	if (e->is64) {
		Elf64_Shdr sh;
		if (elf_read(e, &sh, sizeof(sh), off, err) < 0)
			return -1;
		*s = (struct section){ sh.sh_type, sh.sh_link, sh.sh_offset, sh.sh_size };
	} else {
		Elf32_Shdr sh;
		if (elf_read(e, &sh, sizeof(sh), off, err) < 0)
			return -1;
		*s = (struct section){ sh.sh_type, sh.sh_link, sh.sh_offset, sh.sh_size };
	}
	return 0;
}

static int elf_open(struct elf *e, int fd, struct launch_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return launch_error_msg(err, "not a regular file");
	*e = (struct elf){ .fd = fd, .size = (uint64_t)st.st_size };
	unsigned char id[EI_NIDENT];
	if (e->size < sizeof(Elf32_Ehdr) || elf_read(e, id, sizeof(id), 0, NULL) < 0 || memcmp(id, ELFMAG, SELFMAG))
		return launch_error_msg(err, "not an ELF file");
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return launch_error_msg(err, "unknown ELF class %u", id[EI_CLASS]);
	if (id[EI_DATA] != NATIVE_DATA)
		return launch_error_msg(err, "ELF file of the other byte order");
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	uint16_t shnum, want;
	if (e->is64) {
		Elf64_Ehdr h;
		if (elf_read(e, &h, sizeof(h), 0, err) < 0)
			return -1;
		e->machine = h.e_machine, e->shoff = h.e_shoff, shnum = h.e_shnum, e->shentsize = h.e_shentsize;
		want = sizeof(Elf64_Shdr);
	} else {
		Elf32_Ehdr h;
		if (elf_read(e, &h, sizeof(h), 0, err) < 0)
			return -1;
		e->machine = h.e_machine, e->shoff = h.e_shoff, shnum = h.e_shnum, e->shentsize = h.e_shentsize;
		want = sizeof(Elf32_Shdr);
	}
	if (e->shoff == 0)
		return launch_error_msg(err, "ELF file without section headers");
	if (e->shentsize != want)
		return damaged(err, "unexpected section header size");
	e->shnum = shnum;
	if (shnum == 0) {
		/* More than SHN_LORESERVE sections: the count is section 0's size. */
		struct section s0;
		e->shnum = 1;
		if (elf_section(e, 0, &s0, err) < 0)
			return -1;
		if (s0.size == 0 || s0.size > MAX_ENTRIES)
			return damaged(err, "section count");
		e->shnum = (uint32_t)s0.size;
	}
	if (e->shoff > e->size || (uint64_t)e->shnum * e->shentsize > e->size - e->shoff)
		return damaged(err, "section headers beyond the end of the file");
	return 0;
}

/* The first section of TYPE: 1, 0 when there is none, -1 on error. */
static int elf_find(const struct elf *e, uint32_t type, struct section *s, struct launch_error **err)
{
	for (uint32_t i = 1; i < e->shnum; i++) {
		if (elf_section(e, i, s, err) < 0)
			return -1;
		if (s->type == type)
			return 1;
	}
	return 0;
}

/* The bytes of S, NUL-terminated one past its end (so that every string
 * starting inside it ends inside the buffer). */
static int elf_load(const struct elf *e, const struct section *s, char **buf, struct launch_error **err)
{
	if (s->size > MAX_SECTION)
		return damaged(err, "section too large");
	_cleanup_free_ char *b = xmalloc(s->size + 1);
	if (elf_read(e, b, s->size, s->offset, err) < 0)
		return -1;
	b[s->size] = '\0';
	*buf = steal_pointer(&b);
	return 0;
}

/* The section S and the string table it links to. */
static int elf_load_with_strings(const struct elf *e, const struct section *s, char **buf, char **strs, size_t *nstrs,
				 struct launch_error **err)
{
	struct section st;
	if (elf_section(e, s->link, &st, err) < 0)
		return -1;
	if (st.type != SHT_STRTAB)
		return damaged(err, "linked section is not a string table");
	if (elf_load(e, s, buf, err) < 0)
		return -1;
	if (elf_load(e, &st, strs, err) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*nstrs = st.size;
	return 0;
}

static const char *str_at(const char *strs, size_t n, uint64_t off)
{
	return off < n ? strs + off : NULL;
}

/* Whether N bytes at OFF fit in a buffer of SIZE. */
static bool fits(uint64_t off, size_t n, uint64_t size)
{
	return off <= size && n <= size - off;
}

static int walk_verdef(const char *buf, uint64_t size, const char *strs, size_t nstrs, launch_elf_version_fn fn,
		       void *data, struct launch_error **err)
{
	uint64_t off = 0;
	for (unsigned i = 0; i < MAX_ENTRIES; i++) {
		Elf64_Verdef vd;
		if (!fits(off, sizeof(vd), size))
			return damaged(err, "version definition out of bounds");
		memcpy(&vd, buf + off, sizeof(vd));
		if (vd.vd_version != VER_DEF_CURRENT)
			return damaged(err, "unknown version definition revision");
		if (vd.vd_cnt > 0 && !(vd.vd_flags & VER_FLG_BASE)) {
			Elf64_Verdaux va;
			if (!fits(off + vd.vd_aux, sizeof(va), size))
				return damaged(err, "version definition name out of bounds");
			memcpy(&va, buf + off + vd.vd_aux, sizeof(va));
			const char *name = str_at(strs, nstrs, va.vda_name);
			if (!name)
				return damaged(err, "version name out of bounds");
			int r = fn(NULL, name, data);
			if (r)
				return r;
		}
		if (vd.vd_next == 0)
			return 0;
		off += vd.vd_next;
	}
	return damaged(err, "too many version definitions");
}

static int walk_verneed(const char *buf, uint64_t size, const char *strs, size_t nstrs, launch_elf_version_fn fn,
			void *data, struct launch_error **err)
{
	uint64_t off = 0;
	for (unsigned i = 0; i < MAX_ENTRIES; i++) {
		Elf64_Verneed vn;
		if (!fits(off, sizeof(vn), size))
			return damaged(err, "version requirement out of bounds");
		memcpy(&vn, buf + off, sizeof(vn));
		if (vn.vn_version != VER_NEED_CURRENT)
			return damaged(err, "unknown version requirement revision");
		const char *file = str_at(strs, nstrs, vn.vn_file);
		if (!file)
			return damaged(err, "library name out of bounds");
		uint64_t a = off + vn.vn_aux;
		for (unsigned j = 0; j < vn.vn_cnt; j++) {
			Elf64_Vernaux va;
			if (!fits(a, sizeof(va), size))
				return damaged(err, "version requirement entry out of bounds");
			memcpy(&va, buf + a, sizeof(va));
			const char *name = str_at(strs, nstrs, va.vna_name);
			if (!name)
				return damaged(err, "version name out of bounds");
			int r = fn(file, name, data);
			if (r)
				return r;
			if (va.vna_next == 0)
				break;
			a += va.vna_next;
		}
		if (vn.vn_next == 0)
			return 0;
		off += vn.vn_next;
	}
	return damaged(err, "too many version requirements");
}

int launch_elf_versions(int fd, bool needed, launch_elf_version_fn fn, void *data, struct launch_error **err)
{
	struct elf e;
	struct section s;
	if (elf_open(&e, fd, err) < 0)
		return -1;
	int r = elf_find(&e, needed ? SHT_GNU_verneed : SHT_GNU_verdef, &s, err);
	if (r <= 0)
		return r;
	_cleanup_free_ char *buf = NULL, *strs = NULL;
	size_t nstrs;
	if (elf_load_with_strings(&e, &s, &buf, &strs, &nstrs, err) < 0)
		return -1;
	return needed ? walk_verneed(buf, s.size, strs, nstrs, fn, data, err)
		      : walk_verdef(buf, s.size, strs, nstrs, fn, data, err);
}

bool launch_elf_version_parse(const char *s, struct launch_elf_version *v)
{
	*v = (struct launch_elf_version){ { 0, 0, 0 } };
	for (int i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return false;
		long n = 0;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > 1000000)
				return false;
		}
		v->v[i] = (int)n;
		if (*s == '\0')
			return true;
		if (*s++ != '.')
			return false;
	}
	return false;
}

int launch_elf_version_cmp(const struct launch_elf_version *a, const struct launch_elf_version *b)
{
	for (int i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

struct max_version {
	const char *prefix;
	struct launch_elf_version max;
	char *found;
};

static int max_version_cb(const char *file, const char *name, void *data)
{
	struct max_version *m = data;
	struct launch_elf_version v;
	(void)file;
	if (!launch_str_has_prefix(name, m->prefix) || !launch_elf_version_parse(name + strlen(m->prefix), &v))
		return 0;
	if (!m->found || launch_elf_version_cmp(&v, &m->max) > 0) {
		m->max = v;
		free(m->found);
		m->found = xstrdup(name);
	}
	return 0;
}

int launch_elf_max_version(int fd, bool needed, const char *prefix, struct launch_elf_version *max, char **which,
			   struct launch_error **err)
{
	struct max_version m = { .prefix = prefix };
	*max = m.max;
	if (which)
		*which = NULL;
	if (launch_elf_versions(fd, needed, max_version_cb, &m, err) < 0) {
		free(m.found);
		return -1;
	}
	if (!m.found)
		return 0;
	*max = m.max;
	if (which)
		*which = m.found;
	else
		free(m.found);
	return 1;
}

int launch_elf_soname(int fd, char **soname, struct launch_error **err)
{
	struct elf e;
	struct section s;
	*soname = NULL;
	if (elf_open(&e, fd, err) < 0)
		return -1;
	int r = elf_find(&e, SHT_DYNAMIC, &s, err);
	if (r <= 0)
		return r;
	_cleanup_free_ char *buf = NULL, *strs = NULL;
	size_t nstrs;
	if (elf_load_with_strings(&e, &s, &buf, &strs, &nstrs, err) < 0)
		return -1;
	size_t ent = e.is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	for (uint64_t off = 0; fits(off, ent, s.size); off += ent) {
		int64_t tag;
		uint64_t val;
		if (e.is64) {
			Elf64_Dyn d;
			memcpy(&d, buf + off, sizeof(d));
			tag = d.d_tag, val = d.d_un.d_val;
		} else {
			Elf32_Dyn d;
			memcpy(&d, buf + off, sizeof(d));
			tag = d.d_tag, val = d.d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_SONAME) {
			const char *name = str_at(strs, nstrs, val);
			if (!name)
				return damaged(err, "soname out of bounds");
			*soname = xstrdup(name);
			return 0;
		}
	}
	return 0;
}

bool launch_elf_is_native(int fd)
{
	struct elf e;
	if (elf_open(&e, fd, NULL) < 0)
		return false;
	return e.is64 == (NATIVE_CLASS == ELFCLASS64) && e.machine == NATIVE_MACHINE;
}

/* musl's dynamic linker is /lib/ld-musl-ARCH.so.1 on every distribution. */
static bool root_has_musl(int rootfd)
{
	int fd = launch_resolve_in_root(rootfd, "/lib", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool found = false;
	const struct dirent *de;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		found = n > strlen("ld-musl-.so.1") && launch_str_has_prefix(de->d_name, "ld-musl-") &&
			!strcmp(de->d_name + n - strlen(".so.1"), ".so.1");
	}
	closedir(d);
	return found;
}

/* Whether container path PATH is a native libc.so.6 defining GLIBC_x.y. */
static bool glibc_at(int rootfd, const char *path, struct launch_libc *libc)
{
	_cleanup_close_ int fd = launch_resolve_in_root(rootfd, path, O_RDONLY | O_NONBLOCK);
	if (fd < 0 || !launch_elf_is_native(fd))
		return false;
	struct launch_error *err = NULL;
	struct launch_elf_version v;
	int r = launch_elf_max_version(fd, false, "GLIBC_", &v, NULL, &err);
	launch_error_free(err);
	if (r != 1)
		return false;
	libc->kind = "glibc";
	libc->major = v.v[0];
	libc->minor = v.v[1];
	return true;
}

int launch_elf_libc(const char *root, const char *cached, struct launch_libc *libc)
{
	static const char *const dirs[] = { "/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib",
					    "/usr/lib" };
	memset(libc, 0, sizeof(*libc));
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	if (root_has_musl(rootfd)) {
		libc->kind = "musl";
		return 0;
	}
	if (cached && glibc_at(rootfd, cached, libc))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *path = xasprintf("%s/libc.so.6", dirs[i]);
		if (glibc_at(rootfd, path, libc))
			return 0;
	}
	return 0;
}

int launch_hook_libc(const char *root, struct launch_libc *libc)
{
	return launch_elf_libc(root, NULL, libc);
}
