/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for launch_json_locate (lib/jsonpos.c). The input's first
 * line is a pointer, the rest the JSON text. Any text must be scanned without
 * reading out of bounds, and a position found must lie in the text. When the
 * text is valid JSON without escapes and nested at most MAX_ORACLE_DEPTH
 * deep, and the pointer names a value in jansson's tree, locate must find it
 * and point at the member's key or the element's first character.
 * (Escapes and deeper nesting are left out of the oracle: locate compares
 * keys as written, and see tests/unit/test_jsonpos.c for the depth.) */
#define _GNU_SOURCE
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "util.h"

#ifndef MAX_ORACLE_DEPTH
#define MAX_ORACLE_DEPTH 60
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int depth_of(json_t *v)
{
	int d = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach (v, k, e) {
			int x = depth_of(e);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			int x = depth_of(e);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

/* Follow POINTER in jansson's tree; NULL when it names nothing (array
 * indexes only in canonical decimal). *IS_MEMBER tells whether the last step
 * was an object member. */
static json_t *follow(json_t *v, const char *pointer, int *is_member)
{
	const char *p = pointer;
	*is_member = 0;
	while (*p) {
		if (*p != '/')
			return NULL;
		p++;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (json_is_object(v)) {
			char *key = xstrndup(p, n);
			v = json_object_get(v, key);
			free(key);
			*is_member = 1;
		} else if (json_is_array(v)) {
			if (n == 0 || n > 9 || (n > 1 && p[0] == '0'))
				return NULL;
			size_t idx = 0;
			for (size_t i = 0; i < n; i++) {
				if (p[i] < '0' || p[i] > '9')
					return NULL;
				idx = idx * 10 + (size_t)(p[i] - '0');
			}
			v = json_array_get(v, idx);
			*is_member = 0;
		} else {
			return NULL;
		}
		if (!v)
			return NULL;
		p = end;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	char *pointer = xstrndup((const char *)data, (size_t)(nl - data));
	size_t tlen = size - (size_t)(nl - data) - 1;
	char *text = xstrndup((const char *)nl + 1, tlen);
	tlen = strlen(text);

	int line = 0, col = 0;
	int r = launch_json_locate(text, pointer, &line, &col);
	const char *pos = NULL;
	if (r == 0) {
		if (line < 1 || col < 1)
			abort();
		/* walk to LINE:COL; it must be inside the text (or its end) */
		const char *q = text;
		for (int l = 1; l < line; l++) {
			q = strchr(q, '\n');
			if (!q)
				abort();
			q++;
		}
		if ((size_t)(col - 1) > strlen(q) || memchr(q, '\n', (size_t)(col - 1)))
			abort();
		pos = q + col - 1;
	} else if (r != -1) {
		abort();
	}

	json_error_t jerr;
	json_t *root = strchr(text, '\\') ? NULL : json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root && depth_of(root) <= MAX_ORACLE_DEPTH) {
		int is_member = 0;
		json_t *v = follow(root, pointer, &is_member);
		if (v) {
			if (r != 0)
				abort(); /* present in the tree, not found in the text */
			if (*pointer && is_member && *pos != '"')
				abort();
			if (*pointer && !is_member) {
				char c = *pos;
				int ok = json_is_object(v)   ? c == '{'
					 : json_is_array(v)  ? c == '['
					 : json_is_string(v) ? c == '"'
					 : json_is_true(v)   ? c == 't'
					 : json_is_false(v)  ? c == 'f'
					 : json_is_null(v)   ? c == 'n'
							     : (c == '-' || (c >= '0' && c <= '9'));
				if (!ok)
					abort();
			}
		}
	}
	json_decref(root);

	/* the error path of the loader on the same text */
	struct launch_json_doc doc;
	struct launch_error *err = NULL;
	if (launch_json_doc_parse(&doc, "fuzz.json", xstrdup(text), &err) < 0) {
		if (!err || !launch_str_has_prefix(err->msg, "fuzz.json:"))
			abort();
	} else if (*pointer) {
		launch_json_error_at(&err, &doc, pointer, "checked");
		if (!err || !launch_str_has_prefix(err->msg, "fuzz.json"))
			abort();
	}
	launch_error_free(err);
	launch_json_doc_clear(&doc);
	free(pointer);
	free(text);
	return 0;
}
