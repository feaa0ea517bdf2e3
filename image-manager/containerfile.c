/* SPDX-License-Identifier: Apache-2.0 */
/* Containerfile text (see containerfile.h): lines joined at the escape
 * character, comment lines dropped (also inside a continuation, as docker
 * does), parser directives read before the first instruction (escape=;
 * syntax= and check= are ignored, since there is no frontend to choose),
 * each instruction split into its name, leading --flags and arguments, the
 * exec form (a JSON array of strings) recognised where docker takes one. */
#define _GNU_SOURCE
#include "containerfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const known[] = { "FROM",	"RUN",	  "COPY",	 "ADD",	       "ENV",	     "ARG",
				     "WORKDIR", "USER",	  "ENTRYPOINT",	 "CMD",	       "LABEL",	     "SHELL",
				     "EXPOSE",	"VOLUME", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER", "ONBUILD" };

/* Instructions whose arguments may be a JSON array. */
static bool takes_json(const char *cmd)
{
	static const char *const j[] = { "RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME" };
	for (size_t i = 0; i < ARRAY_SIZE(j); i++)
		if (!strcmp(cmd, j[i]))
			return true;
	return false;
}

/* Instructions with leading --flags. */
static bool takes_flags(const char *cmd)
{
	return !strcmp(cmd, "FROM") || !strcmp(cmd, "RUN") || !strcmp(cmd, "COPY") || !strcmp(cmd, "ADD") ||
	       !strcmp(cmd, "HEALTHCHECK");
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool is_comment(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return *line == '#';
}

static bool is_blank(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return !*line;
}

/* Does LINE end with the escape character (a continuation)? It is then
 * removed. */
static bool continues(char *line, char escape)
{
	size_t n = strlen(line);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	if (n == 0 || line[n - 1] != escape)
		return false;
	line[n - 1] = '\0';
	return true;
}

/* A parser directive line, "# NAME=VALUE": 1 (and the escape character
 * taken), 0 when LINE is not one. */
static int directive(const char *line, struct launch_containerfile *cf, int lineno, struct launch_error **err)
{
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '#')
		return 0;
	while (isspace((unsigned char)*p))
		p++;
	const char *name = p;
	while (isalpha((unsigned char)*p))
		p++;
	size_t nlen = (size_t)(p - name);
	while (isspace((unsigned char)*p))
		p++;
	if (nlen == 0 || *p != '=')
		return 0;
	_cleanup_free_ char *value = xstrdup(p + 1);
	char *v = trim(value);
	if (nlen == 6 && !strncasecmp(name, "escape", 6)) {
		if (strcmp(v, "\\") && strcmp(v, "`"))
			return launch_error_msg(err, "%s:%d: the escape directive takes \\ or `, not %s", cf->name,
						lineno, v);
		cf->escape = v[0];
		return 1;
	}
	if ((nlen == 6 && !strncasecmp(name, "syntax", 6)) || (nlen == 5 && !strncasecmp(name, "check", 5)))
		return 1;
	return 0;
}

static int parse_instr(char *text, int lineno, struct launch_containerfile *cf, struct launch_error **err)
{
	char *s = trim(text);
	char *sp = s;
	while (*sp && !isspace((unsigned char)*sp))
		sp++;
	_cleanup_free_ char *cmd = xstrndup(s, (size_t)(sp - s));
	for (char *c = cmd; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known) && !ok; i++)
		ok = !strcmp(cmd, known[i]);
	if (!ok)
		return launch_error_msg(err, "%s:%d: unknown instruction: %s", cf->name, lineno, cmd);
	struct launch_cf_instr in = { .cmd = steal_pointer(&cmd), .line = lineno, .flags = xcalloc(1, sizeof(char *)) };
	char *rest = trim(sp);
	while (takes_flags(in.cmd) && rest[0] == '-' && rest[1] == '-') {
		char *end = rest;
		while (*end && !isspace((unsigned char)*end))
			end++;
		launch_strv_push(&in.flags, xstrndup(rest + 2, (size_t)(end - rest - 2)));
		rest = trim(end);
	}
	in.args = xstrdup(rest);
	if (takes_json(in.cmd) && rest[0] == '[') {
		json_t *j = json_loads(rest, 0, NULL);
		bool strings = json_is_array(j);
		for (size_t k = 0; strings && k < json_array_size(j); k++)
			strings = json_is_string(json_array_get(j, k));
		for (size_t k = 0; strings && k < json_array_size(j); k++)
			launch_strv_push(&in.json, xstrdup(json_string_value(json_array_get(j, k))));
		if (strings && !in.json)
			in.json = xcalloc(1, sizeof(char *));
		json_decref(j);
	}
	cf->v = xrealloc(cf->v, (cf->n + 1) * sizeof(*cf->v));
	cf->v[cf->n++] = in;
	return 0;
}

int launch_cf_parse(const char *text, const char *name, struct launch_containerfile *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	out->name = xstrdup(name);
	out->escape = '\\';
	_cleanup_free_ char *copy = xstrdup(text);
	char **lines = NULL;
	for (char *save = NULL, *l = copy; l; l = save) {
		save = strchr(l, '\n');
		if (save)
			*save++ = '\0';
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[n - 1] = '\0';
		launch_strv_push(&lines, xstrdup(l));
	}
	size_t nl = launch_strv_len(lines), i = 0;
	int ret = 0;
	for (; i < nl; i++) { /* directives: only at the very top */
		int r = directive(lines[i], out, (int)i + 1, err);
		if (r < 0) {
			ret = -1;
			goto out;
		}
		if (r == 0)
			break;
	}
	while (ret == 0 && i < nl) {
		if (is_blank(lines[i]) || is_comment(lines[i])) {
			i++;
			continue;
		}
		int start = (int)i + 1;
		char *buf = xstrdup(lines[i++]);
		while (continues(buf, out->escape) && i < nl) {
			while (i < nl && is_comment(lines[i]))
				i++;
			if (i >= nl)
				break;
			char *joined = xasprintf("%s%s", buf, lines[i++]);
			free(buf);
			buf = joined;
		}
		if (!is_blank(buf))
			ret = parse_instr(buf, start, out, err);
		free(buf);
	}
out:
	launch_strv_free(lines);
	if (ret < 0)
		launch_cf_clear(out);
	return ret;
}

void launch_cf_clear(struct launch_containerfile *cf)
{
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->v[i].cmd);
		free(cf->v[i].args);
		launch_strv_free(cf->v[i].flags);
		launch_strv_free(cf->v[i].json);
	}
	free(cf->v);
	free(cf->name);
	memset(cf, 0, sizeof(*cf));
}

const char *launch_cf_flag(const struct launch_cf_instr *i, const char *name)
{
	size_t n = strlen(name);
	for (size_t k = 0; i->flags && i->flags[k]; k++)
		if (!strncmp(i->flags[k], name, n) && (i->flags[k][n] == '=' || !i->flags[k][n]))
			return i->flags[k][n] ? i->flags[k] + n + 1 : "";
	return NULL;
}

/* --- words --- */

struct words {
	char escape;
	launch_cf_lookup lookup;
	void *arg;
	char *buf;
	size_t len, cap;
};

static void add(struct words *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		w->cap = (w->len + n + 1) * 2;
		w->buf = xrealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static int process(struct words *w, const char *s, bool split, char ***out, struct launch_error **err);

/* A variable reference at *P (just after the '$'): its value added;
 * *P moves past it. */
static int variable(struct words *w, const char **p, struct launch_error **err)
{
	const char *s = *p;
	if (*s != '{') {
		const char *e = s;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		if (e == s || isdigit((unsigned char)*s)) {
			add(w, "$", 1);
			return 0;
		}
		_cleanup_free_ char *name = xstrndup(s, (size_t)(e - s));
		const char *v = w->lookup(w->arg, name);
		if (v)
			add(w, v, strlen(v));
		*p = e;
		return 0;
	}
	const char *e = ++s;
	while (isalnum((unsigned char)*e) || *e == '_')
		e++;
	if (e == s)
		return launch_error_msg(err, "bad substitution: ${%.20s", s);
	_cleanup_free_ char *name = xstrndup(s, (size_t)(e - s));
	const char *v = w->lookup(w->arg, name);
	char op = 0;
	bool colon = false;
	if (*e == ':') {
		colon = true;
		e++;
	}
	if (*e == '-' || *e == '+')
		op = *e++;
	else if (colon || *e != '}')
		return launch_error_msg(err,
					"bad substitution: ${%s%.10s (only ${VAR}, ${VAR:-WORD} and "
					"${VAR:+WORD} are known)",
					name, e);
	/* the word runs to the matching brace */
	const char *ws = e;
	int depth = 1;
	for (; *e && depth; e++) {
		if (*e == w->escape && e[1])
			e++;
		else if (*e == '{')
			depth++;
		else if (*e == '}')
			depth--;
	}
	if (depth)
		return launch_error_msg(err, "bad substitution: missing } after ${%s", name);
	_cleanup_free_ char *word = xstrndup(ws, (size_t)(e - 1 - ws));
	bool set = v && (!colon || *v);
	const char *use = op == '-' ? (set ? v : word) : op == '+' ? (set ? word : "") : (v ? v : "");
	if (op && use == word) {
		char **one = NULL;
		if (process(w, word, false, &one, err) < 0)
			return -1;
		/* process() used W's buffer: it appended the result there */
		launch_strv_free(one);
	} else {
		add(w, use, strlen(use));
	}
	*p = e;
	return 0;
}

/* The words of S appended to *OUT (split), or S's one word added to W's
 * buffer (!split, used for nested words). */
static int process(struct words *w, const char *s, bool split, char ***out, struct launch_error **err)
{
	bool have = false;
	char quote = 0;
	for (const char *p = s; *p;) {
		char c = *p;
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				add(w, p, 1);
			p++;
			continue;
		}
		if (c == w->escape && p[1]) {
			if (quote == '"' && p[1] != '"' && p[1] != '$' && p[1] != w->escape)
				add(w, p, 1);
			add(w, p + 1, 1);
			have = true;
			p += 2;
			continue;
		}
		if (c == '$' && w->lookup) {
			p++;
			if (variable(w, &p, err) < 0)
				return -1;
			have = true;
			continue;
		}
		if (quote == '"') {
			if (c == '"')
				quote = 0;
			else
				add(w, p, 1);
			p++;
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
			have = true;
			p++;
			continue;
		}
		if (split && isspace((unsigned char)c)) {
			if (have) {
				launch_strv_push(out, xstrndup(w->buf ? w->buf : "", w->len));
				w->len = 0;
				have = false;
			}
			p++;
			continue;
		}
		add(w, p, 1);
		have = true;
		p++;
	}
	if (quote)
		return launch_error_msg(err, "unterminated %c quote in: %s", quote, s);
	if (split && have) {
		launch_strv_push(out, xstrndup(w->buf ? w->buf : "", w->len));
		w->len = 0;
	}
	return 0;
}

char **launch_cf_words(const char *s, char escape, launch_cf_lookup lookup, void *arg, bool split,
		       struct launch_error **err)
{
	struct words w = { .escape = escape, .lookup = lookup, .arg = arg };
	char **out = xcalloc(1, sizeof(char *));
	if (process(&w, s, split, &out, err) < 0) {
		free(w.buf);
		launch_strv_free(out);
		return NULL;
	}
	if (!split)
		launch_strv_push(&out, xstrndup(w.buf ? w.buf : "", w.len));
	free(w.buf);
	return out;
}

/* --- .dockerignore --- */

static bool match_parts(char **pat, char **path)
{
	if (!*pat)
		return !*path;
	if (!strcmp(*pat, "**"))
		return match_parts(pat + 1, path) || (*path && match_parts(pat, path + 1));
	return *path && fnmatch(*pat, *path, 0) == 0 && match_parts(pat + 1, path + 1);
}

static char **components(const char *p)
{
	char **v = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *c = xstrdup(p);
	for (char *save = NULL, *t = strtok_r(c, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (strcmp(t, "."))
			launch_strv_push(&v, xstrdup(t));
	return v;
}

bool launch_path_match(const char *pattern, const char *path)
{
	_cleanup_strv_ char **pp = components(pattern);
	_cleanup_strv_ char **cp = components(path);
	return match_parts(pp, cp);
}

int launch_ignore_load(const char *context, struct launch_ignore *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	static const char *const names[] = { ".containerignore", ".dockerignore" };
	char *text = NULL;
	size_t len;
	for (size_t i = 0; i < ARRAY_SIZE(names) && !text; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", context, names[i]);
		if (launch_read_file_at(AT_FDCWD, p, 1 << 20, &text, &len) < 0) {
			if (errno != ENOENT)
				return launch_error_set(err, errno, "cannot read %s", p);
			text = NULL;
		}
	}
	if (!text)
		return 0;
	out->patterns = xcalloc(1, sizeof(char *));
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *t = trim(l);
		if (!*t || *t == '#')
			continue;
		bool neg = *t == '!';
		if (neg)
			t = trim(t + 1);
		_cleanup_free_ char *abs = xasprintf("/%s", t);
		_cleanup_free_ char *norm = launch_path_normalize(abs);
		const char *p = norm ? norm : t;
		while (*p == '/')
			p++;
		if (!*p)
			continue;
		launch_strv_push(&out->patterns, xstrdup(p));
		out->negate = xrealloc(out->negate, (out->n + 1) * sizeof(bool));
		out->negate[out->n++] = neg;
	}
	free(text);
	return 0;
}

bool launch_ignore_match(const struct launch_ignore *ig, const char *rel)
{
	bool out = false;
	_cleanup_strv_ char **cp = components(rel);
	size_t n = launch_strv_len(cp);
	for (size_t i = 0; i < ig->n; i++) {
		_cleanup_strv_ char **pp = components(ig->patterns[i]);
		bool m = false;
		/* REL itself, or one of its parent directories */
		for (size_t k = n; k >= 1 && !m; k--) {
			char *saved = cp[k];
			cp[k] = NULL;
			m = match_parts(pp, cp);
			cp[k] = saved;
		}
		if (m)
			out = !ig->negate[i];
	}
	return out;
}

void launch_ignore_clear(struct launch_ignore *ig)
{
	launch_strv_free(ig->patterns);
	free(ig->negate);
	memset(ig, 0, sizeof(*ig));
}
