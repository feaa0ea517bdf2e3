/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image-manager/import.c that need no store: the command
 * line's changes to an image's runtime config (--env replacing entries of
 * the same name, --entrypoint, --cmd, --workdir), shared with commit. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "import.h"
#include "util.h"

static char *dump(const json_t *c)
{
	return json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
}

static void test_override(void)
{
	json_t *c = json_loads("{\"Env\": [\"PATH=/bin\", \"A=1\", 7, \"NOEQ\"], \"Cmd\": [\"sh\"], \"User\": \"u\"}",
			       0, NULL);
	char *none = dump(c);
	launch_import_override_config(c, NULL, NULL, NULL, NULL); /* nothing asked, nothing changed */
	char *same = dump(c);
	CHECK_STREQ(same, none);
	free(same);
	free(none);

	char *env[] = { (char *)"A=2", (char *)"B=", NULL };
	char *ep[] = { (char *)"/init", NULL };
	char *cmd[] = { NULL };
	launch_import_override_config(c, env, ep, cmd, "/work");
	char *got = dump(c);
	/* A replaced where the image had it removed and added last; what is not
	 * NAME=VALUE is kept; an empty --cmd is an empty Cmd */
	CHECK_STREQ(got,
		    "{\"Cmd\":[],\"Entrypoint\":[\"/init\"],\"Env\":[\"PATH=/bin\",7,\"NOEQ\",\"A=2\",\"B=\"],"
		    "\"User\":\"u\",\"WorkingDir\":\"/work\"}");
	free(got);
	json_decref(c);

	c = json_object(); /* no Env in the image */
	launch_import_override_config(c, env, NULL, NULL, NULL);
	got = dump(c);
	CHECK_STREQ(got, "{\"Env\":[\"A=2\",\"B=\"]}");
	free(got);
	json_decref(c);
}

int main(void)
{
	test_override();
	return check_done();
}
