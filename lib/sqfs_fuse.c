/* SPDX-License-Identifier: Apache-2.0 */
/* squashfs over FUSE, served by threads of our own process: our FUSE
 * low-level operations (libfuse's 3.12 API) over libsquashfuse's public
 * API. This is the only file that includes squashfuse's headers (their
 * config.h defines PACKAGE_* macros and pins FUSE_USE_VERSION to 32).
 *
 * squashfuse parses the image: superblock, inodes, directories, id, fragment
 * and xattr tables. Its `sqfs` keeps small caches of metadata blocks that are
 * not thread-safe, so a pool holds one `sqfs` per worker: a request takes a
 * handle for its duration and gives it back. The handles share one fd
 * (sqfs_destroy does not close it; reads are pread).
 *
 * File data does not go through squashfuse's one-block data cache: every
 * worker shares one cache of decompressed data and fragment blocks, a hash
 * table keyed by the block's position in the image with an LRU list and a
 * byte budget. A block is decompressed outside the lock, once: the first
 * worker that wants it inserts it as loading, others wait for it. Readers
 * pin the blocks of their range and hand them to the kernel with
 * fuse_reply_iov, with no copy of ours.
 *
 * The image never changes, so the kernel may keep everything it learns:
 * entries and attributes never time out, file and directory pages stay
 * cached across opens, symlinks are cached, and readdirplus answers lookups
 * before they are made. */
#define _GNU_SOURCE
#include <squashfuse/squashfuse.h>
#undef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <elf.h>
#ifdef LAUNCH_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#ifdef LAUNCH_HAVE_ZSTD
#include <zstd.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "sqfs.h"
#include "util.h"

/* libfuse turns this into the kernel's largest timeout: never expires. */
#define FOREVER DBL_MAX
/* Decompressed blocks kept per image. Small files share fragment blocks,
 * and a program that reads them in another order than the image's (most
 * do) cycles through many blocks: bench/read's 10,000 files (45 MB, 367
 * fragment blocks) took 10,006 decompressions with 32 MiB (a miss for
 * nearly every file), 367 with 64 MiB. */
#define CACHE_BUDGET (64u << 20)
#define CACHE_BUCKETS 4096u
/* Workers kept waiting on /dev/fuse; libfuse starts more on demand, up to
 * the fuse_threads setting, and lets the extra ones go once idle. With 2,
 * one reader's lookup arriving while its read is answered made libfuse
 * start a thread and end it again, request after request. */
#define IDLE_WORKERS 4u
/* Reads the kernel may send (the max_read mount option; libfuse's buffer,
 * 256 pages, sets max_pages to match). */
#define MAX_READ (1u << 20)
/* Metadata blocks (8 KiB each) a handle keeps; squashfuse's default, 8, is
 * fewer than a lookup and an open touch (inode, directory, id and fragment
 * tables), so they would keep evicting each other. */
#define MD_CACHE_BLOCKS 64

/* One squashfuse instance, used by one request at a time. */
struct handle {
	sqfs fs;
	struct handle *next_free;
	struct handle *next_all;
#ifdef LAUNCH_HAVE_LIBDEFLATE
	struct libdeflate_decompressor *inflater;
#endif
};

enum { B_LOADING, B_READY, B_FAILED };

/* A decompressed data or fragment block of the shared cache. */
struct block {
	uint64_t pos; /* where the compressed block starts: its identity */
	void *data;
	size_t size;
	sqfs_block *sq; /* squashfuse's, when it decompressed the block */
	unsigned refs;	/* pins */
	int state;
	struct block *hnext;	   /* hash chain */
	struct block *prev, *next; /* LRU list, while unpinned and ready */
};

struct launch_sqfs {
	char *image;
	uint64_t offset; /* where the squashfs starts in IMAGE (a SIF partition) */
	int fd;
	bool all_root;		  /* every file shown as owned by 0 */
	bool zlib;		  /* gzip image, inflated with libdeflate */
	bool no_open, no_opendir; /* the kernel opens by itself (op_open) */
	uint32_t block_size;
	sqfs_inode_id root;
	void *zeros; /* a block of zeros, for holes */
	/* the id table, and the fragment table as far as it has been read */
	sqfs_id_t *ids;
	unsigned n_ids;
	pthread_mutex_t frag_lock;
	struct squashfs_fragment_entry *frags;
	bool *frag_known;
	uint32_t n_frags;
	int threads;
	/* the handle pool */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct handle *free_handles, *all_handles;
	unsigned n_handles, max_handles;
	/* the block cache */
	pthread_mutex_t cache_lock;
	pthread_cond_t cache_cond;
	struct block *buckets[CACHE_BUCKETS];
	struct block lru; /* lru.next: most recently used */
	size_t cache_bytes;
	uint64_t hits, misses, waits; /* for launch -vv */
	/* prefetching */
	pthread_t prefetch;
	bool prefetching;
	char *prefetch_cmd;
	char *prefetch_path;
	/* the FUSE session */
	struct fuse_session *se;
	char *mountpoint;
	int fuse_fd;
	pthread_t loop;
	bool serving;
};

const char *launch_sqfs_backend(void)
{
	return "libsquashfuse (in-process, multi-threaded)";
}

pid_t launch_sqfs_helper_pid(const struct launch_sqfs *s)
{
	(void)s;
	return 0;
}

void launch_sqfs_set_all_root(struct launch_sqfs *s, bool on)
{
	s->all_root = on;
}

/* --- the handle pool --- */

/* sqfs_destroy frees all that sqfs_init allocated but the xattr table. */
static void fs_destroy(sqfs *fs)
{
	sqfs_destroy(fs);
	sqfs_table_destroy(&fs->xattr_table);
}

#ifdef LAUNCH_HAVE_ZSTD
/* zstd, launch's default: squashfuse's decompressor makes a new context
 * (about 160 KiB, zeroed) for every block, metadata blocks too, which
 * showed in profiles. A handle's `decompressor` (a field of squashfuse's
 * public struct sqfs) is set to this one instead, which keeps one context
 * per thread, freed when the thread ends. */
static pthread_key_t zstd_key;
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;

static void zstd_free(void *ctx)
{
	ZSTD_freeDCtx(ctx);
}

static void zstd_key_init(void)
{
	pthread_key_create(&zstd_key, zstd_free);
}

static sqfs_err zstd_decompress(void *in, size_t insz, void *out, size_t *outsz)
{
	pthread_once(&zstd_once, zstd_key_init);
	ZSTD_DCtx *ctx = pthread_getspecific(zstd_key);
	if (!ctx) {
		if (!(ctx = ZSTD_createDCtx()))
			return SQFS_ERR;
		pthread_setspecific(zstd_key, ctx);
	}
	size_t n = ZSTD_decompressDCtx(ctx, out, *outsz, in, insz);
	if (ZSTD_isError(n))
		return SQFS_ERR;
	*outsz = n;
	return SQFS_OK;
}
#endif

static void handle_free(struct handle *h)
{
#ifdef LAUNCH_HAVE_LIBDEFLATE
	if (h->inflater)
		libdeflate_free_decompressor(h->inflater);
#endif
	fs_destroy(&h->fs);
	free(h);
}

static struct handle *handle_new(struct launch_sqfs *s)
{
	struct handle *h = xcalloc(1, sizeof(*h));
	if (sqfs_init(&h->fs, s->fd, (size_t)s->offset) != SQFS_OK) {
		free(h);
		return NULL;
	}
	sqfs_cache_destroy(&h->fs.md_cache);
	if (sqfs_block_cache_init(&h->fs.md_cache, MD_CACHE_BLOCKS) != SQFS_OK) {
		h->fs.md_cache = (sqfs_cache){ 0 };
		handle_free(h);
		return NULL;
	}
#ifdef LAUNCH_HAVE_LIBDEFLATE
	h->inflater = libdeflate_alloc_decompressor();
#endif
#ifdef LAUNCH_HAVE_ZSTD
	if (sqfs_compression(&h->fs) == ZSTD_COMPRESSION)
		h->fs.decompressor = zstd_decompress;
#endif
	return h;
}

/* A handle for this request: a free one, a new one while there are fewer
 * than max_handles, else the next one given back. NULL: out of memory. */
static struct handle *handle_get(struct launch_sqfs *s)
{
	pthread_mutex_lock(&s->pool_lock);
	while (!s->free_handles && s->n_handles >= s->max_handles)
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	struct handle *h = s->free_handles;
	if (h) {
		s->free_handles = h->next_free;
		pthread_mutex_unlock(&s->pool_lock);
		return h;
	}
	s->n_handles++;
	pthread_mutex_unlock(&s->pool_lock);
	h = handle_new(s);
	pthread_mutex_lock(&s->pool_lock);
	if (h) {
		h->next_all = s->all_handles;
		s->all_handles = h;
	} else {
		s->n_handles--;
		pthread_cond_signal(&s->pool_cond);
	}
	pthread_mutex_unlock(&s->pool_lock);
	return h;
}

static void handle_put(struct launch_sqfs *s, struct handle *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&s->pool_lock);
	h->next_free = s->free_handles;
	s->free_handles = h;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

/* --- the shared block cache --- */

static struct block **bucket(struct launch_sqfs *s, uint64_t pos)
{
	return &s->buckets[(pos * 0x9E3779B97F4A7C15ull) >> 52 & (CACHE_BUCKETS - 1)];
}

static void block_free(struct block *b)
{
	if (b->sq)
		sqfs_block_dispose(b->sq);
	else
		free(b->data);
	free(b);
}

static void hash_remove(struct launch_sqfs *s, struct block *b)
{
	for (struct block **p = bucket(s, b->pos); *p; p = &(*p)->hnext)
		if (*p == b) {
			*p = b->hnext;
			return;
		}
}

static void lru_unlink(struct block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
	b->prev = b->next = NULL;
}

/* Under cache_lock: drop unpinned blocks, least recently used first, while
 * the cache is over its budget. */
static void evict(struct launch_sqfs *s)
{
	while (s->cache_bytes > CACHE_BUDGET && s->lru.prev != &s->lru) {
		struct block *b = s->lru.prev;
		lru_unlink(b);
		hash_remove(s, b);
		s->cache_bytes -= b->size;
		block_free(b);
	}
}

/* Under cache_lock: give a pin back. */
static void unpin_locked(struct launch_sqfs *s, struct block *b)
{
	if (--b->refs)
		return;
	if (b->state == B_FAILED) {
		block_free(b);
		return;
	}
	b->next = s->lru.next;
	b->prev = &s->lru;
	s->lru.next->prev = b;
	s->lru.next = b;
	evict(s);
}

static void unpin(struct launch_sqfs *s, struct block *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&s->cache_lock);
	unpin_locked(s, b);
	pthread_mutex_unlock(&s->cache_lock);
}

/* Read and decompress the block at POS (squashfs data block header HDR). */
static int block_load(struct launch_sqfs *s, struct handle *h, uint64_t pos, uint32_t hdr, struct block *b)
{
	bool compressed;
	uint32_t csize;
	sqfs_data_header(hdr, &compressed, &csize);
	if (csize > s->block_size)
		return -1;
	off_t at = (off_t)(s->offset + pos);
	if (!compressed) {
		b->data = xmalloc(csize ? csize : 1);
		b->size = csize;
		return pread(s->fd, b->data, csize, at) == (ssize_t)csize ? 0 : -1;
	}
#ifdef LAUNCH_HAVE_LIBDEFLATE
	/* libdeflate inflates whole buffers about twice as fast as zlib */
	if (s->zlib && h->inflater) {
		_cleanup_free_ void *raw = xmalloc(csize);
		if (pread(s->fd, raw, csize, at) != (ssize_t)csize)
			return -1;
		b->data = xmalloc(s->block_size);
		return libdeflate_zlib_decompress(h->inflater, raw, csize, b->data, s->block_size, &b->size) ==
				       LIBDEFLATE_SUCCESS
			       ? 0
			       : -1;
	}
#endif
	if (sqfs_data_block_read(&h->fs, (sqfs_off_t)pos, hdr, &b->sq) != SQFS_OK)
		return -1;
	b->data = b->sq->data;
	b->size = b->sq->size;
	return 0;
}

/* The block at POS, pinned (unpin() gives it back), read with H on a
 * miss. NULL: an I/O or decompression error. */
static struct block *block_get(struct launch_sqfs *s, struct handle *h, uint64_t pos, uint32_t hdr)
{
	pthread_mutex_lock(&s->cache_lock);
	struct block *b = *bucket(s, pos);
	while (b && b->pos != pos)
		b = b->hnext;
	if (b) {
		if (b->refs++ == 0 && b->state == B_READY)
			lru_unlink(b);
		s->hits++;
		s->waits += b->state == B_LOADING;
		while (b->state == B_LOADING)
			pthread_cond_wait(&s->cache_cond, &s->cache_lock);
		if (b->state == B_FAILED) {
			unpin_locked(s, b);
			b = NULL;
		}
		pthread_mutex_unlock(&s->cache_lock);
		return b;
	}
	s->misses++;
	b = xcalloc(1, sizeof(*b));
	b->pos = pos;
	b->refs = 1;
	b->state = B_LOADING;
	struct block **head = bucket(s, pos);
	b->hnext = *head;
	*head = b;
	pthread_mutex_unlock(&s->cache_lock);

	int r = block_load(s, h, pos, hdr, b);

	pthread_mutex_lock(&s->cache_lock);
	if (r < 0) {
		b->state = B_FAILED;
		hash_remove(s, b);
	} else {
		b->state = B_READY;
		s->cache_bytes += b->size;
	}
	pthread_cond_broadcast(&s->cache_cond);
	if (r < 0) {
		unpin_locked(s, b);
		b = NULL;
	}
	pthread_mutex_unlock(&s->cache_lock);
	return b;
}

static void cache_clear(struct launch_sqfs *s)
{
	for (unsigned i = 0; i < CACHE_BUCKETS; i++)
		for (struct block *b = s->buckets[i], *next; b; b = next) {
			next = b->hnext;
			block_free(b);
		}
}

/* --- file data --- */

/* Fragment table entry IDX, read once for all handles. */
static int frag_entry(struct launch_sqfs *s, sqfs *fs, uint32_t idx, struct squashfs_fragment_entry *out)
{
	if (idx >= s->n_frags)
		return -1;
	pthread_mutex_lock(&s->frag_lock);
	bool known = s->frag_known[idx];
	*out = s->frags[idx];
	pthread_mutex_unlock(&s->frag_lock);
	if (known)
		return 0;
	if (sqfs_frag_entry(fs, out, idx) != SQFS_OK)
		return -1;
	pthread_mutex_lock(&s->frag_lock);
	s->frags[idx] = *out;
	s->frag_known[idx] = true;
	pthread_mutex_unlock(&s->frag_lock);
	return 0;
}

/* The blocks that hold LEN bytes of the regular file INO from OFF, pinned,
 * as IOV (at most MAX entries; PINS[i] is IOV[i]'s block, NULL for zeros).
 * The block list is walked from the block index squashfuse keeps per handle
 * for large files, so a read costs the same wherever it starts in the file.
 * The count, or -1 on an I/O error (nothing left pinned). */
static int file_range(struct launch_sqfs *s, struct handle *h, sqfs_inode *ino, uint64_t off, size_t len,
		      struct iovec *iov, struct block **pins, int max)
{
	uint64_t bs = s->block_size;
	uint64_t end = ino->xtra.reg.file_size;
	if (off >= end)
		return 0;
	if (len < end - off)
		end = off + len;
	sqfs_blocklist bl;
	if (sqfs_blockidx_blocklist(&h->fs, ino, &bl, (sqfs_off_t)off) != SQFS_OK)
		return -1;
	int n = 0;
	for (uint64_t cur = off; cur < end && n < max;) {
		struct block *b = NULL;
		uint64_t at;
		size_t want;
		if (bl.remain == 0) { /* the tail, in a fragment block */
			struct squashfs_fragment_entry frag;
			if (ino->xtra.reg.frag_idx == SQUASHFS_INVALID_FRAG ||
			    frag_entry(s, &h->fs, ino->xtra.reg.frag_idx, &frag) < 0 ||
			    !(b = block_get(s, h, frag.start_block, frag.size)))
				goto fail;
			at = ino->xtra.reg.frag_off + cur % bs;
			want = (size_t)(end - cur);
		} else {
			if (sqfs_blocklist_next(&bl) != SQFS_OK)
				goto fail;
			if (bl.pos + bs <= cur)
				continue;
			at = cur - bl.pos;
			want = (size_t)((bl.pos + bs < end ? bl.pos + bs : end) - cur);
			if (bl.input_size && !(b = block_get(s, h, bl.block, bl.header)))
				goto fail;
		}
		if (b && at + want > b->size) {
			unpin(s, b);
			goto fail;
		}
		iov[n].iov_base = b ? (char *)b->data + at : s->zeros; /* no block: a hole */
		iov[n].iov_len = want;
		pins[n++] = b;
		cur += want;
	}
	return n;
fail:
	while (n--)
		unpin(s, pins[n]);
	return -1;
}

/* --- inodes --- */

static struct launch_sqfs *req_sqfs(fuse_req_t r)
{
	return fuse_req_userdata(r);
}

static sqfs_inode_id ino_ref(struct launch_sqfs *s, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? s->root : (sqfs_inode_id)(ino - 2);
}

static fuse_ino_t ref_ino(struct launch_sqfs *s, sqfs_inode_id ref)
{
	return ref == s->root ? FUSE_ROOT_ID : (fuse_ino_t)ref + 2;
}

/* squashfuse's sqfs_stat lives in a header it does not install: the stat
 * of an inode, written from its fields. */
static int inode_stat(struct launch_sqfs *s, const sqfs_inode *ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino->base.inode_number;
	st->st_mode = ino->base.mode;
	st->st_nlink = (nlink_t)ino->nlink;
	st->st_mtime = st->st_ctime = st->st_atime = ino->base.mtime;
	st->st_blksize = s->block_size;
	if (S_ISREG(st->st_mode))
		st->st_size = (off_t)ino->xtra.reg.file_size;
	else if (S_ISDIR(st->st_mode))
		st->st_size = ino->xtra.dir.dir_size;
	else if (S_ISLNK(st->st_mode))
		st->st_size = (off_t)ino->xtra.symlink_size;
	else if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode))
		st->st_rdev = makedev((unsigned)ino->xtra.dev.major, (unsigned)ino->xtra.dev.minor);
	st->st_blocks = (st->st_size + 511) / 512;
	if (s->all_root)
		return 0;
	if (ino->base.uid >= s->n_ids || ino->base.guid >= s->n_ids)
		return -1;
	st->st_uid = s->ids[ino->base.uid];
	st->st_gid = s->ids[ino->base.guid];
	return 0;
}

/* The inode INO with a handle to read it: 0, or an errno replied. */
static int req_inode(fuse_req_t r, fuse_ino_t ino, struct handle **h, sqfs_inode *out)
{
	struct launch_sqfs *s = req_sqfs(r);
	*h = handle_get(s);
	int e = !*h ? ENOMEM : sqfs_inode_get(&(*h)->fs, out, ino_ref(s, ino)) != SQFS_OK ? ENOENT : 0;
	if (e) {
		handle_put(s, *h);
		*h = NULL;
		fuse_reply_err(r, e);
	}
	return e;
}

/* --- the FUSE operations --- */

static void op_init(void *data, struct fuse_conn_info *conn)
{
	struct launch_sqfs *s = data;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
		s->no_open = true;
	}
	if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
		s->no_opendir = true;
	}
	/* The kernel only lowers this from its own default (its block
	 * device readahead, 128 KiB unless raised in sysfs). */
	conn->max_readahead = MAX_READ;
}

static void op_lookup(fuse_req_t r, fuse_ino_t parent, const char *name)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode dir, ino;
	if (req_inode(r, parent, &h, &dir))
		return;
	sqfs_name namebuf;
	sqfs_dir_entry entry;
	sqfs_dentry_init(&entry, namebuf);
	bool found = false;
	struct fuse_entry_param e = { .attr_timeout = FOREVER, .entry_timeout = FOREVER };
	int err = 0;
	if (!S_ISDIR(dir.base.mode))
		err = ENOTDIR;
	else if (sqfs_dir_lookup(&h->fs, &dir, name, strlen(name), &entry, &found) != SQFS_OK)
		err = EIO;
	else if (!found)
		; /* a negative entry (ino 0) that the kernel keeps too */
	else if (sqfs_inode_get(&h->fs, &ino, sqfs_dentry_inode(&entry)) != SQFS_OK || inode_stat(s, &ino, &e.attr) < 0)
		err = EIO;
	else
		e.ino = ref_ino(s, sqfs_dentry_inode(&entry));
	handle_put(s, h);
	if (err)
		fuse_reply_err(r, err);
	else
		fuse_reply_entry(r, &e);
}

static void op_forget(fuse_req_t r, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(r); /* inode numbers are positions in the image */
}

static void op_forget_multi(fuse_req_t r, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(r);
}

static void op_getattr(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi)
{
	(void)fi;
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	struct stat st;
	if (req_inode(r, i, &h, &ino))
		return;
	int e = inode_stat(s, &ino, &st);
	handle_put(s, h);
	if (e < 0)
		fuse_reply_err(r, EIO);
	else
		fuse_reply_attr(r, &st, FOREVER);
}

static void op_readlink(fuse_req_t r, fuse_ino_t i)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	if (req_inode(r, i, &h, &ino))
		return;
	size_t size = 0;
	_cleanup_free_ char *target = NULL;
	int e = 0;
	if (!S_ISLNK(ino.base.mode))
		e = EINVAL;
	else if (sqfs_readlink(&h->fs, &ino, NULL, &size) != SQFS_OK ||
		 sqfs_readlink(&h->fs, &ino, target = xmalloc(size), &size) != SQFS_OK)
		e = EIO;
	handle_put(s, h);
	if (e)
		fuse_reply_err(r, e);
	else
		fuse_reply_readlink(r, target);
}

/* Opening is a round trip per file that an immutable image does not need:
 * where the kernel can do without (FUSE_CAP_NO_OPEN_SUPPORT, Linux 4.20),
 * the first open answers ENOSYS and the kernel opens every file from then
 * on by itself, keeping its page cache (as FOPEN_KEEP_CACHE), and sends
 * no release either. Reads and readdirs find the inode from its number.
 * Otherwise: the same checks for a file or a directory (DIR). */
static void open_common(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi, bool dir)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	if (dir ? s->no_opendir : s->no_open) {
		fuse_reply_err(r, ENOSYS);
		return;
	}
	if (!dir && (fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(r, EROFS);
		return;
	}
	if (req_inode(r, i, &h, &ino))
		return;
	handle_put(s, h);
	if (dir ? !S_ISDIR(ino.base.mode) : !S_ISREG(ino.base.mode)) {
		fuse_reply_err(r, dir ? ENOTDIR : EISDIR);
		return;
	}
	fi->keep_cache = 1; /* the page cache stays valid from one open to the next */
	if (dir)
		fi->cache_readdir = 1; /* and so does the listing */
	else
		fi->noflush = 1;
	fuse_reply_open(r, fi);
}

static void op_open(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi)
{
	open_common(r, i, fi, false);
}

static void op_read(fuse_req_t r, fuse_ino_t i, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	if (req_inode(r, i, &h, &ino))
		return;
	int max = (int)(size / s->block_size) + 2;
	_cleanup_free_ struct iovec *iov = xmalloc((size_t)max * sizeof(*iov));
	_cleanup_free_ struct block **pins = xmalloc((size_t)max * sizeof(*pins));
	int n = !S_ISREG(ino.base.mode) || off < 0 ? -1 : file_range(s, h, &ino, (uint64_t)off, size, iov, pins, max);
	handle_put(s, h);
	if (n < 0) {
		fuse_reply_err(r, EIO);
		return;
	}
	fuse_reply_iov(r, iov, n);
	while (n--)
		unpin(s, pins[n]);
}

static void op_release(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi)
{
	(void)i;
	(void)fi;
	fuse_reply_err(r, 0);
}

static void op_opendir(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi)
{
	open_common(r, i, fi, true);
}

/* readdir and readdirplus: entries from the directory offset OFF (the
 * next_offset of the last entry sent, 0 at first). */
static void readdir_common(fuse_req_t r, fuse_ino_t i, size_t size, off_t off, bool plus)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode dir;
	if (req_inode(r, i, &h, &dir))
		return;
	sqfs_dir d;
	if (!S_ISDIR(dir.base.mode) || sqfs_dir_open(&h->fs, &dir, &d, off) != SQFS_OK) {
		handle_put(s, h);
		fuse_reply_err(r, S_ISDIR(dir.base.mode) ? EINVAL : ENOTDIR);
		return;
	}
	_cleanup_free_ char *buf = xmalloc(size);
	size_t used = 0;
	sqfs_name name;
	sqfs_dir_entry entry;
	sqfs_dentry_init(&entry, name);
	sqfs_err e = SQFS_OK;
	bool bad = false;
	while (sqfs_dir_next(&h->fs, &d, &entry, &e)) {
		size_t n;
		off_t next = sqfs_dentry_next_offset(&entry);
		if (plus) {
			struct fuse_entry_param ep = { .attr_timeout = FOREVER, .entry_timeout = FOREVER };
			sqfs_inode ino;
			if (sqfs_inode_get(&h->fs, &ino, sqfs_dentry_inode(&entry)) != SQFS_OK ||
			    inode_stat(s, &ino, &ep.attr) < 0) {
				bad = true;
				break;
			}
			ep.ino = ref_ino(s, sqfs_dentry_inode(&entry));
			n = fuse_add_direntry_plus(r, buf + used, size - used, sqfs_dentry_name(&entry), &ep, next);
		} else {
			struct stat st = { .st_ino = sqfs_dentry_inode_num(&entry),
					   .st_mode = sqfs_dentry_mode(&entry) };
			n = fuse_add_direntry(r, buf + used, size - used, sqfs_dentry_name(&entry), &st, next);
		}
		if (n > size - used)
			break;
		used += n;
	}
	handle_put(s, h);
	if ((e != SQFS_OK || bad) && !used)
		fuse_reply_err(r, EIO);
	else
		fuse_reply_buf(r, buf, used);
}

static void op_readdir(fuse_req_t r, fuse_ino_t i, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(r, i, size, off, false);
}

static void op_readdirplus(fuse_req_t r, fuse_ino_t i, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(r, i, size, off, true);
}

static void op_releasedir(fuse_req_t r, fuse_ino_t i, struct fuse_file_info *fi)
{
	(void)i;
	(void)fi;
	fuse_reply_err(r, 0);
}

static void op_statfs(fuse_req_t r, fuse_ino_t i)
{
	(void)i;
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h = handle_get(s);
	if (!h) {
		fuse_reply_err(r, ENOMEM);
		return;
	}
	struct statvfs st = {
		.f_bsize = s->block_size,
		.f_frsize = s->block_size,
		.f_blocks = (h->fs.sb.bytes_used + s->block_size - 1) / s->block_size,
		.f_files = h->fs.sb.inodes,
		.f_namemax = SQUASHFS_NAME_LEN,
	};
	handle_put(s, h);
	fuse_reply_statfs(r, &st);
}

/* getxattr's and listxattr's answer: LEN bytes of DATA, or only LEN when
 * the caller asks for the size (SIZE 0), ERANGE when SIZE is too small. */
static void reply_xattr(fuse_req_t r, size_t size, const char *data, size_t len)
{
	if (size == 0)
		fuse_reply_xattr(r, len);
	else if (size < len)
		fuse_reply_err(r, ERANGE);
	else
		fuse_reply_buf(r, data, len);
}

static void op_getxattr(fuse_req_t r, fuse_ino_t i, const char *name, size_t size)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	if (req_inode(r, i, &h, &ino))
		return;
	_cleanup_free_ char *buf = xmalloc(size ? size : 1);
	size_t real = size;
	sqfs_err e = ino.xattr == SQUASHFS_INVALID_XATTR ? (real = 0, SQFS_OK)
							 : sqfs_xattr_lookup(&h->fs, &ino, name, buf, &real);
	handle_put(s, h);
	if (e != SQFS_OK)
		fuse_reply_err(r, EIO);
	else if (real == 0)
		fuse_reply_err(r, ENODATA);
	else
		reply_xattr(r, size, buf, real);
}

/* The names of INO's xattrs, each NUL-terminated, in *LIST. */
static int xattr_names(sqfs *fs, sqfs_inode *ino, char **list, size_t *len)
{
	*list = NULL;
	*len = 0;
	if (ino->xattr == SQUASHFS_INVALID_XATTR)
		return 0;
	sqfs_xattr x;
	if (sqfs_xattr_open(fs, ino, &x) != SQFS_OK)
		return -1;
	while (x.remain) {
		if (sqfs_xattr_read(&x) != SQFS_OK)
			return -1;
		size_t n = sqfs_xattr_name_size(&x);
		*list = xrealloc(*list, *len + n + 1);
		if (sqfs_xattr_name(&x, *list + *len, true) != SQFS_OK)
			return -1;
		(*list)[*len + n] = '\0';
		*len += n + 1;
	}
	return 0;
}

static void op_listxattr(fuse_req_t r, fuse_ino_t i, size_t size)
{
	struct launch_sqfs *s = req_sqfs(r);
	struct handle *h;
	sqfs_inode ino;
	if (req_inode(r, i, &h, &ino))
		return;
	_cleanup_free_ char *list = NULL;
	size_t len;
	int e = xattr_names(&h->fs, &ino, &list, &len);
	handle_put(s, h);
	if (e < 0)
		fuse_reply_err(r, EIO);
	else
		reply_xattr(r, size, list, len);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

/* --- opening, mounting, serving --- */

int launch_sqfs_open(const char *image, uint64_t offset, int threads, struct launch_sqfs **out,
		     struct launch_error **err)
{
	_cleanup_close_ int fd = launch_sqfs_open_file(image, offset, err);
	if (fd < 0)
		return -1;
	struct launch_sqfs *s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->offset = offset;
	struct handle *h = handle_new(s);
	if (!h) {
		free(s);
		return launch_error_msg(err, "cannot read squashfs image %s (damaged, or an unsupported compression)",
					image);
	}
	s->fd = steal_fd(&fd);
	s->image = xstrdup(image);
	s->threads = threads > 0 ? threads : 8;
	s->block_size = h->fs.sb.block_size;
	s->root = sqfs_inode_root(&h->fs);
	s->zlib = sqfs_compression(&h->fs) == ZLIB_COMPRESSION;
	s->zeros = xcalloc(1, s->block_size);
	s->n_ids = h->fs.sb.no_ids;
	s->ids = xcalloc(s->n_ids + 1, sizeof(*s->ids));
	for (unsigned i = 0; i < s->n_ids; i++)
		if (sqfs_id_get(&h->fs, (uint16_t)i, &s->ids[i]) != SQFS_OK) {
			handle_free(h);
			close(s->fd);
			free(s->ids);
			free(s->zeros);
			free(s->image);
			free(s);
			return launch_error_msg(err, "cannot read the id table of squashfs image %s (damaged?)", image);
		}
	s->n_frags = h->fs.sb.fragments;
	s->frags = xcalloc(s->n_frags + 1, sizeof(*s->frags));
	s->frag_known = xcalloc(s->n_frags + 1, sizeof(*s->frag_known));
	pthread_mutex_init(&s->frag_lock, NULL);
	/* a handle for each worker and one for the prefetch thread */
	s->max_handles = (unsigned)s->threads + 1;
	s->n_handles = 1;
	s->free_handles = s->all_handles = h;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	pthread_cond_init(&s->cache_cond, NULL);
	s->lru.next = s->lru.prev = &s->lru;
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
		"default_permissions,max_read=%u",
		s->fuse_fd, getuid(), getgid(), MAX_READ);
	if (mount(s->image, mountpoint, "fuse.squashfuse", MS_NOSUID | MS_NODEV | MS_RDONLY, opts) < 0)
		return launch_error_set(err, errno, "cannot mount image %s with FUSE", s->image);
	s->mountpoint = xstrdup(mountpoint);
	char *argv[] = { (char *)"launch", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	s->se = fuse_session_new(&args, &ops, sizeof(ops), s);
	fuse_opt_free_args(&args); /* what its option parsing allocated */
	if (!s->se)
		return launch_error_msg(err, "cannot start the FUSE session for %s", s->image);
	char devfd[32];
	snprintf(devfd, sizeof(devfd), "/dev/fd/%d", s->fuse_fd);
	if (fuse_session_mount(s->se, devfd) != 0)
		return launch_error_msg(err, "cannot attach the FUSE session for %s", s->image);
	return 0;
}

static void *loop_main(void *arg)
{
	struct launch_sqfs *s = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (!cfg)
		return NULL;
	unsigned max = (unsigned)s->threads;
	fuse_loop_cfg_set_max_threads(cfg, max);
	fuse_loop_cfg_set_idle_threads(cfg, max < IDLE_WORKERS ? max : IDLE_WORKERS);
	int r = fuse_session_loop_mt(s->se, cfg);
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

/* The ELF interpreter (PT_INTERP) named in the first LEN bytes of a file
 * at HEAD, into INTERP; "" when there is none. */
static void elf_interp(const char *head, size_t len, char *interp, size_t isize)
{
	interp[0] = '\0';
	if (len < sizeof(Elf64_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0)
		return;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)head;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		uint64_t at = eh->e_phoff + (uint64_t)i * eh->e_phentsize;
		if (at + sizeof(Elf64_Phdr) > len)
			break;
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(head + at);
		if (ph->p_type == PT_INTERP && ph->p_offset + ph->p_filesz <= len && ph->p_filesz < isize) {
			memcpy(interp, head + ph->p_offset, ph->p_filesz);
			interp[ph->p_filesz] = '\0';
		}
	}
}

/* Decompress up to PREFETCH_MAX bytes of INO into the shared cache; its ELF
 * interpreter, when it has one, into INTERP. */
static void prefetch_file(struct launch_sqfs *s, struct handle *h, sqfs_inode *ino, char *interp, size_t isize)
{
	interp[0] = '\0';
	uint64_t size = ino->xtra.reg.file_size;
	for (uint64_t off = 0; off < size && off < PREFETCH_MAX; off += s->block_size) {
		struct iovec iov;
		struct block *pin;
		if (file_range(s, h, ino, off, s->block_size, &iov, &pin, 1) != 1)
			break;
		if (off == 0)
			elf_interp(iov.iov_base, iov.iov_len, interp, isize);
		unpin(s, pin);
	}
}

static void *prefetch_main(void *arg)
{
	struct launch_sqfs *s = arg;
	/* idle work: the workers answering the container come first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	struct handle *h = handle_get(s);
	if (!h)
		return NULL;
	sqfs *fs = &h->fs;
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
		prefetch_file(s, h, &ino, interp, sizeof(interp));
		char dummy[8];
		if (interp[0] && image_lookup(fs, interp, &ino))
			prefetch_file(s, h, &ino, dummy, sizeof(dummy));
	}
	handle_put(s, h);
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

static void log_counts(struct launch_sqfs *s)
{
	pthread_mutex_lock(&s->pool_lock);
	unsigned handles = s->n_handles;
	pthread_mutex_unlock(&s->pool_lock);
	pthread_mutex_lock(&s->cache_lock);
	uint64_t hits = s->hits, waits = s->waits, misses = s->misses;
	pthread_mutex_unlock(&s->cache_lock);
	launch_debug("squashfs %s: %llu block hits (%llu waited for a load), %llu decompressed, %u handles", s->image,
		     (unsigned long long)hits, (unsigned long long)waits, (unsigned long long)misses, handles);
}

void launch_sqfs_abandon(struct launch_sqfs *s)
{
	if (s)
		log_counts(s);
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
	log_counts(s);
	for (struct handle *h = s->all_handles, *next; h; h = next) {
		next = h->next_all;
		handle_free(h);
	}
	cache_clear(s);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->cache_lock);
	pthread_cond_destroy(&s->cache_cond);
	pthread_mutex_destroy(&s->frag_lock);
	free(s->ids);
	free(s->frags);
	free(s->frag_known);
	close(s->fd);
	free(s->zeros);
	free(s->mountpoint);
	free(s->image);
	free(s);
}

/* --- files inside an image, without a mount --- */

const struct launch_image_files launch_sqfs_files = { launch_sqfs_read_file, launch_sqfs_list_dir };

/* A squashfs instance of IMAGE at OFFSET of its own, quietly: squashfuse's
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
	fs_destroy(&fs);
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
	fs_destroy(&fs);
	return ret;
}
