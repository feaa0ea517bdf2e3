/* SPDX-License-Identifier: Apache-2.0 */
/* Per-user directories and path templates (see paths.h). */
#define _GNU_SOURCE
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include "ids.h"
#include "trust.h"
#include "util.h"

static const char *lookup(const char *name, size_t n, char *buf, size_t bufsz)
{
	if (n == 3 && !strncmp(name, "UID", 3)) {
		snprintf(buf, bufsz, "%u", getuid());
		return buf;
	}
	static const char *const vars[] = { "USER", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME" };
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		if (strlen(vars[i]) == n && !strncmp(name, vars[i], n)) {
			const char *v = getenv(vars[i]);
			if (!v && i == 0) {
				struct launch_identity id;
				launch_identity_init(&id, false, NULL);
				snprintf(buf, bufsz, "%s", id.user);
				launch_identity_clear(&id);
				return buf;
			}
			return v;
		}
	return NULL;
}

static const char *env_lookup(void *arg, const char *name, size_t n, char *buf, size_t bufsz)
{
	(void)arg;
	return lookup(name, n, buf, bufsz);
}

int launch_expand_template(const char *tpl, char **out, struct launch_error **err)
{
	return launch_expand_template_with(tpl, env_lookup, NULL, out, err);
}

int launch_expand_template_with(const char *tpl, launch_template_lookup fn, void *arg, char **out,
				struct launch_error **err)
{
	size_t cap = strlen(tpl) + 64, o = 0;
	_cleanup_free_ char *r = xmalloc(cap);
	for (const char *p = tpl; *p;) {
		const char *val = NULL;
		char buf[256];
		if (*p == '$') {
			const char *name = p + 1, *end;
			bool brace = *name == '{';
			if (brace)
				name++;
			end = name;
			while (*end == '_' || (*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') ||
			       (*end >= '0' && *end <= '9'))
				end++;
			if (brace && *end != '}')
				return launch_error_msg(err, "invalid template `%s`: missing `}`", tpl);
			val = fn(arg, name, (size_t)(end - name), buf, sizeof(buf));
			if (!val)
				return launch_error_msg(
					err,
					"invalid template `%s`: unknown or unset variable `%.*s` (use $USER, "
					"$UID, $HOME, $XDG_RUNTIME_DIR or $XDG_DATA_HOME)",
					tpl, (int)(end - name), name);
			p = end + (brace ? 1 : 0);
		} else {
			buf[0] = *p++;
			buf[1] = '\0';
			val = buf;
		}
		size_t n = strlen(val);
		if (o + n + 1 > cap) {
			cap = (o + n + 1) * 2;
			r = xrealloc(r, cap);
		}
		memcpy(r + o, val, n);
		o += n;
	}
	r[o] = '\0';
	*out = steal_pointer(&r);
	return 0;
}

static bool usable_xdg(const char *xdg, char **why)
{
	struct stat st;
	if (!xdg || !*xdg) {
		*why = xstrdup("XDG_RUNTIME_DIR is not set");
		return false;
	}
	if (xdg[0] != '/' || stat(xdg, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*why = xasprintf("XDG_RUNTIME_DIR=%s is not a directory", xdg);
		return false;
	}
	if (st.st_uid != getuid() || (st.st_mode & 077) || access(xdg, W_OK) < 0) {
		*why = xasprintf("XDG_RUNTIME_DIR=%s is not a private directory of yours", xdg);
		return false;
	}
	return true;
}

int launch_runtime_dir_pick(const struct launch_config *c, char **out, const char **env_name, char **why,
			    struct launch_error **err)
{
	const char *forced = getenv("LAUNCH_RUNTIME_DIR");
	_cleanup_free_ char *fallback = NULL;
	*env_name = NULL;
	if (forced && forced[0] == '/') {
		*out = xstrdup(forced); /* the SPANK plugin pins it for a job's containers */
		*env_name = "LAUNCH_RUNTIME_DIR";
	} else if (c && c->runtime_dir) {
		if (launch_expand_template(c->runtime_dir, out, err) < 0)
			return launch_error_wrap(err, "site config runtime_dir");
	} else {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (usable_xdg(xdg, &fallback)) {
			*out = xasprintf("%s/launch", xdg);
			*env_name = "XDG_RUNTIME_DIR";
		} else {
			*out = xasprintf("/tmp/launch-%u", getuid());
		}
	}
	if (why)
		*why = steal_pointer(&fallback);
	return 0;
}

int launch_runtime_dir(const struct launch_config *c, char **out, char **note, struct launch_error **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *why = NULL;
	const char *env_name;
	if (launch_runtime_dir_pick(c, &dir, &env_name, &why, err) < 0)
		return -1;
	int fd = launch_trust_dir(dir, getuid(), 0700, LAUNCH_TRUST_CREATE | LAUNCH_TRUST_PRIVATE, "runtime directory",
				  "set LAUNCH_RUNTIME_DIR or XDG_RUNTIME_DIR to a directory of yours", err);
	if (fd < 0)
		return -1;
	close(fd);
	if (note)
		*note = steal_pointer(&why);
	*out = steal_pointer(&dir);
	return 0;
}

int launch_store_dir_pick(const struct launch_config *c, char **out, const char **env_name, struct launch_error **err)
{
	*env_name = NULL;
	if (c && c->store) {
		if (launch_expand_template(c->store, out, err) < 0) {
			const char *where = launch_config_origin(c, "store");
			return launch_error_wrap(err, "store in %s", where ? where : "the config");
		}
		return 0;
	}
	const char *data = getenv("XDG_DATA_HOME");
	if (data && data[0] == '/') {
		*out = xasprintf("%s/launch", data);
		*env_name = "XDG_DATA_HOME";
		return 0;
	}
	const char *home = getenv("HOME");
	struct launch_identity id = { 0 };
	if (home && home[0] == '/') {
		*env_name = "HOME";
	} else {
		launch_identity_init(&id, false, NULL);
		home = id.home;
	}
	if (!home) {
		launch_identity_clear(&id);
		return launch_error_msg(err,
					"no image store: HOME is not set and you have no home directory (set "
					"XDG_DATA_HOME, or ask your admins to set \"store\" in the site config)");
	}
	*out = xasprintf("%s/.local/share/launch", home);
	launch_identity_clear(&id);
	return 0;
}

int launch_store_dir(const struct launch_config *c, char **out, struct launch_error **err)
{
	const char *env_name;
	return launch_store_dir_pick(c, out, &env_name, err);
}

char *launch_user_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/') /* the XDG base directory spec: a relative one is ignored */
		return xasprintf("%s/launch/launch.json", xdg);
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return xasprintf("%s/.config/launch/launch.json", home);
	struct launch_identity id;
	launch_identity_init(&id, false, NULL);
	char *path = id.home && id.home[0] == '/' ? xasprintf("%s/.config/launch/launch.json", id.home) : NULL;
	launch_identity_clear(&id);
	return path;
}

#ifndef LAUNCH_LIBEXECDIR
#define LAUNCH_LIBEXECDIR "/usr/local/libexec/launch"
#endif

char *launch_libexec_path(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		/* only when we are launch itself (not slurmstepd, not a test) */
		if (slash && (!strcmp(slash + 1, "launch") || !strcmp(slash + 1, "launch-image"))) {
			char *near = xasprintf("%.*s/%s", (int)(slash - self), self, name);
			if (access(near, X_OK) == 0)
				return near;
			free(near);
		}
	}
	char *installed = xasprintf("%s/%s", LAUNCH_LIBEXECDIR, name);
	if (access(installed, X_OK) == 0)
		return installed;
	free(installed);
	return NULL;
}

char *launch_helper_path(void)
{
	return launch_libexec_path("launch-image");
}
