#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Working directory (--workdir, the host's cwd, or /) and environment
# (pass-through, the LD_* deny list, --env, --env-file).
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

printf '# a comment\n\nB=2\n  # indented comment\nexport C=3\nFROMFILE=file\n' | user_file "$T/good.env"
printf 'OK=1\n# fine\nthis line is wrong\n' | user_file "$T/bad.env"

for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: working directory"
	assert_status 0 as_user "$L" run --workdir /etc "$img" pwd
	assert_eq /etc "$out" "$k: --workdir /etc"
	assert_status 0 as_user "$L" run -w /usr/bin "$img" sh -c 'pwd; echo "$PWD"'
	assert_eq "/usr/bin
/usr/bin" "$out" "$k: -w /usr/bin, and PWD follows"
	if [ -d "$TU_HOME" ]; then
		assert_status 0 as_user sh -c 'cd "$HOME" && exec "$@"' sh "$L" run "$img" pwd
		assert_eq "$TU_HOME" "$out" "$k: run from \$HOME, the container starts in \$HOME"
		assert_status 0 as_user sh -c 'cd "$HOME" && exec "$@"' sh "$L" run --no-home "$img" pwd
		assert_eq / "$out" "$k: run from \$HOME with --no-home, the container starts in /"
	else
		fail "the test user's home $TU_HOME does not exist (useradd -m)"
	fi
	# $T is not mounted in the container
	assert_status 0 as_user "$L" run "$img" pwd
	assert_eq / "$out" "$k: run from a directory missing in the container, it starts in /"
	assert_status 0 as_user "$L" run -m "$T" "$img" pwd
	assert_eq "$T" "$out" "$k: run from a directory that is mounted, it starts there"
	assert_status 125 as_user "$L" run --workdir /no/such/dir "$img" echo ran
	assert_eq "" "$out" "$k: a missing --workdir runs nothing"
	assert_contains "$err" "/no/such/dir" "$k: a missing --workdir is named in the error"

	say "# $k: environment"
	assert_status 0 as_user env HOSTVAR=from-host "$L" run "$img" sh -c 'echo "$HOSTVAR"'
	assert_eq from-host "$out" "$k: host variables pass through"
	assert_status 0 as_user env LD_PRELOAD=libc.so.6 LD_LIBRARY_PATH=/nonexistent-lib "$L" run "$img" \
		sh -c 'echo "${LD_PRELOAD-unset} ${LD_LIBRARY_PATH-unset}"'
	assert_eq "unset unset" "$out" "$k: LD_PRELOAD and LD_LIBRARY_PATH do not pass"
	assert_status 0 as_user "$L" run "$img" sh -c 'echo "$container"'
	assert_eq launch "$out" "$k: container=launch is set"
	assert_status 0 as_user "$L" run --env A=1 -e EMPTY= "$img" sh -c 'echo "A=$A EMPTY=${EMPTY-unset}"'
	assert_eq "A=1 EMPTY=" "$out" "$k: --env A=1 and -e EMPTY="
	assert_status 0 as_user env FROMFILE=host "$L" run --env-file "$T/good.env" "$img" \
		sh -c 'echo "B=$B C=$C FROMFILE=$FROMFILE"'
	assert_eq "B=2 C=3 FROMFILE=file" "$out" "$k: --env-file with comments, blank lines and export"
	assert_status 0 as_user env FROMFILE=host "$L" run --env-file "$T/good.env" --env FROMFILE "$img" \
		sh -c 'echo "FROMFILE=$FROMFILE"'
	assert_eq "FROMFILE=host" "$out" "$k: --env NAME copies the host's value (after --env-file set another)"
	assert_status 0 as_user env X=host "$L" run --env X=option --env-file "$T/good.env" "$img" sh -c 'echo "$X"'
	assert_eq option "$out" "$k: an --env not overridden by a later --env-file keeps its value"
	assert_status 125 as_user "$L" run --env 1BAD=x "$img" echo ran
	assert_eq "" "$out" "$k: a bad --env name runs nothing"
	assert_contains "$err" "1BAD" "$k: a bad --env name is named in the error"
	assert_status 125 as_user "$L" run --env-file "$T/bad.env" "$img" echo ran
	assert_eq "" "$out" "$k: a bad env file runs nothing"
	assert_contains "$err" "$T/bad.env:3" "$k: the env file error names file:line"
	assert_status 125 as_user "$L" run --env-file "$T/missing.env" "$img" echo ran
	assert_contains "$err" "$T/missing.env" "$k: a missing env file is named in the error"
done
assert_clean "workdir and env runs"
finish
