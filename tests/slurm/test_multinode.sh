#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The SPANK plugin on a 4-node Slurm on this one machine (cluster.sh with
# LAUNCH_TEST_NODES=4: each node a slurmd in network, UTS and mount
# namespaces of its own, with its own hostname, address, /tmp and spool
# directory), driven by srun, sbatch and salloc as the unprivileged test
# user: one container per node and step across the nodes of a step; named
# containers made on each node a step used, joined there by later steps and
# removed by every node's job epilog; batch jobs and allocations over
# several nodes; a cancelled step, and a node whose slurmd is killed in the
# middle of a job, leave nothing mounted or running on any node. Last, the
# stop of the cluster leaves no link, namespace, mount or process.
#
# The plugin runs with its default runtime directory, /tmp/launch-$UID: on
# each node in that node's /tmp, which the test reads from the root
# namespace as $CL/nodes/nK/tmp.
#
# Environment: LAUNCH (the launch binary), LAUNCH_SPANK_PLUGIN (the built
# spank_launch.so), LAUNCH_TEST_IMAGES (busybox.sqfs).
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
require_cmd srun sbatch salloc scancel squeue sinfo slurmctld slurmd munged setpriv ip nsenter unshare
: "${LAUNCH_SPANK_PLUGIN:?LAUNCH_SPANK_PLUGIN must be the built spank_launch.so}"
[ -f "$LAUNCH_SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (apt-get install libslurm-dev, reconfigure)"

NODES="n1 n2 n3 n4"
CL=$T/slurm
# srun loads plugstack plugins as the job user: a copy every user can read
PLUG=$T/spank_launch.so
install -m 0755 "$LAUNCH_SPANK_PLUGIN" "$PLUG"
printf 'required %s launch=%s\n' "$PLUG" "$L" >"$T/plugstack.conf"
# etc_files: the files of /etc/slurm and their checksums
etc_files() {
	find /etc/slurm -maxdepth 1 -type f -exec cksum {} + 2>/dev/null | sort
}
etc_before=$(etc_files)
netns_before=$(ip netns list 2>&1)
on_exit "slurm_stop '$CL'"
t_start=$(now_ms)
# the build tree and the images may be below /tmp (a checkout there), which
# each node has its own of: they stay shared, as on a cluster's file system
SLURM_CLUSTER_SHARED="$(cd "$(dirname "$L")/.." && pwd) $LAUNCH_TEST_IMAGES" \
	LAUNCH_TEST_NODES=4 slurm_start "$CL" "$T/plugstack.conf" || die "the 4-node Slurm cluster did not start"
say "cluster up in $(($(now_ms) - t_start)) ms"
TAG=$(cat "$CL/net/tag")

DATA=$T/data
user_dir "$DATA" "$T/out"
# js ARGS...: as the test user, from $T, with the test's store; sets rc/out/err
js() {
	capture as_user env XDG_DATA_HOME="$DATA" sh -c 'cd "$1" && shift && exec timeout -k 5 120 "$@"' sh "$T" "$@"
}
# a job's stdout file, as the test user can write it
job_out() { printf '%s/out/%s.out' "$T" "$1"; }

# ---- what is on the nodes, seen from the root namespace --------------------

MN_IMAGES="$SQFS"
. "$HERE/multinode_lib.sh"
# every_node_lists ERE: each node lists an instance whose name matches ERE
every_node_lists() {
	for n in $NODES; do
		instances "$n" | grep -Eqx "$1" || return 1
	done
}
all_idle() {
	[ "$(sinfo -h -N -o '%N %T' | sort | tr '\n' ' ')" = "n1 idle n2 idle n3 idle n4 idle " ]
}
job_gone() { [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; }
# field N: column N of each line of $out
field() { printf '%s\n' "$out" | cut -d' ' -f"$1"; }
line_list() { sort "$@" | tr '\n' ' ' | sed 's/ $//'; }
host_mnt=$(readlink /proc/self/ns/mnt)

say "# the cluster: 4 nodes, each its own host"
js srun -N4 sh -c 'echo "$(hostname) $SLURMD_NODENAME $(readlink /proc/self/ns/net) $(readlink /proc/self/ns/uts)"'
assert_eq "n1 n2 n3 n4" "$(field 1 | line_list)" "srun -N4 on the host: hostname in each task is its node's"
assert_eq "$(field 1 | line_list)" "$(field 2 | line_list)" "and SLURMD_NODENAME agrees"
assert_eq 4 "$(field 3 | sort -u | grep -c .)" "4 network namespaces"
assert_eq 4 "$(field 4 | sort -u | grep -c .)" "4 UTS namespaces"
js srun -N4 sh -c 'touch /tmp/on-$(hostname); echo "$(hostname) $(ls /tmp | grep ^on- | tr "\n" " ")"'
assert_eq "n1 on-n1 
n2 on-n2 
n3 on-n3 
n4 on-n4 " "$(printf '%s\n' "$out" | sort)" "each node has a /tmp of its own"
for n in $NODES; do rm -f "$CL/nodes/$n/tmp/on-$n"; done
capture sh "$HERE/cluster.sh" start "$T/slurm2"
assert_true "a second start, while this cluster runs, fails (status $rc)" test "$rc" != 0
assert_contains "$err" "already runs" "and says that a cluster runs"
capture env LAUNCH_TEST_NODES=4 sh "$HERE/cluster.sh" start "$CL"
assert_true "a second start in the same DIR fails (status $rc)" test "$rc" != 0
assert_contains "$err" "already runs" "and says that a cluster runs"
assert_true "the running cluster is not touched (all 4 nodes idle)" wait_until 10 all_idle
js srun -N4 hostname
assert_eq "n1 n2 n3 n4" "$(printf '%s\n' "$out" | line_list)" "and srun -N4 still works"

say "# srun -N4 -n8: one container per node and step, shared by the node's tasks"
js srun -N4 -n8 --container-image="$SQFS" sh -c \
	'echo "$SLURM_PROCID $(hostname) $(readlink /proc/self/ns/mnt) $(cat /etc/image-marker) $(id -u)"'
assert_eq 0 "$rc" "srun -N4 -n8 --container-image succeeds"
assert_eq 8 "$(printf '%s\n' "$out" | grep -c .)" "8 tasks ran"
assert_eq "0 1 2 3 4 5 6 7" "$(field 1 | sort -n | tr '\n' ' ' | sed 's/ $//')" "each task has its own SLURM_PROCID"
assert_eq "n1 n1 n2 n2 n3 n3 n4 n4" "$(field 2 | line_list)" "2 tasks on each node; hostname in a task is its node's"
assert_eq "launch-test-image $TU_UID" "$(printf '%s\n' "$out" | cut -d' ' -f4,5 | sort -u)" \
	"every task runs in the image, as the user"
for n in $NODES; do
	assert_eq 1 "$(printf '%s\n' "$out" | awk -v n="$n" '$2 == n { print $3 }' | sort -u | grep -c .)" \
		"the 2 tasks on $n share one mount namespace"
done
assert_eq 4 "$(field 3 | sort -u | grep -c .)" "the 4 nodes have 4 different mount namespaces"
assert_not_contains "$(field 3)" "$host_mnt" "none of them is the host's"
as_user_bg "$T/bg.pid" env XDG_DATA_HOME="$DATA" srun -N4 -n8 --container-image="$SQFS" sleep 3
assert_true "while a step runs, each node lists an instance slurm-JOB.0" wait_until 10 every_node_lists 'slurm-[0-9]+\.0'
running=$(all_instances)
assert_eq "n1 n2 n3 n4" "$(printf '%s\n' "$running" | cut -d: -f1 | line_list)" \
	"exactly one instance per node for the 8 tasks [$(printf '%s' "$running" | tr '\n' ' ')]"
assert_eq 1 "$(printf '%s\n' "$running" | cut -d: -f2 | sort -u | grep -c .)" "the same name on every node"
wait_exit "$BG" 30
assert_eq 0 "$rc" "the step ends well"
assert_nodes_clean "after the steps"

say "# --container-name: made on each node a step uses, joined by later steps, removed by every node's epilog"
cat >"$T/named.sh" <<EOF
#!/bin/sh
srun -N4 -n4 --container-name=c1 --container-image=$SQFS --container-writable \\
	sh -c 'echo "kept-\$(hostname)" > /marker; echo "A \$(hostname) \$(readlink /proc/self/ns/mnt)"'
srun -N4 -n8 --container-name=c1 sh -c 'echo "B \$(hostname) \$(readlink /proc/self/ns/mnt) \$(cat /marker)"'
srun -N2 -n2 -w n2,n3 --container-name=c2 --container-image=$SQFS sh -c 'echo "C \$(hostname)"'
srun -N4 -n4 sh -c 'echo "L \$(hostname) \$(ls /tmp/launch-$TU_UID/instances | grep json | tr "\n" " ")"'
touch $T/out/named.ready
i=0
while [ ! -e $T/out/named.go ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
EOF
chmod 0755 "$T/named.sh"
js sbatch --parsable -N4 -n8 -o "$(job_out named)" "$T/named.sh"
job=$out
assert_match "$job" '^[0-9]+$' "sbatch -N4 -n8 of a job with named containers: job $job"
if wait_until 60 test -e "$T/out/named.ready"; then
	pass "the job's steps ran"
	CHECKS=$((CHECKS + 1))
	assert_eq "n1 n2 n3 n4" "$(all_instances | grep -- "slurm-$job-c1\$" | cut -d: -f1 | line_list)" \
		"while the job runs, c1 is on every node [$(all_instances | tr '\n' ' ')]"
	assert_eq "n2 n3" "$(all_instances | grep -- "-c2\$" | cut -d: -f1 | line_list)" \
		"c2 only on n2 and n3, the nodes its step used"
	assert_eq "slurm-$job-c1" "$(instances n1)" "n1 has only slurm-$job-c1"
else
	fail "the job did not reach its end within 60 s: $(tr '\n' ' ' <"$(job_out named)" 2>/dev/null)"
fi
: >"$T/out/named.go"
wait_until 30 job_gone "$job"
out=$(cat "$(job_out named)" 2>/dev/null)
say "$out" | sed 's/^/  | /'
a=$(printf '%s\n' "$out" | grep '^A ')
b=$(printf '%s\n' "$out" | grep '^B ')
assert_eq "n1 n2 n3 n4" "$(printf '%s\n' "$a" | cut -d' ' -f2 | line_list)" "the first step made c1 on all 4 nodes"
assert_eq 4 "$(printf '%s\n' "$a" | cut -d' ' -f3 | sort -u | grep -c .)" "4 containers, one mount namespace each"
assert_eq 8 "$(printf '%s\n' "$b" | grep -c .)" "the second step ran 8 tasks in c1"
for n in $NODES; do
	ns_a=$(printf '%s\n' "$a" | awk -v n="$n" '$2 == n { print $3 }')
	assert_eq "$ns_a" "$(printf '%s\n' "$b" | awk -v n="$n" '$2 == n { print $3 }' | sort -u)" \
		"on $n both tasks of the second step are in the first step's mount namespace"
	assert_eq "kept-$n kept-$n" "$(printf '%s\n' "$b" | awk -v n="$n" '$2 == n { print $4 }' | line_list)" \
		"and see what the first step wrote there"
done
assert_eq "C n2 C n3" "$(printf '%s\n' "$out" | grep '^C ' | line_list)" "c2's step ran on n2 and n3"
assert_eq "L n1 slurm-$job-c1.json
L n2 slurm-$job-c1.json slurm-$job-c2.json
L n3 slurm-$job-c1.json slurm-$job-c2.json
L n4 slurm-$job-c1.json" "$(printf '%s\n' "$out" | grep '^L ' | sed 's/ *$//' | sort)" \
	"each node's /tmp/launch-$TU_UID lists its own containers"
assert_nodes_clean "after the job with named containers (each node's epilog)" 15

say "# sbatch -N4: several container steps, and the batch step in a container"
cat >"$T/steps.sh" <<EOF
#!/bin/sh
srun -N4 -n4 --container-image=$SQFS sh -c 'echo "S1 \$(hostname) \$(cat /etc/image-marker)"'
srun -N4 -n8 --container-image=$SQFS sh -c 'echo "S2 \$(hostname) \$SLURM_STEP_ID"'
srun -N1 -n1 -w n4 --container-image=$SQFS sh -c 'echo "S3 \$(hostname) \$SLURM_STEP_ID"'
srun -N4 -n4 --container-image=$SQFS --container-mounts=$T/out:/out sh -c 'echo "S4 \$(hostname)" > /out/steps.\$(hostname)'
echo "batch on \$(hostname)"
EOF
chmod 0755 "$T/steps.sh"
js sbatch --wait -N4 -n8 -o "$(job_out steps)" "$T/steps.sh"
assert_eq 0 "$rc" "sbatch -N4 -n8 --wait of four container steps"
out=$(cat "$(job_out steps)" 2>/dev/null)
say "$out" | sed 's/^/  | /'
assert_eq "S1 n1 launch-test-image
S1 n2 launch-test-image
S1 n3 launch-test-image
S1 n4 launch-test-image" "$(printf '%s\n' "$out" | grep '^S1 ' | sort)" "step 0: one task per node, in the image"
assert_eq "S2 n1 1 S2 n1 1 S2 n2 1 S2 n2 1 S2 n3 1 S2 n3 1 S2 n4 1 S2 n4 1" \
	"$(printf '%s\n' "$out" | grep '^S2 ' | line_list)" "step 1: two tasks per node"
assert_eq "S3 n4 2" "$(printf '%s\n' "$out" | grep '^S3 ')" "step 2: on n4 only"
assert_eq "S4 n1 S4 n2 S4 n3 S4 n4" "$(cat "$T"/out/steps.n? 2>/dev/null | line_list)" \
	"step 3: each node wrote through --container-mounts"
assert_eq "batch on n1" "$(printf '%s\n' "$out" | grep '^batch ')" "the batch script ran on n1"
js sbatch --wait -N4 --container-image="$SQFS" -o "$(job_out incontainer)" \
	--wrap 'cat /etc/image-marker; hostname; id -u'
assert_eq 0 "$rc" "sbatch -N4 --container-image --wait"
assert_eq "launch-test-image
n1
$TU_UID" "$(cat "$(job_out incontainer)" 2>/dev/null)" "the batch script runs in the container, on n1, as the user"
assert_nodes_clean "after the batch jobs"

say "# salloc -N2, then srun"
js salloc -Q -N2 srun --container-image="$SQFS" sh -c \
	'echo "$(hostname) $(readlink /proc/self/ns/mnt) $(cat /etc/image-marker)"'
assert_eq 0 "$rc" "salloc -N2 srun --container-image"
assert_eq "n1 n2" "$(field 1 | line_list)" "one task on each of the 2 nodes"
assert_eq 2 "$(field 2 | sort -u | grep -c .)" "in 2 containers"
assert_eq "launch-test-image" "$(field 3 | sort -u)" "both in the image"
js salloc -Q -N2 -n4 sh -c "srun -n2 --container-image='$SQFS' --container-name=s cat /etc/image-marker; srun -n4 --container-name=s hostname"
assert_eq "launch-test-image launch-test-image n1 n1 n2 n2" "$(printf '%s\n' "$out" | line_list)" \
	"salloc -N2 with two steps in a named container"
assert_nodes_clean "after the allocations"

say "# scancel of a running container step"
cat >"$T/cancel.sh" <<EOF
#!/bin/sh
srun -N4 -n8 --container-image=$SQFS sleep 300
echo "step-status \$?"
srun -N4 -n4 --container-image=$SQFS sh -c 'echo "after \$(hostname)"'
EOF
chmod 0755 "$T/cancel.sh"
js sbatch --parsable -N4 -n8 -o "$(job_out cancel)" "$T/cancel.sh"
job=$out
sleeps() { user_procs | grep -c ':sleep$'; }
if wait_until 30 eval '[ "$(sleeps)" = 8 ]'; then
	pass "job $job: 8 container tasks run on 4 nodes"
	CHECKS=$((CHECKS + 1))
	assert_eq "n1 n2 n3 n4" "$(all_instances | grep -- "slurm-$job\\.0\$" | cut -d: -f1 | line_list)" \
		"step $job.0 has an instance on each node"
	t0=$(now_ms)
	js scancel "$job.0"
	assert_eq 0 "$rc" "scancel $job.0 as the user"
	wait_until 30 job_gone "$job"
	say "the job ended $(($(now_ms) - t0)) ms after scancel"
	out=$(cat "$(job_out cancel)" 2>/dev/null)
	assert_match "$out" '^step-status [1-9]' "the cancelled step fails in the batch script"
	assert_eq "after n1 after n2 after n3 after n4" "$(printf '%s\n' "$out" | grep '^after ' | line_list)" \
		"the job goes on: its next container step runs on all 4 nodes"
else
	fail "job $job: the 8 tasks did not start within 30 s: [$(user_procs | tr '\n' ' ')] $(cat "$(job_out cancel)" 2>/dev/null)"
	scancel "$job" 2>/dev/null
fi
assert_nodes_clean "after scancel of a container step"

say "# a node's slurmd killed while a container step runs there"
as_user_bg "$T/bg.pid" env XDG_DATA_HOME="$DATA" srun -N4 -n8 --container-image="$SQFS" \
	sh -c 'sleep 4; echo "done $(hostname)"'
if wait_until 30 eval '[ "$(sleeps)" = 8 ]'; then
	pass "8 container tasks run on 4 nodes"
	CHECKS=$((CHECKS + 1))
	old=$(slurm_node_pid "$CL" n3)
	kill -KILL "$old"
	assert_true "n3's slurmd (pid $old) is gone" wait_until 5 eval '! slurm_node_pid "$CL" n3 >/dev/null'
	wait_exit "$BG" 30
	assert_eq 0 "$rc" "srun ends well: n3's step daemon carries on without slurmd"
	assert_eq "done n1 done n1 done n2 done n2 done n3 done n3 done n4 done n4" \
		"$(line_list "$T/bg.out")" "every task finished, n3's too"
	assert_nodes_clean "the step's end on every node, n3 without its slurmd"
else
	fail "the 8 tasks did not start within 30 s: [$(user_procs | tr '\n' ' ')] $(cat "$T/bg.err")"
	kill "$BG" 2>/dev/null
fi
t0=$(now_ms)
slurm_restart_slurmd "$CL" n3
assert_eq 0 "$?" "n3's slurmd starts again"
assert_true "all 4 nodes are idle again" wait_until 30 all_idle
say "n3 back and the cluster idle in $(($(now_ms) - t0)) ms"

say "# a node's slurmd killed, then the job cancelled: the node's containers go when it is back"
as_user_bg "$T/bg.pid" env XDG_DATA_HOME="$DATA" srun -N4 -n8 --container-name=k --container-image="$SQFS" sleep 300
if wait_until 30 eval '[ "$(sleeps)" = 8 ]'; then
	pass "8 container tasks run in named containers on 4 nodes"
	CHECKS=$((CHECKS + 1))
	job=$(squeue -h -u "$TU" -o %i | head -n 1)
	kill -KILL "$(slurm_node_pid "$CL" n3)"
	wait_until 5 eval '! slurm_node_pid "$CL" n3 >/dev/null'
	js scancel "$job"
	assert_eq 0 "$rc" "scancel $job as the user"
	wait_exit "$BG" 30
	assert_true "srun ends (status $rc)" test "$rc" != timeout
	CHECKS=$((CHECKS + 1))
	others_clean() {
		[ -z "$(user_procs | grep -v '^n3:')$(all_instances | grep -v '^n3:')" ]
	}
	if wait_until 15 others_clean; then
		pass "n1, n2 and n4: the tasks and the containers are gone"
	else
		fail "n1, n2 and n4: left [$(user_procs | grep -v '^n3:' | tr '\n' ' ')] [$(all_instances | grep -v '^n3:' | tr '\n' ' ')]"
	fi
	say "n3 while its slurmd is down: [$(user_procs | grep '^n3:' | tr '\n' ' ')] [$(all_instances | grep '^n3:' | tr '\n' ' ')]"
	slurm_restart_slurmd "$CL" n3
	assert_eq 0 "$?" "n3's slurmd starts again"
	assert_nodes_clean "once n3 is back: its step killed and its epilog run" 30
	assert_true "job $job ends" wait_until 30 job_gone "$job"
	assert_true "all 4 nodes are idle again" wait_until 30 all_idle
else
	fail "the 8 tasks did not start within 30 s: [$(user_procs | tr '\n' ' ')] $(cat "$T/bg.err")"
	kill "$BG" 2>/dev/null
fi

say "# stop: nothing of the cluster is left"
inos=$(for n in $NODES; do _slurm_netns_ino "$CL" "$n"; done | tr '\n' ' ')
subnet=$(cat "$CL/net/subnet")
assert_eq 4 "$(printf '%s' "$inos" | wc -w)" "4 network namespaces before the stop ($inos)"
t0=$(now_ms)
slurm_stop "$CL"
assert_eq 0 "$?" "slurm_stop succeeds ($(($(now_ms) - t0)) ms)"
assert_eq "" "$(ip -o link show | grep -F "lt$TAG")" "ip link: no bridge or veth lt$TAG*"
assert_eq "" "$(ip -4 -o addr show | grep -F " $subnet.")" "ip addr: no address of the cluster"
assert_eq "$netns_before" "$(ip netns list 2>&1)" "ip netns: as before"
assert_eq "" "$(grep -F "$CL" /proc/self/mountinfo)" "/proc/self/mountinfo: nothing under $CL"
in_ns=$(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null | while read -r p l; do
	l=${l#net:\[}
	l=${l%\]}
	[ -n "$l" ] || continue
	case " $inos " in *" $l "*) echo "${p%/ns/net}" ;; esac
done)
assert_eq "" "$in_ns" "no process is left in the nodes' network namespaces"
assert_eq "" "$(_slurm_marked "$CL")$(_slurm_stepds "$CL")" "no daemon or step daemon of the cluster is left"
assert_eq "" "$(user_procs)" "no process of $TU on a node"
assert_clean "the cluster's jobs (processes of the test, mounts on the host)"
assert_eq "$etc_before" "$(etc_files)" "/etc/slurm is as before"
say "test time $(($(now_ms) - t_start)) ms"
finish
