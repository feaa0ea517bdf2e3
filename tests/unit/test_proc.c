/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/proc.c: spawning with captured output and fed input,
 * exec failures reported by errno, functions run in the child and their
 * reports, the deadline that kills a process group, descriptors a child
 * must not hold, waiting on a process that is not a child, and the
 * process walker. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"
#include "util.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_capture_and_input(void)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"cat; echo err >&2; exit 3", NULL };
	struct launch_proc_spec s = { .path = "/bin/sh",
				      .argv = argv,
				      .in = LAUNCH_PROC_PIPE,
				      .out = LAUNCH_PROC_PIPE,
				      .err = LAUNCH_PROC_PIPE };
	struct launch_proc_io io = { .input = "hello\n", .input_len = 6 };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_proc_run(&s, &io, 0, &err), 3);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(io.out, "hello");
	CHECK_STREQ(io.err, "err");
	free(io.out);
	free(io.err);

	/* stderr merged into stdout; only the end of a long output is kept */
	char *argv2[] = { (char *)"/bin/sh", (char *)"-c", (char *)"seq 1 20000; echo last >&2", NULL };
	struct launch_proc_spec s2 = {
		.path = "/bin/sh", .argv = argv2, .out = LAUNCH_PROC_PIPE, .err = LAUNCH_PROC_STDOUT
	};
	struct launch_proc_io io2 = { .max = 64 };
	CHECK_INTEQ(launch_proc_run(&s2, &io2, 0, &err), 0);
	CHECK(io2.out && strlen(io2.out) <= 64);
	CHECK(io2.out && strstr(io2.out, "20000\nlast") != NULL);
	free(io2.out);
}

static void test_exec_failure(void)
{
	struct launch_proc_spec s = { .path = "/nonexistent/program" };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_proc_run(&s, NULL, 0, &err), -1);
	CHECK(err && err->exit_code == 127);
	CHECK_ERROR(err, "cannot execute /nonexistent/program: No such file or directory");

	/* a name without '/' is searched in PATH */
	struct launch_proc_spec t = { .path = "true" };
	err = NULL;
	CHECK_INTEQ(launch_proc_run(&t, NULL, 0, &err), 0);
	CHECK_NO_ERROR(err);
}

static int fails_with_report(void *arg, int report)
{
	(void)arg;
	dprintf(report, "the child's own reason");
	return 4;
}

static int exits_with(void *arg, int report)
{
	(void)report;
	return *(int *)arg;
}

static void test_child_functions(void)
{
	struct launch_proc_spec s = { .child = fails_with_report };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_proc_run(&s, NULL, 0, &err), -1);
	CHECK(err && err->exit_code == 4);
	CHECK_ERROR(err, "the child's own reason");

	int code = 9;
	struct launch_proc_spec t = { .child = exits_with, .arg = &code };
	err = NULL;
	CHECK_INTEQ(launch_proc_run(&t, NULL, 0, &err), 9);
	CHECK_NO_ERROR(err);
}

/* A child that writes more than a pipe holds to a parent that stops
 * reading: it must see EPIPE, which it cannot if it holds the read end
 * itself. */
static int flood(void *arg, int report)
{
	(void)arg, (void)report;
	signal(SIGPIPE, SIG_IGN);
	static char buf[1 << 16];
	for (int i = 0; i < 64; i++)
		if (launch_write_all(STDOUT_FILENO, buf, sizeof(buf)) < 0)
			return errno == EPIPE ? 2 : 1;
	return 0;
}

static void test_parent_ends_closed(void)
{
	struct launch_proc_spec s = { .child = flood, .out = LAUNCH_PROC_PIPE };
	struct launch_proc p;
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_proc_spawn(&s, &p, &err), 0);
	close(p.out); /* the reader goes away */
	p.out = -1;
	CHECK_INTEQ(launch_proc_wait(&p, NULL, 5000, &err), 2);
	launch_proc_close(&p);
}

static void test_deadline(void)
{
	/* the shell's child holds the group: killed with it at the deadline */
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"sleep 30 & sleep 30", NULL };
	struct launch_proc_spec s = { .path = "/bin/sh", .argv = argv, .new_pgrp = true };
	struct launch_proc_io io = { 0 };
	struct launch_error *err = NULL;
	long long t0 = now_ms();
	CHECK_INTEQ(launch_proc_run(&s, &io, 300, &err), 128 + SIGKILL);
	CHECK(io.timed_out);
	CHECK(now_ms() - t0 < 5000);
}

static void test_wait_pid_and_walk(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	int fd = launch_proc_open(child);
	CHECK(!launch_proc_wait_pid(child, fd, 50));
	CHECK_INTEQ(launch_proc_signal(getpid(), NULL, 0, 0), 1);
	CHECK_INTEQ(launch_proc_kill_all(getpid(), NULL, 0, SIGTERM, 5000), 0);
	CHECK(launch_proc_wait_pid(child, fd, 1000));
	if (fd >= 0)
		close(fd);
	waitpid(child, NULL, WNOHANG);
	CHECK_INTEQ(launch_proc_signal(getpid(), NULL, 0, 0), 0);
}

int main(void)
{
	test_capture_and_input();
	test_exec_failure();
	test_child_functions();
	test_parent_ends_closed();
	test_deadline();
	test_wait_pid_and_walk();
	return check_done();
}
