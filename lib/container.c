/* SPDX-License-Identifier: Apache-2.0 */
/* The process model of `launch run`, in two layouts.
 *
 * One process (run_alone), for a run without hooks whose caller exits after:
 *
 *   launch (supervisor)          unshare(user, mount); id maps; mount the
 *     |                          image on a private staging tmpfs; start the
 *     |                          guard; serve FUSE from threads; build the
 *     |                          tree; pivot_root; drop privileges; child
 *     |                          subreaper; forward signals; reap
 *     `-- the command
 *   launch-guard                 kills what is left if launch is killed
 *
 * Supervisor and container init (run_fork, run_supervise), for hooks, which
 * run in the node's namespace before and after, and for callers that go on
 * in the node's file system after the run (instances, launch oci):
 *
 *   launch (supervisor)          the same namespaces and image; serve FUSE
 *     |                          from threads; child subreaper; forward
 *     |                          signals; reap every descendant
 *     `-- container init         unshare(mount) again, so that pivot_root
 *           (then the command)   leaves the supervisor's view alone; build
 *                                the tree; pivot_root; drop privileges; exec
 *
 * The supervisor outlives every process of the container: it is their
 * subreaper, so orphans come back to it, and it waits for all of them before
 * it ends. When the main process ends, the others get SIGTERM and,
 * LAUNCH_KILL_GRACE_S later, SIGKILL. All mounts live in namespaces private
 * to this run: when the last process exits they disappear with them,
 * whatever the way it ends (Ctrl-C, kill -9: then the init, or the guard,
 * kills the container's processes). */
#define _GNU_SOURCE
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "fakeroot.h"
#include "hooks.h"
#include "instance.h"
#include "jsonpos.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "rootfs.h"
#include "server.h"
#include "sqfs.h"
#include "store.h"
#include "supervise.h"
#include "trust.h"
#include "upper.h"
#include "util.h"

/* The message a failing container init sends before _exit. */
struct child_report {
	int exit_code;
	char msg[1000];
};

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT };

static void __attribute__((noreturn)) child_fail(int fd, int code, struct launch_error *e)
{
	struct child_report r = { .exit_code = code };
	snprintf(r.msg, sizeof(r.msg), "%s", e ? e->msg : "unknown error");
	launch_write_all(fd, &r, sizeof(r));
	_exit(code);
}

static int unshare_error(int e, struct launch_error **err)
{
	if (e == EPERM || e == ENOSPC || e == EINVAL)
		return launch_error_set(err, e,
					"cannot create a user namespace (unprivileged user namespaces "
					"may be disabled on this node; see 'launch doctor')");
	return launch_error_set(err, e, "cannot create the container namespaces");
}

/* Subordinate ids: the maps must be written by newuidmap/newgidmap from
 * outside the new namespace (a setuid program started inside it would not
 * gain root), so a helper forked before unshare writes them on a signal and
 * reports back. */
struct idmap_helper {
	const struct launch_identity *id;
	pid_t target;
	int go[2]; /* a byte once the namespace exists */
};

static int idmap_helper(void *arg, int report)
{
	const struct idmap_helper *h = arg;
	close(h->go[1]);
	char c;
	if (read(h->go[0], &c, 1) != 1)
		return 1; /* unshare failed */
	struct launch_error *e = NULL;
	if (launch_idmap_write_subids(h->target, h->id, &e) < 0) {
		launch_write_all(report, e->msg, strlen(e->msg));
		return 1;
	}
	return 0;
}

static int unshare_with_subids(const struct launch_identity *id, struct launch_error **err)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return launch_error_set(err, errno, "pipe");
	struct idmap_helper h = { id, getpid(), { go[0], go[1] } };
	struct launch_proc_spec spec = {
		.child = idmap_helper, .arg = &h, .keep_signal_mask = true, .what = "the id map helper"
	};
	struct launch_proc helper;
	if (launch_proc_spawn(&spec, &helper, err) < 0) {
		close(go[0]), close(go[1]);
		return -1;
	}
	close(go[0]);
	int ret = 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		ret = unshare_error(errno, err);
	else
		launch_write_all(go[1], "g", 1);
	close(go[1]);
	struct launch_error *e = NULL;
	int st = launch_proc_wait(&helper, NULL, 0, &e);
	launch_proc_close(&helper);
	if (ret == 0 && st != 0)
		ret = launch_error_msg(err,
				       "cannot map your subordinate ids into the user namespace: %s (see 'launch "
				       "doctor')",
				       e ? e->msg : "the id map helper failed");
	launch_error_free(e);
	return ret;
}

static int unshare_user_ns(const struct launch_identity *id, struct launch_error **err)
{
	if (id->mode == LAUNCH_IDMAP_SUBIDS) {
		if (unshare_with_subids(id, err) < 0)
			return -1;
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return unshare_error(errno, err);
		if (launch_idmap_write(0, id, err) < 0)
			return launch_error_wrap(err, "cannot map your ids into the user namespace");
	}
	/* No MS_PRIVATE walk over the host's mounts is needed: a mount namespace
	 * owned by a less privileged user namespace gets the shared mounts it
	 * copies reduced to slaves (mount_namespaces(7)), so nothing mounted
	 * here can propagate back to the host, and the mounts made here are
	 * private, as pivot_root requires. */
	return 0;
}

int launch_container_enter_userns(const struct launch_identity *id, struct launch_error **err)
{
	return unshare_user_ns(id, err);
}

static int mount_lower(const struct launch_spec *spec, const char *dir, struct launch_server_conn *shared,
		       struct launch_sqfs **sq, struct launch_error **err)
{
	if (shared->tree >= 0)
		return launch_server_mount(shared, dir, err); /* the image server's */
	if (spec->image.kind == LAUNCH_IMAGE_SQUASHFS) {
		int threads = spec->config ? spec->config->fuse_threads : 8;
		if (launch_sqfs_open(spec->image.path, spec->image.offset, threads, sq, err) < 0)
			return -1;
		launch_sqfs_set_all_root(*sq, spec->id.root && spec->id.mode == LAUNCH_IDMAP_SECCOMP);
		if (launch_sqfs_mount(*sq, dir, err) < 0)
			return -1;
		return 0;
	}
	if (mount(spec->image.path, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
		return launch_error_set(err, errno, "cannot mount image directory %s", spec->image.path);
	/* read-only like a squashfs image */
	if (launch_rootfs_readonly(dir, err) < 0)
		return launch_error_wrap(err, "image directory %s", spec->image.path);
	return 0;
}

/* The persistent upper layer of --overlay DIR: DIR/upper and DIR/work,
 * locked for the whole run (two overlay mounts sharing an upper directory
 * corrupt it). The lock fd is inherited by nothing (O_CLOEXEC) and dies with
 * the supervisor. */
static int overlay_dirs(const char *dir, const struct launch_identity *id, char **upper, char **work,
			struct launch_error **err)
{
	if (strpbrk(dir, ",:\\"))
		return launch_error_msg(err,
					"overlay directory %s: the path may not contain `,`, `:` or `\\` "
					"(overlayfs option syntax)",
					dir);
	/* created and checked before the user namespace (launch_container_run_with) */
	_cleanup_free_ char *lock = xasprintf("%s/lock", dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot use overlay directory %s (--overlay)", dir);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return launch_error_msg(err,
						"overlay directory %s is in use by another container (an upper layer "
						"serves one container at a time)",
						dir);
		return launch_error_set(err, e, "cannot lock %s", lock);
	}
	*upper = xasprintf("%s/upper", dir);
	*work = xasprintf("%s/work", dir);
	if (launch_upper_info_write(dir, id, err) < 0)
		return -1;
	if ((mkdir(*upper, 0755) < 0 && errno != EEXIST) || (mkdir(*work, 0700) < 0 && errno != EEXIST))
		return launch_error_set(err, errno, "cannot create the layer directories in %s (--overlay)", dir);
	return 0; /* fd stays open: the lock lasts as long as this process */
}

/* The image on ROOT, read-only; or, for a writable container, on
 * STAGE/lower, with the persistent upper layer checked and locked here. The
 * overlay itself is mounted by the container init (mount_overlay): its first
 * lookups in the lower layer need the FUSE server, which starts only after
 * the fork. */
static int mount_image(const struct launch_spec *spec, const char *stage, const char *root,
		       struct launch_server_conn *shared, struct launch_sqfs **sq, struct launch_error **err)
{
	if (!spec->writable && !spec->overlay)
		return mount_lower(spec, root, shared, sq, err);
	_cleanup_free_ char *lower = xasprintf("%s/lower", stage), *upper = NULL, *work = NULL;
	if (mkdir(lower, 0755) < 0)
		return launch_error_set(err, errno, "cannot create %s", lower);
	if (spec->overlay && overlay_dirs(spec->overlay, &spec->id, &upper, &work, err) < 0)
		return -1;
	if (!spec->overlay) {
		/* here rather than in the init: `launch commit` of an instance
		 * finds the layer at STAGE/rw in the supervisor's namespaces */
		_cleanup_free_ char *rw = xasprintf("%s/rw", stage);
		_cleanup_free_ char *opts = spec->writable_size ? xasprintf("mode=0755,size=%s", spec->writable_size)
								: xstrdup("mode=0755");
		if (mkdir(rw, 0755) < 0)
			return launch_error_set(err, errno, "cannot create %s", rw);
		if (mount("tmpfs", rw, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return launch_error_set(err, errno, "cannot mount the tmpfs of the writable layer%s%s",
						spec->writable_size ? " (check --writable-size): size=" : "",
						spec->writable_size ? spec->writable_size : "");
		upper = xasprintf("%s/upper", rw);
		work = xasprintf("%s/work", rw);
		if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
			return launch_error_set(err, errno, "cannot create the writable layer in %s", rw);
	}
	return mount_lower(spec, lower, shared, sq, err);
}

/* In the container init: the kernel overlayfs over STAGE/lower on ROOT,
 * with a tmpfs upper layer (--writable) or DIR/upper (--overlay DIR).
 * overlayfs needs "userxattr" in a user namespace (Linux >= 5.11) and keeps
 * its whiteouts and opaque markers as user.overlay.* xattrs there. */
static int mount_overlay(const struct launch_spec *spec, const char *stage, const char *root, struct launch_error **err)
{
	_cleanup_free_ char *lower = xasprintf("%s/lower", stage), *upper = NULL, *work = NULL;
	if (spec->overlay) {
		upper = xasprintf("%s/upper", spec->overlay);
		work = xasprintf("%s/work", spec->overlay);
	} else {
		upper = xasprintf("%s/rw/upper", stage);
		work = xasprintf("%s/rw/work", stage);
		/* the upper root's mode shows as the container's "/" */
		struct stat st;
		if (stat(lower, &st) == 0)
			chmod(upper, st.st_mode & 07777);
	}
	_cleanup_free_ char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower, upper, work);
	if (mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
		int e = errno;
		if (spec->overlay && (e == EINVAL || e == EOPNOTSUPP))
			return launch_error_set(err, e,
						"cannot mount the overlay: the file system of %s cannot hold an "
						"upper layer (it needs user extended attributes: use a local "
						"disk such as ext4 or xfs, not NFS or Lustre)",
						spec->overlay);
		return launch_error_set(err, e, "cannot mount the writable overlay (see 'launch doctor')");
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Signal every process below us (we are their subreaper, so that is every
 * process of the container still alive). Returns how many were signalled. */
static int signal_descendants(pid_t self, int sig, pid_t except)
{
	return launch_proc_signal(self, NULL, except, sig);
}

/* Forward signals and reap until no descendant is left; relay CONSOLE's
 * terminal meanwhile (NULL: none). */
static int supervise(pid_t child, pid_t helper, int sfd, pid_t parent, int *status, struct launch_console *console,
		     int server)
{
	bool main_done = false, termed = false;
	int64_t kill_at = -1;
	for (;;) {
		int wstatus;
		pid_t p;
		while ((p = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			if (p == child) {
				main_done = true;
				*status = launch_proc_status(wstatus);
			}
		}
		if (p < 0 && errno == ECHILD)
			return 0;
		/* only when something is left: the walk over /proc costs */
		if (main_done && !termed) {
			termed = true;
			if (signal_descendants(getpid(), SIGTERM, helper) > 0) {
				launch_debug("main process exited: sent SIGTERM to the processes left");
				kill_at = now_ms() + LAUNCH_KILL_GRACE_S * 1000;
			}
		}
		/* an external squashfuse is our child too, but not the container's */
		if (helper > 0 && main_done && signal_descendants(getpid(), 0, helper) == 0)
			return 0;
		int timeout = -1;
		if (kill_at >= 0) {
			int64_t left = kill_at - now_ms();
			if (left <= 0) {
				signal_descendants(getpid(), SIGKILL, helper);
				kill_at = -1;
			} else {
				timeout = (int)left;
			}
		}
		struct pollfd pfd[5] = { { .fd = sfd, .events = POLLIN } };
		int nc = console ? launch_console_pollfds(console, pfd + 1) : 0;
		pfd[1 + nc] = (struct pollfd){ .fd = server, .events = POLLIN }; /* ignored when -1 */
		int r = poll(pfd, (nfds_t)(2 + nc), timeout);
		if (r <= 0)
			continue;
		if (nc)
			launch_console_relay(console, pfd + 1, nc);
		if (pfd[1 + nc].revents) {
			/* The image server is gone (killed): every file of the
			 * image now fails to read. Better an end that says why. */
			launch_log(LAUNCH_LOG_ERROR, "%s", LAUNCH_SERVER_GONE_MSG);
			signal_descendants(getpid(), SIGKILL, helper);
			server = -1;
		}
		if (!pfd[0].revents)
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (parent > 0 && (int)si.ssi_signo == SIGRTMIN && getppid() != parent) {
			/* the supervisor died: nothing may outlive it */
			launch_proc_kill_all(getpid(), NULL, 0, SIGKILL, -1);
			_exit(128 + SIGKILL);
		}
		/* The container's terminal gets the user's window size; a hangup
		 * of the user's terminal hangs it up. */
		if (console && si.ssi_signo == SIGWINCH) {
			launch_console_resize(console);
			continue;
		}
		if (console && si.ssi_signo == SIGHUP && si.ssi_code == SI_KERNEL) {
			launch_console_hangup(console);
			continue;
		}
		/* Signals the terminal sent to the whole foreground process group
		 * already reached the container: forward only those sent to us. */
		if (si.ssi_code == SI_KERNEL)
			continue;
		if (!main_done)
			kill(child, (int)si.ssi_signo);
	}
}

/* An instance's init: no command of its own; processes join its namespaces
 * (launch exec). Told to stop (SIGTERM from the supervisor), it ends them
 * all: SIGTERM, then SIGKILL after the grace period. When the supervisor
 * dies, the image is gone with its FUSE server: SIGKILL at once. */
static void __attribute__((noreturn)) instance_loop(int sfd, pid_t supervisor)
{
	char ns[64];
	ssize_t l = readlink("/proc/self/ns/mnt", ns, sizeof(ns) - 1);
	ns[l > 0 ? l : 0] = '\0';
	for (;;) {
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		int sig = (int)si.ssi_signo;
		bool orphaned = getppid() != supervisor;
		if (sig == SIGRTMIN && orphaned) {
			launch_proc_kill_all(0, ns, 0, SIGKILL, -1);
			_exit(128 + SIGKILL);
		}
		if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT)
			continue;
		/* SIGTERM, and what is left after the grace period gets SIGKILL */
		if (launch_proc_kill_all(0, ns, 0, SIGTERM, LAUNCH_KILL_GRACE_S * 1000) > 0)
			launch_proc_kill_all(0, ns, 0, SIGKILL, -1);
		_exit(0);
	}
}

/* SPEC's command in the container, with working directory CWD: its
 * environment (*ENV, to clear), its argv (the default shell when there is
 * none) and the file PATH finds (*PATH); a command not found is an error
 * with exit code 127. */
static int command_of(const struct launch_spec *spec, const char *cwd, struct launch_env *env, char *const **argv,
		      char **path, struct launch_error **err)
{
	static char *const default_argv[] = { (char *)"/bin/sh", NULL };
	*env = (struct launch_env){ launch_strv_copy(spec->env.vars) };
	launch_env_set(env, "PWD", cwd);
	launch_fakeroot_env(env);
	*argv = spec->argv && spec->argv[0] ? spec->argv : default_argv;
	*path = launch_find_command((*argv)[0], launch_env_get(env, "PATH"));
	if (*path)
		return 0;
	launch_env_clear(env);
	launch_error_msg(err, "command not found in the container: %s", (*argv)[0]);
	if (err && *err)
		(*err)->exit_code = LAUNCH_EXIT_NOT_FOUND;
	return -1;
}

/* Describe a failed execve of PATH (ARGV0 as the user wrote it), or with
 * E < 0 the failed privilege drop before it (errno -E); returns the exit
 * code that goes with it. */
static int exec_error(struct launch_error **err, int e, const char *path, const char *argv0)
{
	if (e < 0) {
		launch_error_set(err, -e, "cannot drop the privileges of the container's command");
		if (err && *err)
			(*err)->exit_code = LAUNCH_EXIT_FAILURE;
		return LAUNCH_EXIT_FAILURE;
	}
	bool exists = access(path, F_OK) == 0;
	if (e == ENOENT && exists)
		launch_error_msg(err,
				 "cannot execute %s in the container: its interpreter (#! line) or dynamic "
				 "loader is missing from the image",
				 path);
	else if (e == ENOENT)
		launch_error_msg(err, "command not found in the container: %s", argv0);
	else
		launch_error_set(err, e, "cannot execute %s in the container", argv0);
	int code = e == ENOENT && !exists ? LAUNCH_EXIT_NOT_FOUND : LAUNCH_EXIT_CANNOT_EXEC;
	if (err && *err)
		(*err)->exit_code = code;
	return code;
}

/* What the command's process does before its execve. */
struct command_setup {
	const struct launch_console *console; /* becomes its terminal (NULL: none) */
	const struct launch_drop *drop;	      /* its privileges (NULL: the caller's, already dropped) */
};

/* In the command's process (launch_proc_vspawn): system calls only. */
static int setup_command(const void *arg)
{
	const struct command_setup *c = arg;
	if (c->console)
		launch_console_attach(c->console);
	return c->drop ? launch_identity_drop(c->drop) : 0;
}

/* Start the command; returns its pid, or -1 with the errno of its failed
 * execve (or of the vfork; negated: of the privilege drop) in *E. */
static pid_t start_command(const char *path, char *const *argv, char *const *envp, const struct command_setup *setup,
			   int *e)
{
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		*e = errno;
		return -1;
	}
	pid_t cmd = launch_proc_vspawn(path, argv, envp, launch_fds_pmi(envp), ep[1], setup_command, setup);
	close(ep[1]);
	*e = 0;
	if (cmd < 0)
		*e = errno;
	else if (read(ep[0], e, sizeof(*e)) != sizeof(*e))
		*e = 0; /* EOF: the command runs */
	close(ep[0]);
	if (*e && cmd > 0)
		waitpid(cmd, NULL, 0);
	return *e ? -1 : cmd;
}

/* The container's command started from working directory CWD, without
 * privileges (SPEC's identity, dropped in its own process), with CONS as
 * its terminal when CONSOLE (opened here; the caller finishes it): its
 * pid, or -1 with *ERR and the exit code (127, 126, 125) in it. The
 * process calling this keeps its own capabilities, to end what the
 * command leaves behind, whatever its ids. */
static pid_t container_command(const struct launch_spec *spec, const char *cwd, bool console,
			       struct launch_console *cons, struct launch_error **err)
{
	struct launch_drop drop;
	if (launch_identity_prepare(&spec->id, &drop, err) < 0)
		return -1;
	struct launch_env env;
	char *const *argv;
	_cleanup_free_ char *path = NULL;
	pid_t cmd = -1;
	if (command_of(spec, cwd, &env, &argv, &path, err) < 0) {
		launch_drop_clear(&drop);
		return -1;
	}
	if (!console || launch_console_open(cons, err) == 0) {
		launch_debug("%lld us: exec %s", (long long)now_us(), path);
		struct command_setup setup = { console ? cons : NULL, &drop };
		int e;
		cmd = start_command(path, argv, env.vars, &setup, &e);
		if (cmd < 0)
			exec_error(err, e, path, argv[0]);
	}
	launch_drop_clear(&drop);
	launch_env_clear(&env);
	return cmd;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* launch exec in the foreground of a terminal: the command gets a console
 * of the instance's devpts, and this process stays to relay it, forward
 * signals, and exit with the command's status. */
static int exec_with_console(const char *path, char *const *argv, char *const *envp, struct launch_error **err)
{
	struct launch_console cons = LAUNCH_CONSOLE_INIT;
	struct termios saved;
	if (tcgetattr(0, &saved) < 0)
		return launch_error_set(err, errno, "cannot read the terminal's settings");
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return launch_error_set(err, errno, "cannot set up the command's terminal");
	if (launch_console_open(&cons, err) < 0) {
		launch_console_finish(&cons);
		return -1;
	}
	int e;
	struct command_setup setup = { &cons, NULL }; /* the caller dropped its privileges */
	pid_t cmd = start_command(path, argv, envp, &setup, &e);
	if (cmd < 0) {
		launch_console_finish(&cons);
		exec_error(err, e, path, argv[0]);
		return -1;
	}
	launch_console_started(&cons);
	int status = LAUNCH_EXIT_FAILURE;
	supervise(cmd, 0, sfd, 0, &status, &cons, -1);
	launch_console_finish(&cons);
	launch_console_restore(&saved);
	fflush(NULL);
	_exit(status);
}

int launch_container_exec(const struct launch_spec *spec, const char *cwd, struct launch_error **err)
{
	struct launch_env env;
	char *const *argv;
	_cleanup_free_ char *path = NULL;
	if (command_of(spec, cwd, &env, &argv, &path, err) < 0)
		return -1;
	if (launch_console_wanted()) {
		int r = exec_with_console(path, argv, env.vars, err);
		launch_env_clear(&env);
		return r;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int keep = launch_fds_pmi(env.vars);
	launch_fds_close_on_exec(&keep, keep >= 0 ? 1 : 0);
	execve(path, argv, env.vars);
	int e = errno;
	launch_env_clear(&env);
	exec_error(err, e, path, argv[0]);
	return -1;
}

/* --- hooks (hooks.h) --- */

/* What the hooks of SPEC are told about the container. */
struct hook_ctx {
	const struct launch_spec *spec;
	char *id;
	char *bundle;
	int ready[2]; /* init -> supervisor: the tree is built */
	int go[2];    /* supervisor -> init: the hooks before pivot_root ran */
};

static struct launch_hook_run hook_run(const struct hook_ctx *h, const char *status, pid_t pid, pid_t enter)
{
	return (struct launch_hook_run){ .id = h->id,
					 .status = status,
					 .pid = pid,
					 .bundle = h->bundle,
					 .annotations = h->spec->annotations,
					 .enter_pid = enter,
					 .default_timeout = h->spec->config ? h->spec->config->hook_timeout : 60 };
}

static bool hooks_before_pivot(const struct launch_spec *spec)
{
	return launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_PRESTART) ||
	       launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_CREATE_RUNTIME) ||
	       launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_CREATE_CONTAINER);
}

/* A mount as an OCI runtime config lists it (options in mount(8) words). */
static json_t *bundle_mount(const struct launch_mount *m)
{
	static const char *const propagation[] = {
		[LAUNCH_PROPAGATION_PRIVATE] = "private",	[LAUNCH_PROPAGATION_RPRIVATE] = "rprivate",
		[LAUNCH_PROPAGATION_SLAVE] = "slave",		[LAUNCH_PROPAGATION_RSLAVE] = "rslave",
		[LAUNCH_PROPAGATION_SHARED] = "shared",		[LAUNCH_PROPAGATION_RSHARED] = "rshared",
		[LAUNCH_PROPAGATION_UNBINDABLE] = "unbindable", [LAUNCH_PROPAGATION_RUNBINDABLE] = "runbindable",
	};
	bool tmpfs = m->type == LAUNCH_MOUNT_TMPFS;
	json_t *opts = json_array();
	if (!tmpfs)
		json_array_append_new(opts, json_string(m->nonrecursive ? "bind" : "rbind"));
	json_array_append_new(opts, json_string(m->readonly ? "ro" : "rw"));
	if (m->nosuid)
		json_array_append_new(opts, json_string("nosuid"));
	if (m->nodev)
		json_array_append_new(opts, json_string("nodev"));
	if (m->noexec)
		json_array_append_new(opts, json_string("noexec"));
	if (m->propagation != LAUNCH_PROPAGATION_DEFAULT)
		json_array_append_new(opts, json_string(propagation[m->propagation]));
	if (tmpfs) {
		json_array_append_new(opts, json_sprintf("mode=%04o", m->tmpfs_mode));
		if (m->tmpfs_size)
			json_array_append_new(opts, json_sprintf("size=%s", m->tmpfs_size));
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type", tmpfs ? "tmpfs" : "bind",
			 "source", tmpfs ? "tmpfs" : m->source, "options", opts);
}

/* BUNDLE/config.json: the container as an OCI runtime config, for hooks. */
static int write_bundle(const struct launch_spec *spec, const char *bundle, const char *root, struct launch_error **err)
{
	if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create %s", bundle);
	json_t *mounts = json_array();
	for (int site = 1; site >= 0; site--) {
		const struct launch_mounts *m = site ? (spec->config ? &spec->config->mounts : NULL) : &spec->mounts;
		for (size_t i = 0; m && i < m->n; i++)
			if (m->v[i].type != LAUNCH_MOUNT_UMOUNT)
				json_array_append_new(mounts, bundle_mount(&m->v[i]));
	}
	char *const sh[] = { (char *)"/bin/sh", NULL };
	const char *cwd = spec->workdir ? spec->workdir : spec->image.workdir ? spec->image.workdir : "/";
	json_t *ann = json_object();
	for (size_t i = 0; spec->annotations && spec->annotations[i]; i++) {
		const char *eq = strchr(spec->annotations[i], '=');
		_cleanup_free_ char *k = xstrndup(spec->annotations[i], (size_t)(eq - spec->annotations[i]));
		json_object_set_new(ann, k, json_string(eq + 1));
	}
	json_t *j =
		json_pack("{s:s, s:{s:s, s:b}, s:{s:o, s:o, s:s, s:{s:i, s:i}}, s:o, s:o, s:{s:[{s:s},{s:s}]}}",
			  "ociVersion", "1.0.2", "root", "path", root, "readonly", !spec->writable && !spec->overlay,
			  "process", "args",
			  spec->instance ? json_array()
					 : launch_json_from_strv(spec->argv && spec->argv[0] ? spec->argv : sh),
			  "env", launch_json_from_strv(spec->env.vars), "cwd", cwd, "user", "uid",
			  spec->id.root ? 0 : (int)spec->id.uid, "gid", spec->id.root ? 0 : (int)spec->id.gid, "mounts",
			  mounts, "annotations", ann, "linux", "namespaces", "type", "user", "type", "mount");
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	int r = j ? json_dump_file(j, path, JSON_INDENT(2)) : -1;
	json_decref(j);
	if (r < 0)
		return launch_error_set(err, errno ? errno : EINVAL, "cannot write %s", path);
	return 0;
}

/* In the supervisor, once the container init built the tree: prestart,
 * createRuntime, then createContainer in the init's mount namespace. Then
 * the init may go on (pivot_root). */
static int hooks_created(struct hook_ctx *h, pid_t child, struct launch_error **err)
{
	char c;
	ssize_t n;
	while ((n = read(h->ready[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return 0; /* the init failed before: its report says why */
	struct launch_hook_run run = hook_run(h, "creating", child, 0);
	if (launch_hooks_run_stage(&h->spec->hooks, LAUNCH_HOOK_PRESTART, &run, err) < 0 ||
	    launch_hooks_run_stage(&h->spec->hooks, LAUNCH_HOOK_CREATE_RUNTIME, &run, err) < 0)
		return -1;
	run.enter_pid = child;
	if (launch_hooks_run_stage(&h->spec->hooks, LAUNCH_HOOK_CREATE_CONTAINER, &run, err) < 0)
		return -1;
	launch_write_all(h->go[1], "g", 1);
	return 0;
}

/* The container init: builds the tree, starts the command without
 * privileges, and stays as its subreaper. When the supervisor dies, even by
 * SIGKILL, the parent-death signal makes it kill every process of the
 * container, which would otherwise live on without their root file system.
 * Never returns: exits with the command's status (128+N for signal N). */
static void __attribute__((noreturn))
container_init(const struct launch_spec *spec, const char *root, const char *stage, int report_fd, int parent_sfd,
	       struct hook_ctx *hk, bool console)
{
	struct launch_error *err = NULL;
	pid_t supervisor = getppid();
	close(parent_sfd);
	if (unshare(CLONE_NEWNS) < 0) {
		launch_error_set(&err, errno, "cannot create the container mount namespace");
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	}
	launch_debug("%lld us: container init started", (long long)now_us());
	if ((spec->writable || spec->overlay) && mount_overlay(spec, stage, root, &err) < 0)
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	if (launch_rootfs_build(spec, root, stage, console, &err) < 0)
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	if (hk->ready[1] >= 0) {
		/* the supervisor runs the hooks that come before pivot_root */
		char c = 0;
		close(hk->ready[0]);
		close(hk->go[1]);
		launch_write_all(hk->ready[1], "r", 1);
		close(hk->ready[1]);
		while (read(hk->go[0], &c, 1) < 0 && errno == EINTR)
			;
		close(hk->go[0]);
		if (c != 'g')
			_exit(LAUNCH_EXIT_FAILURE); /* the supervisor reports the hook's error */
	}
	if (launch_rootfs_pivot(root, &err) < 0)
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	const char *cwd = "/";
	if (launch_rootfs_chdir(spec, &cwd, &err) < 0)
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	if (launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_START_CONTAINER)) {
		struct launch_hook_run run = hook_run(hk, "created", getpid(), 0);
		if (launch_hooks_run_stage(&spec->hooks, LAUNCH_HOOK_START_CONTAINER, &run, &err) < 0)
			child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || prctl(PR_SET_PDEATHSIG, SIGRTMIN) < 0) {
		launch_error_set(&err, errno, "cannot become the container's subreaper");
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	}
	if (getppid() != supervisor)
		_exit(LAUNCH_EXIT_FAILURE);

	sigset_t mask;
	sigprocmask(SIG_BLOCK, NULL, &mask); /* the supervisor's, inherited */
	sigaddset(&mask, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		launch_error_set(&err, errno, "cannot set up the container init");
		child_fail(report_fd, LAUNCH_EXIT_FAILURE, err);
	}
	if (spec->instance) {
		close(report_fd); /* ready to be joined */
		instance_loop(sfd, supervisor);
	}

	struct launch_console cons = LAUNCH_CONSOLE_INIT;
	pid_t cmd = container_command(spec, cwd, console, &cons, &err);
	if (cmd < 0)
		child_fail(report_fd, err->exit_code, err);
	close(report_fd); /* the supervisor now knows the command started */
	launch_console_started(&cons);
	int status = LAUNCH_EXIT_FAILURE;
	supervise(cmd, 0, sfd, supervisor, &status, console ? &cons : NULL, -1);
	launch_console_finish(&cons);
	_exit(status);
}

/* One `launch run` in the supervisor, from the namespaces to the end. */
struct run_ctx {
	const struct launch_spec *spec;
	char *stage, *root, *hk_id, *hk_bundle;
	struct launch_sqfs *sq;
	struct hook_ctx hk;
	int sfd;
	int report[2]; /* the container init's child_report, or EOF once the command runs */
	bool masked;
	sigset_t old;
	pid_t child;
	bool console; /* the user's terminal is saved in SAVED: the init puts it in raw mode */
	struct termios saved;
	int use;			  /* the image's use marker (store.h), held until the end */
	struct launch_server_conn server; /* the shared image server joined (server.h) */
	bool alone;			  /* the one-process layout (run_alone) */
	struct launch_guard *guard;	  /* its guard (proc.h) */
	sigset_t mask;			  /* the signals blocked for the signalfd */
	int sup;			  /* launch-supervise (supervise.h) to exec, or -1 */
};

/* The user and mount namespaces, the staging tmpfs, the image mounted. */
static int run_prepare(struct run_ctx *x, struct launch_error **err)
{
	const struct launch_spec *spec = x->spec;
	launch_debug("%lld us: setting up namespaces", (long long)now_us());
	/* first of all: `launch rmi` and `prune` leave an image in use alone,
	 * and one removed meanwhile fails here rather than half-way */
	if (spec->image.kind == LAUNCH_IMAGE_SQUASHFS && (x->use = launch_store_use(spec->image.path, err)) < 0)
		return -1;
	if (mkdir(x->stage, 0700) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create %s", x->stage);
	if (spec->overlay) {
		/* The upper layer becomes the container's files: nobody else may
		 * have put anything there (trust.h). Checked before the user
		 * namespace, where root's directories would show as the overflow
		 * uid. */
		int dfd = launch_trust_dir(spec->overlay, getuid(), 0755, LAUNCH_TRUST_CREATE, "overlay directory",
					   "choose another with --overlay DIR", err);
		if (dfd < 0)
			return -1;
		close(dfd);
	}
	int joined = 0;
	if (launch_server_wanted(spec) && (joined = launch_server_join(spec, x->use, &x->server, err)) < 0)
		return -1;
	if (!joined && unshare_user_ns(&spec->id, err) < 0)
		return -1;
	if (mount("tmpfs", x->stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16m") < 0)
		return launch_error_set(err, errno, "cannot mount the staging tmpfs on %s", x->stage);
	if (mkdir(x->root, 0755) < 0)
		return launch_error_set(err, errno, "cannot create %s", x->root);
	if (mount_image(spec, x->stage, x->root, &x->server, &x->sq, err) < 0)
		return -1;
	if (spec->hooks.n && write_bundle(spec, x->hk.bundle, x->root, err) < 0)
		return -1;
	if (hooks_before_pivot(spec) && (pipe2(x->hk.ready, O_CLOEXEC) < 0 || pipe2(x->hk.go, O_CLOEXEC) < 0))
		return launch_error_set(err, errno, "cannot set up the hooks");
	/* Where launch serves nothing itself (the image is a shared
	 * server's or a directory) and relays no terminal, the small
	 * supervisor can take over once the command runs (hand_over). */
	if (x->alone && !x->sq && !x->console) {
		_cleanup_free_ char *sup = launch_libexec_path(LAUNCH_SUPERVISE_NAME);
		x->sup = sup ? open(sup, O_PATH | O_CLOEXEC) : -1;
	}
	/* still with every capability here: it may have to kill processes
	 * of other ids of the container */
	if (x->alone && !(x->guard = launch_guard_start(x->sup, err)))
		return -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return launch_error_set(err, errno, "cannot become the container's subreaper");
	return 0;
}

/* The signals the supervisor forwards, and SIGCHLD, to a signalfd. */
static int run_signals(struct run_ctx *x, struct launch_error **err)
{
	sigset_t *mask = &x->mask;
	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, mask, &x->old);
	x->masked = true;
	x->sfd = signalfd(-1, mask, SFD_CLOEXEC);
	if (x->sfd < 0)
		return launch_error_set(err, errno, "cannot set up signal handling");
	return 0;
}

/* The FUSE server of an image this run mounted itself, and the prefetch
 * of its command (an instance has none). */
static int serve_image(struct run_ctx *x, struct launch_error **err)
{
	const struct launch_spec *spec = x->spec;
	if (!x->sq)
		return 0;
	if (launch_sqfs_serve(x->sq, err) < 0)
		return -1;
	if (!spec->instance)
		launch_sqfs_prefetch(x->sq, spec->argv && spec->argv[0] ? spec->argv[0] : "/bin/sh",
				     launch_env_get(&spec->env, "PATH"));
	return 0;
}

/* The container init forked: the one fork of the container's own (proc.h
 * has the others). */
static int run_fork(struct run_ctx *x, struct launch_error **err)
{
	if (run_signals(x, err) < 0)
		return -1;
	if (pipe2(x->report, O_CLOEXEC) < 0)
		return launch_error_set(err, errno, "cannot set up signal handling");
	fflush(NULL);
	x->child = fork();
	if (x->child < 0)
		return launch_error_set(err, errno, "cannot fork the container process");
	if (x->child == 0) {
		close(x->report[0]);
		launch_server_conn_close(&x->server);
		container_init(x->spec, x->root, x->stage, x->report[1], x->sfd, &x->hk, x->console);
	}
	close(x->report[1]);
	x->report[1] = -1;
	if (x->hk.ready[1] >= 0) {
		close(x->hk.ready[1]);
		close(x->hk.go[0]);
		x->hk.ready[1] = x->hk.go[0] = -1;
	}
	return 0;
}

/* How long a command runs before launch hands it to the small supervisor */
#define HANDOVER_MS 20

/* Exec the small supervisor (supervise.h) in place of supervising CMD
 * here: launch's own memory, its libraries, heap and stack, is gone for
 * the rest of the run, and the guard then execs it as well. It holds what
 * launch held until the end: the image server's connection, the image's
 * use marker and the guard's pipe. Returns only when the exec failed:
 * launch then supervises itself, as before. */
static void hand_over(struct run_ctx *x, pid_t cmd)
{
	uint64_t mask = 0;
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&x->mask, sig) == 1)
			mask |= 1ULL << (sig - 1);
	int keep[] = { x->server.fd, x->use, launch_guard_fd(x->guard) };
	char child[16], maskhex[24], server[16], guard[16], grace[16];
	snprintf(child, sizeof(child), "%d", (int)cmd);
	snprintf(maskhex, sizeof(maskhex), "%llx", (unsigned long long)mask);
	snprintf(server, sizeof(server), "%d", keep[0]);
	snprintf(guard, sizeof(guard), "%d", keep[2]);
	snprintf(grace, sizeof(grace), "%d", LAUNCH_KILL_GRACE_S);
	char *argv[] = { LAUNCH_SUPERVISE_NAME,
			 LAUNCH_SUPERVISE_MODE_RUN,
			 child,
			 maskhex,
			 server,
			 guard,
			 grace,
			 launch_log_level() >= LAUNCH_LOG_DEBUG ? "1" : "0",
			 NULL };
	char *envp[] = { NULL };
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (keep[i] >= 0)
			fcntl(keep[i], F_SETFD, 0);
	/* In user mode an exec ends the capabilities this process has in
	 * the container's user namespace: the ones a supervisor needs go
	 * along (with --root, user 0 keeps them all). */
	launch_caps_keep_across_exec();
	launch_debug("%lld us: %s supervises", (long long)now_us(), LAUNCH_SUPERVISE_NAME);
	fflush(NULL);
	syscall(SYS_execveat, x->sup, "", argv, envp, AT_EMPTY_PATH);
	launch_debug("cannot run %s (%s): launch supervises", LAUNCH_SUPERVISE_NAME, strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (keep[i] >= 0)
			fcntl(keep[i], F_SETFD, FD_CLOEXEC);
}

/* The one-process layout, for a run with no hooks that only exits after:
 * this process builds the tree in its own mount namespace (no second one,
 * no container init), pivots into it, starts the command without
 * privileges as the init does, and supervises it, serving the image from its
 * threads meanwhile. A process creation less, which is most of what a
 * start costs where creating one is slow. The init's other duty, that
 * nothing outlive a killed supervisor, is the guard's (proc.h). */
static int run_alone(struct run_ctx *x, int *status, struct launch_error **err)
{
	const struct launch_spec *spec = x->spec;
	if (run_signals(x, err) < 0 || serve_image(x, err) < 0)
		return -1;
	launch_debug("%lld us: building the container", (long long)now_us());
	const char *cwd = "/";
	if (((spec->writable || spec->overlay) && mount_overlay(spec, x->stage, x->root, err) < 0) ||
	    launch_rootfs_build(spec, x->root, x->stage, x->console, err) < 0 ||
	    launch_rootfs_pivot(x->root, err) < 0 || launch_rootfs_chdir(spec, &cwd, err) < 0)
		return -1;
	struct launch_console cons = LAUNCH_CONSOLE_INIT;
	pid_t cmd = container_command(spec, cwd, x->console, &cons, err);
	if (cmd < 0) {
		launch_console_finish(&cons);
		return -1;
	}
	x->child = cmd;
	launch_console_started(&cons);
	launch_debug("%lld us: container started", (long long)now_us());
	/* A command that ends at once is over before an exec would pay off:
	 * the hand-over waits until it has run a while undisturbed. */
	struct pollfd quiet[2] = { { .fd = x->sfd, .events = POLLIN }, { .fd = x->server.fd, .events = POLLIN } };
	if (x->sup >= 0 && poll(quiet, 2, HANDOVER_MS) == 0)
		hand_over(x, cmd);
	supervise(cmd, launch_sqfs_helper_pid(x->sq), x->sfd, 0, status, x->console ? &cons : NULL, x->server.fd);
	launch_console_finish(&cons);
	launch_debug("%lld us: all container processes ended", (long long)now_us());
	return 0;
}

/* Serve the image, run the hooks of the start, and supervise until every
 * process of the container ended; *STATUS gets the command's. */
static int run_supervise(struct run_ctx *x, const struct launch_container_callbacks *cb, int *status,
			 struct launch_error **err)
{
	const struct launch_spec *spec = x->spec;
	pid_t helper = launch_sqfs_helper_pid(x->sq);
	int ignored;
	/* FUSE threads start after the fork, which then copied a single thread. */
	if (serve_image(x, err) < 0) {
		kill(x->child, SIGKILL);
		waitpid(x->child, NULL, 0);
		return -1;
	}
	if (x->hk.ready[0] >= 0 && hooks_created(&x->hk, x->child, err) < 0) {
		kill(x->child, SIGKILL);
		supervise(x->child, helper, x->sfd, 0, &ignored, NULL, x->server.fd);
		return -1;
	}
	close_pair(x->hk.ready);
	close_pair(x->hk.go);

	struct child_report rep;
	ssize_t n;
	do
		n = read(x->report[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	bool failed = n == (ssize_t)sizeof(rep);
	launch_debug("%lld us: container started", (long long)now_us());
	/* before the start is announced (an instance's `launch start` returns
	 * once poststart ran, as runc's `start` does) */
	if (!failed && launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_POSTSTART)) {
		struct launch_hook_run run = hook_run(&x->hk, "running", x->child, 0);
		launch_hooks_run_stage(&spec->hooks, LAUNCH_HOOK_POSTSTART, &run, NULL);
	}
	if (!failed && cb && cb->started && cb->started(cb->arg, x->child, err) < 0) {
		kill(x->child, SIGTERM);
		supervise(x->child, helper, x->sfd, 0, &ignored, NULL, x->server.fd);
		return -1;
	}
	int st = 0;
	supervise(x->child, helper, x->sfd, 0, &st, NULL, x->server.fd);
	launch_debug("%lld us: all container processes ended", (long long)now_us());
	if (failed) {
		launch_error_msg(err, "%s", rep.msg);
		(*err)->exit_code = rep.exit_code;
		return -1;
	}
	*status = st;
	return 0;
}

/* ALONE_OK: the caller exits after and needs nothing of the node's file
 * system before (run_alone). */
static int container_run(const struct launch_spec *spec, const struct launch_container_callbacks *cb, bool alone_ok,
			 int *status, struct launch_error **err)
{
	struct run_ctx x = { .spec = spec,
			     .sfd = -1,
			     .report = { -1, -1 },
			     .child = -1,
			     .use = -1,
			     .server = LAUNCH_SERVER_CONN_INIT,
			     .sup = -1 };
	x.alone = alone_ok && !cb && !spec->instance && spec->hooks.n == 0;
	x.stage = xasprintf("%s/mnt", spec->runtime_dir);
	x.root = xasprintf("%s/root", x.stage);
	x.hk_id = spec->container_id ? xstrdup(spec->container_id) : xasprintf("launch-%d", (int)getpid());
	x.hk_bundle = xasprintf("%s/bundle", x.stage);
	x.hk = (struct hook_ctx){
		.spec = spec, .id = x.hk_id, .bundle = x.hk_bundle, .ready = { -1, -1 }, .go = { -1, -1 }
	};
	x.console = !spec->instance && launch_console_wanted() && tcgetattr(0, &x.saved) == 0;

	int ret = -1;
	if (run_prepare(&x, err) < 0)
		ret = -1;
	else if (x.alone)
		ret = run_alone(&x, status, err);
	else if (run_fork(&x, err) == 0)
		ret = run_supervise(&x, cb, status, err);

	if (x.child > 0 && launch_hooks_have_stage(&spec->hooks, LAUNCH_HOOK_POSTSTOP)) {
		struct launch_hook_run run = hook_run(&x.hk, "stopped", 0, 0);
		launch_hooks_run_stage(&spec->hooks, LAUNCH_HOOK_POSTSTOP, &run, NULL);
	}
	if (x.masked)
		sigprocmask(SIG_SETMASK, &x.old, NULL);
	if (x.console && x.child > 0)
		launch_console_restore(&x.saved);
	close_pair(x.hk.ready);
	close_pair(x.hk.go);
	close_pair(x.report);
	if (x.sfd >= 0)
		close(x.sfd);
	launch_sqfs_abandon(x.sq); /* the caller exits next (container.h) */
	launch_guard_release(x.guard);
	launch_server_conn_close(&x.server);
	if (x.use >= 0)
		close(x.use);
	if (x.sup >= 0)
		close(x.sup);
	launch_debug("%lld us: stopped", (long long)now_us());
	free(x.stage);
	free(x.root);
	free(x.hk_id);
	free(x.hk_bundle);
	return ret;
}

int launch_container_run(const struct launch_spec *spec, int *status, struct launch_error **err)
{
	return container_run(spec, NULL, true, status, err);
}

int launch_container_run_with(const struct launch_spec *spec, const struct launch_container_callbacks *cb, int *status,
			      struct launch_error **err)
{
	return container_run(spec, cb, false, status, err);
}
