/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/sif.c: SIF files built here byte by byte to the
 * specification (header, descriptors, partitions), good and damaged: the
 * primary partition found among others, a signature noticed, labels and a
 * definition file read, and each refusal (not a SIF, another version, a
 * descriptor table or an object outside the file, no primary partition,
 * encrypted, not squashfs, no squashfs where the partition says);
 * architecture names; and the parser of /.singularity.d/env scripts. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sif.h"
#include "testutil.h"
#include "util.h"

static const char *dir;

#define DOFF 4096
#define NDESC 8
#define DATA (DOFF + NDESC * LAUNCH_SIF_DESCRIPTOR_SIZE)

struct obj {
	int32_t type;
	const char *data;
	size_t len;
	int32_t fs, part; /* partitions */
};

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)((uint64_t)v >> (8 * i));
}

/* A SIF file of OBJS (N of them) in DIR/NAME, partitions aligned to 4096;
 * VERSION "01" unless given; then TRUNC bytes cut from its end. Returns
 * an fd open on it. */
static int mksif(const char *name, const struct obj *objs, size_t n, const char *version, size_t trunc)
{
	size_t cap = DATA + 16 * 4096;
	for (size_t i = 0; i < n; i++)
		cap += objs[i].len + 4096;
	unsigned char *f = xcalloc(1, cap);
	memcpy(f, "#!/usr/bin/env run-singularity\n", 31);
	memcpy(f + 32, "SIF_MAGIC", 10);
	memcpy(f + 42, version ? version : "01", 3);
	memcpy(f + 45, "02", 3);
	put64(f + 64, 1700000000);
	put64(f + 80, NDESC - (int64_t)n);
	put64(f + 88, NDESC);
	put64(f + 96, DOFF);
	put64(f + 104, NDESC * LAUNCH_SIF_DESCRIPTOR_SIZE);
	put64(f + 112, DATA);
	size_t end = DATA;
	for (size_t i = 0; i < n; i++) {
		unsigned char *d = f + DOFF + i * LAUNCH_SIF_DESCRIPTOR_SIZE;
		size_t off = objs[i].type == LAUNCH_SIF_PARTITION ? (end + 4095) / 4096 * 4096 : end;
		memcpy(f + off, objs[i].data, objs[i].len);
		put32(d, (uint32_t)objs[i].type);
		d[4] = 1;
		put32(d + 5, (uint32_t)i + 1);
		put32(d + 9, 0xf0000001);
		put64(d + 17, (int64_t)off);
		put64(d + 25, (int64_t)objs[i].len);
		put64(d + 33, (int64_t)(off - end + objs[i].len));
		if (objs[i].type == LAUNCH_SIF_PARTITION) {
			put32(d + 201, (uint32_t)objs[i].fs);
			put32(d + 205, (uint32_t)objs[i].part);
			memcpy(d + 209, "02", 3);
		}
		end = off + objs[i].len;
	}
	put64(f + 120, (int64_t)(end - DATA));
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || launch_write_all(fd, f, end - trunc) < 0)
		tu_die("write", path);
	free(f);
	return fd;
}

static const char notsq[128] = "not a squashfs file system";
static const char sqfs[] =
	"hsqs and the rest of a squashfs, which is at least its 96-byte superblock: "
	"padding padding padding";

static void test_read(void)
{
	struct launch_error *err = NULL;
	struct launch_sif s;
	static const char def[] = "Bootstrap: docker\nFrom: x\n", labels[] = "{\"a\": \"b\"}";
	const struct obj good[] = {
		{ LAUNCH_SIF_DEFFILE, def, sizeof(def) - 1, 0, 0 },
		{ LAUNCH_SIF_LABELS, labels, sizeof(labels) - 1, 0, 0 },
		{ LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), LAUNCH_SIF_FS_SQUASHFS, LAUNCH_SIF_PART_DATA },
		{ LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), LAUNCH_SIF_FS_SQUASHFS, LAUNCH_SIF_PART_PRIMARY },
		{ LAUNCH_SIF_SIGNATURE, "sig", 3, 0, 0 },
	};
	int fd = mksif("good.sif", good, ARRAY_SIZE(good), NULL, 0);
	CHECK(launch_sif_is(fd));
	CHECK_INTEQ(launch_sif_read(fd, "good.sif", &s, &err), 0);
	CHECK_NO_ERROR(err);
	CHECK_INTEQ(s.partitions, 2);
	CHECK(s.signed_);
	CHECK_STREQ(s.labels, labels);
	CHECK_STREQ(s.deffile, def);
	CHECK_STREQ(s.arch, "02");
	CHECK_INTEQ(s.size, sizeof(sqfs));
	CHECK(s.offset % 4096 == 0 && s.offset > DATA);
	char head[5] = { 0 };
	CHECK(pread(fd, head, 4, (off_t)s.offset) == 4 && !strcmp(head, "hsqs"));
	CHECK(s.created == 1700000000);
	launch_sif_clear(&s);
	close(fd);

	/* refusals, each named */
	static const struct {
		const char *name;
		struct obj o;
		const char *version;
		size_t trunc;
		const char *error;
	} bad[] = {
		{ "v00.sif", { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 1, 2 }, "00", 0, "has format version \"00\"" },
		{ "enc.sif", { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 5, 2 }, NULL, 0, "is encrypted" },
		{ "ext3.sif", { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 2, 2 }, NULL, 0, "is ext3, not squashfs" },
		{ "raw.sif", { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 4, 2 }, NULL, 0, "is raw data, not squashfs" },
		{ "sys.sif",
		  { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 1, 1 },
		  NULL,
		  0,
		  "no primary system partition" },
		{ "none.sif", { LAUNCH_SIF_DEFFILE, def, 5, 0, 0 }, NULL, 0, "(0 partition(s), none marked primary)" },
		{ "nosq.sif", { LAUNCH_SIF_PARTITION, notsq, sizeof(notsq), 1, 2 }, NULL, 0, "holds no squashfs" },
		{ "tiny.sif",
		  { LAUNCH_SIF_PARTITION, "hsqs", 4, 1, 2 },
		  NULL,
		  0,
		  "(4 bytes) is too small for a squashfs" },
		{ "cut.sif", { LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 1, 2 }, NULL, 10, "lies outside the file" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = mksif(bad[i].name, &bad[i].o, 1, bad[i].version, bad[i].trunc);
		memset(&s, 0x5a, sizeof(s));
		CHECK_INTEQ(launch_sif_read(fd, bad[i].name, &s, &err), -1);
		CHECK_ERROR(err, bad[i].name, bad[i].error);
		CHECK(s.labels == NULL && s.deffile == NULL); /* cleared */
		close(fd);
	}
	/* labels and a definition file read before an object found outside the
	 * file: freed with the refusal */
	fd = mksif("cut-late.sif", good, ARRAY_SIZE(good), NULL, 10);
	memset(&s, 0x5a, sizeof(s));
	CHECK_INTEQ(launch_sif_read(fd, "cut-late.sif", &s, &err), -1);
	CHECK_ERROR(err, "lies outside the file");
	CHECK(s.labels == NULL && s.deffile == NULL);
	close(fd);
	/* an encrypted partition told by its crypto message too */
	const struct obj crypt[] = {
		{ LAUNCH_SIF_CRYPTO_MESSAGE, "key", 3, 0, 0 },
		{ LAUNCH_SIF_PARTITION, sqfs, sizeof(sqfs), 1, 2 },
	};
	fd = mksif("crypt.sif", crypt, 2, NULL, 0);
	CHECK_INTEQ(launch_sif_read(fd, "crypt.sif", &s, &err), -1);
	CHECK_ERROR(err, "is encrypted");
	close(fd);

	/* not a SIF file; a header alone; a descriptor table beyond the end */
	_cleanup_free_ char *plain = tu_write(dir, "plain.txt", "hello, not a SIF file at all, and long enough?");
	fd = open(plain, O_RDONLY | O_CLOEXEC);
	CHECK(!launch_sif_is(fd));
	CHECK_INTEQ(launch_sif_read(fd, plain, &s, &err), -1);
	CHECK_ERROR(err, "is truncated");
	close(fd);
	fd = mksif("table.sif", good, 1, NULL, 0);
	unsigned char big[8];
	put64(big, 1000);
	CHECK(pwrite(fd, big, 8, 88) == 8);
	CHECK_INTEQ(launch_sif_read(fd, "table.sif", &s, &err), -1);
	CHECK_ERROR(err, "table.sif is damaged: its descriptor table (1000 descriptors");
	close(fd);
}

static void test_arch(void)
{
	CHECK_STREQ(launch_sif_arch_name("02"), "amd64");
	CHECK_STREQ(launch_sif_arch_name("04"), "arm64");
	CHECK_STREQ(launch_sif_arch_name("11"), "s390x");
	CHECK_NULL(launch_sif_arch_name("00"));
	CHECK_NULL(launch_sif_arch_name("99"));
	CHECK_NULL(launch_sif_arch_name(""));
}

/* The env scripts: CASES of one script each, the variables expected. */
static void test_env(void)
{
	static const struct {
		const char *script;
		const char *expect; /* the entries, "|"-joined */
		size_t skipped;
	} cases[] = {
		{ "#!/bin/sh\nexport PATH=\"/usr/local/bin:/usr/bin\"\n", "PATH=/usr/local/bin:/usr/bin", 0 },
		{ "A=1\nexport A\nB='two words'\nexport B\n", "A=1|B=two words", 0 },
		{ "export A=x B=y\n", "", 1 }, /* two assignments in one export: not taken */
		{ "export X=\"a \\\"q\\\" \\$HOME\"\n", "X=a \"q\" $HOME", 0 },
		{ "export A=base\nexport B=\"$A/sub\"\nexport C=${A}x\n", "A=base|B=base/sub|C=basex", 0 },
		{ "export D=\"${D:-\"fallback\"}\"\n", "D=fallback", 0 },
		{ "export E=set\nexport E=\"${E:-other}\"\n", "E=set", 0 },
		{ "export U=\"$UNSET\"\n", "U=", 0 },
		{ "if [ -z \"$X\" ]; then\n    X=1\nelse\n    X=2\nfi\nY=3\n", "Y=3", 5 },
		{ "f() {\n  Z=1\n}\nW=2\n", "W=2", 3 },
		{ "export V=$(id -u)\nexport T=`date`\nexport S=ok # comment\n", "S=ok", 2 },
		{ "   # comment\n\n:\nset -a\nexport   SP=1\n", "SP=1", 0 },
		{ "X=1 command\nexport 1BAD=2\n", "", 2 },
		{ "export L=a;\nexport M=b ; \n", "L=a|M=b", 0 },
		{ "export Q='unterminated\n", "", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char **env = NULL;
		size_t skipped = 99;
		launch_sif_env_parse(cases[i].script, &env, &skipped);
		_cleanup_free_ char *got = xstrdup("");
		for (size_t k = 0; env && env[k]; k++) {
			char *s = xasprintf("%s%s%s", got, k ? "|" : "", env[k]);
			free(got);
			got = s;
		}
		check_record_(!strcmp(got, cases[i].expect) && skipped == cases[i].skipped, __FILE__, __LINE__,
			      "case %zu: [%s] skipped %zu (expected [%s] skipped %zu)", i, got, skipped,
			      cases[i].expect, cases[i].skipped);
		launch_strv_free(env);
	}
	/* a second file builds on the first, a later value replaces */
	char **env = NULL;
	size_t skipped;
	launch_sif_env_parse("export A=1\nexport B=2\n", &env, &skipped);
	launch_sif_env_parse("export A=\"$B$A\"\n", &env, &skipped);
	CHECK_INTEQ(launch_strv_len(env), 2);
	CHECK_STREQ(env[0], "A=21");
	launch_strv_free(env);
}

int main(void)
{
	char *d = tu_mkdtemp();
	dir = d;
	test_read();
	test_arch();
	test_env();
	tu_rm_rf(d);
	free(d);
	return check_done();
}
