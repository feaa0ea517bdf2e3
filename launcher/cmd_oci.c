/* SPDX-License-Identifier: Apache-2.0 */
/* `launch oci`: the subset of runc's command line that Slurm's own
 * --container support calls (oci.conf RunTimeRun, RunTimeQuery,
 * RunTimeKill, RunTimeDelete): run a bundle in the foreground, report its
 * state, signal it, delete its state. The container itself is an ordinary
 * launch container built from the bundle (lib/oci.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "container.h"
#include "instance.h"
#include "log.h"
#include "oci.h"
#include "paths.h"
#include "proc.h"
#include "trust.h"
#include "util.h"

static const char oci_help[] =
	"Usage: launch oci [--root DIR] COMMAND ARGS\n"
	"\n"
	"Run OCI runtime bundles the way Slurm's --container support (oci.conf)\n"
	"expects of runc:\n"
	"  run [-b BUNDLE] ID       run BUNDLE (default: the current directory) as\n"
	"                           container ID, in the foreground; exits with the\n"
	"                           process's status\n"
	"  state ID                 print the container's state as OCI state JSON\n"
	"  kill [-a] ID [SIGNAL]    send SIGNAL (default TERM) to it\n"
	"  delete [-f] ID           forget a stopped container (-f: kill it first)\n"
	"\n"
	"The bundle's config.json gives the command, its environment, working\n"
	"directory and bind mounts, and the root file system (a directory). uid 0\n"
	"in process.user means launch's --root; any other uid, your own. The\n"
	"container is otherwise an ordinary launch container, as unprivileged.\n"
	"--root DIR keeps the state (default RUNTIME_DIR/oci); runc's --rootless\n"
	"and --log options are accepted and ignored.\n";

/* --- state files: DIR/ID.json, held by DIR/ID.lock while running --- */

static bool id_valid(const char *id)
{
	return launch_instance_name_valid(id) || (strlen(id) <= 200 && !strchr(id, '/') && id[0] != '.' && *id);
}

static char *state_path(const char *dir, const char *id, const char *ext)
{
	return xasprintf("%s/%s.%s", dir, id, ext);
}

static bool running(const char *dir, const char *id)
{
	_cleanup_free_ char *lock = state_path(dir, id, "lock");
	_cleanup_close_ int fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static int write_state(const char *dir, const char *id, const char *bundle, pid_t pid, const char *status,
		       struct launch_error **err)
{
	_cleanup_free_ char *path = state_path(dir, id, "json");
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s}", "ociVersion", "1.0.2", "id", id, "status", status, "pid",
			      (json_int_t)pid, "bundle", bundle);
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text || launch_write_file_atomic(path, text, strlen(text), 0600) < 0)
		return launch_error_set(err, errno, "cannot write %s", path);
	return 0;
}

static json_t *read_state(const char *dir, const char *id, struct launch_error **err)
{
	_cleanup_free_ char *path = state_path(dir, id, "json");
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j)
		launch_error_msg(err, "container %s does not exist", id);
	return j;
}

/* Slurm runs RunTimeKill and RunTimeDelete as root, on the state of a
 * container the job's user ran: act as that user (the owner of DIR), so that
 * a state file the user controls can never make root signal a process that
 * is not the user's. */
static int become_owner(const char *dir, struct launch_error **err)
{
	if (getuid() != 0)
		return 0;
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return errno == ENOENT ? 0 : launch_error_set(err, errno, "cannot open OCI state directory %s", dir);
	if (st.st_uid == 0)
		return 0;
	struct passwd *pw = getpwuid(st.st_uid);
	gid_t gid = pw ? pw->pw_gid : st.st_gid;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(st.st_uid, st.st_uid, st.st_uid) < 0)
		return launch_error_set(err, errno, "cannot become uid %u, the owner of %s", (unsigned)st.st_uid, dir);
	return 0;
}

/* The state directory: --root DIR, else RUNTIME_DIR/oci. It holds the
 * pids launch signals and files it writes, so it must be the caller's
 * alone (trust.h): oci.conf names it from predictable parts, in /tmp. */
static int state_dir(const char *given, char **out, struct launch_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (given) {
		char cwd[PATH_MAX];
		if (given[0] != '/' && !getcwd(cwd, sizeof(cwd)))
			return launch_error_set(err, errno, "cannot resolve --root %s", given);
		dir = given[0] == '/' ? xstrdup(given) : xasprintf("%s/%s", cwd, given);
	} else {
		struct launch_config c;
		launch_config_init(&c);
		_cleanup_free_ char *rd = NULL;
		int r = launch_config_load(&c, LAUNCH_CONFIG_HONOR_ENV, err) < 0
				? -1
				: launch_runtime_dir(&c, &rd, NULL, err);
		launch_config_clear(&c);
		if (r < 0)
			return -1;
		dir = xasprintf("%s/oci", rd);
	}
	if (become_owner(dir, err) < 0)
		return -1;
	int fd =
		launch_trust_dir(dir, getuid(), 0700, LAUNCH_TRUST_CREATE | LAUNCH_TRUST_PRIVATE, "OCI state directory",
				 "choose another with launch oci --root DIR (RunTime* in oci.conf)", err);
	if (fd < 0)
		return -1;
	close(fd);
	*out = steal_pointer(&dir);
	return 0;
}

static int parse_signal(const char *s)
{
	if (!s)
		return SIGTERM;
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end && n > 0 && n < NSIG)
		return (int)n;
	const char *name = launch_str_has_prefix(s, "SIG") ? s + 3 : s;
	static const struct {
		const char *n;
		int s;
	} t[] = { { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT },	 { "HUP", SIGHUP },
		  { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "CONT", SIGCONT },
		  { "STOP", SIGSTOP }, { "ALRM", SIGALRM } };
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(name, t[i].n))
			return t[i].s;
	return -1;
}

/* --- commands --- */

static int oci_run(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "detach", no_argument, NULL, 'd' },
					      { "no-pivot", no_argument, NULL, 'P' },
					      { "no-new-keyring", no_argument, NULL, 'K' },
					      { NULL, 0, NULL, 0 } };
	struct launch_error *err = NULL;
	const char *bundle = ".";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'd') {
			launch_error_msg(&err, "launch oci run --detach is not supported: use RunTimeRun in oci.conf");
			return launcher_fail(err);
		} else if (c == '?')
			return LAUNCH_EXIT_FAILURE;
	}
	if (argc - optind != 1 || !id_valid(argv[optind])) {
		launch_error_msg(&err, "usage: launch oci run [-b BUNDLE] ID");
		return launcher_fail(err);
	}
	const char *id = argv[optind];
	_cleanup_free_ char *abs = realpath(bundle, NULL);
	if (!abs) {
		launch_error_set(&err, errno, "bundle %s", bundle);
		return launcher_fail(err);
	}
	_cleanup_free_ char *lockp = state_path(dir, id, "lock");
	_cleanup_close_ int lock = open(lockp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		launch_error_msg(&err, "container %s exists and is running", id);
		return launcher_fail(err);
	}
	struct launch_config config;
	struct launch_spec spec = { 0 };
	int ret = LAUNCH_EXIT_FAILURE;
	launch_config_init(&config);
	if (launch_privs_verify(&err) < 0 || launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_oci_load(abs, &config, &spec, &err) < 0)
		goto fail;
	spec.container_id = xstrdup(id);
	if (launch_spec_apply_policy(&spec, &config, "the bundle's process.user (uid 0)", &err) < 0 ||
	    launch_spec_add_site_hooks(&spec, &err) < 0 || write_state(dir, id, abs, getpid(), "running", &err) < 0)
		goto fail;
	int status = 0;
	int r = launch_container_run_with(&spec, NULL, &status, &err); /* the state file is written after */
	write_state(dir, id, abs, getpid(), "stopped", NULL);
	if (r < 0)
		goto fail;
	ret = status;
	goto out;
fail:
	ret = launcher_fail(err);
out:
	launch_spec_clear(&spec);
	launch_config_clear(&config);
	return ret;
}

static int oci_state(const char *dir, int argc, char **argv)
{
	struct launch_error *err = NULL;
	if (argc != 2) {
		launch_error_msg(&err, "usage: launch oci state ID");
		return launcher_fail(err);
	}
	json_t *j = read_state(dir, argv[1], &err);
	if (!j)
		return launcher_fail(err);
	if (!running(dir, argv[1]))
		json_object_set_new(j, "status", json_string("stopped"));
	char *s = json_dumps(j, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

static int oci_kill(const char *dir, int argc, char **argv)
{
	struct launch_error *err = NULL;
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all")))
		i++;
	if (argc - i < 1 || argc - i > 2) {
		launch_error_msg(&err, "usage: launch oci kill [-a] ID [SIGNAL]");
		return launcher_fail(err);
	}
	int sig = parse_signal(argc - i == 2 ? argv[i + 1] : NULL);
	if (sig < 0) {
		launch_error_msg(&err, "unknown signal `%s`", argv[i + 1]);
		return launcher_fail(err);
	}
	json_t *j = read_state(dir, argv[i], &err);
	if (!j)
		return launcher_fail(err);
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	if (!running(dir, argv[i])) {
		launch_error_msg(&err, "container %s is not running", argv[i]);
		return launcher_fail(err);
	}
	if (pid <= 0 || kill(pid, sig) < 0) {
		launch_error_set(&err, errno, "cannot signal container %s", argv[i]);
		return launcher_fail(err);
	}
	return 0;
}

static int oci_delete(const char *dir, int argc, char **argv)
{
	struct launch_error *err = NULL;
	bool force = false;
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))) {
		force = true;
		i++;
	}
	if (argc - i != 1) {
		launch_error_msg(&err, "usage: launch oci delete [-f] ID");
		return launcher_fail(err);
	}
	const char *id = argv[i];
	json_t *j = read_state(dir, id, &err);
	if (!j)
		return force ? 0 : launcher_fail(err);
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	/* opened before the lock says PID is the container's still: a pid used
	 * again is never signalled or waited on */
	_cleanup_close_ int pidfd = launch_proc_open(pid);
	if (running(dir, id)) {
		if (!force) {
			launch_error_msg(&err, "container %s is running (kill it, or delete --force)", id);
			return launcher_fail(err);
		}
		kill(pid, SIGKILL);
		launch_proc_wait_pid(pid, pidfd, 5000);
	}
	_cleanup_free_ char *js = state_path(dir, id, "json"), *lk = state_path(dir, id, "lock");
	unlink(js);
	unlink(lk);
	return 0;
}

int cmd_oci(int argc, char **argv)
{
	const char *root = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(oci_help, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (launch_str_has_prefix(argv[i], "--root="))
			root = argv[i] + 7;
		else if (!strcmp(argv[i], "--log") || !strcmp(argv[i], "--log-format"))
			i++; /* runc's logging options: ours go to stderr */
		else if (launch_str_has_prefix(argv[i], "--rootless") || launch_str_has_prefix(argv[i], "--log") ||
			 !strcmp(argv[i], "--debug") || launch_str_has_prefix(argv[i], "--systemd-cgroup"))
			;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-q"))
			launcher_verbosity_option(argv[i][1]);
		else {
			fprintf(stderr, "launch oci: unknown option %s (see 'launch oci --help')\n", argv[i]);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	struct launch_error *err = NULL;
	if (i >= argc) {
		fputs(oci_help, stderr);
		return LAUNCH_EXIT_FAILURE;
	}
	_cleanup_free_ char *dir = NULL;
	if (state_dir(root, &dir, &err) < 0)
		return launcher_fail(err);
	const char *cmd = argv[i];
	int sub_argc = argc - i;
	char **sub_argv = argv + i;
	if (!strcmp(cmd, "run"))
		return oci_run(dir, sub_argc, sub_argv);
	if (!strcmp(cmd, "state"))
		return oci_state(dir, sub_argc, sub_argv);
	if (!strcmp(cmd, "kill"))
		return oci_kill(dir, sub_argc, sub_argv);
	if (!strcmp(cmd, "delete"))
		return oci_delete(dir, sub_argc, sub_argv);
	launch_error_msg(&err, "launch oci: unknown command `%s` (run, state, kill, delete)", cmd);
	return launcher_fail(err);
}
