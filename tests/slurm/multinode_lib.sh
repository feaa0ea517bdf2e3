#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the multi-node tests look at on every node of the cluster in $CL
# (nodes $NODES, test user $TU_UID), sourced after cluster.sh and lib.sh.
# MN_IMAGES: the image files whose mounts count as left behind.

rundir() { printf '%s/nodes/%s/tmp/launch-%s' "$CL" "$1" "$TU_UID"; }
# instances NODE: the instance states in NODE's runtime directory
instances() {
	for f in "$(rundir "$1")"/instances/*.json; do
		[ -e "$f" ] && basename "$f" .json
	done
	return 0
}
# all_instances: NODE:NAME of every instance on every node
all_instances() {
	for n in $NODES; do instances "$n" | sed "s/^/$n:/"; done
}
# user_procs: NODE:PID:COMM of every process of the test user on a node
user_procs() {
	for n in $NODES; do
		for p in $(slurm_node_procs "$CL" "$n"); do
			[ "$(stat -c %u "/proc/$p" 2>/dev/null)" = "$TU_UID" ] &&
				printf '%s:%s:%s\n' "$n" "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"
		done
	done
	return 0
}
# fuse_mounts: FUSE mounts that a process on a node sees, and any process
# on the machine that sees one of MN_IMAGES mounted
fuse_mounts() {
	for n in $NODES; do
		for p in $(slurm_node_procs "$CL" "$n"); do
			grep -h ' - fuse' "/proc/$p/mountinfo" 2>/dev/null | sed "s|^|$n:$p:|"
		done
	done
	for img in $MN_IMAGES; do
		grep -lF " $img " /proc/[0-9]*/mountinfo 2>/dev/null | sed 's/^/image mounted in /'
	done
	return 0
}
# nodes_clean: nothing of the test user runs, is mounted or listed on any node
nodes_clean() {
	[ -z "$(user_procs)$(fuse_mounts)$(all_instances)" ]
}
# assert_nodes_clean WHAT [SECONDS]: within SECONDS (10), no process of the
# test user runs on any node, no process there sees a FUSE mount, and no
# node's runtime directory lists an instance.
assert_nodes_clean() {
	CHECKS=$((CHECKS + 1))
	if wait_until "${2:-10}" nodes_clean; then
		pass "$1: nothing mounted, running or listed on any node"
		return 0
	fi
	fail "$1: after ${2:-10} s: processes [$(user_procs | tr '\n' ' ')] mounts [$(fuse_mounts | tr '\n' ' ')] instances [$(all_instances | tr '\n' ' ')]"
	return 1
}
