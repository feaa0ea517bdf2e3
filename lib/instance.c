/* SPDX-License-Identifier: Apache-2.0 */
/* Named instances (see instance.h). The supervisor of an instance is an
 * ordinary `launch_container_run` in a detached process, with no command:
 * its container init waits for processes to join it and ends them all on
 * `stop`. Joining is setns into the init's user then mount namespace, which
 * needs no privilege for the namespaces' own user and is refused to others. */
#define _GNU_SOURCE
#include "instance.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
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
#include "ids.h"
#include "log.h"
#include "rootfs.h"
#include "util.h"

#define NAME_MAX_LEN 64

bool launch_instance_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NAME_MAX_LEN || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

static int instances_dir(const char *runtime_dir, char **out, struct launch_error **err)
{
	char *dir = xasprintf("%s/instances", runtime_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		launch_error_set(err, errno, "cannot create %s", dir);
		free(dir);
		return -1;
	}
	*out = dir;
	return 0;
}

static char *file_of(const char *dir, const char *name, const char *ext)
{
	return xasprintf("%s/%s.%s", dir, name, ext);
}

/* Is the supervisor of NAME alive (its lock held)? */
static bool alive(const char *dir, const char *name)
{
	_cleanup_free_ char *lock = file_of(dir, name, "lock");
	_cleanup_close_ int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	return false;
}

static void remove_state(const char *dir, const char *name)
{
	static const char *const exts[] = { "json", "log" };
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		_cleanup_free_ char *f = file_of(dir, name, exts[i]);
		unlink(f);
	}
}

static int read_info(const char *dir, const char *name, struct launch_instance_info *info,
		     struct launch_error **err)
{
	memset(info, 0, sizeof(*info));
	_cleanup_free_ char *path = file_of(dir, name, "json");
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j)
		return launch_error_msg(err, "instance %s not found (see 'launch ps')", name);
	const char *image = NULL, *mnt = NULL, *user = NULL;
	json_int_t holder = 0, init = 0, created = 0;
	int root = 0;
	if (json_unpack_ex(j, &jerr, 0, "{s:s, s:I, s:I, s:b, s:I, s:s, s:s}", "image", &image, "holder", &holder,
			   "init", &init, "root", &root, "created", &created, "mnt_ns", &mnt, "user_ns", &user) < 0) {
		json_decref(j);
		return launch_error_msg(err, "instance %s: damaged state file %s: %s", name, path, jerr.text);
	}
	info->name = xstrdup(name);
	info->image = xstrdup(image);
	info->holder = (pid_t)holder;
	info->init = (pid_t)init;
	info->root = root;
	info->created = created;
	info->mnt_ns = xstrdup(mnt);
	info->user_ns = xstrdup(user);
	info->env = xcalloc(1, sizeof(char *));
	json_t *env = json_object_get(j, "env"), *v;
	size_t i;
	json_array_foreach (env, i, v)
		if (json_is_string(v))
			launch_strv_push(&info->env, xstrdup(json_string_value(v)));
	const char *wd = json_string_value(json_object_get(j, "workdir"));
	info->workdir = wd ? xstrdup(wd) : NULL;
	info->mode = (enum launch_idmap_mode)json_integer_value(json_object_get(j, "idmap"));
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "digest", offsetof(struct launch_instance_info, digest) },
		{ "upper", offsetof(struct launch_instance_info, upper) },
		{ "mountpoints", offsetof(struct launch_instance_info, mountpoints) },
	};
	for (size_t k = 0; k < ARRAY_SIZE(strs); k++) {
		const char *str = json_string_value(json_object_get(j, strs[k].key));
		*(char **)((char *)info + strs[k].off) = str ? xstrdup(str) : NULL;
	}
	info->upper_in_namespace = json_is_true(json_object_get(j, "upper_in_namespace"));
	wd = json_string_value(json_object_get(j, "image_workdir"));
	info->image_workdir = wd ? xstrdup(wd) : NULL;
	json_decref(j);
	return 0;
}

void launch_instance_info_clear(struct launch_instance_info *i)
{
	free(i->name);
	free(i->image);
	free(i->mnt_ns);
	free(i->user_ns);
	launch_strv_free(i->env);
	free(i->workdir);
	free(i->image_workdir);
	free(i->digest);
	free(i->upper);
	free(i->mountpoints);
	memset(i, 0, sizeof(*i));
}

void launch_instances_gc(const char *runtime_dir)
{
	_cleanup_free_ char *dir = xasprintf("%s/instances", runtime_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		_cleanup_free_ char *name = xstrndup(de->d_name, n - 5);
		if (!alive(dir, name)) {
			launch_debug("instance %s: its supervisor is gone, removing its state", name);
			remove_state(dir, name);
		}
	}
	closedir(d);
}

/* --- start --- */

struct start_ctx {
	const struct launch_spec *spec;
	const char *dir;
	const char *name;
	int ready_fd;
};

static int ns_link(pid_t pid, const char *ns, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	ssize_t l = readlink(path, buf, size - 1);
	if (l < 0)
		return -1;
	buf[l] = '\0';
	return 0;
}

static int started(void *arg, pid_t init, struct launch_error **err)
{
	struct start_ctx *c = arg;
	char mnt[64], user[64];
	if (ns_link(init, "mnt", mnt, sizeof(mnt)) < 0 || ns_link(init, "user", user, sizeof(user)) < 0)
		return launch_error_set(err, errno, "cannot read the namespaces of the instance");
	json_t *env = json_array();
	for (size_t i = 0; c->spec->env_set && c->spec->env_set[i]; i++)
		json_array_append_new(env, json_string(c->spec->env_set[i]));
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:s, s:s, s:o}", "name", c->name, "image",
			      c->spec->image.path, "holder", (json_int_t)getpid(), "init", (json_int_t)init, "root",
			      c->spec->id.root, "created", (json_int_t)time(NULL), "mnt_ns", mnt, "user_ns", user, "env",
			      env);
	if (c->spec->workdir)
		json_object_set_new(j, "workdir", json_string(c->spec->workdir));
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
	_cleanup_free_ char *path = file_of(c->dir, c->name, "json");
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int r = json_dump_file(j, tmp, JSON_COMPACT);
	json_decref(j);
	if (r < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return launch_error_set(err, errno, "cannot write %s", path);
	}
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
		_cleanup_free_ char *lock = file_of(dir, name, "json");
		if (access(lock, F_OK) < 0)
			return name;
		free(name);
	}
}

/* Take NAME's lock for good: an exclusive flock on a file that is still the
 * one at that path (a stopping supervisor may unlink it meanwhile). */
static int take_lock(const char *dir, const char *name, struct launch_error **err)
{
	_cleanup_free_ char *lock = file_of(dir, name, "lock");
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return launch_error_set(err, errno, "cannot create %s", lock);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			if (errno == EWOULDBLOCK)
				return launch_error_msg(err, "instance %s already exists (see 'launch ps'; end it with "
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

int launch_instance_start(struct launch_spec *spec, const char *name, char **out_name, struct launch_error **err)
{
	_cleanup_free_ char *dir = NULL, *gen = NULL;
	if (instances_dir(spec->runtime_dir, &dir, err) < 0)
		return -1;
	launch_instances_gc(spec->runtime_dir);
	if (name && !launch_instance_name_valid(name))
		return launch_error_msg(err, "invalid instance name `%s`: use 1 to %d letters, digits, `_`, `-` or `.`, "
					     "not starting with `.` or `-`",
					name, NAME_MAX_LEN);
	if (!name)
		name = gen = new_name(dir);
	int lock = take_lock(dir, name, err);
	if (lock < 0)
		return -1;
	remove_state(dir, name);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(lock);
		return launch_error_set(err, errno, "pipe");
	}
	spec->instance = true;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(lock);
		return launch_error_set(err, errno, "cannot start the instance supervisor");
	}
	if (pid == 0) {
		/* Detach: a session of its own, and not our child (the caller
		 * may be a short-lived CLI or a slurmstepd helper). */
		close(ready[0]);
		setsid();
		pid_t sup = fork();
		if (sup != 0) {
			if (sup < 0) {
				int e = errno;
				char msg[200];
				snprintf(msg, sizeof(msg), "Ecannot start the instance supervisor: %s", strerror(e));
				launch_write_all(ready[1], msg, strlen(msg));
			}
			_exit(0);
		}
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		_cleanup_free_ char *log = file_of(dir, name, "log");
		int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (logfd >= 0)
			dup2(logfd, STDERR_FILENO);
		struct start_ctx ctx = { spec, dir, name, ready[1] };
		struct launch_container_hooks hooks = { started, &ctx };
		struct launch_error *e = NULL;
		int status = 0;
		if (launch_container_run_hooks(spec, &hooks, &status, &e) < 0) {
			if (ctx.ready_fd >= 0) {
				char bad = 'E';
				launch_write_all(ctx.ready_fd, &bad, 1);
				launch_write_all(ctx.ready_fd, e->msg, strlen(e->msg));
			}
			launch_log(LAUNCH_LOG_ERROR, "%s", e->msg);
			launch_error_free(e);
		}
		/* unlinked while still locked: a new instance of the name locks a new file */
		_cleanup_free_ char *lockpath = file_of(dir, name, "lock");
		unlink(lockpath);
		remove_state(dir, name);
		_exit(0);
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
	waitpid(pid, NULL, 0);
	if (got > 0 && buf[0] == 'R') {
		*out_name = xstrdup(name);
		return 0;
	}
	if (got > 1)
		return launch_error_msg(err, "%s", buf + 1);
	return launch_error_msg(err, "instance %s failed to start", name);
}

/* --- exec --- */

static int join_and_exec(const struct launch_instance_info *info, const struct launch_spec *spec,
			 struct launch_error **err)
{
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", info->init);
	_cleanup_close_ int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", info->init);
	_cleanup_close_ int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0 || ns_link(info->init, "mnt", link, sizeof(link)) < 0 ||
	    strcmp(link, info->mnt_ns) != 0)
		return launch_error_msg(err, "instance %s is not running (its container init %d is gone)", info->name,
					info->init);
	if (setns(userfd, CLONE_NEWUSER) < 0)
		return launch_error_set(err, errno, "cannot join instance %s", info->name);
	if (setns(mntfd, CLONE_NEWNS) < 0)
		return launch_error_set(err, errno, "cannot join the mount namespace of instance %s", info->name);
	const char *cwd = "/";
	struct launch_identity id = { .root = info->root, .mode = info->mode };
	if (launch_rootfs_chdir(spec, &cwd, err) < 0 || launch_identity_enter(&id, err) < 0)
		return -1;
	return launch_container_exec(spec, cwd, err);
}

int launch_instance_get(const char *runtime_dir, const char *name, struct launch_instance_info *info,
			struct launch_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/instances", runtime_dir);
	memset(info, 0, sizeof(*info));
	if (!launch_instance_name_valid(name))
		return launch_error_msg(err, "instance %s not found (see 'launch ps')", name);
	if (read_info(dir, name, info, err) < 0)
		return -1;
	if (!alive(dir, name)) {
		remove_state(dir, name);
		launch_instance_info_clear(info);
		return launch_error_msg(err, "instance %s is not running any more (its state was removed)", name);
	}
	return 0;
}

int launch_instance_exec(const struct launch_instance_info *info, const struct launch_spec *spec, bool want_root,
			 struct launch_error **err)
{
	if (want_root && !info->root)
		return launch_error_msg(err, "instance %s was not started with --root: start it with 'launch start --root'",
					info->name);
	return join_and_exec(info, spec, err);
}

/* --- ps, stop --- */

int launch_instance_list(const char *runtime_dir, struct launch_instance_info **out, size_t *n,
			 struct launch_error **err)
{
	*out = NULL;
	*n = 0;
	launch_instances_gc(runtime_dir);
	_cleanup_free_ char *dir = xasprintf("%s/instances", runtime_dir);
	struct dirent **names = NULL;
	int count = scandir(dir, &names, NULL, alphasort);
	if (count < 0)
		return errno == ENOENT ? 0 : launch_error_set(err, errno, "cannot list %s", dir);
	for (int i = 0; i < count; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 5 && !strcmp(names[i]->d_name + l - 5, ".json")) {
			_cleanup_free_ char *name = xstrndup(names[i]->d_name, l - 5);
			struct launch_instance_info info;
			if (read_info(dir, name, &info, NULL) == 0) {
				int procs = launch_container_signal_ns(info.mnt_ns, 0);
				info.processes = procs > 0 ? procs - 1 : 0; /* not the init */
				*out = xrealloc(*out, (*n + 1) * sizeof(**out));
				(*out)[(*n)++] = info;
			}
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

int launch_instance_stop(const char *runtime_dir, const char *name, struct launch_error **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/instances", runtime_dir);
	struct launch_instance_info info;
	if (!launch_instance_name_valid(name))
		return launch_error_msg(err, "instance %s not found (see 'launch ps')", name);
	if (read_info(dir, name, &info, err) < 0)
		return -1;
	if (alive(dir, name))
		kill(info.holder, SIGTERM);
	/* The supervisor ends the processes (SIGTERM, then SIGKILL after the
	 * grace period), unmounts and removes the state. */
	for (int i = 0; i < (LAUNCH_KILL_GRACE_S + 8) * 100 && alive(dir, name); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (alive(dir, name)) {
		kill(info.holder, SIGKILL); /* its init then kills what is left */
		for (int i = 0; i < 500 && alive(dir, name); i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	remove_state(dir, name);
	launch_instance_info_clear(&info);
	return 0;
}
