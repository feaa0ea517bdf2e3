#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# OCI hooks as a site configures them (oci-hooks(5) 1.0.0 files in the
# hooks_dirs of the site config), with small shell hooks: every stage, in
# order, with the state on stdin and the bundle's config.json; the
# when-conditions; failures, timeouts and their messages; invalid and
# untrusted files; `launch hooks`; instances; and the hook library
# (tests/helpers/hookprobe.c) putting host files into a read-only image and
# rebuilding its linker cache.
. "$(dirname "$0")/lib.sh"
require_root "root-owned hook files"
require_userns
require_fuse

HB=$T/hookbin    # hook programs (root-owned)
HD=$T/hooks.d    # hook files (root-owned)
OUT=$T/out       # what the hooks write (the user's)
mkdir -p "$HB" "$HD"
user_dir "$OUT"
chmod 0755 "$HB" "$HD"
cp "$LAUNCH_TEST_HELPERS/test_hookprobe" "$HB/hookprobe"
echo secret > "$T/secret"
chmod 0600 "$T/secret"

# The stage hook: argv[1] is its stage. It keeps the state, the bundle's
# config.json (when it can reach it), its uid, its mount namespace and that
# of the container init, and whether it sees the image's root.
cat > "$HB/stage.sh" <<'EOF'
#!/bin/sh
st=$(cat)
printf '%s\n' "$st" > "$OUT/state.$1"
bundle=$(printf '%s' "$st" | sed -n 's/.*"bundle": *"\([^"]*\)".*/\1/p')
pid=$(printf '%s' "$st" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
[ -r "$bundle/config.json" ] && cp "$bundle/config.json" "$OUT/config.$1"
same=no
[ -n "$pid" ] && [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/$pid/ns/mnt 2>/dev/null)" ] && same=yes
root=$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' "$bundle/config.json" 2>/dev/null | head -n 1)
marker=$(cat "$root/etc/image-marker" 2>/dev/null || cat /etc/image-marker 2>/dev/null)
secret=$(cat "$SECRET" 2>/dev/null || echo denied)
echo "$1 uid=$(id -u) init_ns=$same marker=$marker secret=$secret" >> "$OUT/log"
case ${FAIL:-} in "$1") echo "the $1 hook says no" >&2; exit 3 ;; esac
case ${SLEEP:-} in "$1") exec sleep 30 ;; esac
exit 0
EOF
chmod 0755 "$HB/stage.sh" "$HB/hookprobe"

STAGES="prestart createRuntime createContainer startContainer poststart poststop"
# stage_hook FILE STAGE WHEN [EXTRA-ENV] [TIMEOUT]
stage_hook() {
	_env="\"PATH=/usr/bin:/bin\", \"OUT=$OUT\", \"SECRET=$T/secret\"${4:+, $4}"
	printf '{"version": "1.0.0",\n "hook": {"path": "%s", "args": ["stage.sh", "%s"], "env": [%s]%s},\n "when": %s,\n "stages": ["%s"]}\n' \
		"$HB/stage.sh" "$2" "$_env" "${5:+, \"timeout\": $5}" "$3" "$2" > "$1"
	chmod 0644 "$1"
}
all_stages() { # WHEN [EXTRA-ENV] [TIMEOUT]
	_n=10
	for _s in $STAGES; do
		stage_hook "$HD/$_n-$_s.json" "$_s" "$1" "${2:-}" "${3:-}"
		_n=$((_n + 1))
	done
}
config() { # extra keys
	printf '{"hooks_dirs": ["%s", "%s"]%s}\n' "$HD" "$T/hooks2.d" "${1:+, $1}" > "$T/launch.json"
	chmod 0644 "$T/launch.json"
}
config
LAUNCH_CONFIG=$T/launch.json
export LAUNCH_CONFIG
reset_out() { rm -f "$OUT"/*; }
# the stage hook runs inside the container for startContainer: it is bound there
IN="-m $HB -m $OUT"

say "# every stage, in order, as the user, with the state and the bundle"
all_stages '{"always": true}'
reset_out
lrun -v run --annotation site.team=fluid $IN -e PROBE=42 "$SQFS" sh -c 'echo ran > '"$OUT"'/ran'
assert_eq 0 "$rc" "a run with a hook at every stage succeeds"
assert_eq "prestart createRuntime createContainer startContainer poststart poststop" \
	"$(cut -d' ' -f1 "$OUT/log" | tr '\n' ' ' | sed 's/ $//')" "the stages run in the OCI order"
assert_eq ran "$(cat "$OUT/ran" 2>/dev/null)" "the command ran"
assert_eq 6 "$(grep -c " uid=$TU_UID " "$OUT/log")" "every hook runs as the user (uid $TU_UID)"
assert_eq 6 "$(grep -c "secret=denied" "$OUT/log")" "no hook can read a root-only 0600 host file"
for s in prestart createRuntime createContainer; do
	assert_contains "$(cat "$OUT/state.$s")" '"status":"creating"' "$s: status creating"
done
assert_contains "$(cat "$OUT/state.startContainer")" '"status":"created"' "startContainer: status created"
assert_contains "$(cat "$OUT/state.poststart")" '"status":"running"' "poststart: status running"
assert_contains "$(cat "$OUT/state.poststop")" '"status":"stopped"' "poststop: status stopped"
assert_not_contains "$(cat "$OUT/state.poststop")" '"pid"' "poststop: no pid (the container is gone)"
st=$(cat "$OUT/state.createRuntime")
assert_match "$st" '"ociVersion":"1\.0\.[0-9]+"' "the state has ociVersion"
assert_match "$st" '"id":"launch-[0-9]+"' "the state has the container's id"
assert_match "$st" '"pid":[0-9]+' "the state has the init's pid"
assert_contains "$st" '"annotations":{"site.team":"fluid"}' "the state has the annotations"
assert_eq "createContainer uid=$TU_UID init_ns=yes marker=launch-test-image secret=denied" \
	"$(grep '^createContainer' "$OUT/log")" "createContainer runs in the container's mount namespace, the root at root.path"
assert_match "$(grep '^createRuntime' "$OUT/log")" "init_ns=no marker=launch-test-image" \
	"createRuntime runs in the runtime namespace and finds the root at root.path"
assert_match "$(grep '^startContainer' "$OUT/log")" "marker=launch-test-image" \
	"startContainer runs inside the container (after pivot_root)"
cfg=$(cat "$OUT/config.createRuntime" 2>/dev/null)
assert_match "$cfg" '"args": \[' "config.json has process.args"
assert_contains "$(printf '%s' "$cfg" | tr -d ' \n')" '"args":["sh","-c",' "process.args is the command"
assert_contains "$cfg" '"PROBE=42"' "process.env is the container's environment"
assert_contains "$cfg" "\"destination\": \"$HB\"" "mounts lists the user's bind mounts"
assert_match "$cfg" '"readonly": true' "root.readonly for a read-only image"
for s in $STAGES; do
	assert_match "$err" "hook [0-9]+-$s \\($s\\): [0-9]+\\.[0-9]+ ms" "-v shows the duration of the $s hook"
done
assert_clean "runs with hooks"

say "# a writable container: root.readonly is false"
reset_out
lrun run --writable $IN "$SQFS" true
assert_match "$(cat "$OUT/config.createRuntime" 2>/dev/null)" '"readonly": false' "root.readonly false with --writable"

say "# a failure before the start stops the container with the hook's name and output"
for s in createRuntime createContainer startContainer; do
	reset_out
	all_stages '{"always": true}' "\"FAIL=$s\""
	lrun run $IN "$SQFS" sh -c 'echo ran > '"$OUT"'/ran'
	assert_eq 125 "$rc" "a failing $s hook: exit status 125"
	assert_match "$err" "hook [0-9]+-$s \\($HD/[0-9]+-$s.json, $s\\) failed \\(exit status 3\\): the $s hook says no" \
		"the error names the $s hook, its file, its status and its output"
	assert_true "the command did not run ($s)" test ! -e "$OUT/ran"
	assert_contains "$(cut -d' ' -f1 "$OUT/log" | tr '\n' ' ')" "poststop" "poststop still runs after a failed $s"
	assert_clean "a failed $s hook"
done

say "# a failure after the start is a warning"
for s in poststart poststop; do
	reset_out
	all_stages '{"always": true}' "\"FAIL=$s\""
	lrun run $IN "$SQFS" sh -c 'echo ran > '"$OUT"'/ran; exit 7'
	assert_eq 7 "$rc" "a failing $s hook: the command's own exit status"
	assert_match "$err" "warning.*hook [0-9]+-$s .*failed \\(exit status 3\\): the $s hook says no|hook [0-9]+-$s .*failed \\(exit status 3\\): the $s hook says no" \
		"a failing $s hook is reported"
	assert_eq ran "$(cat "$OUT/ran" 2>/dev/null)" "the command ran ($s)"
done

say "# timeouts: the hook's own, then the site's hook_timeout"
rm -f "$HD"/*.json
reset_out
stage_hook "$HD/10-slow.json" createRuntime '{"always": true}' '"SLEEP=createRuntime"' 1
t0=$(now_ms)
lrun run "$SQFS" true
t1=$(now_ms)
assert_eq 125 "$rc" "a hook past its timeout stops the container"
assert_contains "$err" "hook 10-slow ($HD/10-slow.json, createRuntime) timed out after 1 s" "the error names the hook and its timeout"
assert_true "the container stopped within seconds ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 10000
assert_eq "" "$(pgrep -u "$TU_UID" -f 'sleep 30' || true)" "the timed-out hook was killed"
stage_hook "$HD/10-slow.json" createRuntime '{"always": true}' '"SLEEP=createRuntime"'
config '"hook_timeout": 1'
lrun run "$SQFS" true
assert_contains "$err" "timed out after 1 s" "hook_timeout of the site config bounds hooks without a timeout"
config
stage_hook "$HD/10-slow.json" poststart '{"always": true}' '"SLEEP=poststart"' 1
lrun run "$SQFS" sh -c 'exit 4'
assert_eq 4 "$rc" "a poststart hook past its timeout: the command's status"
assert_contains "$err" "timed out after 1 s" "and a warning"
assert_clean "timed-out hooks"

say "# when: annotations, commands, hasBindMounts, always, --mpi, --gpu, gpu_auto"
rm -f "$HD"/*.json
stage_hook "$HD/20-ann.json" createRuntime '{"annotations": {"^site\\.x$": "^(a|b)$"}}'
stage_hook "$HD/21-loose.json" createRuntime '{"annotations": {"gpu": "true"}}'
stage_hook "$HD/22-cmd.json" createRuntime '{"commands": [".*/?echo"]}'
stage_hook "$HD/23-binds.json" createRuntime '{"hasBindMounts": true}'
stage_hook "$HD/24-never.json" createRuntime '{"always": false, "commands": [".*"]}'
stage_hook "$HD/25-and.json" createRuntime '{"annotations": {"^site\\.x$": "^a$"}, "commands": ["true"]}'
stage_hook "$HD/26-mpi.json" createRuntime '{"annotations": {"^launch\\.mpi$": "^true$"}}'
stage_hook "$HD/27-gpu.json" createRuntime '{"annotations": {"^launch\\.gpu$": "^true$"}}'
runs() { # HOOK ARGS...: the RUNS column of `launch hooks ARGS` for HOOK
	_h=$1
	shift
	capture as_user env ${GPUENV:-} "$L" hooks "$@"
	printf '%s\n' "$out" | awk -v h="$_h" '$1 == h { print $2 }'
}
assert_eq yes "$(runs 20-ann --annotation site.x=a "$SQFS" true)" "annotation key and value patterns match"
assert_eq no "$(runs 20-ann --annotation site.x=c "$SQFS" true)" "a value the pattern refuses"
assert_eq no "$(runs 20-ann --annotation site.xy=a "$SQFS" true)" "a key the anchored pattern refuses"
assert_eq yes "$(runs 21-loose --annotation launch.gpu=true "$SQFS" true)" "patterns are searched, not anchored (podman's semantics)"
assert_eq yes "$(runs 22-cmd "$SQFS" echo hi)" "when.commands matches the command"
assert_eq yes "$(runs 22-cmd "$SQFS" /bin/echo hi)" "when.commands matches a path"
assert_eq no "$(runs 22-cmd "$SQFS" echoes)" "command patterns match the whole command"
assert_eq yes "$(runs 23-binds -m "$T:/data" "$SQFS" true)" "hasBindMounts with a bind mount"
assert_eq no "$(runs 23-binds "$SQFS" true)" "hasBindMounts without one"
assert_eq no "$(runs 24-never "$SQFS" true)" "always: false disables a hook"
assert_eq yes "$(runs 25-and --annotation site.x=a "$SQFS" true)" "all conditions hold"
assert_eq no "$(runs 25-and --annotation site.x=a "$SQFS" echo)" "conditions are and-ed"
assert_eq yes "$(runs 26-mpi --mpi "$SQFS" true)" "--mpi is annotation launch.mpi=true"
assert_eq no "$(runs 26-mpi "$SQFS" true)" "no --mpi, no MPI hook"
assert_eq yes "$(runs 27-gpu --gpu "$SQFS" true)" "--gpu is annotation launch.gpu=true"
GPUENV=CUDA_VISIBLE_DEVICES=0
assert_eq no "$(runs 27-gpu "$SQFS" true)" "CUDA_VISIBLE_DEVICES alone does not activate the GPU hook"
config '"gpu_auto": true'
assert_eq yes "$(runs 27-gpu "$SQFS" true)" "gpu_auto: CUDA_VISIBLE_DEVICES activates the GPU hook"
GPUENV=CUDA_VISIBLE_DEVICES=void
assert_eq no "$(runs 27-gpu "$SQFS" true)" "gpu_auto: CUDA_VISIBLE_DEVICES=void does not"
GPUENV=CUDA_VISIBLE_DEVICES=-1
assert_eq no "$(runs 27-gpu "$SQFS" true)" "gpu_auto: CUDA_VISIBLE_DEVICES=-1 (no GPU) does not"
GPUENV=NVIDIA_VISIBLE_DEVICES=all
assert_eq yes "$(runs 27-gpu "$SQFS" true)" "gpu_auto: NVIDIA_VISIBLE_DEVICES activates the GPU hook"
GPUENV=
config
capture as_user "$L" hooks --mpi "$SQFS" true
assert_match "$out" '^24-never +no +createRuntime +when.always is false$' "launch hooks says why a hook does not run"
assert_match "$out" '^26-mpi +yes +createRuntime +annotations match$' "launch hooks says why a hook runs"
capture as_user "$L" hooks --format json "$SQFS" true
assert_eq 0 "$rc" "launch hooks --format json"
assert_true "launch hooks --format json prints valid JSON" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d) == 8 and d[0]["name"] == "20-ann" and d[0]["stages"] == ["createRuntime"]' "$out"
reset_out
lrun run --annotation site.x=b "$SQFS" true
assert_eq "createRuntime" "$(cut -d' ' -f1 "$OUT/log" | sort -u | tr '\n' ' ' | sed 's/ $//')" "what launch hooks says runs, runs"
assert_eq 1 "$(wc -l < "$OUT/log" | tr -d ' ')" "and only that (20-ann)"

capture as_user "$L" doctor
assert_match "$out" "OK +hooks: 8 \\(20-ann, 21-loose, 22-cmd, 23-binds, 24-never, 25-and, 26-mpi, 27-gpu\\)" "launch doctor lists the hooks"

say "# several directories: sorted by name, earlier directories mask later ones"
rm -f "$HD"/*.json
mkdir -p "$T/hooks2.d"
chmod 0755 "$T/hooks2.d"
stage_hook "$HD/30-b.json" createRuntime '{"always": true}'
stage_hook "$T/hooks2.d/29-a.json" createRuntime '{"always": true}'
stage_hook "$T/hooks2.d/30-b.json" createRuntime '{"always": false}'
capture as_user "$L" hooks "$SQFS" true
assert_eq "29-a yes
30-b yes" "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1, $2 }')" "hooks sorted by file name across directories; the first directory's 30-b masks the second's"
rm -rf "$T/hooks2.d"
capture as_user "$L" hooks "$SQFS" true
assert_eq 0 "$rc" "a missing hooks directory is skipped"

say "# invalid and untrusted files: FILE:LINE:COL, and no container starts"
rm -f "$HD"/*.json
bad() { # NAME CONTENT EXPECTED-ERE WHAT
	rm -f "$HD"/*.json
	printf '%s\n' "$2" > "$HD/$1.json"
	chmod 0644 "$HD/$1.json"
	lrun run "$SQFS" true
	assert_eq 125 "$rc" "$4: launch run refuses to start"
	assert_match "$err" "$3" "$4: the error says where and what"
	capture as_user "$L" hooks "$SQFS" true
	assert_match "$err" "$3" "$4: launch hooks reports it too"
	capture as_user "$L" doctor
	assert_match "$out$err" "FAIL.*hooks.*$3" "$4: launch doctor fails and names it"
}
bad syntax '{"version": "1.0.0",
 "hook": {"path": "/bin/true"},,
 "when": {"always": true}, "stages": ["prestart"]}' "$HD/syntax.json:2:[0-9]+: " "a syntax error"
bad key '{"version": "1.0.0", "hook": {"path": "/bin/true"},
  "when": {"always": true},
  "stage": ["prestart"]}' "$HD/key.json:3:3: unknown key \"stage\"" "an unknown key"
bad stage '{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": true},
  "stages": ["prestart", "afterwards"]}' "$HD/stage.json:2:26: unknown stage \"afterwards\"" "an unknown stage"
bad regex '{"version": "1.0.0", "hook": {"path": "/bin/true"},
 "when": {"commands": ["(unclosed"]}, "stages": ["prestart"]}' "$HD/regex.json:2:24: command pattern .* is not a valid regular expression" "a bad regular expression"
bad version '{"version": "0.1.0", "hook": {"path": "/bin/true"}, "when": {"always": true}, "stages": ["prestart"]}' \
	"$HD/version.json:1:2: \"version\" must be \"1.0.0\"" "another version"
bad relative '{"version": "1.0.0", "hook": {"path": "bin/true"}, "when": {"always": true}, "stages": ["prestart"]}' \
	"$HD/relative.json:1:[0-9]+: hook.path must be the absolute path" "a relative hook path"
bad nowhen '{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {}, "stages": ["prestart"]}' \
	"$HD/nowhen.json:1:[0-9]+: \"when\" needs at least one of" "an empty when"
rm -f "$HD"/*.json
stage_hook "$HD/40-open.json" createRuntime '{"always": true}'
chmod 0664 "$HD/40-open.json"
lrun run "$SQFS" true
assert_eq 125 "$rc" "a group-writable hook file: launch run refuses to start"
assert_contains "$err" "$HD/40-open.json must not be writable by group or others (run: chmod go-w $HD/40-open.json)" \
	"a group-writable hook file is named, with the fix"
chmod 0644 "$HD/40-open.json"
chown "$TU2:" "$HD/40-open.json" 2>/dev/null || chown 65534 "$HD/40-open.json"
lrun run "$SQFS" true
assert_match "$err" "$HD/40-open.json must be owned by root" "a hook file of another user is refused"
rm -f "$HD"/*.json
stage_hook "$HD/41-gone.json" createRuntime '{"always": true}'
sed -i "s|$HB/stage.sh|$HB/missing|" "$HD/41-gone.json"
lrun run "$SQFS" true
assert_eq 125 "$rc" "a hook program that does not exist stops the container"
assert_contains "$err" "cannot execute $HB/missing" "and says so"

say "# instances: hooks run at start, poststop at stop, none for exec"
rm -f "$HD"/*.json
all_stages '{"always": true}'
reset_out
RUN=$T/xdg
user_dir "$RUN"
chmod 0700 "$RUN"
capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" start --name hk $IN "$SQFS"
assert_eq 0 "$rc" "launch start with hooks"
assert_eq "prestart createRuntime createContainer startContainer poststart" \
	"$(cut -d' ' -f1 "$OUT/log" | tr '\n' ' ' | sed 's/ $//')" "the hooks up to poststart ran at start"
assert_contains "$(cat "$OUT/state.createRuntime")" '"id":"hk"' "an instance's id is its name"
assert_contains "$(tr -d ' \n' < "$OUT/config.createRuntime")" '"args":[]' "an instance has no process.args"
capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" exec hk true
assert_eq 5 "$(wc -l < "$OUT/log" | tr -d ' ')" "launch exec runs no hook"
capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" stop hk
assert_eq 0 "$rc" "launch stop"
wait_until 10 grep -q '^poststop' "$OUT/log"
assert_match "$(cat "$OUT/log")" '^poststop' "poststop runs when the instance stops"

say "# launch oci run: the bundle's hooks, and the site's chosen by the bundle's annotations"
rm -f "$HD"/*.json
reset_out
stage_hook "$HD/20-ann.json" createRuntime '{"annotations": {"^site\\.x$": "^a$"}}'
user_dir "$T/bundle" "$T/ocistate"
cat > "$T/bundle/config.json" <<EOF
{"ociVersion": "1.0.2", "root": {"path": "$DIRIMG", "readonly": true},
 "process": {"args": ["cat", "/etc/image-marker"], "env": ["PATH=/bin:/usr/bin"], "cwd": "/"},
 "annotations": {"site.x": "a"},
 "hooks": {"createContainer": [{"path": "$HB/stage.sh", "args": ["stage.sh", "createContainer"],
                                "env": ["PATH=/usr/bin:/bin", "OUT=$OUT", "SECRET=$T/secret"]}]}}
EOF
lrun oci --root "$T/ocistate" run -b "$T/bundle" oci-1
assert_eq 0 "$rc" "launch oci run with hooks"
assert_eq launch-test-image "$out" "the bundle's process ran"
assert_eq "createRuntime createContainer" "$(cut -d' ' -f1 "$OUT/log" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" \
	"the site's hook (by annotation) and the bundle's own hook ran, each at its stage"
assert_contains "$(cat "$OUT/state.createContainer" 2>/dev/null)" '"id":"oci-1"' "the hooks see the container's OCI id"
sed -i 's/"createContainer": \[/"startsoon": [/' "$T/bundle/config.json"
lrun oci --root "$T/ocistate" run -b "$T/bundle" oci-2
assert_eq 125 "$rc" "a bundle hook of an unknown stage"
assert_match "$err" "config.json:[0-9]+:[0-9]+: unknown hook stage \"startsoon\"" "is refused with its position"

say "# the hook library: binds and symlinks into a read-only image, the linker cache"
rm -f "$HD"/*.json
mkdir -p "$T/lib"
printf 'int probe_value(void) { return 42; }\n' > "$T/probe.c"
gcc -shared -fPIC -Wl,-soname,libprobe.so.1 -o "$T/lib/libprobe.so.1.0" "$T/probe.c" || die "cannot build libprobe"
echo payload > "$T/payload"
chmod 0644 "$T/payload" "$T/lib/libprobe.so.1.0"
cat > "$HD/50-probe.json" <<EOF
{"version": "1.0.0",
 "hook": {"path": "$HB/hookprobe", "env": ["PROBE_LOG=$OUT/probe",
   "PROBE_BIND=$T/payload:/opt/site/payload,$T/lib/libprobe.so.1.0:/usr/local/lib/launch/probe/libprobe.so.1.0",
   "PROBE_LINK=libprobe.so.1.0:/usr/local/lib/launch/probe/libprobe.so.1",
   "PROBE_LDDIR=/usr/local/lib/launch/probe"]},
 "when": {"annotations": {"^probe$": "^yes$"}},
 "stages": ["createContainer"]}
EOF
chmod 0644 "$HD/50-probe.json"
gcc -shared -fPIC -Wl,-soname,libprobe2.so.1 -o "$T/lib/libprobe2.so.1.0" "$T/probe.c" || die "cannot build libprobe2"
chmod 0644 "$T/lib/libprobe2.so.1.0"
cat > "$HD/51-probe2.json" <<EOF
{"version": "1.0.0",
 "hook": {"path": "$HB/hookprobe", "env": [
   "PROBE_BIND=$T/lib/libprobe2.so.1.0:/usr/local/lib/launch/probe2/libprobe2.so.1",
   "PROBE_LDDIR=/usr/local/lib/launch/probe2"]},
 "when": {"annotations": {"^probe$": "^yes$"}},
 "stages": ["createContainer"]}
EOF
chmod 0644 "$HD/51-probe2.json"
for img in $IMAGES; do
	k=$(img_kind "$img")
	for mode in ro rw; do
		reset_out
		w= ro=1
		[ $mode = rw ] && w=--writable ro=0
		lrun run $w --annotation probe=yes -e PROBE_ENV=seen "$img" sh -c \
			'cat /opt/site/payload; readlink /usr/local/lib/launch/probe/libprobe.so.1; grep -c libprobe.so.1 /etc/ld.so.cache; grep -c libprobe2.so.1 /etc/ld.so.cache; ls -a /tmp | grep -c launch-ldcache; touch /opt/site/new 2>&1 | grep -c "Read-only"; true'
		assert_eq 0 "$rc" "$k/$mode: a hook using the library"
		assert_eq "payload
libprobe.so.1.0
1
1
0
$ro" "$out" "$k/$mode: a host file bound at a new path, a symlink, the linker cache rebuilt by two hooks (each keeps the other's), no temporary left, read-only unless --writable"
		assert_contains "$(cat "$OUT/probe" 2>/dev/null)" "container PROBE_ENV=seen" "$k/$mode: the hook reads the container's environment from the bundle"
		assert_contains "$(cat "$OUT/probe" 2>/dev/null)" "annotation probe=yes" "$k/$mode: and the annotations from the state"
	done
done
assert_clean "runs with the probe hook"

say "# --mpi and --gpu that no hook serves are not silent"
rm -f "$HD"/*.json "$T/hooks2.d"/*.json 2>/dev/null
config
lrun run --gpu "$SQFS" true
assert_eq 0 "$rc" "--gpu without a GPU hook still runs"
assert_contains "$err" "warning: --gpu: no site hook on this node provides the host's GPUs" "and warns"
assert_contains "$err" "hooks_dirs: $HD, $T/hooks2.d" "naming where it looked"
lrun run --mpi "$SQFS" true
assert_contains "$err" "warning: --mpi: no site hook on this node provides the host's MPI" "--mpi warns too"
lrun -q run --mpi --gpu "$SQFS" true
assert_eq "" "$err" "-q silences the warnings"
lrun run "$SQFS" true
assert_eq "" "$err" "nothing is said when nothing was asked"
config '"strict_requests": true'
lrun run --gpu "$SQFS" true
assert_eq 125 "$rc" "with strict_requests a --gpu no hook serves fails"
assert_contains "$err" "--gpu: no site hook on this node provides the host's GPUs" "with the reason"
stage_hook "$HD/gpu.json" createContainer '{"annotations": {"^launch\\.gpu$": "^true$"}}'
lrun run --gpu "$SQFS" true
assert_eq 0 "$rc" "a GPU hook serves --gpu"
assert_eq "" "$err" "and nothing is said"
stage_hook "$HD/gpu.json" createContainer '{"always": true}'
lrun run --gpu "$SQFS" true
assert_eq 125 "$rc" "a hook that runs always does not count as serving --gpu"
config

finish
