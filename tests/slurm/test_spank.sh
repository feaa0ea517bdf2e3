#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The SPANK plugin and `launch oci` under a real single-node Slurm (started
# here with cluster.sh, as root), driven by srun, sbatch and salloc as the
# unprivileged test user: every --container-* option and its environment
# twin, one instance per node and step shared by all its tasks, named
# containers across the steps of a job and their removal at its end, the
# environment precedence, MPI over PMI-2 and PMIx, the errors a user sees,
# the plugstack.conf arguments, and Slurm's own --container with the
# oci.conf lines from etc/oci.conf.in.
#
# Environment: LAUNCH (the launch binary), LAUNCH_SPANK_PLUGIN (the built
# spank_launch.so), LAUNCH_TEST_IMAGES (busybox.sqfs, busybox/, mpi.sqfs),
# LAUNCH_SOURCE_DIR (the source tree, for etc/oci.conf.in).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
. "$HERE/cluster.sh"

require_root "a Slurm cluster"
require_userns
require_fuse
require_cmd srun sbatch salloc slurmctld slurmd munged sinfo setpriv
: "${LAUNCH_SPANK_PLUGIN:?LAUNCH_SPANK_PLUGIN must be the built spank_launch.so}"
[ -f "$LAUNCH_SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (apt-get install libslurm-dev, reconfigure)"
MPI_IMG=$LAUNCH_TEST_IMAGES/mpi.sqfs
[ -f "$MPI_IMG" ] || skip "$MPI_IMG missing (the mpi fixture runs tests/fixtures/mkmpi.sh, which needs libmpich-dev and libopenmpi-dev)"
SRC=${LAUNCH_SOURCE_DIR:-$HERE/../..}

# srun loads plugstack plugins as the job user: a copy every user can read
PLUG=$T/spank_launch.so
install -m 0755 "$LAUNCH_SPANK_PLUGIN" "$PLUG"
RT=$T/rt-$TU_UID
INST=$RT/instances
CL=$T/slurm
SITE_ARGS="launch=$L runtime_dir=$T/rt-\$UID"
printf 'required %s %s\n' "$PLUG" "$SITE_ARGS" >"$T/plugstack.conf"
sed -e "s|@CMAKE_INSTALL_FULL_BINDIR@/launch|$L|g" -e "s|/tmp/launch-oci-%u|$T/oci-%u|g" "$SRC/etc/oci.conf.in" >"$T/oci.conf"
on_exit "slurm_stop '$CL'"
SLURM_CLUSTER_CPUS=32 SLURM_CLUSTER_OCI_CONF=$T/oci.conf slurm_start "$CL" "$T/plugstack.conf" ||
	die "the Slurm cluster did not start"

# srun ARGS...: as the test user, from $T, with the test's store; sets rc/out/err
DATA=$T/data
user_dir "$DATA"
js() {
	capture as_user env XDG_DATA_HOME="$DATA" sh -c 'cd "$1" && shift && exec "$@"' sh "$T" "$@"
}
instances() { ls "$INST" 2>/dev/null | grep '\.json$'; }
node_state() { sinfo -h -N -o %T | head -n 1; }
node_idle() { [ "$(node_state)" = idle ]; }

say "# options in srun --help"
js srun --help
for o in container-image container-mounts container-workdir container-writable container-readonly \
	container-remap-root no-container-remap-root container-mount-home no-container-mount-home \
	container-env container-entrypoint no-container-entrypoint container-name container-mpi container-gpu; do
	assert_match "$out" "--$o" "srun --help lists --$o"
done

say "# a step in a container"
js srun --container-image="$SQFS" sh -c 'cat /etc/image-marker; id -u'
assert_eq 0 "$rc" "srun --container-image=FILE.sqfs succeeds"
assert_eq "launch-test-image
$TU_UID" "$out" "the task runs in the image, as the user"
host_mnt=$(readlink /proc/self/ns/mnt)

say "# srun --pty launch run: the command gets a terminal of the container (/dev/pts/N)"
js script -qec "srun --pty '$L' run '$SQFS' sh -c 'tty; echo tty-done'" /dev/null
out=$(printf '%s\n' "$out" | tr -d '\r\000' | sed 's/\^@//g')
assert_contains "$out" "tty-done" "srun --pty launch run runs the command"
assert_match "$out" '^/dev/pts/[0-9]+$' "tty prints /dev/pts/N in launch run under srun --pty"

say "# --container-gpu and --container-mpi that no site hook serves are not silent"
js srun --container-image="$SQFS" --container-gpu true
assert_eq 0 "$rc" "the step runs"
assert_contains "$err" "warning: --gpu: no site hook on this node provides the host's GPUs" "and warns on the job's stderr"
assert_not_contains "$err" "error:" "as a warning, not an error"
js env LAUNCH_CONTAINER_MPI=1 srun --container-image="$SQFS" true
assert_contains "$err" "warning: --mpi: no site hook on this node provides the host's MPI" "LAUNCH_CONTAINER_MPI=1 too"

say "# a task gets descriptors 0-2 only, none of slurmstepd's (PMI_FD's when MPI asks)"
# ls lists its own 3 as well (the lowest free descriptor, see tests/security/test_fds.sh)
js srun --container-image="$SQFS" sh -c 'exec ls -1 /proc/self/fd'
assert_eq "0 1 2 3 " "$(printf '%s\n' "$out" | sort -n | tr '\n' ' ')" "a container task sees 0, 1 and 2 only"
js srun --mpi=pmi2 --container-image="$SQFS" sh -c 'echo "PMI_FD=$PMI_FD"; exec ls -1 /proc/self/fd'
pmi=$(printf '%s\n' "$out" | sed -n 's/^PMI_FD=//p')
assert_match "$pmi" '^[0-9]+$' "with --mpi=pmi2 the task has PMI_FD"
assert_eq "0 1 2 3 $pmi " "$(printf '%s\n' "$out" | grep -v PMI_FD | sort -n | tr '\n' ' ')" \
	"and that descriptor stays open, with nothing else"

say "# 8 tasks share one instance"
js srun -n8 --container-image="$SQFS" sh -c \
	'echo "$SLURM_PROCID $SLURM_LOCALID $(readlink /proc/self/ns/mnt) $(grep -c fuse /proc/self/mountinfo)"; sleep 1'
assert_eq 0 "$rc" "srun -n8 succeeds"
assert_eq 8 "$(printf '%s\n' "$out" | grep -c .)" "8 tasks ran"
assert_eq "0 1 2 3 4 5 6 7" "$(printf '%s\n' "$out" | cut -d' ' -f1 | sort -n | tr '\n' ' ' | sed 's/ $//')" \
	"each task has its own SLURM_PROCID"
assert_eq "0 1 2 3 4 5 6 7" "$(printf '%s\n' "$out" | cut -d' ' -f2 | sort -n | tr '\n' ' ' | sed 's/ $//')" \
	"each task has its own SLURM_LOCALID"
ns=$(printf '%s\n' "$out" | cut -d' ' -f3 | sort -u)
assert_eq 1 "$(printf '%s\n' "$ns" | grep -c .)" "all 8 tasks are in one mount namespace"
assert_true "that namespace is not the host's ($ns)" test "$ns" != "$host_mnt"
assert_eq 1 "$(printf '%s\n' "$out" | cut -d' ' -f4 | sort -u)" "one FUSE mount (one server) serves all tasks"
# while a step runs: one instance state on the node
js sh -c "srun -n4 --container-image='$SQFS' sleep 3 & sleep 1.5; ls '$INST' | grep -c '\\.json\$'; wait"
assert_eq 1 "$out" "a running 4-task step has one instance on the node"
assert_eq "" "$(instances)" "the step's instance is gone after the step"
assert_clean "steps with a container"

say "# options and their environment twins"
mkdir -p "$T/data-rw" "$T/data-ro" && echo ro-content >"$T/data-ro/f" && chown -R "$TU_UID" "$T/data-rw" "$T/data-ro"
js srun --container-image="$SQFS" --container-mounts="$T/data-ro:/ro:ro,$T/data-rw:/rw" \
	sh -c 'cat /ro/f; echo w > /rw/f && echo rw-ok; touch /ro/x 2>/dev/null || echo ro-refused'
assert_eq "ro-content
rw-ok
ro-refused" "$out" "--container-mounts: a read-only and a read-write bind"
assert_eq w "$(cat "$T/data-rw/f" 2>/dev/null)" "the write reached the host directory"
# pyxis's flags, tmpfs and umount reach launch start whole (remote.c writes
# each parsed mount back with launch_mountspec_format)
printf '#!/bin/sh\necho ran\n' >"$T/data-ro/s" && chmod 0755 "$T/data-ro/s" && chown "$TU_UID" "$T/data-ro/s"
js srun --container-image="$SQFS" \
	--container-mounts="$T/data-ro:/fl:ro+noexec+nosuid+rprivate,tmpfs:/scratch:mode=0700,umount:/dev/shm" \
	sh -c 'awk '\''$5 == "/fl" { print "opts=," $6 "," }'\'' /proc/self/mountinfo; /fl/s 2>/dev/null || echo noexec-refused
stat -c "scratch=%a" /scratch; echo "shm-mounts=$(awk '\''$5 == "/dev/shm"'\'' /proc/self/mountinfo | wc -l)"'
for want in ",ro," ",nosuid," ",noexec," noexec-refused scratch=700 shm-mounts=0; do
	assert_contains "$out" "$want" "--container-mounts with pyxis flags, tmpfs and umount: $want"
done
js env LAUNCH_CONTAINER_MOUNTS="$T/data-ro:/ro2:ro" srun --container-image="$SQFS" cat /ro2/f
assert_eq ro-content "$out" "LAUNCH_CONTAINER_MOUNTS"
js srun --container-image="$SQFS" --container-workdir=/etc pwd
assert_eq /etc "$out" "--container-workdir"
js env LAUNCH_CONTAINER_WORKDIR=/bin srun --container-image="$SQFS" pwd
assert_eq /bin "$out" "LAUNCH_CONTAINER_WORKDIR"
js srun --container-image="$SQFS" --container-mounts="$T:$T" pwd
assert_eq "$T" "$out" "without a workdir, the submit directory is the task's when it is visible inside"
js srun --container-image="$SQFS" pwd
assert_eq / "$out" "and / when it is not"
js srun --container-image="$SQFS" --container-writable sh -c 'echo x > /new && cat /new'
assert_eq x "$out" "--container-writable: the image can be written"
js srun --container-image="$SQFS" --container-readonly sh -c 'echo x > /new 2>/dev/null || echo refused'
assert_eq refused "$out" "--container-readonly: it cannot"
js env LAUNCH_CONTAINER_WRITABLE=1 srun --container-image="$SQFS" sh -c 'echo x > /new && cat /new'
assert_eq x "$out" "LAUNCH_CONTAINER_WRITABLE=1"
js srun --container-image="$SQFS" --container-writable sh -c 'cat /new 2>/dev/null || echo none'
assert_eq none "$out" "the writable layer of a step is discarded with it"
js srun --container-image="$SQFS" --container-remap-root id -u
assert_eq 0 "$out" "--container-remap-root"
js env LAUNCH_CONTAINER_REMAP_ROOT=1 srun --container-image="$SQFS" --no-container-remap-root id -u
assert_eq "$TU_UID" "$out" "--no-container-remap-root wins over its twin"
js env LAUNCH_CONTAINER_REMAP_ROOT=1 srun --container-image="$SQFS" id -u
assert_eq 0 "$out" "LAUNCH_CONTAINER_REMAP_ROOT=1"
js srun --container-image="$SQFS" --container-mount-home sh -c "test -d '$TU_HOME' && echo home"
assert_eq home "$out" "--container-mount-home"
js srun --container-image="$SQFS" --no-container-mount-home sh -c "test -e '$TU_HOME' && echo home || echo no-home"
assert_eq no-home "$out" "--no-container-mount-home"
js env LAUNCH_CONTAINER_MOUNT_HOME=0 srun --container-image="$SQFS" sh -c "test -e '$TU_HOME' && echo home || echo no-home"
assert_eq no-home "$out" "LAUNCH_CONTAINER_MOUNT_HOME=0"
js env LAUNCH_CONTAINER_IMAGE="$SQFS" srun cat /etc/image-marker
assert_eq launch-test-image "$out" "LAUNCH_CONTAINER_IMAGE"

say "# images from the store: entrypoint, environment, working directory"
js "$L" import --entrypoint "/bin/echo from-entrypoint" --cmd "default args" -e IMG_VAR=img -e PATH=/bin:/usr/bin \
	-w /etc "$SQFS" bb
assert_eq 0 "$rc" "import of the test image as bb"
js srun --container-image=bb sh -c 'echo "$IMG_VAR $(pwd)"'
assert_eq "img /etc" "$out" "a store name; the image's Env and WorkingDir"
short=$(as_user env XDG_DATA_HOME="$DATA" "$L" images --format json 2>/dev/null | tr ',' '\n' |
	sed -n 's/.*"digest": *"sha256:\([0-9a-f]\{12\}\).*/\1/p' | head -n 1)
js srun --container-image="@$short" cat /etc/image-marker
assert_eq launch-test-image "$out" "--container-image=@DIGEST-PREFIX (@$short)"
js srun --container-image=bb --container-entrypoint one two
assert_eq "from-entrypoint one two" "$out" "--container-entrypoint runs the image's entrypoint before the command"
js env LAUNCH_CONTAINER_ENTRYPOINT=1 srun --container-image=bb three
assert_eq "from-entrypoint three" "$out" "LAUNCH_CONTAINER_ENTRYPOINT=1"
js env LAUNCH_CONTAINER_ENTRYPOINT=1 srun --container-image=bb --no-container-entrypoint echo alone
assert_eq alone "$out" "--no-container-entrypoint"
js env IMG_VAR=job JOBVAR=j LD_LIBRARY_PATH=/nowhere srun -n2 --container-image=bb sh -c \
	'echo "$IMG_VAR $JOBVAR ${LD_LIBRARY_PATH:-unset} $PATH"'
assert_eq "img j unset /bin:/usr/bin" "$(printf '%s\n' "$out" | sort -u)" \
	"precedence: the image's variables over the job's; the job's others pass; LD_LIBRARY_PATH does not"
js env IMG_VAR=job srun --container-image=bb --container-env=IMG_VAR sh -c 'echo $IMG_VAR'
assert_eq job "$out" "--container-env=NAME: the job's value wins"
js env IMG_VAR=job LAUNCH_CONTAINER_ENV=IMG_VAR srun --container-image=bb sh -c 'echo $IMG_VAR'
assert_eq job "$out" "LAUNCH_CONTAINER_ENV"
js env SLURM_PROCID=99 srun -n2 --container-image=bb sh -c 'echo $SLURM_PROCID'
assert_eq "0 1" "$(printf '%s\n' "$out" | sort -n | tr '\n' ' ' | sed 's/ $//')" "each task's Slurm variables win"

say "# an image made by launch build"
mkdir -p "$T/ctx"
printf 'built by launch build\n' >"$T/ctx/note.txt"
printf 'FROM %s\nENV BUILT=yes\nCOPY note.txt /etc/note.txt\nWORKDIR /etc\nCMD ["cat", "/etc/note.txt"]\n' \
	"$SQFS" >"$T/ctx/Containerfile"
chown -R "$TU_UID:$TU_GID" "$T/ctx"
js "$L" build -q -t lab/built:1 "$T/ctx"
assert_eq 0 "$rc" "launch build of a busybox-based image"
js srun -n2 --container-image=lab/built:1 sh -c 'echo "$BUILT $(pwd) $(cat /etc/note.txt)"'
assert_eq "yes /etc built by launch build" "$(printf '%s\n' "$out" | sort -u)" \
	"srun --container-image runs the built image: its files, Env and WorkingDir, on each task"

say "# named containers across the steps of a batch job"
cat >"$T/named.sh" <<EOF
#!/bin/sh
srun -n1 --container-name=c1 --container-image=$SQFS --container-writable sh -c 'echo kept > /marker; readlink /proc/self/ns/mnt'
srun -n1 --container-name=c1 sh -c 'cat /marker; readlink /proc/self/ns/mnt'
srun --container-name=c1 -n2 cat /marker
ls $INST
EOF
chmod 0755 "$T/named.sh"
js sbatch -n2 --wait -o "$T/named.out" "$T/named.sh"
assert_eq 0 "$rc" "sbatch --wait of the job"
named=$(cat "$T/named.out" 2>/dev/null)
say "$named" | sed 's/^/  | /'
assert_eq kept "$(printf '%s\n' "$named" | sed -n 2p)" "a later step sees what the first wrote"
assert_eq "$(printf '%s\n' "$named" | sed -n 1p)" "$(printf '%s\n' "$named" | sed -n 3p)" \
	"both steps ran in the same mount namespace"
assert_true "that namespace is a container's" test "$(printf '%s\n' "$named" | sed -n 1p)" != "$host_mnt"
assert_eq "kept
kept" "$(printf '%s\n' "$named" | sed -n 4,5p)" "a 2-task step joins it too"
assert_match "$named" '^slurm-[0-9]+-c1\.json$' "the container is slurm-JOB-c1 during the job"
wait_until 10 sh -c "! ls '$INST' 2>/dev/null | grep -q -- '-c1'"
assert_eq "" "$(instances)" "the named container is removed when the job ends"
assert_clean "the named container"

say "# sbatch and salloc with a container"
printf '#!/bin/sh\ncat /etc/image-marker\nid -u\n' >"$T/batch.sh"
chmod 0755 "$T/batch.sh"
js sbatch --wait --container-image="$SQFS" -o "$T/batch.out" "$T/batch.sh"
assert_eq 0 "$rc" "sbatch --container-image --wait"
assert_eq "launch-test-image
$TU_UID" "$(cat "$T/batch.out" 2>/dev/null)" "the batch script runs in the container"
js salloc -Q --container-image="$SQFS" srun cat /etc/image-marker
assert_eq launch-test-image "$out" "salloc --container-image: the allocation's srun runs in it"
assert_eq "" "$(instances)" "no instance left after sbatch and salloc"

say "# MPI"
js srun --mpi=pmi2 -n2 --container-image="$MPI_IMG" hello-mpich
assert_eq "rank 0 of 2 sum 1 token 1
rank 1 of 2 sum 1 token 0" "$(printf '%s\n' "$out" | sort)" "MPICH over PMI-2: 2 ranks reduce and pass a token"
js srun --mpi=pmi2 -n4 --container-image="$MPI_IMG" hello-mpich
assert_eq 4 "$(printf '%s\n' "$out" | grep -c 'of 4 sum 6')" "MPICH over PMI-2: 4 ranks"
if js srun --mpi=list && printf '%s\n' "$out$err" | grep -q pmix; then
	js srun --mpi=pmix -n2 --container-image="$MPI_IMG" hello-ompi
	assert_eq "rank 0 of 2 sum 1 token 1
rank 1 of 2 sum 1 token 0" "$(printf '%s\n' "$out" | sort)" "Open MPI over PMIx: 2 ranks reduce and pass a token"
	js srun --mpi=pmix --container-image="$MPI_IMG" sh -c 'test -d "$PMIX_SERVER_TMPDIR" && echo visible'
	assert_eq visible "$out" "the PMIx server directory is reachable inside"
else
	fail "this Slurm offers no mpi/pmix (apt-get install libpmix2)"
fi
assert_clean "MPI steps"

say "# errors reach the user"
lrun run /nonexistent/image.sqfs true
want=$(printf '%s\n' "$err" | head -n 1)
js srun -n3 --container-image=/nonexistent/image.sqfs true
assert_true "a missing image fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "$want" "srun shows launch run's message [$want]"
assert_eq 1 "$(printf '%s\n' "$err" | grep -cF "$want")" "the message is shown once, not per task"
lrun run -m /etc:relative "$SQFS" true
want=$(printf '%s\n' "$err" | head -n 1)
js srun --container-image="$SQFS" --container-mounts=/etc:relative true
assert_true "a bad mount spec fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "${want#launch: }" "srun shows the mount spec error launch run gives"
js srun --container-image="$SQFS" --container-name=../bad true
assert_true "a bad --container-name fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "invalid --container-name" "and names the option"
js srun --container-image="$SQFS" --container-name="$(printf 'n%.0s' $(seq 48))" true
assert_true "a --container-name of 48 characters fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "use 1 to 47 letters" "the message gives the limit: 64 less slurm-JOBID-"
js srun --container-name=nothing-yet true
assert_true "--container-name without an image, for a container that does not exist, fails (status $rc)" test "$rc" != 0
assert_contains "$err" "launch:" "with launch's message"
# node_lacks WHAT SETUP RESTORE: on a node made to lack WHAT, srun fails
# with the message launch run gives there.
node_lacks() {
	eval "$2"
	# --fresh: a container mounts the image itself, as the plugin's does
	# (an image server of earlier runs would serve the image)
	lrun run --fresh "$SQFS" true
	want=$(printf '%s\n' "$err" | head -n 1)
	js srun --container-image="$SQFS" true
	eval "$3"
	assert_true "a node without $1 fails srun (status $rc)" test "$rc" != 0
	assert_match "$want" '^launch: ' "launch run names the problem on such a node"
	assert_contains "$err" "$want" "srun shows launch run's message for a node without $1"
}
old_userns=$(cat /proc/sys/user/max_user_namespaces)
if (echo "$old_userns" >/proc/sys/user/max_user_namespaces) 2>/dev/null; then
	on_exit "echo $old_userns > /proc/sys/user/max_user_namespaces"
	node_lacks "user namespaces" "echo 0 > /proc/sys/user/max_user_namespaces" \
		"echo $old_userns > /proc/sys/user/max_user_namespaces"
else
	# a machine that is itself a container may have /proc/sys read-only
	say "note: /proc/sys/user/max_user_namespaces is read-only here; checking the /dev/fuse case only"
fi
fuse_mode=$(stat -c %a /dev/fuse)
on_exit "chmod $fuse_mode /dev/fuse"
node_lacks "/dev/fuse access" "chmod 0600 /dev/fuse" "chmod $fuse_mode /dev/fuse"
assert_not_contains "$err" "Segmentation" "no crash"
wait_until 20 node_idle
assert_eq idle "$(node_state)" "the node is still idle (no plugin failure drained it)"
assert_clean "failed steps"

say "# the site config, as the plugin reads it"
site_conf=$(as_user "$L" doctor 2>&1 | sed -n 's|.*site config: .*(\(/[^ ]*\) does not exist.*|\1|p')
if [ -n "$site_conf" ] && [ ! -e "$site_conf" ] && [ ! -e "$(dirname "$site_conf")" ]; then
	on_exit "rm -rf '$(dirname "$site_conf")'"
	mkdir -p "$(dirname "$site_conf")"
	echo '{}' >"$site_conf"
	chmod 0666 "$site_conf"
	js srun --container-image="$SQFS" true
	assert_true "a site config writable by others fails the tasks (status $rc)" test "$rc" != 0
	assert_contains "$err" "must not be writable by group or others" "and says why"
	chmod 0644 "$site_conf"
	js srun --container-image="$SQFS" cat /etc/image-marker
	assert_eq launch-test-image "$out" "a root-owned 0644 site config is read"

	say "# the site's hooks: --container-mpi and --container-gpu, once per node and step"
	mkdir -p "$T/hooks.d"
	user_dir "$T/hookout"
	cat >"$T/hook.sh" <<'EOF2'
#!/bin/sh
echo "$1 $(cat)" >> "$OUT/runs"
EOF2
	chmod 0755 "$T/hook.sh"
	for h in mpi gpu; do
		printf '{"version": "1.0.0", "hook": {"path": "%s", "args": ["hook.sh", "%s"], "env": ["OUT=%s"]},
 "when": {"annotations": {"^launch[.]%s$": "^true$"}}, "stages": ["createContainer"]}\n' \
			"$T/hook.sh" "$h" "$T/hookout" "$h" >"$T/hooks.d/$h.json"
	done
	chmod 0755 "$T/hooks.d"
	chmod 0644 "$T/hooks.d"/*.json
	printf '{"hooks_dirs": ["%s"]}\n' "$T/hooks.d" >"$site_conf"
	js srun -n 4 --container-image="$SQFS" --container-mpi true
	assert_eq 0 "$rc" "srun --container-mpi"
	assert_eq "mpi" "$(cut -d' ' -f1 "$T/hookout/runs" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" \
		"--container-mpi runs the MPI hook, once for the four tasks of the node"
	assert_match "$(cat "$T/hookout/runs" 2>/dev/null)" '"id":"slurm-[0-9]+\.[0-9]+"' "the hook sees the step's instance"
	rm -f "$T/hookout/runs"
	js env LAUNCH_CONTAINER_GPU=1 srun --container-image="$SQFS" true
	assert_eq "gpu" "$(cut -d' ' -f1 "$T/hookout/runs" 2>/dev/null)" "LAUNCH_CONTAINER_GPU=1 runs the GPU hook"
	rm -f "$T/hookout/runs"
	js srun --container-image="$SQFS" true
	assert_true "no hook without the options" test ! -e "$T/hookout/runs"
	printf '{"version": "1.0.0", "hook": {"path": "/bin/false"}, "when": {"always": true}, "stages": ["createContainer"]}\n' \
		>"$T/hooks.d/zz-fail.json"
	js srun --container-image="$SQFS" true
	assert_true "a failing hook fails the tasks (status $rc)" test "$rc" != 0
	assert_contains "$err" "hook zz-fail ($T/hooks.d/zz-fail.json, createContainer) failed (exit status 1)" \
		"and the user sees which hook failed"
	rm -rf "$(dirname "$site_conf")"
else
	fail "cannot place a site config for the check (doctor says: $site_conf)"
fi

say "# plugstack.conf arguments"
printf 'required %s %s writable=1 remap_root=1 mount_home=0\n' "$PLUG" "$SITE_ARGS" >/etc/slurm/plugstack.conf
js srun --container-image="$SQFS" sh -c "id -u; echo x > /new && echo written; test -e '$TU_HOME' || echo no-home"
assert_eq "0
written
no-home" "$out" "site defaults writable=1 remap_root=1 mount_home=0"
js srun --container-image="$SQFS" --no-container-remap-root --container-readonly id -u
assert_eq "$TU_UID" "$out" "options override the site defaults"
printf 'required %s %s sbatch=0\n' "$PLUG" "$SITE_ARGS" >/etc/slurm/plugstack.conf
js sbatch --wait --container-image="$SQFS" -o "$T/batch0.out" --wrap 'cat /etc/image-marker 2>/dev/null || echo host; srun cat /etc/image-marker'
assert_eq "host
launch-test-image" "$(cat "$T/batch0.out" 2>/dev/null)" "sbatch=0: the batch script runs on the host, its steps in the container"
printf 'required %s %s bogus=1\n' "$PLUG" "$SITE_ARGS" >/etc/slurm/plugstack.conf
js srun true
assert_true "an unknown plugstack argument fails srun (status $rc)" test "$rc" != 0
assert_contains "$err" "unknown argument \`bogus=1\`" "and names it"
printf 'required %s %s writable=maybe\n' "$PLUG" "$SITE_ARGS" >/etc/slurm/plugstack.conf
js srun true
assert_contains "$err" "writable=maybe: expected 0 or 1" "a bad value is named"
printf 'required %s %s\n' "$PLUG" "$SITE_ARGS" >/etc/slurm/plugstack.conf
assert_eq "" "$(instances)" "no instance left"

say "# Slurm's own --container with launch oci"
B=$T/bundle
mkdir -p "$B" && cp -a "$DIRIMG" "$B/rootfs"
cat >"$B/config.json" <<EOF
{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
 "process": {"args": ["true"], "env": ["PATH=/bin", "BUNDLEVAR=b"], "cwd": "/tmp", "user": {"uid": $TU_UID, "gid": $TU_GID}},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "$T/data-ro", "options": ["rbind", "ro"]}]}
EOF
chown -R "$TU_UID:$TU_GID" "$B"
js srun --container="$B" sh -c 'cat /etc/image-marker; id -u; echo $BUNDLEVAR $SLURM_JOB_ID; pwd; cat /data/f'
assert_eq 0 "$rc" "srun --container=BUNDLE succeeds"
assert_eq "launch-test-image
$TU_UID" "$(printf '%s\n' "$out" | sed -n 1,2p)" "the task runs in the bundle's root, as the user"
assert_match "$(printf '%s\n' "$out" | sed -n 3p)" '^b [0-9]+$' "the bundle's environment, and the job's"
assert_eq "/tmp
ro-content" "$(printf '%s\n' "$out" | sed -n 4,5p)" "the bundle's cwd and bind mounts"
js srun --container="$B" sh -c 'exit 3'
assert_eq 3 "$rc" "the task's exit status reaches srun"
js srun --container="$T/no-bundle" true
assert_true "a missing bundle fails (status $rc)" test "$rc" != 0
assert_eq "" "$(ls "$T/oci-$TU" 2>/dev/null | grep '\.lock$')" "launch oci delete removed the containers' state"
assert_clean "launch oci containers"

wait_until 20 node_idle
assert_eq idle "$(node_state)" "the node is idle at the end"
finish
