#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Images of a job on a 4-node Slurm on this one machine (cluster.sh with
# LAUNCH_TEST_NODES=4), as the unprivileged test user:
#   - one image per job: srun resolves a tag to one digest for the whole
#     job, so every node of every step runs that digest, even when the tag
#     is moved in the store between two steps; the pins go with the job
#     (the epilog on the batch host, salloc and srun where they made the
#     allocation);
#   - a docker:// image used by a 4-node step is downloaded once, by srun,
#     from a registry on the host's loopback that no node can reach;
#   - node-local staging (plugstack stage_dir): the first step of a job on
#     a node copies the image to the node's own storage, the container
#     mounts the copy, later steps reuse it, and the job epilog removes it.
#
# Environment: LAUNCH (the launch binary), LAUNCH_SPANK_PLUGIN (the built
# spank_launch.so), LAUNCH_TEST_IMAGES (busybox, busybox.sqfs).
#
# The single-quoted scripts below run in the tasks: their $ are theirs;
# wait_until calls the predicates that shellcheck takes for unreachable.
# shellcheck disable=SC2016,SC2317
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
. "$HERE/cluster.sh"
REGISTRY_SH_DIR=$HERE/../registry
. "$REGISTRY_SH_DIR/registry.sh"

require_root "a Slurm cluster"
require_userns
require_fuse
require_cmd srun sbatch salloc squeue sinfo slurmctld slurmd munged setpriv ip nsenter unshare mksquashfs \
	skopeo docker-registry sha256sum
: "${LAUNCH_SPANK_PLUGIN:?LAUNCH_SPANK_PLUGIN must be the built spank_launch.so}"
[ -f "$LAUNCH_SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (apt-get install libslurm-dev, reconfigure)"
[ -d "$LAUNCH_TEST_IMAGES/busybox" ] || skip "$LAUNCH_TEST_IMAGES/busybox missing (the images fixture)"

NODES="n1 n2 n3 n4"
CL=$T/slurm
PLUG=$T/spank_launch.so
install -m 0755 "$LAUNCH_SPANK_PLUGIN" "$PLUG"
printf 'required %s launch=%s\n' "$PLUG" "$L" >"$T/plugstack.conf"
on_exit "slurm_stop '$CL'"
t_start=$(now_ms)
SLURM_CLUSTER_SHARED="$(cd "$(dirname "$L")/.." && pwd) $LAUNCH_TEST_IMAGES $T" \
	LAUNCH_TEST_NODES=4 slurm_start "$CL" "$T/plugstack.conf" || die "the 4-node Slurm cluster did not start"
say "cluster up in $(($(now_ms) - t_start)) ms"

DATA=$T/data
user_dir "$DATA" "$T/out"
# js ARGS...: as the test user, from $T, with the test's store and site
# config (the registry's CA); sets rc/out/err
js() {
	capture as_user env XDG_DATA_HOME="$DATA" LAUNCH_CONFIG="$T/site.json" \
		sh -c 'cd "$1" && shift && exec timeout -k 5 120 "$@"' sh "$T" "$@"
}
job_out() { printf '%s/out/%s.out' "$T" "$1"; }
line_list() { sort | tr '\n' ' ' | sed 's/ $//'; }
# node_tmp NODE: NODE's /tmp, seen from here
node_tmp() { printf '%s/nodes/%s/tmp' "$CL" "$1"; }
pins_on() { ls "$1/launch-$TU_UID/slurm-pins" 2>/dev/null | line_list; }

# Image B: the busybox image with another marker
cp -a "$LAUNCH_TEST_IMAGES/busybox" "$T/other"
echo other-image >"$T/other/etc/image-marker"
mksquashfs "$T/other" "$T/other.sqfs" -quiet -noappend -all-root >/dev/null || die "mksquashfs failed"
chmod 0644 "$T/other.sqfs"
echo '{}' >"$T/site.json"
js "$L" import "$SQFS" pinme:1
assert_eq 0 "$rc" "import the busybox image as pinme:1"
js "$L" import "$T/other.sqfs" other:1
assert_eq 0 "$rc" "import another image as other:1"
js "$L" inspect pinme:1
DIGEST_A=$(printf '%s\n' "$out" | sed -n 's/.*"digest": "sha256:\([0-9a-f]*\)".*/\1/p')
MN_IMAGES="$SQFS $T/other.sqfs $DATA/launch/images/$DIGEST_A.sqfs"
. "$HERE/multinode_lib.sh"

say "# one image per job: a tag moved between two steps of a batch job"
cat >"$T/moved.sh" <<EOF
#!/bin/sh
srun -N4 -n4 --container-image=pinme:1 sh -c 'echo \$(hostname) \$(cat /etc/image-marker)'
"$L" tag other:1 pinme:1 && echo moved
srun -N4 -n4 --container-image=pinme:1 sh -c 'echo \$(hostname) \$(cat /etc/image-marker)'
echo pins \$(ls /tmp/launch-$TU_UID/slurm-pins)
echo var \${LAUNCH_CONTAINER_IMAGE_PIN:-unset}
srun -N1 -n1 --container-image=pinme:1 sh -c 'echo task \${LAUNCH_CONTAINER_IMAGE_PIN:-unset}'
EOF
chmod 0755 "$T/moved.sh"
js sbatch -N4 --wait -o "$(job_out moved)" "$T/moved.sh"
assert_eq 0 "$rc" "sbatch -N4 --wait moved.sh"
jout=$(cat "$(job_out moved)" 2>/dev/null)
say "$jout" | sed 's/^/  job| /'
jobid=$(printf '%s\n' "$out" | sed -n 's/^Submitted batch job //p')
assert_eq "n1 launch-test-image n1 launch-test-image n2 launch-test-image n2 launch-test-image n3 launch-test-image n3 launch-test-image n4 launch-test-image n4 launch-test-image" \
	"$(printf '%s\n' "$jout" | grep '^n[0-9] ' | line_list)" \
	"both steps run the digest the tag named at the job's first step, on all 4 nodes"
assert_contains "$jout" "moved" "the tag was moved between the steps"
assert_eq "pins $jobid.json" "$(printf '%s\n' "$jout" | grep '^pins')" "the job's pins file is on the batch host"
assert_eq "var unset" "$(printf '%s\n' "$jout" | grep '^var')" "the batch script's environment has no pin"
assert_eq "task unset" "$(printf '%s\n' "$jout" | grep '^task')" "nor does a task's"
assert_eq "" "$(pins_on "$(node_tmp n1)")" "the job epilog removed the pins file"
js srun -N4 -n4 --container-image=pinme:1 cat /etc/image-marker
assert_eq "0 other-image other-image other-image other-image" "$rc $(printf '%s\n' "$out" | line_list)" \
	"a new job runs what the tag names now"
assert_eq "" "$(pins_on /tmp)" "srun that made its allocation removed its pins file"
js "$L" tag "@$DIGEST_A" pinme:1
assert_nodes_clean "after the jobs"

say "# salloc: the pins live as long as the allocation"
js salloc -N2 sh -c 'srun -N2 -n2 --container-image=pinme:1 cat /etc/image-marker; ls /tmp/launch-'"$TU_UID"'/slurm-pins'
assert_eq 0 "$rc" "salloc -N2 with a container step"
assert_eq "launch-test-image launch-test-image" "$(printf '%s\n' "$out" | grep image | line_list)" "the step ran on 2 nodes"
assert_match "$out" '[0-9]+\.json' "the step's pin is kept during the allocation"
assert_eq "" "$(pins_on /tmp)" "and removed when salloc ends"

say "# a path is not pinned"
js srun -N2 -n2 --container-image="$SQFS" sh -c 'echo ${LAUNCH_CONTAINER_IMAGE_PIN:-unset}'
assert_eq "0 unset unset" "$rc $(printf '%s\n' "$out" | line_list)" "--container-image=PATH runs the file, unpinned"
js srun -N1 --container-image=nosuch:1 true
assert_true "an image found nowhere fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "nosuch" "and says which image"

say "# docker:// on 4 nodes: one download, by srun"
R=$T/reg
registry_test_open "$R"
PORT=$REG_PORT
registry_dir_archive "$LAUNCH_TEST_IMAGES/busybox" lab/bb:1 "$T/bb.tar" FROMREG=yes || die "cannot make the archive"
registry_fill "$R" open "$PORT" "docker-archive:$T/bb.tar" lab/bb:1 >/dev/null || die "registry_fill failed"
printf '{ "registry_ca_file": "%s" }\n' "$R/ca.crt" >"$T/site.json"
chmod 0644 "$T/site.json"
blob_gets() { grep -cE "GET /v2/lab/bb/blobs/sha256:[0-9a-f]+ HTTP/[0-9.]+\" 20[06]" "$R/open.log"; }
assert_eq 0 "$(blob_gets)" "no blob was downloaded yet"
REF=docker://127.0.0.1:$PORT/lab/bb:1
js srun -N4 -n4 --container-image="$REF" sh -c 'echo $(hostname) $(cat /etc/image-marker) $FROMREG'
assert_eq 0 "$rc" "srun -N4 --container-image=docker://... succeeds"
[ "$rc" = 0 ] || say "$err" | tail -n 5 | sed 's/^/  stderr| /'
assert_eq "n1 launch-test-image yes n2 launch-test-image yes n3 launch-test-image yes n4 launch-test-image yes" \
	"$(printf '%s\n' "$out" | line_list)" "the 4 nodes run the pulled image, with its config"
assert_eq 2 "$(blob_gets)" "its 2 blobs (config and layer) were downloaded once each, not once per node"
assert_true "the registry answers on the host's loopback" curl -sfk -o /dev/null "https://127.0.0.1:$PORT/v2/"
slurm_node_exec "$CL" n2 curl -sfk -o /dev/null "https://127.0.0.1:$PORT/v2/"
st=$?
assert_true "no node can reach it (curl status $st there)" test "$st" != 0
js srun -N4 -n4 --container-image="$REF" true
assert_eq "0 2" "$rc $(blob_gets)" "a second step uses the stored image: no download"
assert_nodes_clean "after the docker:// steps"

say "# node-local staging (plugstack stage_dir)"
queue_empty() { [ -z "$(squeue -h -u "$TU")" ]; }
printf 'required %s launch=%s stage_dir=/tmp/stage-$USER\n' "$PLUG" "$L" >/etc/slurm/plugstack.conf
STAGED="$DIGEST_A.sqfs"
# staged_open: on each node, the NODE of a process that has the staged copy open
staged_open() {
	for n in $NODES; do
		for p in $(slurm_node_procs "$CL" "$n"); do
			ls -l "/proc/$p/fd" 2>/dev/null | grep -q "/tmp/stage-$TU/job-[0-9]*/$STAGED" && echo "$n"
		done
	done | sort -u | line_list
}
cat >"$T/staged.sh" <<EOF
#!/bin/sh
srun -N4 -n4 --container-image=pinme:1 sh -c 'echo \$(hostname) \$(cat /etc/image-marker) \$(stat -c %i /tmp/stage-$TU/job-\$SLURM_JOB_ID/$STAGED)'
touch "$T/out/step1-done"
while [ ! -e "$T/out/go" ]; do sleep 0.1; done
srun -N4 -n4 --container-image=pinme:1 sh -c 'echo \$(hostname) \$(stat -c %i /tmp/stage-$TU/job-\$SLURM_JOB_ID/$STAGED)'
EOF
chmod 0755 "$T/staged.sh"
rm -f "$T/out/go" "$T/out/step1-done"
capture as_user env XDG_DATA_HOME="$DATA" sh -c "cd '$T' && sbatch -N4 -o '$(job_out staged)' '$T/staged.sh'"
assert_eq 0 "$rc" "sbatch -N4 staged.sh"
wait_until 60 test -e "$T/out/step1-done"
assert_true "the first step ran" test -e "$T/out/step1-done"
for n in $NODES; do
	assert_true "$n: the copy is in $n's own /tmp" ls "$(node_tmp "$n")/stage-$TU"/job-*/"$STAGED"
done
touch "$T/out/go"
wait_until 60 queue_empty
jout=$(cat "$(job_out staged)" 2>/dev/null)
say "$jout" | sed 's/^/  job| /'
first=$(printf '%s\n' "$jout" | grep ' launch-test-image ' | awk '{ print $1, $3 }' | line_list)
second=$(printf '%s\n' "$jout" | grep -v ' launch-test-image ' | grep '^n[0-9] ' | line_list)
assert_eq 4 "$(printf '%s\n' "$jout" | grep -c ' launch-test-image [0-9]')" "the first step ran on 4 nodes, each with its copy"
assert_eq "$first" "$second" "the second step reused each node's copy (same inode on each node)"
for n in $NODES; do
	assert_eq "" "$(ls "$(node_tmp "$n")/stage-$TU" 2>/dev/null)" "$n: the job epilog removed the staged copy"
done
say "# the container mounts the copy, not the store's file"
all_staged_open() { [ "$(staged_open)" = "n1 n2 n3 n4" ]; }
js sbatch -N4 -o "$(job_out hold)" --wrap "srun -N4 -n4 --container-image=pinme:1 sleep 120"
holdjob=$(printf '%s\n' "$out" | sed -n 's/^Submitted batch job //p')
wait_until 60 all_staged_open
assert_eq "n1 n2 n3 n4" "$(staged_open)" "on each node the image server reads the node's staged copy"
js scancel "$holdjob"
wait_until 60 queue_empty
printf 'required %s launch=%s\n' "$PLUG" "$L" >/etc/slurm/plugstack.conf
assert_nodes_clean "after the staged jobs"

say "test time $(($(now_ms) - t_start)) ms"
finish
