/* SPDX-License-Identifier: Apache-2.0 */
/* The fake-root seccomp filter (see seccomp.h), built with libseccomp,
 * which resolves the call numbers of every architecture the process may
 * execute (x86-64 and its 32-bit ABIs here), so that a 32-bit program does
 * not get around it.
 *
 * What is faked, and why each is safe and needed:
 *   chown, fchown, lchown, fchownat (and the 32-bit chown32 forms): dpkg and
 *     tar restore owners such as root:_apt; the ids cannot be mapped, so the
 *     file keeps the caller's owner, as it would anyway;
 *   setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid,
 *     setfsgid, setgroups (and *32): apt drops to _apt before downloading,
 *     su/runuser switch users; with one id in the namespace there is nobody
 *     to become, so the process stays the caller;
 *   capset: programs that drop capabilities after switching ids;
 *   mknod, mknodat of character and block devices: packages that ship device
 *     nodes; the container's file systems are nodev anyway. Other file types
 *     (fifos, sockets, regular files) are created for real.
 * Every other call, and every call of a process that does not use these,
 * is unchanged. The filter grants nothing: it turns errors into successes
 * for operations that would have no effect; the kernel still checks every
 * access with the caller's real ids. */
#define _GNU_SOURCE
#include "fakeroot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "env.h"
#include "util.h"

const char *const launch_fakeroot_calls[] = {
	"chown",       "fchown",     "lchown",	   "fchownat",	  "chown32",	"fchown32",   "lchown32",
	"setuid",      "setgid",     "setreuid",   "setregid",	  "setresuid",	"setresgid",  "setfsuid",
	"setfsgid",    "setgroups",  "setuid32",   "setgid32",	  "setreuid32", "setregid32", "setresuid32",
	"setresgid32", "setfsuid32", "setfsgid32", "setgroups32", "capset",	NULL,
};

static int add_device_rule(scmp_filter_ctx ctx, const char *name, unsigned mode_arg)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), nr, 1,
				 SCMP_CMP(mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), nr, 1,
				     SCMP_CMP(mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK));
	return r;
}

int launch_fakeroot_filter(struct sock_fprog *out, struct launch_error **err)
{
	*out = (struct sock_fprog){ 0 };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return launch_error_msg(err, "cannot set up the seccomp filter (libseccomp)");
	int r = 0;
#if defined(__x86_64__)
	/* 32-bit programs reach the same calls under other numbers */
	static const uint32_t extra[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	for (size_t i = 0; i < ARRAY_SIZE(extra) && r == 0; i++) {
		r = seccomp_arch_add(ctx, extra[i]);
		if (r == -EEXIST)
			r = 0;
	}
#endif
	for (size_t i = 0; r == 0 && launch_fakeroot_calls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(launch_fakeroot_calls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), nr, 0);
		if (r == -EDOM || r == -EINVAL)
			r = 0; /* absent from one of the ABIs (e.g. chown32 on x86-64) */
	}
	if (r == 0)
		r = add_device_rule(ctx, "mknod", 1);
	if (r == 0)
		r = add_device_rule(ctx, "mknodat", 2);
	/* the BPF program, through a memory file: libseccomp writes it to a
	 * descriptor, and it is loaded later in the command's process */
	int fd = r == 0 ? memfd_create("launch-seccomp", MFD_CLOEXEC) : -1;
	if (r == 0 && fd < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	struct stat st;
	if (r == 0 && (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter)))
		r = -EINVAL;
	if (r == 0) {
		struct sock_filter *f = xmalloc((size_t)st.st_size);
		if (pread(fd, f, (size_t)st.st_size, 0) != (ssize_t)st.st_size) {
			free(f);
			r = -EIO;
		} else {
			*out = (struct sock_fprog){ .len = (unsigned short)(st.st_size / (off_t)sizeof(*f)),
						    .filter = f };
		}
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return launch_error_set(err, -r, "cannot build the seccomp filter of --root");
	return 0;
}

int launch_fakeroot_prepare(int devfd, struct launch_error **err)
{
	static const char text[] =
		"// written by launch: in --root without subordinate ids, there is no _apt\n"
		"// user to switch to (see launch's security.md)\n"
		"APT::Sandbox::User \"root\";\n";
	if (mkdirat(devfd, ".launch", 0755) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create /dev/.launch in the container");
	int fd = openat(devfd, ".launch/apt.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot create %s", LAUNCH_FAKEROOT_APT_CONF);
	int r = launch_write_all(fd, text, sizeof(text) - 1);
	int e = errno;
	close(fd);
	if (r < 0)
		return launch_error_set(err, e, "cannot write %s", LAUNCH_FAKEROOT_APT_CONF);
	return 0;
}

void launch_fakeroot_env(struct launch_env *env)
{
	if (!launch_env_get(env, "APT_CONFIG") && access(LAUNCH_FAKEROOT_APT_CONF, R_OK) == 0)
		launch_env_set(env, "APT_CONFIG", LAUNCH_FAKEROOT_APT_CONF);
}
