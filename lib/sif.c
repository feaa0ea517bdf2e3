/* SPDX-License-Identifier: Apache-2.0 */
/* SIF files (see sif.h): the header and descriptors read with explicit
 * little-endian decoding at the offsets of the specification (no struct
 * overlay: the on-disk layout is packed), every offset and size checked
 * against the file, and the environment scripts of an Apptainer image
 * parsed for their simple assignments. */
#define _GNU_SOURCE
#include "sif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAGIC "SIF_MAGIC" /* and a NUL: 10 bytes */
#define MAX_DESCRIPTORS 4096
#define MAX_TEXT (1u << 20)    /* a definition file or labels: small */
#define SQUASHFS_SUPER_SIZE 96 /* a squashfs superblock: the least a partition holds */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

bool launch_sif_is(int fd)
{
	char magic[10];
	return pread(fd, magic, sizeof(magic), 32) == (ssize_t)sizeof(magic) && !memcmp(magic, MAGIC, 10);
}

const char *launch_sif_arch_name(const char *arch)
{
	static const char *const names[] = { NULL,	"386",	"amd64",  "arm",    "arm64",	"ppc64",
					     "ppc64le", "mips", "mipsle", "mips64", "mips64le", "s390x" };
	char *end;
	long n = strtol(arch, &end, 10);
	return *arch && !*end && n > 0 && n < (long)ARRAY_SIZE(names) ? names[n] : NULL;
}

void launch_sif_clear(struct launch_sif *s)
{
	free(s->labels);
	free(s->deffile);
	memset(s, 0, sizeof(*s));
}

static int read_at(int fd, void *buf, size_t n, uint64_t off, const char *path, struct launch_error **err)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return launch_error_set(err, errno, "cannot read SIF file %s", path);
		if (r == 0)
			return launch_error_msg(err, "SIF file %s is truncated (it ends at byte %llu)", path,
						(unsigned long long)(off + done));
		done += (size_t)r;
	}
	return 0;
}

/* The text object at [OFF, OFF + SIZE) (a definition file, labels). */
static char *read_text(int fd, uint64_t off, uint64_t size, const char *path, struct launch_error **err)
{
	if (size > MAX_TEXT) {
		launch_error_msg(err, "SIF file %s: a metadata object of %llu bytes is too large", path,
				 (unsigned long long)size);
		return NULL;
	}
	char *t = xmalloc((size_t)size + 1);
	if (read_at(fd, t, (size_t)size, off, path, err) < 0) {
		free(t);
		return NULL;
	}
	t[size] = '\0';
	return t;
}

static const char *fs_name(uint32_t fs)
{
	switch (fs) {
	case LAUNCH_SIF_FS_SQUASHFS:
		return "squashfs";
	case LAUNCH_SIF_FS_EXT3:
		return "ext3";
	case LAUNCH_SIF_FS_IMMUTABLE:
		return "an immutable object archive";
	case LAUNCH_SIF_FS_RAW:
		return "raw data";
	case LAUNCH_SIF_FS_ENCRYPTED_SQUASHFS:
		return "encrypted squashfs";
	default:
		return "of an unknown type";
	}
}

/* The primary partition D (its extra at X): a squashfs, checked. */
static int primary(int fd, const char *path, const unsigned char *x, uint64_t off, uint64_t size, bool crypto,
		   struct launch_sif *out, struct launch_error **err)
{
	uint32_t fs = le32(x);
	if (fs == LAUNCH_SIF_FS_ENCRYPTED_SQUASHFS || crypto)
		return launch_error_msg(err,
					"SIF file %s is encrypted: launch cannot run encrypted images (run it with "
					"apptainer and its key, or ask for an unencrypted build of the image)",
					path);
	if (fs != LAUNCH_SIF_FS_SQUASHFS)
		return launch_error_msg(err,
					"SIF file %s: its primary partition is %s, not squashfs: launch runs squashfs "
					"partitions only (rebuild it: 'apptainer build new.sif %s')",
					path, fs_name(fs), path);
	char magic[4];
	if (size < SQUASHFS_SUPER_SIZE)
		return launch_error_msg(err,
					"SIF file %s: its primary partition (%llu bytes) is too small for a squashfs "
					"file system (the file is damaged)",
					path, (unsigned long long)size);
	if (read_at(fd, magic, 4, off, path, err) < 0)
		return -1;
	if (memcmp(magic, "hsqs", 4) != 0)
		return launch_error_msg(err,
					"SIF file %s: its primary partition (at byte %llu) holds no squashfs file "
					"system (the file is damaged)",
					path, (unsigned long long)off);
	out->offset = off;
	out->size = size;
	memcpy(out->arch, x + 8, 3);
	out->arch[3] = '\0';
	return 0;
}

int launch_sif_read(int fd, const char *path, struct launch_sif *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return launch_error_set(err, errno, "cannot read SIF file %s", path);
	uint64_t file_size = (uint64_t)st.st_size;
	unsigned char h[LAUNCH_SIF_HEADER_SIZE];
	if (read_at(fd, h, sizeof(h), 0, path, err) < 0)
		return -1;
	if (memcmp(h + 32, MAGIC, 10) != 0)
		return launch_error_msg(err, "%s is not a SIF file (no SIF_MAGIC at byte 32)", path);
	if (memcmp(h + 42, "01", 3) != 0) {
		char v[4] = { 0 };
		memcpy(v, h + 42, 3);
		for (int i = 0; i < 3; i++)
			if (v[i] && (v[i] < ' ' || v[i] > '~'))
				v[i] = '?';
		return launch_error_msg(err,
					"SIF file %s has format version \"%s\": launch reads version 01, which "
					"Apptainer and SingularityCE 3.x and later write (convert it with "
					"'apptainer build new.sif %s')",
					path, v, path);
	}
	out->created = le64(h + 64);
	int64_t total = le64(h + 88), doff = le64(h + 96), dsize = le64(h + 104);
	if (total < 0 || total > MAX_DESCRIPTORS || doff < LAUNCH_SIF_HEADER_SIZE ||
	    dsize < total * LAUNCH_SIF_DESCRIPTOR_SIZE || (uint64_t)doff + (uint64_t)dsize > file_size)
		return launch_error_msg(err,
					"SIF file %s is damaged: its descriptor table (%lld descriptors at byte %lld, "
					"%lld bytes) does not fit in the file",
					path, (long long)total, (long long)doff, (long long)dsize);
	size_t n = (size_t)total * LAUNCH_SIF_DESCRIPTOR_SIZE;
	_cleanup_free_ unsigned char *d = xmalloc(n ? n : 1);
	if (read_at(fd, d, n, (uint64_t)doff, path, err) < 0)
		return -1;
	/* a first pass for what decides about the primary partition */
	bool crypto = false;
	const unsigned char *prim = NULL;
	for (int64_t i = 0; i < total; i++) {
		const unsigned char *e = d + i * LAUNCH_SIF_DESCRIPTOR_SIZE;
		if (!e[4])
			continue; /* unused */
		uint32_t type = le32(e);
		int64_t off = le64(e + 17), size = le64(e + 25);
		if (off < 0 || size < 0 || (uint64_t)off > file_size || (uint64_t)size > file_size - (uint64_t)off) {
			launch_error_msg(err,
					 "SIF file %s is damaged: object %u (%lld bytes at byte %lld) lies outside the "
					 "file (is it truncated?)",
					 path, le32(e + 5), (long long)size, (long long)off);
			goto fail;
		}
		switch (type) {
		case LAUNCH_SIF_PARTITION:
			out->partitions++;
			if (le32(e + 201 + 4) == LAUNCH_SIF_PART_PRIMARY && !prim)
				prim = e;
			break;
		case LAUNCH_SIF_SIGNATURE:
			out->signed_ = true;
			break;
		case LAUNCH_SIF_CRYPTO_MESSAGE:
			crypto = true;
			break;
		case LAUNCH_SIF_LABELS:
			if (!out->labels && !(out->labels = read_text(fd, (uint64_t)off, (uint64_t)size, path, err)))
				goto fail;
			break;
		case LAUNCH_SIF_DEFFILE:
			if (!out->deffile && !(out->deffile = read_text(fd, (uint64_t)off, (uint64_t)size, path, err)))
				goto fail;
			break;
		default:
			break;
		}
	}
	if (!prim) {
		launch_error_msg(err,
				 "SIF file %s has no primary system partition (%zu partition(s), none marked "
				 "primary): there is no root file system to run",
				 path, out->partitions);
		goto fail;
	}
	if (primary(fd, path, prim + 201, (uint64_t)le64(prim + 17), (uint64_t)le64(prim + 25), crypto, out, err) < 0)
		goto fail;
	return 0;
fail:
	launch_sif_clear(out);
	return -1;
}

/* --- environment scripts --- */

static const char *lookup(char **env, const char *name, size_t len)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

static void append(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static bool name_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Expand one $NAME, ${NAME}, ${NAME:-WORD} or ${NAME-WORD} at *P (just
 * after the $); false when it is something else (a command substitution,
 * $1, $@...), which the parser does not take. */
static bool expand(const char **p, char **env, char **buf, size_t *len)
{
	const char *s = *p;
	if (*s == '{') {
		s++;
		const char *name = s;
		while (name_char(*s, s == name))
			s++;
		size_t n = (size_t)(s - name);
		if (!n)
			return false;
		const char *val = lookup(env, name, n);
		if (*s == '}') {
			if (val)
				append(buf, len, val, strlen(val));
			*p = s + 1;
			return true;
		}
		bool colon = *s == ':';
		if (colon)
			s++;
		if (*s != '-')
			return false;
		s++;
		/* the default: up to the matching }, quotes stripped */
		const char *end = strchr(s, '}');
		if (!end)
			return false;
		if (!val || (colon && !*val)) {
			for (const char *q = s; q < end; q++)
				if (*q != '"' && *q != '\'')
					append(buf, len, q, 1);
		} else {
			append(buf, len, val, strlen(val));
		}
		*p = end + 1;
		return true;
	}
	const char *name = s;
	while (name_char(*s, s == name))
		s++;
	size_t n = (size_t)(s - name);
	if (!n)
		return false;
	const char *val = lookup(env, name, n);
	if (val)
		append(buf, len, val, strlen(val));
	*p = s;
	return true;
}

/* The value at P (to the end of the line or a ; or a blank outside
 * quotes); NULL when it uses shell the parser does not take. */
static char *value(const char *p, char **env)
{
	char *buf = xstrdup("");
	size_t len = 0;
	while (*p && *p != ';' && *p != ' ' && *p != '\t' && *p != '#') {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end)
				goto bad;
			append(&buf, &len, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1])) {
					append(&buf, &len, p + 1, 1);
					p += 2;
				} else if (*p == '$') {
					p++;
					if (!expand(&p, env, &buf, &len))
						goto bad;
				} else if (*p == '`') {
					goto bad;
				} else {
					append(&buf, &len, p++, 1);
				}
			}
			if (*p != '"')
				goto bad;
			p++;
		} else if (*p == '$') {
			p++;
			if (!expand(&p, env, &buf, &len))
				goto bad;
		} else if (*p == '\\' && p[1]) {
			append(&buf, &len, p + 1, 1);
			p += 2;
		} else if (strchr("`|&<>()", *p)) {
			goto bad;
		} else {
			append(&buf, &len, p++, 1);
		}
	}
	while (*p == ' ' || *p == '\t' || *p == ';')
		p++;
	if (*p && *p != '#')
		goto bad; /* NAME=VALUE followed by a command */
	return buf;
bad:
	free(buf);
	return NULL;
}

static void set_var(char ***env, const char *name, size_t n, char *val)
{
	char *kv = xasprintf("%.*s=%s", (int)n, name, val);
	for (size_t i = 0; *env && (*env)[i]; i++)
		if (!strncmp((*env)[i], name, n) && (*env)[i][n] == '=') {
			free((*env)[i]);
			(*env)[i] = kv;
			return;
		}
	launch_strv_push(env, kv);
}

static bool word(const char *p, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(p, w, n) && (!p[n] || p[n] == ' ' || p[n] == '\t' || p[n] == ';');
}

/* How a line changes the nesting of shell blocks: +1 opens one (if, case,
 * for, while, until, a function or a { group), -1 closes one. */
static int block_change(const char *p)
{
	if (word(p, "fi") || word(p, "esac") || word(p, "done") || word(p, "}"))
		return -1;
	if (word(p, "if") || word(p, "case") || word(p, "for") || word(p, "while") || word(p, "until"))
		return strstr(p, "; fi") || strstr(p, ";fi") || strstr(p, "done") || strstr(p, "esac") ? 0 : 1;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n && p[n - 1] == '{')
		return 1;
	return 0;
}

void launch_sif_env_parse(const char *text, char ***env, size_t *skipped)
{
	if (!*env)
		*env = xcalloc(1, sizeof(char *));
	*skipped = 0;
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	int depth = 0; /* inside an if, case, loop or function: not taken */
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || !strcmp(p, ":") || !strncmp(p, "set -a", 6) || !strncmp(p, "set +a", 6))
			continue;
		int change = block_change(p);
		if (change || depth > 0) {
			depth += change;
			if (depth < 0)
				depth = 0;
			(*skipped)++;
			continue;
		}
		bool exported = !strncmp(p, "export ", 7) || !strncmp(p, "export\t", 7);
		if (exported) {
			p += 7;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		const char *name = p;
		while (name_char(*p, p == name))
			p++;
		size_t n = (size_t)(p - name);
		if (n && *p != '=') {
			/* `export NAME [NAME...]`: variables set before, nothing new */
			bool names_only = exported;
			for (const char *q = p; *q && names_only && *q != '#'; q++)
				names_only = name_char(*q, false) || *q == ' ' || *q == '\t';
			if (!names_only)
				(*skipped)++;
			continue;
		}
		if (!n) {
			(*skipped)++;
			continue;
		}
		char *val = value(p + 1, *env);
		if (!val) {
			(*skipped)++;
			continue;
		}
		set_var(env, name, n, val);
		free(val);
	}
}
