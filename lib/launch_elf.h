/* SPDX-License-Identifier: Apache-2.0 */
/* What the hooks need to know about a shared library without loading it:
 * the symbol versions it defines (SHT_GNU_verdef: GLIBC_2.36 in libc.so.6)
 * and those it needs from others (SHT_GNU_verneed), its DT_SONAME, and
 * whether it is built for this machine; from those, the C library of a
 * container root (launch_hook_libc in hookapi.h). The files may come from an
 * image, so nothing is mapped or trusted: sections are read with pread into
 * bounded buffers and every offset, count and string is checked against
 * them. Section headers are required (strip keeps them). */
#ifndef LAUNCH_ELF_H
#define LAUNCH_ELF_H

#include <stdbool.h>

#include "error.h"
#include "hookapi.h"

/* A dotted version such as the 2.2.5 of GLIBC_2.2.5: missing numbers are 0. */
struct launch_elf_version {
	int v[3];
};

/* Parse "MAJOR[.MINOR[.PATCH]]" (digits only, nothing after). */
bool launch_elf_version_parse(const char *s, struct launch_elf_version *v);
int launch_elf_version_cmp(const struct launch_elf_version *a, const struct launch_elf_version *b);

/* Whether FD is an ELF file of this machine's class, byte order and
 * architecture (what ld.so of this program would load). */
bool launch_elf_is_native(int fd);

/* Call FN for every version FD defines (NEEDED false; FILE is NULL; the
 * entry naming the file itself is left out) or needs (NEEDED true; FILE is
 * the library it is needed from, e.g. libc.so.6). A non-zero return of FN
 * ends the walk and is returned. A file without such a section is no error. */
typedef int (*launch_elf_version_fn)(const char *file, const char *name, void *data);
int launch_elf_versions(int fd, bool needed, launch_elf_version_fn fn, void *data, struct launch_error **err);

/* The highest PREFIX<version> (e.g. PREFIX "GLIBC_") that FD defines or
 * needs into *MAX, and in *WHICH (optional, malloc'ed) its full name.
 * Returns 1 when there is one, 0 when none (*MAX zeroed), -1 on error.
 * Names whose rest is not a version (GLIBC_PRIVATE) are ignored. */
int launch_elf_max_version(int fd, bool needed, const char *prefix, struct launch_elf_version *max, char **which,
			   struct launch_error **err);

/* DT_SONAME of FD into *SONAME (malloc'ed; NULL when it has none). */
int launch_elf_soname(int fd, char **soname, struct launch_error **err);

/* The C library of the container root ROOT: musl when /lib/ld-musl-*.so.1
 * exists, else glibc with the highest GLIBC_x.y that its libc.so.6 defines,
 * looked for at CACHED first (the root's linker cache entry, may be NULL),
 * then in the usual directories; all paths resolved inside ROOT. Returns 0
 * with libc->kind NULL when neither is found; -1 with errno when ROOT
 * cannot be opened. */
int launch_elf_libc(const char *root, const char *cached, struct launch_libc *libc);

#endif
