/* SPDX-License-Identifier: Apache-2.0 */
/* dropgroups: clear the supplementary groups with setgroups(0, NULL), then
 * read FILE to standard output; prints "setgroups ERRNO_NAME" when the call
 * fails. Built static so that it runs in any image
 * (tests/security/test_identity.sh binds it in).
 * Usage: dropgroups FILE */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: dropgroups FILE\n");
		return 2;
	}
	if (setgroups(0, NULL) < 0)
		printf("setgroups %s\n", strerrorname_np(errno));
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("open %s\n", strerrorname_np(errno));
		return 1;
	}
	char buf[256];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
