/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of hooks/gpu/gpu.c: the visible-device lists (keywords,
 * indices, UUIDs, mixed, invalid) and which variable decides; the driver
 * version from a version file and from libnvidia-ml's name; the choice of
 * the driver's libraries of one version from a hand-made linker cache over
 * a temporary driver tree (stale versions, absolute and dangling symlinks);
 * the GPUs of a temporary /proc/driver/nvidia tree, index to minor; and the
 * hook's own configuration variables. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gpu.h"
#include "testutil.h"
#include "util.h"

#define V "535.104.05"
#define UUID_01 "GPU-11111111-2222-3333-4444-000000000001"
#define UUID_41 "GPU-11111111-2222-3333-4444-000000000041"
#define UUID_81 "GPU-11111111-2222-3333-4444-000000000081"

/* --- requests --- */

static void parses(const char *var, const char *value, enum launch_gpu_mode mode, const char *ids, int line)
{
	struct launch_gpu_request req;
	struct launch_error *err = NULL;
	int r = launch_gpu_request_parse(var, value, &req, &err);
	check_record_(r == 0, __FILE__, line, "%s=%s parses (%s)", var, value, err ? err->msg : "");
	launch_error_free(err);
	if (r < 0)
		return;
	check_record_(req.mode == mode, __FILE__, line, "%s=%s: mode %d, got %d", var, value, mode, req.mode);
	_cleanup_free_ char *joined = xstrdup("");
	for (size_t i = 0; req.ids && req.ids[i]; i++) {
		char *j = xasprintf("%s%s%s", joined, i ? " " : "", req.ids[i]);
		free(joined);
		joined = j;
	}
	check_record_(!strcmp(joined, ids), __FILE__, line, "%s=%s: ids [%s], got [%s]", var, value, ids, joined);
	check_record_(req.var && !strcmp(req.var, var) && req.value && !strcmp(req.value, value), __FILE__, line,
		      "%s=%s: the variable is recorded", var, value);
	launch_gpu_request_clear(&req);
}
#define PARSES(var, value, mode, ids) parses(var, value, mode, ids, __LINE__)

static void refused(const char *var, const char *value, const char *what, int line)
{
	struct launch_gpu_request req;
	struct launch_error *err = NULL;
	int r = launch_gpu_request_parse(var, value, &req, &err);
	check_record_(r < 0 && err, __FILE__, line, "%s=%s is refused", var, value);
	_cleanup_free_ char *head = xasprintf("%s=%s: ", var, value);
	check_record_(err && strstr(err->msg, head) && strstr(err->msg, what), __FILE__, line,
		      "%s=%s: message names \"%s\" (message: \"%s\")", var, value, what, err ? err->msg : "(none)");
	check_record_(req.ids == NULL && req.value == NULL, __FILE__, line, "%s=%s: nothing left allocated", var,
		      value);
	launch_error_free(err);
}
#define REFUSED(var, value, what) refused(var, value, what, __LINE__)

static void test_request_parse(void)
{
	const char *N = "NVIDIA_VISIBLE_DEVICES", *C = "CUDA_VISIBLE_DEVICES", *S = "SLURM_STEP_GPUS",
		   *J = "SLURM_JOB_GPUS";
	PARSES(N, "all", LAUNCH_GPU_ALL, "");
	PARSES(N, "none", LAUNCH_GPU_NONE, "");
	PARSES(N, "void", LAUNCH_GPU_VOID, "");
	PARSES(N, "", LAUNCH_GPU_VOID, "");
	PARSES(N, "  ", LAUNCH_GPU_VOID, "");
	PARSES(N, "0", LAUNCH_GPU_LIST, "0");
	PARSES(N, " 2, 0 ", LAUNCH_GPU_LIST, "2 0");
	PARSES(N, "01,1", LAUNCH_GPU_LIST, "1"); /* one GPU, written twice */
	PARSES(N, UUID_41, LAUNCH_GPU_LIST, UUID_41);
	PARSES(N, "1," UUID_81 ",gpu-11111111-2222-3333-4444-000000000081", LAUNCH_GPU_LIST, "1 " UUID_81);
	REFUSED(N, "abc", "`abc` is neither a GPU index nor a GPU UUID (GPU-...); or use all, none or void");
	REFUSED(N, "0,,1", "`` is neither");
	REFUSED(N, "1,", "`` is neither");
	REFUSED(N, "all,0", "`all` is neither");
	REFUSED(N, "-1", "`-1` is neither");
	REFUSED(N, "GPU-", "`GPU-` is neither");
	REFUSED(N, "GPU-zz", "`GPU-zz` is neither");
	REFUSED(N, "1234567", "`1234567` is neither");
	REFUSED(N, "0,MIG-GPU-1111/1/0", "MIG devices (MIG-GPU-1111/1/0) are not supported");

	/* CUDA's and Slurm's variables have no keywords, but ways to say none */
	PARSES(C, "1", LAUNCH_GPU_LIST, "1");
	PARSES(C, "0," UUID_01, LAUNCH_GPU_LIST, "0 " UUID_01);
	PARSES(C, "", LAUNCH_GPU_NONE, "");
	PARSES(C, "-1", LAUNCH_GPU_NONE, "");
	PARSES(C, "NoDevFiles", LAUNCH_GPU_NONE, "");
	REFUSED(C, "all", "`all` is neither a GPU index nor a GPU UUID (GPU-...)");
	REFUSED(C, "void", "`void` is neither");
	PARSES(S, "2", LAUNCH_GPU_LIST, "2");
	PARSES(S, "0,2", LAUNCH_GPU_LIST, "0 2");
	PARSES(S, "NoDevFiles", LAUNCH_GPU_NONE, "");
	PARSES(J, "1,2", LAUNCH_GPU_LIST, "1 2");
	REFUSED(J, "1-2", "`1-2` is neither");
}

static void decides(char **env, const char *var, enum launch_gpu_mode mode, const char *first, int line)
{
	struct launch_gpu_request req;
	struct launch_error *err = NULL;
	int r = launch_gpu_request_from_env(env, &req, &err);
	check_record_(r == 0, __FILE__, line, "request from the environment (%s)", err ? err->msg : "");
	launch_error_free(err);
	if (r < 0)
		return;
	check_record_(var ? req.var && !strcmp(req.var, var) : req.var == NULL, __FILE__, line, "decided by %s, got %s",
		      check_str_(var), check_str_(req.var));
	check_record_(req.mode == mode, __FILE__, line, "mode %d, got %d", mode, req.mode);
	check_record_(first ? req.ids && req.ids[0] && !strcmp(req.ids[0], first) : !req.ids || !req.ids[0], __FILE__,
		      line, "first id %s", check_str_(first));
	launch_gpu_request_clear(&req);
}
#define DECIDES(var, mode, first, ...)                             \
	do {                                                       \
		char *env_[] = { "PATH=/bin", __VA_ARGS__, NULL }; \
		decides(env_, var, mode, first, __LINE__);         \
	} while (0)

static void test_request_env(void)
{
	DECIDES(NULL, LAUNCH_GPU_ALL, NULL, "HOME=/root");
	DECIDES("NVIDIA_VISIBLE_DEVICES", LAUNCH_GPU_LIST, "2", "CUDA_VISIBLE_DEVICES=1", "SLURM_STEP_GPUS=0",
		"NVIDIA_VISIBLE_DEVICES=2", "SLURM_JOB_GPUS=0,1");
	DECIDES("NVIDIA_VISIBLE_DEVICES", LAUNCH_GPU_VOID, NULL, "NVIDIA_VISIBLE_DEVICES=", "CUDA_VISIBLE_DEVICES=1");
	DECIDES("NVIDIA_VISIBLE_DEVICES", LAUNCH_GPU_NONE, NULL, "NVIDIA_VISIBLE_DEVICES=none", "SLURM_STEP_GPUS=1");
	DECIDES("SLURM_STEP_GPUS", LAUNCH_GPU_LIST, "2", "CUDA_VISIBLE_DEVICES=0", "SLURM_JOB_GPUS=1,2",
		"SLURM_STEP_GPUS=2");
	DECIDES("SLURM_JOB_GPUS", LAUNCH_GPU_LIST, "1", "CUDA_VISIBLE_DEVICES=0", "SLURM_JOB_GPUS=1,2");
	DECIDES("CUDA_VISIBLE_DEVICES", LAUNCH_GPU_LIST, UUID_81, "CUDA_VISIBLE_DEVICES=" UUID_81);
	/* a name that merely begins like one of them decides nothing */
	DECIDES(NULL, LAUNCH_GPU_ALL, NULL, "CUDA_VISIBLE_DEVICES_X=3", "XCUDA_VISIBLE_DEVICES=3");

	char *bad[] = { "SLURM_STEP_GPUS=x", NULL };
	struct launch_gpu_request req;
	struct launch_error *err = NULL;
	CHECK(launch_gpu_request_from_env(bad, &req, &err) < 0);
	CHECK_ERROR(err, "SLURM_STEP_GPUS=x: `x` is neither");
}

/* --- the driver tree --- */

/* A fake driver root: the fixture's three GPUs (PCI order differs from the
 * minors) and a fourth one the driver excludes. */
static void write_gpu(const char *root, const char *bus, int minor, const char *uuid, bool excluded)
{
	_cleanup_free_ char *dir = xasprintf("proc/driver/nvidia/gpus/%s", bus);
	tu_mkdir(root, dir);
	_cleanup_free_ char *text = xasprintf(
		"Model: \t\t NVIDIA A100-SXM4-40GB\nIRQ:   \t\t 0\nGPU UUID: \t %s\n"
		"Bus Type: \t PCIe\nBus Location: \t %s\nDevice Minor: \t %d\n"
		"GPU Excluded:\t %s\n",
		uuid, bus, minor, excluded ? "Yes" : "No");
	_cleanup_free_ char *file = xasprintf("%s/information", dir);
	free(tu_write(root, file, text));
}

static void make_proc(const char *root)
{
	tu_mkdir(root, "proc");
	tu_mkdir(root, "proc/driver");
	tu_mkdir(root, "proc/driver/nvidia");
	tu_mkdir(root, "proc/driver/nvidia/gpus");
	write_gpu(root, "0000:81:00.0", 1, UUID_81, false);
	write_gpu(root, "0000:01:00.0", 2, UUID_01, false);
	write_gpu(root, "0000:41:00.0", 0, UUID_41, false);
	write_gpu(root, "0000:c1:00.0", 3, "GPU-11111111-2222-3333-4444-0000000000c1", true);
}

static void selects(const struct launch_gpus *gpus, const char *var, const char *value, const char *minors, int line)
{
	struct launch_gpu_request req;
	struct launch_error *err = NULL;
	_cleanup_free_ size_t *sel = NULL;
	size_t n = 0;
	int r = launch_gpu_request_parse(var, value, &req, &err);
	if (r == 0)
		r = launch_gpus_select(gpus, &req, &sel, &n, &err);
	check_record_(r == 0, __FILE__, line, "%s=%s selects (%s)", var, value, err ? err->msg : "");
	launch_error_free(err);
	_cleanup_free_ char *got = xstrdup("");
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *j = xasprintf("%s%s%d", got, i ? " " : "", gpus->v[sel[i]].minor);
		free(got);
		got = j;
	}
	check_record_(r < 0 || !strcmp(got, minors), __FILE__, line, "%s=%s: minors [%s], got [%s]", var, value, minors,
		      got);
	launch_gpu_request_clear(&req);
}
#define SELECTS(var, value, minors) selects(gpus, var, value, minors, __LINE__)

static void test_gpus(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/proc-tree", dir);
	if (mkdir(root, 0755) < 0)
		tu_die("mkdir", root);
	struct launch_gpus g;
	struct launch_error *err = NULL;
	CHECK(launch_gpus_read(root, &g, &err) < 0);
	CHECK_ERROR(err, "the NVIDIA driver is not loaded on this node", "/proc/driver/nvidia/gpus",
		    "run without --gpu or on a GPU node");

	make_proc(root);
	CHECK_INTEQ(launch_gpus_read(root, &g, &err), 0);
	CHECK_NO_ERROR(err);
	const struct launch_gpus *gpus = &g;
	CHECK_INTEQ(g.n, 3); /* the excluded one is left out */
	if (g.n == 3) {
		CHECK_STREQ(g.v[0].bus, "0000:01:00.0");
		CHECK_STREQ(g.v[1].bus, "0000:41:00.0");
		CHECK_STREQ(g.v[2].bus, "0000:81:00.0");
		CHECK_INTEQ(g.v[0].minor, 2);
		CHECK_INTEQ(g.v[1].minor, 0);
		CHECK_INTEQ(g.v[2].minor, 1);
		CHECK_STREQ(g.v[1].uuid, UUID_41);
		CHECK_STREQ(g.v[1].model, "NVIDIA A100-SXM4-40GB");
	}
	SELECTS("NVIDIA_VISIBLE_DEVICES", "all", "2 0 1");
	SELECTS("NVIDIA_VISIBLE_DEVICES", "none", "");
	SELECTS("CUDA_VISIBLE_DEVICES", "1", "0");
	SELECTS("SLURM_STEP_GPUS", "2,0", "1 2");
	SELECTS("NVIDIA_VISIBLE_DEVICES", UUID_81, "1");
	SELECTS("NVIDIA_VISIBLE_DEVICES", "GPU-11111111-2222-3333-4444-000000000041", "0");
	SELECTS("NVIDIA_VISIBLE_DEVICES", "1,GPU-11111111-2222-3333-4444-000000000041,0", "0 2");

	struct launch_gpu_request req;
	_cleanup_free_ size_t *sel = NULL;
	size_t n = 0;
	CHECK_INTEQ(launch_gpu_request_parse("CUDA_VISIBLE_DEVICES", "0,3", &req, &err), 0);
	CHECK(launch_gpus_select(&g, &req, &sel, &n, &err) < 0);
	CHECK_ERROR(err, "CUDA_VISIBLE_DEVICES=0,3: this node has no GPU 3; its 3 GPUs are 0: 0000:01:00.0 " UUID_01,
		    ", 1: 0000:41:00.0 " UUID_41, ", 2: 0000:81:00.0 " UUID_81);
	launch_gpu_request_clear(&req);
	CHECK_INTEQ(launch_gpu_request_parse("NVIDIA_VISIBLE_DEVICES", "GPU-11111111-2222-3333-4444-0000000000c1", &req,
					     &err),
		    0);
	CHECK(launch_gpus_select(&g, &req, &sel, &n, &err) < 0); /* the excluded one */
	CHECK_ERROR(err, "this node has no GPU GPU-11111111-2222-3333-4444-0000000000c1");
	launch_gpu_request_clear(&req);
	launch_gpus_clear(&g);

	struct launch_gpus none = { 0 };
	CHECK_INTEQ(launch_gpu_request_parse("SLURM_JOB_GPUS", "0", &req, &err), 0);
	CHECK(launch_gpus_select(&none, &req, &sel, &n, &err) < 0);
	CHECK_ERROR(err, "this node has no GPU 0; it has no GPU");
	launch_gpu_request_clear(&req);

	free(tu_write(root, "proc/driver/nvidia/gpus/0000:41:00.0/information", "Model: x\nDevice Minor: \t lots\n"));
	CHECK(launch_gpus_read(root, &g, &err) < 0);
	CHECK_ERROR(err, "0000:41:00.0/information: no valid \"Device Minor:\" line");
}

/* --- the version --- */

static void test_version(const char *dir)
{
	_cleanup_free_ char *a = launch_gpu_version_parse("NVRM version: NVIDIA UNIX x86_64 Kernel Module  " V
							  "  Sat Aug 19 01:15:15 UTC 2023\n"
							  "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n");
	CHECK_STREQ(a, V);
	_cleanup_free_ char *b = launch_gpu_version_parse(
		"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  "
		"(dvs-builder@U16-T02-35-3)  Mon Feb 19 20:18:25 UTC 2024\nGCC version:  gcc version 11.4.0\n");
	CHECK_STREQ(b, "550.54.14");
	_cleanup_free_ char *c = launch_gpu_version_parse(
		"GCC version:  gcc version 12.2.0\nNVRM version: NVIDIA UNIX aarch64 Kernel "
		"Module  470.42  Tue Jun 15 2021\n");
	CHECK_STREQ(c, "470.42");
	CHECK_NULL(launch_gpu_version_parse("GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"));
	CHECK_NULL(launch_gpu_version_parse("NVRM version: NVIDIA UNIX x86_64 Kernel Module 535..1 x\n"));
	CHECK_NULL(launch_gpu_version_parse(""));

	/* from the file, else from libnvidia-ml.so.1's real name */
	_cleanup_free_ char *root = xasprintf("%s/version-tree", dir);
	if (mkdir(root, 0755) < 0)
		tu_die("mkdir", root);
	tu_mkdir(root, "usr");
	tu_mkdir(root, "usr/lib");
	free(tu_write(root, "usr/lib/libnvidia-ml.so.545.23.08", ""));
	tu_symlink(root, "usr/lib/libnvidia-ml.so.1", "/usr/lib/libnvidia-ml.so.545.23.08");
	struct launch_ldcache_entry e = { "libnvidia-ml.so.1", "/usr/lib/libnvidia-ml.so.1" };
	struct launch_ldcache cache = { &e, 1 };
	struct launch_error *err = NULL;
	char *v = NULL;
	CHECK_INTEQ(launch_gpu_driver_version(root, &cache, &v, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(v, "545.23.08");
	free(v);
	tu_mkdir(root, "proc");
	tu_mkdir(root, "proc/driver");
	tu_mkdir(root, "proc/driver/nvidia");
	free(tu_write(root, "proc/driver/nvidia/version",
		      "NVRM version: NVIDIA UNIX x86_64 Kernel Module  " V "  x\n"));
	CHECK_INTEQ(launch_gpu_driver_version(root, &cache, &v, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(v, V);
	free(v);
	free(tu_write(root, "proc/driver/nvidia/version", "garbage\n"));
	struct launch_ldcache empty = { 0 };
	CHECK(launch_gpu_driver_version(root, &empty, &v, &err) < 0);
	CHECK_NULL(v);
	CHECK_ERROR(err, "cannot tell the NVIDIA driver's version", "/proc/driver/nvidia/version");
}

/* --- the libraries --- */

static const struct launch_gpu_lib *lib_of(const struct launch_gpu_libs *libs, const char *name)
{
	for (size_t i = 0; i < libs->n; i++)
		if (!strcmp(libs->v[i].name, name))
			return &libs->v[i];
	return NULL;
}

static void test_libraries(const char *dir)
{
	_cleanup_free_ char *root = xasprintf("%s/lib-tree", dir);
	if (mkdir(root, 0755) < 0)
		tu_die("mkdir", root);
	tu_mkdir(root, "usr");
	tu_mkdir(root, "usr/lib");
	tu_mkdir(root, "usr/lib/x86_64-linux-gnu");
	tu_mkdir(root, "usr/lib/nvidia-530");
	const char *L = "usr/lib/x86_64-linux-gnu";
	const char *files[] = { "libcuda.so." V,       "libnvidia-ml.so." V,	       "libnvidia-gpucomp.so." V,
				"libnvidia-cfg.so." V, "libcudadebugger.so.530.30.02", "libnvidia-unrelated.so.1" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s", L, files[i]);
		free(tu_write(root, rel, ""));
	}
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libcuda.so.1", "libcuda.so." V);
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libcuda.so", "libcuda.so.1");
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", "libnvidia-ml.so." V);
	/* absolute: resolved inside the driver root, not on the host */
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.1",
		   "/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so." V);
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1", "libnvidia-opencl.so." V); /* dangling */
	tu_symlink(root, "usr/lib/x86_64-linux-gnu/libcudadebugger.so.1", "libcudadebugger.so.530.30.02");
	free(tu_write(root, "usr/lib/nvidia-530/libnvidia-ml.so.530.30.02", ""));
	tu_symlink(root, "usr/lib/nvidia-530/libnvidia-ml.so.1", "libnvidia-ml.so.530.30.02");

	struct launch_ldcache_entry v[] = {
		{ "libnvidia-unrelated.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-unrelated.so.1" },
		{ "libnvidia-opencl.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1" },
		{ "libnvidia-ml.so.1", "/usr/lib/nvidia-530/libnvidia-ml.so.1" }, /* stale, first */
		{ "libnvidia-ml.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1" },
		{ "libnvidia-gpucomp.so." V, "/usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so." V },
		{ "libnvidia-cfg.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.1" },
		{ "libcudadebugger.so.1", "/usr/lib/x86_64-linux-gnu/libcudadebugger.so.1" },
		{ "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so" }, /* the link before the soname */
		{ "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1" },
	};
	struct launch_ldcache cache = { v, ARRAY_SIZE(v) };
	char *bases[] = { "libnvidia-ml",    "libnvidia-cfg",	 "libcuda",
			  "libcudadebugger", "libnvidia-opencl", "libnvidia-gpucomp",
			  "libnvidia-nscq",  "libnvidia",	 NULL };
	struct launch_gpu_libs libs;
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_gpu_libs_pick(&cache, root, V, bases, &libs, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(libs.n, 4); /* ml, cfg, cuda, gpucomp */
	const struct launch_gpu_lib *l = lib_of(&libs, "libnvidia-ml.so." V);
	if (CHECK(l)) {
		_cleanup_free_ char *want = xasprintf("%s/%s/libnvidia-ml.so." V, root, L);
		CHECK_STREQ(l->src, want);
		CHECK_STREQ(l->soname, "libnvidia-ml.so.1");
		CHECK_STREQ(l->devlink, "libnvidia-ml.so");
	}
	l = lib_of(&libs, "libcuda.so." V);
	if (CHECK(l)) {
		CHECK_STREQ(l->soname, "libcuda.so.1");
		CHECK_STREQ(l->devlink, "libcuda.so");
	}
	l = lib_of(&libs, "libnvidia-cfg.so." V);
	if (CHECK(l)) {
		_cleanup_free_ char *want = xasprintf("%s/%s/libnvidia-cfg.so." V, root, L);
		CHECK_STREQ(l->src, want);
		CHECK_STREQ(l->soname, "libnvidia-cfg.so.1");
	}
	l = lib_of(&libs, "libnvidia-gpucomp.so." V);
	if (CHECK(l))
		CHECK_NULL(l->soname); /* its soname is its name */
	CHECK_NULL(lib_of(&libs, "libnvidia-ml.so.530.30.02"));
	CHECK_NULL(lib_of(&libs, "libcudadebugger.so.530.30.02"));
	CHECK_NULL(lib_of(&libs, "libnvidia-unrelated.so.1"));
	launch_gpu_libs_clear(&libs);

	/* libcuda and libnvidia-ml are required */
	struct launch_ldcache no_cuda = { v, 7 };
	CHECK(launch_gpu_libs_pick(&no_cuda, root, V, bases, &libs, &err) < 0);
	CHECK_ERROR(err, "libcuda.so." V " of the NVIDIA driver " V " is not in the linker cache ",
		    "/etc/ld.so.cache: are the driver's libraries installed");
	CHECK_INTEQ(libs.n, 0);
	struct launch_ldcache stale_only = { v + 2, 1 };
	char *ml[] = { "libnvidia-ml", NULL };
	CHECK(launch_gpu_libs_pick(&stale_only, root, V, ml, &libs, &err) < 0);
	CHECK_ERROR(err, "libnvidia-ml.so." V " of the NVIDIA driver " V " is not in the linker cache",
		    "only libnvidia-ml.so.530.30.02 (/usr/lib/nvidia-530/libnvidia-ml.so.1)", "different versions");
	/* the other version's libraries are all there for that version */
	char *debugger[] = { "libcudadebugger", NULL };
	CHECK_INTEQ(launch_gpu_libs_pick(&cache, root, "530.30.02", debugger, &libs, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK(libs.n == 1 && !strcmp(libs.v[0].name, "libcudadebugger.so.530.30.02"));
	launch_gpu_libs_clear(&libs);
}

/* --- the hook's configuration --- */

static void test_config(void)
{
	struct launch_gpu_config cfg;
	struct launch_error *err = NULL;
	unsetenv("NVIDIA_DRIVER_ROOT");
	unsetenv("LDCONFIG_PATH");
	unsetenv("LAUNCH_GPU_LIBRARIES");
	unsetenv("LAUNCH_GPU_BINARIES");
	CHECK_INTEQ(launch_gpu_config_from_env(&cfg, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(cfg.driver_root, "/");
	CHECK_STREQ(cfg.ldconfig, "/sbin/ldconfig");
	bool cuda = false, smi = false;
	for (size_t i = 0; cfg.libraries[i]; i++)
		cuda = cuda || !strcmp(cfg.libraries[i], "libcuda");
	for (size_t i = 0; cfg.binaries[i]; i++)
		smi = smi || !strcmp(cfg.binaries[i], "nvidia-smi");
	CHECK(cuda);
	CHECK(smi);
	launch_gpu_config_clear(&cfg);

	setenv("NVIDIA_DRIVER_ROOT", "/run/nvidia/driver/", 1);
	setenv("LDCONFIG_PATH", "@/sbin/ldconfig.real", 1);
	setenv("LAUNCH_GPU_LIBRARIES", "libnvidia-ml.so.1, libfoo.so , libbar,libfoo", 1);
	setenv("LAUNCH_GPU_BINARIES", "", 1);
	CHECK_INTEQ(launch_gpu_config_from_env(&cfg, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(cfg.driver_root, "/run/nvidia/driver");
	CHECK_STREQ(cfg.ldconfig, "/sbin/ldconfig.real");
	_cleanup_free_ char *libs = xstrdup("");
	for (size_t i = 0; cfg.libraries && cfg.libraries[i]; i++) {
		char *j = xasprintf("%s%s ", libs, cfg.libraries[i]);
		free(libs);
		libs = j;
	}
	CHECK_STREQ(libs, "libnvidia-ml libfoo libbar libcuda "); /* libcuda is always there */
	CHECK(cfg.binaries && !cfg.binaries[0]);
	launch_gpu_config_clear(&cfg);

	setenv("LAUNCH_GPU_BINARIES", "nvidia-smi,../bin/sh", 1);
	CHECK(launch_gpu_config_from_env(&cfg, &err) < 0);
	CHECK_ERROR(err, "LAUNCH_GPU_BINARIES=nvidia-smi,../bin/sh: `../bin/sh` is not a program name");
	unsetenv("LAUNCH_GPU_BINARIES");
	setenv("NVIDIA_DRIVER_ROOT", "driver", 1);
	CHECK(launch_gpu_config_from_env(&cfg, &err) < 0);
	CHECK_ERROR(err, "NVIDIA_DRIVER_ROOT=driver: the path must be absolute");
	setenv("NVIDIA_DRIVER_ROOT", "/", 1);
	setenv("LDCONFIG_PATH", "ldconfig", 1);
	CHECK(launch_gpu_config_from_env(&cfg, &err) < 0);
	CHECK_ERROR(err, "LDCONFIG_PATH=ldconfig: the path must be absolute");
	unsetenv("NVIDIA_DRIVER_ROOT");
	unsetenv("LDCONFIG_PATH");
	unsetenv("LAUNCH_GPU_LIBRARIES");
}

int main(void)
{
	char *dir = tu_mkdtemp();
	test_request_parse();
	test_request_env();
	test_gpus(dir);
	test_version(dir);
	test_libraries(dir);
	test_config();
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
