/* SPDX-License-Identifier: Apache-2.0 */
/* smallfiles: the small-file workload of bench/read.
 *   smallfiles gen DIR      write 10,000 files of 1 to 8 KiB in 300
 *                           directories under DIR, the same bytes every time
 *   smallfiles read DIR N   stat, open, read and close every one of them
 *                           with N processes, each taking every N-th file
 * Compiled statically and placed in the image, so that the loop costs the
 * same inside any container and natively (no shell, no dynamic loader). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILES 10000
#define DIRS 300

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void path_of(char *buf, size_t size, const char *dir, int i)
{
	snprintf(buf, size, "%s/d%03d/f%05d", dir, i % DIRS, i);
}

static int gen(const char *dir)
{
	char p[4096];
	static char data[8192];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return perror(dir), 1;
	for (int d = 0; d < DIRS; d++) {
		snprintf(p, sizeof(p), "%s/d%03d", dir, d);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return perror(p), 1;
	}
	for (int i = 0; i < FILES; i++) {
		size_t n = 1024 + next_rand() % (7 * 1024 + 1);
		/* text-like bytes: compressible, as most small files are */
		for (size_t k = 0; k < n; k++)
			data[k] = (char)(' ' + next_rand() % 64);
		path_of(p, sizeof(p), dir, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) < 0)
			return perror(p), 1;
	}
	return 0;
}

static int reader(const char *dir, int n, int k)
{
	char p[4096];
	static char buf[65536];
	for (int i = k; i < FILES; i += n) {
		path_of(p, sizeof(p), dir, i);
		struct stat st;
		if (stat(p, &st) < 0)
			return perror(p), 1;
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			return perror(p), 1;
		ssize_t r, total = 0;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += r;
		close(fd);
		if (r < 0 || total != st.st_size)
			return fprintf(stderr, "%s: short read\n", p), 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "gen"))
		return gen(argv[2]);
	if (argc != 4 || strcmp(argv[1], "read") != 0) {
		fprintf(stderr, "usage: smallfiles gen DIR | smallfiles read DIR N\n");
		return 2;
	}
	int n = atoi(argv[3]);
	if (n < 1)
		n = 1;
	for (int k = 0; k < n; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0)
			_exit(reader(argv[2], n, k));
	}
	int status, failed = 0;
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return failed;
}
