#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command line: help texts, version, unknown commands, -v and -q.
. "$(dirname "$0")/lib.sh"
require_userns

say "# help and version"
assert_status 0 as_user "$L" --help
assert_contains "$out" "Usage: launch" "launch --help prints the usage"
assert_contains "$out" "doctor" "launch --help lists the doctor command"
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
assert_status 125 as_user "$L" run
assert_contains "$err" "IMAGE" "launch run without an image says what is missing"

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
