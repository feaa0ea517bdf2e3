/* SPDX-License-Identifier: Apache-2.0 */
/* A hook for the tests of the hook library (lib/hookapi.h): reads the state
 * and the bundle, joins the container, puts host files into it and rebuilds
 * its linker cache, as a site hook would. What it did goes to stdout (shown
 * with -v) and to $PROBE_LOG.
 *   PROBE_BIND=SRC:DST[,SRC:DST...]   bind read-only
 *   PROBE_LINK=TARGET:DST             a symlink
 *   PROBE_LDDIR=DIR                   rebuild the cache with DIR in front
 *   PROBE_LDCONFIG=PATH               default /sbin/ldconfig */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hookapi.h"
#include "util.h"

static int fail(struct launch_error *e)
{
	fprintf(stderr, "hookprobe: %s\n", e ? e->msg : "failed");
	return 1;
}

int main(void)
{
	struct launch_error *e = NULL;
	struct launch_hook_state st;
	if (launch_hook_state_read(0, &st, &e) < 0)
		return fail(e);
	FILE *log = getenv("PROBE_LOG") ? fopen(getenv("PROBE_LOG"), "a") : NULL;
	if (log) {
		fprintf(log, "id=%s status=%s pid=%d root=%s readonly=%d args0=%s cwd=%s\n", st.id, st.status,
			(int)st.pid, st.root, st.root_readonly, st.args && st.args[0] ? st.args[0] : "-", st.cwd);
		for (size_t i = 0; st.annotations[i]; i++)
			fprintf(log, "annotation %s\n", st.annotations[i]);
		const char *probe = launch_hook_state_getenv(&st, "PROBE_ENV");
		fprintf(log, "container PROBE_ENV=%s\n", probe ? probe : "(unset)");
		fclose(log);
	}
	if (launch_hook_enter(st.pid, &e) < 0)
		return fail(e);
	struct launch_inject *inj = NULL;
	if (launch_inject_begin(st.root, &inj, &e) < 0)
		return fail(e);
	const char *binds = getenv("PROBE_BIND");
	if (binds) {
		_cleanup_free_ char *copy = xstrdup(binds);
		char *save = NULL;
		for (char *b = strtok_r(copy, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
			char *colon = strchr(b, ':');
			if (!colon)
				continue;
			*colon = '\0';
			if (launch_inject_bind(inj, b, colon + 1, true, &e) < 0)
				return fail(e);
			printf("bound %s on %s\n", b, colon + 1);
		}
	}
	const char *link = getenv("PROBE_LINK");
	if (link) {
		_cleanup_free_ char *copy = xstrdup(link);
		char *colon = strchr(copy, ':');
		if (colon) {
			*colon = '\0';
			if (launch_inject_symlink(inj, copy, colon + 1, &e) < 0)
				return fail(e);
		}
	}
	if (launch_inject_end(inj, &e) < 0)
		return fail(e);
	const char *lddir = getenv("PROBE_LDDIR");
	if (lddir) {
		const char *ldconfig = getenv("PROBE_LDCONFIG") ? getenv("PROBE_LDCONFIG") : "/sbin/ldconfig";
		char *const dirs[] = { (char *)lddir, NULL };
		if (launch_ldcache_update(ldconfig, st.root, dirs, &e) < 0)
			return fail(e);
		struct launch_ldcache c;
		if (launch_ldcache_read(ldconfig, st.root, &c, &e) < 0)
			return fail(e);
		printf("cache of %zu entries\n", c.n);
		launch_ldcache_clear(&c);
	}
	launch_hook_state_clear(&st);
	return 0;
}
