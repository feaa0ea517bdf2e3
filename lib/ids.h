/* SPDX-License-Identifier: Apache-2.0 */
/* Identity inside the container: the user namespace id maps, the checks that
 * launch itself runs without privileges, and capability handling before exec. */
#ifndef LAUNCH_IDS_H
#define LAUNCH_IDS_H

#include <stdbool.h>
#include <sys/types.h>

#include <linux/capability.h>
#include <linux/filter.h>

#include "error.h"

/* How --root maps ids (launch_identity_choose_mode). */
enum launch_idmap_mode {
	LAUNCH_IDMAP_OWN = 0, /* only the caller's ids (0 with --root) */
	LAUNCH_IDMAP_SUBIDS,  /* --root: 0 -> caller, 1..N -> the /etc/subuid, /etc/subgid ranges */
	LAUNCH_IDMAP_SECCOMP, /* --root with only 0 mapped: chown and set*id faked by seccomp */
};

struct launch_identity {
	uid_t uid; /* the caller on the host */
	gid_t gid;
	bool root; /* --root: the caller is uid/gid 0 inside */
	enum launch_idmap_mode mode;
	unsigned long subuid, subuid_n; /* SUBIDS: the ranges mapped to 1..N */
	unsigned long subgid, subgid_n;
	char *user;  /* the caller's name */
	char *home;  /* $HOME, or the passwd entry's home */
	char *group; /* name of the caller's primary group */
};

/* Fill from the calling process (getuid, passwd and group databases). */
int launch_identity_init(struct launch_identity *id, bool root, struct launch_error **err);
void launch_identity_clear(struct launch_identity *id);
/* Ids the caller has inside the container. */
uid_t launch_identity_inner_uid(const struct launch_identity *id);
gid_t launch_identity_inner_gid(const struct launch_identity *id);

/* Write the id maps of process PID (0: self), which must be in a fresh user
 * namespace: the caller's uid and gid map to themselves, or to 0 in root
 * mode. setgroups is denied first, as the kernel requires for an
 * unprivileged gid map. */
int launch_idmap_write(pid_t pid, const struct launch_identity *id, struct launch_error **err);

/* The caller's range in FILE (/etc/subuid or /etc/subgid: "NAME:START:COUNT"
 * or "ID:START:COUNT" lines); 0 when found. */
int launch_subid_range(const char *file, const char *user, unsigned long id, unsigned long *start,
		       unsigned long *count);
/* Choose ID's mode for --root: subordinate ids when ALLOW_SUBIDS, the user
 * has both ranges and newuidmap/newgidmap exist; else the seccomp fallback
 * when ALLOW_SECCOMP; else only root mapped. *WHY (may be NULL) says why a
 * mode was not available. No effect without --root. */
void launch_identity_choose_mode(struct launch_identity *id, bool allow_subids, bool allow_seccomp, char **why);
const char *launch_idmap_mode_describe(const struct launch_identity *id, char *buf, size_t size);
/* Write the maps of PID (in a fresh user namespace) with the setuid helpers
 * newuidmap and newgidmap, from outside that namespace (SUBIDS mode). */
int launch_idmap_write_subids(pid_t pid, const struct launch_identity *id, struct launch_error **err);

/* Refuse to run setuid, setgid or with file capabilities. */
int launch_privs_verify(struct launch_error **err);

/* The capabilities kept in --root mode. */
extern const int launch_root_caps[];
extern const size_t launch_root_caps_n;
/* The privileges of a container process, computed beforehand (this
 * allocates) so that launch_identity_drop can apply them where only system
 * calls are safe: in the vfork child that execs the command, which leaves
 * the process above it (the supervisor) its capabilities in the user
 * namespace, to end processes of any id of the container. */
struct launch_drop {
	bool root;
	int last;			       /* the highest capability number */
	struct __user_cap_data_struct caps[2]; /* permitted and effective */
	struct sock_fprog filter;	       /* --root's seccomp filter, or len 0 */
};
int launch_identity_prepare(const struct launch_identity *id, struct launch_drop *d, struct launch_error **err);
/* Apply D to the calling task: narrow the bounding set and the sets to
 * what the container gets (none, or launch_root_caps in root mode), clear
 * ambient and inheritable capabilities, set no_new_privs, then load the
 * seccomp filter of the SECCOMP mode. Needs CAP_SETPCAP in the current
 * user namespace. System calls only (async-signal-safe): 0, or the errno
 * of the step that failed. */
int launch_identity_drop(const struct launch_drop *d);
void launch_drop_clear(struct launch_drop *d);
/* Both, in the calling process: the last step before exec of a container
 * process that execs itself (launch exec). */
int launch_identity_enter(const struct launch_identity *id, struct launch_error **err);

#endif
