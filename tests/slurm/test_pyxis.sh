#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Job scripts written for pyxis, unchanged, on launch's SPANK plugin under a
# real single-node Slurm (cluster.sh), as two unprivileged users: the test
# user (subordinate ids) and the second user (none, the seccomp fake root):
#   - pyxis's README examples;
#   - fake root under srun for both users: --container-remap-root
#     --container-writable, apt-get update && apt-get install from the
#     Debian mirror the host uses;
#   - image references as enroot takes them: REGISTRY#IMAGE, USER@, a name
#     pulled from the site's default registry (pull_by_name), paths;
#   - --container-name=NAME:auto|create|exec|no_exec, --container-save,
#     --container-entrypoint-log, the PYXIS_CONTAINER_* variables;
#   - warnings for options that do nothing, one error for a named container
#     that does not exist, a warning when one is reused with another image;
#   - a pyxis plugstack.conf line (runtime_path, execute_entrypoint,
#     container_scope, sbatch_support, use_squashfuse) starting slurmd;
#     container_scope=global; importer=PATH with pyxis's importer protocol.
#
# Environment: LAUNCH (the launch binary), LAUNCH_SPANK_PLUGIN (the built
# spank_launch.so), LAUNCH_TEST_IMAGES (busybox, busybox.sqfs, debian/).
#
# The single-quoted scripts below run in the tasks: their $ are theirs.
# shellcheck disable=SC2016
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
. "$HERE/cluster.sh"
REGISTRY_SH_DIR=$HERE/../registry
. "$REGISTRY_SH_DIR/registry.sh"

require_root "a Slurm cluster"
require_userns
require_fuse
require_user2
require_cmd srun sbatch salloc slurmctld slurmd munged sinfo setpriv unsquashfs skopeo docker-registry sha256sum
: "${LAUNCH_SPANK_PLUGIN:?LAUNCH_SPANK_PLUGIN must be the built spank_launch.so}"
[ -f "$LAUNCH_SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (apt-get install libslurm-dev, reconfigure)"
DEB=$LAUNCH_TEST_IMAGES/debian
[ -d "$DEB/debian-oci" ] || skip "Debian fixtures missing in $DEB (the debian test makes them)"

PLUG=$T/spank_launch.so
install -m 0755 "$LAUNCH_SPANK_PLUGIN" "$PLUG"
CL=$T/slurm
# $T is the test user's: the second user's store and both runtime
# directories go below directories of root's, as on a real system
T2=$(mktemp -d /var/tmp/launch-pyxis.XXXXXX) || die "mktemp failed"
on_exit "rm -rf '$T2'"
chmod 0755 "$T2"
mkdir -m 1777 "$T2/rt"
RT=$T2/rt
SITE_ARGS="launch=$L runtime_dir=$RT/\$UID"
printf 'required %s %s\n' "$PLUG" "$SITE_ARGS" >"$T/plugstack.conf"
on_exit "slurm_stop '$CL'"
SLURM_CLUSTER_CPUS=16 slurm_start "$CL" "$T/plugstack.conf" || die "the Slurm cluster did not start"
plugstack() { printf 'required %s %s %s\n' "$PLUG" "$SITE_ARGS" "$*" >/etc/slurm/plugstack.conf; }

# Each user's store, and a work directory each can write
DATA=$T/data DATA2=$T2/data2
mkdir -p "$DATA" "$DATA2" "$T/w" "$T/w2"
chown "$TU_UID:$TU_GID" "$DATA" "$T/w"
chown "$TU2_UID:$TU2_GID" "$DATA2" "$T/w2"
echo '{}' >"$T/site.json"
chmod 0644 "$T/site.json"
# js / js2 ARGS...: as the test user / the second user, from their work
# directory, with their store and the test's site config; sets rc/out/err
js() {
	capture as_user env XDG_DATA_HOME="$DATA" LAUNCH_CONFIG="$T/site.json" \
		sh -c 'cd "$1" && shift && exec timeout -k 5 300 "$@"' sh "$T/w" "$@"
}
js2() {
	capture as_user2 env XDG_DATA_HOME="$DATA2" LAUNCH_CONFIG="$T/site.json" \
		sh -c 'cd "$1" && shift && exec timeout -k 5 300 "$@"' sh "$T/w2" "$@"
}
js "$L" -q import "$DEB/debian-oci" debian
assert_eq 0 "$rc" "the test user imports the Debian image as debian"
js2 "$L" -q import "$DEB/debian-oci" debian
assert_eq 0 "$rc" "the second user imports it too"
js "$L" -q import "$SQFS" busybox
cp "$SQFS" "$T/w/busybox.sqfs"
chown "$TU_UID" "$T/w/busybox.sqfs"

say "# pyxis's README examples"
js srun grep PRETTY /etc/os-release
host_pretty=$out
js srun --container-image=debian grep PRETTY /etc/os-release
assert_eq "0 PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"" "$rc $out" "srun --container-image=debian grep PRETTY /etc/os-release"
js srun --container-image=debian --container-mounts=/etc/os-release:/host/os-release grep PRETTY /host/os-release
assert_eq "0 $host_pretty" "$rc $out" "--container-mounts=/etc/os-release:/host/os-release shows the host's file"

# the wiki's batch script: #SBATCH container options, the script runs in the container
cat >"$T/w/wiki.sbatch" <<'EOF'
#!/bin/sh
#SBATCH --container-image=debian
#SBATCH --container-mounts=/etc/os-release:/host/os-release
#SBATCH --container-workdir=/etc
grep PRETTY os-release
grep -c PRETTY /host/os-release
EOF
chown "$TU_UID" "$T/w/wiki.sbatch"
js sbatch --wait -o "$T/w/wiki.out" "$T/w/wiki.sbatch"
assert_eq 0 "$rc" "sbatch of a script with #SBATCH --container-image, --container-mounts, --container-workdir"
assert_eq "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
1" "$(cat "$T/w/wiki.out" 2>/dev/null)" "the batch script runs in the container, in the work directory, with the mount"

mkdir -p "$T/w/data"
echo relative-data >"$T/w/data/f"
chown -R "$TU_UID" "$T/w/data"
js srun --container-image=debian --container-mounts=./data:/data:ro+rprivate,tmpfs:/scratch cat /data/f
assert_eq "0 relative-data" "$rc $out" "--container-mounts=./data:/data:ro+rprivate (relative to the submit directory)"
js srun --container-image=debian --container-mounts=tmpfs:/scratch sh -c 'touch /scratch/x && stat -c %a /scratch'
assert_eq "0 1777" "$rc $out" "--container-mounts=tmpfs:/scratch"

say "# fake root under srun, with and without subordinate ids"
apt_script='apt-get update >/dev/null && apt-get install -y cowsay >/dev/null && /usr/games/cowsay moo | grep -c moo; echo "apt ${APT_CONFIG:-none}"; id -u'
js srun --container-image=debian --container-remap-root --container-writable sh -c "$apt_script"
[ "$rc" = 0 ] || say "$err" | tail -n 8 | sed 's/^/  stderr| /'
assert_eq "0 1" "$rc $(printf '%s\n' "$out" | sed -n 1p)" "the test user (subordinate ids): apt-get install -y cowsay works"
assert_eq "0" "$(printf '%s\n' "$out" | tail -n 1)" "and is root inside"
js2 srun --container-image=debian --container-remap-root --container-writable sh -c "$apt_script"
[ "$rc" = 0 ] || say "$err" | tail -n 8 | sed 's/^/  stderr| /'
assert_eq "0 1" "$rc $(printf '%s\n' "$out" | sed -n 1p)" "the second user (no subordinate ids): apt-get install -y cowsay works"
assert_match "$out" 'apt /dev/[.]launch/apt[.]conf' "the task has the fake root's APT_CONFIG, as launch run --root gives"
assert_eq "0" "$(printf '%s\n' "$out" | tail -n 1)" "and is root inside"
js2 "$L" run --root --writable debian sh -c 'echo ${APT_CONFIG:-none}'
assert_eq "/dev/.launch/apt.conf" "$out" "the same as launch run --root --writable for that user"

say "# image paths as pyxis requires them"
js srun --container-image=./busybox.sqfs cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "--container-image=./busybox.sqfs (relative to the submit directory)"
js srun --container-image="$SQFS" cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "--container-image=/absolute/path.sqfs"

say "# the PYXIS_CONTAINER_* variables"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_WORKDIR=/etc PYXIS_CONTAINER_WRITABLE=1 \
	srun sh -c 'pwd; touch /new && echo writable'
assert_eq "0 /etc writable" "$rc $(printf '%s\n' "$out" | tr '\n' ' ' | sed 's/ $//')" \
	"PYXIS_CONTAINER_IMAGE, _WORKDIR and _WRITABLE"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_READONLY=1 srun sh -c 'touch /new 2>/dev/null && echo writable || echo read-only'
assert_eq "read-only" "$out" "PYXIS_CONTAINER_READONLY=1"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_MOUNT_HOME=0 srun sh -c "test -e '$TU_HOME' && echo home || echo no-home"
assert_eq "no-home" "$out" "PYXIS_CONTAINER_MOUNT_HOME=0"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_REMAP_ROOT=1 PYXIS_CONTAINER_ENV=FOO FOO=job srun sh -c 'id -u; echo $FOO'
assert_eq "0 job" "$(printf '%s\n' "$out" | tr '\n' ' ' | sed 's/ $//')" "PYXIS_CONTAINER_REMAP_ROOT and PYXIS_CONTAINER_ENV"
js env PYXIS_CONTAINER_IMAGE=busybox LAUNCH_CONTAINER_IMAGE=debian srun cat /etc/debian_version
assert_eq 0 "$rc" "LAUNCH_CONTAINER_IMAGE wins over PYXIS_CONTAINER_IMAGE"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_MOUNTS=tmpfs:/scratch srun sh -c 'stat -c %a /scratch'
assert_eq "0 1777" "$rc $out" "PYXIS_CONTAINER_MOUNTS"
js env PYXIS_CONTAINER_IMAGE=busybox PYXIS_CONTAINER_SAVE="$T/w/env-saved.sqfs" srun true
assert_true "PYXIS_CONTAINER_SAVE (status $rc)" test -s "$T/w/env-saved.sqfs"
js salloc -N1 sh -c 'PYXIS_CONTAINER_NAME=envname srun --container-image=busybox --container-writable sh -c "echo n > /n"; PYXIS_CONTAINER_NAME=envname:exec srun cat /n'
assert_eq "0 n" "$rc $out" "PYXIS_CONTAINER_NAME, with a flag"
# an image with an Entrypoint (echo: it shows that it ran, and with what)
js "$L" -q import --entrypoint '/bin/echo entrypoint-ran' "$SQFS" withep
assert_eq 0 "$rc" "import the busybox image with an Entrypoint"
js env PYXIS_CONTAINER_IMAGE=withep PYXIS_CONTAINER_ENTRYPOINT=1 PYXIS_CONTAINER_ENTRYPOINT_LOG=1 srun echo cmd
assert_eq "0 entrypoint-ran echo cmd" "$rc $out" \
	"PYXIS_CONTAINER_ENTRYPOINT=1 runs the image's entrypoint, its output shown (PYXIS_CONTAINER_ENTRYPOINT_LOG=1)"
js env PYXIS_CONTAINER_IMAGE=withep PYXIS_CONTAINER_ENTRYPOINT=0 srun echo cmd
assert_eq "0 cmd" "$rc $out" "PYXIS_CONTAINER_ENTRYPOINT=0 runs the command alone"
js srun --container-image=busybox --container-entrypoint-log true
assert_eq 0 "$rc" "--container-entrypoint-log is accepted"

say "# options that do nothing are not silent"
js srun --container-mounts=/tmp:/x true
assert_eq 0 "$rc" "srun --container-mounts without an image runs"
assert_contains "$err" "warning: --container-mounts is ignored without --container-image or --container-name" \
	"and warns that the option does nothing"

say "# --container-name=NAME[:FLAG]"
js salloc -N1 sh -c '
srun --container-name=c1:create --container-image=busybox --container-writable sh -c "echo made > /state"; echo "create $?"
srun --container-name=c1:create --container-image=busybox true; echo "create-again $?"
srun --container-name=c1:exec cat /state; echo "exec $?"
srun --container-name=c1 cat /state; echo "auto $?"
srun --container-name=c1:no_exec cat /state; echo "no_exec $?"
srun --container-name=c1 --container-image=debian cat /state; echo "other-image $?"
srun --container-name=c2:exec --container-image=busybox true; echo "exec-missing $?"
srun --container-name=c3 true; echo "no-image $?"
srun --container-name=c4:bogus --container-image=busybox true; echo "bogus $?"
'
say "$out" | sed 's/^/  out| /'
for want in "create 0" "create-again 1" "made" "exec 0" "auto 0" "no_exec 0" "other-image 0" "exec-missing 1" "no-image 1"; do
	assert_match "$out" "^$want\$" "salloc: $want"
done
assert_eq 4 "$(printf '%s\n' "$out" | grep -c '^made$')" "exec, auto, no_exec and a reuse with another image see the container's file"
assert_contains "$err" "--container-name=c1:create: the container exists already" "create on an existing container says so"
assert_contains "$err" "--container-name=c2:exec: no such container is running" "exec without the container says so"
assert_contains "$err" "there is no container c3 on " "a name that exists nowhere, without an image: one clear error"
assert_contains "$err" "and no --container-image to make it from" "which says what to give"
assert_contains "$err" "warning: container c1 on " "a reuse with another image warns"
assert_contains "$err" "--container-image=debian is not used" "and names it"
assert_contains "$err" "the flag after \`:\` must be auto, create, exec or no_exec" "an unknown flag is refused"

say "# --container-save"
js srun --container-image=busybox --container-remap-root --container-save="$T/w/saved.sqfs" sh -c 'echo kept > /saved-file; rm /etc/image-marker'
assert_eq 0 "$rc" "srun --container-save=PATH"
assert_true "the squashfs file is written" test -s "$T/w/saved.sqfs"
assert_eq "" "$(ls "$T/w" | grep '\.tmp\.')" "no temporary file is left"
assert_contains "$(unsquashfs -l "$T/w/saved.sqfs" 2>&1)" "squashfs-root/saved-file" "unsquashfs lists the file the step wrote"
js "$L" run "$T/w/saved.sqfs" sh -c 'cat /saved-file; test -e /etc/image-marker || echo deleted'
assert_eq "kept deleted" "$(printf '%s\n' "$out" | tr '\n' ' ' | sed 's/ $//')" "launch run PATH sees the step's changes"
js srun --container-image=busybox --container-save=relative.sqfs true
assert_true "a relative PATH is taken from the submit directory" test -s "$T/w/relative.sqfs"
js srun --container-image=busybox --container-save="$T/w/" true
assert_true "a directory is refused (status $rc)" test "$rc" != 0
assert_contains "$err" "not a directory" "with the reason"

say "# enroot references and the site's registry"
R=$T/reg
registry_test_open "$R"
PORT=$REG_PORT
registry_dir_archive "$LAUNCH_TEST_IMAGES/busybox" lab/bb:1 "$T/bb.tar" FROMREG=yes || die "cannot make the archive"
registry_fill "$R" open "$PORT" "docker-archive:$T/bb.tar" lab/bb:1 >/dev/null || die "registry_fill failed"
printf '{"registry_ca_file": "%s"}\n' "$R/ca.crt" >"$T/site.json"
js srun --container-image="127.0.0.1:$PORT#lab/bb:1" sh -c 'echo $FROMREG'
assert_eq "0 yes" "$rc $out" "--container-image=REGISTRY#IMAGE:TAG is pulled from that registry"
js srun --container-image="nobody@127.0.0.1:$PORT#lab/bb:2" true
assert_contains "$err" "no credentials of user nobody for 127.0.0.1:$PORT" "USER@ asks for that user's credentials"
# USER@: the credentials launch login stored for that user
PB=$(registry_free_port "$PORT")
registry_start "$R" basic basic "$PB" || die "cannot start the basic registry"
registry_fill "$R" basic "$PB" "docker-archive:$T/bb.tar" team/bb:1 >/dev/null || die "registry_fill failed"
printf 'launchpass\n' >"$T/w/pw"
chown "$TU_UID" "$T/w/pw"
js sh -c "'$L' login --username launchuser --password-stdin 127.0.0.1:$PB <pw"
assert_eq 0 "$rc" "launch login --username launchuser"
js srun --container-image="launchuser@127.0.0.1:$PB#team/bb:1" sh -c 'echo $FROMREG'
assert_eq "0 yes" "$rc $out" "--container-image=USER@REGISTRY#IMAGE pulls with that user's credentials"
js srun --container-image="someone@127.0.0.1:$PB#team/bb:2" true
assert_contains "$err" "no credentials of user someone for 127.0.0.1:$PB" "another USER@ is not given launchuser's"
js srun --container-image=lab/bb:1 true
assert_true "a name in no store is not pulled unless the site says so (status $rc)" test "$rc" != 0
assert_contains "$err" "pull_by_name" "the error says what was tried and how to pull"
printf '{"registry_ca_file": "%s", "default_registry": "127.0.0.1:%s", "pull_by_name": true}\n' "$R/ca.crt" "$PORT" \
	>"$T/site.json"
js2 srun --container-image=lab/bb:1 sh -c 'echo $FROMREG'
assert_eq "0 yes" "$rc $out" "with pull_by_name, a name is pulled from the default registry (as pyxis does)"
echo '{}' >"$T/site.json"

say "# a pyxis plugstack.conf line"
printf 'required %s runtime_path=%s execute_entrypoint=0 container_scope=job sbatch_support=1 use_squashfuse=1 launch=%s\n' \
	"$PLUG" "$T/pyxis-run" "$L" >/etc/slurm/plugstack.conf
mkdir -p "$T/pyxis-run"
chmod 1777 "$T/pyxis-run"
slurm_restart_slurmd "$CL" >/dev/null 2>&1
assert_eq 0 "$?" "slurmd starts with pyxis's arguments"
js srun --container-image=busybox cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "and runs containers"
assert_true "in runtime_path, one directory per user" test -d "$T/pyxis-run/launch-$TU_UID"

say "# container_scope=global"
plugstack container_scope=global
js srun --container-name=keep --container-image=busybox --container-writable sh -c 'echo first-job > /state'
assert_eq 0 "$rc" "a named container in a first job"
js srun --container-name=keep cat /state
assert_eq "0 first-job" "$rc $out" "a later job reuses it"
js srun env LAUNCH_RUNTIME_DIR="$RT/$TU_UID" "$L" ps
assert_contains "$out" "slurm-global-keep" "launch ps on the node lists it"
js srun env LAUNCH_RUNTIME_DIR="$RT/$TU_UID" "$L" stop slurm-global-keep
assert_eq 0 "$rc" "launch stop on the node removes it"
js srun --container-name=keep true
assert_contains "$err" "there is no container keep" "then it is gone"

say "# importer=PATH (pyxis's importer protocol)"
cat >"$T/importer.sh" <<EOF
#!/bin/sh
echo "\$1 \$2 job=\${SLURM_JOB_ID:-?} rp=\${PYXIS_RUNTIME_PATH:-?}" >>"$T/w/importer.log"
case \$1 in
get) echo "importing \$2" >&2; echo "$SQFS" ;;
release) ;;
*) exit 1 ;;
esac
EOF
chmod 0755 "$T/importer.sh"
plugstack importer="$T/importer.sh" runtime_path="$T/pyxis-run"
rm -f "$T/w/importer.log"
js srun --container-image=site/anything:7 cat /etc/image-marker
assert_eq "0 launch-test-image" "$rc $out" "the image is the file the importer printed"
assert_match "$(cat "$T/w/importer.log" 2>/dev/null)" "^get docker://site/anything:7 job=[0-9]+ rp=$T/pyxis-run\$" \
	"the importer was asked for docker://IMAGE, with the job's variables and PYXIS_RUNTIME_PATH"
assert_eq 2 "$(grep -c '^release' "$T/w/importer.log" 2>/dev/null)" "and released twice, after the start and at the step's end"
cat >"$T/importer.sh" <<'EOF'
#!/bin/sh
echo "no such image" >&2
exit 3
EOF
js srun --container-image=site/missing:1 true
assert_true "a failing importer fails the step (status $rc)" test "$rc" != 0
assert_contains "$err" "no such image" "with the importer's message"
plugstack

say "# nothing left"
assert_eq "" "$(ls "$RT/$TU_UID/instances" "$RT/$TU2_UID/instances" 2>/dev/null | grep '\.json$')" "no instance left"
finish
