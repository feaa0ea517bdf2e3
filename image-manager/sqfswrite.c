/* SPDX-License-Identifier: Apache-2.0 */
/* tar2sqfs as a child process (see sqfswrite.h). Its stderr goes to a pipe
 * of ours, drained by a thread, so that its last words become our error
 * message and a full pipe never blocks it.
 *
 * tar2sqfs reports a failed write as "NAME: I/O error", whatever errno said;
 * when it fails, a write of our own to the output file tells whether the
 * file system is full (or the quota reached), so that the message can say
 * so and where to make room. */
#define _GNU_SOURCE
#include "sqfswrite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"

struct launch_sqfs_writer {
	char *output;
	struct launch_proc proc;
	int in_fd;
	int err_fd;
	struct archive *a;
	pthread_t reader;
	bool reader_started;
	char tail[2048]; /* the end of tar2sqfs's stderr (more than one read) */
	size_t tail_len;
};

bool launch_sqfs_compressor_valid(const char *c)
{
	static const struct {
		const char *name;
		int min, max; /* levels; max 0: none */
	} table[] = { { "zstd", 1, 22 }, { "gzip", 1, 9 }, { "xz", 0, 9 }, { "lz4", 0, 0 }, { "lzo", 1, 9 } };
	const char *colon = strchr(c, ':');
	size_t n = colon ? (size_t)(colon - c) : strlen(c);
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (strlen(table[i].name) != n || strncmp(c, table[i].name, n) != 0)
			continue;
		if (!colon)
			return true;
		char *end;
		long l = strtol(colon + 1, &end, 10);
		return table[i].max && colon[1] && !*end && l >= table[i].min && l <= table[i].max;
	}
	return false;
}

int launch_sqfs_reader_start(const char *image, struct launch_proc *p, int *pipe_fd, struct launch_error **err)
{
	char *argv[] = { (char *)"sqfs2tar", (char *)"--root-becomes", (char *)".", (char *)image, NULL };
	struct launch_proc_spec spec = { .path = "sqfs2tar",
					 .argv = argv,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_PIPE,
					 .die_with_parent = true };
	struct launch_error *e = NULL;
	if (launch_proc_spawn(&spec, p, &e) < 0) {
		launch_error_msg(err, "%s (install squashfs-tools-ng)", e->msg);
		launch_error_free(e);
		return -1;
	}
	*pipe_fd = p->out;
	p->out = -1;
	return 0;
}

char *launch_sqfs_writer_find(void)
{
	const char *path = getenv("PATH");
	return launch_find_program("tar2sqfs", path && *path ? path : "/usr/local/bin:/usr/bin:/bin", NULL);
}

static void *drain(void *arg)
{
	struct launch_sqfs_writer *w = arg;
	char buf[1024];
	ssize_t n;
	while ((n = read(w->err_fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n <= 0)
			continue;
		if (w->tail_len + (size_t)n >= sizeof(w->tail)) {
			size_t drop = w->tail_len + (size_t)n - (sizeof(w->tail) - 1);
			memmove(w->tail, w->tail + drop, w->tail_len - drop);
			w->tail_len -= drop;
		}
		memcpy(w->tail + w->tail_len, buf, (size_t)n);
		w->tail_len += (size_t)n;
	}
	return NULL;
}

int launch_sqfs_writer_start(const char *output, const char *compressor, int jobs, struct launch_sqfs_writer **out,
			     struct launch_error **err)
{
	_cleanup_free_ char *bin = launch_sqfs_writer_find();
	if (!bin)
		return launch_error_msg(err,
					"tar2sqfs not found in PATH: install squashfs-tools-ng (Debian and Ubuntu: "
					"apt-get install squashfs-tools-ng)");
	if (jobs <= 0)
		jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs <= 0)
		jobs = 1;
	char jobs_s[16];
	snprintf(jobs_s, sizeof(jobs_s), "%d", jobs);
	/* NAME[:LEVEL], checked by the caller (launch_sqfs_compressor_valid) */
	_cleanup_free_ char *name = xstrdup(compressor ? compressor : LAUNCH_SQFS_DEFAULT_COMPRESSOR);
	char *colon = strchr(name, ':');
	_cleanup_free_ char *extra = colon ? xasprintf("level=%s", colon + 1) : NULL;
	if (colon)
		*colon = '\0';
	const char *argv[16] = { bin,  "--quiet",    "--no-skip", "--force",	"--compressor",
				 name, "--num-jobs", jobs_s,	  "--defaults", "mode=0755" };
	size_t argc = 10;
	if (extra) {
		argv[argc++] = "--comp-extra";
		argv[argc++] = extra;
	}
	argv[argc++] = output;
	/* its output and errors on one pipe, drained by a thread; nothing
	 * must outlive an import killed with SIGKILL */
	struct launch_proc_spec spec = { .path = bin,
					 .argv = (char *const *)argv,
					 .in = LAUNCH_PROC_PIPE,
					 .out = LAUNCH_PROC_PIPE,
					 .err = LAUNCH_PROC_STDOUT,
					 .die_with_parent = true,
					 .what = "tar2sqfs" };
	struct launch_proc proc;
	if (launch_proc_spawn(&spec, &proc, err) < 0)
		return -1;
	struct launch_sqfs_writer *w = xcalloc(1, sizeof(*w));
	w->proc = proc;
	w->in_fd = steal_fd(&w->proc.in);
	w->err_fd = steal_fd(&w->proc.out);
	if (pthread_create(&w->reader, NULL, drain, w) == 0)
		w->reader_started = true;
	w->output = xstrdup(output);
	w->a = archive_write_new();
	archive_write_set_format_pax_restricted(w->a);
	archive_write_set_bytes_per_block(w->a, 0); /* no padding to blocks: a pipe */
	if (archive_write_open_fd(w->a, w->in_fd) != ARCHIVE_OK) {
		launch_error_msg(err, "cannot start the tar stream: %s", archive_error_string(w->a));
		launch_sqfs_writer_abort(w, NULL);
		return -1;
	}
	*out = w;
	return 0;
}

struct archive *launch_sqfs_writer_archive(struct launch_sqfs_writer *w)
{
	return w->a;
}

static int wait_child(struct launch_sqfs_writer *w)
{
	launch_proc_wait(&w->proc, NULL, 0, NULL);
	int st = w->proc.status;
	launch_proc_close(&w->proc);
	if (w->reader_started)
		pthread_join(w->reader, NULL);
	close(w->err_fd);
	return st;
}

static void free_writer(struct launch_sqfs_writer *w)
{
	if (w->a)
		archive_write_free(w->a);
	free(w->output);
	free(w);
}

/* ENOSPC or EDQUOT when writing to OUTPUT fails so now, else 0. The probe
 * (256 KiB, more than tar2sqfs writes at once, so a full file system that
 * stopped it stops the probe too) grows OUTPUT, which is cut back after. */
static int space_errno(const char *output)
{
	static const char zeros[256 * 1024];
	_cleanup_close_ int fd = open(output, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_END) < 0)
		return 0;
	int e = launch_write_all(fd, zeros, sizeof(zeros)) < 0 ? errno : 0;
	if (ftruncate(fd, st.st_size) < 0)
		launch_debug("cannot truncate %s again: %s", output, strerror(errno));
	return e == ENOSPC || e == EDQUOT ? e : 0;
}

/* The error of a tar2sqfs that ended with status ST (WERR: the stream's
 * error on our side, or NULL): a full disk, or its last words. */
static int child_error(struct launch_sqfs_writer *w, int st, const char *werr, struct launch_error **err)
{
	w->tail[w->tail_len] = '\0';
	/* the last non-empty line says what went wrong */
	char *t = w->tail;
	size_t l = strlen(t);
	while (l && (t[l - 1] == '\n' || t[l - 1] == ' '))
		t[--l] = '\0';
	char *last = strrchr(t, '\n');
	last = last ? last + 1 : t;
	int space = WIFEXITED(st) ? space_errno(w->output) : 0;
	if (space) {
		launch_debug("tar2sqfs: %s", last);
		return launch_error_set(err, space, "cannot write the squashfs image %s", w->output);
	}
	if (*last)
		return launch_error_msg(err, "cannot write the squashfs image: tar2sqfs: %s", last);
	if (WIFSIGNALED(st))
		return launch_error_msg(err, "cannot write the squashfs image: tar2sqfs was killed by signal %d",
					WTERMSIG(st));
	return launch_error_msg(err, "cannot write the squashfs image: %s", werr && *werr ? werr : "tar2sqfs failed");
}

int launch_sqfs_writer_finish(struct launch_sqfs_writer *w, struct launch_error **err)
{
	int r = archive_write_close(w->a);
	_cleanup_free_ char *werr = r != ARCHIVE_OK ? xstrdup(archive_error_string(w->a) ?: "") : NULL;
	close(w->in_fd);
	int st = wait_child(w);
	int ret = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || werr)
		ret = child_error(w, st, werr, err);
	free_writer(w);
	return ret;
}

void launch_sqfs_writer_abort(struct launch_sqfs_writer *w, struct launch_error **err)
{
	if (!w)
		return;
	/* the stream broke (EPIPE) when tar2sqfs stopped reading: it failed
	 * first, and its reason (a full disk, say) is the one to give, not
	 * our "Write error" */
	bool broken = archive_errno(w->a) == EPIPE;
	if (!broken)
		launch_proc_kill(&w->proc, SIGKILL);
	close(w->in_fd);
	int st = wait_child(w);
	if (broken && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		child_error(w, st, NULL, err);
	free_writer(w);
}
