/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of image-manager/commit.c's walk of an upper directory
 * (launch_commit_write_upper), read back as a sorted listing of
 * PATH TYPE EXTRA lines: files, directories, symlinks and hardlinks copied,
 * the root left out, mount points launch made left out only while they hold
 * nothing else, and a write whose reader went away told apart by its kind
 * (LAUNCH_ERR_PIPE_CLOSED), which the commit's walker turns into an exit
 * status of its own. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "commit.h"
#include "proc.h"
#include "testutil.h"
#include "util.h"

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The walk of UPPER (skipping MPS) as sorted lines joined by '|'; NULL
 * with *ERR set when the walk failed. */
static char *walk(const char *upper, char *const *mps, struct launch_error **err)
{
	FILE *f = tmpfile();
	if (!f)
		tu_die("tmpfile", "");
	if (launch_commit_write_upper(upper, mps, fileno(f), err) < 0) {
		fclose(f);
		return NULL;
	}
	lseek(fileno(f), 0, SEEK_SET);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fileno(f), 10240) != ARCHIVE_OK)
		tu_die("archive_read_open_fd", archive_error_string(a));
	char **lines = NULL;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *type = archive_entry_filetype(e) == AE_IFDIR   ? "dir"
				   : archive_entry_filetype(e) == AE_IFLNK ? "link"
									   : "file";
		char data[64] = "";
		la_ssize_t n = archive_read_data(a, data, sizeof(data) - 1);
		data[n > 0 ? n : 0] = '\0';
		const char *hard = archive_entry_hardlink(e), *sym = archive_entry_symlink(e);
		launch_strv_push(&lines,
				 xasprintf("%s %s%s%s%s%s", archive_entry_pathname(e), type, *data ? " =" : "", data,
					   hard	 ? " =>"
					   : sym ? " ->"
						 : "",
					   hard	 ? hard
					   : sym ? sym
						 : ""));
	}
	archive_read_free(a);
	fclose(f);
	size_t n = launch_strv_len(lines);
	qsort(lines, n, sizeof(char *), cmp_line);
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%s", out, i ? "|" : "", lines[i]);
		free(out);
		out = next;
	}
	launch_strv_free(lines);
	return out;
}

static void test_copy(const char *dir)
{
	_cleanup_free_ char *upper = xasprintf("%s/upper", dir);
	mkdir(upper, 0755);
	free(tu_write(upper, "a", "alpha"));
	tu_mkdir(upper, "d");
	free(tu_write(upper, "d/b", "beta"));
	tu_symlink(upper, "s", "d/b");
	_cleanup_free_ char *a = xasprintf("%s/a", upper), *h = xasprintf("%s/h", upper);
	if (link(a, h) < 0)
		tu_die("link", h);
	/* mount points launch made: an empty file, and a directory of such */
	free(tu_write(upper, "mp", ""));
	tu_mkdir(upper, "mpd");
	free(tu_write(upper, "mpd/x", ""));
	/* a mount point the container wrote into stays */
	free(tu_write(upper, "used", "data"));
	char *mps[] = { (char *)"/mp", (char *)"/mpd", (char *)"/mpd/x", (char *)"/used", NULL };
	struct launch_error *err = NULL;
	_cleanup_free_ char *got = walk(upper, mps, &err);
	CHECK_NO_ERROR(err);
	/* the first name of the hardlinked file (in readdir's order) carries
	 * the data */
	bool a_first = got && strstr(got, "a file =alpha");
	CHECK_STREQ(got, a_first ? "a file =alpha|d/ dir|d/b file =beta|h file =>a|s link ->d/b|used file =data"
				 : "a file =>h|d/ dir|d/b file =beta|h file =alpha|s link ->d/b|used file =data");
	/* without the list, every mount point is a change */
	free(steal_pointer(&got));
	got = walk(upper, NULL, &err);
	CHECK_NO_ERROR(err);
	CHECK_CONTAINS(got, "|mp file|mpd/ dir|mpd/x file|");
}

/* In a child, as the commit's walker runs it (libarchive keeps what a
 * write stream that failed allocated: the walker then exits): the walk of
 * ARG into a pipe whose reader is gone. Exits 0 when it failed as it must. */
static int walk_to_closed_pipe(void *arg, int report)
{
	(void)report;
	int p[2];
	if (pipe(p) < 0)
		return 3;
	close(p[0]);
	struct launch_error *err = NULL;
	int r = launch_commit_write_upper(arg, NULL, p[1], &err);
	bool ok = r == -1 && launch_error_is(err, LAUNCH_ERR_PIPE_CLOSED) && strstr(err->msg, "cannot write f: ");
	if (!ok)
		fprintf(stderr, "walk into a closed pipe: %d, %s\n", r, err ? err->msg : "no error");
	return ok ? 0 : 1;
}

/* A reader that went away: the error says so by its kind, not its words. */
static void test_reader_gone(const char *dir)
{
	_cleanup_free_ char *upper = xasprintf("%s/gone", dir);
	mkdir(upper, 0755);
	free(tu_write(upper, "f", "data"));
	struct launch_proc_spec child = { .child = walk_to_closed_pipe, .arg = upper };
	struct launch_error *err = NULL;
	CHECK_INTEQ(launch_proc_run(&child, NULL, 0, &err), 0);
	CHECK_NO_ERROR(err);
	int p[2];

	/* any other failure is not */
	_cleanup_free_ char *missing = xasprintf("%s/missing", dir);
	if (pipe(p) < 0)
		tu_die("pipe", "");
	CHECK_INTEQ(launch_commit_write_upper(missing, NULL, p[1], &err), -1);
	CHECK(!launch_error_is(err, LAUNCH_ERR_PIPE_CLOSED));
	CHECK_ERROR(err, "cannot read the writable layer ", missing);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as launch_commit does */
	_cleanup_free_ char *dir = tu_mkdtemp();
	test_copy(dir);
	test_reader_gone(dir);
	tu_rm_rf(dir);
	return check_done();
}
