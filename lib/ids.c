/* SPDX-License-Identifier: Apache-2.0 */
/* Id maps, privilege checks and capabilities (see ids.h). */
#define _GNU_SOURCE
#include "ids.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakeroot.h"
#include "util.h"

int launch_identity_init(struct launch_identity *id, bool root, struct launch_error **err)
{
	memset(id, 0, sizeof(*id));
	id->uid = getuid();
	id->gid = getgid();
	id->root = root;
	struct passwd *pw = getpwuid(id->uid);
	const char *user = pw ? pw->pw_name : getenv("USER");
	id->user = user ? xstrdup(user) : xasprintf("user%u", id->uid);
	const char *home = getenv("HOME");
	if (!home || home[0] != '/')
		home = pw ? pw->pw_dir : NULL;
	id->home = home && home[0] == '/' ? launch_path_normalize(home) : NULL;
	struct group *gr = getgrgid(id->gid);
	id->group = gr ? xstrdup(gr->gr_name) : xasprintf("group%u", id->gid);
	return 0;
}

void launch_identity_clear(struct launch_identity *id)
{
	free(id->user);
	free(id->home);
	free(id->group);
	memset(id, 0, sizeof(*id));
}

uid_t launch_identity_inner_uid(const struct launch_identity *id)
{
	return id->root ? 0 : id->uid;
}
gid_t launch_identity_inner_gid(const struct launch_identity *id)
{
	return id->root ? 0 : id->gid;
}

static int write_proc(pid_t pid, const char *file, const char *content, struct launch_error **err)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	if (launch_write_file(path, content) < 0)
		return launch_error_set(err, errno, "cannot write %s", path);
	return 0;
}

int launch_idmap_write(pid_t pid, const struct launch_identity *id, struct launch_error **err)
{
	char map[64];
	if (write_proc(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", launch_identity_inner_uid(id), id->uid);
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", launch_identity_inner_gid(id), id->gid);
	return write_proc(pid, "gid_map", map, err);
}

int launch_subid_range(const char *file, const char *user, unsigned long id, unsigned long *start, unsigned long *count)
{
	_cleanup_free_ char *text = NULL;
	if (launch_read_file_at(AT_FDCWD, file, 16u << 20, &text, NULL) < 0)
		return -1;
	char idbuf[32];
	snprintf(idbuf, sizeof(idbuf), "%lu", id);
	char *next = text;
	for (char *line; (line = strsep(&next, "\n"));) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = '\0';
		if (strcmp(line, user) != 0 && strcmp(line, idbuf) != 0)
			continue;
		char *e1, *e2;
		unsigned long s0 = strtoul(c1 + 1, &e1, 10), n = strtoul(c2 + 1, &e2, 10);
		if (e1 != c2 || e2 == c2 + 1 || n == 0 || s0 == 0)
			continue;
		*start = s0;
		*count = n > 65536 ? 65536 : n; /* the usual range; more ids are of no use to a container */
		return 0;
	}
	return -1;
}

/* Only a setuid root program can write the maps for us. */
static bool setuid_root(const char *file, const struct stat *st)
{
	(void)file;
	return S_ISREG(st->st_mode) && st->st_uid == 0 && (st->st_mode & S_ISUID);
}

static char *find_helper(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = xasprintf("%s:/usr/bin:/bin:/usr/sbin:/sbin", path && *path ? path : "");
	return launch_find_program(name, dirs, setuid_root);
}

void launch_identity_choose_mode(struct launch_identity *id, bool allow_subids, bool allow_seccomp, char **why)
{
	id->mode = LAUNCH_IDMAP_OWN;
	if (!id->root)
		return;
	_cleanup_free_ char *reason = NULL;
	if (!allow_subids) {
		reason = xstrdup("subordinate ids are turned off by the site (root_subids)");
	} else if (launch_subid_range("/etc/subuid", id->user, id->uid, &id->subuid, &id->subuid_n) < 0 ||
		   launch_subid_range("/etc/subgid", id->user, id->uid, &id->subgid, &id->subgid_n) < 0) {
		reason = xasprintf("%s has no range in /etc/subuid and /etc/subgid", id->user);
	} else {
		_cleanup_free_ char *u = find_helper("newuidmap"), *g = find_helper("newgidmap");
		if (u && g) {
			id->mode = LAUNCH_IDMAP_SUBIDS;
			return;
		}
		reason = xstrdup("newuidmap or newgidmap is not installed setuid root (package uidmap)");
	}
	id->subuid_n = id->subgid_n = 0;
	if (allow_seccomp)
		id->mode = LAUNCH_IDMAP_SECCOMP;
	if (why)
		*why = steal_pointer(&reason);
}

const char *launch_idmap_mode_describe(const struct launch_identity *id, char *buf, size_t size)
{
	switch (id->mode) {
	case LAUNCH_IDMAP_SUBIDS:
		snprintf(buf, size, "subordinate ids: 0 is you, 1-%lu are %lu-%lu", id->subuid_n, id->subuid,
			 id->subuid + id->subuid_n - 1);
		break;
	case LAUNCH_IDMAP_SECCOMP:
		snprintf(buf, size, "only you mapped (as 0): chown and set*id calls are faked by seccomp");
		break;
	default:
		snprintf(buf, size, id->root ? "only you mapped, as 0" : "only you mapped, as yourself");
	}
	return buf;
}

int launch_idmap_write_subids(pid_t pid, const struct launch_identity *id, struct launch_error **err)
{
	static const char *const names[] = { "newuidmap", "newgidmap" };
	for (int i = 0; i < 2; i++) {
		_cleanup_free_ char *bin = find_helper(names[i]);
		if (!bin)
			return launch_error_msg(err, "%s is not installed setuid root (apt-get install uidmap)",
						names[i]);
		char spid[32], own[32], start[32], count[32];
		snprintf(spid, sizeof(spid), "%d", pid);
		snprintf(own, sizeof(own), "%u", i == 0 ? id->uid : id->gid);
		snprintf(start, sizeof(start), "%lu", i == 0 ? id->subuid : id->subgid);
		snprintf(count, sizeof(count), "%lu", i == 0 ? id->subuid_n : id->subgid_n);
		char *argv[] = { bin, spid, "0", own, "1", "1", start, count, NULL };
		_cleanup_free_ char *out = NULL;
		int r = launch_run_capture(argv, true, 512, &out);
		if (r < 0)
			return launch_error_set(err, errno, "cannot run %s", bin);
		if (r != 0)
			return launch_error_msg(err, "%s %s 0 %s 1 1 %s %s failed (status %d)%s%s", names[i], spid, own,
						start, count, r, *out ? ": " : "", out);
	}
	return 0;
}

int launch_privs_verify(struct launch_error **err)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return launch_error_set(err, errno, "cannot read the process ids");
	if (r != e || r != s || rg != eg || rg != sg)
		return launch_error_msg(err,
					"launch must not be installed setuid or setgid (run: chmod u-s,g-s on "
					"the launch binary)");
	if (r == 0)
		return 0; /* root may hold capabilities; it needs none of ours */
	cap_t caps = cap_get_proc();
	if (!caps)
		return launch_error_set(err, errno, "cannot read the process capabilities");
	cap_t none = cap_init();
	bool has = cap_compare(caps, none) != 0;
	cap_free(caps);
	cap_free(none);
	if (has)
		return launch_error_msg(err,
					"launch must not run with capabilities (remove file capabilities with: "
					"setcap -r on the launch binary)");
	return 0;
}

const int launch_root_caps[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_SETUID, CAP_SETGID };
const size_t launch_root_caps_n = ARRAY_SIZE(launch_root_caps);

static bool kept(int cap, bool root)
{
	if (!root)
		return false;
	for (size_t i = 0; i < launch_root_caps_n; i++)
		if (launch_root_caps[i] == cap)
			return true;
	return false;
}

int launch_identity_prepare(const struct launch_identity *id, struct launch_drop *d, struct launch_error **err)
{
	*d = (struct launch_drop){ .root = id->root, .last = (int)cap_max_bits() - 1 };
	for (size_t i = 0; id->root && i < launch_root_caps_n; i++) {
		unsigned c = (unsigned)launch_root_caps[i];
		d->caps[c / 32].permitted |= 1u << (c % 32);
		d->caps[c / 32].effective |= 1u << (c % 32);
	}
	if (id->root && id->mode == LAUNCH_IDMAP_SECCOMP && launch_fakeroot_filter(&d->filter, err) < 0)
		return -1;
	return 0;
}

int launch_identity_drop(const struct launch_drop *d)
{
	for (int c = 0; c <= d->last; c++)
		if (!kept(c, d->root) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return errno;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	if (syscall(SYS_capset, &h, d->caps) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	if (d->filter.len && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &d->filter, 0, 0) < 0)
		return errno;
	return 0;
}

void launch_drop_clear(struct launch_drop *d)
{
	free(d->filter.filter);
	d->filter = (struct sock_fprog){ 0 };
}

int launch_identity_enter(const struct launch_identity *id, struct launch_error **err)
{
	struct launch_drop d;
	if (launch_identity_prepare(id, &d, err) < 0)
		return -1;
	int e = launch_identity_drop(&d);
	launch_drop_clear(&d);
	if (e)
		return launch_error_set(err, e, "cannot drop the container's privileges");
	return 0;
}
