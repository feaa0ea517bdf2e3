/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA GPU hook's work (see gpu.h and README.md): the request from the
 * container's environment, the node's GPUs and driver version from the
 * driver's own files, the libraries of that version from the host's linker
 * cache, and a plan of binds and symlinks carried out with the core's
 * launch_inject_* batch. Every host file is looked up inside
 * NVIDIA_DRIVER_ROOT (launch_resolve_in_root), so a driver tree kept
 * elsewhere (a driver container's root, the tests' fake tree) works with
 * its own absolute symlinks. */
#define _GNU_SOURCE
#include "gpu.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "resolve.h"
#include "util.h"

/* nvidia-container-cli's "utility" and "compute" sets. Some are gone from
 * newer drivers (fatbinaryloader, compiler) or only in data-center drivers
 * (nscq, pkcs11): missing ones are skipped. */
static const char *const default_libraries[] = {
	"libnvidia-ml",
	"libnvidia-cfg",
	"libnvidia-nscq",
	"libcuda",
	"libcudadebugger",
	"libnvidia-opencl",
	"libnvidia-gpucomp",
	"libnvidia-ptxjitcompiler",
	"libnvidia-fatbinaryloader",
	"libnvidia-allocator",
	"libnvidia-compiler",
	"libnvidia-pkcs11",
	"libnvidia-pkcs11-openssl3",
	"libnvidia-nvvm",
	NULL,
};
/* Without these no CUDA program runs. */
static const char *const required_libraries[] = { "libcuda", "libnvidia-ml", NULL };
static const char *const default_binaries[] = { "nvidia-smi", "nvidia-debugdump", "nvidia-cuda-mps-control",
						"nvidia-cuda-mps-server", NULL };
/* Control devices: nvidiactl is the driver itself; the others are there
 * when their modules are loaded (nvidia-uvm, which CUDA needs, is often
 * created on first use by nvidia-modprobe, which cannot run rootless). */
static const char *const optional_devices[] = { "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", NULL };

static const char *const request_vars[] = { "NVIDIA_VISIBLE_DEVICES", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS",
					    "CUDA_VISIBLE_DEVICES", NULL };

/* --- small helpers --- */

/* ROOT/PATH for messages, without a double slash when ROOT is "/". */
static char *in_root(const char *root, const char *path)
{
	if (!strcmp(root, "/"))
		return xstrdup(path);
	return xasprintf("%s%s", root, path);
}

/* The host path an fd was opened at. */
static char *fd_path(int fd)
{
	char proc[64], buf[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static char *trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* "535.104.05": digits in groups separated by single dots, at least two. */
static bool is_version(const char *s, size_t n)
{
	if (n == 0 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
		return false;
	bool dot = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
			dot = true;
		} else if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return dot;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static char **strv_from_static(const char *const *v)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; v[i]; i++)
		launch_strv_push(&out, xstrdup(v[i]));
	return out;
}

/* --- configuration --- */

/* A comma-separated list of names (libraries: "libcuda", "libcuda.so" or
 * "libcuda.so.1", all meaning the base name libcuda). */
static int name_list(const char *var, const char *value, bool libraries, char ***out, struct launch_error **err)
{
	_cleanup_strv_ char **v = xcalloc(1, sizeof(char *));
	for (const char *p = value;;) {
		const char *end = strchrnul(p, ',');
		_cleanup_free_ char *item = trim(p, (size_t)(end - p));
		if (!*item || strchr(item, '/'))
			return launch_error_msg(err, "%s=%s: `%s` is not a %s name", var, value, item,
						libraries ? "library" : "program");
		if (libraries) {
			char *so = strstr(item, ".so");
			if (so && (so[3] == '\0' || so[3] == '.'))
				*so = '\0';
		}
		if (!strv_has(v, item))
			launch_strv_push(&v, steal_pointer(&item));
		if (!*end)
			break;
		p = end + 1;
	}
	*out = steal_pointer(&v);
	return 0;
}

int launch_gpu_config_from_env(struct launch_gpu_config *cfg, struct launch_error **err)
{
	memset(cfg, 0, sizeof(*cfg));
	const char *root = getenv("NVIDIA_DRIVER_ROOT");
	if (!root || !*root)
		root = "/";
	cfg->driver_root = launch_path_normalize(root);
	if (!cfg->driver_root) {
		launch_gpu_config_clear(cfg);
		return launch_error_msg(err, "NVIDIA_DRIVER_ROOT=%s: the path must be absolute", root);
	}
	const char *ldconfig = getenv("LDCONFIG_PATH");
	if (!ldconfig || !*ldconfig)
		ldconfig = "/sbin/ldconfig";
	if (ldconfig[0] == '@') /* nvidia-container-toolkit's "host path" mark */
		ldconfig++;
	if (ldconfig[0] != '/') {
		launch_gpu_config_clear(cfg);
		return launch_error_msg(err, "LDCONFIG_PATH=%s: the path must be absolute", ldconfig);
	}
	cfg->ldconfig = xstrdup(ldconfig);
	const char *libs = getenv("LAUNCH_GPU_LIBRARIES"), *bins = getenv("LAUNCH_GPU_BINARIES");
	if (libs && *libs) {
		if (name_list("LAUNCH_GPU_LIBRARIES", libs, true, &cfg->libraries, err) < 0) {
			launch_gpu_config_clear(cfg);
			return -1;
		}
	} else {
		cfg->libraries = strv_from_static(default_libraries);
	}
	for (size_t i = 0; required_libraries[i]; i++)
		if (!strv_has(cfg->libraries, required_libraries[i]))
			launch_strv_push(&cfg->libraries, xstrdup(required_libraries[i]));
	if (bins && *bins) {
		if (name_list("LAUNCH_GPU_BINARIES", bins, false, &cfg->binaries, err) < 0) {
			launch_gpu_config_clear(cfg);
			return -1;
		}
	} else if (bins) {
		cfg->binaries = xcalloc(1, sizeof(char *)); /* set but empty: no programs */
	} else {
		cfg->binaries = strv_from_static(default_binaries);
	}
	return 0;
}

void launch_gpu_config_clear(struct launch_gpu_config *cfg)
{
	free(cfg->driver_root);
	free(cfg->ldconfig);
	launch_strv_free(cfg->libraries);
	launch_strv_free(cfg->binaries);
	memset(cfg, 0, sizeof(*cfg));
}

/* --- the request --- */

/* GPU-8a2d...: a UUID as the driver prints it (hex digits and dashes). */
static bool is_uuid(const char *s)
{
	if (strncasecmp(s, "GPU-", 4) || !s[4])
		return false;
	for (s += 4; *s; s++)
		if (!isxdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

int launch_gpu_request_parse(const char *var, const char *value, struct launch_gpu_request *req,
			     struct launch_error **err)
{
	memset(req, 0, sizeof(*req));
	bool nvidia = !strcmp(var, "NVIDIA_VISIBLE_DEVICES"), cuda = !strcmp(var, "CUDA_VISIBLE_DEVICES");
	_cleanup_free_ char *v = trim(value, strlen(value));
	req->var = var;
	req->value = xstrdup(value);
	if (nvidia) {
		/* nvidia-container-runtime's keywords */
		if (!*v || !strcmp(v, "void")) {
			req->mode = LAUNCH_GPU_VOID;
			return 0;
		}
		if (!strcmp(v, "all") || !strcmp(v, "none")) {
			req->mode = !strcmp(v, "all") ? LAUNCH_GPU_ALL : LAUNCH_GPU_NONE;
			return 0;
		}
	} else if (!*v || !strcmp(v, "NoDevFiles") || (cuda && !strcmp(v, "-1"))) {
		/* no GPU: Slurm's NoDevFiles, and CUDA's usual way to hide them all */
		req->mode = LAUNCH_GPU_NONE;
		return 0;
	}
	req->mode = LAUNCH_GPU_LIST;
	req->ids = xcalloc(1, sizeof(char *));
	for (const char *p = v;;) {
		const char *end = strchrnul(p, ',');
		_cleanup_free_ char *item = trim(p, (size_t)(end - p));
		if (all_digits(item) && strlen(item) <= 5 && atoi(item) <= 65535) {
			char *canon = xasprintf("%d", atoi(item)); /* "01" is 1 */
			free(item);
			item = canon;
		} else if (!strncasecmp(item, "MIG-", 4)) {
			launch_gpu_request_clear(req);
			return launch_error_msg(err,
						"%s=%s: MIG devices (%s) are not supported: give the GPU's "
						"index or UUID",
						var, value, item);
		} else if (!is_uuid(item)) {
			launch_gpu_request_clear(req);
			return launch_error_msg(err, "%s=%s: `%s` is neither a GPU index nor a GPU UUID (GPU-...)%s",
						var, value, item, nvidia ? "; or use all, none or void" : "");
		}
		bool dup = false;
		for (size_t i = 0; req->ids[i]; i++)
			dup = dup || !strcasecmp(req->ids[i], item);
		if (!dup)
			launch_strv_push(&req->ids, steal_pointer(&item));
		if (!*end)
			break;
		p = end + 1;
	}
	return 0;
}

int launch_gpu_request_from_env(char *const *env, struct launch_gpu_request *req, struct launch_error **err)
{
	const struct launch_hook_state st = { .env = (char **)env };
	for (size_t i = 0; request_vars[i]; i++) {
		const char *v = launch_hook_state_getenv(&st, request_vars[i]);
		if (v)
			return launch_gpu_request_parse(request_vars[i], v, req, err);
	}
	memset(req, 0, sizeof(*req));
	req->mode = LAUNCH_GPU_ALL;
	return 0;
}

void launch_gpu_request_clear(struct launch_gpu_request *req)
{
	launch_strv_free(req->ids);
	free(req->value);
	memset(req, 0, sizeof(*req));
}

/* --- the node's GPUs --- */

/* The value of "KEY:   value" in an information file, or NULL. */
static char *info_field(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		if ((size_t)(end - line) > k && !strncmp(line, key, k) && line[k] == ':')
			return trim(line + k + 1, (size_t)(end - line - k - 1));
		line = *end ? end + 1 : end;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_gpu(int gpusfd, const char *bus, const char *where, struct launch_gpu *g, bool *excluded,
		    struct launch_error **err)
{
	_cleanup_free_ char *rel = xasprintf("%s/information", bus), *text = NULL;
	if (launch_read_file_at(gpusfd, rel, 1u << 16, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read %s/%s", where, rel);
	_cleanup_free_ char *minor = info_field(text, "Device Minor"), *ex = info_field(text, "GPU Excluded");
	if (!minor || !all_digits(minor) || strlen(minor) > 3 || atoi(minor) > 255)
		return launch_error_msg(err, "%s/%s: no valid \"Device Minor:\" line", where, rel);
	*excluded = ex && !strncasecmp(ex, "yes", 3);
	g->bus = xstrdup(bus);
	g->minor = atoi(minor);
	g->uuid = info_field(text, "GPU UUID");
	g->model = info_field(text, "Model");
	return 0;
}

int launch_gpus_read(const char *driver_root, struct launch_gpus *gpus, struct launch_error **err)
{
	memset(gpus, 0, sizeof(*gpus));
	_cleanup_close_ int rootfd = open(driver_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return launch_error_set(err, errno, "cannot open the driver root %s (NVIDIA_DRIVER_ROOT)", driver_root);
	_cleanup_free_ char *where = in_root(driver_root, "/proc/driver/nvidia/gpus");
	int fd = launch_resolve_in_root(rootfd, "/proc/driver/nvidia/gpus", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return launch_error_msg(err,
					"the NVIDIA driver is not loaded on this node (%s: %s): run without --gpu "
					"or on a GPU node",
					where, strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return launch_error_set(err, e, "cannot read %s", where);
	}
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			launch_strv_push(&names, xstrdup(de->d_name));
	/* Bus ids (DDDD:BB:DD.F, lower-case hex of fixed width) sort as text
	 * in PCI bus order, the order NVML and nvidia-smi number GPUs in. */
	qsort(names, launch_strv_len(names), sizeof(char *), cmp_str);
	int ret = 0;
	for (size_t i = 0; names[i]; i++) {
		struct launch_gpu g = { 0 };
		bool excluded = false;
		if (read_gpu(dirfd(d), names[i], where, &g, &excluded, err) < 0) {
			ret = -1;
			break;
		}
		if (excluded) {
			launch_debug("GPU %s is excluded by the driver: left out", g.bus);
			free(g.bus), free(g.uuid), free(g.model);
			continue;
		}
		gpus->v = xrealloc(gpus->v, (gpus->n + 1) * sizeof(*gpus->v));
		gpus->v[gpus->n++] = g;
	}
	closedir(d);
	if (ret < 0)
		launch_gpus_clear(gpus);
	return ret;
}

void launch_gpus_clear(struct launch_gpus *gpus)
{
	for (size_t i = 0; i < gpus->n; i++) {
		free(gpus->v[i].bus);
		free(gpus->v[i].uuid);
		free(gpus->v[i].model);
	}
	free(gpus->v);
	memset(gpus, 0, sizeof(*gpus));
}

/* "its 3 GPUs are 0: 0000:01:00.0 GPU-..., 1: ..." */
static char *describe_gpus(const struct launch_gpus *gpus)
{
	if (!gpus->n)
		return xstrdup("it has no GPU");
	char *s = xasprintf("its %zu GPU%s %s", gpus->n, gpus->n == 1 ? "" : "s", gpus->n == 1 ? "is" : "are");
	for (size_t i = 0; i < gpus->n; i++) {
		char *t = xasprintf("%s%s %zu: %s%s%s", s, i ? "," : "", i, gpus->v[i].bus, gpus->v[i].uuid ? " " : "",
				    gpus->v[i].uuid ? gpus->v[i].uuid : "");
		free(s);
		s = t;
	}
	return s;
}

int launch_gpus_select(const struct launch_gpus *gpus, const struct launch_gpu_request *req, size_t **sel, size_t *n,
		       struct launch_error **err)
{
	*sel = NULL;
	*n = 0;
	if (req->mode == LAUNCH_GPU_VOID || req->mode == LAUNCH_GPU_NONE)
		return 0;
	_cleanup_free_ size_t *v = xcalloc(gpus->n + 1, sizeof(size_t));
	size_t k = 0;
	if (req->mode == LAUNCH_GPU_ALL) {
		for (size_t i = 0; i < gpus->n; i++)
			v[k++] = i;
		*sel = steal_pointer(&v);
		*n = k;
		return 0;
	}
	for (size_t j = 0; req->ids && req->ids[j]; j++) {
		const char *id = req->ids[j];
		size_t found = gpus->n;
		if (all_digits(id)) {
			unsigned long i = strtoul(id, NULL, 10);
			if (i < gpus->n)
				found = i;
		} else {
			for (size_t i = 0; i < gpus->n && found == gpus->n; i++)
				if (gpus->v[i].uuid && !strcasecmp(gpus->v[i].uuid, id))
					found = i;
		}
		if (found == gpus->n) {
			_cleanup_free_ char *list = describe_gpus(gpus);
			return launch_error_msg(err, "%s=%s: this node has no GPU %s; %s", req->var ? req->var : "",
						req->value ? req->value : "", id, list);
		}
		bool dup = false;
		for (size_t i = 0; i < k; i++)
			dup = dup || v[i] == found;
		if (!dup)
			v[k++] = found;
	}
	*sel = steal_pointer(&v);
	*n = k;
	return 0;
}

/* --- the driver version --- */

char *launch_gpu_version_parse(const char *text)
{
	static const char mark[] = "NVRM version:";
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		if (!strncmp(line, mark, sizeof(mark) - 1)) {
			/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug ..."
			 * or "... Open Kernel Module for x86_64  535.104.05  Release Build ...":
			 * the first word that is a version number. */
			for (const char *p = line + sizeof(mark) - 1; p < end;) {
				while (p < end && isspace((unsigned char)*p))
					p++;
				const char *w = p;
				while (p < end && !isspace((unsigned char)*p))
					p++;
				if (is_version(w, (size_t)(p - w)))
					return xstrndup(w, (size_t)(p - w));
			}
		}
		line = *end ? end + 1 : end;
	}
	return NULL;
}

/* The real name of cache entry E (its file resolved in the driver root). */
static char *real_file(int rootfd, const struct launch_ldcache_entry *e)
{
	_cleanup_close_ int fd = launch_resolve_in_root(rootfd, e->path, O_PATH);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	return fd_path(fd);
}

int launch_gpu_driver_version(const char *driver_root, const struct launch_ldcache *cache, char **version,
			      struct launch_error **err)
{
	*version = NULL;
	_cleanup_close_ int rootfd = open(driver_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return launch_error_set(err, errno, "cannot open the driver root %s (NVIDIA_DRIVER_ROOT)", driver_root);
	_cleanup_free_ char *where = in_root(driver_root, "/proc/driver/nvidia/version");
	_cleanup_close_ int fd = launch_resolve_in_root(rootfd, "/proc/driver/nvidia/version", O_RDONLY);
	_cleanup_free_ char *text = NULL;
	if (fd >= 0 && launch_read_fd(fd, 1u << 16, &text, NULL) == 0 && (*version = launch_gpu_version_parse(text)))
		return 0;
	launch_debug("no driver version in %s: trying libnvidia-ml.so.1", where);
	const struct launch_ldcache_entry *e = launch_ldcache_find(cache, "libnvidia-ml.so.1");
	_cleanup_free_ char *real = e ? real_file(rootfd, e) : NULL;
	static const char prefix[] = "libnvidia-ml.so.";
	const char *name = real ? base_name(real) : "";
	if (!strncmp(name, prefix, sizeof(prefix) - 1) &&
	    is_version(name + sizeof(prefix) - 1, strlen(name + sizeof(prefix) - 1))) {
		*version = xstrdup(name + sizeof(prefix) - 1);
		return 0;
	}
	return launch_error_msg(err,
				"cannot tell the NVIDIA driver's version: %s has no \"NVRM version\" line and "
				"libnvidia-ml.so.1 in the linker cache of %s is not named libnvidia-ml.so.VERSION",
				where, driver_root);
}

/* --- the libraries --- */

/* NAME is BASE.so or BASE.so.SOMETHING */
static bool of_base(const char *name, const char *base)
{
	size_t n = strlen(base);
	return !strncmp(name, base, n) && !strncmp(name + n, ".so", 3) && (name[n + 3] == '\0' || name[n + 3] == '.');
}

static struct launch_gpu_lib *lib_named(struct launch_gpu_libs *libs, const char *name)
{
	for (size_t i = 0; i < libs->n; i++)
		if (!strcmp(libs->v[i].name, name))
			return &libs->v[i];
	return NULL;
}

int launch_gpu_libs_pick(const struct launch_ldcache *cache, const char *driver_root, const char *version,
			 char *const *bases, struct launch_gpu_libs *libs, struct launch_error **err)
{
	memset(libs, 0, sizeof(*libs));
	_cleanup_close_ int rootfd = open(driver_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return launch_error_set(err, errno, "cannot open the driver root %s (NVIDIA_DRIVER_ROOT)", driver_root);
	for (size_t b = 0; bases && bases[b]; b++) {
		const char *base = bases[b];
		_cleanup_free_ char *want = xasprintf("%s.so.%s", base, version), *devlink = xasprintf("%s.so", base),
				    *other = NULL;
		bool found = false;
		for (size_t i = 0; i < cache->n; i++) {
			const struct launch_ldcache_entry *e = &cache->v[i];
			if (!of_base(e->name, base))
				continue;
			_cleanup_free_ char *real = real_file(rootfd, e);
			if (!real) {
				launch_debug("%s => %s: no such file in %s", e->name, e->path, driver_root);
				continue;
			}
			const char *name = base_name(real);
			if (strcmp(name, want)) {
				/* another driver's left-over, or not the driver's at all */
				launch_debug("%s => %s: not of driver %s, skipped", e->name, real, version);
				if (!other)
					other = xasprintf("%s (%s)", name, e->path);
				continue;
			}
			found = true;
			bool alias = strcmp(e->name, name) && strcmp(e->name, devlink);
			struct launch_gpu_lib *l = lib_named(libs, name);
			if (l) {
				/* a second entry of a file already taken: its soname, a
				 * development link, or a copy in another directory */
				if (alias && !l->soname)
					l->soname = xstrdup(e->name);
				continue;
			}
			libs->v = xrealloc(libs->v, (libs->n + 1) * sizeof(*libs->v));
			l = &libs->v[libs->n++];
			l->src = steal_pointer(&real);
			l->name = xstrdup(name);
			l->soname = alias ? xstrdup(e->name) : NULL;
			l->devlink = xstrdup(devlink);
		}
		bool required = false;
		for (size_t r = 0; required_libraries[r]; r++)
			required = required || !strcmp(base, required_libraries[r]);
		if (found || !required)
			continue;
		_cleanup_free_ char *cachefile = in_root(driver_root, "/etc/ld.so.cache");
		if (other)
			launch_error_msg(err,
					 "%s of the NVIDIA driver %s is not in the linker cache %s, only %s: the "
					 "driver's kernel module and its libraries are of different versions "
					 "(reboot the node or reload the nvidia module)",
					 want, version, cachefile, other);
		else
			launch_error_msg(err,
					 "%s of the NVIDIA driver %s is not in the linker cache %s: are the "
					 "driver's libraries installed (and ldconfig run)?",
					 want, version, cachefile);
		launch_gpu_libs_clear(libs);
		return -1;
	}
	return 0;
}

void launch_gpu_libs_clear(struct launch_gpu_libs *libs)
{
	for (size_t i = 0; i < libs->n; i++) {
		free(libs->v[i].src);
		free(libs->v[i].name);
		free(libs->v[i].soname);
		free(libs->v[i].devlink);
	}
	free(libs->v);
	memset(libs, 0, sizeof(*libs));
}

/* --- the plan and its execution --- */

struct plan_bind {
	char *src, *dst;
	bool readonly;
};
struct plan_link {
	char *target, *dst;
};
struct plan {
	struct plan_bind *binds;
	size_t n_binds;
	struct plan_link *links;
	size_t n_links;
};

static void plan_bind(struct plan *p, char *src, char *dst, bool readonly)
{
	p->binds = xrealloc(p->binds, (p->n_binds + 1) * sizeof(*p->binds));
	p->binds[p->n_binds++] = (struct plan_bind){ src, dst, readonly };
}

static void plan_link(struct plan *p, char *target, char *dst)
{
	p->links = xrealloc(p->links, (p->n_links + 1) * sizeof(*p->links));
	p->links[p->n_links++] = (struct plan_link){ target, dst };
}

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->n_binds; i++)
		free(p->binds[i].src), free(p->binds[i].dst);
	for (size_t i = 0; i < p->n_links; i++)
		free(p->links[i].target), free(p->links[i].dst);
	free(p->binds);
	free(p->links);
	memset(p, 0, sizeof(*p));
}

/* Device node /dev/NAME of the driver root, bound at /dev/NAME. Returns 1
 * when added, 0 when missing and not REQUIRED, -1 on error. */
static int plan_device(struct plan *p, int rootfd, const char *driver_root, const char *name, bool required,
		       struct launch_error **err)
{
	_cleanup_free_ char *cpath = xasprintf("/dev/%s", name), *where = in_root(driver_root, cpath);
	_cleanup_close_ int fd = launch_resolve_in_root(rootfd, cpath, O_PATH);
	if (fd < 0) {
		if (required)
			return launch_error_set(err, errno, "cannot open %s", where);
		return 0;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot stat %s", where);
	if (!S_ISCHR(st.st_mode))
		return launch_error_msg(err, "%s is not a character device", where);
	char *src = fd_path(fd);
	if (!src)
		return launch_error_set(err, errno, "cannot tell the path of %s", where);
	plan_bind(p, src, steal_pointer(&cpath), false);
	return 1;
}

static int plan_devices(struct plan *p, int rootfd, const char *driver_root, const struct launch_gpus *gpus,
			const size_t *sel, size_t n_sel, struct launch_error **err)
{
	if (plan_device(p, rootfd, driver_root, "nvidiactl", true, err) < 0)
		return -1;
	for (size_t i = 0; optional_devices[i]; i++) {
		int r = plan_device(p, rootfd, driver_root, optional_devices[i], false, err);
		if (r < 0)
			return -1;
		if (r == 0 && !strcmp(optional_devices[i], "nvidia-uvm")) {
			_cleanup_free_ char *where = in_root(driver_root, "/dev/nvidia-uvm");
			launch_warn(
				"%s is missing: CUDA programs will fail to initialise (ask your admin to load "
				"nvidia-uvm and create its nodes, e.g. nvidia-modprobe -u -c 0)",
				where);
		}
	}
	for (size_t i = 0; i < n_sel; i++) {
		const struct launch_gpu *g = &gpus->v[sel[i]];
		_cleanup_free_ char *name = xasprintf("nvidia%d", g->minor);
		if (plan_device(p, rootfd, driver_root, name, true, err) < 0)
			return launch_error_wrap(err, "GPU %zu (%s)", sel[i], g->bus);
		launch_info("GPU %zu: %s%s%s as /dev/%s", sel[i], g->bus, g->uuid ? " " : "", g->uuid ? g->uuid : "",
			    name);
	}
	return 0;
}

static void plan_libraries(struct plan *p, const struct launch_gpu_libs *libs)
{
	for (size_t i = 0; i < libs->n; i++) {
		const struct launch_gpu_lib *l = &libs->v[i];
		plan_bind(p, xstrdup(l->src), xasprintf("%s/%s", LAUNCH_GPU_LIBDIR, l->name), true);
		if (l->soname)
			plan_link(p, xstrdup(l->name), xasprintf("%s/%s", LAUNCH_GPU_LIBDIR, l->soname));
		if (l->devlink && strcmp(l->devlink, l->name) && (!l->soname || strcmp(l->devlink, l->soname)))
			plan_link(p, xstrdup(l->soname ? l->soname : l->name),
				  xasprintf("%s/%s", LAUNCH_GPU_LIBDIR, l->devlink));
	}
}

static int plan_binaries(struct plan *p, int rootfd, const char *driver_root, char *const *bins,
			 struct launch_error **err)
{
	for (size_t i = 0; bins && bins[i]; i++) {
		_cleanup_free_ char *cpath = xasprintf("/usr/bin/%s", bins[i]), *where = in_root(driver_root, cpath);
		_cleanup_close_ int fd = launch_resolve_in_root(rootfd, cpath, O_PATH);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			launch_debug("%s: not there, skipped", where);
			continue;
		}
		char *src = fd_path(fd);
		if (!src)
			return launch_error_set(err, errno, "cannot tell the path of %s", where);
		plan_bind(p, src, xasprintf("%s/%s", LAUNCH_GPU_BINDIR, bins[i]), true);
	}
	return 0;
}

/* Container path DST as a symlink to TARGET. One that is already there with
 * that target is kept, one with another target replaced: both come from an
 * earlier run with a persistent overlay (--overlay), the second from
 * another driver version. */
static int put_symlink(struct launch_inject *inj, const char *target, const char *dst, struct launch_error **err)
{
	_cleanup_free_ char *dcopy = xstrdup(dst), *bcopy = xstrdup(dst);
	const char *dir = dirname(dcopy), *name = basename(bcopy);
	_cleanup_close_ int dfd = launch_inject_open(inj, dir, O_PATH | O_DIRECTORY);
	if (dfd >= 0) {
		char buf[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
		if (n >= 0) {
			buf[n] = '\0';
			if (!strcmp(buf, target))
				return 0;
			if (unlinkat(dfd, name, 0) < 0)
				return launch_error_set(err, errno,
							"cannot replace the symlink %s -> %s in the "
							"container",
							dst, buf);
		}
	}
	return launch_inject_symlink(inj, target, dst, err);
}

static int plan_apply(const struct plan *p, const char *root, struct launch_error **err)
{
	struct launch_inject *inj = NULL;
	if (launch_inject_begin(root, &inj, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_binds; i++) {
		const struct plan_bind *b = &p->binds[i];
		launch_debug("bind %s on %s%s", b->src, b->dst, b->readonly ? " (read-only)" : "");
		if (launch_inject_bind(inj, b->src, b->dst, b->readonly, err) < 0) {
			launch_inject_end(inj, NULL);
			return -1;
		}
	}
	for (size_t i = 0; i < p->n_links; i++) {
		launch_debug("symlink %s -> %s", p->links[i].dst, p->links[i].target);
		if (put_symlink(inj, p->links[i].target, p->links[i].dst, err) < 0) {
			launch_inject_end(inj, NULL);
			return -1;
		}
	}
	return launch_inject_end(inj, err);
}

static int make_plan(const struct launch_gpu_config *cfg, const struct launch_gpu_request *req, struct plan *p,
		     struct launch_error **err)
{
	const char *droot = cfg->driver_root;
	_cleanup_close_ int rootfd = open(droot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return launch_error_set(err, errno, "cannot open the driver root %s (NVIDIA_DRIVER_ROOT)", droot);
	_cleanup_close_ int ctl = launch_resolve_in_root(rootfd, "/dev/nvidiactl", O_PATH);
	if (ctl < 0) {
		int e = errno;
		_cleanup_free_ char *where = in_root(droot, "/dev/nvidiactl");
		return launch_error_msg(err,
					"no NVIDIA driver on this node (%s: %s): run without --gpu or on a GPU node",
					where, strerror(e));
	}

	struct launch_gpus gpus;
	if (launch_gpus_read(droot, &gpus, err) < 0)
		return -1;
	_cleanup_free_ size_t *sel = NULL;
	size_t n_sel = 0;
	int ret = launch_gpus_select(&gpus, req, &sel, &n_sel, err);
	struct launch_ldcache cache = { 0 };
	_cleanup_free_ char *version = NULL;
	struct launch_gpu_libs libs = { 0 };
	if (ret == 0)
		ret = launch_ldcache_read(cfg->ldconfig, droot, &cache, err);
	if (ret == 0)
		ret = launch_gpu_driver_version(droot, &cache, &version, err);
	if (ret == 0)
		ret = launch_gpu_libs_pick(&cache, droot, version, cfg->libraries, &libs, err);
	if (ret == 0)
		ret = plan_devices(p, rootfd, droot, &gpus, sel, n_sel, err);
	if (ret == 0) {
		plan_libraries(p, &libs);
		ret = plan_binaries(p, rootfd, droot, cfg->binaries, err);
	}
	if (ret == 0)
		launch_info("NVIDIA driver %s: %zu of %zu GPUs, %zu libraries", version, n_sel, gpus.n, libs.n);
	launch_gpu_libs_clear(&libs);
	launch_ldcache_clear(&cache);
	launch_gpus_clear(&gpus);
	return ret;
}

int launch_gpu_hook_run(const struct launch_gpu_config *cfg, const struct launch_hook_state *st,
			struct launch_error **err)
{
	struct launch_gpu_request req;
	if (launch_gpu_request_from_env(st->env, &req, err) < 0)
		return -1;
	if (req.mode == LAUNCH_GPU_VOID) {
		launch_info("%s=%s: no GPU support asked for", req.var, req.value);
		launch_gpu_request_clear(&req);
		return 0;
	}
	struct plan p = { 0 };
	int ret = launch_hook_enter(st->pid, err);
	if (ret == 0)
		ret = make_plan(cfg, &req, &p, err);
	if (ret == 0)
		ret = plan_apply(&p, st->root, err);
	if (ret == 0) {
		char *const dirs[] = { (char *)LAUNCH_GPU_LIBDIR, NULL };
		ret = launch_ldcache_update(cfg->ldconfig, st->root, dirs, err);
	}
	plan_clear(&p);
	launch_gpu_request_clear(&req);
	return ret;
}
