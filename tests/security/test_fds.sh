#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What a container's processes inherit: exactly descriptors 0-2 (and
# PMI_FD's, given on purpose), whatever launch or its caller had open: in
# `launch run` (squashfs and directory images), `launch exec` into an
# instance, the instance's first process, and a hook. The SPANK plugin's
# tasks are checked in tests/slurm/test_spank.sh.
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_fuse
require_user2

# ls lists its own descriptors: 0-2, what it inherited, and 3, the one it
# reads the listing with (the lowest free one: an inherited 3 would show as
# a fourth entry). No shell in between: shells keep descriptors of their own.
LIST='exec ls -1 /proc/self/fd'
# sorted on one line
fds() { printf '%s\n' "$1" | sort -n | tr '\n' ' '; }
user_dir "$T/run"
li() { capture as_user env LAUNCH_RUNTIME_DIR="$T/run" "$L" "$@"; }
# with_fds REDIRECTIONS CMD...: CMD as the test user, with those open
with_fds() {
	_r=$1
	shift
	capture as_user sh -c "$_r; exec \"\$@\"" sh env LAUNCH_RUNTIME_DIR="$T/run" "$@"
}

for img in $IMAGES; do
	k=$(img_kind "$img")
	say "# $k: launch run, with descriptors 5 and 7 open in the caller"
	with_fds "exec 5</etc/hostname 7>/dev/null" "$L" run "$img" sh -c "$LIST"
	assert_eq "0 1 2 3 " "$(fds "$out")" "$k: the command sees 0, 1 and 2 only"

	say "# $k: PMI_FD is passed on purpose"
	with_fds "exec 9</etc/hostname" PMI_FD=9 "$L" run "$img" sh -c "$LIST"
	assert_eq "0 1 2 3 9 " "$(fds "$out")" "$k: PMI_FD's descriptor stays open"

	say "# $k: launch exec into an instance"
	with_fds "exec 6</etc/hostname" "$L" start --name "fds-$k" "$img"
	assert_eq 0 "$rc" "$k: start"
	with_fds "exec 8</etc/hostname" "$L" exec "fds-$k" sh -c "$LIST"
	assert_eq "0 1 2 3 " "$(fds "$out")" "$k: launch exec sees 0, 1 and 2 only"
	li stop "fds-$k"
done

say "# a hook"
HD=$T/hooks.d
mkdir -p "$HD"
user_dir "$T/out"
# sh -c, not a script: a shell keeps a script it runs open
for s in prestart createRuntime poststop; do
	printf '{"version": "1.0.0", "hook": {"path": "/bin/sh", "args": ["sh", "-c", "exec ls -1 /proc/self/fd > %s/fds.%s"]}, "when": {"always": true}, "stages": ["%s"]}\n' \
		"$T/out" "$s" "$s" > "$HD/$s.json"
done
chmod 0644 "$HD"/*.json
printf '{"hooks_dirs": ["%s"]}\n' "$HD" > "$T/launch.json"
chmod 0644 "$T/launch.json"
with_fds "exec 5</etc/hostname" LAUNCH_CONFIG="$T/launch.json" "$L" run "$SQFS" true
assert_eq 0 "$rc" "a run with hooks"
for s in prestart createRuntime poststop; do
	# 0 is the state, 1 and 2 the output launch collects
	assert_eq "0 1 2 3 " "$(fds "$(cat "$T/out/fds.$s" 2>/dev/null)")" "the $s hook sees 0, 1 and 2 only"
done

finish
