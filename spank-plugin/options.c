/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin's options (pyxis's names, which many users know), their
 * LAUNCH_CONTAINER_* environment twins, and the plugstack.conf arguments,
 * each from a table. Values are checked with launch's own parsers (mount
 * specs, image references, instance names), so srun rejects what `launch
 * run` would, with the same message. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "error.h"
#include "instance.h"
#include "mountspec.h"
#include "plugin.h"
#include "store.h"
#include "util.h"

#ifndef LAUNCH_BINDIR
#define LAUNCH_BINDIR "/usr/local/bin"
#endif

struct plugin_opts plugin_opts = {
	.writable = -1, .remap_root = -1, .mount_home = -1, .entrypoint = -1, .entrypoint_log = -1, .mpi = -1, .gpu = -1
};
struct plugin_site plugin_site = {
	.writable = 0, .remap_root = 0, .mount_home = 1, .entrypoint = 0, .sbatch = 1, .use_squashfuse = 1
};

enum {
	OPT_IMAGE = 1,
	OPT_MOUNTS,
	OPT_WORKDIR,
	OPT_NAME,
	OPT_ENV,
	OPT_WRITABLE,
	OPT_READONLY,
	OPT_REMAP_ROOT,
	OPT_NO_REMAP_ROOT,
	OPT_MOUNT_HOME,
	OPT_NO_MOUNT_HOME,
	OPT_ENTRYPOINT,
	OPT_NO_ENTRYPOINT,
	OPT_MPI,
	OPT_GPU,
	OPT_SAVE,
	OPT_ENTRYPOINT_LOG,
};

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

static int on_option(int val, const char *arg, int remote)
{
	(void)remote;
	switch (val) {
	case OPT_IMAGE:
		set_str(&plugin_opts.image, arg);
		break;
	case OPT_MOUNTS:
		set_str(&plugin_opts.mounts, arg);
		break;
	case OPT_WORKDIR:
		set_str(&plugin_opts.workdir, arg);
		break;
	case OPT_NAME:
		set_str(&plugin_opts.name, arg);
		break;
	case OPT_ENV:
		set_str(&plugin_opts.env_names, arg);
		break;
	case OPT_WRITABLE:
	case OPT_READONLY:
		plugin_opts.writable = val == OPT_WRITABLE;
		break;
	case OPT_REMAP_ROOT:
	case OPT_NO_REMAP_ROOT:
		plugin_opts.remap_root = val == OPT_REMAP_ROOT;
		break;
	case OPT_MOUNT_HOME:
	case OPT_NO_MOUNT_HOME:
		plugin_opts.mount_home = val == OPT_MOUNT_HOME;
		break;
	case OPT_ENTRYPOINT:
	case OPT_NO_ENTRYPOINT:
		plugin_opts.entrypoint = val == OPT_ENTRYPOINT;
		break;
	case OPT_MPI:
		plugin_opts.mpi = 1;
		break;
	case OPT_SAVE:
		set_str(&plugin_opts.save, arg);
		break;
	case OPT_ENTRYPOINT_LOG:
		plugin_opts.entrypoint_log = 1;
		break;
	case OPT_GPU:
		plugin_opts.gpu = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static struct spank_option table[] = {
	{ "container-image", "[USER@][REGISTRY#]IMAGE[:TAG]|PATH",
	  "[launch] run the tasks in a container of IMAGE: a name of your or the site's image store, "
	  "[USER@][REGISTRY#]IMAGE[:TAG] or docker://REF (pulled when missing), or a path starting with / or ./ "
	  "(env LAUNCH_CONTAINER_IMAGE)",
	  1, OPT_IMAGE, on_option },
	{ "container-mounts", "SRC:DST[:FLAGS][,SRC:DST...]",
	  "[launch] bind mounts, as launch run -m: flags joined by \"+\", e.g. \"ro+rprivate\"; SRC tmpfs or "
	  "umount (env LAUNCH_CONTAINER_MOUNTS)",
	  1, OPT_MOUNTS, on_option },
	{ "container-workdir", "DIR", "[launch] working directory inside the container (env LAUNCH_CONTAINER_WORKDIR)",
	  1, OPT_WORKDIR, on_option },
	{ "container-name", "NAME[:auto|create|exec|no_exec]",
	  "[launch] a container that the job's steps share on each node, removed when the job ends; create: it "
	  "must not exist yet, exec: it must (env LAUNCH_CONTAINER_NAME)",
	  1, OPT_NAME, on_option },
	{ "container-save", "PATH",
	  "[launch] when the step ends, save the container's file system as a squashfs file PATH on each node's "
	  "file system (env LAUNCH_CONTAINER_SAVE)",
	  1, OPT_SAVE, on_option },
	{ "container-entrypoint-log", NULL,
	  "[launch] accepted: the entrypoint's output always reaches the task's (env LAUNCH_CONTAINER_ENTRYPOINT_LOG)",
	  0, OPT_ENTRYPOINT_LOG, on_option },
	{ "container-env", "NAME[,NAME...]",
	  "[launch] variables whose value comes from the job over the image's (env LAUNCH_CONTAINER_ENV)", 1, OPT_ENV,
	  on_option },
	{ "container-writable", NULL,
	  "[launch] writable image, changes discarded at the end (env LAUNCH_CONTAINER_WRITABLE=1)", 0, OPT_WRITABLE,
	  on_option },
	{ "container-readonly", NULL, "[launch] read-only image (env LAUNCH_CONTAINER_WRITABLE=0)", 0, OPT_READONLY,
	  on_option },
	{ "container-remap-root", NULL,
	  "[launch] be root inside, as launch run --root (env LAUNCH_CONTAINER_REMAP_ROOT=1)", 0, OPT_REMAP_ROOT,
	  on_option },
	{ "no-container-remap-root", NULL, "[launch] keep your own uid inside (env LAUNCH_CONTAINER_REMAP_ROOT=0)", 0,
	  OPT_NO_REMAP_ROOT, on_option },
	{ "container-mount-home", NULL, "[launch] mount your home directory (env LAUNCH_CONTAINER_MOUNT_HOME=1)", 0,
	  OPT_MOUNT_HOME, on_option },
	{ "no-container-mount-home", NULL,
	  "[launch] do not mount your home directory (env LAUNCH_CONTAINER_MOUNT_HOME=0)", 0, OPT_NO_MOUNT_HOME,
	  on_option },
	{ "container-entrypoint", NULL,
	  "[launch] run the image's entrypoint before the command (env LAUNCH_CONTAINER_ENTRYPOINT=1)", 0,
	  OPT_ENTRYPOINT, on_option },
	{ "no-container-entrypoint", NULL, "[launch] run the command alone (env LAUNCH_CONTAINER_ENTRYPOINT=0)", 0,
	  OPT_NO_ENTRYPOINT, on_option },
	{ "container-mpi", NULL, "[launch] use the host's MPI, as launch run --mpi (env LAUNCH_CONTAINER_MPI=1)", 0,
	  OPT_MPI, on_option },
	{ "container-gpu", NULL,
	  "[launch] use the host's NVIDIA GPUs, as launch run --gpu (env LAUNCH_CONTAINER_GPU=1)", 0, OPT_GPU,
	  on_option },
	SPANK_OPTIONS_TABLE_END,
};

int plugin_register_options(spank_t sp)
{
	for (struct spank_option *o = table; o->name; o++)
		if (spank_option_register(sp, o) != ESPANK_SUCCESS) {
			slurm_error("launch: cannot register option --%s", o->name);
			return -1;
		}
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false", "off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* plugstack.conf: `required spank_launch.so KEY=VALUE...` */
static const struct site_key {
	const char *key;
	enum { SITE_BOOL, SITE_PATH, SITE_SCOPE } kind;
	void *slot; /* int * (0 or 1), or char ** */
} site_keys[] = {
	{ "writable", SITE_BOOL, &plugin_site.writable },
	{ "remap_root", SITE_BOOL, &plugin_site.remap_root },
	{ "mount_home", SITE_BOOL, &plugin_site.mount_home },
	{ "entrypoint", SITE_BOOL, &plugin_site.entrypoint },
	{ "sbatch", SITE_BOOL, &plugin_site.sbatch },
	{ "launch", SITE_PATH, &plugin_site.launch },
	{ "runtime_dir", SITE_PATH, &plugin_site.runtime_dir },
	{ "stage_dir", SITE_PATH, &plugin_site.stage_dir },
	{ "container_scope", SITE_SCOPE, &plugin_site.global_scope },
	{ "importer", SITE_PATH, &plugin_site.importer },
	/* pyxis's names for the same settings */
	{ "execute_entrypoint", SITE_BOOL, &plugin_site.entrypoint },
	{ "sbatch_support", SITE_BOOL, &plugin_site.sbatch },
	{ "runtime_path", SITE_PATH, &plugin_site.runtime_path },
	{ "use_squashfuse", SITE_BOOL, &plugin_site.use_squashfuse },
};

int plugin_parse_args(int ac, char **av)
{
	set_str(&plugin_site.launch, LAUNCH_BINDIR "/launch");
	for (int i = 0; i < ac; i++) {
		const char *eq = strchr(av[i], '=');
		_cleanup_free_ char *key = eq ? xstrndup(av[i], (size_t)(eq - av[i])) : xstrdup(av[i]);
		const char *v = eq ? eq + 1 : "";
		const struct site_key *k = NULL;
		for (size_t j = 0; j < ARRAY_SIZE(site_keys) && !k; j++)
			if (!strcmp(key, site_keys[j].key))
				k = &site_keys[j];
		if (!k) {
			_cleanup_free_ char *known = NULL;
			for (size_t j = 0; j < ARRAY_SIZE(site_keys); j++) {
				char *n = xasprintf("%s%s%s", known ? known : "", known ? ", " : "", site_keys[j].key);
				free(known);
				known = n;
			}
			slurm_error("launch: plugstack.conf: unknown argument `%s` (known: %s)", av[i], known);
			return -1;
		}
		if (k->kind == SITE_BOOL && parse_bool(v, k->slot) < 0) {
			slurm_error("launch: plugstack.conf: %s=%s: expected 0 or 1", key, v);
			return -1;
		}
		if (k->kind == SITE_SCOPE) {
			if (strcmp(v, "job") && strcmp(v, "global")) {
				slurm_error("launch: plugstack.conf: %s=%s: expected job or global", key, v);
				return -1;
			}
			*(int *)k->slot = !strcmp(v, "global");
		}
		if (k->kind == SITE_PATH) {
			/* runtime_dir and stage_dir are templates: $HOME/... is absolute too */
			bool tpl = k->slot == (void *)&plugin_site.runtime_dir ||
				   k->slot == (void *)&plugin_site.stage_dir;
			if (v[0] != '/' && !(tpl && v[0] == '$')) {
				slurm_error("launch: plugstack.conf: %s=%s: expected an absolute path", key, v);
				return -1;
			}
			set_str(k->slot, v);
		}
	}
	/* pyxis keeps every user's state in runtime_path: launch one directory per user there */
	if (plugin_site.runtime_path && !plugin_site.runtime_dir)
		plugin_site.runtime_dir = xasprintf("%s/launch-$UID", plugin_site.runtime_path);
	return 0;
}

bool plugin_active(void)
{
	return plugin_opts.image || plugin_opts.name;
}

static int twin_bool(const char *(*get)(void *, const char *), void *arg, const char *name, int *slot)
{
	const char *v = *slot < 0 ? get(arg, name) : NULL;
	if (!v || !*v)
		return 0;
	if (parse_bool(v, slot) < 0) {
		slurm_error("launch: %s=%s: expected 1 or 0", name, v);
		return -1;
	}
	return 0;
}

/* twin_str NAME: fill *SLOT from LAUNCH_CONTAINER_NAME, else PYXIS_CONTAINER_NAME */
static void twin_str(const char *(*get)(void *, const char *), void *arg, const char *name, char **slot)
{
	static const char *const prefixes[] = { "LAUNCH_CONTAINER_", "PYXIS_CONTAINER_" };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes) && !*slot; i++) {
		_cleanup_free_ char *var = xasprintf("%s%s", prefixes[i], name);
		const char *v = get(arg, var);
		if (v && *v)
			set_str(slot, v);
	}
}

static int twin_bools(const char *(*get)(void *, const char *), void *arg, const char *name, int *slot)
{
	_cleanup_free_ char *l = xasprintf("LAUNCH_CONTAINER_%s", name), *p = xasprintf("PYXIS_CONTAINER_%s", name);
	return twin_bool(get, arg, l, slot) < 0 || twin_bool(get, arg, p, slot) < 0 ? -1 : 0;
}

/* NAME[:auto|create|exec|no_exec], as pyxis takes it */
static int split_name(void)
{
	char *colon = plugin_opts.name ? strchr(plugin_opts.name, ':') : NULL;
	if (!colon)
		return 0;
	static const char *const modes[] = { "auto", "create", "exec", "no_exec" };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(colon + 1, modes[i])) {
			plugin_opts.name_mode = (enum plugin_name_mode)i;
			*colon = '\0';
			return 0;
		}
	slurm_error("launch: --container-name %s: the flag after `:` must be auto, create, exec or no_exec",
		    plugin_opts.name);
	return -1;
}

/* Container options given with neither an image nor a name do nothing:
 * say so where the user sees it (srun, sbatch, salloc). */
static void warn_idle_options(void)
{
	const char *given[] = {
		plugin_opts.mounts ? "--container-mounts" : NULL,
		plugin_opts.workdir ? "--container-workdir" : NULL,
		plugin_opts.save ? "--container-save" : NULL,
		plugin_opts.env_names ? "--container-env" : NULL,
		plugin_opts.writable >= 0 ? "--container-writable/--container-readonly" : NULL,
		plugin_opts.remap_root >= 0 ? "--[no-]container-remap-root" : NULL,
		plugin_opts.mount_home >= 0 ? "--[no-]container-mount-home" : NULL,
		plugin_opts.entrypoint >= 0 ? "--[no-]container-entrypoint" : NULL,
		plugin_opts.mpi > 0 ? "--container-mpi" : NULL,
		plugin_opts.gpu > 0 ? "--container-gpu" : NULL,
	};
	for (size_t i = 0; i < ARRAY_SIZE(given); i++)
		if (given[i])
			slurm_spank_log(
				"launch: warning: %s is ignored without --container-image or --container-name: "
				"the tasks run on the host",
				given[i]);
}

int plugin_finish_options(const char *(*get)(void *arg, const char *name), void *arg)
{
	static const struct {
		const char *name;
		char **slot;
	} strs[] = {
		{ "IMAGE", &plugin_opts.image }, { "MOUNTS", &plugin_opts.mounts }, { "WORKDIR", &plugin_opts.workdir },
		{ "NAME", &plugin_opts.name },	 { "ENV", &plugin_opts.env_names }, { "SAVE", &plugin_opts.save },
	};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		twin_str(get, arg, strs[i].name, strs[i].slot);
	int readonly = -1;
	if (twin_bools(get, arg, "WRITABLE", &plugin_opts.writable) < 0 ||
	    twin_bools(get, arg, "REMAP_ROOT", &plugin_opts.remap_root) < 0 ||
	    twin_bools(get, arg, "MOUNT_HOME", &plugin_opts.mount_home) < 0 ||
	    twin_bools(get, arg, "ENTRYPOINT", &plugin_opts.entrypoint) < 0 ||
	    twin_bools(get, arg, "ENTRYPOINT_LOG", &plugin_opts.entrypoint_log) < 0 ||
	    twin_bools(get, arg, "MPI", &plugin_opts.mpi) < 0 || twin_bools(get, arg, "GPU", &plugin_opts.gpu) < 0 ||
	    twin_bools(get, arg, "READONLY", &readonly) < 0)
		return -1;
	if (plugin_opts.writable < 0 && readonly >= 0)
		plugin_opts.writable = !readonly;
	if (split_name() < 0)
		return -1;
	if (!plugin_active()) {
		spank_context_t ctx = spank_context();
		if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR)
			warn_idle_options();
		return 0;
	}
	if (plugin_opts.save && (!*plugin_opts.save || plugin_opts.save[strlen(plugin_opts.save) - 1] == '/')) {
		slurm_error("launch: --container-save=%s: give the path of the squashfs file to write, not a directory",
			    plugin_opts.save);
		return -1;
	}
	struct launch_error *err = NULL;
	if (plugin_opts.image) {
		const char *im = plugin_opts.image;
		if (!*im) {
			slurm_error("launch: --container-image: the image name is empty");
			return -1;
		}
		if (launch_registry_ref_is(im)) {
			struct launch_registry_ref r;
			if (launch_registry_ref_parse(im, &r, &err) < 0)
				goto fail;
			launch_registry_ref_clear(&r);
		} else if (launch_ref_looks_like(im) || im[0] == '@') {
			struct launch_ref r;
			if (launch_ref_parse(im, &r, &err) < 0)
				goto fail;
			launch_ref_clear(&r);
		}
	}
	if (plugin_opts.mounts) {
		struct launch_mounts ms = { 0 };
		if (launch_mountspec_parse_list(plugin_opts.mounts, &ms, &err) < 0)
			goto fail;
		launch_mounts_clear(&ms);
	}
	if (plugin_opts.workdir && plugin_opts.workdir[0] != '/') {
		slurm_error("launch: --container-workdir %s: the directory must be an absolute path",
			    plugin_opts.workdir);
		return -1;
	}
	/* The instance is slurm-JOBID-NAME (remote.c): NAME gets what the
	 * longest prefix leaves of the instance name limit. */
	const size_t name_max = LAUNCH_INSTANCE_NAME_MAX - LAUNCH_INSTANCE_SLURM_PREFIX_MAX;
	if (plugin_opts.name &&
	    (strlen(plugin_opts.name) > name_max || !launch_instance_name_valid(plugin_opts.name))) {
		slurm_error(
			"launch: invalid --container-name `%s`: use 1 to %zu letters, digits, `_`, `-` or `.`, not "
			"starting with `.` or `-`",
			plugin_opts.name, name_max);
		return -1;
	}
	if (plugin_opts.env_names) {
		_cleanup_free_ char *copy = xstrdup(plugin_opts.env_names);
		char *save = NULL;
		for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save))
			if (!launch_env_name_valid(n, strlen(n))) {
				slurm_error("launch: invalid --container-env name `%s`: use letters, digits and _", n);
				return -1;
			}
	}
	return 0;
fail:
	slurm_error("launch: %s", err->msg);
	launch_error_free(err);
	return -1;
}
