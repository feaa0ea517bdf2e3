/* SPDX-License-Identifier: Apache-2.0 */
/* Starting instances and exec into them (see instance.h): the parts that
 * run a container (container.c), apart from instance.c, which the SPANK
 * plugin links to join one. */
#define _GNU_SOURCE
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "jsonpos.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define NAME_MAX_LEN 64

/* --- start --- */

struct start_ctx {
	const struct launch_spec *spec;
	const char *dir;
	const char *name;
	int ready_fd;
};

static int started(void *arg, pid_t init, struct launch_error **err)
{
	struct start_ctx *c = arg;
	char mnt[64], user[64];
	if (launch_instance_ns_link(init, "mnt", mnt, sizeof(mnt)) < 0 ||
	    launch_instance_ns_link(init, "user", user, sizeof(user)) < 0)
		return launch_error_set(err, errno, "cannot read the namespaces of the instance");
	json_t *env = launch_json_from_strv(c->spec->env_set);
	/* "image" is the image as the user named it (what `launch ps` shows),
	 * "image_file" what was mounted */
	const struct launch_image *im = &c->spec->image;
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:s, s:s, s:o}", "name", c->name, "image",
			      im->ref ? im->ref : im->path, "image_file", im->path, "holder", (json_int_t)getpid(),
			      "init", (json_int_t)init, "root", c->spec->id.root, "created", (json_int_t)time(NULL),
			      "mnt_ns", mnt, "user_ns", user, "env", env);
	if (c->spec->workdir)
		json_object_set_new(j, "workdir", json_string(c->spec->workdir));
	if (c->spec->image.entrypoint)
		json_object_set_new(j, "entrypoint", launch_json_from_strv(c->spec->image.entrypoint));
	if (c->spec->image.workdir)
		json_object_set_new(j, "image_workdir", json_string(c->spec->image.workdir));
	json_object_set_new(j, "idmap", json_integer(c->spec->id.mode));
	if (c->spec->image.digest)
		json_object_set_new(j, "digest", json_string(c->spec->image.digest));
	/* where `launch commit` finds the writable layer (in the supervisor's
	 * mount namespace for --writable) and the mount points made in it */
	if (c->spec->overlay) {
		json_object_set_new(j, "upper", json_pack("s++", c->spec->overlay, "/", "upper"));
		json_object_set_new(j, "mountpoints", json_pack("s++", c->spec->overlay, "/", "mountpoints"));
	} else if (c->spec->writable) {
		json_object_set_new(j, "upper", json_pack("s+", c->spec->runtime_dir, "/mnt/rw/upper"));
		json_object_set_new(j, "mountpoints", json_pack("s+", c->spec->runtime_dir, "/mnt/rw/mountpoints"));
		json_object_set_new(j, "upper_in_namespace", json_true());
	}
	_cleanup_free_ char *path = launch_instance_file(c->dir, c->name, "json");
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text || launch_write_file_atomic(path, text, strlen(text), 0600) < 0)
		return launch_error_set(err, errno, "cannot write %s", path);
	char ok = 'R';
	launch_write_all(c->ready_fd, &ok, 1);
	close(c->ready_fd);
	c->ready_fd = -1;
	return 0;
}

static char *new_name(const char *dir)
{
	for (;;) {
		unsigned r = 0;
		_cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, &r, sizeof(r)) != sizeof(r))
			r = (unsigned)getpid() ^ (unsigned)time(NULL);
		char *name = xasprintf("launch-%06x", r & 0xffffff);
		_cleanup_free_ char *lock = launch_instance_file(dir, name, "json");
		if (access(lock, F_OK) < 0)
			return name;
		free(name);
	}
}

/* Take NAME's lock for good: an exclusive flock on a file that is still the
 * one at that path (a stopping supervisor may unlink it meanwhile). */
static int take_lock(const char *dir, const char *name, struct launch_error **err)
{
	_cleanup_free_ char *lock = launch_instance_file(dir, name, "lock");
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return launch_error_set(err, errno, "cannot create %s", lock);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			if (errno == EWOULDBLOCK)
				return launch_error_msg(err,
							"instance %s already exists (see 'launch ps'; end it with "
							"'launch stop %s')",
							name, name);
			return launch_error_set(err, errno, "cannot lock %s", lock);
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(lock, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return launch_error_msg(err, "cannot lock %s: it keeps being replaced", lock);
}

/* The instance's supervisor: runs the container until it ends, then
 * removes the instance's state. */
static int supervisor_main(void *arg, int report)
{
	(void)report;
	struct start_ctx *ctx = arg;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_free_ char *log = launch_instance_file(ctx->dir, ctx->name, "log");
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (logfd >= 0)
		dup2(logfd, STDERR_FILENO);
	struct launch_container_callbacks cb = { started, ctx };
	struct launch_error *e = NULL;
	int status = 0;
	if (launch_container_run_with(ctx->spec, &cb, &status, &e) < 0) {
		if (ctx->ready_fd >= 0) {
			char bad = 'E';
			launch_write_all(ctx->ready_fd, &bad, 1);
			launch_write_all(ctx->ready_fd, e->msg, strlen(e->msg));
		}
		launch_log(LAUNCH_LOG_ERROR, "%s", e->msg);
		launch_error_free(e);
	}
	/* unlinked while still locked: a new instance of the name locks a new file */
	_cleanup_free_ char *lockpath = launch_instance_file(ctx->dir, ctx->name, "lock");
	unlink(lockpath);
	launch_instance_remove_state(ctx->dir, ctx->name);
	return 0;
}

/* Detach: in a session of its own, start the supervisor, which is then
 * not our child (the caller may be a short-lived CLI or a slurmstepd
 * helper), and exit. */
static int detach_main(void *arg, int report)
{
	(void)report;
	struct start_ctx *ctx = arg;
	struct launch_proc_spec sup = { .child = supervisor_main, .arg = ctx, .what = "the instance supervisor" };
	struct launch_proc p;
	struct launch_error *e = NULL;
	if (launch_proc_spawn(&sup, &p, &e) < 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "E%s", e->msg);
		launch_write_all(ctx->ready_fd, msg, strlen(msg));
	}
	return 0; /* the supervisor goes on, without us */
}

int launch_instance_start(struct launch_spec *spec, const char *name, bool reuse, char **out_name,
			  struct launch_error **err)
{
	_cleanup_free_ char *dir = NULL, *gen = NULL;
	if (launch_instance_dir(spec->runtime_dir, &dir, err) < 0)
		return -1;
	launch_instances_gc(spec->runtime_dir);
	if (name && !launch_instance_name_valid(name))
		return launch_error_msg(err,
					"invalid instance name `%s`: use 1 to %d letters, digits, `_`, `-` or `.`, "
					"not starting with `.` or `-`",
					name, NAME_MAX_LEN);
	if (!name)
		name = gen = new_name(dir);
	if (reuse && name) {
		struct launch_instance_info info;
		if (launch_instance_get(spec->runtime_dir, name, &info, NULL) == 0) {
			launch_instance_info_clear(&info);
			launch_info("instance %s is running: joining it", name);
			*out_name = xstrdup(name);
			return 0;
		}
	}
	int lock = take_lock(dir, name, err);
	if (lock < 0)
		return -1;
	launch_instance_remove_state(dir, name);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(lock);
		return launch_error_set(err, errno, "pipe");
	}
	spec->instance = true;
	free(spec->container_id);
	spec->container_id = xstrdup(name);
	struct start_ctx ctx = { spec, dir, name, ready[1] };
	struct launch_proc_spec detach = {
		.child = detach_main, .arg = &ctx, .new_session = true, .what = "the instance supervisor"
	};
	struct launch_proc first;
	if (launch_proc_spawn(&detach, &first, err) < 0) {
		close(lock);
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	close(ready[1]);
	close(lock);
	/* 'R' once the instance can be joined; 'E' and the message otherwise.
	 * The container init holds a copy of the pipe for as long as it lives,
	 * so success cannot wait for end-of-file. */
	char buf[1024] = { 0 };
	ssize_t n, got = 0;
	while ((n = read(ready[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0)
			got += n;
		if (got > 0 && buf[0] == 'R')
			break;
	}
	close(ready[0]);
	launch_proc_wait(&first, NULL, 0, NULL);
	launch_proc_close(&first);
	if (got > 0 && buf[0] == 'R') {
		*out_name = xstrdup(name);
		return 0;
	}
	if (got > 1)
		return launch_error_msg(err, "%s", buf + 1);
	return launch_error_msg(err, "instance %s failed to start", name);
}

/* --- exec --- */

int launch_instance_exec(const struct launch_instance_info *info, const struct launch_spec *spec, bool want_root,
			 struct launch_error **err)
{
	if (want_root && !info->root)
		return launch_error_msg(err,
					"instance %s was not started with --root: start it with 'launch start --root'",
					info->name);
	const char *cwd = "/";
	if (launch_instance_join(info, spec, &cwd, err) < 0)
		return -1;
	return launch_container_exec(spec, cwd, err);
}
