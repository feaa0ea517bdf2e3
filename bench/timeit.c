/* SPDX-License-Identifier: Apache-2.0 */
/* timeit: run a command N times (fork, exec, wait4) and print the median
 * wall time in microseconds and the largest peak RSS in KiB, as
 * "median_us=... min_us=... maxrss_kb=...". Output of the command goes to
 * /dev/null. Usage: timeit N CMD [ARG...]
 * With -p, start the N runs at once and print the wall time until the last
 * one ended: "wall_us=... failures=...". Usage: timeit -p N CMD [ARG...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int parallel(int n, char **argv)
{
	struct timespec a, b;
	int failures = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		if (spawn(argv) < 0)
			failures++;
	int st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failures++;
	clock_gettime(CLOCK_MONOTONIC, &b);
	long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
	printf("wall_us=%ld failures=%d\n", us, failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "-p"))
		return parallel(atoi(argv[2]), argv + 3);
	if (argc < 3) {
		fprintf(stderr, "usage: timeit N CMD [ARG...]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	if (n < 1)
		n = 1;
	long *us = calloc((size_t)n, sizeof(long));
	long maxrss = 0;
	int failures = 0;
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		pid_t pid = spawn(argv + 2);
		int st;
		struct rusage ru;
		wait4(pid, &st, 0, &ru);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failures++;
		us[i] = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	qsort(us, (size_t)n, sizeof(long), cmp);
	printf("median_us=%ld min_us=%ld maxrss_kb=%ld failures=%d\n", us[n / 2], us[0], maxrss, failures);
	free(us);
	return failures ? 1 : 0;
}
