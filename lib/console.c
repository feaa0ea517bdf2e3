/* SPDX-License-Identifier: Apache-2.0 */
/* The container's console (console.h). */
#define _GNU_SOURCE
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static bool same_terminal(int fd, const struct stat *tty)
{
	struct stat st;
	return isatty(fd) && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == tty->st_rdev;
}

bool launch_console_wanted(void)
{
	struct stat tty;
	if (!isatty(0) || fstat(0, &tty) < 0 || !same_terminal(1, &tty))
		return false;
	pid_t fg = tcgetpgrp(0);
	return fg > 0 && fg == getpgrp();
}

int launch_console_open(struct launch_console *c, struct launch_error **err)
{
	struct stat tty;
	if (fstat(0, &tty) < 0)
		return launch_error_set(err, errno, "cannot read the terminal's status");
	c->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (c->master < 0)
		return launch_error_set(err, errno, "cannot open a terminal in the container (/dev/ptmx)");
	int unlock = 0;
	if (ioctl(c->master, TIOCSPTLCK, &unlock) < 0)
		return launch_error_set(err, errno, "cannot unlock the container's terminal");
	c->slave = ioctl(c->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->slave < 0) { /* before Linux 4.13: by its name */
		char name[64];
		if (ptsname_r(c->master, name, sizeof(name)) != 0)
			return launch_error_set(err, errno, "cannot name the container's terminal");
		c->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (c->slave < 0)
			return launch_error_set(err, errno, "cannot open the container's terminal %s", name);
	}
	struct termios t;
	struct winsize ws;
	if (tcgetattr(0, &t) == 0)
		tcsetattr(c->slave, TCSANOW, &t);
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(c->master, TIOCSWINSZ, &ws);
	for (int fd = 0; fd <= 2; fd++)
		c->on[fd] = same_terminal(fd, &tty);
	c->in = 0;
	c->out = c->on[1] ? 1 : 0;
	return 0;
}

void launch_console_attach(const struct launch_console *c)
{
	if (c->slave < 0)
		return;
	setsid();
	ioctl(c->slave, TIOCSCTTY, 0);
	for (int fd = 0; fd <= 2; fd++)
		if (c->on[fd])
			dup2(c->slave, fd);
}

void launch_console_started(struct launch_console *c)
{
	if (c->slave >= 0) {
		close(c->slave);
		c->slave = -1;
	}
	if (c->master < 0 || tcgetattr(c->in, &c->saved) < 0)
		return;
	struct termios t = c->saved;
	cfmakeraw(&t);
	if (tcsetattr(c->in, TCSADRAIN, &t) == 0)
		c->raw = true;
}

int launch_console_pollfds(const struct launch_console *c, struct pollfd *p)
{
	int n = 0;
	if (c->master < 0)
		return 0;
	if (!c->in_eof && c->ilen == 0)
		p[n++] = (struct pollfd){ .fd = c->in, .events = POLLIN };
	short ev = (short)((c->ilen ? POLLOUT : 0) | (c->olen ? 0 : POLLIN));
	if (ev)
		p[n++] = (struct pollfd){ .fd = c->master, .events = ev };
	if (c->olen)
		p[n++] = (struct pollfd){ .fd = c->out, .events = POLLOUT };
	return n;
}

void launch_console_hangup(struct launch_console *c)
{
	c->in_eof = true;
	c->ilen = c->olen = 0;
	if (c->master >= 0) {
		close(c->master);
		c->master = -1;
	}
}

static void drop(char *buf, size_t *len, ssize_t done)
{
	if (done <= 0)
		return;
	memmove(buf, buf + done, *len - (size_t)done);
	*len -= (size_t)done;
}

void launch_console_relay(struct launch_console *c, const struct pollfd *p, int n)
{
	for (int i = 0; i < n && c->master >= 0; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == c->in && (p[i].events & POLLIN)) {
			ssize_t r = read(c->in, c->ibuf, sizeof(c->ibuf));
			if (r > 0)
				c->ilen = (size_t)r;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				launch_console_hangup(c);
		} else if (p[i].fd == c->master) {
			if ((p[i].revents & POLLOUT) && c->ilen) {
				ssize_t w = write(c->master, c->ibuf, c->ilen);
				drop(c->ibuf, &c->ilen, w);
			}
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = read(c->master, c->obuf, sizeof(c->obuf));
				if (r > 0) {
					c->olen = (size_t)r;
				} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
					/* no process has the terminal open any more (EIO):
					 * nothing more comes from it */
					close(c->master);
					c->master = -1;
				}
			}
		} else if (p[i].fd == c->out && (p[i].events & POLLOUT)) {
			ssize_t w = write(c->out, c->obuf, c->olen);
			if (w < 0 && errno != EINTR && errno != EAGAIN)
				c->olen = 0; /* the user's terminal is gone */
			drop(c->obuf, &c->olen, w);
		}
	}
}

void launch_console_resize(const struct launch_console *c)
{
	struct winsize ws;
	if (c->master >= 0 && ioctl(c->in, TIOCGWINSZ, &ws) == 0)
		ioctl(c->master, TIOCSWINSZ, &ws);
}

void launch_console_finish(struct launch_console *c)
{
	if (c->olen)
		launch_write_all(c->out, c->obuf, c->olen);
	c->olen = 0;
	if (c->master >= 0) {
		char buf[4096];
		ssize_t r;
		while ((r = read(c->master, buf, sizeof(buf))) > 0)
			if (launch_write_all(c->out, buf, (size_t)r) < 0)
				break;
		close(c->master);
		c->master = -1;
	}
	if (c->slave >= 0) {
		close(c->slave);
		c->slave = -1;
	}
	if (c->raw)
		launch_console_restore(&c->saved);
	c->raw = false;
}

void launch_console_restore(const struct termios *saved)
{
	tcsetattr(0, TCSADRAIN, saved);
}
