/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin in srun (local context), once the job exists: one image per
 * job.
 *
 * A step's nodes each resolve --container-image on their own, and a tag can
 * be moved in the store (or in a registry) while they do, or between two
 * steps of a job. So srun resolves the image first, as the user, with
 * `launch inspect --pull` (which pulls a docker:// image missing from the
 * store, once, here, rather than on every node), and keeps the digest in
 * the job's pins file: later steps of the job find it there and run the
 * same digest. The step's pin reaches slurmstepd in the job environment
 * (PLUGIN_PIN_VAR, which srun sends with the rest of its environment, as
 * with --export=ALL, the default); the nodes start "@sha256:HEX".
 *
 * The pins file is in the user's runtime directory on the host running
 * srun: the batch host for sbatch, whose job epilog removes it; the
 * login node for salloc and for an srun that made its own allocation,
 * where salloc or srun removes it when it ends. Image paths are not
 * pinned: they name a file, not a tag. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "plugin.h"
#include "proc.h"
#include "store.h"
#include "trust.h"
#include "util.h"

/* This srun or salloc made the allocation (no SLURM_JOB_ID when it
 * started): the job ends with it. */
static bool own_allocation;
static uint32_t pinned_job;

void plugin_local_init(void)
{
	own_allocation = getenv("SLURM_JOB_ID") == NULL;
}

static char *pins_dir(const char *rundir)
{
	return xasprintf("%s/slurm-pins", rundir);
}

void plugin_pins_remove(const char *rundir, uid_t uid, uint32_t job)
{
	_cleanup_free_ char *dir = pins_dir(rundir);
	int fd = launch_trust_dir(dir, uid, 0700, LAUNCH_TRUST_MISSING_OK, NULL, NULL, NULL);
	if (fd < 0)
		return;
	char name[32];
	snprintf(name, sizeof(name), "%u.json", job);
	unlinkat(fd, name, 0);
	close(fd);
}

char *plugin_pinned_image(const char *value, const char *image)
{
	const char *sp = value ? strchr(value, ' ') : NULL;
	if (!sp || !image || strcmp(sp + 1, image) != 0 || !launch_str_has_prefix(value, "sha256:"))
		return NULL;
	return xasprintf("@%.*s", (int)(sp - value), value);
}

/* A store name or a docker:// reference; not a path, not a digest. */
static bool pinnable(const char *image)
{
	return launch_registry_ref_is(image) || (image[0] != '@' && launch_ref_looks_like(image));
}

/* The digest IMAGE runs as, from `launch inspect --pull` run as this user
 * (a pull's progress and errors go to srun's stderr). NULL with *IS_PATH
 * when IMAGE names a file or directory instead. */
static char *resolve(const char *image, bool *is_path)
{
	char *argv[] = { plugin_site.launch, (char *)"inspect", (char *)"--pull", (char *)image, NULL };
	struct launch_proc_spec spec = { .path = plugin_site.launch,
					 .argv = argv,
					 .in = LAUNCH_PROC_NULL,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_INHERIT,
					 .what = plugin_site.launch };
	struct launch_proc_io io = { .max = 1u << 20 };
	struct launch_error *err = NULL;
	int st = launch_proc_run(&spec, &io, 0, &err);
	char *digest = NULL;
	*is_path = false;
	if (st < 0) {
		slurm_error("launch: cannot resolve the image %s: %s (check the plugstack.conf launch= argument)",
			    image, err->msg);
	} else if (st != 0) {
		*is_path = access(image, F_OK) == 0;
	} else {
		json_t *j = json_loads(io.out ? io.out : "", 0, NULL);
		const char *d = json_string_value(json_object_get(j, "digest"));
		if (d && launch_str_has_prefix(d, "sha256:"))
			digest = xstrdup(d);
		else if (json_object_get(j, "file"))
			*is_path = true; /* a file of that name, described */
		else
			slurm_error("launch: `launch inspect --pull %s` printed no digest", image);
		json_decref(j);
	}
	launch_error_free(err);
	free(io.out);
	free(io.err);
	return digest;
}

/* Open (create) the pins file of JOB in RUNDIR, locked. */
static int open_pins(const char *rundir, uint32_t job)
{
	struct launch_error *err = NULL;
	_cleanup_free_ char *dir = pins_dir(rundir);
	int dfd = launch_trust_dir(rundir, getuid(), 0700, LAUNCH_TRUST_CREATE | LAUNCH_TRUST_PRIVATE,
				   "runtime directory", "set runtime_dir in plugstack.conf", &err);
	if (dfd >= 0) {
		close(dfd);
		dfd = launch_trust_dir(dir, getuid(), 0700, LAUNCH_TRUST_CREATE, "pins directory", NULL, &err);
	}
	if (dfd < 0) {
		slurm_error("launch: %s", err->msg);
		launch_error_free(err);
		return -1;
	}
	char name[32];
	snprintf(name, sizeof(name), "%u.json", job);
	int fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e = errno;
	close(dfd);
	if (fd < 0) {
		slurm_error("launch: cannot open %s/%s: %s", dir, name, strerror(e));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() || flock(fd, LOCK_EX) < 0) {
		slurm_error("launch: %s/%s is not a file of yours: remove it", dir, name);
		close(fd);
		return -1;
	}
	return fd;
}

static json_t *read_pins(int fd)
{
	json_t *pins = json_loadfd(fd, JSON_DISABLE_EOF_CHECK, NULL);
	if (!json_is_object(pins)) {
		json_decref(pins);
		pins = json_object();
	}
	return pins;
}

static int write_pins(int fd, json_t *pins)
{
	_cleanup_free_ char *text = json_dumps(pins, JSON_COMPACT);
	size_t n = strlen(text);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, n, 0) != (ssize_t)n)
		return -1;
	return 0;
}

int plugin_local_user_init(spank_t sp)
{
	uint32_t job = 0;
	const char *image = plugin_opts.image;
	/* with the site's importer (pyxis's protocol), the nodes resolve images */
	if (!plugin_active() || !image || !pinnable(image) || plugin_site.importer ||
	    spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS)
		return 0;
	struct plugin_user u;
	if (plugin_user_of(getuid(), getgid(), &u) < 0)
		return -1;
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	plugin_user_clear(&u);
	int fd = rundir ? open_pins(rundir, job) : -1;
	if (fd < 0)
		return -1;
	pinned_job = job;
	int ret = -1;
	json_t *pins = read_pins(fd);
	const char *have = json_string_value(json_object_get(pins, image));
	_cleanup_free_ char *digest = have ? xstrdup(have) : NULL;
	if (!digest) {
		bool is_path = false;
		digest = resolve(image, &is_path);
		if (!digest) {
			ret = is_path ? 0 : -1; /* a path: not pinned */
			goto out;
		}
		json_object_set_new(pins, image, json_string(digest));
		if (write_pins(fd, pins) < 0)
			slurm_error("launch: cannot write the job's pins file: %s", strerror(errno));
	}
	char *value = xasprintf("%s %s", digest, image);
	/* srun's own environment is the step's (spank_setenv is for slurmstepd) */
	if (setenv(PLUGIN_PIN_VAR, value, 1) < 0)
		slurm_error("launch: cannot pass the image's digest to the job: %s", strerror(errno));
	free(value);
	ret = 0;
out:
	json_decref(pins);
	close(fd);
	return ret;
}

/* The job of this salloc, which ends with it (sbatch's goes on). */
static uint32_t salloc_job(void)
{
	const char *id = getenv("SLURM_JOB_ID");
	if (strcmp(program_invocation_short_name, "salloc") != 0 || !id)
		return 0;
	return (uint32_t)strtoul(id, NULL, 10);
}

int plugin_local_exit(spank_t sp)
{
	(void)sp;
	uint32_t job = own_allocation ? (pinned_job ? pinned_job : salloc_job()) : 0;
	if (!job)
		return 0;
	struct plugin_user u;
	if (plugin_user_of(getuid(), getgid(), &u) < 0)
		return 0;
	_cleanup_free_ char *rundir = plugin_runtime_dir(&u);
	plugin_user_clear(&u);
	if (rundir)
		plugin_pins_remove(rundir, getuid(), job);
	return 0;
}
