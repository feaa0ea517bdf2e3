/* SPDX-License-Identifier: Apache-2.0 */
/* Apptainer/Singularity SIF files (the SIF specification, version "01", as
 * github.com/sylabs/sif defines it): a global header, a table of object
 * descriptors, and the objects, one of which is the primary system
 * partition, a squashfs file system at an offset of the file. launch mounts
 * that partition in place (no copy), and reads the definition file and the
 * JSON labels for `launch inspect`.
 *
 * The on-disk layout, little-endian, packed (Go's encoding/binary):
 *   global header, 128 bytes at 0:
 *     0 launch script [32]  32 magic "SIF_MAGIC\0" [10]  42 version "01\0" [3]
 *     45 arch [3]  48 uuid [16]  64 created  72 modified  80 descriptors free
 *     88 descriptors total  96 descriptors offset  104 descriptors size
 *     112 data offset  120 data size            (each int64 from 64 on)
 *   descriptor, 585 bytes each, DescriptorsTotal of them at DescriptorsOffset:
 *     0 data type int32  4 used bool  5 id uint32  9 group id  13 linked id
 *     17 offset int64  25 size int64  33 size with padding  41 created
 *     49 modified  57 uid  65 gid  73 name [128]  201 extra [384]
 *   a partition's extra: fstype int32, parttype int32, arch [3]
 *
 * Everything is checked against the file's size before it is used: a SIF
 * file is input like any image, and may be hostile. No dependency beyond
 * libc: the SPANK plugin links this file. */
#ifndef LAUNCH_SIF_H
#define LAUNCH_SIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define LAUNCH_SIF_HEADER_SIZE 128
#define LAUNCH_SIF_DESCRIPTOR_SIZE 585

/* Data types of descriptors (DataType), from 0x4001. */
enum {
	LAUNCH_SIF_DEFFILE = 0x4001,
	LAUNCH_SIF_ENVVAR = 0x4002,
	LAUNCH_SIF_LABELS = 0x4003,
	LAUNCH_SIF_PARTITION = 0x4004,
	LAUNCH_SIF_SIGNATURE = 0x4005,
	LAUNCH_SIF_GENERIC_JSON = 0x4006,
	LAUNCH_SIF_GENERIC = 0x4007,
	LAUNCH_SIF_CRYPTO_MESSAGE = 0x4008,
};
/* A partition's file system type (FSType) and role (PartType). */
enum {
	LAUNCH_SIF_FS_SQUASHFS = 1,
	LAUNCH_SIF_FS_EXT3 = 2,
	LAUNCH_SIF_FS_IMMUTABLE = 3,
	LAUNCH_SIF_FS_RAW = 4,
	LAUNCH_SIF_FS_ENCRYPTED_SQUASHFS = 5,
};
enum {
	LAUNCH_SIF_PART_SYSTEM = 1,
	LAUNCH_SIF_PART_PRIMARY = 2,
	LAUNCH_SIF_PART_DATA = 3,
	LAUNCH_SIF_PART_OVERLAY = 4,
};

struct launch_sif {
	uint64_t offset, size; /* the primary system partition: a squashfs */
	char arch[4];	       /* its architecture code, "02" for amd64 */
	int64_t created;       /* the header's, seconds since the epoch */
	size_t partitions;     /* partitions of any kind */
	bool signed_;	       /* it has a signature object (launch does not verify it) */
	char *labels;	       /* the JSON labels object's text, or NULL */
	char *deffile;	       /* the definition file, or NULL */
};

/* Does FD's file start like a SIF file (the magic at byte 32)? */
bool launch_sif_is(int fd);
/* Read and check the SIF file open as FD (PATH names it in messages): its
 * primary partition must be a squashfs, not encrypted. */
int launch_sif_read(int fd, const char *path, struct launch_sif *out, struct launch_error **err);
void launch_sif_clear(struct launch_sif *s);
/* The GOARCH name of architecture code ARCH ("02" -> "amd64"), or NULL. */
const char *launch_sif_arch_name(const char *arch);

/* The variables of an environment script of the image
 * (/.singularity.d/env/NN-*.sh), as Apptainer's builder writes them:
 * `export NAME=VALUE`, `NAME=VALUE` (then exported by a later `export
 * NAME`, or with `set -a`: taken either way), VALUE plain, "double" or
 * 'single' quoted, with $NAME and ${NAME} expanded from ENV and what came
 * before, and ${NAME:-DEFAULT} and ${NAME-DEFAULT} taking DEFAULT when NAME
 * is unset or empty. Other shell code (functions, conditionals, commands)
 * is skipped: *SKIPPED counts those lines. The entries go into *ENV
 * (NAME=VALUE, a later one replacing an earlier one of the same NAME). */
void launch_sif_env_parse(const char *text, char ***env, size_t *skipped);

#endif
