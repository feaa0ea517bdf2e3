/* SPDX-License-Identifier: Apache-2.0 */
/* Root emulation for --root when only the caller's id is mapped: a seccomp
 * filter under which the calls that change file owners or process ids, and
 * mknod of device nodes, succeed without doing anything. Package managers
 * (dpkg, apt, rpm) then run unmodified: the ids they set cannot exist in the
 * namespace, and nothing they do with them could matter outside it. */
#ifndef LAUNCH_FAKEROOT_H
#define LAUNCH_FAKEROOT_H

#include "error.h"

/* The filter as a BPF program (malloc'd: free OUT->filter), for
 * launch_identity_drop to load in the command's process (it is inherited
 * across fork and execve; loading needs no_new_privs). */
struct sock_fprog;
int launch_fakeroot_filter(struct sock_fprog *out, struct launch_error **err);

/* apt checks that its switch to the _apt user took effect (getuid() after
 * setuid()), which no stateless filter can fake: in this mode the container
 * gets LAUNCH_FAKEROOT_APT_CONF, a file in its private /dev saying
 * APT::Sandbox::User "root", and APT_CONFIG names it (unless already set).
 * Nothing is written into the image or its writable layer. */
#define LAUNCH_FAKEROOT_APT_CONF "/dev/.launch/apt.conf"
/* In the container's tree (DEVFD: its /dev), when the image has apt. */
int launch_fakeroot_prepare(int devfd, struct launch_error **err);
/* Add APT_CONFIG to ENV when the file exists (after pivot_root). */
struct launch_env;
void launch_fakeroot_env(struct launch_env *env);

/* The calls the filter fakes, NULL-terminated (docs and tests). */
extern const char *const launch_fakeroot_calls[];

#endif
