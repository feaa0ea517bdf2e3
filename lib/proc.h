/* SPDX-License-Identifier: Apache-2.0 */
/* Child processes: the one place launch forks (the container's own
 * unshare-and-fork sequence in container.c uses these pieces too).
 *
 * A child gets descriptors 0-2 as the spec says and those in KEEP; every
 * other descriptor is closed at exec. It can drop to another identity,
 * start a process group or session of its own, and die with its parent.
 * A failed exec comes back as an error of launch_proc_spawn, with the
 * errno, not as an exit status to decode. launch_proc_wait feeds the
 * child's input, collects a bounded tail of its output, and waits through
 * a pidfd with poll, with a deadline after which the child's process group
 * is killed. */
#ifndef LAUNCH_PROC_H
#define LAUNCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* What a child's descriptor 0, 1 or 2 is: a descriptor of the parent, or
 * one of these. 0, what a field left out of an initializer is, is the
 * parent's own for each of the three (as LAUNCH_PROC_INHERIT). */
enum {
	LAUNCH_PROC_INHERIT = -1, /* the parent's own */
	LAUNCH_PROC_NULL = -2,	  /* /dev/null */
	LAUNCH_PROC_PIPE = -3,	  /* a pipe to the parent (struct launch_proc) */
	LAUNCH_PROC_STDOUT = -4,  /* for err only: where out goes */
};

struct launch_proc_spec {
	/* execve PATH with ARGV and ENVP (NULL: this environment); a PATH
	 * without '/' is searched in PATH like execvp. NULL: the child only
	 * runs CHILD and exits with what it returns. */
	const char *path;
	char *const *argv;
	char *const *envp;
	/* In the child, after the descriptors and before exec: returns 0 to
	 * go on, or an exit status (1-255) to end there. It may call
	 * launch_proc_exec itself. REPORT is the report channel: a message
	 * written there becomes the error of launch_proc_wait when the child
	 * fails. */
	int (*child)(void *arg, int report);
	void *arg;
	int in, out, err; /* LAUNCH_PROC_* or a descriptor of the parent */
	const int *keep;  /* more descriptors the child keeps, as they are */
	size_t n_keep;
	bool new_session;      /* setsid(): a session and process group of its own */
	bool new_pgrp;	       /* setpgid(0, 0): launch_proc_kill reaches its group */
	bool die_with_parent;  /* SIGKILL when the parent dies */
	bool keep_signal_mask; /* the parent's blocked signals stay blocked */
	const char *dir;       /* chdir there first (a failure ends the child) */
	const char *what;      /* for errors: "hook mpi", "tar2sqfs" (default PATH) */
};

struct launch_proc {
	pid_t pid;
	int pidfd;	  /* -1 where the kernel has no pidfd_open */
	int in, out, err; /* the parent's ends of LAUNCH_PROC_PIPE, else -1 */
	int report;	  /* the report channel's read end */
	bool group;	  /* the child leads a process group */
	bool reaped;
	int status; /* the wait status once reaped */
	char *what;
};

#define LAUNCH_PROC_INIT                                                             \
	{                                                                            \
		.pid = -1, .pidfd = -1, .in = -1, .out = -1, .err = -1, .report = -1 \
	}

int launch_proc_spawn(const struct launch_proc_spec *s, struct launch_proc *p, struct launch_error **err);

/* In a child of launch_proc_spawn (its CHILD function): exec PATH, or
 * report the errno and _exit(127). */
void launch_proc_exec(const char *path, char *const *argv, char *const *envp) __attribute__((noreturn));

struct launch_proc_io {
	const char *input; /* written to the child's in (a pipe), then closed */
	size_t input_len;
	size_t max;	 /* most bytes kept of out and of err: the end */
	char *out, *err; /* what the child wrote on its pipes (malloc'd, NUL-ended) */
	bool timed_out;
};

/* Wait until P exits, doing IO meanwhile (NULL: none). TIMEOUT_MS > 0: at
 * the deadline, kill P (and its group) with SIGKILL and set io->timed_out.
 * What a child left running in the background that holds P's pipes is not
 * waited for. Returns the exit status (128+N for signal N), -1 on error
 * (the child's report, when it wrote one, is the message). */
int launch_proc_wait(struct launch_proc *p, struct launch_proc_io *io, int timeout_ms, struct launch_error **err);

/* Spawn and wait: the exit status, or -1. */
int launch_proc_run(const struct launch_proc_spec *s, struct launch_proc_io *io, int timeout_ms,
		    struct launch_error **err);

/* The fast path for a container's command, where every microsecond of a
 * start counts: vfork, and in the child only async-signal-safe calls:
 * every signal unblocked, SETUP(ARG) when not NULL, every descriptor but
 * 0-2 and KEEP (-1: none) closed at exec, execve. A failed execve writes
 * its errno on ERR_FD (a close-on-exec pipe: end-of-file means the command
 * runs); a SETUP that fails returns an errno, written there negated, and
 * nothing is executed. Returns the pid, -1 with errno when vfork failed. */
pid_t launch_proc_vspawn(const char *path, char *const *argv, char *const *envp, int keep, int err_fd,
			 int (*setup)(const void *arg), const void *arg);

/* A guard of this process's mount namespace: a task that shares this
 * process's memory (no copy of it, no exec), holds none of its descriptors
 * and sleeps until the process has ended. When it ended without
 * launch_guard_release (SIGKILL, a crash), the guard kills every process
 * left in the mount namespace, which no other process would stop. It is
 * not a child of this process (a subreaper's waits and walks do not see
 * it): start it before PR_SET_CHILD_SUBREAPER. Its capabilities are those
 * of the moment it starts. EXE (-1: none) is launch-supervise, which the
 * guard execs when the process has exec'd it (lib/supervise.h). NULL with
 * *ERR when it cannot start. */
struct launch_guard;
struct launch_guard *launch_guard_start(int exe, struct launch_error **err);
/* The descriptor that keeps G waiting (close-on-exec): whoever holds it
 * releases the guard (LAUNCH_GUARD_RELEASE) or, killed, sets it off. */
int launch_guard_fd(const struct launch_guard *g);
/* Let the next exec keep CAP_KILL and CAP_SYS_PTRACE (ambient), which an
 * exec ends for a user other than 0: what a supervisor needs to walk and
 * signal the container's processes. System calls only (the guard calls it
 * too); nothing where the user is 0 or the process lacks them. */
void launch_caps_keep_across_exec(void);
/* This process ends normally: the guard ends without killing anything. */
void launch_guard_release(struct launch_guard *g);

/* Send SIG to P (its group too when it leads one). */
void launch_proc_kill(struct launch_proc *p, int sig);

/* Close what is left of P (a child not waited for is killed and reaped). */
void launch_proc_close(struct launch_proc *p);

/* Exit status of wait status ST: the code, or 128+N for signal N. */
int launch_proc_status(int st);

/* A pidfd of process PID (not necessarily a child), -1 where the kernel
 * has none (before Linux 5.3) or PID is gone. */
int launch_proc_open(pid_t pid);
/* Wait until process PID has exited, at most TIMEOUT_MS (< 0: no limit),
 * through PIDFD (from launch_proc_open, opened while PID was known to be
 * the process meant); without one, PID is looked at every 10 ms. True when
 * it has exited. */
bool launch_proc_wait_pid(pid_t pid, int pidfd, int timeout_ms);

/* The one walker over processes: FN is called with each descendant of
 * ROOT (ROOT > 0: down the tree through /proc/PID/task/TID/children, cheap;
 * zombies included, whose children may be on their way to a subreaper),
 * else each process whose mount namespace is MNT_NS ("mnt:[4026531840]":
 * all of /proc; a zombie has none), never with EXCEPT or this process.
 * Returns how many FN was called with. */
int launch_proc_walk(pid_t root, const char *mnt_ns, pid_t except, void (*fn)(pid_t pid, void *arg), void *arg);

/* Send SIG (0: none, only count) to what launch_proc_walk finds; returns
 * how many. */
int launch_proc_signal(pid_t root, const char *mnt_ns, pid_t except, int sig);

/* Signal what launch_proc_walk finds, and wait until those processes have
 * exited (through pidfds), at most TIMEOUT_MS; walk again until it finds
 * none or time is up. Reaps children of this process on the way. Returns
 * how many are left (0: none). */
int launch_proc_kill_all(pid_t root, const char *mnt_ns, pid_t except, int sig, int timeout_ms);

#endif
