/* SPDX-License-Identifier: Apache-2.0 */
/* `launch pull`, `launch login`, `launch logout`, run by the launch-image
 * helper (libcurl lives there, see cmd_import.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "pull.h"
#include "registry.h"
#include "sqfswrite.h"
#include "store.h"
#include "util.h"

static const char pull_help[] =
	"Usage: launch pull [OPTIONS] REF [NAME[:TAG]]\n"
	"\n"
	"Pull REF, docker://[REGISTRY/]REPOSITORY[:TAG|@sha256:DIGEST], into your image\n"
	"store as NAME:TAG (default: the reference's own name, e.g. debian:12 for\n"
	"docker://debian:12, nvcr.io/nvidia/pytorch:24.01-py3 for that registry).\n"
	"Without a REGISTRY, Docker Hub (docker.io); its one-part names are under\n"
	"library/. An index or manifest list gives linux/amd64 unless --platform.\n"
	"\n"
	"Layers download in parallel into the store's blob cache, checked against\n"
	"their digests as they stream; dropped transfers are retried with back-off\n"
	"and resumed; layers that images share are downloaded once. Credentials\n"
	"come from 'launch login' or ~/.docker/config.json; proxies from the usual\n"
	"http_proxy, https_proxy and no_proxy variables.\n"
	"\n"
	"Options:\n"
	"      --platform OS/ARCH[/VARIANT]\n"
	"      --compressor NAME[:LEVEL]  as for 'launch import' (default zstd:3)\n"
	"  -q, --quiet             no progress and no result line\n"
	"  -v, --verbose           more detail\n";

static const char login_help[] =
	"Usage: launch login [--username USER] [--password-stdin] REGISTRY\n"
	"\n"
	"Check USER's password with REGISTRY (host[:port]; docker.io for Docker Hub)\n"
	"and keep both in $XDG_CONFIG_HOME/launch/auth.json (~/.config/launch),\n"
	"mode 0600, in docker's config.json format. The password is read from the\n"
	"terminal without echo, or with --password-stdin from standard input (for\n"
	"scripts: printf %s \"$TOKEN\" | launch login --username u --password-stdin R).\n";

static const char logout_help[] =
	"Usage: launch logout REGISTRY\n"
	"\n"
	"Forget the credentials 'launch login' kept for REGISTRY.\n";

enum { OPT_USERNAME = 1000, OPT_PASSWORD_STDIN };

int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, LAUNCHER_OPT_PLATFORM },
		{ "compressor", required_argument, NULL, LAUNCHER_OPT_COMPRESSOR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_pull_opts o = { 0 };
	struct launch_error *err = NULL;
	bool quiet = false;
	int c;
	struct launcher_image_opts io = { 0 }; /* only --platform and --compressor: nothing to free */
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c)) {
			quiet |= c == 'q';
			continue;
		}
		int r = launcher_image_option(c, optarg, &io, &err);
		if (r < 0)
			return launcher_fail(err);
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(pull_help, stdout);
			return 0;
		default:
			fputs("Try 'launch pull --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		launch_error_msg(&err,
				 "usage: launch pull [OPTIONS] docker://REF [NAME[:TAG]] (see 'launch pull --help')");
		return launcher_fail(err);
	}
	_cleanup_strv_ char **tags = NULL;
	if (argc - optind == 2) {
		char *tag = launch_ref_canonical(argv[optind + 1], &err);
		if (!tag)
			return launcher_fail(err);
		launch_strv_push(&tags, tag);
	}
	o.ref = argv[optind];
	o.platform = io.platform;
	o.compressor = io.compressor;
	o.tags = tags;
	o.progress = !quiet && launch_log_level() >= LAUNCH_LOG_WARN && isatty(STDERR_FILENO);
	struct launch_config config;
	launch_config_init(&config);
	_cleanup_free_ char *digest = NULL;
	int ret = 0;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_pull(&config, &o, &digest, &err) < 0)
		ret = launcher_fail(err);
	else if (!quiet && launch_log_level() >= LAUNCH_LOG_WARN) {
		/* where it came from, default_registry filled in */
		struct launch_registry_ref rr;
		_cleanup_free_ char *full = NULL;
		if (launch_registry_ref_parse_with(o.ref, config.default_registry, &rr, NULL) == 0) {
			full = launch_registry_ref_string(&rr);
			launch_registry_ref_clear(&rr);
		}
		fprintf(stderr, "pulled docker://%s (%.19s)\n", full ? full : o.ref, digest);
	}
	launch_config_clear(&config);
	return ret;
}

/* One line from FD (no echo when a terminal); NULL at end of input. */
static char *read_secret(int fd, bool prompt)
{
	struct termios old, quiet;
	bool tty = isatty(fd) && tcgetattr(fd, &old) == 0;
	if (tty && prompt) {
		fputs("Password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fdopen(dup(fd), "r");
	ssize_t n = f ? getline(&line, &cap, f) : -1;
	if (f)
		fclose(f);
	if (tty && prompt) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_error *err = NULL;
	_cleanup_free_ char *user = NULL, *password = NULL;
	bool from_stdin = false;
	int c;
	while ((c = getopt_long(argc, argv, "+u:vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(login_help, stdout);
			return 0;
		}
		if (c == 'u') {
			free(user);
			user = xstrdup(optarg);
		} else if (c == OPT_PASSWORD_STDIN) {
			from_stdin = true;
		} else {
			fputs("Try 'launch login --help'.\n", stderr);
			return LAUNCH_EXIT_FAILURE;
		}
	}
	if (argc - optind != 1) {
		launch_error_msg(&err, "usage: launch login [--username USER] [--password-stdin] REGISTRY");
		return launcher_fail(err);
	}
	const char *registry = launch_registry_host(argv[optind]);
	if (!user) {
		if (from_stdin || !isatty(STDIN_FILENO)) {
			launch_error_msg(&err, "give --username USER with --password-stdin");
			return launcher_fail(err);
		}
		fputs("Username: ", stderr);
		user = read_secret(STDIN_FILENO, false);
	}
	password = read_secret(STDIN_FILENO, !from_stdin);
	if (!user || !*user || !password || !*password) {
		launch_error_msg(&err, "no %s given", !user || !*user ? "username" : "password");
		return launcher_fail(err);
	}
	struct launch_config config;
	launch_config_init(&config);
	int ret = 0;
	if (launch_config_load(&config, LAUNCH_CONFIG_HONOR_ENV, &err) < 0 ||
	    launch_registry_login_check(&config, registry, user, password, &err) < 0 ||
	    launch_auth_store(registry, user, password, &err) < 0) {
		ret = launcher_fail(err);
	} else if (launch_log_level() >= LAUNCH_LOG_WARN) {
		_cleanup_free_ char *file = launch_auth_file();
		fprintf(stderr, "logged in to %s as %s (credentials in %s)\n", argv[optind], user, file);
	}
	explicit_bzero(password, strlen(password));
	launch_config_clear(&config);
	return ret;
}

int cmd_logout(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_error *err = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		if (launcher_verbosity_option(c))
			continue;
		if (c == 'h') {
			fputs(logout_help, stdout);
			return 0;
		}
		fputs("Try 'launch logout --help'.\n", stderr);
		return LAUNCH_EXIT_FAILURE;
	}
	if (argc - optind != 1) {
		launch_error_msg(&err, "usage: launch logout REGISTRY");
		return launcher_fail(err);
	}
	int r = launch_auth_remove(launch_registry_host(argv[optind]), &err);
	if (r < 0)
		return launcher_fail(err);
	if (launch_log_level() >= LAUNCH_LOG_WARN)
		fprintf(stderr, r == 1 ? "not logged in to %s\n" : "logged out of %s\n", argv[optind]);
	return 0;
}
