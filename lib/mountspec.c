/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of bind-mount specifications (see mountspec.h). The parser only
 * checks syntax and normalises paths; whether a source exists or a site
 * allows it is decided when the container is built. */
#define _GNU_SOURCE
#include "mountspec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int set_source(struct launch_mount *m, const char *spec, const char *src, struct launch_error **err)
{
	if (!*src)
		return launch_error_msg(err, "invalid mount `%s`: the source path is empty", spec);
	if (src[0] == '/') {
		m->source = launch_path_normalize(src);
		return 0;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return launch_error_set(err, errno, "invalid mount `%s`: cannot make `%s` absolute", spec, src);
	_cleanup_free_ char *abs = xasprintf("%s/%s", cwd, src);
	m->source = launch_path_normalize(abs);
	return 0;
}

static int set_destination(struct launch_mount *m, const char *spec, const char *dst, struct launch_error **err)
{
	if (!*dst)
		return launch_error_msg(err, "invalid mount `%s`: the destination path is empty", spec);
	if (dst[0] != '/')
		return launch_error_msg(err, "invalid mount `%s`: the destination `%s` must be an absolute path", spec,
					dst);
	m->destination = launch_path_normalize(dst);
	if (strcmp(m->destination, "/") == 0)
		return launch_error_msg(err, "invalid mount `%s`: cannot mount over the container's root directory",
					spec);
	return 0;
}

int launch_mountspec_parse_short(const char *spec, struct launch_mount *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *copy = xstrdup(spec);
	char *parts[4] = { 0 };
	size_t n = 0;
	char *save = copy;
	for (char *p = copy;; p++) {
		if (*p == ':' || *p == '\0') {
			if (n == 3)
				return launch_error_msg(
					err, "invalid mount `%s`: too many `:` (expected HOST[:CONTAINER[:ro|rw]])",
					spec);
			bool end = *p == '\0';
			*p = '\0';
			parts[n++] = save;
			save = p + 1;
			if (end)
				break;
		}
	}
	if (set_source(out, spec, parts[0], err) < 0)
		goto fail;
	if (set_destination(out, spec, n > 1 ? parts[1] : out->source, err) < 0)
		goto fail;
	if (n == 3) {
		if (strcmp(parts[2], "ro") == 0)
			out->readonly = true;
		else if (strcmp(parts[2], "rw") != 0) {
			launch_error_msg(err, "invalid mount `%s`: unknown option `%s` (expected ro or rw)", spec,
					 parts[2]);
			goto fail;
		}
	}
	return 0;
fail:
	launch_mount_clear(out);
	return -1;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

int launch_mountspec_parse_long(const char *spec, struct launch_mount *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *copy = xstrdup(spec);
	char *save = NULL;
	bool have_type = false;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "type")) {
			if (!val || strcmp(val, "bind") != 0) {
				launch_error_msg(
					err, "invalid mount `%s`: unsupported type `%s` (only type=bind is supported)",
					spec, val ? val : "");
				goto fail;
			}
			have_type = true;
		} else if (!strcmp(tok, "source") || !strcmp(tok, "src")) {
			if (out->source) {
				launch_error_msg(err, "invalid mount `%s`: source given twice", spec);
				goto fail;
			}
			if (set_source(out, spec, val ? val : "", err) < 0)
				goto fail;
		} else if (!strcmp(tok, "destination") || !strcmp(tok, "dst") || !strcmp(tok, "target")) {
			if (out->destination) {
				launch_error_msg(err, "invalid mount `%s`: destination given twice", spec);
				goto fail;
			}
			if (set_destination(out, spec, val ? val : "", err) < 0)
				goto fail;
		} else if (!strcmp(tok, "readonly") || !strcmp(tok, "ro")) {
			if (parse_bool(val, &out->readonly) < 0) {
				launch_error_msg(err, "invalid mount `%s`: readonly must be true or false, not `%s`",
						 spec, val);
				goto fail;
			}
		} else {
			launch_error_msg(
				err,
				"invalid mount `%s`: unknown key `%s` (expected type, source, destination, readonly)",
				spec, tok);
			goto fail;
		}
	}
	if (!have_type) {
		launch_error_msg(err, "invalid mount `%s`: missing type=bind", spec);
		goto fail;
	}
	if (!out->source) {
		launch_error_msg(err, "invalid mount `%s`: missing source=HOST_PATH", spec);
		goto fail;
	}
	if (!out->destination) {
		launch_error_msg(err, "invalid mount `%s`: missing destination=CONTAINER_PATH", spec);
		goto fail;
	}
	return 0;
fail:
	launch_mount_clear(out);
	return -1;
}

int launch_mountspec_parse_list(const char *list, struct launch_mounts *out, struct launch_error **err)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct launch_mount m;
		if (launch_mountspec_parse_short(tok, &m, err) < 0)
			return -1;
		launch_mounts_push(out, &m);
	}
	return 0;
}

void launch_mount_clear(struct launch_mount *m)
{
	free(m->source);
	free(m->destination);
	memset(m, 0, sizeof(*m));
}

void launch_mounts_push(struct launch_mounts *ms, struct launch_mount *m)
{
	ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
	ms->v[ms->n++] = *m;
	memset(m, 0, sizeof(*m));
}

void launch_mounts_clear(struct launch_mounts *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		launch_mount_clear(&ms->v[i]);
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}
