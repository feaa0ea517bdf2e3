/* SPDX-License-Identifier: Apache-2.0 */
/* Shared image servers (see server.h).
 *
 *   launch run (the first)        fork -> setsid -> fork -> exec: the server
 *     |                           (detached, reparented, its own session)
 *     |  <-- report pipe --       unshare(user, mount), id maps, staging
 *     |                           tmpfs on KEY.mnt, FUSE mount on KEY.mnt/root,
 *     |                           socket KEY.sock bound: "ready"
 *     |--- connect KEY.sock --->  accept: one more container; answers 'y'
 *     |  <-- SCM_RIGHTS --        with its user namespace and a detached clone
 *     |                           of the image's mount (open_tree)
 *     setns(user): the server's ids and capabilities; unshare(mount): a
 *     copy of the node's current mounts, owned by that user namespace;
 *     move_mount of the clone on the run's root; the container as usual.
 *     Its exit (or kill -9) closes the connection: one container less. No
 *     container for image_server_linger seconds: the server unlinks its
 *     socket under KEY.lock, unmounts and exits.
 *
 * The container's mount namespace is made from the node's mounts as they
 * are when it starts, as a private server's would be, not from the
 * server's copy of them as they were when the server started: mounts made
 * on the node since (a job's scratch, an automounted home) are there. Only
 * the image's mount comes from the server. FUSE lets processes of the
 * server's user namespace (allow_other checks the user namespace) in.
 *
 * Later runs only connect and join. A connection the server closes
 * without its 'y' (it was ending) sends the client round again: under
 * KEY.lock, which serialises starts, either the next server is there or
 * the client starts it. A server never unlinks a socket that is not its
 * own (it compares the inode), so a new server's socket survives an old
 * one's exit. Anything that goes wrong before the join leaves the caller as
 * it was, and the run serves its image privately. */
#define _GNU_SOURCE
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "log.h"
#include "spec.h"
#include "sqfs.h"
#include "util.h"

#define READY_TIMEOUT_MS 30000 /* the server's start: the maps, the mount */
#define JOIN_TIMEOUT_MS 10000  /* a running server's answer */

bool launch_server_wanted(const struct launch_spec *spec)
{
	return spec->image.kind == LAUNCH_IMAGE_SQUASHFS && !spec->instance && !spec->fresh && spec->config &&
	       spec->config->image_server_linger > 0;
}

/* The id maps and ownership a server shows its image with: "user",
 * "root", "root,subids=UID+N,GID+N" or "root,seccomp". */
static char *server_mode(const struct launch_identity *id)
{
	if (!id->root)
		return xstrdup("user");
	if (id->mode == LAUNCH_IDMAP_SUBIDS)
		return xasprintf("root,subids=%lu+%lu,%lu+%lu", id->subuid, id->subuid_n, id->subgid, id->subgid_n);
	return xstrdup(id->mode == LAUNCH_IDMAP_SECCOMP ? "root,seccomp" : "root");
}

/* What makes two containers able to share a server: the node, the user,
 * the image file (device, inode, offset, and its times and size: a file
 * rewritten in place, mksquashfs over it, is another image) and MODE. Its
 * FNV-1a hash, 64 bits: a short, fixed-length file name. */
static char *server_key(const struct launch_spec *spec, const struct stat *img, const char *mode)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	_cleanup_free_ char *identity =
		xasprintf("%s %u %llx:%llx:%llu:%lld.%09ld:%lld.%09ld:%lld %s", host, (unsigned)getuid(),
			  (unsigned long long)img->st_dev, (unsigned long long)img->st_ino,
			  (unsigned long long)spec->image.offset, (long long)img->st_mtim.tv_sec, img->st_mtim.tv_nsec,
			  (long long)img->st_ctim.tv_sec, img->st_ctim.tv_nsec, (long long)img->st_size, mode);
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)identity; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return xasprintf("%016llx", (unsigned long long)h);
}

/* A unix socket address for NAME in the directory DIRFD: through
 * /proc/self/fd, since sun_path holds 108 bytes and runtime directories
 * can be longer. */
static void sock_addr(int dirfd, const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the server --- */

/* What a server serves, passed on its command line (launch_server_main). */
struct server {
	char *dir; /* RUNTIME_DIR/servers */
	int dirfd;
	char *key, *mode, *image;
	uint64_t offset;
	struct launch_identity id;
	int threads, linger;
	int lock; /* KEY.lock */
	int listener;
	ino_t sock_ino;
	int *clients;
	size_t n, cap;
	int64_t started;
	struct launch_sqfs *sq;
	char *mnt, *root;
	int userns; /* /proc/self/ns/user, handed to every container */
};

static void state_write(struct server *s)
{
	json_t *j = json_pack("{s:i, s:s, s:I, s:s, s:I, s:i, s:i}", "pid", (int)getpid(), "image", s->image, "offset",
			      (json_int_t)s->offset, "mode", s->mode, "started", (json_int_t)s->started, "containers",
			      (int)s->n, "linger", s->linger);
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	_cleanup_free_ char *path = xasprintf("%s/%s.json", s->dir, s->key);
	if (text)
		launch_write_file_atomic(path, text, strlen(text), 0600);
}

/* Start serving: namespaces, the image mounted, the socket bound. */
static int server_setup(struct server *s, struct launch_error **err)
{
	if (launch_container_enter_userns(&s->id, err) < 0)
		return -1;
	s->mnt = xasprintf("%s/%s.mnt", s->dir, s->key);
	if (mkdir(s->mnt, 0700) < 0 && errno != EEXIST)
		return launch_error_set(err, errno, "cannot create %s", s->mnt);
	if (mount("tmpfs", s->mnt, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return launch_error_set(err, errno, "cannot mount the server's staging tmpfs on %s", s->mnt);
	s->root = xasprintf("%s/root", s->mnt);
	if (mkdir(s->root, 0755) < 0)
		return launch_error_set(err, errno, "cannot create %s", s->root);
	s->userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (s->userns < 0)
		return launch_error_set(err, errno, "cannot open the server's user namespace");
	if (launch_sqfs_open(s->image, s->offset, s->threads, &s->sq, err) < 0)
		return -1;
	launch_sqfs_set_all_root(s->sq, s->id.root && s->id.mode == LAUNCH_IDMAP_SECCOMP);
	if (launch_sqfs_mount(s->sq, s->root, err) < 0 || launch_sqfs_serve(s->sq, err) < 0)
		return -1;

	s->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listener < 0)
		return launch_error_set(err, errno, "cannot create the server's socket");
	_cleanup_free_ char *name = xasprintf("%s.sock", s->key);
	struct sockaddr_un a;
	sock_addr(s->dirfd, name, &a);
	unlinkat(s->dirfd, name, 0); /* a dead server's: KEY.lock is ours */
	struct stat st;
	if (bind(s->listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->listener, 512) < 0 ||
	    fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return launch_error_set(err, errno, "cannot listen on %s/%s", s->dir, name);
	s->sock_ino = st.st_ino;
	state_write(s);
	return 0;
}

/* 'y', with the user namespace and a detached clone of the image's mount. */
static int send_join(struct server *s, int c)
{
	int tree = open_tree(AT_FDCWD, s->root, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -1;
	int fds[2] = { s->userns, tree };
	char y = 'y';
	struct iovec iov = { .iov_base = &y, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ssize_t r;
	while ((r = sendmsg(c, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	close(tree);
	return r == 1 ? 0 : -1;
}

static void server_accept(struct server *s)
{
	int c;
	while ((c = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		/* only the user (the kernel gives the peer's uid as this user
		 * namespace sees it): the socket's directory is theirs alone,
		 * but what we hand out is their namespace */
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid() ||
		    send_join(s, c) < 0) {
			close(c);
			continue;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			s->clients = xrealloc(s->clients, s->cap * sizeof(*s->clients));
		}
		s->clients[s->n++] = c;
	}
}

/* No container for the linger time: stop taking new ones, unless one is
 * already knocking. True when the server may end. */
static bool server_retire(struct server *s)
{
	while (flock(s->lock, LOCK_EX) < 0 && errno == EINTR)
		;
	server_accept(s);
	bool retire = s->n == 0;
	if (retire) {
		_cleanup_free_ char *name = xasprintf("%s.sock", s->key);
		struct stat st;
		if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == s->sock_ino)
			unlinkat(s->dirfd, name, 0);
		_cleanup_free_ char *json = xasprintf("%s.json", s->key);
		unlinkat(s->dirfd, json, 0);
		close(s->listener);
		s->listener = -1;
		/* the lock file too, if it is still the one we hold: a caller
		 * waiting on it finds it unlinked and takes the new one */
		_cleanup_free_ char *lock = xasprintf("%s.lock", s->key);
		struct stat mine;
		if (fstat(s->lock, &mine) == 0 && fstatat(s->dirfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino == mine.st_ino)
			unlinkat(s->dirfd, lock, 0);
	}
	flock(s->lock, LOCK_UN);
	return retire;
}

static void server_loop(struct server *s, int sfd)
{
	int64_t idle_since = mono_ms();
	struct pollfd *p = NULL;
	for (;;) {
		p = xrealloc(p, (s->n + 2) * sizeof(*p));
		p[0] = (struct pollfd){ .fd = s->listener, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (size_t i = 0; i < s->n; i++)
			p[i + 2] = (struct pollfd){ .fd = s->clients[i], .events = POLLIN };
		int timeout = -1;
		if (s->n == 0) {
			int64_t left = idle_since + (int64_t)s->linger * 1000 - mono_ms();
			if (left <= 0) {
				if (server_retire(s))
					break;
				idle_since = mono_ms();
				continue;
			}
			timeout = (int)left;
		}
		if (poll(p, s->n + 2, timeout) < 0)
			continue;
		size_t before = s->n;
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				/* ended on purpose: its containers lose their image */
				for (size_t i = 0; i < s->n; i++)
					close(s->clients[i]);
				s->n = 0;
				server_retire(s);
				break;
			}
		}
		/* a container's end: its connection hangs up (it never writes) */
		size_t kept = 0;
		for (size_t i = 0; i < before; i++) {
			if (p[i + 2].revents) {
				close(s->clients[i]);
				continue;
			}
			s->clients[kept++] = s->clients[i];
		}
		s->n = kept;
		if (p[0].revents)
			server_accept(s);
		if (s->n != before || p[0].revents) {
			if (s->n == 0)
				idle_since = mono_ms();
			state_write(s);
		}
	}
	free(p);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

/* The arguments launch_server_main takes, in order. */
enum {
	A_REPORT,
	A_DIR,
	A_KEY,
	A_MODE,
	A_OFFSET,
	A_THREADS,
	A_LINGER,
	A_ROOT,
	A_IDMAP,
	A_SUBUID,
	A_SUBUID_N,
	A_SUBGID,
	A_SUBGID_N,
	A_IMAGE,
	A_COUNT
};

int launch_server_main(int argc, char **argv)
{
	uint64_t v[A_COUNT] = { 0 };
	if (argc != A_COUNT)
		return 2;
	for (int i = 0; i < A_COUNT; i++)
		if (i != A_DIR && i != A_KEY && i != A_MODE && i != A_IMAGE && !parse_u64(argv[i], &v[i]))
			return 2;
	int report = (int)v[A_REPORT];
	struct server s = { .dirfd = -1, .lock = -1, .listener = -1, .userns = -1 };
	s.dir = argv[A_DIR];
	s.key = argv[A_KEY];
	s.mode = argv[A_MODE];
	s.image = argv[A_IMAGE];
	s.offset = v[A_OFFSET];
	s.threads = (int)v[A_THREADS];
	s.linger = (int)v[A_LINGER];
	s.id = (struct launch_identity){ .uid = getuid(),
					 .gid = getgid(),
					 .root = v[A_ROOT] != 0,
					 .mode = (enum launch_idmap_mode)v[A_IDMAP],
					 .subuid = v[A_SUBUID],
					 .subuid_n = v[A_SUBUID_N],
					 .subgid = v[A_SUBGID],
					 .subgid_n = v[A_SUBGID_N] };
	s.started = (int64_t)time(NULL);
	fcntl(report, F_SETFD, FD_CLOEXEC);
	prctl(PR_SET_NAME, "launch-server");
	/* its threads serve every container of the node, not the first one's CPUs */
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	struct launch_error *err = NULL;
	_cleanup_free_ char *lock = xasprintf("%s/%s.lock", s.dir, s.key);
	s.dirfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	s.lock = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (s.dirfd < 0 || s.lock < 0 || sfd < 0)
		launch_error_set(&err, errno, "cannot set up the image server in %s", s.dir);
	if (err || server_setup(&s, &err) < 0) {
		launch_write_all(report, err->msg, strlen(err->msg));
		return 1;
	}
	close(report);
	server_loop(&s, sfd);
	launch_sqfs_stop(s.sq);
	umount2(s.mnt, MNT_DETACH);
	rmdir(s.mnt);
	free(s.mnt);
	free(s.root);
	free(s.clients);
	return 0;
}

/* Start KEY's server (under KEY.lock): `launch image-server`, detached in
 * a session of its own, not a child of ours (a subreaper `launch run`
 * waits for all of its descendants), with none of our descriptors and
 * nothing of our environment but PATH. 0 once it listens. */
static int server_start(const struct launch_spec *spec, const char *dir, const char *key, const char *mode,
			struct launch_error **err)
{
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l <= 0 || !strstr(self, "launch"))
		return launch_error_msg(err, "only the launch program starts image servers");
	self[l] = '\0';
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return launch_error_set(err, errno, "pipe");
	const struct launch_identity *id = &spec->id;
	char *args[A_COUNT + 3] = { "launch", "image-server" };
	char **a = args + 2;
	a[A_REPORT] = xasprintf("%d", rep[1]);
	a[A_DIR] = xstrdup(dir);
	a[A_KEY] = xstrdup(key);
	a[A_MODE] = xstrdup(mode);
	a[A_OFFSET] = xasprintf("%llu", (unsigned long long)spec->image.offset);
	a[A_THREADS] = xasprintf("%d", spec->config->fuse_threads);
	a[A_LINGER] = xasprintf("%d", spec->config->image_server_linger);
	a[A_ROOT] = xasprintf("%d", id->root);
	a[A_IDMAP] = xasprintf("%d", (int)id->mode);
	a[A_SUBUID] = xasprintf("%lu", id->subuid);
	a[A_SUBUID_N] = xasprintf("%lu", id->subuid_n);
	a[A_SUBGID] = xasprintf("%lu", id->subgid);
	a[A_SUBGID_N] = xasprintf("%lu", id->subgid_n);
	a[A_IMAGE] = xstrdup(spec->image.path);
	const char *path = getenv("PATH");
	_cleanup_free_ char *env_path = xasprintf("PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *envp[] = { env_path, NULL };
	fflush(NULL);
	pid_t mid = fork();
	if (mid == 0) {
		close(rep[0]);
		setsid();
		if (fork() == 0) {
			int null = open("/dev/null", O_RDWR);
			if (null >= 0)
				dup2(null, 0), dup2(null, 1), dup2(null, 2);
			(void)!chdir("/");
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			fcntl(rep[1], F_SETFD, 0);
			launch_fds_close_on_exec(&rep[1], 1);
			execve(self, args, envp);
			_exit(127);
		}
		_exit(0);
	}
	int e = errno;
	close(rep[1]);
	for (int i = 0; i < A_COUNT; i++)
		free(a[i]);
	if (mid < 0) {
		close(rep[0]);
		return launch_error_set(err, e, "cannot fork the image server");
	}
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	char msg[1024];
	size_t len = 0;
	struct pollfd p = { .fd = rep[0], .events = POLLIN };
	int64_t deadline = mono_ms() + READY_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			close(rep[0]);
			return launch_error_msg(err, "the image server did not start within %d s",
						READY_TIMEOUT_MS / 1000);
		}
		ssize_t r = read(rep[0], msg + len, sizeof(msg) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (len += (size_t)r) == sizeof(msg) - 1)
			break;
	}
	close(rep[0]);
	msg[len] = '\0';
	if (len)
		return launch_error_msg(err, "%s", msg);
	return 0;
}

/* Connect to KEY's server and be counted: the connection, the server's
 * pid, its user namespace and the image's mount (*FDS), or -1 when no
 * server answers (none, or one that is ending). */
static int server_connect(int dirfd, const char *key, pid_t *pid, int fds[2])
{
	_cleanup_free_ char *name = xasprintf("%s.sock", key);
	struct sockaddr_un a;
	sock_addr(dirfd, name, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	fds[0] = fds[1] = -1;
	ssize_t r = -1;
	if (poll(&p, 1, JOIN_TIMEOUT_MS) == 1)
		while ((r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
			;
	struct cmsghdr *cm = r == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
		memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	struct ucred cr;
	socklen_t len = sizeof(cr);
	/* the peer's credentials are the kernel's: another user's socket
	 * (impossible in a private runtime directory) is refused too */
	if (c != 'y' || fds[1] < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid()) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		fds[0] = fds[1] = -1;
		close(fd);
		return -1;
	}
	*pid = cr.pid;
	return fd;
}

/* Enter the server's user namespace USERNS, then make a mount namespace
 * from our current one (the node's). 1 on success; 0 when nothing
 * changed; -1 when half-way. */
static int server_enter(pid_t pid, int userns, struct launch_error **err)
{
	if (setns(userns, CLONE_NEWUSER) < 0) {
		launch_debug("cannot join the image server %d: %s", pid, strerror(errno));
		return 0;
	}
	if (unshare(CLONE_NEWNS) < 0)
		return launch_error_set(err, errno, "cannot create the container mount namespace");
	return 1;
}

/* KEY.lock, created if missing and locked: a server that retires removes
 * the file under its lock, so one found unlinked once ours is taken again. */
static int lock_key(int dirfd, const char *key)
{
	_cleanup_free_ char *name = xasprintf("%s.lock", key);
	for (int i = 0; i < 100; i++) {
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -1;
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		struct stat a, b;
		if (fstat(fd, &a) == 0 && a.st_nlink > 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return -1;
}

int launch_server_join(const struct launch_spec *spec, int use_fd, struct launch_server_conn *c,
		       struct launch_error **err)
{
	struct stat img;
	if (fstat(use_fd, &img) < 0)
		return 0;
	_cleanup_free_ char *dir = xasprintf("%s/servers", spec->runtime_dir);
	_cleanup_free_ char *mode = server_mode(&spec->id);
	_cleanup_free_ char *key = server_key(spec, &img, mode);
	int ret = 0, fd = -1, dirfd = -1, lock = -1, fds[2] = { -1, -1 };
	pid_t pid = 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		launch_debug("image server: cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	/* the runtime directory is the caller's and private (paths.h) */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		goto out;
	for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
		if ((fd = server_connect(dirfd, key, &pid, fds)) >= 0)
			break;
		if ((lock = lock_key(dirfd, key)) < 0)
			goto out;
		/* another run may have started it while we waited */
		if ((fd = server_connect(dirfd, key, &pid, fds)) < 0) {
			struct launch_error *e = NULL;
			launch_debug("starting the image server %s for %s", key, spec->image.path);
			if (server_start(spec, dir, key, mode, &e) < 0) {
				launch_debug("image server: %s; serving the image in this process", e->msg);
				launch_error_free(e);
				goto out;
			}
			fd = server_connect(dirfd, key, &pid, fds);
		}
		close(lock); /* unlocks */
		lock = -1;
	}
	if (fd < 0) {
		launch_debug("image server %s does not answer; serving the image in this process", key);
		goto out;
	}
	ret = server_enter(pid, fds[0], err);
	if (ret == 1) {
		c->fd = steal_fd(&fd);
		c->pid = pid;
		c->tree = steal_fd(&fds[1]);
		launch_debug("joined the image server %d (%s)", pid, key);
	}
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

int launch_server_mount(struct launch_server_conn *c, const char *dir, struct launch_error **err)
{
	int r = move_mount(c->tree, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH);
	int e = errno;
	close(c->tree);
	c->tree = -1;
	if (r < 0)
		return launch_error_set(err, e, "cannot mount the image server's image on %s", dir);
	return 0;
}

void launch_server_conn_close(struct launch_server_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->tree >= 0)
		close(c->tree);
	c->fd = c->tree = -1;
}

/* --- listing --- */

void launch_server_info_clear(struct launch_server_info *s)
{
	free(s->key);
	free(s->image);
	free(s->mode);
	memset(s, 0, sizeof(*s));
}

int launch_server_list(const char *runtime_dir, struct launch_server_info **out, size_t *n, struct launch_error **err)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = xasprintf("%s/servers", runtime_dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : launch_error_set(err, errno, "cannot read %s", dir);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return launch_error_set(err, errno, "cannot read %s", dir);
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		_cleanup_free_ char *text = NULL;
		if (launch_read_file_at(dirfd(d), e->d_name, 1 << 16, &text, NULL) < 0)
			continue;
		json_t *j = json_loads(text, 0, NULL);
		int pid = 0, containers = 0, linger = 0;
		json_int_t started = 0;
		const char *image = NULL, *mode = NULL;
		if (j &&
		    json_unpack(j, "{s:i, s:s, s:s, s:I, s:i, s:i}", "pid", &pid, "image", &image, "mode", &mode,
				"started", &started, "containers", &containers, "linger", &linger) == 0 &&
		    pid > 0 && kill(pid, 0) == 0) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = (struct launch_server_info){ .key = xstrndup(e->d_name, len - 5),
								      .image = xstrdup(image),
								      .mode = xstrdup(mode),
								      .pid = pid,
								      .started = started,
								      .containers = containers,
								      .linger = linger };
		}
		json_decref(j);
	}
	closedir(d);
	return 0;
}
