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
#include <sys/prctl.h>
#include <unistd.h>

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

uid_t launch_identity_inner_uid(const struct launch_identity *id) { return id->root ? 0 : id->uid; }
gid_t launch_identity_inner_gid(const struct launch_identity *id) { return id->root ? 0 : id->gid; }

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

int launch_privs_verify(struct launch_error **err)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return launch_error_set(err, errno, "cannot read the process ids");
	if (r != e || r != s || rg != eg || rg != sg)
		return launch_error_msg(err, "launch must not be installed setuid or setgid (run: chmod u-s,g-s on "
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
		return launch_error_msg(err, "launch must not run with capabilities (remove file capabilities with: "
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

int launch_caps_drop(bool root, struct launch_error **err)
{
	int last = (int)cap_max_bits() - 1;
	for (int c = 0; c <= last; c++) {
		if (kept(c, root))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return launch_error_set(err, errno, "cannot drop capability %d from the bounding set", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return launch_error_set(err, errno, "cannot clear ambient capabilities");
	cap_t caps = cap_init(); /* all clear */
	if (!caps)
		return launch_error_set(err, errno, "cap_init");
	if (root) {
		cap_value_t v[8];
		for (size_t i = 0; i < launch_root_caps_n; i++)
			v[i] = launch_root_caps[i];
		cap_set_flag(caps, CAP_PERMITTED, (int)launch_root_caps_n, v, CAP_SET);
		cap_set_flag(caps, CAP_EFFECTIVE, (int)launch_root_caps_n, v, CAP_SET);
	}
	int r = cap_set_proc(caps);
	int e = errno;
	cap_free(caps);
	if (r < 0)
		return launch_error_set(err, e, "cannot set the container's capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return launch_error_set(err, errno, "cannot set no_new_privs");
	return 0;
}
