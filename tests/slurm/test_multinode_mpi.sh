#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The SPANK plugin on a 4-node Slurm on this one machine (cluster.sh with
# LAUNCH_TEST_NODES=4), for what needs several nodes beyond
# test_multinode.sh: a node whose /dev/fuse is not usable fails only its own
# tasks, with a message that names the node, and leaves nothing behind; an
# Open MPI job over PMIx whose 8 ranks run in containers on all 4 nodes and
# talk over TCP between the nodes' network namespaces: each rank sums the
# ranks and gets a token from the rank before it in a ring over all ranks.
#
# Environment: LAUNCH (the launch binary), LAUNCH_SPANK_PLUGIN (the built
# spank_launch.so), LAUNCH_TEST_IMAGES (busybox.sqfs, mpi.sqfs).
#
# The single-quoted scripts below run in the tasks: their $ are theirs;
# wait_until calls the predicates that shellcheck takes for unreachable.
# shellcheck disable=SC2016,SC2317
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
. "$HERE/cluster.sh"

require_root "a Slurm cluster"
require_userns
require_fuse
require_cmd srun sbatch salloc scancel squeue sinfo slurmctld slurmd munged setpriv ip nsenter unshare mount umount
: "${LAUNCH_SPANK_PLUGIN:?LAUNCH_SPANK_PLUGIN must be the built spank_launch.so}"
[ -f "$LAUNCH_SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (apt-get install libslurm-dev, reconfigure)"
MPI_IMG=$LAUNCH_TEST_IMAGES/mpi.sqfs
[ -f "$MPI_IMG" ] || skip "$MPI_IMG missing (the mpi fixture runs tests/fixtures/mkmpi.sh, which needs libmpich-dev and libopenmpi-dev)"

NODES="n1 n2 n3 n4"
CL=$T/slurm
PLUG=$T/spank_launch.so
install -m 0755 "$LAUNCH_SPANK_PLUGIN" "$PLUG"
printf 'required %s launch=%s\n' "$PLUG" "$L" >"$T/plugstack.conf"
on_exit "slurm_stop '$CL'"
t_start=$(now_ms)
# the build tree and the images may be below /tmp (a checkout there), which
# each node has its own of: they stay shared, as on a cluster's file system
SLURM_CLUSTER_SHARED="$(cd "$(dirname "$L")/.." && pwd) $LAUNCH_TEST_IMAGES" \
	LAUNCH_TEST_NODES=4 slurm_start "$CL" "$T/plugstack.conf" || die "the 4-node Slurm cluster did not start"
say "cluster up in $(($(now_ms) - t_start)) ms"

DATA=$T/data
user_dir "$DATA" "$T/out"
# js ARGS...: as the test user, from $T, with the test's store; sets rc/out/err
js() {
	capture as_user env XDG_DATA_HOME="$DATA" sh -c 'cd "$1" && shift && exec timeout -k 5 120 "$@"' sh "$T" "$@"
}

MN_IMAGES="$SQFS $MPI_IMG"
. "$HERE/multinode_lib.sh"
line_list() { sort | tr '\n' ' ' | sed 's/ $//'; }
# char_dev: /dev/fuse is a character device 10,229 here
fuse_id() { stat -c '%F %t,%T' /dev/fuse; }

say "# a node whose /dev/fuse is not usable fails its own tasks only"
host_fuse=$(fuse_id)
slurm_node_exec "$CL" n2 mount --bind /dev/null /dev/fuse
assert_eq 0 "$?" "/dev/null bound over /dev/fuse in n2's mount namespace"
assert_eq "$host_fuse" "$(fuse_id)" "the host's /dev/fuse is untouched ($host_fuse)"
assert_eq "$host_fuse" "$(slurm_node_exec "$CL" n3 sh -c "stat -c '%F %t,%T' /dev/fuse")" "and n3's"
t0=$(now_ms)
js srun -N4 -n4 --container-image="$SQFS" hostname
say "srun with n2's /dev/fuse broken: status $rc in $(($(now_ms) - t0)) ms"
say "$err" | sed 's/^/  stderr| /'
assert_true "srun fails (status $rc)" test "$rc" != 0
assert_eq "n1 n3 n4" "$(printf '%s\n' "$out" | line_list)" "the tasks on n1, n3 and n4 print their hostnames"
assert_match "$err" 'n2' "stderr names n2"
assert_match "$err" '(slurmstepd-n2|on n2|node n2|n2:).*(fuse|FUSE)' "a line that names n2 says that FUSE failed"
assert_eq "" "$(printf '%s\n' "$err" | grep -Ei 'fuse' | grep -E '\<n[134]\>')" "no other node reports a FUSE failure"
assert_nodes_clean "after the step with n2's /dev/fuse broken"
slurm_node_exec "$CL" n2 umount /dev/fuse
assert_eq "$host_fuse" "$(slurm_node_exec "$CL" n2 sh -c "stat -c '%F %t,%T' /dev/fuse")" "n2's /dev/fuse is restored"
js srun -N4 -n4 --container-image="$SQFS" hostname
assert_eq "0 n1 n2 n3 n4" "$rc $(printf '%s\n' "$out" | line_list)" "then srun -N4 -n4 --container-image works on all 4 nodes"
assert_nodes_clean "after that step"

# ring_expect N: what hello prints on each of N ranks, sorted: the sum of
# the ranks, and the token from the rank before in the ring
ring_expect() {
	awk -v n="$1" 'BEGIN { for (r = 0; r < n; r++) printf "rank %d of %d sum %d token %d\n", r, n, n * (n - 1) / 2, (r + n - 1) % n }' | sort
}
# mpi_ring WHAT NODES RANKS SRUN_ARGS...: RANKS ranks on NODES nodes, as
# many on each, in the ring
mpi_ring() {
	_what=$1 _nn=$2 _nr=$3
	shift 3
	t0=$(now_ms)
	js srun -N"$_nn" -n"$_nr" "$@"
	say "$_what: status $rc in $(($(now_ms) - t0)) ms"
	[ "$rc" = 0 ] || say "$err" | tail -n 20 | sed 's/^/  stderr| /'
	assert_eq 0 "$rc" "$_what: srun -N$_nn -n$_nr succeeds"
	assert_eq "$(ring_expect "$_nr")" "$(printf '%s\n' "$out" | grep ' rank [0-9]* of ' | cut -d' ' -f2- | sort)" \
		"$_what: $_nr ranks sum their ranks and pass a token around the ring"
	_want=$(for n in $NODES; do
		[ "${n#n}" -le "$_nn" ] && seq "$((_nr / _nn))" | sed "s/.*/$n/"
	done | line_list)
	assert_eq "$_want" "$(printf '%s\n' "$out" | grep ' rank [0-9]* of ' | cut -d' ' -f1 | line_list)" \
		"$_what: $((_nr / _nn)) ranks on each of the $_nn nodes"
	assert_nodes_clean "$_what: after the step"
}
# ring_cmd PROGRAM: each output line of PROGRAM after the task's hostname
ring_cmd() { printf '%s | sed "s/^/$(hostname) /"' "$1"; }

# MPICH is not run across nodes here: Debian 12's MPICH 4.0.2 (ch4:ucx, UCX
# 1.13) over TCP hangs in MPI_Finalize with ranks on several of these nodes,
# outside containers too (a hello world built on the host, srun --mpi=pmi2:
# now and then with one rank per node, always with two): two ranks spin in
# UCX's progress loop while the others wait in the PMI-2 fence. With the
# nodes' shared boot_id, UCX also takes the other nodes' ranks for local
# ones and fails MPI_Init ("Shared memory error"). test_spank.sh runs MPICH
# on one node.

say "# Open MPI over PMIx, across the 4 nodes"
capture srun --mpi=list
if printf '%s\n' "$out$err" | grep -q pmix; then
	mpi_ring "Open MPI, PMIx" 4 8 --mpi=pmix --container-image="$MPI_IMG" sh -c "$(ring_cmd hello-ompi)"
else
	fail "this Slurm offers no mpi/pmix (apt-get install libpmix2): $(printf '%s' "$out$err" | tr '\n' ' ')"
fi

say "# Open MPI over PMIx, across the 4 nodes, with the host's MPI (--container-mpi)"
: "${LAUNCH_HOOK_MPI:?LAUNCH_HOOK_MPI must be the path of the built launch-hook-mpi}"
multiarch=$(gcc -print-multiarch 2>/dev/null)
HOST_OMPI=$(readlink -f "/usr/lib/${multiarch:-x86_64-linux-gnu}/libmpi.so.40" 2>/dev/null)
[ -f "$HOST_OMPI" ] || die "/usr/lib/${multiarch:-x86_64-linux-gnu}/libmpi.so.40 missing (apt-get install libopenmpi3)"
# the site's MPI hook, injecting a root-owned copy of the host's libmpi (the
# copy's inode tells it from the image's), in the site config the plugin reads
site_conf=$(as_user "$L" doctor 2>&1 | sed -n 's|.*site config: .*(\(/[^ ]*\) does not exist.*|\1|p')
[ -n "$site_conf" ] && [ ! -e "$(dirname "$site_conf")" ] ||
	die "cannot place a site config: it exists or doctor names none ($site_conf); build with -DLAUNCH_SYSCONFDIR=DIR"
on_exit "rm -rf '$(dirname "$site_conf")'"
H=$T/hostmpi
mkdir -p "$H/bin" "$H/lib" "$H/hooks.d" "$(dirname "$site_conf")"
cp "$LAUNCH_HOOK_MPI" "$H/bin/launch-hook-mpi"
cp "$HOST_OMPI" "$H/lib/${HOST_OMPI##*/}"
ln -s "${HOST_OMPI##*/}" "$H/lib/libmpi.so.40"
COPY_INO=$(stat -c %i "$H/lib/${HOST_OMPI##*/}")
cat >"$H/hooks.d/mpi.json" <<EOF
{"version": "1.0.0", "hook": {"path": "$H/bin/launch-hook-mpi", "env": ["MPI_LIBS=$H/lib/libmpi.so.40"]},
 "when": {"annotations": {"^launch\\\\.mpi\$": "^true\$"}}, "stages": ["createContainer"]}
EOF
printf '{"hooks_dirs": ["%s"]}\n' "$H/hooks.d" >"$site_conf"
chmod -R go-w,a+rX "$H" "$(dirname "$site_conf")"
ompi_libs() { printf '%s\n' "$out" | sed -n 's/^n[0-9] rank [0-9]* lib \([0-9]*\) .*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
mpi_ring "Open MPI, PMIx, --container-mpi" 4 8 --mpi=pmix --container-image="$MPI_IMG" --container-mpi \
	sh -c "HELLO_SHOW_LIB=1 $(ring_cmd hello-ompi)"
assert_eq "$COPY_INO" "$(ompi_libs)" "every rank on every node maps the host's libmpi, injected by the hook"
mpi_ring "Open MPI, PMIx, the image's own MPI" 4 8 --mpi=pmix --container-image="$MPI_IMG" \
	sh -c "HELLO_SHOW_LIB=1 $(ring_cmd hello-ompi)"
assert_true "without --container-mpi the ranks map the image's libmpi ($(ompi_libs))" \
	test -n "$(ompi_libs)" -a "$(ompi_libs)" != "$COPY_INO"

say "test time $(($(now_ms) - t_start)) ms"
finish
