/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving the IMAGE argument (see image.h). */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqfs.h"
#include "util.h"

const char *launch_image_kind_name(enum launch_image_kind k)
{
	return k == LAUNCH_IMAGE_SQUASHFS ? "squashfs" : "directory";
}

static bool looks_like_path(const char *ref)
{
	return strchr(ref, '/') || ref[0] == '.' || strstr(ref, ".sqfs") || strstr(ref, ".squashfs");
}

int launch_image_resolve(const char *ref, struct launch_image *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!*ref)
		return launch_error_msg(err, "the image name is empty");
	struct stat st;
	if (stat(ref, &st) < 0) {
		int e = errno;
		if (e == ENOENT && !looks_like_path(ref))
			return launch_error_msg(err, "image `%s` not found: give the path of a squashfs file or of an "
						     "unpacked root filesystem directory",
						ref);
		return launch_error_set(err, e, "image %s", ref);
	}
	char *abs = realpath(ref, NULL);
	if (!abs)
		return launch_error_set(err, errno, "image %s", ref);
	out->path = abs;
	out->ref = xstrdup(ref);
	if (S_ISDIR(st.st_mode)) {
		out->kind = LAUNCH_IMAGE_DIRECTORY;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		launch_image_clear(out);
		return launch_error_msg(err, "image %s is neither a squashfs file nor a directory", ref);
	}
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		launch_image_clear(out);
		return launch_error_set(err, e, "cannot open image %s", ref);
	}
	if (!launch_sqfs_is_image(fd)) {
		launch_image_clear(out);
		return launch_error_msg(err, "image %s is not a squashfs file (no squashfs magic at its start)", ref);
	}
	out->kind = LAUNCH_IMAGE_SQUASHFS;
	return 0;
}

void launch_image_clear(struct launch_image *img)
{
	free(img->path);
	free(img->ref);
	memset(img, 0, sizeof(*img));
}
