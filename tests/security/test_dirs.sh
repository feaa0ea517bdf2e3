#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Directories another user made first: the OCI state root, the runtime
# directory, the image store, an overlay directory and the hook directories
# are refused when someone else owns them or a directory above them, and
# nothing of the victim's is written through what the attacker planted.
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_shared_tmp

# ---- launch oci --root DIR (oci.conf names it from predictable parts) ----
say "# launch oci --root: a state directory the attacker made first"
OCI=$SHARED/launch-oci-$TU_UID
as_user2 mkdir -m 0777 "$OCI"
as_user sh -c "echo precious > '$T/victim-file'"
as_user2 ln -s "$T/victim-file" "$OCI/job.json.tmp"
as_user2 ln -s "$T/victim-new" "$OCI/job.lock"
mkdir -p "$T/bundle" && chown "$TU_UID" "$T/bundle"
cat > "$T/bundle/config.json" <<EOF2
{"ociVersion": "1.0.2", "root": {"path": "$DIRIMG", "readonly": true},
 "process": {"args": ["cat", "/etc/image-marker"], "env": ["PATH=/bin:/usr/bin"], "cwd": "/"}}
EOF2
lrun oci --root "$OCI" run -b "$T/bundle" job
assert_eq 125 "$rc" "oci run refuses a state directory another user owns"
assert_contains "$err" "OCI state directory $OCI belongs to uid $TU2_UID ($TU2)" "the error names the directory and its owner"
assert_contains "$err" "--root DIR" "and how to choose another"
assert_eq precious "$(cat "$T/victim-file")" "the victim's file is not overwritten through a planted symlink"
assert_true "no file is created through a planted lock symlink" test ! -e "$T/victim-new"

say "# launch oci kill/delete: a planted state file names one of the victim's processes"
as_user_bg "$T/sleeper.pid" sleep 30
# the attacker holds the lock, so the container looks like it is running
as_user2 rm -f "$OCI/job.lock"
as_user2 flock "$OCI/job.lock" sleep 30 >/dev/null 2>&1 &
HOLDER=$!
on_exit "pkill -KILL -P $HOLDER; kill -KILL $HOLDER"
wait_until 5 test -e "$OCI/job.lock"
as_user2 sh -c "printf '{\"ociVersion\":\"1.0.2\",\"id\":\"job\",\"status\":\"running\",\"pid\":%s,\"bundle\":\"/\"}' $BG_PID > '$OCI/job.json'"
lrun oci --root "$OCI" kill job KILL
assert_eq 125 "$rc" "oci kill refuses the attacker's state directory"
lrun oci --root "$OCI" delete --force job
assert_eq 125 "$rc" "oci delete --force refuses it too"
assert_true "the victim's process was not signalled" kill -0 "$BG_PID"
kill "$BG_PID" 2>/dev/null
wait "$BG" 2>/dev/null

say "# root (Slurm runs RunTimeKill and RunTimeDelete as root) acts as the state's owner"
sleep 30 &
ROOTPROC=$!
on_exit "kill -KILL $ROOTPROC"
OWN=$SHARED/oci-owner
as_user mkdir -m 0700 "$OWN"
as_user sh -c "printf '{\"ociVersion\":\"1.0.2\",\"id\":\"job\",\"status\":\"running\",\"pid\":%s,\"bundle\":\"/\"}' $ROOTPROC > '$OWN/job.json'"
as_user flock "$OWN/job.lock" sleep 30 >/dev/null 2>&1 &
HOLDER2=$!
on_exit "pkill -KILL -P $HOLDER2; kill -KILL $HOLDER2"
wait_until 5 test -e "$OWN/job.lock"
capture "$L" oci --root "$OWN" kill job KILL
assert_eq 125 "$rc" "root's oci kill of a pid the user named fails"
assert_contains "$err" "cannot signal container job" "with the kill's error"
capture "$L" oci --root "$OWN" delete --force job
assert_true "root's process survives kill and delete --force" kill -0 "$ROOTPROC"
kill -KILL "$ROOTPROC" 2>/dev/null

say "# a state directory of the victim's own, in the shared directory, works"
MINE=$SHARED/oci-mine
lrun oci --root "$MINE" run -b "$T/bundle" job
assert_eq 0 "$rc" "oci run with a fresh state directory"
assert_eq launch-test-image "$out" "the bundle ran"
assert_eq 700 "$(stat -c %a "$MINE")" "the state directory is created 0700"
assert_eq "$TU_UID" "$(stat -c %u "$MINE/job.json")" "its state file is the victim's"
lrun oci --root "$MINE" state job
assert_contains "$out" '"status": "stopped"' "state reads it back"

say "# the runtime directory"
RUN=$SHARED/run-$TU_UID
as_user2 mkdir -m 0777 "$RUN"
capture as_user env LAUNCH_RUNTIME_DIR="$RUN" "$L" run "$SQFS" true
assert_eq 125 "$rc" "a runtime directory the attacker made is refused"
assert_contains "$err" "runtime directory $RUN belongs to uid $TU2_UID" "the error names it and its owner"
as_user mkdir -m 0777 "$SHARED/run-open"
capture as_user env LAUNCH_RUNTIME_DIR="$SHARED/run-open" "$L" run "$SQFS" true
assert_eq 125 "$rc" "a runtime directory of the victim's that others may write is refused"
assert_contains "$err" "is writable by other users (mode 0777)" "the error says why"
assert_contains "$err" "chmod go-w $SHARED/run-open" "and the fix"

say "# the image store from a site template in a shared directory"
printf '{"store": "%s/store-$USER"}\n' "$SHARED" > "$T/store.json"
chmod 0644 "$T/store.json"
as_user2 mkdir -m 0777 "$SHARED/store-$TU"
capture as_user env LAUNCH_CONFIG="$T/store.json" "$L" import "$SQFS" mine:1
assert_eq 125 "$rc" "import into a store the attacker made first is refused"
assert_contains "$err" "image store $SHARED/store-$TU belongs to uid $TU2_UID" "the error names the store and its owner"
capture as_user env LAUNCH_CONFIG="$T/store.json" "$L" images
assert_eq 125 "$rc" "images refuses to read it as well"
capture as_user env LAUNCH_CONFIG="$T/store.json" "$L" run mine:1 true
assert_eq 125 "$rc" "run refuses to take an image from it"
assert_true "nothing of the victim's went into it" test -z "$(ls -A "$SHARED/store-$TU")"

say "# the victim's own store: the attacker cannot swap an image"
rmdir "$SHARED/store-$TU"
capture as_user env LAUNCH_CONFIG="$T/store.json" "$L" -q import "$SQFS" mine:1
assert_eq 0 "$rc" "import into the victim's own store"
img=$(ls "$SHARED/store-$TU/images/" 2>/dev/null | head -n 1)
assert_true "the store holds the image" test -n "$img"
capture as_user2 sh -c "cp '$SQFS' '$SHARED/store-$TU/images/x' || mv '$SHARED/store-$TU/images/$img' /tmp/"
assert_true "the attacker cannot write into the store" test "$rc" != 0
assert_eq 700 "$(stat -c %a "$SHARED/store-$TU")" "the store is created 0700"

say "# a store below a directory others may write (no sticky bit)"
as_user2 mkdir -m 0777 "$SHARED/open"
printf '{"store": "%s/open/store-$USER"}\n' "$SHARED" > "$T/store2.json"
chmod 0644 "$T/store2.json"
capture as_user env LAUNCH_CONFIG="$T/store2.json" "$L" import "$SQFS" mine:1
assert_eq 125 "$rc" "a store the attacker could rename away is refused"
assert_contains "$err" "the directory above it, $SHARED/open (owner uid $TU2_UID ($TU2), mode 0777)" \
	"the error names the directory above and its owner"

say "# --overlay DIR the attacker made first"
as_user2 mkdir -m 0777 "$SHARED/layer"
as_user2 mkdir -m 0777 "$SHARED/layer/upper"
lrun run --overlay "$SHARED/layer" "$SQFS" true
assert_eq 125 "$rc" "an overlay directory the attacker made is refused"
assert_contains "$err" "overlay directory $SHARED/layer belongs to uid $TU2_UID" "the error names it and its owner"
capture as_user env XDG_DATA_HOME="$T/data" "$L" commit --overlay "$SHARED/layer" "$SQFS" planted:1
assert_eq 125 "$rc" "commit of an overlay directory the attacker made is refused"
assert_contains "$err" "overlay directory $SHARED/layer belongs to uid $TU2_UID" "the error names it and its owner"
lrun run --overlay "$SHARED/mylayer" "$SQFS" sh -c 'echo x > /made'
assert_eq 0 "$rc" "a new overlay directory in the shared directory works"
assert_eq "$TU_UID" "$(stat -c %u "$SHARED/mylayer")" "and is the victim's"

say "# hook directories: every directory above must be root's or the caller's"
mkdir -p "$SHARED/hk"
chown "$TU2_UID" "$SHARED/hk"
mkdir -p "$SHARED/hk/hooks.d"
chmod 0755 "$SHARED/hk/hooks.d"
printf '{"hooks_dirs": ["%s/hk/hooks.d"]}\n' "$SHARED" > "$T/hooks.json"
chmod 0644 "$T/hooks.json"
capture as_user env LAUNCH_CONFIG="$T/hooks.json" "$L" run "$SQFS" true
assert_eq 125 "$rc" "a root-owned hooks directory inside the attacker's directory is refused"
assert_contains "$err" "hooks directory $SHARED/hk/hooks.d is not safe" "the error names the hooks directory"
assert_contains "$err" "$SHARED/hk (owner uid $TU2_UID" "and the attacker's directory above it"
capture as_user env LAUNCH_CONFIG="$T/hooks.json" "$L" hooks
assert_eq 125 "$rc" "launch hooks reports it too"

finish
