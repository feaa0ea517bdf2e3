/* SPDX-License-Identifier: Apache-2.0 */
/* Metadata of persistent upper layers (see upper.h). */
#define _GNU_SOURCE
#include "upper.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *const mode_names[] = { "own", "subids", "seccomp" };

static const char *describe(bool root, int mode)
{
	if (!root)
		return "without --root";
	return mode == LAUNCH_IDMAP_SUBIDS ? "with --root and subordinate ids" : "with --root and only your id mapped";
}

int launch_upper_info_read(const char *dir, struct launch_identity *id, struct launch_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/layer.json", dir);
	if (access(path, F_OK) < 0)
		return 1;
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	const char *mode = j ? json_string_value(json_object_get(j, "idmap")) : NULL;
	if (!j || !mode || !json_is_boolean(json_object_get(j, "root"))) {
		json_decref(j);
		return launch_error_msg(err, "%s is damaged (remove it to use the layer as it is)", path);
	}
	id->root = json_is_true(json_object_get(j, "root"));
	id->mode = LAUNCH_IDMAP_OWN;
	for (int i = 0; i < 3; i++)
		if (!strcmp(mode, mode_names[i]))
			id->mode = (enum launch_idmap_mode)i;
	id->subuid = (unsigned long)json_integer_value(json_object_get(j, "subuid"));
	id->subuid_n = (unsigned long)json_integer_value(json_object_get(j, "subuid_n"));
	id->subgid = (unsigned long)json_integer_value(json_object_get(j, "subgid"));
	id->subgid_n = (unsigned long)json_integer_value(json_object_get(j, "subgid_n"));
	json_decref(j);
	return 0;
}

int launch_upper_info_write(const char *dir, const struct launch_identity *id, struct launch_error **err)
{
	struct launch_identity old = { .uid = id->uid, .gid = id->gid };
	int r = launch_upper_info_read(dir, &old, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		bool same = old.root == id->root && (!id->root || old.mode == id->mode) &&
			    (old.mode != LAUNCH_IDMAP_SUBIDS || (old.subuid == id->subuid && old.subgid == id->subgid));
		if (!same)
			return launch_error_msg(err,
						"overlay directory %s was made %s: its files' owners only make "
						"sense that way; run %s, or use another directory",
						dir, describe(old.root, old.mode),
						old.root ? "with --root" : "without --root");
		return 0;
	}
	_cleanup_free_ char *path = xasprintf("%s/layer.json", dir);
	json_t *j = json_pack("{s:i, s:b, s:s, s:I, s:I, s:I, s:I}", "version", 1, "root", id->root, "idmap",
			      mode_names[id->root ? id->mode : LAUNCH_IDMAP_OWN], "subuid", (json_int_t)id->subuid,
			      "subuid_n", (json_int_t)id->subuid_n, "subgid", (json_int_t)id->subgid, "subgid_n",
			      (json_int_t)id->subgid_n);
	_cleanup_free_ char *text = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	if (!text || launch_write_file_atomic(path, text, strlen(text), 0644) < 0)
		return launch_error_set(err, errno, "cannot write %s", path);
	return 0;
}

int launch_upper_note_mountpoints(const char *file, char *const *paths, struct launch_error **err)
{
	if (!paths || !paths[0])
		return 0;
	_cleanup_strv_ char **known = launch_upper_mountpoints(file);
	_cleanup_fclose_ FILE *f = fopen(file, "ae");
	if (!f)
		return launch_error_set(err, errno, "cannot write %s", file);
	for (size_t i = 0; paths[i]; i++) {
		bool seen = false;
		for (size_t k = 0; known[k] && !seen; k++)
			seen = !strcmp(known[k], paths[i]);
		if (!seen)
			fprintf(f, "%s\n", paths[i]);
	}
	if (fflush(f) != 0)
		return launch_error_set(err, errno, "cannot write %s", file);
	return 0;
}

char **launch_upper_mountpoints(const char *file)
{
	char **v = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *text = NULL;
	if (launch_read_file_at(AT_FDCWD, file, 1u << 20, &text, NULL) < 0)
		return v;
	char *next = text;
	for (char *line; (line = strsep(&next, "\n"));)
		if (line[0] == '/')
			launch_strv_push(&v, xstrdup(line));
	return v;
}
