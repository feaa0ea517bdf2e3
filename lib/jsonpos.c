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
#define MAX_DEPTH 64

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

static const char *skip_value(const char *p, int depth)
{
	p = skip_ws(p);
	if (depth > MAX_DEPTH)
		return p;
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = skip_ws(p + 1);
		while (*p && *p != close) {
			if (close == '}') {
				p = skip_string(skip_ws(p));
				p = skip_ws(p);
				if (*p == ':')
					p++;
			}
			p = skip_ws(skip_value(p, depth + 1));
			if (*p == ',')
				p = skip_ws(p + 1);
			else if (*p != close)
				return p; /* malformed: stop */
		}
		return *p ? p + 1 : p;
	}
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

/* Compare the JSON string at P (quoted, possibly escaped) with KEY of length N.
 * Escapes are compared literally, which is enough for the keys we look up. */
static bool key_equals(const char *p, const char *key, size_t n)
{
	const char *end = skip_string(p);
	return (size_t)(end - p) == n + 2 && strncmp(p + 1, key, n) == 0;
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
			p = skip_ws(skip_value(p, 0));
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
			p = skip_ws(skip_value(p, 0));
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
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}
