/* SPDX-License-Identifier: Apache-2.0 */
/* Containerfiles (Dockerfiles) as text: the instructions with their line
 * numbers, after the parser directives, comments and line continuations;
 * the word processing docker applies to an instruction's arguments
 * (quotes, escapes, $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}); and the
 * patterns of a .dockerignore or .containerignore file. What the
 * instructions do is build.c's. */
#ifndef LAUNCH_CONTAINERFILE_H
#define LAUNCH_CONTAINERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct launch_cf_instr {
	char *cmd;    /* the instruction, upper case: "RUN" */
	char *args;   /* the rest of its line(s), continuations joined, flags removed */
	char **flags; /* leading --NAME=VALUE (or --NAME) flags, as written */
	char **json;  /* the exec form's strings, or NULL for the shell form */
	int line;     /* where it starts */
};

struct launch_containerfile {
	char *name; /* the file's name, for FILE:LINE in errors */
	char escape;
	struct launch_cf_instr *v;
	size_t n;
};

/* Parse TEXT (the contents of the file called NAME). Errors are
 * "NAME:LINE: ...". */
int launch_cf_parse(const char *text, const char *name, struct launch_containerfile *out, struct launch_error **err);
void launch_cf_clear(struct launch_containerfile *cf);

/* The value of variable NAME for substitution, or NULL when unset. */
typedef const char *(*launch_cf_lookup)(void *arg, const char *name);

/* Docker's word processing of S with escape character ESCAPE: quotes
 * removed, escapes applied, variables substituted through LOOKUP (NULL:
 * none). SPLIT: whitespace outside quotes separates words, else the
 * result is one word. A NULL-ended vector, or NULL with an error. */
char **launch_cf_words(const char *s, char escape, launch_cf_lookup lookup, void *arg, bool split,
		       struct launch_error **err);

/* The flag --NAME of I: its value ("" for a flag without one), or NULL. */
const char *launch_cf_flag(const struct launch_cf_instr *i, const char *name);

/* .dockerignore patterns. */
struct launch_ignore {
	char **patterns; /* cleaned, without the leading '!' */
	bool *negate;
	size_t n;
};
/* Load CONTEXT/.containerignore, else CONTEXT/.dockerignore (none: no
 * patterns). */
int launch_ignore_load(const char *context, struct launch_ignore *out, struct launch_error **err);
/* Is REL (a path relative to the context, no leading /) left out: the last
 * pattern matching it or one of its parent directories is not a '!' one. */
bool launch_ignore_match(const struct launch_ignore *ig, const char *rel);
void launch_ignore_clear(struct launch_ignore *ig);
/* Does PATTERN (fnmatch per path component, ** any number of components)
 * match PATH? */
bool launch_path_match(const char *pattern, const char *path);

#endif
