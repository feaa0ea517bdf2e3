/* SPDX-License-Identifier: Apache-2.0 */
/* The container's console: when launch runs in the foreground of a
 * terminal, the command gets a terminal of the container's own devpts
 * (/dev/pts/N inside, what `tty` prints), and launch relays between it and
 * the user's terminal, which it puts in raw mode meanwhile, as docker,
 * podman and runc do with -t. The line discipline inside then turns ^C,
 * ^Z and ^\ into signals for the container's foreground job, and window
 * size changes reach it through TIOCSWINSZ. */
#ifndef LAUNCH_CONSOLE_H
#define LAUNCH_CONSOLE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "error.h"

struct launch_console {
	int master;  /* the container side's master; -1: no console */
	int slave;   /* open until the command has it */
	int in, out; /* the user's terminal: 0, and 1 (or 0 when only 0 is it) */
	bool on[3];  /* which of descriptors 0-2 are that terminal */
	bool raw;    /* the user's terminal is in raw mode, saved in SAVED */
	struct termios saved;
	char ibuf[4096], obuf[4096];
	size_t ilen, olen; /* bytes waiting: user -> container, container -> user */
	bool in_eof;	   /* the user's terminal hung up */
};

#define LAUNCH_CONSOLE_INIT                                    \
	{                                                      \
		.master = -1, .slave = -1, .in = -1, .out = -1 \
	}

/* Does this process have a terminal to relay: descriptors 0 and 1 are the
 * same terminal, and this process group is its foreground (a job in the
 * background must not take the terminal over). */
bool launch_console_wanted(void);

/* In the container's mount namespace (its /dev/pts mounted): open a new
 * terminal there with the settings and window size of the user's. */
int launch_console_open(struct launch_console *c, struct launch_error **err);

/* In the command's process, before execve (async-signal-safe): a session
 * of its own, with the console as its controlling terminal and as each of
 * descriptors 0-2 that was the user's terminal. */
void launch_console_attach(const struct launch_console *c);

/* Once the command runs: close the slave, put the user's terminal in raw
 * mode. */
void launch_console_started(struct launch_console *c);

/* The descriptors to poll; returns how many were set in P (at most 2). */
int launch_console_pollfds(const struct launch_console *c, struct pollfd *p);
/* Move what P says is ready. */
void launch_console_relay(struct launch_console *c, const struct pollfd *p, int n);
/* The user's terminal changed size (SIGWINCH). */
void launch_console_resize(const struct launch_console *c);

/* The user's terminal hung up: hang the container's up too (SIGHUP to its
 * session, as a terminal that closes does). */
void launch_console_hangup(struct launch_console *c);

/* Everything ended: write out what the container left, restore the user's
 * terminal, close. */
void launch_console_finish(struct launch_console *c);

/* Restore the user's terminal to SAVED (the supervisor does this too, in
 * case the process that relayed was killed). */
void launch_console_restore(const struct termios *saved);

#endif
