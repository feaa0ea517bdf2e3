/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/jsonpos.c: finding members and elements by pointer in
 * JSON text (nested objects and arrays, strings with escaped quotes and
 * brackets, multi-line text, 1-based line:column), and the positioned
 * messages of launch_json_doc_parse, _load and _error_at; string vectors
 * written as JSON arrays. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonpos.h"
#include "testutil.h"
#include "util.h"

static void at(const char *text, const char *ptr, int line, int col, int srcline)
{
	int l = -7, c = -7;
	int r = launch_json_locate(text, ptr, &l, &c);
	check_record_(r == 0 && l == line && c == col, __FILE__, srcline,
		      "locate \"%s\": got %d (%d:%d), expected %d:%d", ptr, r, l, c, line, col);
}
#define AT(text, ptr, line, col) at(text, ptr, line, col, __LINE__)

static void missing(const char *text, const char *ptr, int srcline)
{
	int l = -7, c = -7;
	int r = launch_json_locate(text, ptr, &l, &c);
	check_record_(r == -1 && l == -7 && c == -7, __FILE__, srcline,
		      "locate \"%s\": got %d (%d:%d), expected -1 and no position", ptr, r, l, c);
}
#define MISSING(text, ptr) missing(text, ptr, __LINE__)

static const char doc1[] =
	"{\n"
	"  \"a\": {\"b\": [1, {\"c\": \"x\"}, 3]},\n"
	"  \"s\": \"he said \\\"}{][\\\" ok\",\n"
	"  \"after\": true,\n"
	"\t\"t\": [ [], {}, \"x\\\\\", [1, [2, 3]] ],\n"
	"  \"ab\": 1, \"a b\": 2,\n"
	"  \"last\"\n"
	"    :\n"
	"    \"v\"\n"
	"}\n";

static void test_locate(void)
{
	/* doc1 is valid JSON (the scanner's precondition) */
	json_error_t jerr;
	json_t *root = json_loads(doc1, JSON_REJECT_DUPLICATES, &jerr);
	check_record_(root != NULL, __FILE__, __LINE__, "doc1 is valid JSON (%s)", jerr.text);
	json_decref(root);

	AT(doc1, "", 1, 1);
	AT(doc1, "/a", 2, 3);
	AT(doc1, "/a/b", 2, 9);
	AT(doc1, "/a/b/0", 2, 15);
	AT(doc1, "/a/b/1", 2, 18);
	AT(doc1, "/a/b/1/c", 2, 19);
	AT(doc1, "/a/b/2", 2, 30);
	AT(doc1, "/s", 3, 3);
	AT(doc1, "/after", 4, 3); /* after a string with \" } { ] [ in it */
	AT(doc1, "/t", 5, 2);	  /* a tab is one column */
	AT(doc1, "/t/0", 5, 9);
	AT(doc1, "/t/1", 5, 13);
	AT(doc1, "/t/2", 5, 17);
	AT(doc1, "/t/3", 5, 24); /* after a string ending in an escaped backslash */
	AT(doc1, "/t/3/1", 5, 28);
	AT(doc1, "/t/3/1/1", 5, 32);
	AT(doc1, "/ab", 6, 3);
	AT(doc1, "/a b", 6, 12);
	AT(doc1, "/last", 7, 3); /* key, colon and value on separate lines */

	MISSING(doc1, "/nope");
	MISSING(doc1, "/A");
	MISSING(doc1, "/a/c");
	MISSING(doc1, "/a/b/3");
	MISSING(doc1, "/a/b/99999999999999999999");
	MISSING(doc1, "/a/b/-1");
	MISSING(doc1, "/a/b/x");
	MISSING(doc1, "/a/b/1x");
	MISSING(doc1, "/a/b/1/c/d");
	MISSING(doc1, "/s/0");
	MISSING(doc1, "/after/x");
	MISSING(doc1, "/t/4");
	MISSING(doc1, "/t/0/0");
	MISSING(doc1, "/t/1/k");
	MISSING(doc1, "/he said ");
	MISSING(doc1, "/x");

	/* a key-like text inside a string value is not a key */
	AT("{\"x\": \"\\\"after\\\": 1\", \"after\": 2}", "/after", 1, 23);
	/* a key with an escaped quote before the one looked up */
	AT("{\"k\\\"ey\": {\"z\": 0}, \"z\": 2}", "/z", 1, 21);
	/* keys that are prefixes of each other */
	AT("{\"abc\": 1, \"ab\": 2, \"a\": 3}", "/a", 1, 21);
	AT("{\"abc\": 1, \"ab\": 2, \"a\": 3}", "/ab", 1, 12);
	/* leading blank lines and indentation before the root */
	static const char doc2[] = "\n\n  [\n  {\"k\": 1},\n  \"x\"\n]";
	AT(doc2, "", 3, 3);
	AT(doc2, "/0", 4, 3);
	AT(doc2, "/0/k", 4, 4);
	AT(doc2, "/1", 5, 3);
	MISSING(doc2, "/2");
	MISSING(doc2, "/k");
	/* CRLF line ends */
	AT("{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    2\r\n  ]\r\n}\r\n", "/b/0", 4, 5);
	/* empty containers and scalars */
	MISSING("{}", "/a");
	MISSING("[]", "/0");
	AT("{\"\": 1}", "/", 1, 2);

	/* A member after a deeply nested value is still found (jansson accepts
	 * nesting far deeper than this). */
	char *deep = xstrdup("{\"_c\": ");
	for (int i = 0; i < 100; i++) {
		char *n = xasprintf("%s[", deep);
		free(deep);
		deep = n;
	}
	for (int i = 0; i < 100; i++) {
		char *n = xasprintf("%s]", deep);
		free(deep);
		deep = n;
	}
	char *n = xasprintf("%s, \"b\": 1}", deep);
	free(deep);
	deep = n;
	root = json_loads(deep, 0, &jerr);
	check_record_(root != NULL, __FILE__, __LINE__, "the deep document is valid JSON (%s)", jerr.text);
	json_decref(root);
	AT(deep, "/b", 1, 210);
	free(deep);
}

static void test_doc(const char *dir)
{
	struct launch_json_doc doc;
	struct launch_error *err = NULL;

	char *text = xstrdup("{\"a\": [1, {\"b\": null}]}");
	CHECK_INTEQ(launch_json_doc_parse(&doc, "name.json", text, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(doc.path, "name.json");
	CHECK(doc.text == text);
	CHECK(json_is_object(doc.root));
	/* launch_json_error_at: positioned when the pointer is found */
	CHECK(launch_json_error_at(&err, &doc, "/a/1/b", "bad %s", "thing") < 0);
	CHECK_ERROR(err, "name.json:1:12: bad thing");
	CHECK(launch_json_error_at(&err, &doc, "", "whole") < 0);
	CHECK_ERROR(err, "name.json:1:1: whole");
	CHECK(launch_json_error_at(&err, &doc, "/zzz", "not found") < 0);
	CHECK_ERROR(err, "name.json: not found");
	CHECK(launch_json_error_at(NULL, &doc, "/a", "ignored") < 0);
	launch_json_doc_clear(&doc);
	CHECK(doc.path == NULL && doc.text == NULL && doc.root == NULL);

	/* syntax errors: "NAME:LINE:COL: invalid JSON: ..." */
	struct {
		const char *text;
		int line, col;
		const char *what;
	} bad[] = {
		{ "{\n  \"a\": 1,\n  \"b\": \n}", 4, 1, "unexpected token" },
		{ "{\"a\": 1,\n \"a\": 2}", 2, -1, "duplicate object key" },
		{ "{\"a\": tru}", 1, -1, "invalid token" },
		{ "[1, 2", 1, -1, "invalid JSON" },
		{ "{} {}", 1, -1, "end of file expected" },
		{ "42", 1, -1, "invalid JSON" },
		{ "", 1, -1, "invalid JSON" },
		{ "\n\n\n  {\"a\" 1}", 4, -1, "invalid JSON" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = launch_json_doc_parse(&doc, "bad.json", xstrdup(bad[i].text), &err);
		check_record_(r < 0 && doc.root == NULL, __FILE__, __LINE__, "bad[%zu] is refused", i);
		int line = 0, col = -1, used = 0;
		if (err && sscanf(err->msg, "bad.json:%d:%d: invalid JSON: %n", &line, &col, &used) == 2 && used > 0) {
			CHECK_INTEQ(line, bad[i].line);
			if (bad[i].col >= 0)
				CHECK_INTEQ(col, bad[i].col);
			CHECK(col >= 0);
		} else {
			check_record_(false, __FILE__, __LINE__,
				      "bad[%zu]: message \"%s\" is not FILE:LINE:COL: invalid JSON", i,
				      err ? err->msg : "(none)");
		}
		CHECK_ERROR(err, bad[i].what);
		launch_json_doc_clear(&doc); /* frees the text even after a failure */
	}

	/* launch_json_doc_load */
	_cleanup_free_ char *good = tu_write(dir, "good.json", "{\n  \"k\": [true]\n}\n");
	CHECK_INTEQ(launch_json_doc_load(&doc, good, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_STREQ(doc.path, good);
	CHECK(json_is_true(json_array_get(json_object_get(doc.root, "k"), 0)));
	CHECK(launch_json_error_at(&err, &doc, "/k/0", "here") < 0);
	_cleanup_free_ char *want = xasprintf("%s:2:9: here", good);
	CHECK_ERROR(err, want);
	launch_json_doc_clear(&doc);

	_cleanup_free_ char *broken = tu_write(dir, "broken.json", "{\n\n  \"k\": ,\n}\n");
	CHECK(launch_json_doc_load(&doc, broken, &err) < 0);
	_cleanup_free_ char *bwant = xasprintf("%s:3:", broken);
	CHECK_ERROR(err, bwant, "invalid JSON");
	launch_json_doc_clear(&doc);

	_cleanup_free_ char *none = xasprintf("%s/none.json", dir);
	CHECK(launch_json_doc_load(&doc, none, &err) < 0);
	CHECK_ERROR(err, "cannot read", none, "No such file or directory");
	CHECK(doc.text == NULL && doc.root == NULL);
	launch_json_doc_clear(&doc);
}

static void test_type_names(void)
{
	json_t *v[] = { json_object(),	json_array(), json_string("s"), json_integer(1),
			json_real(1.5), json_true(),  json_false(),	json_null() };
	const char *names[] = { "an object", "an array",  "a string",  "an integer",
				"a number",  "a boolean", "a boolean", "null" };
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		CHECK_STREQ(launch_json_type_name(v[i]), names[i]);
		json_decref(v[i]);
	}
}

static void test_from_strv(void)
{
	char *v[] = { (char *)"a", (char *)"", (char *)"b\"c", (char *)"\xff", (char *)"d", NULL };
	json_t *a = launch_json_from_strv(v);
	char *s = json_dumps(a, JSON_COMPACT);
	CHECK_STREQ(s, "[\"a\",\"\",\"b\\\"c\",\"d\"]"); /* not UTF-8: left out */
	free(s);
	json_decref(a);
	a = launch_json_from_strv(NULL);
	CHECK(json_is_array(a) && json_array_size(a) == 0);
	json_decref(a);
}

int main(void)
{
	char *dir = tu_mkdtemp();
	test_locate();
	test_doc(dir);
	test_type_names();
	test_from_strv();
	tu_rm_rf(dir);
	free(dir);
	return check_done();
}
