/* SPDX-License-Identifier: Apache-2.0 */
/* squashfs over FUSE served by libsquashfuse_ll in threads of our own process.
 * This is the only file that includes squashfuse's headers (they define
 * PACKAGE_* macros and pick the FUSE API version).
 *
 * libsquashfuse_ll keeps caches that are not thread-safe, but its 64-bit
 * inode numbering is a pure function of the image. So every worker thread
 * opens its own instance of the image, and the library finds it through
 * fuse_req_userdata(), which the link wraps (-Wl,--wrap) to return the
 * calling thread's instance. A thread that cannot open one falls back to the
 * first instance under a lock. The FUSE session's own userdata is the
 * struct launch_sqfs, which our operations read with the real
 * fuse_req_userdata() before they hand over to squashfuse's.
 *
 * Per-thread instances would also mean per-thread data caches (squashfuse
 * keeps one decompressed block), so a block read by one worker would be
 * decompressed again by the next. sqfs_data_cache() is wrapped as well: all
 * workers share one cache of decompressed data and fragment blocks, looked
 * up under a mutex and filled outside it, so workers decompress in parallel
 * and every block is decompressed once. A block a worker is copying from is
 * pinned until that worker asks for its next block, as squashfuse's own
 * contract for sqfs_data_cache() expects.
 *
 * Everything an image needs (instances, the shared cache, the all-root
 * setting) is kept in its struct launch_sqfs. The wrapped functions, which
 * squashfuse calls without it, find it through the calling thread: each
 * FUSE worker, and the prefetch thread, works for one struct launch_sqfs
 * only, recorded by enter() before squashfuse is called. */
#define _GNU_SOURCE
#include <squashfuse/ll.h>

#include <elf.h>
#ifdef LAUNCH_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "sqfs.h"
#include "util.h"

/* A decompressed data or fragment block of the shared cache. */
struct cblock {
	sqfs_off_t pos; /* where the compressed block starts: its identity */
	sqfs_block *block;
	unsigned refs; /* pins by workers */
	uint64_t used; /* LRU clock */
	bool shared;   /* in the table (false: a private overflow copy) */
};

#define SHARED_CACHE_BYTES (16u << 20)
#define SHARED_CACHE_SLOTS 256

struct launch_sqfs {
	char *image;
	uint64_t offset; /* where the squashfs starts in IMAGE (a SIF partition) */
	bool all_root;	 /* every file shown as owned by 0 */
	pthread_t prefetch;
	bool prefetching;
	char *prefetch_cmd;
	char *prefetch_path;
	int threads;
	/* The first instance, opened by launch_sqfs_open; a thread that cannot
	 * open one of its own uses it under primary_lock. */
	sqfs_ll *primary;
	pthread_mutex_t primary_lock;
	/* The threads' own instances, freed at the end. */
	pthread_mutex_t instances_lock;
	sqfs_ll **instances;
	size_t n_instances;
	/* The shared block cache: a fixed array, since workers keep pointers
	 * to their pinned slots. */
	pthread_mutex_t cache_lock;
	struct cblock cache_v[SHARED_CACHE_SLOTS];
	size_t cache_n, cache_bytes;
	uint64_t cache_clock;
	struct fuse_session *se;
	char *mountpoint;
	int fuse_fd;
	pthread_t loop;
	bool serving;
};

/* The calling thread's image and instance of it (see above). */
static __thread struct launch_sqfs *thread_sqfs;
static __thread sqfs_ll *thread_ll;
static __thread bool thread_locked;

const char *launch_sqfs_backend(void)
{
	return "libsquashfuse_ll (in-process, multi-threaded)";
}
pid_t launch_sqfs_helper_pid(const struct launch_sqfs *s)
{
	return 0;
}

void *__real_fuse_req_userdata(fuse_req_t req);
/* --root without subordinate ids: every file shows as owned by 0, that is
 * the caller, so that root in the container may write where the image's
 * owners (unmapped, shown as nobody) would lock it out. squashfuse's stat.h,
 * which declares sqfs_stat, is not installed: its declaration is repeated. */
sqfs_err sqfs_stat(sqfs *fs, sqfs_inode *inode, struct stat *st);
sqfs_err __real_sqfs_stat(sqfs *fs, sqfs_inode *inode, struct stat *st);
sqfs_err __wrap_sqfs_stat(sqfs *fs, sqfs_inode *inode, struct stat *st);
sqfs_err __wrap_sqfs_stat(sqfs *fs, sqfs_inode *inode, struct stat *st)
{
	sqfs_err r = __real_sqfs_stat(fs, inode, st);
	if (r == SQFS_OK && thread_sqfs && thread_sqfs->all_root)
		st->st_uid = st->st_gid = 0;
	return r;
}

void launch_sqfs_set_all_root(struct launch_sqfs *s, bool on)
{
	s->all_root = on;
}

/* squashfuse's operations run only inside ours, after enter(): the
 * instance they ask for is the calling thread's. */
void *__wrap_fuse_req_userdata(fuse_req_t req);

void *__wrap_fuse_req_userdata(fuse_req_t req)
{
	(void)req;
	return thread_ll;
}

/* --- gzip blocks through libdeflate --- */

#ifdef LAUNCH_HAVE_LIBDEFLATE
/* squashfuse inflates gzip (zlib-wrapped) blocks with zlib's uncompress();
 * the link wraps it (-Wl,--wrap=uncompress) to use libdeflate, about twice
 * as fast at whole-buffer decompression, which is what squashfs blocks are.
 * Everything else in the process that calls uncompress() gets the same
 * results: the zlib format is checked by both. */
int __real_uncompress(unsigned char *dest, unsigned long *dest_len, const unsigned char *src, unsigned long src_len);
int __wrap_uncompress(unsigned char *dest, unsigned long *dest_len, const unsigned char *src, unsigned long src_len);

static __thread struct libdeflate_decompressor *inflater;

int __wrap_uncompress(unsigned char *dest, unsigned long *dest_len, const unsigned char *src, unsigned long src_len)
{
	if (!inflater)
		inflater = libdeflate_alloc_decompressor();
	if (!inflater)
		return __real_uncompress(dest, dest_len, src, src_len);
	size_t out = 0;
	enum libdeflate_result r = libdeflate_zlib_decompress(inflater, src, src_len, dest, *dest_len, &out);
	if (r == LIBDEFLATE_SUCCESS) {
		*dest_len = out;
		return 0; /* Z_OK */
	}
	return r == LIBDEFLATE_INSUFFICIENT_SPACE ? -5 /* Z_BUF_ERROR */ : -3 /* Z_DATA_ERROR */;
}
#endif

/* --- the shared block cache --- */

static __thread struct cblock *pinned[2]; /* [0] data block, [1] fragment block, of thread_sqfs's cache */

sqfs_err __real_sqfs_data_cache(sqfs *fs, sqfs_cache *cache, sqfs_off_t pos, uint32_t hdr, sqfs_block **block);
sqfs_err __wrap_sqfs_data_cache(sqfs *fs, sqfs_cache *cache, sqfs_off_t pos, uint32_t hdr, sqfs_block **block);

static void unpin(struct launch_sqfs *s, int kind)
{
	struct cblock *c = pinned[kind];
	if (!c)
		return;
	pinned[kind] = NULL;
	if (!c->shared) {
		sqfs_block_dispose(c->block);
		free(c);
		return;
	}
	pthread_mutex_lock(&s->cache_lock);
	c->refs--;
	pthread_mutex_unlock(&s->cache_lock);
}

static struct cblock *cache_find(struct launch_sqfs *s, sqfs_off_t pos)
{
	for (size_t i = 0; i < s->cache_n; i++)
		if (s->cache_v[i].block && s->cache_v[i].pos == pos)
			return &s->cache_v[i];
	return NULL;
}

/* Under cache_lock: a free slot, evicting unpinned least-recently-used
 * blocks until NEED more bytes fit. NULL when everything is pinned. */
static struct cblock *cache_slot(struct launch_sqfs *s, size_t need)
{
	for (;;) {
		struct cblock *free_slot = NULL, *lru = NULL;
		for (size_t i = 0; i < s->cache_n; i++) {
			struct cblock *c = &s->cache_v[i];
			if (!c->block)
				free_slot = free_slot ? free_slot : c;
			else if (!c->refs && (!lru || c->used < lru->used))
				lru = c;
		}
		if (s->cache_bytes + need <= SHARED_CACHE_BYTES && (free_slot || s->cache_n < SHARED_CACHE_SLOTS)) {
			if (free_slot)
				return free_slot;
			memset(&s->cache_v[s->cache_n], 0, sizeof(*s->cache_v));
			return &s->cache_v[s->cache_n++];
		}
		if (!lru)
			return NULL;
		s->cache_bytes -= lru->block->size;
		sqfs_block_dispose(lru->block);
		lru->block = NULL;
	}
}

/* Under cache_lock, which it releases: pin C for this worker and hand out
 * its block. */
static sqfs_err pin_and_unlock(struct launch_sqfs *s, struct cblock *c, int kind, sqfs_block **block)
{
	c->refs++;
	c->used = ++s->cache_clock;
	pthread_mutex_unlock(&s->cache_lock);
	pinned[kind] = c;
	*block = c->block;
	return SQFS_OK;
}

sqfs_err __wrap_sqfs_data_cache(sqfs *fs, sqfs_cache *cache, sqfs_off_t pos, uint32_t hdr, sqfs_block **block)
{
	struct launch_sqfs *s = thread_sqfs;
	if (!s) /* not one of our threads: squashfuse's own cache of FS */
		return __real_sqfs_data_cache(fs, cache, pos, hdr, block);
	int kind = cache == &fs->frag_cache;
	unpin(s, kind);
	pthread_mutex_lock(&s->cache_lock);
	struct cblock *c = cache_find(s, pos);
	if (c)
		return pin_and_unlock(s, c, kind, block);
	pthread_mutex_unlock(&s->cache_lock);

	sqfs_block *b = NULL;
	sqfs_err e = sqfs_data_block_read(fs, pos, hdr, &b);
	if (e != SQFS_OK)
		return e;
	pthread_mutex_lock(&s->cache_lock);
	c = cache_find(s, pos); /* another worker may have been quicker */
	if (c) {
		sqfs_block_dispose(b);
		return pin_and_unlock(s, c, kind, block);
	}
	if ((c = cache_slot(s, b->size))) {
		c->pos = pos;
		c->block = b;
		c->shared = true;
		s->cache_bytes += b->size;
		return pin_and_unlock(s, c, kind, block);
	}
	pthread_mutex_unlock(&s->cache_lock);
	c = xcalloc(1, sizeof(*c)); /* every slot pinned: a private copy */
	c->pos = pos;
	c->block = b;
	pinned[kind] = c;
	*block = b;
	return SQFS_OK;
}

static void cache_clear(struct launch_sqfs *s)
{
	for (size_t i = 0; i < s->cache_n; i++)
		if (s->cache_v[i].block)
			sqfs_block_dispose(s->cache_v[i].block);
	memset(s->cache_v, 0, sizeof(s->cache_v));
	s->cache_n = s->cache_bytes = 0;
}

/* squashfuse opens the image without O_CLOEXEC: no program launch starts
 * may inherit it (launch_fds_close_on_exec is the second line). */
static sqfs_ll *open_ll(const char *image, uint64_t offset)
{
	sqfs_ll *ll = sqfs_ll_open(image, (size_t)offset);
	if (ll)
		fcntl(ll->fs.fd, F_SETFD, FD_CLOEXEC);
	return ll;
}

/* Before squashfuse works for S in this thread: the thread's own
 * instance, opened on its first call (and freed with S), else S's first
 * instance under its lock until leave(). */
static void enter(struct launch_sqfs *s)
{
	if (thread_ll && thread_sqfs == s)
		return;
	thread_sqfs = s;
	sqfs_ll *ll = open_ll(s->image, s->offset);
	if (ll) {
		pthread_mutex_lock(&s->instances_lock);
		s->instances = xrealloc(s->instances, (s->n_instances + 1) * sizeof(*s->instances));
		s->instances[s->n_instances++] = ll;
		pthread_mutex_unlock(&s->instances_lock);
		thread_ll = ll;
		return;
	}
	pthread_mutex_lock(&s->primary_lock);
	thread_locked = true;
	thread_ll = s->primary;
}

static void leave(void)
{
	if (thread_locked) {
		thread_ll = NULL;
		thread_locked = false;
		pthread_mutex_unlock(&thread_sqfs->primary_lock);
	}
}

/* R's session is that of a struct launch_sqfs: its userdata. */
#define WRAP(name, proto, args)                     \
	static void op_##name proto                 \
	{                                           \
		enter(__real_fuse_req_userdata(r)); \
		sqfs_ll_op_##name args;             \
		leave();                            \
	}

WRAP(getattr, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(opendir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(releasedir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(readdir, (fuse_req_t r, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi), (r, i, n, o, fi))
WRAP(lookup, (fuse_req_t r, fuse_ino_t p, const char *name), (r, p, name))
WRAP(open, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(create, (fuse_req_t r, fuse_ino_t p, const char *name, mode_t m, struct fuse_file_info *fi), (r, p, name, m, fi))
WRAP(release, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi), (r, i, fi))
WRAP(read, (fuse_req_t r, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi), (r, i, n, o, fi))
WRAP(readlink, (fuse_req_t r, fuse_ino_t i), (r, i))
WRAP(listxattr, (fuse_req_t r, fuse_ino_t i, size_t n), (r, i, n))
WRAP(getxattr, (fuse_req_t r, fuse_ino_t i, const char *name, size_t n), (r, i, name, n))
WRAP(forget, (fuse_req_t r, fuse_ino_t i, unsigned long n), (r, i, n))

static void op_statfs(fuse_req_t r, fuse_ino_t i)
{
	enter(__real_fuse_req_userdata(r));
	stfs_ll_op_statfs(r, i);
	leave();
}

static const struct fuse_lowlevel_ops ops = {
	.getattr = op_getattr,
	.opendir = op_opendir,
	.releasedir = op_releasedir,
	.readdir = op_readdir,
	.lookup = op_lookup,
	.open = op_open,
	.create = op_create,
	.release = op_release,
	.read = op_read,
	.readlink = op_readlink,
	.listxattr = op_listxattr,
	.getxattr = op_getxattr,
	.forget = op_forget,
	.statfs = op_statfs,
};

static void free_ll(sqfs_ll *ll)
{
	sqfs_ll_destroy(ll);
	free(ll);
}

int launch_sqfs_open(const char *image, uint64_t offset, int threads, struct launch_sqfs **out,
		     struct launch_error **err)
{
	_cleanup_close_ int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", image);
	char magic[4];
	if (pread(fd, magic, 4, (off_t)offset) != 4 || memcmp(magic, "hsqs", 4) != 0)
		return launch_error_msg(err, "%s is not a squashfs image (no squashfs magic at byte %llu)", image,
					(unsigned long long)offset);
	sqfs_ll *ll = open_ll(image, offset);
	if (!ll)
		return launch_error_msg(err, "cannot read squashfs image %s (damaged, or an unsupported compression)",
					image);
	struct launch_sqfs *s = xcalloc(1, sizeof(*s));
	s->image = xstrdup(image);
	s->offset = offset;
	s->threads = threads > 0 ? threads : 8;
	s->primary = ll;
	pthread_mutex_init(&s->primary_lock, NULL);
	pthread_mutex_init(&s->instances_lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	s->fuse_fd = -1;
	*out = s;
	return 0;
}

int launch_sqfs_mount(struct launch_sqfs *s, const char *mountpoint, struct launch_error **err)
{
	s->fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (s->fuse_fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return launch_error_msg(err,
						"cannot mount image: /dev/fuse is not accessible (ask your admin to "
						"make it mode 0666, or see 'launch doctor')");
		return launch_error_set(err, e, "cannot mount image: cannot open /dev/fuse (see 'launch doctor')");
	}
	_cleanup_free_ char *opts = xasprintf(
		"fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other,"
		"default_permissions",
		s->fuse_fd, getuid(), getgid());
	if (mount(s->image, mountpoint, "fuse.squashfuse", MS_NOSUID | MS_NODEV | MS_RDONLY, opts) < 0)
		return launch_error_set(err, errno, "cannot mount image %s with FUSE", s->image);
	s->mountpoint = xstrdup(mountpoint);
	char *argv[] = { (char *)"launch", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	s->se = fuse_session_new(&args, &ops, sizeof(ops), s);
	if (!s->se)
		return launch_error_msg(err, "cannot start the FUSE session for %s", s->image);
	char devfd[32];
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", s->fuse_fd);
	if (fuse_session_mount(s->se, devfd) != 0)
		return launch_error_msg(err, "cannot attach the FUSE session for %s", s->image);
	return 0;
}

/* squashfuse's headers pin FUSE_USE_VERSION to 32, where
 * fuse_session_loop_mt() takes the old, fixed struct fuse_loop_config; the
 * opaque config of fuse_loop_cfg_create() (libfuse >= 3.12) belongs to the
 * 3.12 entry point, declared here because that API level hides it. Passing
 * the new config to the old entry point makes every worker exit after one
 * request (and lose its squashfuse caches). */
int fuse_session_loop_mt_312(struct fuse_session *se, struct fuse_loop_config *config);

static void *loop_main(void *arg)
{
	struct launch_sqfs *s = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, (unsigned)s->threads);
	fuse_loop_cfg_set_idle_threads(cfg, (unsigned)s->threads);
	int r = fuse_session_loop_mt_312(s->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	if (r < 0)
		launch_debug("FUSE loop ended: %s", strerror(-r));
	return NULL;
}

int launch_sqfs_serve(struct launch_sqfs *s, struct launch_error **err)
{
	int e = pthread_create(&s->loop, NULL, loop_main, s);
	if (e)
		return launch_error_set(err, e, "cannot start the FUSE server thread");
	s->serving = true;
	return 0;
}

/* --- prefetching the command while the container is being built --- */

/* The head of a file: ELF headers, the dynamic section and, usually, the
 * code that runs first. Reading further competes for the CPU with the reads
 * the container makes itself (measured with bench/startup). */
#define PREFETCH_MAX (1u << 20)

/* Resolve PATH in the image, following symlinks in every component: the
 * inode, of any type. */
static bool lookup_any(sqfs *fs, const char *path, sqfs_inode *out)
{
	char cur[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", path);
	for (int hops = 0; hops < 20; hops++) {
		bool restarted = false;
		for (char *p = cur + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char saved = *p;
			*p = '\0';
			sqfs_inode ino;
			bool found = false;
			if (sqfs_inode_get(fs, &ino, sqfs_inode_root(fs)) != SQFS_OK ||
			    sqfs_lookup_path(fs, &ino, cur, &found) != SQFS_OK || !found)
				return false;
			if (S_ISLNK(ino.base.mode)) {
				char target[PATH_MAX];
				size_t size = sizeof(target);
				if (sqfs_readlink(fs, &ino, target, &size) != SQFS_OK)
					return false;
				char next[PATH_MAX];
				char *slash = strrchr(cur, '/');
				*slash = '\0';
				int n = target[0] == '/' ? snprintf(next, sizeof(next), "%s", target)
							 : snprintf(next, sizeof(next), "%s/%s", cur, target);
				if (saved && n > 0)
					snprintf(next + n, sizeof(next) - (size_t)n, "/%s", p + 1);
				snprintf(cur, sizeof(cur), "%s", next);
				restarted = true;
				break;
			}
			*p = saved;
			if (!saved) {
				*out = ino;
				return true;
			}
		}
		if (!restarted)
			return false;
	}
	return false;
}

/* The same for a regular file. */
static bool image_lookup(sqfs *fs, const char *path, sqfs_inode *out)
{
	return lookup_any(fs, path, out) && S_ISREG(out->base.mode);
}

/* Read up to PREFETCH_MAX bytes of the file into the shared cache; return
 * its ELF interpreter (PT_INTERP) in INTERP when it has one. */
static void prefetch_file(sqfs *fs, sqfs_inode *ino, char *interp, size_t isize)
{
	static char buf[128 * 1024];
	uint64_t size = ino->xtra.reg.file_size;
	interp[0] = '\0';
	for (uint64_t off = 0; off < size && off < PREFETCH_MAX;) {
		sqfs_off_t len = sizeof(buf);
		if (sqfs_read_range(fs, ino, (sqfs_off_t)off, &len, buf) != SQFS_OK || len <= 0)
			break;
		if (off == 0 && len >= (sqfs_off_t)sizeof(Elf64_Ehdr) && !memcmp(buf, ELFMAG, SELFMAG)) {
			const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
			for (unsigned i = 0; i < eh->e_phnum; i++) {
				uint64_t at = eh->e_phoff + (uint64_t)i * eh->e_phentsize;
				if (at + sizeof(Elf64_Phdr) > (uint64_t)len)
					break;
				const Elf64_Phdr *ph = (const Elf64_Phdr *)(buf + at);
				if (ph->p_type == PT_INTERP && ph->p_offset + ph->p_filesz <= (uint64_t)len &&
				    ph->p_filesz < isize) {
					memcpy(interp, buf + ph->p_offset, ph->p_filesz);
					interp[ph->p_filesz] = '\0';
				}
			}
		}
		off += (uint64_t)len;
	}
}

static void *prefetch_main(void *arg)
{
	struct launch_sqfs *s = arg;
	/* idle work: the workers answering the container come first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	enter(s);
	sqfs *fs = &thread_ll->fs;
	sqfs_inode ino;
	bool found = false;
	if (strchr(s->prefetch_cmd, '/')) {
		found = image_lookup(fs, s->prefetch_cmd, &ino);
	} else {
		char *next = s->prefetch_path;
		for (char *dir; !found && (dir = strsep(&next, ":"));) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", dir, s->prefetch_cmd);
			found = dir[0] == '/' && image_lookup(fs, p, &ino);
		}
	}
	char interp[PATH_MAX];
	if (found) {
		prefetch_file(&thread_ll->fs, &ino, interp, sizeof(interp));
		char dummy[8];
		if (interp[0] && image_lookup(fs, interp, &ino))
			prefetch_file(fs, &ino, dummy, sizeof(dummy));
	}
	unpin(s, 0);
	unpin(s, 1);
	leave();
	return NULL;
}

void launch_sqfs_prefetch(struct launch_sqfs *s, const char *cmd, const char *path)
{
	if (!s || !cmd || !*cmd)
		return;
	s->prefetch_cmd = xstrdup(cmd);
	s->prefetch_path = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	s->prefetching = pthread_create(&s->prefetch, NULL, prefetch_main, s) == 0;
}

void launch_sqfs_stop(struct launch_sqfs *s)
{
	if (!s)
		return;
	if (s->prefetching)
		pthread_join(s->prefetch, NULL);
	free(s->prefetch_cmd);
	free(s->prefetch_path);
	if (s->se) {
		fuse_session_exit(s->se);
		if (s->mountpoint)
			umount2(s->mountpoint, MNT_DETACH);
		/* Once the last mount is gone the kernel ends the connection and
		 * the workers' reads of /dev/fuse fail: the loop returns. */
		if (s->serving)
			pthread_join(s->loop, NULL);
		fuse_session_unmount(s->se);
		fuse_session_destroy(s->se);
	} else if (s->fuse_fd >= 0) {
		close(s->fuse_fd);
	}
	for (size_t i = 0; i < s->n_instances; i++)
		free_ll(s->instances[i]);
	free(s->instances);
	cache_clear(s);
	pthread_mutex_destroy(&s->primary_lock);
	pthread_mutex_destroy(&s->instances_lock);
	pthread_mutex_destroy(&s->cache_lock);
	free_ll(s->primary);
	free(s->mountpoint);
	free(s->image);
	free(s);
}

/* --- files inside an image, without a mount --- */

const struct launch_image_files launch_sqfs_files = { launch_sqfs_read_file, launch_sqfs_list_dir };

/* A squashfs instance of IMAGE at OFFSET of its own (not one of a FUSE
 * server's: the caller's thread is none of theirs), quietly: squashfuse's
 * sqfs_open_image prints its errors. */
static int open_fs(const char *image, uint64_t offset, sqfs *fs, struct launch_error **err)
{
	memset(fs, 0, sizeof(*fs));
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return launch_error_set(err, errno, "cannot open image %s", image);
	if (sqfs_init(fs, fd, (size_t)offset) != SQFS_OK) {
		close(fd);
		return launch_error_msg(err,
					"cannot read the squashfs image at byte %llu of %s (damaged, or an "
					"unsupported compression)",
					(unsigned long long)offset, image);
	}
	return 0;
}

int launch_sqfs_read_file(const char *image, uint64_t offset, const char *path, size_t max, char **data, size_t *len,
			  unsigned *mode, struct launch_error **err)
{
	sqfs fs;
	if (open_fs(image, offset, &fs, err) < 0)
		return -1;
	int ret = 1;
	sqfs_inode ino;
	if (!lookup_any(&fs, path, &ino) || !S_ISREG(ino.base.mode))
		goto out;
	uint64_t size = ino.xtra.reg.file_size;
	if (size > max) {
		ret = launch_error_msg(err, "%s in image %s is larger than %zu bytes", path, image, max);
		goto out;
	}
	char *buf = xmalloc((size_t)size + 1);
	sqfs_off_t n = (sqfs_off_t)size;
	if (size && sqfs_read_range(&fs, &ino, 0, &n, buf) != SQFS_OK) {
		free(buf);
		ret = launch_error_msg(err, "cannot read %s in image %s (damaged?)", path, image);
		goto out;
	}
	buf[size] = '\0';
	*data = buf;
	if (len)
		*len = (size_t)size;
	if (mode)
		*mode = ino.base.mode;
	ret = 0;
out:
	close(fs.fd);
	sqfs_destroy(&fs);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int launch_sqfs_list_dir(const char *image, uint64_t offset, const char *dir, char ***names, struct launch_error **err)
{
	sqfs fs;
	*names = xcalloc(1, sizeof(char *));
	if (open_fs(image, offset, &fs, err) < 0)
		return -1;
	int ret = 1;
	sqfs_inode ino;
	sqfs_dir d;
	if (!lookup_any(&fs, dir, &ino) || !S_ISDIR(ino.base.mode))
		goto out;
	if (sqfs_dir_open(&fs, &ino, &d, 0) != SQFS_OK) {
		ret = launch_error_msg(err, "cannot read directory %s in image %s (damaged?)", dir, image);
		goto out;
	}
	sqfs_name name;
	sqfs_dir_entry entry;
	sqfs_dentry_init(&entry, name);
	sqfs_err e = SQFS_OK;
	size_t n = 0;
	while (sqfs_dir_next(&fs, &d, &entry, &e) && n < 4096) {
		launch_strv_push(names, xstrdup(sqfs_dentry_name(&entry)));
		n++;
	}
	qsort(*names, n, sizeof(char *), cmp_names);
	ret = 0;
out:
	close(fs.fd);
	sqfs_destroy(&fs);
	return ret;
}
