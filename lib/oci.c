/* SPDX-License-Identifier: Apache-2.0 */
/* Bundle config.json to launch_spec (see oci.h). The process runs with
 * launch's rootless model whatever the bundle asks: uid 0 in the bundle
 * means --root (0 maps to the caller, with the five capabilities), any other
 * uid means the caller's own; capabilities, seccomp and namespaces of the
 * bundle are launch's, not the bundle's. The bundle's hooks run (before the
 * site's) and its annotations select the site's hooks. */
#define _GNU_SOURCE
#include "oci.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "util.h"

static const char *const own_types[] = { "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "tmpfs", NULL };

static bool has_option(json_t *opts, const char *o)
{
	size_t i;
	json_t *v;
	json_array_foreach (opts, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), o))
			return true;
	return false;
}

int launch_oci_load(const char *bundle, const struct launch_config *c, struct launch_spec *spec,
		    struct launch_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	struct launch_json_doc doc;
	if (launch_json_doc_load(&doc, path, err) < 0)
		return -1;
	int ret = -1;
	_cleanup_free_ char *rootfs = NULL;
	_cleanup_strv_ char **env = NULL;
	json_t *root = json_object_get(doc.root, "root"), *proc = json_object_get(doc.root, "process");
	const char *rp = json_string_value(json_object_get(root, "path"));
	if (!json_is_object(doc.root) || !rp) {
		launch_json_error_at(err, &doc, "", "no root.path: not an OCI runtime config");
		goto out;
	}
	rootfs = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);
	char *abs = realpath(rootfs, NULL);
	if (!abs) {
		launch_error_set(err, errno, "%s: root.path %s", path, rootfs);
		goto out;
	}
	spec->image.kind = LAUNCH_IMAGE_DIRECTORY;
	spec->image.path = abs;
	spec->image.ref = xstrdup(bundle);
	if (!json_is_object(proc)) {
		launch_json_error_at(err, &doc, "", "no process: nothing to run");
		goto out;
	}
	json_t *args = json_object_get(proc, "args");
	if (!args) {
		launch_json_error_at(err, &doc, "/process", "no process.args: nothing to run");
		goto out;
	}
	if (launch_json_get_strv(&doc, args, "/process/args", "process.args", 0, &spec->argv, err) < 0)
		goto out;
	if (!spec->argv[0]) {
		launch_json_error_at(err, &doc, "/process/args", "process.args is empty");
		goto out;
	}
	if (json_object_get(proc, "env") &&
	    launch_json_get_strv(&doc, json_object_get(proc, "env"), "/process/env", "process.env", 0, &env, err) < 0)
		goto out;
	/* the bundle's environment is the process's, as for any OCI runtime */
	if (launch_env_build(&spec->env, NULL, c ? c->env_deny : NULL, env, NULL, err) < 0)
		goto out;
	const char *cwd = json_string_value(json_object_get(proc, "cwd"));
	if (cwd && cwd[0] == '/' && strcmp(cwd, "/"))
		spec->workdir = xstrdup(cwd);
	json_t *uid = json_object_get(json_object_get(proc, "user"), "uid");
	launch_identity_init(&spec->id, json_is_integer(uid) && json_integer_value(uid) == 0, NULL);
	json_t *mounts = json_object_get(doc.root, "mounts"), *m;
	size_t i;
	json_array_foreach (mounts, i, m) {
		_cleanup_free_ char *ptr = xasprintf("/mounts/%zu", i);
		const char *type = json_string_value(json_object_get(m, "type"));
		const char *src = json_string_value(json_object_get(m, "source"));
		const char *dst = json_string_value(json_object_get(m, "destination"));
		json_t *opts = json_object_get(m, "options");
		bool bind = (type && !strcmp(type, "bind")) || has_option(opts, "bind") || has_option(opts, "rbind");
		if (!bind) {
			bool ours = false;
			for (size_t k = 0; type && own_types[k]; k++)
				ours |= !strcmp(type, own_types[k]);
			if (!ours) {
				launch_json_error_at(err, &doc, ptr,
						     "mount of type %s on %s is not supported (only bind mounts; "
						     "launch makes /proc, /sys, /dev and /tmp itself)",
						     type ? type : "(none)", dst ? dst : "?");
				goto out;
			}
			continue;
		}
		if (!src || !dst || src[0] != '/' || dst[0] != '/') {
			launch_json_error_at(err, &doc, ptr, "a bind mount needs an absolute source and destination");
			goto out;
		}
		struct launch_mount lm = { .source = launch_path_normalize(src),
					   .destination = launch_path_normalize(dst),
					   .readonly = has_option(opts, "ro") };
		launch_mounts_push(&spec->mounts, &lm);
	}
	json_t *ann = json_object_get(doc.root, "annotations");
	if (ann && !json_is_object(ann)) {
		launch_json_error_at(err, &doc, "/annotations", "annotations must be an object of strings");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach (ann, k, v) {
		if (!json_is_string(v)) {
			_cleanup_free_ char *ptr = launch_json_pointer("/annotations", k);
			launch_json_error_at(err, &doc, ptr, "annotation values must be strings");
			goto out;
		}
		launch_strv_push(&spec->annotations, xasprintf("%s=%s", k, json_string_value(v)));
	}
	if (launch_hooks_parse_bundle(&spec->hooks, &doc, json_object_get(doc.root, "hooks"), path, err) < 0)
		goto out;
	ret = 0;
out:
	launch_json_doc_clear(&doc);
	return ret;
}
