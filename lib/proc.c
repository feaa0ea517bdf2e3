/* SPDX-License-Identifier: Apache-2.0 */
/* Child processes (proc.h). */
#define _GNU_SOURCE
#include "proc.h"

#include <dirent.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"
#include "util.h"

extern char **environ;

/* The report channel's write end, in a child of launch_proc_spawn. */
static int child_report = -1;

/* An exec failure on the report channel: this byte, then the errno. */
#define EXEC_FAILED 'X'

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int launch_proc_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

void launch_proc_exec(const char *path, char *const *argv, char *const *envp)
{
	char *const dflt[] = { (char *)path, NULL };
	char *const *av = argv ? argv : dflt;
	char *const *ev = envp ? envp : environ;
	if (strchr(path, '/'))
		execve(path, av, ev);
	else
		execvpe(path, av, ev);
	int e = errno;
	if (child_report >= 0) {
		char msg[1 + sizeof(int)];
		msg[0] = EXEC_FAILED;
		memcpy(msg + 1, &e, sizeof(e));
		launch_write_all(child_report, msg, sizeof(msg));
	}
	_exit(127);
}

/* Make FD the child's descriptor TARGET. 0 for out or err is a field left
 * zero: the parent's own, as for in (never the parent's stdin as output). */
static void child_fd(int fd, int target, int null)
{
	if (fd == LAUNCH_PROC_INHERIT || fd == 0)
		return;
	if (fd == LAUNCH_PROC_NULL)
		fd = null;
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else if (fd >= 0)
		dup2(fd, target);
}

static void __attribute__((noreturn)) child_main(const struct launch_proc_spec *s, const int fds[3], int null,
						 int report, const int parent_ends[4], pid_t parent)
{
	/* the parent's ends of the pipes: a child that runs a function and no
	 * program would otherwise hold them (a writer that never sees EPIPE,
	 * a reader that never sees EOF) */
	for (int i = 0; i < 4; i++)
		if (parent_ends[i] >= 0)
			close(parent_ends[i]);
	child_report = report;
	if (s->die_with_parent) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
	}
	if (s->new_session)
		setsid();
	else if (s->new_pgrp)
		setpgid(0, 0);
	for (int i = 0; i < 3; i++)
		child_fd(fds[i] == LAUNCH_PROC_STDOUT ? 1 : fds[i], i, null);
	int keep[16];
	size_t n = 0;
	for (size_t i = 0; i < s->n_keep && n < ARRAY_SIZE(keep) - 1; i++)
		keep[n++] = s->keep[i];
	launch_fds_close_on_exec(keep, n);
	if (!s->keep_signal_mask) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (s->dir && chdir(s->dir) < 0) {
		dprintf(report, "cannot enter %s: %s", s->dir, strerror(errno));
		_exit(126);
	}
	if (s->child) {
		int r = s->child(s->arg, report);
		if (r != 0 || !s->path)
			_exit(r);
	}
	launch_proc_exec(s->path, s->argv, s->envp);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The error of a failed exec read from the report channel, if that is
 * what it holds. */
static bool exec_failed(const char *buf, size_t n, int *e)
{
	if (n != 1 + sizeof(int) || buf[0] != EXEC_FAILED)
		return false;
	memcpy(e, buf + 1, sizeof(int));
	return true;
}

static int exec_error(struct launch_error **err, int e, const char *what)
{
	launch_error_set(err, e, "cannot execute %s", what);
	if (err && *err)
		(*err)->exit_code = 127;
	return -1;
}

int launch_proc_spawn(const struct launch_proc_spec *s, struct launch_proc *p, struct launch_error **err)
{
	*p = (struct launch_proc)LAUNCH_PROC_INIT;
	const char *what = s->what ? s->what : s->path ? s->path : "child process";
	int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, rep[2] = { -1, -1 }, null = -1;
	int fds[3] = { s->in, s->out, s->err };
	int ret = -1;
	for (int i = 0; i < 3; i++) {
		if (fds[i] == LAUNCH_PROC_PIPE) {
			if (pipe2(pipes[i], O_CLOEXEC) < 0)
				goto fail;
			fds[i] = pipes[i][i == 0 ? 0 : 1];
		} else if (fds[i] == LAUNCH_PROC_NULL && null < 0) {
			null = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null < 0)
				goto fail;
		}
	}
	if (pipe2(rep, O_CLOEXEC) < 0)
		goto fail;
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int parent_ends[4] = { pipes[0][1], pipes[1][0], pipes[2][0], rep[0] };
		child_main(s, fds, null, rep[1], parent_ends, parent);
	}
	p->pid = pid;
	p->pidfd = pidfd_open_(pid);
	p->group = s->new_session || s->new_pgrp;
	p->what = xstrdup(what);
	p->in = pipes[0][1];
	p->out = pipes[1][0];
	p->err = pipes[2][0];
	pipes[0][1] = pipes[1][0] = pipes[2][0] = -1;
	p->report = rep[0];
	rep[0] = -1;
	ret = 0;
fail:
	if (ret < 0)
		launch_error_set(err, errno, "cannot start %s", what);
	for (int i = 0; i < 3; i++) {
		close_fd(&pipes[i][0]);
		close_fd(&pipes[i][1]);
	}
	close_fd(&rep[1]);
	close_fd(&rep[0]);
	close_fd(&null);
	if (ret < 0 || s->child || !s->path)
		return ret;
	/* A plain exec: its failure is known as soon as the channel closes. */
	char buf[1 + sizeof(int)];
	ssize_t n;
	do
		n = read(p->report, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	int e;
	if (n > 0 && exec_failed(buf, (size_t)n, &e)) {
		launch_proc_close(p);
		return exec_error(err, e, what);
	}
	close_fd(&p->report);
	return 0;
}

static void __attribute__((noreturn)) vchild(const char *path, char *const *argv, char *const *envp, int keep,
					     int err_fd, int (*setup)(const void *), const void *arg)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int e = setup ? -setup(arg) : 0;
	if (e == 0) {
		launch_fds_close_on_exec(&keep, keep >= 0 ? 1 : 0);
		execve(path, argv, envp);
		e = errno;
	}
	ssize_t w = write(err_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* vfork lives in a function of its own, whose frame holds nothing the child
 * could clobber. */
pid_t __attribute__((noinline)) launch_proc_vspawn(const char *path, char *const *argv, char *const *envp, int keep,
						   int err_fd, int (*setup)(const void *arg), const void *arg)
{
	pid_t pid = vfork();
	if (pid == 0)
		vchild(path, argv, envp, keep, err_fd, setup, arg);
	return pid;
}

/* A bounded buffer that keeps the end of what it is given. */
struct tail {
	char *buf;
	size_t n, max;
};

static void tail_read(struct tail *t, int *fd)
{
	char chunk[8192];
	for (;;) {
		ssize_t r = read(*fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 || errno != EAGAIN)
				close_fd(fd);
			return;
		}
		if (!t->buf)
			continue; /* not wanted: drained only */
		size_t add = (size_t)r;
		const char *from = chunk;
		if (add > t->max) {
			from += add - t->max;
			add = t->max;
		}
		if (t->n + add > t->max) {
			size_t drop = t->n + add - t->max;
			memmove(t->buf, t->buf + drop, t->n - drop);
			t->n -= drop;
		}
		memcpy(t->buf + t->n, from, add);
		t->n += add;
	}
}

static char *tail_take(struct tail *t)
{
	if (!t->buf)
		return NULL;
	t->buf[t->n] = '\0';
	while (t->n && (t->buf[t->n - 1] == '\n' || t->buf[t->n - 1] == ' '))
		t->buf[--t->n] = '\0';
	char *r = t->buf;
	t->buf = NULL;
	return r;
}

static bool reap(struct launch_proc *p, bool block)
{
	if (p->reaped)
		return true;
	int st;
	pid_t r;
	do
		r = waitpid(p->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ECHILD) { /* reaped elsewhere: its status is lost */
		p->reaped = true;
		p->status = 255 << 8;
		return true;
	}
	if (r != p->pid)
		return false;
	p->reaped = true;
	p->status = st;
	return true;
}

int launch_proc_wait(struct launch_proc *p, struct launch_proc_io *io, int timeout_ms, struct launch_error **err)
{
	size_t max = io && io->max ? io->max : 64u << 10;
	struct tail out = { NULL, 0, max }, errt = { NULL, 0, max };
	if (io) {
		out.buf = p->out >= 0 ? xmalloc(max + 1) : NULL;
		errt.buf = p->err >= 0 ? xmalloc(max + 1) : NULL;
		io->timed_out = false;
	}
	const char *input = io ? io->input : NULL;
	size_t left = io && io->input ? io->input_len : 0;
	if (!left)
		close_fd(&p->in);
	/* a child that exits before reading its input must not kill us */
	sigset_t pipe_set, old_mask;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	int fds[3] = { p->in, p->out, p->err };
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
	while (!reap(p, false)) {
		struct pollfd pfd[4];
		nfds_t n = 0;
		if (p->pidfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
		if (p->in >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->in, .events = POLLOUT };
		if (p->out >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->out, .events = POLLIN };
		if (p->err >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->err, .events = POLLIN };
		int wait = -1;
		if (deadline >= 0) {
			int64_t l = deadline - now_ms();
			if (l <= 0) {
				launch_proc_kill(p, SIGKILL);
				reap(p, true);
				if (io)
					io->timed_out = true;
				break;
			}
			wait = (int)l;
		}
		/* without a pidfd (before Linux 5.3), look again now and then */
		if (p->pidfd < 0 && (wait < 0 || wait > 10))
			wait = 10;
		if (poll(pfd, n, wait) < 0 && errno != EINTR)
			break;
		if (p->in >= 0) {
			ssize_t w = write(p->in, input, left);
			if (w > 0) {
				input += w;
				left -= (size_t)w;
			}
			if (!left || (w < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(&p->in);
		}
		if (p->out >= 0)
			tail_read(&out, &p->out);
		if (p->err >= 0)
			tail_read(&errt, &p->err);
	}
	reap(p, true);
	/* what it wrote before it exited; not what its background children
	 * may write later */
	if (p->out >= 0)
		tail_read(&out, &p->out);
	if (p->err >= 0)
		tail_read(&errt, &p->err);
	int e = 0;
	if (pthread_sigmask(SIG_SETMASK, &old_mask, NULL) == 0 && !sigismember(&old_mask, SIGPIPE)) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
			;
	}
	if (io) {
		free(io->out);
		free(io->err);
		io->out = tail_take(&out);
		io->err = tail_take(&errt);
	}
	int status = launch_proc_status(p->status);
	if (p->report >= 0) {
		char msg[1024];
		size_t got = 0;
		ssize_t r;
		fcntl(p->report, F_SETFL, O_NONBLOCK);
		while (got < sizeof(msg) - 1 && (r = read(p->report, msg + got, sizeof(msg) - 1 - got)) != 0)
			if (r > 0)
				got += (size_t)r;
			else if (errno != EINTR)
				break;
		msg[got] = '\0';
		close_fd(&p->report);
		if (exec_failed(msg, got, &e))
			return exec_error(err, e, p->what);
		if (got && status != 0) {
			launch_error_msg(err, "%s", msg);
			if (err && *err)
				(*err)->exit_code = status;
			return -1;
		}
	}
	return status;
}

int launch_proc_run(const struct launch_proc_spec *s, struct launch_proc_io *io, int timeout_ms,
		    struct launch_error **err)
{
	struct launch_proc p;
	if (launch_proc_spawn(s, &p, err) < 0)
		return -1;
	int r = launch_proc_wait(&p, io, timeout_ms, err);
	launch_proc_close(&p);
	return r;
}

void launch_proc_kill(struct launch_proc *p, int sig)
{
	if (p->pid <= 0 || p->reaped)
		return;
	if (p->group)
		kill(-p->pid, sig);
#ifdef SYS_pidfd_send_signal
	/* through the pidfd where there is one: P may have been reaped by a
	 * waitpid(-1) elsewhere, and its pid used again */
	if (p->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
		return;
	}
#endif
	kill(p->pid, sig);
}

void launch_proc_close(struct launch_proc *p)
{
	if (p->pid > 0 && !p->reaped) {
		launch_proc_kill(p, SIGKILL);
		reap(p, true);
	}
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->err);
	close_fd(&p->report);
	close_fd(&p->pidfd);
	free(p->what);
	p->what = NULL;
}

int launch_proc_open(pid_t pid)
{
	return pidfd_open_(pid);
}

bool launch_proc_wait_pid(pid_t pid, int pidfd, int timeout_ms)
{
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		return r > 0;
	}
	/* no pidfd (before Linux 5.3): look every 10 ms */
	int64_t deadline = now_ms() + timeout_ms;
	while (kill(pid, 0) == 0 || errno != ESRCH) {
		if (timeout_ms >= 0 && now_ms() >= deadline)
			return false;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return true;
}

int launch_proc_walk(pid_t root, const char *mnt_ns, pid_t except, void (*fn)(pid_t pid, void *arg), void *arg)
{
	int n = 0;
	pid_t self = getpid();
	if (root > 0) {
		/* down the tree from ROOT, through each thread's children */
		pid_t stack[4096];
		size_t top = 0;
		stack[top++] = root;
		while (top > 0) {
			pid_t p = stack[--top];
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/task", (int)p);
			DIR *d = opendir(path);
			if (!d)
				continue;
			for (struct dirent *de; (de = readdir(d));) {
				if (de->d_name[0] == '.')
					continue;
				char cpath[300];
				snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)p, de->d_name);
				_cleanup_free_ char *text = NULL;
				if (launch_read_file_at(AT_FDCWD, cpath, 1u << 20, &text, NULL) < 0)
					continue;
				char *save = NULL;
				for (char *tok = strtok_r(text, " \n", &save); tok;
				     tok = strtok_r(NULL, " \n", &save)) {
					pid_t c = (pid_t)atoi(tok);
					if (c <= 0 || c == except || c == self)
						continue;
					/* zombies too: while one is there, its children
					 * may still be on their way to the subreaper */
					fn(c, arg);
					n++;
					if (top < ARRAY_SIZE(stack))
						stack[top++] = c;
				}
			}
			closedir(d);
		}
		return n;
	}
	/* every process of the machine, by its mount namespace */
	DIR *d = mnt_ns ? opendir("/proc") : NULL;
	if (!d)
		return n;
	for (struct dirent *de; (de = readdir(d));) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == self || pid == except)
			continue;
		char link[64], target[64];
		snprintf(link, sizeof(link), "/proc/%d/ns/mnt", (int)pid);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, mnt_ns) == 0) {
			fn(pid, arg);
			n++;
		}
	}
	closedir(d);
	return n;
}

struct signal_ctx {
	int sig;
	int *pidfds;
	size_t n;
};

static void signal_one(pid_t pid, void *arg)
{
	struct signal_ctx *c = arg;
	if (!c->pidfds) {
		kill(pid, c->sig);
		return;
	}
	/* through a pidfd: a pid reused since the walk is not signalled */
	int fd = pidfd_open_(pid);
	if (fd < 0) {
		kill(pid, c->sig);
		return;
	}
#ifdef SYS_pidfd_send_signal
	if (syscall(SYS_pidfd_send_signal, fd, c->sig, NULL, 0) < 0) {
		close(fd);
		return;
	}
#else
	kill(pid, c->sig);
#endif
	c->pidfds = xrealloc(c->pidfds, (c->n + 1) * sizeof(int));
	c->pidfds[c->n++] = fd;
}

int launch_proc_signal(pid_t root, const char *mnt_ns, pid_t except, int sig)
{
	struct signal_ctx c = { sig, NULL, 0 };
	return launch_proc_walk(root, mnt_ns, except, signal_one, &c);
}

int launch_proc_kill_all(pid_t root, const char *mnt_ns, pid_t except, int sig, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	for (;;) {
		struct signal_ctx c = { sig, xmalloc(sizeof(int)), 0 };
		int found = launch_proc_walk(root, mnt_ns, except, signal_one, &c);
		/* wait for those signalled; reap ours on the way (a child's
		 * pidfd is readable once it is a zombie) */
		for (size_t i = 0; i < c.n; i++) {
			int wait = -1;
			if (deadline >= 0) {
				int64_t l = deadline - now_ms();
				wait = l > 0 ? (int)l : 0;
			}
			struct pollfd p = { .fd = c.pidfds[i], .events = POLLIN };
			while (poll(&p, 1, wait) < 0 && errno == EINTR)
				;
			close(c.pidfds[i]);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		free(c.pidfds);
		if (found == 0)
			return 0;
		if (deadline >= 0 && now_ms() >= deadline)
			return launch_proc_walk(root, mnt_ns, except, signal_one, &(struct signal_ctx){ 0, NULL, 0 });
		if ((size_t)found > c.n) {
			/* some had no pidfd (before Linux 5.3): look again soon */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* --- the guard (proc.h) --- */

/* Everything the guard reads, never freed: after SIGKILL of this process,
 * the guard alone holds the memory. It runs beside the process's threads
 * on the process's TLS, so it calls nothing of libc that keeps state:
 * system calls and memcmp (errno is written only once the process is gone
 * or has exec'd: the supervisor, lib/supervise.h, is what asks it to exec). */
struct launch_guard {
	int pipe[2]; /* end-of-file on [0] once no process holds [1] */
	int proc;    /* /proc, opened before the container's pivot_root */
	int exe;     /* launch-supervise, to exec as the guard; -1: none */
	char ns[64]; /* "mnt:[INODE]" */
	long ns_len;
	char fds[2][16]; /* the supervisor's guard arguments... */
	char *argv[6];	 /* ...as its argv */
	char *envp[1];
	void *stacks; /* the spawner's, then the guard's */
};

#define GUARD_STACK (64u << 10)

/* SIGKILL every process of G's mount namespace but SELF; how many. */
static int guard_kill_all(struct launch_guard *g, long self)
{
	char buf[4096] __attribute__((aligned(8)));
	int n = 0;
	if (syscall(SYS_lseek, g->proc, 0L, SEEK_SET) < 0)
		return 0;
	for (;;) {
		long got = syscall(SYS_getdents64, g->proc, buf, sizeof(buf));
		if (got <= 0)
			return n;
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off); /* getdents64's own layout */
			off += d->d_reclen;
			long pid = 0;
			const char *c = d->d_name;
			for (; *c >= '0' && *c <= '9' && pid < 1L << 30; c++)
				pid = pid * 10 + (*c - '0');
			if (*c || pid <= 0 || pid == self)
				continue;
			char link[40], target[64];
			size_t l = 0;
			for (const char *q = d->d_name; *q; q++)
				link[l++] = *q;
			memcpy(link + l, "/ns/mnt", 8);
			long tl = syscall(SYS_readlinkat, g->proc, link, target, sizeof(target));
			if (tl == g->ns_len && memcmp(target, g->ns, (size_t)tl) == 0) {
				syscall(SYS_kill, pid, SIGKILL);
				n++;
			}
		}
	}
}

void launch_caps_keep_across_exec(void)
{
	/* CAP_KILL and CAP_SYS_PTRACE (the walks read /proc/PID of processes
	 * that are not dumpable): inheritable, then ambient */
	const unsigned long keep = (1UL << CAP_KILL) | (1UL << CAP_SYS_PTRACE);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_geteuid) == 0 || syscall(SYS_capget, &hdr, data) < 0)
		return;
	data[0].inheritable |= data[0].permitted & (uint32_t)keep;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return;
	for (unsigned long cap = 0; cap < 32; cap++)
		if ((keep & (1UL << cap)) && (data[0].permitted & (1U << cap)))
			syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0L, 0L);
}

static int guard_main(void *arg)
{
	struct launch_guard *g = arg;
	syscall(SYS_prctl, PR_SET_NAME, "launch-guard", 0L, 0L, 0L); /* for ps */
	char c;
	while (syscall(SYS_read, g->pipe[0], &c, 1L) > 0) {
		if (c == LAUNCH_GUARD_RELEASE)
			return 0;
		/* The process became the supervisor: the guard becomes the
		 * small one as well, which frees the memory shared until now.
		 * Where that fails, this one goes on. */
		if (c == LAUNCH_GUARD_EXEC && g->exe >= 0) {
			launch_caps_keep_across_exec();
			syscall(SYS_execveat, g->exe, "", g->argv, g->envp, AT_EMPTY_PATH);
		}
	}
	long self = syscall(SYS_getpid);
	/* again, until a walk finds none: a process may fork meanwhile */
	for (int i = 0; i < 100 && guard_kill_all(g, self) > 0; i++)
		;
	return 0;
}

/* The spawner: the guard's parent for an instant, so that the guard is
 * not the process's child. Its descriptors are a copy of the process's at
 * the clone: it drops all but the pipe's read end, /proc and the
 * supervisor, which the guard gets a copy of; the first two stay open
 * across the guard's exec. */
static int guard_spawner(void *arg)
{
	struct launch_guard *g = arg;
	sigset_t all;
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, (long)(_NSIG / 8)); /* Ctrl-C is not for it */
	int keep[] = { g->pipe[0], g->proc, g->exe };
	for (int fd = 0; fd <= 2; fd++) /* launch_fds_close leaves 0-2 */
		if (fd != keep[0] && fd != keep[1] && fd != keep[2])
			syscall(SYS_close, (long)fd);
	launch_fds_close(keep, ARRAY_SIZE(keep));
	syscall(SYS_fcntl, g->pipe[0], F_SETFD, 0L);
	syscall(SYS_fcntl, g->proc, F_SETFD, 0L);
	/* a session of its own: a signal to the caller's process group
	 * (Ctrl-C, kill -9 -PGID) leaves it to do its work */
	syscall(SYS_setsid);
	return clone(guard_main, (char *)g->stacks + 2 * GUARD_STACK, CLONE_VM | SIGCHLD, g) < 0; /* its status */
}

/* On a failed start: what was made so far, and the error. */
static struct launch_guard *guard_fail(struct launch_guard *g, int e, struct launch_error **err)
{
	for (int i = 0; i < 2; i++)
		if (g->pipe[i] >= 0)
			close(g->pipe[i]);
	if (g->proc >= 0)
		close(g->proc);
	if (g->stacks != MAP_FAILED)
		munmap(g->stacks, 2 * GUARD_STACK);
	free(g);
	launch_error_set(err, e, "cannot start the container's guard");
	return NULL;
}

struct launch_guard *launch_guard_start(int exe, struct launch_error **err)
{
	struct launch_guard *g = xcalloc(1, sizeof(*g));
	g->pipe[0] = g->pipe[1] = g->proc = -1;
	g->exe = exe;
	g->stacks = mmap(NULL, 2 * GUARD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ssize_t l = readlink("/proc/self/ns/mnt", g->ns, sizeof(g->ns) - 1);
	if (g->stacks == MAP_FAILED || l <= 0 || l >= (ssize_t)sizeof(g->ns) - 1 || pipe2(g->pipe, O_CLOEXEC) < 0 ||
	    (g->proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return guard_fail(g, l <= 0 || l >= (ssize_t)sizeof(g->ns) - 1 ? EINVAL : errno, err);
	g->ns_len = l;
	/* a guard of the node's namespace would kill every process of the
	 * user's there: only a namespace of the caller's own */
	char parent_link[64], parent_ns[sizeof(g->ns)];
	snprintf(parent_link, sizeof(parent_link), "/proc/%d/ns/mnt", (int)getppid());
	ssize_t pl = readlink(parent_link, parent_ns, sizeof(parent_ns));
	if (pl == l && memcmp(parent_ns, g->ns, (size_t)l) == 0) {
		guard_fail(g, EINVAL, NULL);
		launch_error_msg(err, "internal error: a guard of a mount namespace this process did not create");
		return NULL;
	}
	/* the small guard's argv (supervise.h), the same descriptors */
	snprintf(g->fds[0], sizeof(g->fds[0]), "%d", g->pipe[0]);
	snprintf(g->fds[1], sizeof(g->fds[1]), "%d", g->proc);
	char *argv[] = { LAUNCH_SUPERVISE_NAME, LAUNCH_SUPERVISE_MODE_GUARD, g->fds[0], g->fds[1], g->ns, NULL };
	memcpy(g->argv, argv, sizeof(argv));
	pid_t sp = clone(guard_spawner, (char *)g->stacks + GUARD_STACK, CLONE_VM | SIGCHLD, g);
	if (sp < 0)
		return guard_fail(g, errno, err);
	int st = 0;
	while (waitpid(sp, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return guard_fail(g, EAGAIN, err); /* the guard's clone failed: the process limit, most likely */
	/* the guard's copies stay open; the numbers in G are what it reads
	 * (the same memory): they stay as they are */
	close(g->pipe[0]);
	close(g->proc);
	return g;
}

int launch_guard_fd(const struct launch_guard *g)
{
	return g ? g->pipe[1] : -1;
}

void launch_guard_release(struct launch_guard *g)
{
	if (!g)
		return;
	char c = LAUNCH_GUARD_RELEASE;
	ssize_t r = write(g->pipe[1], &c, 1);
	(void)r;
	close(g->pipe[1]);
	g->pipe[1] = -1;
}
