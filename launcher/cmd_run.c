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
	"  -m, --bind HOST[:CTR[:ro|rw]]\n"
	"                          bind-mount HOST at CTR (default: the same path)\n"
	"      --mount type=bind,source=HOST,destination=CTR[,readonly]\n"
	"                          the same, in docker's long form\n"
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

enum mode { MODE_RUN, MODE_START, MODE_EXEC, MODE_HOOKS };

/* tmpfs size= syntax: digits, then k/m/g (either case) or %. */
/* A tmpfs size: bytes with an optional k, m or g suffix (at most 1 EiB:
 * tmpfs reads a larger one, or 0, as "no limit"), or 1-100% of RAM. */
static bool size_valid(const char *s)
{
	const char *p = s;
	unsigned long long n = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (1ULL << 60) / 10)
			return false;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (p == s || n == 0 || (*p && p[1]))
		return false;
	if (*p == '%')
		return n <= 100;
	unsigned shift = 0;
	if (*p) {
		const char *units = "kKmMgG";
		const char *u = strchr(units, *p);
		if (!u)
			return false;
		shift = 10 * (unsigned)((u - units) / 2 + 1);
	}
	return n <= (1ULL << 60) >> shift;
}

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
	OPT_ANNOTATION,
	OPT_MPI,
	OPT_GPU,
	OPT_FORMAT,
	OPT_RM,
	OPT_VOLUME
};

/* Is option C one that MODE takes? exec joins a container that exists:
 * none of the options that make one; -i, -t and --rm are docker habits,
 * accepted where docker takes them (start is detached: it has no stdin). */
static bool option_available(int c, enum mode mode)
{
	bool container_option = c == 'm' || c == OPT_MOUNT || c == OPT_VOLUME || c == OPT_NO_HOME ||
				c == OPT_PRIVATE_TMP || c == OPT_WRITABLE || c == OPT_WRITABLE_SIZE ||
				c == OPT_OVERLAY || c == OPT_ANNOTATION || c == OPT_MPI || c == OPT_GPU || c == OPT_RM;
	if (mode == MODE_EXEC && container_option)
		return false;
	if (c == 'n' || c == OPT_REUSE)
		return mode == MODE_START;
	if (c == OPT_ENTRYPOINT)
		return mode == MODE_RUN || mode == MODE_HOOKS;
	if (c == OPT_FORMAT)
		return mode == MODE_HOOKS;
	return mode != MODE_START || (c != 'i' && c != 't' && c != OPT_RM);
}

/* Does S, given after -v, mean a docker volume (SRC:DST, DST absolute)
 * rather than the IMAGE? An image name can hold both `:` and `/`
 * (lab/tool:2.0, docker://...), but never `:` followed by a single `/`. */
static bool docker_volume(const char *s)
{
	const char *p = strstr(s, ":/");
	return p && p[2] != '/';
}

static void annotate(char ***annotations, const char *key, const char *value)
{
	size_t n = strlen(key);
	for (size_t i = 0; *annotations && (*annotations)[i]; i++)
		if (!strncmp((*annotations)[i], key, n) && (*annotations)[i][n] == '=') {
			free((*annotations)[i]);
			(*annotations)[i] = xasprintf("%s=%s", key, value);
			return;
		}
	launch_strv_push(annotations, xasprintf("%s=%s", key, value));
}

/* The GPU variables that mean "GPUs wanted": set, and not empty, "void",
 * or CUDA's "no GPU" values ("-1", "NoDevFiles"), which jobs use to force
 * the CPU. */
static bool gpu_requested(const struct launch_env *env)
{
	static const char *const vars[] = { "NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES" };
	static const char *const none[] = { "", "void", "-1", "NoDevFiles" };
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = launch_env_get(env, vars[i]);
		bool off = !v;
		for (size_t k = 0; v && k < ARRAY_SIZE(none); k++)
			off = off || !strcmp(v, none[k]);
		if (!off)
			return true;
	}
	return false;
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

/* run, start and exec share their options and the way the spec is built */
static int run_like(int argc, char **argv, enum mode mode)
{
	static const struct option opts[] = {
		{ "root", no_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'm' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "workdir", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "no-home", no_argument, NULL, OPT_NO_HOME },
		{ "private-tmp", no_argument, NULL, OPT_PRIVATE_TMP },
		{ "writable", no_argument, NULL, OPT_WRITABLE },
		{ "writable-size", required_argument, NULL, OPT_WRITABLE_SIZE },
		{ "overlay", required_argument, NULL, OPT_OVERLAY },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "reuse", no_argument, NULL, OPT_REUSE },
		{ "annotation", required_argument, NULL, OPT_ANNOTATION },
		{ "mpi", no_argument, NULL, OPT_MPI },
		{ "gpu", no_argument, NULL, OPT_GPU },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "name", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "run", "start", "exec", "hooks" };
	const char *helps[] = { help, start_help, exec_help, hooks_help };
	struct launch_error *err = NULL;
	struct launch_config config;
	struct launch_spec spec = { 0 };
	_cleanup_free_ char *note = NULL, *instance = NULL, *entrypoint = NULL, *why = NULL;
	struct launch_instance_info info = { 0 };
	_cleanup_strv_ char **env_args = NULL; /* "e:..." or "f:...", applied in order */
	bool root = false, no_home = false, private_tmp = false, private_tmp_set = false, reuse = false, json = false;
	int ret = LAUNCH_EXIT_FAILURE, c, long_index = -1;

	launch_config_init(&config);
	while ((long_index = -1, c = getopt_long(argc, argv, "+rm:w:e:n:vqhit", opts, &long_index)) != -1) {
		if (c == 'v' && mode != MODE_EXEC && !strcmp(argv[optind - 1], "-v") && optind < argc &&
		    docker_volume(argv[optind])) {
			launch_error_msg(&err, "-v means --verbose in launch: to bind-mount %s, use -m %s",
					 argv[optind], argv[optind]);
			goto fail;
		}
		if (launcher_verbosity_option(c))
			continue;
		struct launch_mount m;
		if (!option_available(c, mode)) {
			/* named as given: -i may be part of a group (-it), --name followed by its value */
			if (long_index >= 0)
				launch_error_msg(
					&err, "launch %s: option --%s is not available here (see 'launch %s --help')",
					names[mode], opts[long_index].name, names[mode]);
			else
				launch_error_msg(&err,
						 "launch %s: option -%c is not available here (see 'launch %s --help')",
						 names[mode], c, names[mode]);
			goto fail;
		}
		switch (c) {
		case 'h':
			fputs(helps[mode], stdout);
			ret = 0;
			goto out;
		case 'n':
			free(instance);
			instance = xstrdup(optarg);
			break;
		case 'r':
			root = true;
			break;
		case 'i':
		case 't':
		case OPT_RM:
			break; /* what docker needs them for, launch always does */
		case OPT_VOLUME:
			launch_error_msg(&err, "launch has no --volume: to bind-mount %s, use -m %s", optarg, optarg);
			goto fail;
		case 'm':
		case OPT_MOUNT:
			if ((c == 'm' ? launch_mountspec_parse_short(optarg, &m, &err)
				      : launch_mountspec_parse_long(optarg, &m, &err)) < 0)
				goto fail;
			launch_mounts_push(&spec.mounts, &m);
			break;
		case 'w':
			if (optarg[0] != '/') {
				launch_error_msg(&err,
						 "invalid --workdir `%s`: it must be an absolute path in the container",
						 optarg);
				goto fail;
			}
			free(spec.workdir);
			spec.workdir = launch_path_normalize(optarg);
			break;
		case 'e':
			launch_strv_push(&env_args, xasprintf("e:%s", optarg));
			break;
		case OPT_ENV_FILE:
			launch_strv_push(&env_args, xasprintf("f:%s", optarg));
			break;
		case OPT_NO_HOME:
			no_home = true;
			break;
		case OPT_PRIVATE_TMP:
			private_tmp = private_tmp_set = true;
			break;
		case OPT_REUSE:
			reuse = true;
			break;
		case OPT_ENTRYPOINT:
			free(entrypoint);
			entrypoint = xstrdup(optarg);
			break;
		case OPT_WRITABLE:
			spec.writable = true;
			break;
		case OPT_ANNOTATION: {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				launch_error_msg(&err, "invalid --annotation `%s`: give KEY=VALUE", optarg);
				goto fail;
			}
			_cleanup_free_ char *key = xstrndup(optarg, (size_t)(eq - optarg));
			annotate(&spec.annotations, key, eq + 1);
			break;
		}
		case OPT_MPI:
			annotate(&spec.annotations, LAUNCH_ANNOTATION_MPI, "true");
			break;
		case OPT_GPU:
			annotate(&spec.annotations, LAUNCH_ANNOTATION_GPU, "true");
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0) {
				launch_error_msg(&err, "invalid --format `%s`: use json or table", optarg);
				goto fail;
			}
			json = !strcmp(optarg, "json");
			break;
		case OPT_WRITABLE_SIZE:
			if (!size_valid(optarg)) {
				launch_error_msg(
					&err,
					"invalid --writable-size `%s`: give a size above 0 with an optional k, "
					"m or g suffix (at most 1 EiB), or a percentage of RAM from 1%% to 100%% "
					"(leave it out for half the RAM)",
					optarg);
				goto fail;
			}
			free(spec.writable_size);
			spec.writable_size = xstrdup(optarg);
			spec.writable = true;
			break;
		case OPT_OVERLAY:
			if (!*optarg) {
				launch_error_msg(&err, "--overlay needs a directory (e.g. --overlay ./layer)");
				goto fail;
			}
			free(spec.overlay);
			spec.overlay = absolute_path(optarg);
			break;
		default:
			fprintf(stderr, "Try 'launch %s --help'.\n", names[mode]);
			goto out;
		}
	}
	if (optind >= argc) {
		if (mode == MODE_EXEC)
			launch_error_msg(&err, "missing NAME (usage: launch exec [OPTIONS] NAME COMMAND...)");
		else
			launch_error_msg(&err, "missing IMAGE (usage: launch %s [OPTIONS] IMAGE%s)", names[mode],
					 mode == MODE_RUN ? " [COMMAND...]" : "");
		goto fail;
	}
	const char *target = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (mode == MODE_START && optind < argc) {
		launch_error_msg(&err,
				 "launch start takes no command: run commands in the instance with 'launch exec'");
		goto fail;
	}
	if (mode == MODE_EXEC && optind >= argc) {
		launch_error_msg(&err, "missing COMMAND (usage: launch exec [OPTIONS] NAME COMMAND...)");
		goto fail;
	}

	if (spec.overlay && spec.writable) {
		launch_error_msg(&err,
				 "--overlay and --writable exclude each other: --overlay DIR already makes the "
				 "image writable");
		goto fail;
	}
	if (launch_privs_verify(&err) < 0)
		goto fail;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0)
		goto fail;
	if (root && !config.allow_root) {
		launch_error_msg(&err, "--root is disabled on this system (allow_root is false in %s)", config.path);
		goto fail;
	}
	launch_config_run_args(&config, &spec.mounts, &env_args);
	if (mode == MODE_START && reuse && instance) {
		/* a running instance of that name is taken as it is: no image needed */
		_cleanup_free_ char *rd = NULL;
		if (launch_runtime_dir(&config, &rd, NULL, &err) < 0)
			goto fail;
		struct launch_instance_info have;
		if (launch_instance_get(rd, instance, &have, NULL) == 0) {
			launch_instance_info_clear(&have);
			printf("%s\n", instance);
			ret = 0;
			goto out;
		}
	}
	spec.config = &config;
	spec.no_home = no_home;
	spec.private_tmp = private_tmp_set ? private_tmp : config.private_tmp;
	launch_identity_init(&spec.id, root, NULL);
	launch_identity_choose_mode(&spec.id, config.root_subids, config.root_seccomp, &why);
	if (root && mode != MODE_EXEC) {
		char buf[160];
		launch_info("--root: %s", launch_idmap_mode_describe(&spec.id, buf, sizeof(buf)));
		if (why && spec.id.mode != LAUNCH_IDMAP_SUBIDS)
			launch_info("--root: no subordinate ids: %s", why);
	}
	if (mode != MODE_EXEC && launch_image_resolve(target, &config, &spec.image, &err) < 0)
		goto fail;
	if (spec.image.user)
		launch_info("the image's User (%s) is not used: the container runs as you%s", spec.image.user,
			    root ? ", as root inside (--root)" : " (or as root inside with --root)");

	if (launch_runtime_dir(&config, &spec.runtime_dir, &note, &err) < 0)
		goto fail;
	if (note)
		launch_info("%s: using %s", note, spec.runtime_dir);
	if (mode == MODE_EXEC) {
		if (launch_instance_get(spec.runtime_dir, target, &info, &err) < 0)
			goto fail;
		if (!spec.workdir && info.workdir)
			spec.workdir = xstrdup(info.workdir);
		if (info.image_workdir)
			spec.image.workdir = xstrdup(info.image_workdir);
	}
	if (launch_env_build(&spec.env, environ, config.env_deny, mode == MODE_EXEC ? info.env : spec.image.env,
			     env_args, &err) < 0)
		goto fail;
	if (mode == MODE_START) {
		struct launch_env host = { NULL };
		launch_env_from_host(&host, environ, config.env_deny);
		spec.env_set = launch_env_diff(&spec.env, &host);
		launch_env_clear(&host);
	}

	/* Entrypoint + Cmd, docker's way: a command given here replaces Cmd,
	 * --entrypoint replaces Entrypoint ("" removes it). */
	if (mode == MODE_RUN || mode == MODE_HOOKS) {
		char **ep = entrypoint ? (*entrypoint ? (char *[]){ entrypoint, NULL } : NULL) : spec.image.entrypoint;
		char *const *cmd = optind < argc ? argv + optind : (entrypoint ? NULL : spec.image.cmd);
		spec.argv = launch_strv_copy(ep);
		for (size_t i = 0; cmd && cmd[i]; i++)
			launch_strv_push(&spec.argv, xstrdup(cmd[i]));
		if (!spec.argv[0]) {
			launch_strv_free(spec.argv);
			spec.argv = NULL; /* the default shell */
		}
	} else if (optind < argc) {
		spec.argv = launch_strv_copy(argv + optind);
	}
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)))
		spec.host_cwd = xstrdup(cwd);
	if (mode == MODE_EXEC) {
		launch_instance_exec(&info, &spec, root, &err);
		goto fail; /* returns only on failure */
	}
	if (config.gpu_auto && gpu_requested(&spec.env))
		annotate(&spec.annotations, LAUNCH_ANNOTATION_GPU, "true");
	spec.instance = mode == MODE_START;
	if (mode == MODE_HOOKS) {
		if (list_hooks(&spec, json, &err) < 0)
			goto fail;
		ret = 0;
		goto out;
	}
	if (launch_spec_add_site_hooks(&spec, &err) < 0)
		goto fail;
	for (size_t i = 0; i < spec.hooks.n; i++)
		launch_info("hook %s (%s) will run", spec.hooks.v[i].name, spec.hooks.v[i].file);
	launch_info("image %s (%s), %s mode, runtime directory %s", spec.image.path,
		    launch_image_kind_name(spec.image.kind), root ? "root" : "user", spec.runtime_dir);
	if (spec.image.kind == LAUNCH_IMAGE_SQUASHFS)
		launch_info("squashfs served by %s", launch_sqfs_backend());
	if (mode == MODE_START) {
		_cleanup_free_ char *started = NULL;
		if (launch_instance_start(&spec, instance, reuse, &started, &err) < 0)
			goto fail;
		printf("%s\n", started);
		ret = 0;
		goto out;
	}
	launch_instances_gc(spec.runtime_dir);
	int status = 0;
	if (launch_container_run(&spec, &status, &err) < 0)
		goto fail;
	ret = status;
	goto out;
fail:
	ret = launcher_fail(err);
out:
	launch_instance_info_clear(&info);
	launch_spec_clear(&spec);
	launch_config_clear(&config);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	return run_like(argc, argv, MODE_RUN);
}
int cmd_start(int argc, char **argv)
{
	return run_like(argc, argv, MODE_START);
}
int cmd_exec(int argc, char **argv)
{
	return run_like(argc, argv, MODE_EXEC);
}
int cmd_hooks(int argc, char **argv)
{
	return run_like(argc, argv, MODE_HOOKS);
}
