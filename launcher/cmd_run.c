/* SPDX-License-Identifier: Apache-2.0 */
/* `launch run`: parse the command line into a launch_spec and run it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "instance.h"
#include "log.h"
#include "paths.h"
#include "sqfs.h"
#include "util.h"

extern char **environ;

static const char help[] =
	"Usage: launch run [OPTIONS] IMAGE [--] [COMMAND [ARG...]]\n"
	"\n"
	"Run COMMAND in a container made from IMAGE: a NAME[:TAG] or @DIGEST of your\n"
	"image store or the site's (see 'launch images'), or the path of a squashfs\n"
	"file or an unpacked root file system directory. The image is read-only.\n"
	"You keep your own uid and gid inside, with no capabilities.\n"
	"\n"
	"The command is the image's Entrypoint followed by COMMAND, or by the image's\n"
	"Cmd when no COMMAND is given; /bin/sh when all are empty.\n"
	"\n"
	"Options:\n"
	"  -r, --root              be uid 0 inside, with only CAP_CHOWN, CAP_DAC_OVERRIDE,\n"
	"                          CAP_FOWNER, CAP_SETUID and CAP_SETGID (still no power\n"
	"                          over host files you could not touch yourself)\n"
	"  -m, --bind SRC[:DST[:FLAGS]]\n"
	"                          bind-mount host path SRC at DST (default: the same\n"
	"                          path); SRC tmpfs: a new tmpfs (mode 1777) at DST;\n"
	"                          SRC umount: remove the mount on DST (./tmpfs and\n"
	"                          ./umount are host paths). FLAGS, joined by +: ro,\n"
	"                          rw, bind (without the mounts below SRC), rbind,\n"
	"                          private, slave, shared, unbindable (r...: with the\n"
	"                          mounts below), nosuid, nodev, noexec,\n"
	"                          x-create=dir|file|auto; for tmpfs mode=OCTAL,\n"
	"                          size=SIZE. Example: -m /data:/data:ro+rprivate\n"
	"      --mount type=bind|tmpfs,source=HOST,destination=CTR[,readonly][,KEY=VALUE]\n"
	"                          the same, in docker's long form; keys\n"
	"                          bind-propagation, bind-nonrecursive, nosuid, nodev,\n"
	"                          noexec, x-create, tmpfs-mode, tmpfs-size\n"
	"                          Destinations are created when the image lacks them;\n"
	"                          symlinks in the image are followed inside the image.\n"
	"  -w, --workdir DIR       start in DIR (default: the image's WorkingDir, else\n"
	"                          the current directory if it exists in the container,\n"
	"                          else /)\n"
	"  -e, --env NAME=VALUE    set a variable; NAME alone copies it from the host\n"
	"      --env-file FILE     set the NAME=VALUE lines of FILE\n"
	"      --entrypoint CMD    run CMD instead of the image's Entrypoint (\"\" for\n"
	"                          none); the image's Cmd is then not used either\n"
	"      --no-home           do not mount your home directory\n"
	"      --private-tmp       a private, empty /tmp instead of the host's\n"
	"      --stage DIR         copy a squashfs image into DIR (node-local storage)\n"
	"                          and mount the copy; a copy already in DIR is reused\n"
	"      --fresh             serve the image from this process alone, rather than\n"
	"                          with the image server your other containers of it\n"
	"                          share (see Image servers below)\n"
	"      --writable          make the image writable: changes go to a tmpfs\n"
	"                          (memory) and are discarded at exit\n"
	"      --writable-size SIZE  cap that tmpfs, e.g. 2g (default: half the RAM)\n"
	"      --overlay DIR       make the image writable and keep the changes in DIR\n"
	"                          (created if missing); a later run with the same DIR\n"
	"                          sees them; 'launch commit' makes an image of them\n"
	"      --annotation KEY=VALUE\n"
	"                          annotate the container; the site's OCI hooks may\n"
	"                          run on annotations (see 'launch hooks')\n"
	"      --mpi               use the host's MPI: --annotation launch.mpi=true\n"
	"      --gpu               use the host's NVIDIA GPUs: --annotation launch.gpu=true\n"
	"  -i, -t, --interactive, --tty, --rm\n"
	"                          accepted for docker users, no effect: stdin is always\n"
	"                          connected, and the container always removed\n"
	"  -v, --verbose           more detail (with the time each hook took); docker's\n"
	"                          -v SRC:DST is -m SRC:DST here\n"
	"  -q, --quiet             only errors\n"
	"  -h, --help              this help\n"
	"\n"
	"The container sees: the image; /proc and /sys of the host; a minimal /dev\n"
	"(null, zero, full, random, urandom, tty, ptmx, pts, and the host's /dev/shm);\n"
	"the host's /tmp; your home directory; /etc/passwd and /etc/group that know\n"
	"you; the host's /etc/hosts and /etc/resolv.conf; the site's mounts; yours.\n"
	"\n"
	"Environment: the host's variables, except LD_PRELOAD, LD_LIBRARY_PATH,\n"
	"LD_AUDIT, XDG_RUNTIME_DIR and the site's env_deny list; then the image's Env;\n"
	"then --env-file files, then --env options, in order. PATH defaults to the\n"
	"usual directories. The image's User is not used: you are yourself inside.\n"
	"\n"
	"Signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH\n"
	"and SIGCONT sent to launch reach the command. When the command exits, processes it left behind get\n"
	"SIGTERM, then SIGKILL 2 seconds later; nothing stays mounted.\n"
	"\n"
	"Image servers: the first container of a squashfs image starts a server that\n"
	"mounts it; your later containers of that image on this node, in the same\n"
	"--root mode, join it and share its cache, so they start faster and read the\n"
	"image once. It ends image_server_linger seconds (default 60; 0: no sharing)\n"
	"after its last container. 'launch ps' lists the servers.\n"
	"\n"
	"Exit status: the command's; 128+N when signal N killed it; 125 when launch\n"
	"failed; 126 when the command cannot be executed; 127 when it is not found.\n";

static const char start_help[] =
	"Usage: launch start [--name NAME] [RUN OPTIONS] IMAGE\n"
	"\n"
	"Start a detached instance of IMAGE: its namespaces, its image mount (one\n"
	"squashfs server per instance) and its mounts stay until 'launch stop'.\n"
	"Processes join it with 'launch exec'. Prints the instance's name (generated\n"
	"when --name is not given) once it can be joined.\n"
	"\n"
	"Options: those of 'launch run' (see 'launch run --help'), and\n"
	"  -n, --name NAME         the instance's name: letters, digits, _ - . (1-" LAUNCH_INSTANCE_NAME_MAX_STR
	")\n"
	"      --reuse             if instance NAME runs already, print its name and\n"
	"                          succeed (its options stay as they were)\n"
	"\n"
	"Identity is chosen at start: with --root every process that joins is uid 0\n"
	"with the five capabilities of 'launch run --root'; without it, your uid.\n"
	"State lives in RUNTIME_DIR/instances (see 'launch doctor'), private to you.\n";

static const char hooks_help[] =
	"Usage: launch hooks [RUN OPTIONS] IMAGE [--] [COMMAND [ARG...]]\n"
	"\n"
	"List the OCI hooks of the site (the *.json files of the hooks_dirs of the\n"
	"site config, in the order they run) and say, for each, whether it would run\n"
	"for 'launch run [RUN OPTIONS] IMAGE [COMMAND...]', and why. Nothing is run.\n"
	"An invalid hook file is reported with FILE:LINE:COLUMN; while one is\n"
	"invalid, no container starts.\n"
	"\n"
	"Options: those of 'launch run', and\n"
	"      --format json       one JSON array instead of the table\n";

static const char exec_help[] =
	"Usage: launch exec [OPTIONS] NAME [--] COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND inside instance NAME by joining its namespaces: it sees what\n"
	"the instance sees, with the identity, capabilities, environment, working\n"
	"directory and exit status rules of 'launch run'. launch becomes COMMAND\n"
	"(no process stays between you and it).\n"
	"\n"
	"Options:\n"
	"  -r, --root              accepted for instances started with --root (whose\n"
	"                          processes are uid 0 anyway), refused for others\n"
	"  -w, --workdir DIR       start in DIR (default: the current directory if it\n"
	"                          exists in the container, else /)\n"
	"  -e, --env NAME=VALUE    set a variable; NAME alone copies it from the host\n"
	"      --env-file FILE     set the NAME=VALUE lines of FILE\n"
	"  -i, -t, --interactive, --tty\n"
	"                          accepted for docker users, no effect: stdin is always\n"
	"                          connected\n"
	"  -v, --verbose, -q, --quiet, -h, --help\n"
	"\n"
	"Exit status: the command's; 125 when launch failed (e.g. no such instance);\n"
	"126 when the command cannot be executed; 127 when it is not found.\n";

static char *absolute_path(const char *p)
{
	if (p[0] == '/')
		return launch_path_normalize(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return launch_path_normalize(p); /* NULL: reported by the caller */
	_cleanup_free_ char *joined = xasprintf("%s/%s", cwd, p);
	return launch_path_normalize(joined);
}

enum {
	OPT_MOUNT = 1000,
	OPT_ENV_FILE,
	OPT_NO_HOME,
	OPT_PRIVATE_TMP,
	OPT_WRITABLE,
	OPT_WRITABLE_SIZE,
	OPT_OVERLAY,
	OPT_ENTRYPOINT,
	OPT_REUSE,
	OPT_STAGE,
	OPT_FRESH,
	OPT_ANNOTATION,
	OPT_MPI,
	OPT_GPU,
	OPT_FORMAT,
	OPT_RM,
	OPT_VOLUME
};

/* Does S, given after -v, mean a docker volume (SRC:DST, DST absolute)
 * rather than the IMAGE? An image name can hold both `:` and `/`
 * (lab/tool:2.0, docker://...), but never `:` followed by a single `/`. */
static bool docker_volume(const char *s)
{
	const char *p = strstr(s, ":/");
	return p && p[2] != '/';
}

/* `launch hooks`: every hook of the site, whether it would run for SPEC,
 * and why. */
static int list_hooks(const struct launch_spec *spec, bool json, struct launch_error **err)
{
	struct launch_hooks all;
	if (launch_hooks_load(&all, spec->config->hooks_dirs, err) < 0)
		return -1;
	struct launch_hook_target t;
	launch_spec_hook_target(spec, &t);
	json_t *out = json ? json_array() : NULL;
	if (!json) {
		if (!all.n)
			printf("no hooks in %s\n", spec->config->hooks_dirs && spec->config->hooks_dirs[0]
							   ? spec->config->hooks_dirs[0]
							   : "(no hooks_dirs)");
		else
			printf("%-20s %-4s %-40s %s\n", "HOOK", "RUNS", "STAGES", "WHY");
	}
	for (size_t i = 0; i < all.n; i++) {
		_cleanup_free_ char *why = NULL;
		bool runs = launch_hook_applies(&all.v[i], &t, &why);
		char stages[200] = "";
		json_t *js = json_array();
		for (int s = 0; s < LAUNCH_HOOK_N_STAGES; s++)
			if (all.v[i].stages & (1u << s)) {
				size_t l = strlen(stages);
				snprintf(stages + l, sizeof(stages) - l, "%s%s", l ? "," : "",
					 launch_hook_stage_name(s));
				json_array_append_new(js, json_string(launch_hook_stage_name(s)));
			}
		if (json) {
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b, s:o, s:s}", "name", all.v[i].name,
							     "file", all.v[i].file, "path", all.v[i].path, "runs", runs,
							     "stages", js, "why", why));
		} else {
			json_decref(js);
			printf("%-20s %-4s %-40s %s\n", all.v[i].name, runs ? "yes" : "no", stages, why);
		}
	}
	if (out) {
		char *s = json_dumps(out, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(out);
	}
	launch_hooks_clear(&all);
	return 0;
}

#define K_RUN (1u << LAUNCH_REQUEST_RUN)
#define K_START (1u << LAUNCH_REQUEST_START)
#define K_EXEC (1u << LAUNCH_REQUEST_EXEC)
#define K_HOOKS (1u << LAUNCH_REQUEST_HOOKS)
#define K_ALL (K_RUN | K_START | K_EXEC | K_HOOKS)
#define K_MAKE (K_RUN | K_START | K_HOOKS) /* the commands that make a container */

/* The options of run, start, exec and hooks, and the commands that take
 * each: exec joins a container that exists, so none of the options that
 * make one; -i, -t and --rm are docker habits, accepted where docker takes
 * them (start is detached: it has no stdin). */
static const struct run_option {
	struct option o;
	unsigned kinds;
} run_options[] = {
	{ { "root", no_argument, NULL, 'r' }, K_ALL },
	{ { "bind", required_argument, NULL, 'm' }, K_MAKE },
	{ { "mount", required_argument, NULL, OPT_MOUNT }, K_MAKE },
	{ { "workdir", required_argument, NULL, 'w' }, K_ALL },
	{ { "env", required_argument, NULL, 'e' }, K_ALL },
	{ { "env-file", required_argument, NULL, OPT_ENV_FILE }, K_ALL },
	{ { "no-home", no_argument, NULL, OPT_NO_HOME }, K_MAKE },
	{ { "private-tmp", no_argument, NULL, OPT_PRIVATE_TMP }, K_MAKE },
	{ { "writable", no_argument, NULL, OPT_WRITABLE }, K_MAKE },
	{ { "writable-size", required_argument, NULL, OPT_WRITABLE_SIZE }, K_MAKE },
	{ { "overlay", required_argument, NULL, OPT_OVERLAY }, K_MAKE },
	{ { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT }, K_RUN | K_HOOKS },
	{ { "reuse", no_argument, NULL, OPT_REUSE }, K_START },
	{ { "stage", required_argument, NULL, OPT_STAGE }, K_RUN | K_START },
	{ { "fresh", no_argument, NULL, OPT_FRESH }, K_RUN },
	{ { "annotation", required_argument, NULL, OPT_ANNOTATION }, K_MAKE },
	{ { "mpi", no_argument, NULL, OPT_MPI }, K_MAKE },
	{ { "gpu", no_argument, NULL, OPT_GPU }, K_MAKE },
	{ { "interactive", no_argument, NULL, 'i' }, K_RUN | K_EXEC | K_HOOKS },
	{ { "tty", no_argument, NULL, 't' }, K_RUN | K_EXEC | K_HOOKS },
	{ { "rm", no_argument, NULL, OPT_RM }, K_RUN | K_HOOKS },
	{ { "volume", required_argument, NULL, OPT_VOLUME }, K_MAKE },
	{ { "format", required_argument, NULL, OPT_FORMAT }, K_HOOKS },
	{ { "name", required_argument, NULL, 'n' }, K_START },
	{ { "verbose", no_argument, NULL, 'v' }, K_ALL },
	{ { "quiet", no_argument, NULL, 'q' }, K_ALL },
	{ { "help", no_argument, NULL, 'h' }, K_ALL },
};

static const char *const kind_names[] = { "run", "start", "exec", "hooks" };

/* Does command KIND take option C? */
static bool option_available(int c, enum launch_request_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_options); i++)
		if (run_options[i].o.val == c)
			return run_options[i].kinds & (1u << kind);
	return false;
}

/* What the command line asked for, besides what goes into the spec
 * directly. */
struct run_args {
	struct launch_request req;
	char *instance;	  /* start --name */
	bool reuse;	  /* start --reuse */
	bool json;	  /* hooks --format json */
	char *entrypoint; /* owned copy for req.entrypoint */
};

static void run_args_clear(struct run_args *a)
{
	launch_strv_free(a->req.env_args);
	free(a->instance);
	free(a->entrypoint);
}

/* Options that change the spec itself. Returns 1 when C is not one. */
static int spec_option(int c, const char *arg, struct launch_spec *spec, struct launch_error **err)
{
	struct launch_mount m;
	switch (c) {
	case 'm':
	case OPT_MOUNT:
		if ((c == 'm' ? launch_mountspec_parse_short(arg, &m, err)
			      : launch_mountspec_parse_long(arg, &m, err)) < 0)
			return -1;
		launch_mounts_push(&spec->mounts, &m);
		return 0;
	case 'w':
		if (arg[0] != '/')
			return launch_error_msg(err,
						"invalid --workdir `%s`: it must be an absolute path in the container",
						arg);
		free(spec->workdir);
		spec->workdir = launch_path_normalize(arg);
		return 0;
	case OPT_WRITABLE:
		spec->writable = true;
		return 0;
	case OPT_WRITABLE_SIZE:
		if (!launch_size_valid(arg))
			return launch_error_msg(
				err,
				"invalid --writable-size `%s`: give a size above 0 with an optional k, "
				"m or g suffix (at most 1 EiB), or a percentage of RAM from 1%% to 100%% "
				"(leave it out for half the RAM)",
				arg);
		free(spec->writable_size);
		spec->writable_size = xstrdup(arg);
		spec->writable = true;
		return 0;
	case OPT_OVERLAY:
		if (!*arg)
			return launch_error_msg(err, "--overlay needs a directory (e.g. --overlay ./layer)");
		free(spec->overlay);
		spec->overlay = absolute_path(arg);
		return 0;
	case OPT_ANNOTATION: {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return launch_error_msg(err, "invalid --annotation `%s`: give KEY=VALUE", arg);
		_cleanup_free_ char *key = xstrndup(arg, (size_t)(eq - arg));
		launch_spec_annotate(&spec->annotations, key, eq + 1);
		return 0;
	}
	case OPT_MPI:
		launch_spec_annotate(&spec->annotations, LAUNCH_ANNOTATION_MPI, "true");
		return 0;
	case OPT_GPU:
		launch_spec_annotate(&spec->annotations, LAUNCH_ANNOTATION_GPU, "true");
		return 0;
	case OPT_FRESH:
		spec->fresh = true;
		return 0;
	default:
		return 1;
	}
}

/* The other options: into A. Returns 1 when C is not one of them. */
static int request_option(int c, const char *arg, struct run_args *a, struct launch_error **err)
{
	switch (c) {
	case 'n':
		free(a->instance);
		a->instance = xstrdup(arg);
		return 0;
	case 'r':
		a->req.root = true;
		return 0;
	case 'i':
	case 't':
	case OPT_RM:
		return 0; /* what docker needs them for, launch always does */
	case OPT_VOLUME:
		return launch_error_msg(err, "launch has no --volume: to bind-mount %s, use -m %s", arg, arg);
	case 'e':
		launch_strv_push(&a->req.env_args, xasprintf("e:%s", arg));
		return 0;
	case OPT_ENV_FILE:
		launch_strv_push(&a->req.env_args, xasprintf("f:%s", arg));
		return 0;
	case OPT_NO_HOME:
		a->req.no_home = true;
		return 0;
	case OPT_PRIVATE_TMP:
		a->req.private_tmp = true;
		return 0;
	case OPT_REUSE:
		a->reuse = true;
		return 0;
	case OPT_STAGE:
		if (arg[0] != '/')
			return launch_error_msg(err, "--stage %s: give an absolute directory (node-local storage)",
						arg);
		a->req.stage_dir = arg;
		return 0;
	case OPT_ENTRYPOINT:
		free(a->entrypoint);
		a->entrypoint = xstrdup(arg);
		a->req.entrypoint = a->entrypoint;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "table") != 0)
			return launch_error_msg(err, "invalid --format `%s`: use json or table", arg);
		a->json = !strcmp(arg, "json");
		return 0;
	default:
		return 1;
	}
}

/* The options of command KIND. Returns 0, 1 after --help, -1 with *ERR,
 * or -2 when getopt said what was wrong. */
static int parse_options(int argc, char **argv, enum launch_request_kind kind, struct run_args *a,
			 struct launch_spec *spec, struct launch_error **err)
{
	static const char *const helps[] = { help, start_help, exec_help, hooks_help };
	struct option opts[ARRAY_SIZE(run_options) + 1] = { { 0 } };
	for (size_t i = 0; i < ARRAY_SIZE(run_options); i++)
		opts[i] = run_options[i].o;
	int c, long_index;
	while ((long_index = -1, c = getopt_long(argc, argv, "+rm:w:e:n:vqhit", opts, &long_index)) != -1) {
		if (c == 'v' && kind != LAUNCH_REQUEST_EXEC && !strcmp(argv[optind - 1], "-v") && optind < argc &&
		    docker_volume(argv[optind]))
			return launch_error_msg(err, "-v means --verbose in launch: to bind-mount %s, use -m %s",
						argv[optind], argv[optind]);
		if (launcher_verbosity_option(c))
			continue;
		if (c == '?')
			return -2;
		if (!option_available(c, kind)) {
			/* named as given: -i may be part of a group (-it), --name followed by its value */
			if (long_index >= 0)
				return launch_error_msg(
					err, "launch %s: option --%s is not available here (see 'launch %s --help')",
					kind_names[kind], opts[long_index].name, kind_names[kind]);
			return launch_error_msg(err,
						"launch %s: option -%c is not available here (see 'launch %s --help')",
						kind_names[kind], c, kind_names[kind]);
		}
		if (c == 'h') {
			fputs(helps[kind], stdout);
			return 1;
		}
		int r = spec_option(c, optarg, spec, err);
		if (r == 1)
			r = request_option(c, optarg, a, err);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* IMAGE (or exec's NAME) and the command after it. */
static int parse_operands(int argc, char **argv, enum launch_request_kind kind, struct run_args *a,
			  struct launch_error **err)
{
	if (optind >= argc) {
		if (kind == LAUNCH_REQUEST_EXEC)
			return launch_error_msg(err, "missing NAME (usage: launch exec [OPTIONS] NAME COMMAND...)");
		return launch_error_msg(err, "missing IMAGE (usage: launch %s [OPTIONS] IMAGE%s)", kind_names[kind],
					kind == LAUNCH_REQUEST_RUN ? " [COMMAND...]" : "");
	}
	a->req.target = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	a->req.command = argv + optind;
	if (kind == LAUNCH_REQUEST_START && optind < argc)
		return launch_error_msg(
			err, "launch start takes no command: run commands in the instance with 'launch exec'");
	if (kind == LAUNCH_REQUEST_EXEC && optind >= argc)
		return launch_error_msg(err, "missing COMMAND (usage: launch exec [OPTIONS] NAME COMMAND...)");
	return 0;
}

/* start --reuse NAME of a running instance: it is taken as it is, no image
 * needed. True when it was. */
static bool reuse_running(const struct run_args *a, const struct launch_config *config)
{
	if (a->req.kind != LAUNCH_REQUEST_START || !a->reuse || !a->instance)
		return false;
	_cleanup_free_ char *rd = NULL;
	struct launch_instance_info have;
	if (launch_runtime_dir(config, &rd, NULL, NULL) < 0 || launch_instance_get(rd, a->instance, &have, NULL) < 0)
		return false;
	launch_instance_info_clear(&have);
	printf("%s\n", a->instance);
	return true;
}

/* What command KIND does with SPEC. Returns the exit status, -1 with *ERR. */
static int dispatch(const struct run_args *a, struct launch_spec *spec, struct launch_instance_info *info,
		    struct launch_error **err)
{
	if (a->req.kind == LAUNCH_REQUEST_EXEC) {
		launch_instance_exec(info, spec, a->req.root, err);
		return -1; /* returns only on failure */
	}
	if (a->req.kind == LAUNCH_REQUEST_HOOKS)
		return list_hooks(spec, a->json, err);
	if (launch_spec_add_site_hooks(spec, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->hooks.n; i++)
		launch_info("hook %s (%s) will run", spec->hooks.v[i].name, spec->hooks.v[i].file);
	launch_info("image %s (%s), %s mode, runtime directory %s", spec->image.path,
		    launch_image_kind_name(spec->image.kind), a->req.root ? "root" : "user", spec->runtime_dir);
	if (spec->image.kind == LAUNCH_IMAGE_SQUASHFS)
		launch_info("squashfs served by %s", launch_sqfs_backend());
	if (a->req.kind == LAUNCH_REQUEST_START) {
		_cleanup_free_ char *started = NULL;
		if (launch_instance_start(spec, a->instance, a->reuse, &started, err) < 0)
			return -1;
		printf("%s\n", started);
		return 0;
	}
	launch_instances_gc(spec->runtime_dir);
	int status = 0;
	if (launch_container_run(spec, &status, err) < 0)
		return -1;
	return status;
}

/* run, start, exec and hooks: options into a request, the request into a
 * spec (launch_spec_build), the spec to what the command does */
static int run_like(int argc, char **argv, enum launch_request_kind kind)
{
	struct launch_error *err = NULL;
	struct launch_config config;
	struct launch_spec spec = { 0 };
	struct launch_instance_info info = { 0 };
	struct run_args a = { .req = { .kind = kind, .host_env = environ } };
	int ret = LAUNCH_EXIT_FAILURE;

	launch_config_init(&config);
	int r = parse_options(argc, argv, kind, &a, &spec, &err);
	if (r == 1 || r == -2) {
		if (r == -2)
			fprintf(stderr, "Try 'launch %s --help'.\n", kind_names[kind]);
		ret = r == 1 ? 0 : LAUNCH_EXIT_FAILURE;
		goto out;
	}
	if (r < 0 || parse_operands(argc, argv, kind, &a, &err) < 0)
		goto fail;
	if (spec.overlay && spec.writable) {
		launch_error_msg(&err,
				 "--overlay and --writable exclude each other: --overlay DIR already makes the "
				 "image writable");
		goto fail;
	}
	if (launch_privs_verify(&err) < 0 || launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0)
		goto fail;
	if (reuse_running(&a, &config)) {
		ret = 0;
		goto out;
	}
	if (launch_spec_build(&a.req, &config, &spec, &info, &err) < 0)
		goto fail;
	ret = dispatch(&a, &spec, &info, &err);
	if (ret >= 0)
		goto out;
fail:
	ret = launcher_fail(err);
out:
	run_args_clear(&a);
	launch_instance_info_clear(&info);
	launch_spec_clear(&spec);
	launch_config_clear(&config);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	return run_like(argc, argv, LAUNCH_REQUEST_RUN);
}
int cmd_start(int argc, char **argv)
{
	return run_like(argc, argv, LAUNCH_REQUEST_START);
}
int cmd_exec(int argc, char **argv)
{
	return run_like(argc, argv, LAUNCH_REQUEST_EXEC);
}
int cmd_hooks(int argc, char **argv)
{
	return run_like(argc, argv, LAUNCH_REQUEST_HOOKS);
}
