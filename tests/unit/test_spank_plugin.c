/* SPDX-License-Identifier: Apache-2.0 */
/* The built spank_launch.so as Slurm sees it: it loads with RTLD_NOW when
 * the program provides only the Slurm API of spank-plugin/slurm_stubs.c
 * (exported from this program, as slurmstepd and srun export theirs), it
 * carries the identity of the Slurm it was built against, and its dynamic
 * symbol table defines Slurm's names only: none of launch-core, jansson or
 * libcap can bind to, or shadow, a symbol of slurmstepd or another plugin.
 * argv[1]: the module. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <slurm/spank.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const char *const entry_points[] = {
	"slurm_spank_init",	 "slurm_spank_init_post_opt", "slurm_spank_user_init",	"slurm_spank_task_init",
	"slurm_spank_task_exit", "slurm_spank_exit",	      "slurm_spank_job_epilog",
};

static bool slurm_name(const char *name)
{
	return strncmp(name, "slurm_spank_", strlen("slurm_spank_")) == 0 || strcmp(name, "plugin_name") == 0 ||
	       strcmp(name, "plugin_type") == 0 || strcmp(name, "plugin_version") == 0 ||
	       strcmp(name, "spank_plugin_version") == 0;
}

/* Every symbol the module defines in .dynsym is one of Slurm's names. */
static void test_exports(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (!CHECK(fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size > sizeof(ElfW(Ehdr))))
		return;
	const unsigned char *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (!CHECK(base != MAP_FAILED))
		return;
	const ElfW(Ehdr) *eh = (const void *)base;
	const ElfW(Shdr) *sh = (const void *)(base + eh->e_shoff);
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
	      eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) <= (size_t)st.st_size);
	int defined = 0;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const ElfW(Sym) *sym = (const void *)(base + sh[i].sh_offset);
		const char *names = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
			if (sym[k].st_shndx == SHN_UNDEF || ELF64_ST_BIND(sym[k].st_info) == STB_LOCAL)
				continue;
			const char *name = names + sym[k].st_name;
			defined++;
			check_record_(slurm_name(name), __FILE__, __LINE__, "%s exports only Slurm's names (not %s)",
				      path, name);
		}
	}
	CHECK(defined > 0);
	munmap((void *)base, (size_t)st.st_size);
}

static void test_load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!check_record_(h != NULL, __FILE__, __LINE__, "dlopen with RTLD_NOW: %s", h ? "" : dlerror()))
		return;
	CHECK_STREQ((const char *)dlsym(h, "plugin_name"), "launch");
	CHECK_STREQ((const char *)dlsym(h, "plugin_type"), "spank");
	const unsigned *version = dlsym(h, "plugin_version");
	if (CHECK(version != NULL))
		CHECK_INTEQ(*version, SLURM_VERSION_NUMBER);
	for (size_t i = 0; i < sizeof(entry_points) / sizeof(entry_points[0]); i++)
		check_record_(dlsym(h, entry_points[i]) != NULL, __FILE__, __LINE__, "%s is defined", entry_points[i]);
	/* linked in, but local */
	CHECK_NULL(dlsym(h, "launch_log_set_sink"));
	CHECK_NULL(dlsym(h, "launch_instance_join"));
	dlclose(h);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SPANK_LAUNCH_SO\n", argv[0]);
		return 2;
	}
	test_exports(argv[1]);
	test_load(argv[1]);
	return check_done();
}
