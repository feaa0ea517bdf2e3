#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Named instances: launch start / exec / ps / stop as the unprivileged user.
# One container stays alive; many processes join it with setns and get the
# identity, capability, environment, working-directory and exit-status rules
# of launch run. State is private to the user; a dead holder is cleaned by
# the next command; another user can neither see nor join an instance.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

# A runtime directory of the test's own, so that stop --all touches nothing
# of other tests.
RUN=$T/xdg
user_dir "$RUN"
chmod 0700 "$RUN"
li() { capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
STATE=$RUN/launch/instances
user_dir "$T/out"

# pids of the processes whose mount namespace is that of instance $1's init
instance_init() { sed -n 's/.*"init": *\([0-9]*\).*/\1/p' "$STATE/$1.json" 2>/dev/null; }
joined() { [ "$(readlink "/proc/$1/ns/mnt")" = "$(readlink "/proc/$(instance_init "$2")/ns/mnt")" ]; }
instance_holder() { sed -n 's/.*"holder": *\([0-9]*\).*/\1/p' "$STATE/$1.json" 2>/dev/null; }

for img in $IMAGES; do
	k=$(img_kind "$img")
	say "# $k: start prints the name and returns when the instance can be joined"
	li start --name "it-$k" "$img"
	assert_eq 0 "$rc" "$k: launch start --name it-$k"
	assert_eq "it-$k" "$out" "$k: start prints the instance's name"
	li exec "it-$k" cat /etc/image-marker
	assert_eq 0 "$rc" "$k: exec right after start"
	assert_eq launch-test-image "$out" "$k: exec runs in the image"

	say "# $k: identity, capabilities, environment, working directory, exit status"
	li exec "it-$k" sh -c 'id -u; id -g; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status | tr -d "\t"'
	assert_eq "$TU_UID
$TU_GID
CapEff:0000000000000000
CapBnd:0000000000000000
NoNewPrivs:1" "$out" "$k: exec: own uid and gid, no capabilities, no_new_privs"
	li exec --root "it-$k" true
	assert_eq 125 "$rc" "$k: exec --root into an instance started without --root is refused"
	assert_contains "$err" "launch start --root" "$k: the refusal names the fix"
	li exec -e FOO=bar -e container "it-$k" sh -c 'echo "$FOO $container $HOME"'
	assert_eq "bar launch $TU_HOME" "$out" "$k: exec: --env and the usual environment"
	printf 'A=from-file\n' | user_file "$T/envfile"
	li exec --env-file "$T/envfile" "it-$k" sh -c 'echo $A'
	assert_eq from-file "$out" "$k: exec: --env-file"
	li exec -w /etc "it-$k" pwd
	assert_eq /etc "$out" "$k: exec --workdir /etc"
	capture as_user sh -c "cd /tmp && XDG_RUNTIME_DIR='$RUN' exec '$L' exec it-$k pwd"
	assert_eq /tmp "$out" "$k: exec starts in the host's cwd when the container shows it"
	li exec "it-$k" sh -c 'exit 42'
	assert_eq 42 "$rc" "$k: exec passes the exit status through"
	li exec "it-$k" no-such-command
	assert_eq 127 "$rc" "$k: exec of a missing command is 127"
	assert_contains "$err" "no-such-command" "$k: the missing command is named"
	li exec "it-$k" /etc/image-marker
	assert_eq 126 "$rc" "$k: exec of a non-executable file is 126"
	li exec "it-$k" sh -c 'kill -TERM $$'
	assert_eq 143 "$rc" "$k: exec of a command killed by SIGTERM is 143"
	li exec -m /tmp:/x "it-$k" true
	assert_eq 125 "$rc" "$k: exec refuses container options such as --bind"
	li exec no-such-instance true
	assert_eq 125 "$rc" "$k: exec into a missing instance fails"
	assert_contains "$err" "no-such-instance not found" "$k: and says so"

	say "# $k: names are unique"
	li start --name "it-$k" "$img"
	assert_eq 125 "$rc" "$k: a second start with the same name fails"
	assert_contains "$err" "already exists" "$k: and says the name is taken"
	li start --reuse --name "it-$k" "$img"
	assert_eq "0 it-$k" "$rc $out" "$k: start --reuse of a running instance prints its name"
	li start --reuse --name "it-$k" -
	assert_eq "0 it-$k" "$rc $out" "$k: and needs no image (IMAGE -)"
	li start --reuse --name "it-none-$k" -
	assert_eq 125 "$rc" "$k: --reuse of an instance that does not run, with image -, fails"
	li start --name "../bad" "$img"
	assert_eq 125 "$rc" "$k: a name with a slash is refused"
	assert_contains "$err" "invalid instance name" "$k: and says why"
	long=$(printf 'n%.0s' $(seq 65))
	li start --name "$long" "$img"
	assert_eq 125 "$rc" "$k: a name of 65 characters is refused (the limit is 64)"
	li start --name "${long#n}" "$img"
	assert_eq "0 ${long#n}" "$rc $out" "$k: a name of 64 characters is taken"
	li stop "${long#n}"
	li start "$img" true
	assert_eq 125 "$rc" "$k: start takes no command"
done

say "# variables and working directory given at start apply to every exec"
li start --name envs -e FROM_START=s1 -e OVER=start -w /etc "$SQFS"
assert_eq 0 "$rc" "start with --env and --workdir"
capture as_user env XDG_RUNTIME_DIR="$RUN" TASK_VAR=t7 "$L" exec -e OVER=exec envs sh -c 'echo "$FROM_START $OVER $TASK_VAR $(pwd)"'
assert_eq "s1 exec t7 /etc" "$out" "exec sees the start's variables, its own host variables and --env, and the start's workdir"
li exec -w / envs pwd
assert_eq / "$out" "exec --workdir overrides the start's"
li stop envs

say "# generated names, ps"
li start "$SQFS"
assert_eq 0 "$rc" "start without --name"
gen=$out
assert_match "$gen" '^launch-[0-9a-f]{6}$' "a generated name is printed"
as_user_bg "$T/sleep.pid" env XDG_RUNTIME_DIR="$RUN" "$L" exec "$gen" sleep 1000
assert_true "the background exec joined $gen" wait_until 10 joined "$BG_PID" "$gen"
li ps
assert_eq 0 "$rc" "launch ps"
assert_match "$out" '^NAME +IMAGE +AGE +PROCESSES +STATE$' "ps prints a header"
assert_match "$out" "^it-sqfs +$SQFS +[0-9]+s +0 +running$" "ps lists it-sqfs with no process"
assert_match "$out" "^it-dir +$DIRIMG +[0-9]+s +0 +running$" "ps lists it-dir"
assert_match "$out" "^$gen +$SQFS +[0-9]+s +1 +running$" "ps counts the joined sleep in $gen"
li ps --format json
assert_contains "$out" "\"name\": \"$gen\"" "ps --format json names the instance"
assert_contains "$out" '"processes": 1' "ps --format json counts processes"
li exec -it "$gen" true
assert_eq 0 "$rc" "exec -it: accepted, no effect"

say "# ps shows the image as it was given: a store name, a relative path"
DATA=$T/data
user_dir "$DATA"
capture as_user env XDG_DATA_HOME="$DATA" "$L" -q import "$SQFS" lab/ps-image:1
assert_eq 0 "$rc" "import the image into a store"
capture as_user env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" start --name by-name lab/ps-image:1
assert_eq 0 "$rc" "start an instance of a stored image by its name"
capture as_user sh -c "cd '$(dirname "$SQFS")' && XDG_RUNTIME_DIR='$RUN' exec '$L' start --name by-relative-path-of-an-instance-whose-name-is-long ./$(basename "$SQFS")"
assert_eq 0 "$rc" "start an instance of a relative path"
li ps
assert_match "$out" "^by-name +lab/ps-image:1 +[0-9]+s +0 +running$" "ps shows the store name"
assert_not_contains "$out" "$DATA" "not the store's file"
assert_match "$out" "^by-relative-path-of-an-instance-whose-name-is-long +\./$(basename "$SQFS") +[0-9]+s +0 +running$" \
	"ps shows the relative path as given"
# every line has a field starting where the header's AGE does
aligned=$(printf '%s\n' "$out" | awk 'NR == 1 { p = index($0, " AGE ") + 1; next }
	substr($0, p - 1, 2) !~ /^ [0-9]$/ { print "misaligned: " $0 }')
assert_eq "" "$aligned" "the columns stay aligned with a long name"
li ps --format json
assert_contains "$out" '"image": "lab/ps-image:1"' "ps --format json shows the store name too"
li stop by-name by-relative-path-of-an-instance-whose-name-is-long
assert_eq 0 "$rc" "stop both"
li list
assert_contains "$out" "$gen" "launch list is launch ps"

say "# state: private to the user, under XDG_RUNTIME_DIR/launch"
assert_eq 700 "$(stat -c %a "$RUN/launch")" "the runtime directory is 0700"
assert_eq 700 "$(stat -c %a "$STATE")" "the instances directory is 0700"
assert_true "the state file of $gen exists" test -f "$STATE/$gen.json"

say "# another user can neither see nor join an instance"
require_user2
init=$(instance_init it-sqfs)
capture as_user2 "$L" ps
assert_not_contains "$out" it-sqfs "the second user's ps does not show the instance"
capture as_user2 "$L" exec it-sqfs true
assert_eq 125 "$rc" "the second user cannot exec into it by name"
capture as_user2 env XDG_RUNTIME_DIR="$RUN" "$L" exec it-sqfs true
assert_eq 125 "$rc" "nor through the first user's runtime directory"
capture as_user2 nsenter -U -m -t "$init" --preserve-credentials true
assert_true "nor by entering the init's namespaces with nsenter (status $rc)" test "$rc" -ne 0

say "# a --writable instance: one exec sees what another wrote"
li start --name rw --root --writable "$SQFS"
assert_eq 0 "$rc" "start --root --writable"
li exec rw sh -c 'echo written-by-one > /etc/shared-file'
assert_eq 0 "$rc" "exec writes into the image's /etc"
li exec rw cat /etc/shared-file
assert_eq written-by-one "$out" "another exec reads it"
li exec rw sh -c 'id -u; grep ^CapEff: /proc/self/status | tr -d "\t"'
assert_eq "0
CapEff:00000000000000cb" "$out" "exec into a --root instance: uid 0 with the five capabilities"
li exec --root rw id -u
assert_eq 0 "$out" "exec --root into a --root instance"

say "# 128 concurrent execs"
i=0
pids=
while [ $i -lt 128 ]; do
	{ as_user env XDG_RUNTIME_DIR="$RUN" "$L" exec it-sqfs /bin/true >/dev/null 2>"$T/out/err.$i" &&
		echo ok >"$T/out/ok.$i"; } &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
assert_eq 128 "$(ls "$T/out" | grep -c '^ok\.')" "128 concurrent 'launch exec it-sqfs /bin/true' succeed"
cat "$T"/out/err.* | head -n 5

say "# stop ends every process, unmounts, removes the state"
holder=$(instance_holder "$gen")
li stop "$gen"
assert_eq 0 "$rc" "launch stop $gen"
wait_exit "$BG" 10
assert_eq 143 "$rc" "the joined sleep ended with SIGTERM"
assert_true "the holder of $gen is gone" _exited "$holder"
assert_true "the state of $gen is removed" test ! -e "$STATE/$gen.json"
li stop "$gen"
assert_eq 125 "$rc" "stopping it again fails"
assert_contains "$err" "not found" "and says it is not found"

say "# a holder killed with SIGKILL is cleaned by the next command"
holder=$(instance_holder it-dir)
init=$(instance_init it-dir)
as_user_bg "$T/sleep2.pid" env XDG_RUNTIME_DIR="$RUN" "$L" exec it-dir sleep 1000
assert_true "a background exec joined it-dir" wait_until 10 joined "$BG_PID" it-dir
kill -KILL "$holder"
assert_true "the init of the killed holder ends" wait_until 10 _exited "$init"
wait_exit "$BG" 10
assert_eq 137 "$rc" "the process joined to the killed instance is killed too"
li ps
assert_not_contains "$out" it-dir "ps no longer lists the dead instance"
assert_true "its state was removed" test ! -e "$STATE/it-dir.json"
li start --name it-dir "$DIRIMG"
assert_eq 0 "$rc" "its name can be used again"

say "# commit of a writable instance of a stored image, into the store and to a file"
lsd() { capture as_user env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
lsd start --name to-commit --writable lab/ps-image:1
assert_eq 0 "$rc" "start --writable of the stored image by its name"
lsd exec to-commit sh -c 'echo changed > /tmp-marker'
lsd -q commit --instance to-commit lab/committed:1
assert_eq 0 "$rc" "launch commit --instance INSTANCE NAME (the instance names its image by store name)"
lsd run lab/committed:1 cat /tmp-marker /etc/image-marker
assert_eq "changed launch-test-image" "$(printf '%s\n' "$out" | tr '\n' ' ' | sed 's/ $//')" \
	"the new image has the instance's change over its image"
user_dir "$T/saved"
lsd -q commit --instance to-commit --output "$T/saved/out.sqfs"
assert_eq 0 "$rc" "launch commit --instance INSTANCE --output FILE"
lsd run "$T/saved/out.sqfs" cat /tmp-marker
assert_eq "changed" "$out" "the file is a squashfs image with the change"
assert_eq "out.sqfs" "$(ls "$T/saved")" "and no temporary file is left beside it"
lsd stop to-commit

say "# stop --all"
li stop --all
assert_eq 0 "$rc" "launch stop --all"
li ps
assert_eq 1 "$(printf '%s\n' "$out" | grep -vc '^server:')" \
	"ps shows only the header afterwards (and the image servers of the runs)"
assert_eq "" "$(ls "$STATE")" "no state is left"
assert_clean "instances"
finish
