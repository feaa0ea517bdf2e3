/* SPDX-License-Identifier: Apache-2.0 */
/* Building the container environment (see env.h for the policy). */
#define _GNU_SOURCE
#include "env.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const launch_env_builtin_deny[] = {
	"LD_PRELOAD",	   /* host libraries, usually absent in the image */
	"LD_LIBRARY_PATH", /* host library paths shadow the image's own */
	"LD_AUDIT",
	"XDG_RUNTIME_DIR", /* /run/user/UID is not mounted in the container */
	NULL,
};

bool launch_env_name_valid(const char *name, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
			return false;
	return true;
}

static ssize_t find(const struct launch_env *e, const char *name, size_t len)
{
	for (size_t i = 0; e->vars && e->vars[i]; i++)
		if (strncmp(e->vars[i], name, len) == 0 && e->vars[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

const char *launch_env_get(const struct launch_env *e, const char *name)
{
	size_t len = strlen(name);
	ssize_t i = find(e, name, len);
	return i < 0 ? NULL : e->vars[i] + len + 1;
}

void launch_env_set(struct launch_env *e, const char *name, const char *value)
{
	char *kv = xasprintf("%s=%s", name, value);
	ssize_t i = find(e, name, strlen(name));
	if (i >= 0) {
		free(e->vars[i]);
		e->vars[i] = kv;
	} else {
		launch_strv_push(&e->vars, kv);
	}
}

void launch_env_unset(struct launch_env *e, const char *name)
{
	ssize_t i = find(e, name, strlen(name));
	if (i < 0)
		return;
	free(e->vars[i]);
	size_t n = launch_strv_len(e->vars);
	memmove(&e->vars[i], &e->vars[i + 1], (n - (size_t)i) * sizeof(char *));
}

static bool denied(const char *kv, size_t len, char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strlen(list[i]) == len && strncmp(kv, list[i], len) == 0)
			return true;
	return false;
}

void launch_env_from_host(struct launch_env *e, char *const *host, char *const *site_deny)
{
	for (size_t i = 0; host && host[i]; i++) {
		const char *eq = strchr(host[i], '=');
		if (!eq)
			continue;
		size_t len = (size_t)(eq - host[i]);
		if (!launch_env_name_valid(host[i], len) ||
		    denied(host[i], len, (char *const *)launch_env_builtin_deny) || denied(host[i], len, site_deny))
			continue;
		_cleanup_free_ char *name = xstrndup(host[i], len);
		launch_env_set(e, name, eq + 1);
	}
}

int launch_env_apply_arg(struct launch_env *e, const char *arg, struct launch_error **err)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (!launch_env_name_valid(arg, len))
		return launch_error_msg(err,
					"invalid --env `%s`: expected NAME=VALUE with NAME made of letters, digits "
					"and _",
					arg);
	_cleanup_free_ char *name = xstrndup(arg, len);
	if (eq) {
		launch_env_set(e, name, eq + 1);
		return 0;
	}
	const char *host = getenv(name);
	if (host)
		launch_env_set(e, name, host);
	else
		launch_env_unset(e, name);
	return 0;
}

int launch_env_apply_file(struct launch_env *e, const char *path, struct launch_error **err)
{
	_cleanup_free_ char *text = NULL;
	if (launch_read_file_at(AT_FDCWD, path, 4u << 20, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read env file %s", path);
	int lineno = 0;
	char *next = text;
	for (char *line; (line = strsep(&next, "\n"));) {
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (launch_str_has_prefix(p, "export "))
			p += 7;
		char *eq = strchr(p, '=');
		if (!eq || !launch_env_name_valid(p, (size_t)(eq - p)))
			return launch_error_msg(err, "%s:%d: expected NAME=VALUE, got `%s`", path, lineno, line);
		*eq = '\0';
		launch_env_set(e, p, eq + 1);
	}
	return 0;
}

const char launch_env_default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

int launch_env_build(struct launch_env *e, char *const *host, char *const *site_deny, char *const *image_env,
		     char *const *args, struct launch_error **err)
{
	launch_env_clear(e);
	launch_env_from_host(e, host, site_deny);
	for (size_t i = 0; image_env && image_env[i]; i++) {
		const char *eq = strchr(image_env[i], '=');
		if (!eq || !launch_env_name_valid(image_env[i], (size_t)(eq - image_env[i])))
			continue; /* checked when the image was imported */
		_cleanup_free_ char *name = xstrndup(image_env[i], (size_t)(eq - image_env[i]));
		launch_env_set(e, name, eq + 1);
	}
	/* the config's variables (checked as NAME=VALUE when it was parsed),
	 * then env files, then --env options, each in order */
	static const char kinds[] = { 'c', 'f', 'e' };
	for (size_t pass = 0; pass < ARRAY_SIZE(kinds); pass++)
		for (size_t i = 0; args && args[i]; i++) {
			if (args[i][0] != kinds[pass] || args[i][1] != ':')
				continue;
			if ((kinds[pass] == 'f' ? launch_env_apply_file(e, args[i] + 2, err)
						: launch_env_apply_arg(e, args[i] + 2, err)) < 0)
				return -1;
		}
	if (!launch_env_get(e, "PATH"))
		launch_env_set(e, "PATH", launch_env_default_path);
	launch_env_set(e, "container", "launch");
	return 0;
}

char **launch_env_diff(const struct launch_env *e, const struct launch_env *base)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; e->vars && e->vars[i]; i++) {
		const char *eq = strchr(e->vars[i], '=');
		_cleanup_free_ char *name = xstrndup(e->vars[i], (size_t)(eq - e->vars[i]));
		const char *old = launch_env_get(base, name);
		if (!old || strcmp(old, eq + 1) != 0)
			launch_strv_push(&out, xstrdup(e->vars[i]));
	}
	return out;
}

void launch_env_clear(struct launch_env *e)
{
	launch_strv_free(e->vars);
	e->vars = NULL;
}
