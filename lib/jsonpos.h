/* SPDX-License-Identifier: Apache-2.0 */
/* Loading JSON files with errors that point at file:line:column. jansson
 * reports syntax errors with a position but keeps no positions in the parsed
 * tree, so semantic errors (unknown key, wrong type) find theirs again by
 * scanning the text along a JSON-pointer-like path. Shared by the site config
 * and every other JSON file launch reads. */
#ifndef LAUNCH_JSONPOS_H
#define LAUNCH_JSONPOS_H

#include <jansson.h>

#include "error.h"

struct launch_json_doc {
	char *path; /* file name used in messages */
	char *text; /* the file's bytes */
	json_t *root;
};

/* Parse TEXT (taking ownership); NAME is used in error messages. */
int launch_json_doc_parse(struct launch_json_doc *doc, const char *name, char *text, struct launch_error **err);
int launch_json_doc_load(struct launch_json_doc *doc, const char *path, struct launch_error **err);
void launch_json_doc_clear(struct launch_json_doc *doc);

/* Find the position of the member or element named by POINTER (e.g. "/mounts/2"):
 * an object member's key, or an array element's first character. Returns 0
 * and sets *line and *col (1-based) when found, -1 otherwise. */
int launch_json_locate(const char *text, const char *pointer, int *line, int *col);

/* PARENT + "/" + KEY with KEY escaped as RFC 6901 says (~0, ~1). */
char *launch_json_pointer(const char *parent, const char *key);

/* Sets an error "PATH:LINE:COL: message" for the value at POINTER. */
int launch_json_error_at(struct launch_error **err, const struct launch_json_doc *doc, const char *pointer,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

const char *launch_json_type_name(const json_t *v);

/* Flags of launch_json_get_strv. */
enum {
	LAUNCH_JSON_ABS_PATHS = 1 << 0, /* every entry an absolute path, stored normalised */
};

/* The array of strings V, the value at POINTER, as a new NULL-terminated
 * vector in *OUT. WHAT names the value in messages, quoted as the caller's
 * file format writes it ("\"env_deny\"", "hook.args"): "WHAT must be an
 * array of strings, not an object", "WHAT entries must be strings, not
 * null" (at the entry), "WHAT entry `x` must be an absolute path". *OUT is
 * left alone on failure. */
int launch_json_get_strv(const struct launch_json_doc *doc, json_t *v, const char *pointer, const char *what,
			 unsigned flags, char ***out, struct launch_error **err);

/* The other way: the NULL-terminated vector V (NULL: none) as a new array
 * of strings (an entry that is not UTF-8 is left out, as jansson refuses
 * it). */
json_t *launch_json_from_strv(char *const *v);

#endif
