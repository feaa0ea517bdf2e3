/* SPDX-License-Identifier: Apache-2.0 */
/* Node checks (see doctor.h). Checks that need namespaces run them for real
 * in a forked child, so the answer is the kernel's, not a guess from sysctls. */
#define _GNU_SOURCE
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "ids.h"
#include "paths.h"
#include "proc.h"
#include "sqfs.h"
#include "util.h"

static void add(struct launch_checks *cs, const char *name, enum launch_check_status st, bool required, char *detail,
		char *fix)
{
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof(*cs->v));
	cs->v[cs->n++] = (struct launch_check){ name, st, required, detail, fix };
}

static long read_long(const char *path)
{
	_cleanup_free_ char *t = NULL;
	if (launch_read_file_at(AT_FDCWD, path, 64, &t, NULL) < 0)
		return -1;
	return strtol(t, NULL, 10);
}

struct userns_ctx {
	int (*fn)(const char *dir);
	const char *dir;
};

static int userns_child(void *arg, int report)
{
	(void)report;
	const struct userns_ctx *c = arg;
	struct launch_identity id = { .uid = getuid(), .gid = getgid() };
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 || launch_idmap_write(0, &id, NULL) < 0)
		return errno ? errno : EPERM;
	return c->fn ? c->fn(c->dir) : 0;
}

/* Run FN in a child inside a fresh user+mount namespace; returns the errno
 * it failed with (0 on success), which the child exits with. */
static int in_userns(int (*fn)(const char *dir), const char *dir)
{
	struct userns_ctx c = { fn, dir };
	struct launch_proc_spec spec = { .child = userns_child, .arg = &c, .what = "a user namespace check" };
	int r = launch_proc_run(&spec, NULL, 0, NULL);
	return r < 0 || r >= 128 ? EIO : r;
}

static int try_overlay(const char *dir)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mount("tmpfs", dir, "tmpfs", 0, "mode=0700") < 0)
		return errno;
	static const char *const sub[] = { "l", "u", "w", "m" };
	for (size_t i = 0; i < 4; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, sub[i]);
		if (mkdir(p, 0700) < 0)
			return errno;
	}
	_cleanup_free_ char *opts = xasprintf("lowerdir=%s/l,upperdir=%s/u,workdir=%s/w,userxattr", dir, dir, dir);
	_cleanup_free_ char *m = xasprintf("%s/m", dir);
	if (mount("overlay", m, "overlay", 0, opts) < 0)
		return errno;
	return 0;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xasprintf("%s:/usr/bin", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	_cleanup_free_ char *found = launch_find_program(prog, dirs, NULL);
	return found != NULL;
}

static void check_userns(struct launch_checks *cs)
{
	long max = read_long("/proc/sys/user/max_user_namespaces");
	long clone = read_long("/proc/sys/kernel/unprivileged_userns_clone");
	long aa = read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	int e = in_userns(NULL, NULL);
	if (e == 0) {
		add(cs, "user namespaces", LAUNCH_CHECK_OK, true,
		    xasprintf("unprivileged user namespaces work (max_user_namespaces=%ld)", max), NULL);
		return;
	}
	char *fix;
	if (max == 0)
		fix = xstrdup("sysctl -w user.max_user_namespaces=15000 (as root; persist it in /etc/sysctl.d/)");
	else if (clone == 0)
		fix = xstrdup("sysctl -w kernel.unprivileged_userns_clone=1 (as root; persist it in /etc/sysctl.d/)");
	else if (aa == 1)
		fix =
			xstrdup("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile "
				"that allows userns for launch (as root)");
	else
		fix = xstrdup("ask your admin to enable unprivileged user namespaces");
	add(cs, "user namespaces", LAUNCH_CHECK_FAIL, true,
	    xasprintf("cannot create a user namespace: %s", strerror(e)), fix);
}

static void check_fuse(struct launch_checks *cs)
{
	struct stat st;
	if (stat("/dev/fuse", &st) < 0) {
		add(cs, "/dev/fuse", LAUNCH_CHECK_FAIL, true, xstrdup("/dev/fuse does not exist"),
		    xstrdup("modprobe fuse (as root), or mknod /dev/fuse c 10 229 && chmod 0666 /dev/fuse"));
		return;
	}
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		add(cs, "/dev/fuse", LAUNCH_CHECK_FAIL, true,
		    xasprintf("/dev/fuse is not readable and writable by you (mode %04o, owner uid %u): squashfs "
			      "images cannot be mounted",
			      st.st_mode & 07777, st.st_uid),
		    xstrdup("chmod 0666 /dev/fuse (as root; persist with a udev rule: KERNEL==\"fuse\", "
			    "MODE=\"0666\")"));
		return;
	}
	add(cs, "/dev/fuse", LAUNCH_CHECK_OK, true, xasprintf("accessible (mode %04o)", st.st_mode & 07777), NULL);
}

static void check_squashfuse(struct launch_checks *cs)
{
#ifdef LAUNCH_HAVE_SQUASHFUSE_LL
	add(cs, "squashfuse", LAUNCH_CHECK_OK, true, xasprintf("built in: %s", launch_sqfs_backend()), NULL);
#else
	if (in_path("squashfuse"))
		add(cs, "squashfuse", LAUNCH_CHECK_OK, true, xasprintf("%s", launch_sqfs_backend()), NULL);
	else
		add(cs, "squashfuse", LAUNCH_CHECK_FAIL, true, xstrdup("squashfuse is not installed"),
		    xstrdup("apt-get install squashfuse (or dnf install squashfuse)"));
#endif
}

static void check_overlay(struct launch_checks *cs, const char *rundir)
{
	if (!rundir)
		return;
	_cleanup_free_ char *dir = xasprintf("%s/doctor", rundir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		add(cs, "overlayfs in a user namespace", LAUNCH_CHECK_WARN, false,
		    xasprintf("cannot create %s: %s", dir, strerror(errno)), NULL);
		return;
	}
	int e = in_userns(try_overlay, dir);
	rmdir(dir);
	if (e == 0)
		add(cs, "overlayfs in a user namespace", LAUNCH_CHECK_OK, false,
		    xstrdup("works (writable containers are possible)"), NULL);
	else
		add(cs, "overlayfs in a user namespace", LAUNCH_CHECK_WARN, false,
		    xasprintf("does not work: %s (needs Linux >= 5.11)", strerror(e)),
		    xstrdup("upgrade the kernel to use writable containers"));
}

/* How --root would map ids here (ids.c decides, the same way as run). */
static void check_root_mode(struct launch_checks *cs, const struct launch_config *c)
{
	struct launch_identity id;
	launch_identity_init(&id, true, NULL);
	_cleanup_free_ char *why = NULL;
	launch_identity_choose_mode(&id, c ? c->root_subids : true, c ? c->root_seccomp : true, &why);
	char buf[160];
	launch_idmap_mode_describe(&id, buf, sizeof(buf));
	if (c && !c->allow_root)
		add(cs, "--root mode", LAUNCH_CHECK_INFO, false,
		    xstrdup("--root is turned off by the site (allow_root)"), NULL);
	else if (id.mode == LAUNCH_IDMAP_SUBIDS)
		add(cs, "--root mode", LAUNCH_CHECK_OK, false,
		    xasprintf("%s (apt, dpkg and other package managers "
			      "work)",
			      buf),
		    NULL);
	else if (id.mode == LAUNCH_IDMAP_SECCOMP)
		add(cs, "--root mode", LAUNCH_CHECK_OK, false,
		    xasprintf("%s; %s (package managers work; files keep your ownership)", buf, why ? why : ""),
		    xasprintf("for real distinct users inside: usermod --add-subuids 100000-165535 --add-subgids "
			      "100000-165535 %s; apt-get install uidmap (as root)",
			      id.user));
	else
		add(cs, "--root mode", LAUNCH_CHECK_WARN, false,
		    xasprintf("%s; %s: apt and dpkg will fail to change owners", buf, why ? why : ""),
		    xstrdup("the site turned off both root_subids and root_seccomp"));
	launch_identity_clear(&id);
}

/* The image store, and what `launch import` runs. */
static void check_images(struct launch_checks *cs, const struct launch_config *c)
{
	_cleanup_free_ char *store = NULL;
	struct launch_error *err = NULL;
	if (launch_store_dir(c, &store, &err) < 0) {
		add(cs, "image store", LAUNCH_CHECK_WARN, false, xstrdup(err->msg), NULL);
		launch_error_free(err);
	} else {
		/* the nearest existing directory decides whether it can be made */
		_cleanup_free_ char *d = xstrdup(store);
		while (access(d, F_OK) < 0 && strrchr(d, '/') && strrchr(d, '/') != d)
			*strrchr(d, '/') = '\0';
		if (access(d, W_OK) == 0)
			add(cs, "image store", LAUNCH_CHECK_OK, false,
			    xasprintf("%s%s", store, strcmp(d, store) ? " (created by the first import)" : ""), NULL);
		else
			add(cs, "image store", LAUNCH_CHECK_WARN, false,
			    xasprintf("%s cannot be created or written: %s is not writable", store, d),
			    xstrdup("set XDG_DATA_HOME, or ask your admins to set \"store\" in the site config"));
	}
	size_t sites = launch_strv_len(c ? c->site_stores : NULL);
	for (size_t i = 0; i < sites; i++) {
		_cleanup_free_ char *index = xasprintf("%s/index.json", c->site_stores[i]);
		if (access(index, R_OK) == 0)
			add(cs, "site image store", LAUNCH_CHECK_OK, false, xstrdup(c->site_stores[i]), NULL);
		else
			add(cs, "site image store", LAUNCH_CHECK_WARN, false,
			    xasprintf("%s: %s", index, strerror(errno)),
			    xstrdup("check the site config's \"site_stores\" and the store's permissions"));
	}
	if (in_path("tar2sqfs"))
		add(cs, "tar2sqfs", LAUNCH_CHECK_OK, false, xstrdup("installed (launch import can write images)"),
		    NULL);
	else
		add(cs, "tar2sqfs", LAUNCH_CHECK_WARN, false,
		    xstrdup("not installed: launch import cannot write images"),
		    xstrdup("apt-get install squashfs-tools-ng (or dnf install squashfs-tools-ng)"));
}

static void check_cgroup(struct launch_checks *cs)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		add(cs, "cgroups", LAUNCH_CHECK_INFO, false, xstrdup("cgroup v2 (unified hierarchy)"), NULL);
	else if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
		add(cs, "cgroups", LAUNCH_CHECK_INFO, false,
		    xstrdup("hybrid: cgroup v1 controllers with cgroup v2 at /sys/fs/cgroup/unified"), NULL);
	else
		add(cs, "cgroups", LAUNCH_CHECK_INFO, false, xstrdup("cgroup v1"), NULL);
}

/* The site's hook files: an invalid one stops every container. */
static void check_hooks(struct launch_checks *cs, const struct launch_config *c)
{
	struct launch_hooks hooks;
	struct launch_error *err = NULL;
	if (launch_hooks_load(&hooks, c ? c->hooks_dirs : NULL, &err) < 0) {
		add(cs, "hooks", LAUNCH_CHECK_FAIL, true, xstrdup(err->msg),
		    xstrdup("fix or remove the hook file named above (see the admin guide, OCI hooks)"));
		launch_error_free(err);
		return;
	}
	if (!hooks.n) {
		add(cs, "hooks", LAUNCH_CHECK_INFO, false, xstrdup("none (no --mpi or --gpu injection on this node)"),
		    NULL);
	} else {
		char *names = xstrdup("");
		for (size_t i = 0; i < hooks.n; i++) {
			char *n = xasprintf("%s%s%s", names, i ? ", " : "", hooks.v[i].name);
			free(names);
			names = n;
		}
		add(cs, "hooks", LAUNCH_CHECK_OK, false,
		    xasprintf("%zu (%s); see 'launch hooks IMAGE'", hooks.n, names), NULL);
		free(names);
	}
	launch_hooks_clear(&hooks);
}

void launch_doctor_run(const struct launch_config *c, const char *config_error, struct launch_checks *out)
{
	if (config_error)
		add(out, "site config", LAUNCH_CHECK_FAIL, true, xstrdup(config_error),
		    xstrdup("fix the file named above (see the admin guide)"));
	else
		add(out, "site config", LAUNCH_CHECK_OK, true,
		    c && c->path ? xasprintf("%s", c->path)
				 : xasprintf("none (%s does not exist): defaults apply", launch_config_default_path()),
		    NULL);
	check_userns(out);
	check_fuse(out);
	check_squashfuse(out);
	_cleanup_free_ char *rundir = NULL, *note = NULL;
	struct launch_error *err = NULL;
	if (launch_runtime_dir(c, &rundir, &note, &err) < 0) {
		add(out, "runtime directory", LAUNCH_CHECK_FAIL, true, xstrdup(err->msg), NULL);
		launch_error_free(err);
	} else if (note) {
		add(out, "runtime directory", LAUNCH_CHECK_WARN, false,
		    xasprintf("%s (%s: using the fallback)", rundir, note),
		    xstrdup("log in through PAM/systemd-logind to get XDG_RUNTIME_DIR, or set runtime_dir in the site "
			    "config"));
	} else {
		add(out, "runtime directory", LAUNCH_CHECK_OK, true, xstrdup(rundir), NULL);
	}
	check_overlay(out, rundir);
	check_root_mode(out, c);
	check_images(out, c);
	check_hooks(out, c);
	check_cgroup(out);
}

bool launch_doctor_ok(const struct launch_checks *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i].required && cs->v[i].status == LAUNCH_CHECK_FAIL)
			return false;
	return true;
}

void launch_checks_clear(struct launch_checks *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].detail);
		free(cs->v[i].fix);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}

const char *launch_check_status_name(enum launch_check_status s)
{
	static const char *const names[] = { "OK", "INFO", "WARN", "FAIL" };
	return names[s];
}
