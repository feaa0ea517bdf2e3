#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man pages and the help texts agree: every command `launch --help`
# lists has a page (docs/man/launch-CMD.1.md, or a page whose NAME line
# names it, as launch-login(1) names launch-logout; `version` and `help` are
# described in launch(1)), and every long option `launch CMD --help` prints
# appears in that page. No privileges needed.
# Environment: LAUNCH (the built launch), LAUNCH_SOURCE_DIR.
set -u
L=${LAUNCH:?LAUNCH must name the launch binary}
MAN=${LAUNCH_SOURCE_DIR:?}/docs/man
failures=0 checks=0

fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }

# page_of CMD: the page that documents `launch CMD`
page_of() {
	if [ -f "$MAN/launch-$1.1.md" ]; then
		printf '%s\n' "$MAN/launch-$1.1.md"
		return 0
	fi
	for p in "$MAN"/launch-*.1.md; do
		sed -n '/^## NAME/,/^## /p' "$p" | grep -qE "(^|[ ,])launch-$1(,| -)" && {
			printf '%s\n' "$p"
			return 0
		}
	done
	return 1
}

# check_options PAGE TEXT WHAT: each --option of TEXT appears in PAGE
check_options() {
	for opt in $(printf '%s\n' "$2" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		checks=$((checks + 1))
		grep -qE -- "$opt([^a-z0-9-]|\$)" "$1" ||
			fail "$3 prints $opt, but $(basename "$1") does not mention it"
	done
}

help=$("$L" --help) || fail "launch --help failed"
check_options "$MAN/launch.1.md" "$help" "launch --help"
cmds=$(printf '%s\n' "$help" | awk '
	/^Commands:/ { c = 1; next }
	c && !/^  [a-z]/ { exit }
	c { line = $0; sub(/^ +/, "", line); sub(/  .*/, "", line); gsub(/, */, "\n", line); print line }')
[ -n "$cmds" ] || fail "no commands found in launch --help"
for c in logout list; do
	checks=$((checks + 1))
	printf '%s\n' "$cmds" | grep -qx "$c" || fail "launch --help does not list $c"
done

for cmd in $cmds; do
	checks=$((checks + 1))
	case $cmd in
	version | help)
		grep -qE "^\`$cmd\`" "$MAN/launch.1.md" || fail "launch(1) does not describe \`launch $cmd\`"
		continue
		;;
	esac
	if ! page=$(page_of "$cmd"); then
		fail "launch $cmd has no man page (docs/man/launch-$cmd.1.md, or a page whose NAME names launch-$cmd)"
		continue
	fi
	checks=$((checks + 1))
	out=$("$L" "$cmd" --help 2>&1) || fail "launch $cmd --help exits $?"
	check_options "$page" "$out" "launch $cmd --help"
done

if [ "$failures" -gt 0 ]; then
	printf 'test_man: %d of %d checks failed\n' "$failures" "$checks"
	exit 1
fi
printf 'test_man: all %d checks passed (%s)\n' "$checks" "$(printf '%s' "$cmds" | tr '\n' ' ')"
