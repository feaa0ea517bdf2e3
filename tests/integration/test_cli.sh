#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command line: help texts, version, unknown commands, -v and -q.
. "$(dirname "$0")/lib.sh"
require_userns

say "# help and version"
assert_status 0 as_user "$L" --help
assert_contains "$out" "Usage: launch" "launch --help prints the usage"
assert_contains "$out" "doctor" "launch --help lists the doctor command"
assert_match "$out" "^  config +print the configuration" "launch --help lists the config command"
assert_status 0 as_user "$L" config --help
assert_contains "$out" "Usage: launch config" "launch config --help prints the config usage"
assert_contains "$out" "--show-origin" "launch config --help documents --show-origin"
assert_status 0 as_user "$L" run --help
assert_contains "$out" "Usage: launch run" "launch run --help prints the run usage"
assert_contains "$out" "--private-tmp" "launch run --help documents --private-tmp"
assert_status 0 as_user "$L" doctor --help
assert_contains "$out" "Usage: launch doctor" "launch doctor --help prints the doctor usage"
assert_status 0 as_user "$L" help run
assert_contains "$out" "Usage: launch run" "launch help run prints the run usage"
assert_status 0 as_user "$L" version
assert_match "$out" '^launch [0-9]+\.[0-9]+' "launch version prints the version"
v1=$out
assert_status 0 as_user "$L" --version
assert_eq "$v1" "$out" "launch --version prints the same as launch version"

say "# errors"
assert_status 125 as_user "$L" frobnicate
assert_contains "$err" "frobnicate" "an unknown command is named in the message"
assert_not_contains "$err" "did you mean" "a word close to no command gets no suggestion"
assert_status 125 as_user "$L" rnu "$SQFS" true
assert_eq "launch: unknown command \`rnu\` (did you mean \`run\`?)" "$err" "a mistyped command gets the nearest one"
assert_status 125 as_user "$L" help imgaes
assert_contains "$err" "did you mean \`images\`?" "launch help of a mistyped command too"
assert_status 125 as_user "$L" run
assert_contains "$err" "IMAGE" "launch run without an image says what is missing"

say "# docker habits: -i, -t, --rm accepted; -v SRC:DST and --volume answered"
assert_status 0 as_user "$L" run --help
assert_contains "$out" "-i, -t, --interactive, --tty, --rm" "run --help lists the options accepted for docker users"
for opts in "-it --rm" "-ti" "-i -t" "--interactive --tty --rm"; do
	# shellcheck disable=SC2086 # word splitting is the point
	assert_status 0 as_user "$L" run $opts "$SQFS" echo hi
	assert_eq "hi" "$out" "run $opts: accepted, no effect"
done
printf 'from-stdin\n' | as_user "$L" run -i "$SQFS" cat >"$T/stdin.out" 2>&1
assert_eq from-stdin "$(cat "$T/stdin.out")" "run -i: stdin reaches the command"
assert_status 125 as_user "$L" start -it "$SQFS"
assert_contains "$err" "option -i is not available here" "start (detached) refuses -i, named as given"
assert_status 125 as_user "$L" run -v /tmp:/data "$SQFS" true
assert_contains "$err" "-v means --verbose in launch: to bind-mount /tmp:/data, use -m /tmp:/data" \
	"run -v SRC:DST says to use -m"
assert_status 125 as_user "$L" run --volume /tmp:/data "$SQFS" true
assert_contains "$err" "use -m /tmp:/data" "run --volume SRC:DST says to use -m"
assert_status 125 as_user "$L" run -v no/such:2.0 true
assert_not_contains "$err" "bind-mount" "run -v NAME:TAG is verbose, then an image name"
assert_contains "$err" "no/such:2.0 not found" "and the image is looked up"
assert_status 0 as_user "$L" run --verbose "$SQFS" true
assert_status 0 as_user "$L" run -m /tmp:/data -v "$SQFS" true
assert_contains "$err" "launch: " "-v after -m SRC:DST is verbose"

say "# verbosity"
for img in $IMAGES; do
	k=$(img_kind "$img")
	assert_status 0 as_user "$L" run "$img" true
	assert_eq "" "$err" "$k: a plain run prints nothing on stderr"
	assert_status 0 as_user "$L" -v run "$img" true
	assert_match "$err" '^launch: .*image' "$k: launch -v run prints details on stderr"
	assert_status 0 as_user "$L" run -v "$img" true
	assert_match "$err" '^launch: .*runtime directory' "$k: launch run -v prints details on stderr"
	# A missing home directory is a warning at the default level...
	assert_status 0 as_user env HOME=/nonexistent-home-dir "$L" run "$img" true
	assert_contains "$err" "warning" "$k: a missing home directory gives a warning"
	# ...and -q leaves only errors.
	assert_status 0 as_user env HOME=/nonexistent-home-dir "$L" -q run "$img" true
	assert_eq "" "$err" "$k: launch -q run prints nothing on stderr"
	assert_status 0 as_user env HOME=/nonexistent-home-dir "$L" run -q "$img" echo quiet
	assert_eq "quiet" "$out" "$k: launch run -q still passes the command's output"
	assert_eq "" "$err" "$k: launch run -q prints nothing on stderr"
done
assert_clean "cli runs"
finish
