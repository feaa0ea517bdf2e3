/* SPDX-License-Identifier: Apache-2.0 */
/* The small supervisor (supervise/launch-supervise.c): what launch and it
 * agree on. A plain `launch run` whose image launch does not serve itself
 * (a shared image server's, a directory) execs it once the command runs,
 * and the guard (lib/proc.h) execs it too, so that a running container
 * keeps two small processes instead of launch's own memory. This header is
 * read by the freestanding program as well: definitions only. */
#ifndef LAUNCH_SUPERVISE_H
#define LAUNCH_SUPERVISE_H

/* Its file name, next to launch or in LIBEXECDIR/launch (paths.h): both
 * are installed together. The modes below carry the protocol's version. */
#define LAUNCH_SUPERVISE_NAME "launch-supervise"

/* argv of the supervisor: LAUNCH_SUPERVISE_NAME "S" CHILD MASK SERVER_FD
 * GUARD_FD GRACE_S DEBUG: wait for CHILD (a child of this process, which
 * is the container's subreaper) and every process the container leaves,
 * forward the signals of MASK (hexadecimal, bit N-1 for signal N: those
 * launch blocked) to CHILD, end what CHILD leaves (SIGTERM, SIGKILL after
 * GRACE_S seconds), stop the container when SERVER_FD (-1: none) hangs
 * up, release the guard on GUARD_FD (-1: none) and exit with CHILD's
 * status (128+N for signal N). */
#define LAUNCH_SUPERVISE_MODE_RUN "S1"
/* argv of the guard: LAUNCH_SUPERVISE_NAME "G" PIPE_FD PROC_FD MNT_NS: sleep
 * on PIPE_FD; at end-of-file without a release byte, SIGKILL every process
 * whose mount namespace is MNT_NS ("mnt:[INODE]"), found through PROC_FD
 * (/proc), until none is left. */
#define LAUNCH_SUPERVISE_MODE_GUARD "G1"

/* Bytes on the guard's pipe: the process it guards ends normally... */
#define LAUNCH_GUARD_RELEASE 'r'
/* ...or is about to exec the supervisor: the guard execs it too. */
#define LAUNCH_GUARD_EXEC 'x'

/* What the supervisor says when the image server ends under a container
 * (launch's own supervision says the same). */
#define LAUNCH_SERVER_GONE_MSG                                                                                 \
	"the image server (see 'launch ps') ended while the container ran: stopping the container, which can " \
	"no longer read its image"

#endif
