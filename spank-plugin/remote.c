/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin in slurmstepd and in the tasks (see plugin.h).
 *
 * One instance per node and step, `slurm-JOBID.STEPID`, or per node and job
 * with --container-name=NAME, `slurm-JOBID-NAME`, in the runtime directory
 * the plugin pins for the job user (plugstack runtime_dir, default
 * /tmp/launch-$UID), so that every task, the step's end and the job's
 * epilog find it without the job's environment.
 *
 * Environment of a task, later wins: the job's environment (as launch run
 * takes the host's: without LD_PRELOAD, LD_LIBRARY_PATH, ... and the site's
 * env_deny); the instance's variables (the image's Env); the task's own
 * launch variables (SLURM_*, PMI*, PMIX_*, OMPI_*, the GPU selections), which
 * an image must never hide; the names given with --container-env. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <slurm/slurm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "fakeroot.h"
#include "instance.h"
#include "log.h"
#include "mountspec.h"
#include "paths.h"
#include "plugin.h"
#include "proc.h"
#include "spec.h"
#include "trust.h"
#include "util.h"

static bool active_here;    /* this step has a container on this node */
static char *instance_name; /* its name */
static bool named;	    /* --container-name: the job owns it */
/* Why the container could not start. A failed user_init only makes srun
 * print "launch failed" and exit 0; a failed task_init makes each task exit
 * 1 with the message on the user's terminal, so the error is kept for it. */
static char *start_error;

/* Variables that belong to each task and win over the image's. */
static const char *const task_prefixes[] = { "SLURM_", "SLURMD_", "PMI_", "PMI2_", "PMIX_", "OMPI_", NULL };
static const char *const task_names[] = { "CUDA_VISIBLE_DEVICES",
					  "NVIDIA_VISIBLE_DEVICES",
					  "ROCR_VISIBLE_DEVICES",
					  "HIP_VISIBLE_DEVICES",
					  "GPU_DEVICE_ORDINAL",
					  "ZE_AFFINITY_MASK",
					  NULL };

static bool task_variable(const char *kv, size_t len)
{
	for (size_t i = 0; task_prefixes[i]; i++)
		if (!strncmp(kv, task_prefixes[i], strlen(task_prefixes[i])))
			return true;
	for (size_t i = 0; task_names[i]; i++)
		if (strlen(task_names[i]) == len && !strncmp(kv, task_names[i], len))
			return true;
	return false;
}

/* --- the job user --- */

int plugin_user_of(uid_t uid, gid_t gid, struct plugin_user *u)
{
	memset(u, 0, sizeof(*u));
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		slurm_error("launch: uid %u has no passwd entry on this node", uid);
		return -1;
	}
	u->uid = uid;
	u->gid = gid;
	u->name = xstrdup(pw.pw_name);
	u->home = xstrdup(pw.pw_dir);
	return 0;
}

static int job_user(spank_t sp, struct plugin_user *u)
{
	uid_t uid;
	gid_t gid;
	memset(u, 0, sizeof(*u));
	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS) {
		slurm_error("launch: cannot get the job's user");
		return -1;
	}
	return plugin_user_of(uid, gid, u);
}

void plugin_user_clear(struct plugin_user *u)
{
	free(u->name);
	free(u->home);
}

static const char *user_lookup(void *arg, const char *name, size_t n, char *buf, size_t size)
{
	const struct plugin_user *u = arg;
	if (n == 3 && !strncmp(name, "UID", 3)) {
		snprintf(buf, size, "%u", u->uid);
		return buf;
	}
	if (n == 4 && !strncmp(name, "USER", 4))
		return u->name;
	if (n == 4 && !strncmp(name, "HOME", 4))
		return u->home;
	return NULL;
}

/* Template TPL (plugstack.conf KEY) expanded for U. */
static char *expand_for(const struct plugin_user *u, const char *tpl, const char *key)
{
	char *out = NULL;
	struct launch_error *err = NULL;
	if (launch_expand_template_with(tpl, user_lookup, (void *)u, &out, &err) < 0) {
		slurm_error("launch: plugstack.conf %s: %s", key, err->msg);
		launch_error_free(err);
		return NULL;
	}
	return out;
}

char *plugin_runtime_dir(const struct plugin_user *u)
{
	if (!plugin_site.runtime_dir)
		return xasprintf("/tmp/launch-%u", u->uid);
	return expand_for(u, plugin_site.runtime_dir, "runtime_dir");
}

/* Where job JOB's images are staged for U (stage_dir), NULL: not staged. */
static char *stage_dir_for(const struct plugin_user *u, uint32_t job)
{
	if (!plugin_site.stage_dir)
		return NULL;
	_cleanup_free_ char *top = expand_for(u, plugin_site.stage_dir, "stage_dir");
	return top ? xasprintf("%s/job-%u", top, job) : NULL;
}

/* In a forked child: become U entirely (slurmstepd may be root, or root with
 * the user's euid), or _exit. */
static void become(const struct plugin_user *u)
{
	if (geteuid() != 0 && seteuid(0) < 0 && getuid() != u->uid)
		_exit(126);
	if (getuid() == 0 || geteuid() == 0) {
		if (initgroups(u->name, u->gid) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
		    setresuid(u->uid, u->uid, u->uid) < 0)
			_exit(126);
	}
	if (getuid() != u->uid || geteuid() != u->uid)
		_exit(126);
}

/* Called in run_launch's child, as the user, to finish ARGV; false: there
 * is nothing to run. */
typedef bool (*argv_fn)(const struct plugin_user *u, char ***argv, void *arg);

static int run_launch_with(const struct plugin_user *u, const char *dir, char **argv, char **envp, bool ignore_term,
			   argv_fn fn, void *arg, char **msg, char **out);

/* Run the launch program as U with ARGV and environment ENVP (IGNORE_TERM:
 * with SIGTERM ignored); its stderr is returned in *MSG. Returns its exit
 * status, -1 when it could not run. */
static int run_launch(const struct plugin_user *u, char **argv, char **envp, bool ignore_term, char **msg)
{
	return run_launch_with(u, NULL, argv, envp, ignore_term, NULL, NULL, msg, NULL);
}

struct launch_child {
	const struct plugin_user *u;
	const char *dir; /* where to run (the job's directory), else the home directory */
	char **argv, **envp;
	bool ignore_term;
	argv_fn fn;
	void *arg;
};

/* In the child: become the user, then run launch. */
static int launch_child(void *arg, int report)
{
	struct launch_child *c = arg;
	become(c->u);
	if ((!c->dir || chdir(c->dir) < 0) && chdir(c->u->home) < 0 && chdir("/") < 0)
		return 126;
	/* slurmstepd may signal the step's processes while a stop runs */
	if (c->ignore_term)
		signal(SIGTERM, SIG_IGN);
	if (c->fn && !c->fn(c->u, &c->argv, c->arg))
		return 0;
	launch_proc_exec(c->argv[0], c->argv, c->envp);
	(void)report;
}

static int run_launch_with(const struct plugin_user *u, const char *dir, char **argv, char **envp, bool ignore_term,
			   argv_fn fn, void *arg, char **msg, char **out)
{
	*msg = NULL;
	if (out)
		*out = NULL;
	struct launch_child c = { u, dir, argv, envp, ignore_term, fn, arg };
	/* nothing of slurmstepd's descriptors reaches launch */
	struct launch_proc_spec spec = { .child = launch_child,
					 .arg = &c,
					 .in = LAUNCH_PROC_NULL,
					 .out = out ? LAUNCH_PROC_PIPE : LAUNCH_PROC_NULL,
					 .err = LAUNCH_PROC_PIPE,
					 .what = argv[0] };
	struct launch_proc_io io = { .max = 64u << 10 };
	struct launch_error *e = NULL;
	int st = launch_proc_run(&spec, &io, 0, &e);
	if (st < 0 && e && e->exit_code == 127) {
		/* launch itself could not run */
		free(io.err);
		io.err = xasprintf("launch: %s (check the plugstack.conf launch= argument)", e->msg);
		st = 127;
	}
	launch_error_free(e);
	if (out)
		*out = io.out ? io.out : xstrdup("");
	else
		free(io.out);
	*msg = io.err ? io.err : xstrdup("");
	return st;
}

/* Print the warnings of a launch that succeeded on the job's stderr, line
 * by line (slurm_spank_log: no "error:" prefix). */
static void warn_lines(const char *msg)
{
	_cleanup_free_ char *copy = xstrdup(msg);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		slurm_spank_log("%s", line);
}

/* Print what launch said, line by line, as slurmstepd errors. */
static void report(const char *msg)
{
	_cleanup_free_ char *copy = xstrdup(msg ? msg : "");
	char *save = NULL;
	bool any = false;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		slurm_error("%s", line);
		any = true;
	}
	if (!any)
		slurm_error("launch: the container could not start");
}

/* The job's environment, as an environ-like copy. */
static char **job_env(spank_t sp)
{
	char **env = NULL;
	if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || !env)
		return xcalloc(1, sizeof(char *));
	return launch_strv_copy(env);
}

static const char *job_getenv(void *arg, const char *name)
{
	static char buf[8192];
	return spank_getenv(arg, name, buf, sizeof(buf)) == ESPANK_SUCCESS ? buf : NULL;
}

static int pick(int opt, int site)
{
	return opt >= 0 ? opt : site;
}

/* slurmd's spool directory, from slurmstepd's own configuration; NULL if
 * it cannot be told. */
static const char *spool_dir(void)
{
	const slurm_conf_t *conf = dlsym(RTLD_DEFAULT, "slurm_conf");
	if (!conf || !conf->slurmd_spooldir || conf->slurmd_spooldir[0] != '/' || strchr(conf->slurmd_spooldir, '%'))
		return NULL;
	return conf->slurmd_spooldir;
}

/* The spool directory's SUB (freed here), if it exists. */
static char *spool_subdir(char *sub)
{
	const char *spool = spool_dir();
	char *dir = spool ? xasprintf("%s/%s", spool, sub) : NULL;
	free(sub);
	if (!dir)
		return NULL;
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return dir;
	free(dir);
	return NULL;
}

/* Host directories a step's tasks need at the same path inside: the one
 * Slurm's mpi/pmix keeps the step's PMIx server files in (the tasks learn
 * it, PMIX_SERVER_TMPDIR, only after the container started), and the one
 * holding the batch script slurmstepd executes. */
static void push_step_binds(char ***argv, uint32_t job, uint32_t step)
{
	char *dirs[] = { spool_subdir(xasprintf("pmix.%u.%u", job, step)),
			 step == SLURM_BATCH_SCRIPT ? spool_subdir(xasprintf("job%05u", job)) : NULL };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!dirs[i])
			continue;
		launch_strv_push(argv, xstrdup("--bind"));
		launch_strv_push(argv, xasprintf("%s:%s%s", dirs[i], dirs[i], i == 1 ? ":ro" : ""));
		free(dirs[i]);
	}
}

/* Keep the message MSG of a container that could not start (see start_error). */
static void keep_error(char *msg)
{
	free(start_error);
	start_error = msg && *msg ? msg : xstrdup("launch: the container could not start");
	if (msg && !*msg)
		free(msg);
}

/* --- per step: start the node's instance --- */

/* --- named containers, the site's importer --- */

struct named_check {
	const char *rundir;
	const char *asked; /* --container-image, or NULL */
	const char *as;	   /* what it resolved to (a pin, the importer's file), or NULL */
};

/* In the child, as the user, before `launch start --reuse`: what the
 * name's flag (pyxis's auto, create, exec, no_exec) and the image allow. An
 * error ends the child; a warning goes with launch's own messages. */
static bool check_named(const struct plugin_user *u, char ***argv, void *arg)
{
	(void)u, (void)argv;
	const struct named_check *nc = arg;
	struct launch_instance_info info = { 0 };
	bool exists = launch_instance_get(nc->rundir, instance_name, &info, NULL) == 0;
	char host[256] = "this node";
	gethostname(host, sizeof(host) - 1);
	const char *name = plugin_opts.name;
	if (exists && plugin_opts.name_mode == NAME_CREATE) {
		dprintf(STDERR_FILENO,
			"launch: --container-name=%s:create: the container exists already on %s (use %s or %s:auto to "
			"reuse it)\n",
			name, host, name, name);
		_exit(1);
	}
	if (!exists && plugin_opts.name_mode == NAME_EXEC) {
		dprintf(STDERR_FILENO, "launch: --container-name=%s:exec: no such container is running on %s\n", name,
			host);
		_exit(1);
	}
	if (!exists && !nc->asked) {
		dprintf(STDERR_FILENO,
			"launch: there is no container %s on %s, and no --container-image to make it from: give the "
			"image too\n",
			name, host);
		_exit(1);
	}
	if (exists && nc->asked && info.image && strcmp(info.image, nc->asked) != 0 &&
	    (!nc->as || strcmp(info.image, nc->as) != 0))
		dprintf(STDERR_FILENO,
			"launch: warning: container %s on %s runs %s: --container-image=%s is not used (the container "
			"is reused as it is)\n",
			name, host, info.image, nc->asked);
	launch_instance_info_clear(&info);
	return true;
}

/* An image the importer is for: not a path, not a digest of the store. */
static bool importable(const char *image)
{
	return image[0] != '/' && image[0] != '.' && image[0] != '@' && strcmp(image, "-") != 0;
}

/* The importer's environment: the job's, and what pyxis gives importers. */
static char **importer_env(char *const *env)
{
	struct launch_env e = { launch_strv_copy(env) };
	if (plugin_site.runtime_path)
		launch_env_set(&e, "PYXIS_RUNTIME_PATH", plugin_site.runtime_path);
	launch_env_set(&e, "PYXIS_VERSION", "0.20.0");
	return e.vars;
}

/* `IMPORTER get docker://IMAGE` as U: the squashfs file it prints. */
static char *importer_get(const struct plugin_user *u, char *const *env, const char *image)
{
	_cleanup_strv_ char **argv = NULL, **ienv = importer_env(env);
	launch_strv_push(&argv, xstrdup(plugin_site.importer));
	launch_strv_push(&argv, xstrdup("get"));
	launch_strv_push(&argv,
			 launch_str_has_prefix(image, "docker://") ? xstrdup(image) : xasprintf("docker://%s", image));
	_cleanup_free_ char *msg = NULL, *out = NULL;
	int st = run_launch_with(u, NULL, argv, ienv, false, NULL, NULL, &msg, &out);
	char *nl = out ? strchr(out, '\n') : NULL;
	if (nl)
		*nl = '\0';
	if (st == 0 && out && out[0] == '/')
		return xstrdup(out);
	if (st == 0)
		keep_error(xasprintf("launch: the site's importer %s printed no absolute squashfs path for %s",
				     plugin_site.importer, image));
	else
		keep_error(xasprintf("launch: the site's importer %s failed for %s (exit status %d)%s%s",
				     plugin_site.importer, image, st, msg && *msg ? ":\n" : "", msg ? msg : ""));
	return NULL;
}

/* `IMPORTER release` as U (pyxis calls it after the start and at the step's end). */
static void importer_release(const struct plugin_user *u, char *const *env)
{
	_cleanup_strv_ char **argv = NULL, **ienv = importer_env(env);
	launch_strv_push(&argv, xstrdup(plugin_site.importer));
	launch_strv_push(&argv, xstrdup("release"));
	_cleanup_free_ char *msg = NULL;
	if (run_launch_with(u, NULL, argv, ienv, true, NULL, NULL, &msg, NULL) != 0 && msg && *msg)
		slurm_info("launch: importer release: %s", msg);
}

int plugin_user_init(spank_t sp)
{
	uint32_t job = 0, step = 0;
	if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
		return 0;
	if (step == SLURM_EXTERN_CONT || (step == SLURM_BATCH_SCRIPT && !plugin_site.sbatch))
		return 0;
	if (plugin_finish_options(job_getenv, sp) < 0)
		return -1;
	if (!plugin_active())
		return 0;
	struct plugin_user u;
	if (job_user(sp, &u) < 0)
		return -1;
	named = plugin_opts.name != NULL;
	if (named && plugin_site.global_scope)
		instance_name = xasprintf("slurm-global-%s", plugin_opts.name);
	else if (named)
		instance_name = xasprintf("slurm-%u-%s", job, plugin_opts.name);
	else
		instance_name = xasprintf("slurm-%u.%u", job, step);
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u), *jobdir = NULL;
	int ret = -1;
	_cleanup_strv_ char **argv = NULL, **env = NULL;
	if (!rundir)
		goto out;
	const char *asked = plugin_opts.image; /* NULL: join the named container */
	if (!plugin_opts.image && named) {
		/* a later step of the job joins the container the first made */
		plugin_opts.image = xstrdup("-");
	}
	/* not -q: what launch warns of reaches the job (warn_lines) */
	launch_strv_push(&argv, xstrdup(plugin_site.launch));
	launch_strv_push(&argv, xstrdup("start"));
	launch_strv_push(&argv, xstrdup("--name"));
	launch_strv_push(&argv, xstrdup(instance_name));
	if (named)
		launch_strv_push(&argv, xstrdup("--reuse"));
	if (pick(plugin_opts.remap_root, plugin_site.remap_root))
		launch_strv_push(&argv, xstrdup("--root"));
	/* --container-save commits the writable layer at the step's end */
	if (pick(plugin_opts.writable, plugin_site.writable) || plugin_opts.save)
		launch_strv_push(&argv, xstrdup("--writable"));
	if (!pick(plugin_opts.mount_home, plugin_site.mount_home))
		launch_strv_push(&argv, xstrdup("--no-home"));
	if (plugin_opts.mpi == 1)
		launch_strv_push(&argv, xstrdup("--mpi"));
	if (plugin_opts.gpu == 1)
		launch_strv_push(&argv, xstrdup("--gpu"));
	if (plugin_opts.workdir) {
		launch_strv_push(&argv, xstrdup("--workdir"));
		launch_strv_push(&argv, xstrdup(plugin_opts.workdir));
	}
	struct launch_mounts ms = { 0 };
	struct launch_error *err = NULL;
	/* relative sources (./data) are the submit directory's */
	const char *pwd = job_getenv(sp, "PWD");
	jobdir = pwd ? xstrdup(pwd) : NULL;
	if (plugin_opts.mounts && launch_mountspec_parse_list_in(plugin_opts.mounts, jobdir, &ms, &err) < 0) {
		slurm_error("launch: %s", err->msg);
		launch_error_free(err);
		goto out;
	}
	/* each mount written back whole (flags, tmpfs, umount), so that launch
	 * makes exactly what the user asked for */
	for (size_t i = 0; i < ms.n; i++) {
		bool is_long;
		char *spec = launch_mountspec_format(&ms.v[i], &is_long);
		if (!spec) {
			slurm_error(
				"launch: --container-mounts: cannot pass on the mount on %s (a path with both "
				"`:` and `,`)",
				ms.v[i].destination);
			launch_mounts_clear(&ms);
			goto out;
		}
		launch_strv_push(&argv, xstrdup(is_long ? "--mount" : "--bind"));
		launch_strv_push(&argv, spec);
	}
	launch_mounts_clear(&ms);
	push_step_binds(&argv, job, step);
	char *stage = stage_dir_for(&u, job);
	if (stage) {
		launch_strv_push(&argv, xstrdup("--stage"));
		launch_strv_push(&argv, stage);
	}
	/* the job's environment, without what would change launch's own choices */
	env = job_env(sp);
	struct launch_env e = { steal_pointer(&env) };
	launch_env_unset(&e, "LAUNCH_CONFIG");
	launch_env_set(&e, "LAUNCH_RUNTIME_DIR", rundir);
	launch_env_set(&e, "HOME", u.home);
	launch_env_set(&e, "USER", u.name);
	env = steal_pointer(&e.vars);
	active_here = true;
	ret = 0;
	/* the digest srun resolved the image to for the job (local.c), or
	 * what the site's importer made of it */
	char *image = plugin_pinned_image(job_getenv(sp, PLUGIN_PIN_VAR), plugin_opts.image);
	if (!image && asked && plugin_site.importer && importable(asked)) {
		image = importer_get(&u, env, asked);
		if (!image)
			goto out;
	}
	launch_strv_push(&argv, image ? image : xstrdup(plugin_opts.image));
	char *msg = NULL;
	struct named_check nc = { rundir, asked, image };
	/* a relative image path (./app.sqfs) is the submit directory's */
	int st = run_launch_with(&u, jobdir, argv, env, false, named ? check_named : NULL, &nc, &msg, NULL);
	if (plugin_site.importer)
		importer_release(&u, env);
	if (st < 0)
		keep_error(xasprintf("launch: cannot start the container: %s", strerror(errno)));
	else if (st != 0)
		keep_error(steal_pointer(&msg));
	else if (msg && *msg)
		warn_lines(msg); /* e.g. a --container-gpu that no hook serves */
	free(msg);
out:
	plugin_user_clear(&u);
	return ret;
}

/* --- per task: join it --- */

/* Apply environment WANT to the task, whose environment is HAVE. */
static void apply_env(spank_t sp, char *const *have, const struct launch_env *want)
{
	for (size_t i = 0; have[i]; i++) {
		const char *eq = strchr(have[i], '=');
		if (!eq)
			continue;
		_cleanup_free_ char *name = xstrndup(have[i], (size_t)(eq - have[i]));
		if (!launch_env_get(want, name))
			spank_unsetenv(sp, name);
	}
	for (size_t i = 0; want->vars && want->vars[i]; i++) {
		const char *eq = strchr(want->vars[i], '=');
		_cleanup_free_ char *name = xstrndup(want->vars[i], (size_t)(eq - want->vars[i]));
		spank_setenv(sp, name, eq + 1, 1);
	}
}

int plugin_task_init(spank_t sp)
{
	if (!active_here)
		return 0;
	if (start_error) {
		/* the node's first task tells, every task fails */
		uint32_t local = 0;
		if (spank_get_item(sp, S_TASK_ID, &local) != ESPANK_SUCCESS || local == 0)
			report(start_error);
		return -1;
	}
	struct plugin_user u;
	if (job_user(sp, &u) < 0)
		return -1;
	int ret = -1;
	struct launch_config config;
	struct launch_instance_info info = { 0 };
	struct launch_spec spec = { 0 };
	struct launch_env env = { NULL };
	struct launch_error *err = NULL;
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	_cleanup_strv_ char **have = job_env(sp);
	launch_config_init(&config);
	if (!rundir)
		goto out;
	/* the site config, only as root installed it */
	if (launch_config_load(&config, LAUNCH_CONFIG_TRUSTED_ONLY, &err) < 0 ||
	    launch_instance_get(rundir, instance_name, &info, &err) < 0)
		goto fail;
	if (launch_env_build(&env, have, config.env_deny, info.env, NULL, &err) < 0)
		goto fail;
	for (size_t i = 0; have[i]; i++) {
		const char *eq = strchr(have[i], '=');
		if (eq && task_variable(have[i], (size_t)(eq - have[i]))) {
			_cleanup_free_ char *name = xstrndup(have[i], (size_t)(eq - have[i]));
			launch_env_set(&env, name, eq + 1);
		}
	}
	if (plugin_opts.env_names) {
		_cleanup_free_ char *copy = xstrdup(plugin_opts.env_names);
		char *save = NULL;
		struct launch_env job = { have };
		for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
			const char *v = launch_env_get(&job, n);
			if (v)
				launch_env_set(&env, n, v);
			else
				launch_env_unset(&env, n);
		}
	}
	char cwd[4096];
	spec.host_cwd = getcwd(cwd, sizeof(cwd)) ? xstrdup(cwd) : NULL;
	spec.workdir = plugin_opts.workdir ? xstrdup(plugin_opts.workdir) : info.workdir ? xstrdup(info.workdir) : NULL;
	spec.image.workdir = info.image_workdir ? xstrdup(info.image_workdir) : NULL;
	const char *chosen = "/";
	if (launch_instance_join(&info, &spec, &chosen, &err) < 0)
		goto fail;
	launch_env_set(&env, "PWD", chosen);
	launch_env_unset(&env, PLUGIN_PIN_VAR);
	/* inside now: root's apt configuration of a --root container, as for launch run */
	launch_fakeroot_env(&env);
	apply_env(sp, have, &env);
	/* The task gets 0-2 and PMI_FD, none of slurmstepd's other descriptors
	 * (close-on-exec: slurmstepd may use them until it execs the task). */
	int keep = launch_fds_pmi(env.vars);
	launch_fds_close_on_exec(&keep, keep >= 0 ? 1 : 0);
	if (pick(plugin_opts.entrypoint, plugin_site.entrypoint) && info.entrypoint && info.entrypoint[0]) {
		/* slurmstepd cannot be given another command: exec it here */
		int argc = 0;
		char **argv = NULL;
		spank_get_item(sp, S_JOB_ARGV, &argc, &argv);
		_cleanup_strv_ char **full = launch_strv_copy(info.entrypoint);
		for (int i = 0; i < argc; i++)
			launch_strv_push(&full, xstrdup(argv[i]));
		_cleanup_free_ char *path = launch_find_command(full[0], launch_env_get(&env, "PATH"));
		if (!path) {
			slurm_error("launch: the image's entrypoint %s is not found in the container", full[0]);
			goto out;
		}
		execve(path, full, env.vars);
		slurm_error("launch: cannot execute the image's entrypoint %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
fail:
	slurm_error("launch: %s", err->msg);
	launch_error_free(err);
out:
	launch_env_clear(&env);
	launch_spec_clear(&spec);
	launch_instance_info_clear(&info);
	launch_config_clear(&config);
	plugin_user_clear(&u);
	return ret;
}

/* --- the end of a step, of a job --- */

struct job_instances {
	const char *rundir;
	uint32_t job;
};

/* The staged images of JOB (stage_dir), as U. */
static void remove_job_stage(const struct plugin_user *u, uint32_t job)
{
	_cleanup_free_ char *dir = stage_dir_for(u, job);
	int fd = dir ? launch_trust_dir(dir, u->uid, 0700, LAUNCH_TRUST_MISSING_OK, NULL, NULL, NULL) : -1;
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* In the child, as the user: the job's pins and staged images go; the
 * job's instances, listed from the runtime directory only once it is the
 * user's own (root never reads it). */
static bool add_job_instances(const struct plugin_user *u, char ***argv, void *arg)
{
	const struct job_instances *ji = arg;
	plugin_pins_remove(ji->rundir, u->uid, ji->job);
	remove_job_stage(u, ji->job);
	_cleanup_free_ char *dir = xasprintf("%s/instances", ji->rundir);
	struct launch_error *err = NULL;
	int fd = launch_trust_dir(dir, u->uid, 0700, LAUNCH_TRUST_MISSING_OK, "instance directory", NULL, &err);
	if (fd < 0) {
		if (err)
			dprintf(STDERR_FILENO, "%s\n", err->msg);
		launch_error_free(err);
		return false;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	_cleanup_free_ char *named_prefix = xasprintf("slurm-%u-", ji->job),
			    *step_prefix = xasprintf("slurm-%u.", ji->job);
	size_t before = launch_strv_len(*argv);
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (launch_str_has_prefix(de->d_name, named_prefix) || launch_str_has_prefix(de->d_name, step_prefix))
			launch_strv_push(argv, xstrndup(de->d_name, l - 5));
	}
	closedir(d);
	return launch_strv_len(*argv) > before;
}

/* Stop WHAT as U: the instance of that name, or with WHAT NULL, every
 * instance of job JOB that RUNDIR still lists (the job epilog). */
static void stop_as_user(const struct plugin_user *u, const char *rundir, const char *what, uint32_t job)
{
	_cleanup_strv_ char **argv = NULL, **env = NULL;
	launch_strv_push(&argv, xstrdup(plugin_site.launch));
	launch_strv_push(&argv, xstrdup("-q"));
	launch_strv_push(&argv, xstrdup("stop"));
	if (what)
		launch_strv_push(&argv, xstrdup(what));
	launch_strv_push(&env, xasprintf("LAUNCH_RUNTIME_DIR=%s", rundir));
	launch_strv_push(&env, xasprintf("HOME=%s", u->home));
	launch_strv_push(&env, xasprintf("USER=%s", u->name));
	launch_strv_push(&env, xstrdup("PATH=/usr/local/bin:/usr/bin:/bin"));
	char *msg = NULL;
	struct job_instances ji = { rundir, job };
	int st = run_launch_with(u, NULL, argv, env, true, what ? NULL : add_job_instances, &ji, &msg, NULL);
	if (!what)
		what = "the job's containers";
	if (st < 0)
		slurm_info("launch: stopping %s: %s", what, strerror(errno));
	else if (st != 0 && msg && *msg)
		slurm_info("launch: stopping %s: %s", what, msg);
	else if (st != 0)
		slurm_info("launch: stopping %s: exit status %d", what, st);
	free(msg);
}

static bool stopped;

static void stop_step_instance(spank_t sp)
{
	if (!active_here || named || start_error || stopped)
		return;
	stopped = true;
	struct plugin_user u;
	if (job_user(sp, &u) < 0)
		return;
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	if (rundir)
		stop_as_user(&u, rundir, instance_name, 0);
	plugin_user_clear(&u);
}

/* --container-save: the container's file system as a squashfs file, from
 * its writable layer (`launch commit --instance --output`), as the user. A
 * relative PATH is taken from the job's working directory. */
static void save_container(spank_t sp, const struct plugin_user *u, const char *rundir)
{
	const char *pwd = job_getenv(sp, "PWD");
	_cleanup_free_ char *path = plugin_opts.save[0] == '/' || !pwd ? xstrdup(plugin_opts.save)
								       : xasprintf("%s/%s", pwd, plugin_opts.save);
	_cleanup_strv_ char **argv = NULL, **env = job_env(sp);
	struct launch_env e = { steal_pointer(&env) };
	launch_env_unset(&e, "LAUNCH_CONFIG");
	launch_env_set(&e, "LAUNCH_RUNTIME_DIR", rundir);
	env = steal_pointer(&e.vars);
	launch_strv_push(&argv, xstrdup(plugin_site.launch));
	launch_strv_push(&argv, xstrdup("-q"));
	launch_strv_push(&argv, xstrdup("commit"));
	launch_strv_push(&argv, xstrdup("--instance"));
	launch_strv_push(&argv, xstrdup(instance_name));
	launch_strv_push(&argv, xstrdup("--output"));
	launch_strv_push(&argv, xstrdup(path));
	_cleanup_free_ char *msg = NULL;
	int st = run_launch(u, argv, env, true, &msg);
	if (st != 0)
		slurm_error("launch: --container-save=%s: %s", path, msg && *msg ? msg : "the commit failed");
}

/* What the step's end does on the node before its container goes. */
static void finish_step(spank_t sp)
{
	if (!active_here || start_error || (!plugin_opts.save && !plugin_site.importer))
		return;
	struct plugin_user u;
	if (job_user(sp, &u) < 0)
		return;
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	if (rundir && plugin_opts.save)
		save_container(sp, &u, rundir);
	if (plugin_site.importer) {
		_cleanup_strv_ char **env = job_env(sp);
		importer_release(&u, env);
	}
	plugin_user_clear(&u);
}

/* The step's instance ends with the node's last task, before slurmstepd
 * signals what is left of the step; exit is the fallback. */
int plugin_task_exit(spank_t sp)
{
	static uint32_t exited;
	uint32_t local = 0;
	if (!active_here || spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &local) != ESPANK_SUCCESS)
		return 0;
	if (++exited >= local) {
		finish_step(sp);
		stop_step_instance(sp);
	}
	return 0;
}

int plugin_exit(spank_t sp)
{
	stop_step_instance(sp);
	return 0;
}

int plugin_job_epilog(spank_t sp)
{
	uint32_t job = 0;
	if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
		return 0;
	struct plugin_user u;
	if (job_user(sp, &u) < 0)
		return 0;
	/* every container of the job this node still has, listed by a child
	 * that is the job's user: the epilog runs as root, and the runtime
	 * directory is the user's to control */
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	if (rundir)
		stop_as_user(&u, rundir, NULL, job);
	plugin_user_clear(&u);
	return 0;
}
