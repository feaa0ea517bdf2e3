/* SPDX-License-Identifier: Apache-2.0 */
/* JSON files with positioned errors (see jsonpos.h). */
#define _GNU_SOURCE
#include "jsonpos.h"

#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_JSON_FILE (16u << 20)

int launch_json_doc_parse(struct launch_json_doc *doc, const char *name, char *text, struct launch_error **err)
{
	memset(doc, 0, sizeof(*doc));
	doc->path = xstrdup(name);
	doc->text = text;
	json_error_t jerr;
	doc->root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc->root)
		return launch_error_msg(err, "%s:%d:%d: invalid JSON: %s", name, jerr.line, jerr.column, jerr.text);
	return 0;
}

int launch_json_doc_load(struct launch_json_doc *doc, const char *path, struct launch_error **err)
{
	char *text = NULL;
	memset(doc, 0, sizeof(*doc));
	if (launch_read_file_at(AT_FDCWD, path, MAX_JSON_FILE, &text, NULL) < 0)
		return launch_error_set(err, errno, "cannot read %s", path);
	return launch_json_doc_parse(doc, path, text, err);
}

void launch_json_doc_clear(struct launch_json_doc *doc)
{
	free(doc->path);
	free(doc->text);
	json_decref(doc->root);
	memset(doc, 0, sizeof(*doc));
}

/* --- a tolerant scanner over already-valid JSON --- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *skip_string(const char *p)
{
	p++; /* opening quote */
	while (*p && *p != '"') {
		if (*p == '\\' && p[1])
			p++;
		p++;
	}
	return *p ? p + 1 : p;
}

/* Skip one value of already-valid JSON, at any depth: brackets are counted
 * rather than recursed into. */
static const char *skip_value(const char *p)
{
	p = skip_ws(p);
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[') {
		size_t depth = 0;
		while (*p) {
			if (*p == '"') {
				p = skip_string(p);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return p;
	}
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

/* Decode the JSON string at P (quoted) into BUF; returns false when it does
 * not fit. \uXXXX escapes become UTF-8 (surrogate pairs are not joined,
 * which only matters for keys no config uses). */
static bool decode_string(const char *p, char *buf, size_t size)
{
	size_t o = 0;
	for (p++; *p && *p != '"'; p++) {
		unsigned c = (unsigned char)*p;
		if (c == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u': {
				char hex[5] = { 0 };
				for (int i = 0; i < 4 && p[1]; i++)
					hex[i] = *++p;
				c = (unsigned)strtoul(hex, NULL, 16);
				break;
			}
			default:
				c = (unsigned char)*p;
				break;
			}
		}
		char enc[4];
		size_t n = 0;
		if (c < 0x80) {
			enc[n++] = (char)c;
		} else if (c < 0x800) {
			enc[n++] = (char)(0xc0 | (c >> 6));
			enc[n++] = (char)(0x80 | (c & 0x3f));
		} else {
			enc[n++] = (char)(0xe0 | (c >> 12));
			enc[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			enc[n++] = (char)(0x80 | (c & 0x3f));
		}
		if (o + n >= size)
			return false;
		memcpy(buf + o, enc, n);
		o += n;
	}
	buf[o] = '\0';
	return true;
}

/* Does the JSON string at P equal the pointer segment SEG (N bytes, with
 * RFC 6901 escapes ~0 and ~1)? */
static bool key_equals(const char *p, const char *seg, size_t n)
{
	char key[1024], want[1024];
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < sizeof(want); i++) {
		if (seg[i] == '~' && i + 1 < n && (seg[i + 1] == '0' || seg[i + 1] == '1'))
			want[o++] = seg[++i] == '0' ? '~' : '/';
		else
			want[o++] = seg[i];
	}
	want[o] = '\0';
	return decode_string(p, key, sizeof(key)) && strcmp(key, want) == 0;
}

char *launch_json_pointer(const char *parent, const char *key)
{
	size_t n = strlen(parent), k = strlen(key);
	char *r = xmalloc(n + 2 * k + 2), *o = r;
	memcpy(o, parent, n);
	o += n;
	*o++ = '/';
	for (const char *q = key; *q; q++) {
		if (*q == '~' || *q == '/') {
			*o++ = '~';
			*o++ = *q == '~' ? '0' : '1';
		} else {
			*o++ = *q;
		}
	}
	*o = '\0';
	return r;
}

static const char *locate(const char *p, const char *ptr)
{
	p = skip_ws(p);
	if (!*ptr)
		return p;
	ptr++; /* '/' */
	const char *seg_end = strchrnul(ptr, '/');
	size_t n = (size_t)(seg_end - ptr);
	if (*p == '{') {
		p = skip_ws(p + 1);
		while (*p == '"') {
			const char *keypos = p;
			bool match = key_equals(p, ptr, n);
			p = skip_ws(skip_string(p));
			if (*p != ':')
				return NULL;
			p = skip_ws(p + 1);
			if (match)
				return *seg_end ? locate(p, seg_end) : keypos;
			p = skip_ws(skip_value(p));
			if (*p != ',')
				return NULL;
			p = skip_ws(p + 1);
		}
		return NULL;
	}
	if (*p == '[') {
		char *endnum;
		long idx = strtol(ptr, &endnum, 10);
		if (endnum != seg_end || idx < 0)
			return NULL;
		p = skip_ws(p + 1);
		for (long i = 0; *p && *p != ']'; i++) {
			if (i == idx)
				return locate(p, seg_end);
			p = skip_ws(skip_value(p));
			if (*p != ',')
				return NULL;
			p = skip_ws(p + 1);
		}
	}
	return NULL;
}

int launch_json_locate(const char *text, const char *pointer, int *line, int *col)
{
	const char *pos = locate(text, pointer);
	if (!pos)
		return -1;
	int l = 1, c = 1;
	for (const char *q = text; q < pos; q++) {
		if (*q == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
	return 0;
}

int launch_json_error_at(struct launch_error **err, const struct launch_json_doc *doc, const char *pointer,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	int line = 0, col = 0;
	if (launch_json_locate(doc->text, pointer, &line, &col) == 0)
		return launch_error_msg(err, "%s:%d:%d: %s", doc->path, line, col, m);
	return launch_error_msg(err, "%s: %s", doc->path, m);
}

const char *launch_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

json_t *launch_json_from_strv(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int launch_json_get_strv(const struct launch_json_doc *doc, json_t *v, const char *pointer, const char *what,
			 unsigned flags, char ***out, struct launch_error **err)
{
	if (!json_is_array(v))
		return launch_json_error_at(err, doc, pointer, "%s must be an array of strings, not %s", what,
					    launch_json_type_name(v));
	bool abs_paths = flags & LAUNCH_JSON_ABS_PATHS;
	_cleanup_strv_ char **r = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e) {
		_cleanup_free_ char *p = xasprintf("%s/%zu", pointer, i);
		if (!json_is_string(e))
			return launch_json_error_at(err, doc, p, "%s entries must be strings, not %s", what,
						    launch_json_type_name(e));
		const char *s = json_string_value(e);
		if (abs_paths && s[0] != '/')
			return launch_json_error_at(err, doc, p, "%s entry `%s` must be an absolute path", what, s);
		launch_strv_push(&r, abs_paths ? launch_path_normalize(s) : xstrdup(s));
	}
	*out = steal_pointer(&r);
	return 0;
}
