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

#include "container.h" /* LAUNCH_KILL_GRACE_S */
#include "ids.h"
#include "log.h"
#include "proc.h"
#include "rootfs.h"
#include "util.h"

bool launch_instance_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > LAUNCH_INSTANCE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

int launch_instance_dir(const char *runtime_dir, char **out, struct launch_error **err)
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

char *launch_instance_file(const char *dir, const char *name, const char *ext)
{
	return xasprintf("%s/%s.%s", dir, name, ext);
}

/* Is the supervisor of NAME alive (its lock held)? */
static bool alive(const char *dir, const char *name)
{
	_cleanup_free_ char *lock = launch_instance_file(dir, name, "lock");
	_cleanup_close_ int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	return false;
}

void launch_instance_remove_state(const char *dir, const char *name)
{
	static const char *const exts[] = { "json", "log" };
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		_cleanup_free_ char *f = launch_instance_file(dir, name, exts[i]);
		unlink(f);
	}
}

static int read_info(const char *dir, const char *name, struct launch_instance_info *info, struct launch_error **err)
{
	memset(info, 0, sizeof(*info));
	_cleanup_free_ char *path = launch_instance_file(dir, name, "json");
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
	json_t *ep = json_object_get(j, "entrypoint"), *e;
	size_t k;
	if (json_is_array(ep)) {
		info->entrypoint = xcalloc(1, sizeof(char *));
		json_array_foreach (ep, k, e)
			if (json_is_string(e))
				launch_strv_push(&info->entrypoint, xstrdup(json_string_value(e)));
	}
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
	launch_strv_free(i->entrypoint);
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
			launch_instance_remove_state(dir, name);
		}
	}
	closedir(d);
}

/* --- processes of an instance --- */

/* --- join --- */

int launch_instance_ns_link(pid_t pid, const char *ns, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	ssize_t l = readlink(path, buf, size - 1);
	if (l < 0)
		return -1;
	buf[l] = '\0';
	return 0;
}

int launch_instance_join(const struct launch_instance_info *info, const struct launch_spec *spec, const char **cwd,
			 struct launch_error **err)
{
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", info->init);
	_cleanup_close_ int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", info->init);
	_cleanup_close_ int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0 || launch_instance_ns_link(info->init, "mnt", link, sizeof(link)) < 0 ||
	    strcmp(link, info->mnt_ns) != 0)
		return launch_error_msg(err, "instance %s is not running (its container init %d is gone)", info->name,
					info->init);
	if (setns(userfd, CLONE_NEWUSER) < 0)
		return launch_error_set(err, errno, "cannot join instance %s", info->name);
	if (setns(mntfd, CLONE_NEWNS) < 0)
		return launch_error_set(err, errno, "cannot join the mount namespace of instance %s", info->name);
	*cwd = "/";
	struct launch_identity id = { .root = info->root, .mode = info->mode };
	if (launch_rootfs_chdir(spec, cwd, err) < 0 || launch_identity_enter(&id, err) < 0)
		return -1;
	return 0;
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
		launch_instance_remove_state(dir, name);
		launch_instance_info_clear(info);
		return launch_error_msg(err, "instance %s is not running any more (its state was removed)", name);
	}
	return 0;
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
				int procs = launch_proc_signal(0, info.mnt_ns, 0, 0);
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
	/* The supervisor (the holder of the lock) ends the processes: SIGTERM,
	 * then SIGKILL after the grace period; it unmounts and removes the
	 * state. Waited for through a pidfd, opened before the lock says it is
	 * the holder still, so a pid used again is never waited on. */
	int pidfd = launch_proc_open(info.holder);
	if (alive(dir, name)) {
		kill(info.holder, SIGTERM);
		if (!launch_proc_wait_pid(info.holder, pidfd, (LAUNCH_KILL_GRACE_S + 8) * 1000)) {
			kill(info.holder, SIGKILL); /* its init then kills what is left */
			launch_proc_wait_pid(info.holder, pidfd, 5000);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	launch_instance_remove_state(dir, name);
	launch_instance_info_clear(&info);
	return 0;
}
