/* SPDX-License-Identifier: Apache-2.0 */
/* fsprobe: what a file system shows of its files, one line per question,
 * the same wherever it runs. Built static so that it runs in any image
 * (tests/integration/test_sqfs_read.sh puts it in one).
 *   fsprobe stat PATH...          ino nlink mode(octal) major,minor size uid gid
 *   fsprobe xattr PATH            NAME=VALUE per attribute, in listing order
 *   fsprobe setxattr PATH NAME VALUE   (to make a fixture)
 *   fsprobe statfs PATH           bsize blocks files namemax
 *   fsprobe pread PATH OFF LEN    LEN bytes from OFF to standard output
 *   fsprobe list DIR              every name readdir returns but . and .. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int do_stat(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		struct stat st;
		if (lstat(argv[i], &st) < 0)
			return perror(argv[i]), 1;
		printf("%llu %lu %o %u,%u %lld %u %u\n", (unsigned long long)st.st_ino, (unsigned long)st.st_nlink,
		       st.st_mode, major(st.st_rdev), minor(st.st_rdev), (long long)st.st_size, st.st_uid, st.st_gid);
	}
	return 0;
}

static int do_xattr(const char *path)
{
	static char names[65536], value[65536];
	ssize_t n = llistxattr(path, names, sizeof(names));
	if (n < 0)
		return perror(path), 1;
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		ssize_t v = lgetxattr(path, p, value, sizeof(value) - 1);
		if (v < 0)
			return perror(p), 1;
		value[v] = '\0';
		printf("%s=%s\n", p, value);
	}
	return 0;
}

static int do_statfs(const char *path)
{
	struct statfs st;
	if (statfs(path, &st) < 0)
		return perror(path), 1;
	printf("%ld %llu %llu %ld\n", (long)st.f_bsize, (unsigned long long)st.f_blocks, (unsigned long long)st.f_files,
	       (long)st.f_namelen);
	return 0;
}

static int do_pread(const char *path, long long off, long long len)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return perror(path), 1;
	while (len > 0) {
		ssize_t r = pread(fd, buf, len < (long long)sizeof(buf) ? (size_t)len : sizeof(buf), off);
		if (r <= 0)
			break;
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			return 1;
		off += r;
		len -= r;
	}
	close(fd);
	return 0;
}

static int do_list(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return perror(path), 1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			printf("%s\n", e->d_name);
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "stat"))
		return do_stat(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "xattr"))
		return do_xattr(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "setxattr")) {
		if (lsetxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0) < 0)
			return perror(argv[2]), 1;
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "statfs"))
		return do_statfs(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "pread"))
		return do_pread(argv[2], atoll(argv[3]), atoll(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "list"))
		return do_list(argv[2]);
	fprintf(stderr, "usage: fsprobe stat|xattr|setxattr|statfs|pread|list ...\n");
	return 2;
}
