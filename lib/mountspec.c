/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of mount specifications (see mountspec.h). The parser only checks
 * syntax, normalises paths and resolves the flags into struct launch_mount;
 * whether a source exists, a destination may be used or a site allows it is
 * decided when the container is built (rootfs.c).
 *
 * The short form takes what pyxis users write in --container-mounts:
 * SRC:DST:FLAGS with FLAGS joined by `+` (`ro+rprivate`), SRC `tmpfs` and
 * `umount`. Unlike mount(8), where a later option overrides an earlier one,
 * two flags that contradict each other (ro+rw) are an error: a spec that
 * says two things is more likely a mistake than a wish. The flags that
 * would give a mount more than its source has (suid, dev, exec) are not
 * offered at all. */
#define _GNU_SOURCE
#include "mountspec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Each flag sets one property (a group) to a value; a second flag of the
 * same group with another value is a contradiction. */
enum group { G_RO, G_REC, G_PROP, G_NOSUID, G_NODEV, G_NOEXEC, G_CREATE, G_MODE, G_SIZE, G_COUNT };

static const struct flag {
	const char *name;
	enum group group;
	int value;
} flags[] = {
	{ "ro", G_RO, 1 },
	{ "rw", G_RO, 0 },
	{ "bind", G_REC, 0 },
	{ "rbind", G_REC, 1 },
	{ "private", G_PROP, LAUNCH_PROPAGATION_PRIVATE },
	{ "rprivate", G_PROP, LAUNCH_PROPAGATION_RPRIVATE },
	{ "slave", G_PROP, LAUNCH_PROPAGATION_SLAVE },
	{ "rslave", G_PROP, LAUNCH_PROPAGATION_RSLAVE },
	{ "shared", G_PROP, LAUNCH_PROPAGATION_SHARED },
	{ "rshared", G_PROP, LAUNCH_PROPAGATION_RSHARED },
	{ "unbindable", G_PROP, LAUNCH_PROPAGATION_UNBINDABLE },
	{ "runbindable", G_PROP, LAUNCH_PROPAGATION_RUNBINDABLE },
	{ "nosuid", G_NOSUID, 1 },
	{ "nodev", G_NODEV, 1 },
	{ "noexec", G_NOEXEC, 1 },
	{ "x-create=dir", G_CREATE, LAUNCH_CREATE_DIR },
	{ "x-create=file", G_CREATE, LAUNCH_CREATE_FILE },
	{ "x-create=auto", G_CREATE, LAUNCH_CREATE_AUTO },
};

#define VALID_FLAGS                                                                                   \
	"valid flags, joined by `+`: ro, rw, bind, rbind, private, rprivate, slave, rslave, shared, " \
	"rshared, unbindable, runbindable, nosuid, nodev, noexec, x-create=dir|file|auto, and for "   \
	"tmpfs mode=OCTAL, size=SIZE"

/* The flags of one spec as they were given. */
struct seen {
	const char *by[G_COUNT]; /* the flag (or key) that set the group, NULL: not given */
	int value[G_COUNT];
	unsigned mode;
	char *size;
};

static const char *flag_name(enum group g, int value)
{
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (flags[i].group == g && flags[i].value == value)
			return flags[i].name;
	return "?";
}

static int set_group(const char *spec, struct seen *s, enum group g, int value, const char *by,
		     struct launch_error **err)
{
	if (s->by[g] && s->value[g] != value)
		return launch_error_msg(err, "invalid mount `%s`: `%s` contradicts `%s`", spec, by, s->by[g]);
	s->by[g] = by;
	s->value[g] = value;
	return 0;
}

/* mode=OCTAL (short form) or tmpfs-mode=OCTAL (long form, KEY). */
static int set_mode(const char *spec, struct seen *s, const char *v, const char *key, struct launch_error **err)
{
	char *end = NULL;
	errno = 0;
	unsigned long mode = v && *v >= '0' && *v <= '7' ? strtoul(v, &end, 8) : ULONG_MAX;
	if (!end || *end || errno || mode > 07777)
		return launch_error_msg(err, "invalid mount `%s`: %s must be an octal mode from 0 to 7777, not `%s`",
					spec, key, v ? v : "");
	if (s->by[G_MODE] && s->mode != mode)
		return launch_error_msg(err, "invalid mount `%s`: `%s=%s` contradicts `%s=%04o`", spec, key, v, key,
					s->mode);
	s->by[G_MODE] = key;
	s->mode = (unsigned)mode;
	return 0;
}

/* size=SIZE (short form) or tmpfs-size=SIZE (long form, KEY). */
static int set_size(const char *spec, struct seen *s, const char *v, const char *key, struct launch_error **err)
{
	if (!v || !launch_size_valid(v))
		return launch_error_msg(err,
					"invalid mount `%s`: %s must be a size above 0 with an optional k, m or g "
					"suffix, or a percentage of RAM from 1%% to 100%%, not `%s`",
					spec, key, v ? v : "");
	if (s->size && strcmp(s->size, v) != 0)
		return launch_error_msg(err, "invalid mount `%s`: `%s=%s` contradicts `%s=%s`", spec, key, v, key,
					s->size);
	free(s->size);
	s->size = xstrdup(v);
	s->by[G_SIZE] = key;
	return 0;
}

/* One flag of the short form. */
static int short_flag(const char *spec, struct seen *s, const char *f, struct launch_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (!strcmp(f, flags[i].name))
			return set_group(spec, s, flags[i].group, flags[i].value, flags[i].name, err);
	if (launch_str_has_prefix(f, "mode="))
		return set_mode(spec, s, f + 5, "mode", err);
	if (launch_str_has_prefix(f, "size="))
		return set_size(spec, s, f + 5, "size", err);
	if (!*f)
		return launch_error_msg(err, "invalid mount `%s`: empty flag (%s)", spec, VALID_FLAGS);
	if (!strcmp(f, "suid") || !strcmp(f, "dev") || !strcmp(f, "exec"))
		return launch_error_msg(err,
					"invalid mount `%s`: flag `%s` is not offered: a mount never gets more "
					"than its source has (%s)",
					spec, f, VALID_FLAGS);
	if (launch_str_has_prefix(f, "x-create="))
		return launch_error_msg(err,
					"invalid mount `%s`: unknown x-create value `%s` (expected dir, file or auto)",
					spec, f + 9);
	const char *names[ARRAY_SIZE(flags)];
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		names[i] = flags[i].name;
	size_t near = launch_closest(f, names, ARRAY_SIZE(names));
	if (near < ARRAY_SIZE(names))
		return launch_error_msg(err, "invalid mount `%s`: unknown flag `%s`, did you mean `%s`? (%s)", spec, f,
					names[near], VALID_FLAGS);
	return launch_error_msg(err, "invalid mount `%s`: unknown flag `%s` (%s)", spec, f, VALID_FLAGS);
}

/* The flags as given, checked against the type and stored in OUT. */
static int apply_flags(const char *spec, const struct seen *s, struct launch_mount *out, struct launch_error **err)
{
	if (out->type == LAUNCH_MOUNT_UMOUNT) {
		for (int g = 0; g < G_COUNT; g++)
			if (s->by[g])
				return launch_error_msg(err, "invalid mount `%s`: umount takes no flags (`%s`)", spec,
							s->by[g]);
		return 0;
	}
	if (out->type == LAUNCH_MOUNT_TMPFS) {
		if (s->by[G_REC])
			return launch_error_msg(err, "invalid mount `%s`: `%s` is for host paths, not for tmpfs", spec,
						s->by[G_REC]);
		if (s->by[G_CREATE] && s->value[G_CREATE] == LAUNCH_CREATE_FILE)
			return launch_error_msg(err,
						"invalid mount `%s`: a tmpfs is a directory: `%s` is not possible "
						"(use x-create=dir or auto)",
						spec, s->by[G_CREATE]);
		out->tmpfs_mode = s->by[G_MODE] ? s->mode : LAUNCH_TMPFS_MODE_DEFAULT;
		out->tmpfs_size = s->size ? xstrdup(s->size) : NULL;
		/* as launch's own tmpfs mounts: nothing on them is a device or setuid */
		out->nosuid = out->nodev = true;
	} else {
		if (s->by[G_MODE] || s->by[G_SIZE])
			return launch_error_msg(err, "invalid mount `%s`: `%s` is for tmpfs only", spec,
						s->by[G_MODE] ? s->by[G_MODE] : s->by[G_SIZE]);
		out->nonrecursive = s->by[G_REC] && !s->value[G_REC];
		out->nosuid = s->by[G_NOSUID] != NULL;
		out->nodev = s->by[G_NODEV] != NULL;
	}
	out->readonly = s->by[G_RO] && s->value[G_RO];
	out->noexec = s->by[G_NOEXEC] != NULL;
	out->propagation = s->by[G_PROP] ? (enum launch_mount_propagation)s->value[G_PROP] : LAUNCH_PROPAGATION_DEFAULT;
	out->create = s->by[G_CREATE] ? (enum launch_mount_create)s->value[G_CREATE] : LAUNCH_CREATE_AUTO;
	if (out->type == LAUNCH_MOUNT_TMPFS)
		out->create = LAUNCH_CREATE_DIR;
	return 0;
}

/* What a relative source is relative to, while launch_mountspec_parse_list_in
 * runs (NULL: the current directory). */
static __thread const char *relative_base;

static int set_source(struct launch_mount *m, const char *spec, const char *src, struct launch_error **err)
{
	if (!*src)
		return launch_error_msg(err, "invalid mount `%s`: the source path is empty", spec);
	if (src[0] == '/') {
		m->source = launch_path_normalize(src);
		return 0;
	}
	char cwd[PATH_MAX];
	if (relative_base && relative_base[0] == '/')
		snprintf(cwd, sizeof(cwd), "%s", relative_base);
	else if (!getcwd(cwd, sizeof(cwd)))
		return launch_error_set(err, errno, "invalid mount `%s`: cannot make `%s` absolute", spec, src);
	_cleanup_free_ char *abs = xasprintf("%s/%s", cwd, src);
	m->source = launch_path_normalize(abs);
	return 0;
}

/* Relative destinations stay an error, as documented before pyxis's syntax
 * was taken: relative to what (the image's /, its WorkingDir, --workdir)
 * is a guess that docker refuses to make too; the message says what to
 * write instead. */
static int set_destination(struct launch_mount *m, const char *spec, const char *dst, struct launch_error **err)
{
	if (!*dst)
		return launch_error_msg(err, "invalid mount `%s`: the destination path is empty", spec);
	if (dst[0] != '/') {
		_cleanup_free_ char *rooted = xasprintf("/%s", dst);
		_cleanup_free_ char *abs = launch_path_normalize(rooted);
		return launch_error_msg(err,
					"invalid mount `%s`: the destination `%s` must be an absolute path in the "
					"container (write `%s`)",
					spec, dst, abs);
	}
	m->destination = launch_path_normalize(dst);
	if (strcmp(m->destination, "/") == 0)
		return launch_error_msg(err, "invalid mount `%s`: cannot mount over the container's root directory",
					spec);
	return 0;
}

int launch_mountspec_parse_short(const char *spec, struct launch_mount *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	struct seen s = { 0 };
	_cleanup_free_ char *copy = xstrdup(spec);
	char *parts[4] = { 0 };
	size_t n = 0;
	char *save = copy;
	for (char *p = copy;; p++) {
		if (*p == ':' || *p == '\0') {
			if (n == 3) {
				launch_error_msg(err,
						 "invalid mount `%s`: too many `:` (expected SRC[:DST[:FLAGS]], or "
						 "--mount type=bind,source=SRC,destination=DST for paths with `:`)",
						 spec);
				goto fail;
			}
			bool end = *p == '\0';
			*p = '\0';
			parts[n++] = save;
			save = p + 1;
			if (end)
				break;
		}
	}
	if (!strcmp(parts[0], "tmpfs") || !strcmp(parts[0], "umount")) {
		out->type = !strcmp(parts[0], "tmpfs") ? LAUNCH_MOUNT_TMPFS : LAUNCH_MOUNT_UMOUNT;
		if (n < 2) {
			launch_error_msg(err,
					 "invalid mount `%s`: %s needs a destination (%s:/PATH; for a host "
					 "directory named %s, write ./%s)",
					 spec, parts[0], parts[0], parts[0], parts[0]);
			goto fail;
		}
	} else if (set_source(out, spec, parts[0], err) < 0) {
		goto fail;
	}
	if (set_destination(out, spec, n > 1 ? parts[1] : out->source, err) < 0)
		goto fail;
	if (n == 3) {
		char *fsave = parts[2];
		for (char *f = parts[2];; f++) {
			if (*f != '+' && *f != '\0')
				continue;
			bool end = *f == '\0';
			*f = '\0';
			if (short_flag(spec, &s, fsave, err) < 0)
				goto fail;
			fsave = f + 1;
			if (end)
				break;
		}
	}
	if (apply_flags(spec, &s, out, err) < 0)
		goto fail;
	free(s.size);
	return 0;
fail:
	free(s.size);
	launch_mount_clear(out);
	return -1;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

#define LONG_KEYS                                                                                           \
	"type, source, destination, readonly, bind-propagation, bind-nonrecursive, nosuid, nodev, noexec, " \
	"x-create, tmpfs-mode, tmpfs-size"

/* One key=VAL of the long form other than type, source and destination. */
static int long_key(const char *spec, struct seen *s, const char *key, const char *val, struct launch_error **err)
{
	bool b;
	if (!strcmp(key, "readonly") || !strcmp(key, "ro") || !strcmp(key, "bind-nonrecursive")) {
		if (parse_bool(val, &b) < 0)
			return launch_error_msg(err, "invalid mount `%s`: %s must be true or false, not `%s`", spec,
						key, val);
		if (key[0] == 'b')
			return set_group(spec, s, G_REC, !b, b ? "bind-nonrecursive" : "bind-nonrecursive=false", err);
		return set_group(spec, s, G_RO, b, b ? "readonly" : "readonly=false", err);
	}
	if (!strcmp(key, "nosuid") || !strcmp(key, "nodev") || !strcmp(key, "noexec")) {
		if (val)
			return launch_error_msg(err, "invalid mount `%s`: %s takes no value (`%s=%s`)", spec, key, key,
						val);
		enum group g = !strcmp(key, "nosuid") ? G_NOSUID : !strcmp(key, "nodev") ? G_NODEV : G_NOEXEC;
		return set_group(spec, s, g, 1, key, err);
	}
	if (!strcmp(key, "bind-propagation")) {
		for (size_t i = 0; val && i < ARRAY_SIZE(flags); i++)
			if (flags[i].group == G_PROP && !strcmp(val, flags[i].name))
				return set_group(spec, s, G_PROP, flags[i].value, flags[i].name, err);
		return launch_error_msg(err,
					"invalid mount `%s`: unknown bind-propagation `%s` (expected private, "
					"rprivate, slave, rslave, shared, rshared, unbindable or runbindable)",
					spec, val ? val : "");
	}
	if (!strcmp(key, "x-create")) {
		for (size_t i = 0; val && i < ARRAY_SIZE(flags); i++)
			if (flags[i].group == G_CREATE && !strcmp(val, flags[i].name + 9))
				return set_group(spec, s, G_CREATE, flags[i].value, flags[i].name, err);
		return launch_error_msg(err,
					"invalid mount `%s`: unknown x-create value `%s` (expected dir, file or auto)",
					spec, val ? val : "");
	}
	if (!strcmp(key, "tmpfs-mode"))
		return set_mode(spec, s, val, "tmpfs-mode", err);
	if (!strcmp(key, "tmpfs-size"))
		return set_size(spec, s, val, "tmpfs-size", err);
	return launch_error_msg(err, "invalid mount `%s`: unknown key `%s` (expected %s)", spec, key, LONG_KEYS);
}

int launch_mountspec_parse_long(const char *spec, struct launch_mount *out, struct launch_error **err)
{
	memset(out, 0, sizeof(*out));
	struct seen s = { 0 };
	_cleanup_free_ char *copy = xstrdup(spec);
	_cleanup_free_ char *source = NULL;
	char *save = NULL;
	bool have_type = false;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "type")) {
			if (have_type) {
				launch_error_msg(err, "invalid mount `%s`: type given twice", spec);
				goto fail;
			}
			if (val && !strcmp(val, "tmpfs")) {
				out->type = LAUNCH_MOUNT_TMPFS;
			} else if (!val || strcmp(val, "bind") != 0) {
				launch_error_msg(err,
						 "invalid mount `%s`: unsupported type `%s` (expected type=bind or "
						 "type=tmpfs)",
						 spec, val ? val : "");
				goto fail;
			}
			have_type = true;
		} else if (!strcmp(tok, "source") || !strcmp(tok, "src")) {
			if (source) {
				launch_error_msg(err, "invalid mount `%s`: source given twice", spec);
				goto fail;
			}
			source = xstrdup(val ? val : "");
		} else if (!strcmp(tok, "destination") || !strcmp(tok, "dst") || !strcmp(tok, "target")) {
			if (out->destination) {
				launch_error_msg(err, "invalid mount `%s`: destination given twice", spec);
				goto fail;
			}
			if (set_destination(out, spec, val ? val : "", err) < 0)
				goto fail;
		} else if (long_key(spec, &s, tok, val, err) < 0) {
			goto fail;
		}
	}
	if (!have_type) {
		launch_error_msg(err, "invalid mount `%s`: missing type=bind (or type=tmpfs)", spec);
		goto fail;
	}
	if (out->type == LAUNCH_MOUNT_TMPFS && source) {
		launch_error_msg(err, "invalid mount `%s`: a tmpfs takes no source", spec);
		goto fail;
	}
	if (out->type == LAUNCH_MOUNT_BIND) {
		if (!source) {
			launch_error_msg(err, "invalid mount `%s`: missing source=HOST_PATH", spec);
			goto fail;
		}
		if (set_source(out, spec, source, err) < 0)
			goto fail;
	}
	if (!out->destination) {
		launch_error_msg(err, "invalid mount `%s`: missing destination=CONTAINER_PATH", spec);
		goto fail;
	}
	if (apply_flags(spec, &s, out, err) < 0)
		goto fail;
	free(s.size);
	return 0;
fail:
	free(s.size);
	launch_mount_clear(out);
	return -1;
}

int launch_mountspec_parse_list_in(const char *list, const char *base, struct launch_mounts *out,
				   struct launch_error **err)
{
	relative_base = base;
	int r = launch_mountspec_parse_list(list, out, err);
	relative_base = NULL;
	return r;
}

int launch_mountspec_parse_list(const char *list, struct launch_mounts *out, struct launch_error **err)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct launch_mount m;
		if (launch_mountspec_parse_short(tok, &m, err) < 0)
			return -1;
		launch_mounts_push(out, &m);
	}
	return 0;
}

/* The flags of M that differ from its type's defaults: short-form flags
 * joined by `+`, or long-form keys joined by `,`. */
static char *format_flags(const struct launch_mount *m, bool long_form)
{
	const char *sep = long_form ? "," : "+";
	char *v[12];
	size_t n = 0;
	bool tmpfs = m->type == LAUNCH_MOUNT_TMPFS;
	if (m->readonly)
		v[n++] = xstrdup(long_form ? "readonly" : "ro");
	if (m->nonrecursive)
		v[n++] = xstrdup(long_form ? "bind-nonrecursive" : "bind");
	if (m->propagation != LAUNCH_PROPAGATION_DEFAULT)
		v[n++] =
			xasprintf("%s%s", long_form ? "bind-propagation=" : "", flag_name(G_PROP, (int)m->propagation));
	if (m->nosuid && !tmpfs)
		v[n++] = xstrdup("nosuid");
	if (m->nodev && !tmpfs)
		v[n++] = xstrdup("nodev");
	if (m->noexec)
		v[n++] = xstrdup("noexec");
	if (m->create != LAUNCH_CREATE_AUTO && !tmpfs)
		v[n++] = xstrdup(flag_name(G_CREATE, (int)m->create));
	if (tmpfs && m->tmpfs_mode != LAUNCH_TMPFS_MODE_DEFAULT)
		v[n++] = xasprintf("%s%04o", long_form ? "tmpfs-mode=" : "mode=", m->tmpfs_mode);
	if (tmpfs && m->tmpfs_size)
		v[n++] = xasprintf("%s%s", long_form ? "tmpfs-size=" : "size=", m->tmpfs_size);
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%s", out, i ? sep : "", v[i]);
		free(out);
		free(v[i]);
		out = next;
	}
	return out;
}

char *launch_mountspec_format(const struct launch_mount *m, bool *is_long)
{
	_cleanup_free_ char *fs = format_flags(m, false);
	bool colon = strchr(m->destination, ':') || (m->source && strchr(m->source, ':'));
	*is_long = false;
	if (!colon) {
		const char *src = m->type == LAUNCH_MOUNT_TMPFS	   ? "tmpfs"
				  : m->type == LAUNCH_MOUNT_UMOUNT ? "umount"
								   : m->source;
		if (m->type == LAUNCH_MOUNT_BIND && !*fs && !strcmp(m->source, m->destination))
			return xstrdup(m->source);
		return xasprintf("%s:%s%s%s", src, m->destination, *fs ? ":" : "", fs);
	}
	bool comma = strchr(m->destination, ',') || (m->source && strchr(m->source, ','));
	if (comma || m->type == LAUNCH_MOUNT_UMOUNT)
		return NULL;
	_cleanup_free_ char *fl = format_flags(m, true);
	*is_long = true;
	if (m->type == LAUNCH_MOUNT_TMPFS)
		return xasprintf("type=tmpfs,destination=%s%s%s", m->destination, *fl ? "," : "", fl);
	return xasprintf("type=bind,source=%s,destination=%s%s%s", m->source, m->destination, *fl ? "," : "", fl);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool launch_mount_equal(const struct launch_mount *a, const struct launch_mount *b)
{
	return str_equal(a->source, b->source) && str_equal(a->destination, b->destination) &&
	       a->readonly == b->readonly && a->type == b->type && a->nonrecursive == b->nonrecursive &&
	       a->nosuid == b->nosuid && a->nodev == b->nodev && a->noexec == b->noexec &&
	       a->propagation == b->propagation && a->create == b->create && a->tmpfs_mode == b->tmpfs_mode &&
	       str_equal(a->tmpfs_size, b->tmpfs_size);
}

void launch_mount_copy(struct launch_mount *dst, const struct launch_mount *src)
{
	*dst = *src;
	dst->source = src->source ? xstrdup(src->source) : NULL;
	dst->destination = src->destination ? xstrdup(src->destination) : NULL;
	dst->tmpfs_size = src->tmpfs_size ? xstrdup(src->tmpfs_size) : NULL;
}

void launch_mount_clear(struct launch_mount *m)
{
	free(m->source);
	free(m->destination);
	free(m->tmpfs_size);
	memset(m, 0, sizeof(*m));
}

void launch_mounts_push(struct launch_mounts *ms, struct launch_mount *m)
{
	ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
	ms->v[ms->n++] = *m;
	memset(m, 0, sizeof(*m));
}

void launch_mounts_clear(struct launch_mounts *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		launch_mount_clear(&ms->v[i]);
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}
