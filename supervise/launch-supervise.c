/* SPDX-License-Identifier: Apache-2.0 */
/* launch-supervise: a running container's supervisor and guard, in as
 * little memory as a process can have (lib/supervise.h has the protocol).
 *
 * launch execs it once the command runs, in place of supervising the
 * container itself: launch's own memory (its libraries, its heap, its
 * stack) is gone for the rest of the run, which is what 64 containers of
 * a job on one node would otherwise keep 64 times. So it is freestanding:
 * no libc, no dynamic loader, no heap; a few pages of stack and data. It
 * makes system calls only, through the two entry points below (x86_64 and
 * aarch64; elsewhere the build leaves it out and launch supervises).
 *
 * Supervising: the same rules as lib/container.c's supervise(), without a
 * terminal (a run with one keeps launch). */
#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/prctl.h>
#include <linux/signal.h>
#include <linux/signalfd.h>
#include <linux/time_types.h>
#include <linux/wait.h>

#include "supervise.h"

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif
#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

/* --- system calls --- */

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
#elif defined(__aarch64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
	return x0;
}
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl start_c\n"
	"	brk #0\n");
#else
#error "launch-supervise: no system call entry for this architecture"
#endif

#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* What the compiler may call for copies and zeroing. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}
void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

static void __attribute__((noreturn)) sys_exit(int code)
{
	for (;;)
		sys3(__NR_exit_group, code, 0, 0);
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A decimal (with an optional '-') or, with BASE 16, a hexadecimal
 * number; -1 when S is not all digits. */
static int64_t number(const char *s, int base)
{
	int neg = *s == '-';
	s += neg;
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : base == 16 && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	return neg ? -(int64_t)v : (int64_t)v;
}

/* "PREFIX/" DEC "SUFFIX" into BUF (of at least 64 bytes). */
static const char *path_of(char *buf, const char *prefix, long dec, const char *suffix)
{
	char digits[24];
	int n = 0;
	do
		digits[n++] = (char)('0' + dec % 10);
	while ((dec /= 10) > 0);
	size_t l = 0;
	for (const char *c = prefix; *c; c++)
		buf[l++] = *c;
	while (n)
		buf[l++] = digits[--n];
	for (const char *c = suffix; *c; c++)
		buf[l++] = *c;
	buf[l] = '\0';
	return buf;
}

static void say(const char *msg)
{
	char line[512];
	size_t l = 0;
	for (const char *c = "launch: "; *c; c++)
		line[l++] = *c;
	for (const char *c = msg; *c && l < sizeof(line) - 1; c++)
		line[l++] = *c;
	line[l++] = '\n';
	sys3(__NR_write, 2, line, l);
}

static int64_t now_ms(void)
{
	struct __kernel_timespec ts = { 0 };
	sys3(__NR_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* getdents64's records (the kernel's struct linux_dirent64) */
struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* The process number a directory entry of /proc names, 0 for others. */
static long entry_pid(const struct dirent64 *d)
{
	int64_t v = number(d->d_name, 10);
	return v > 0 && v < 1L << 30 ? (long)v : 0;
}

/* --- the guard --- */

/* SIGKILL every process of mount namespace NS but SELF, found through
 * PROC; how many. */
static int kill_namespace(int proc, const char *ns, long self)
{
	static char buf[4096] __attribute__((aligned(8)));
	size_t ns_len = str_len(ns);
	int n = 0;
	if (sys3(__NR_lseek, proc, 0, 0) < 0)
		return 0;
	for (;;) {
		long got = sys3(__NR_getdents64, proc, buf, sizeof(buf));
		if (got <= 0)
			return n;
		for (long off = 0; off < got;) {
			const struct dirent64 *d = (const struct dirent64 *)(buf + off);
			off += d->d_reclen;
			long pid = entry_pid(d);
			if (!pid || pid == self)
				continue;
			char link[64], target[64];
			long tl = sys5(__NR_readlinkat, proc, path_of(link, "", pid, "/ns/mnt"), target, sizeof(target),
				       0);
			if (tl == (long)ns_len) {
				size_t i = 0;
				while (i < ns_len && target[i] == ns[i])
					i++;
				if (i == ns_len) {
					sys3(__NR_kill, pid, SIGKILL, 0);
					n++;
				}
			}
		}
	}
}

static int guard(char **argv)
{
	int64_t pipe_fd = number(argv[2], 10), proc = number(argv[3], 10);
	const char *ns = argv[4];
	if (pipe_fd < 0 || proc < 0)
		return 2;
	sys5(__NR_prctl, PR_SET_NAME, "launch-guard", 0, 0, 0);
	char c;
	long r;
	while ((r = sys3(__NR_read, pipe_fd, &c, 1)) > 0 || r == -EINTR)
		if (r > 0 && c == LAUNCH_GUARD_RELEASE)
			return 0;
	long self = sys3(__NR_getpid, 0, 0, 0);
	/* again, until a walk finds none: a process may fork meanwhile */
	for (int i = 0; i < 100 && kill_namespace((int)proc, ns, self) > 0; i++)
		;
	return 0;
}

/* --- the supervisor --- */

static long self_pid;

#define MAX_WALK 4096

/* PID, a descendant (a number of a children file; -1: none): signalled
 * with SIG, counted in *N, and pushed on STACK to be walked in turn. */
static void descendant(long pid, int sig, long *stack, size_t *top, int *n)
{
	if (pid <= 0 || pid == self_pid)
		return;
	if (sig)
		sys3(__NR_kill, pid, sig, 0);
	(*n)++;
	if (*top < MAX_WALK)
		stack[(*top)++] = pid;
}

/* Send SIG (0: only count) to every descendant of this process, down the
 * tree through /proc/PID/task/TID/children, zombies included (their
 * children may be on their way to this subreaper); how many. */
static int signal_descendants(int sig)
{
	static long stack[MAX_WALK];
	static char dents[2048] __attribute__((aligned(8)));
	static char text[4096];
	size_t top = 0;
	int n = 0;
	stack[top++] = self_pid;
	while (top > 0) {
		long p = stack[--top];
		char path[64];
		long dir = sys3(__NR_openat, AT_FDCWD, path_of(path, "/proc/", p, "/task"),
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		long got;
		while ((got = sys3(__NR_getdents64, dir, dents, sizeof(dents))) > 0) {
			for (long off = 0; off < got;) {
				const struct dirent64 *d = (const struct dirent64 *)(dents + off);
				off += d->d_reclen;
				long tid = entry_pid(d);
				char cpath[64];
				long f = tid ? sys3(__NR_openat, dir, path_of(cpath, "", tid, "/children"),
						    O_RDONLY | O_CLOEXEC)
					     : -1;
				if (f < 0)
					continue;
				/* numbers and spaces, read in pieces: a number may
				 * go on in the next one */
				long cur = -1, len;
				while ((len = sys3(__NR_read, f, text, sizeof(text))) > 0)
					for (long i = 0; i < len; i++) {
						if (text[i] >= '0' && text[i] <= '9') {
							cur = (cur < 0 ? 0 : cur * 10) + (text[i] - '0');
							continue;
						}
						descendant(cur, sig, stack, &top, &n);
						cur = -1;
					}
				descendant(cur, sig, stack, &top, &n);
				sys3(__NR_close, f, 0, 0);
			}
		}
		sys3(__NR_close, dir, 0, 0);
	}
	return n;
}

/* The exit status of wait status ST: the code, or 128+N for signal N. */
static int exit_status(int st)
{
	if ((st & 0x7f) == 0)
		return (st >> 8) & 0xff;
	if ((st & 0x7f) != 0x7f)
		return 128 + (st & 0x7f);
	return 255;
}

static int supervise(char **argv)
{
	int64_t child = number(argv[2], 10), mask = number(argv[3], 16), server = number(argv[4], 10),
		guard_fd = number(argv[5], 10), grace = number(argv[6], 10);
	int debug = str_eq(argv[7], "1");
	if (child <= 0 || mask < 0 || grace < 0)
		return 2;
	sys5(__NR_prctl, PR_SET_NAME, "launch", 0, 0, 0);
	self_pid = sys3(__NR_getpid, 0, 0, 0);
	uint64_t set = (uint64_t)mask;
	long sfd = sys5(__NR_signalfd4, -1, &set, sizeof(set), O_CLOEXEC, 0);
	/* launch is gone: the guard, which shared its memory, execs this
	 * program too (lib/proc.c) */
	if (guard_fd >= 0) {
		char c = LAUNCH_GUARD_EXEC;
		sys3(__NR_write, guard_fd, &c, 1);
	}
	int status = 255, main_done = 0, termed = 0;
	int64_t kill_at = -1;
	for (;;) {
		int ws;
		long p;
		while ((p = sys5(__NR_wait4, -1, &ws, WNOHANG, 0, 0)) > 0)
			if (p == child) {
				main_done = 1;
				status = exit_status(ws);
			}
		if (p == -ECHILD)
			break;
		/* only when something is left: the walk over /proc costs */
		if (main_done && !termed) {
			termed = 1;
			if (signal_descendants(SIGTERM) > 0) {
				if (debug)
					say("main process exited: sent SIGTERM to the processes left");
				kill_at = now_ms() + grace * 1000;
			}
		}
		struct __kernel_timespec ts, *tsp = NULL;
		if (kill_at >= 0) {
			int64_t left = kill_at - now_ms();
			if (left <= 0) {
				/* and again while any is left: an orphan this
				 * walk could not see comes back to us */
				signal_descendants(SIGKILL);
				kill_at = now_ms() + 100;
			} else {
				ts.tv_sec = left / 1000;
				ts.tv_nsec = (left % 1000) * 1000000;
				tsp = &ts;
			}
		}
		if (sfd < 0 && !tsp) { /* no signalfd (no memory for one): look every 10 ms */
			ts.tv_sec = 0;
			ts.tv_nsec = 10000000;
			tsp = &ts;
		}
		struct pollfd pfd[2] = { { .fd = (int)sfd, .events = POLLIN },
					 { .fd = (int)server, .events = POLLIN } };
		long r = sys5(__NR_ppoll, pfd, server >= 0 ? 2 : 1, tsp, 0, 8);
		if (r <= 0)
			continue;
		if (server >= 0 && pfd[1].revents) {
			/* The image server is gone (killed): every file of the
			 * image now fails to read. Better an end that says why. */
			say(LAUNCH_SERVER_GONE_MSG);
			signal_descendants(SIGKILL);
			server = -1;
		}
		if (!pfd[0].revents)
			continue;
		struct signalfd_siginfo si;
		if (sys3(__NR_read, sfd, &si, sizeof(si)) != (long)sizeof(si) || si.ssi_signo == SIGCHLD)
			continue;
		/* Signals the terminal sent to the whole foreground process
		 * group already reached the container: forward only those sent
		 * to us. */
		if (si.ssi_code == SI_KERNEL)
			continue;
		if (!main_done)
			sys3(__NR_kill, child, si.ssi_signo, 0);
	}
	if (debug)
		say("all container processes ended");
	if (guard_fd >= 0) {
		char c = LAUNCH_GUARD_RELEASE;
		sys3(__NR_write, guard_fd, &c, 1);
	}
	return status;
}

void __attribute__((noreturn, used)) start_c(long *sp);
void __attribute__((noreturn, used)) start_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	if (argc == 8 && str_eq(argv[1], LAUNCH_SUPERVISE_MODE_RUN))
		sys_exit(supervise(argv));
	if (argc == 5 && str_eq(argv[1], LAUNCH_SUPERVISE_MODE_GUARD))
		sys_exit(guard(argv));
	say("launch-supervise is started by launch itself, not by hand");
	sys_exit(2);
}
