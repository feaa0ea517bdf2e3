#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The bash completion (completion/launch.bash), sourced into a bash without
# and with the bash-completion package: commands (`launch r<TAB>`), a
# command's options (`launch run --wr<TAB>`), image names from `launch
# images` (an image imported into a private store), instance names from
# `launch ps`. Completion is driven as bash drives it: COMP_WORDS split at
# blanks and at `:` and `=`, COMP_LINE and COMP_POINT at the end of the line.
# No privileges needed.
# Environment: LAUNCH (the built launch), LAUNCH_SOURCE_DIR.
set -u
L=${LAUNCH:?LAUNCH must name the launch binary}
SRC=${LAUNCH_SOURCE_DIR:?}
COMPLETION=$SRC/completion/launch.bash
failures=0 checks=0

skip() {
	if [ "${LAUNCH_TEST_MUST_WORK:-0}" = 1 ]; then
		echo "SKIP turned into failure: $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

T=$(mktemp -d /tmp/launch-completion.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

bash -n "$COMPLETION" || { echo "FAIL: $COMPLETION: syntax error"; exit 1; }

# An image in a private store, so that `launch images` lists it.
command -v mksquashfs >/dev/null || skip "mksquashfs not found (apt-get install squashfs-tools)"
mkdir -p "$T/root/bin" "$T/data"
echo tiny >"$T/root/marker"
mksquashfs "$T/root" "$T/tiny.sqfs" -quiet -no-progress -all-root >/dev/null || { echo "FAIL: mksquashfs"; exit 1; }
export XDG_DATA_HOME=$T/data
"$L" -q import "$T/tiny.sqfs" complete-me:1.0 || { echo "FAIL: launch import of the test image"; exit 1; }

# `launch ps` needs a running instance, which needs user namespaces and FUSE:
# a launch that prints a ps table of two instances stands in for it.
cat >"$T/launch" <<STUB
#!/bin/sh
if [ "\$*" = ps ]; then
	printf '%-24s %-40s %-6s %-9s %s\n' NAME IMAGE AGE PROCESSES STATE \
		job-a complete-me:1.0 5s 0 running job-b complete-me:1.0 9s 1 running
	exit 0
fi
exec "$L" "\$@"
STUB
chmod 0755 "$T/launch"

# In a fresh bash: source the completion (after bash-completion's own
# framework when $1 is "framework"), then print, per line of stdin, the
# sorted completions of that line, with the stand-in for `launch`.
complete_lines() {
	bash --norc --noprofile -c '
		[ "$1" = framework ] && . /usr/share/bash-completion/bash_completion
		. "$2"
		while IFS= read -r line; do
			line=$3${line#launch}
			COMP_LINE=$line
			COMP_POINT=${#line}
			read -ra COMP_WORDS <<<"$(sed "s/\([:=]\)/ \1 /g" <<<"$line")"
			[[ $line == *" " ]] && COMP_WORDS+=("")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=()
			_launch launch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
			printf "%s\n" "$(printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " ")"
		done' bash "$1" "$COMPLETION" "$T/launch"
}

# expect MODE LINE EXPECTED: the completions of LINE are EXPECTED (sorted,
# separated and ended by a blank)
cases=$(
	cat <<CASES
launch r|rmi run 
launch run --wr|--writable --writable-size 
launch run --writable-s|--writable-size 
launch -v r|rmi run 
launch lo|login logout 
launch li|list 
launch run complete|complete-me:1.0 
launch run complete-me:|1.0 
launch run complete-me:1|1.0 
launch run --root -m /tmp:/tmp complete|complete-me:1.0 
launch inspect comp|complete-me:1.0 
launch images comp|complete-me:1.0 
launch exec job-|job-a job-b 
launch stop job-a job-|job-a job-b 
launch ps --f|--format 
launch ps --format t|table 
launch help star|start 
launch start --na|--name 
launch start --wr|--writable --writable-size 
launch commit --ins|--instance 
launch commit --instance job-|job-a job-b 
launch oci st|state 
launch run $T/ti|$T/tiny.sqfs 
launch run -m $T/ro|$T/root 
CASES
)
modes=bare
if [ -f /usr/share/bash-completion/bash_completion ]; then
	modes="bare framework"
elif [ "${LAUNCH_TEST_MUST_WORK:-0}" = 1 ]; then
	echo "FAIL: /usr/share/bash-completion/bash_completion not found (apt-get install bash-completion)"
	failures=$((failures + 1))
fi
for mode in $modes; do
	got=$(printf '%s\n' "$cases" | cut -d'|' -f1 | complete_lines "$mode")
	i=0
	while IFS='|' read -r line want; do
		i=$((i + 1))
		have=$(printf '%s\n' "$got" | sed -n "${i}p")
		checks=$((checks + 1))
		if [ "$have" = "$want" ]; then
			echo "ok: $mode: [$line<TAB>] gives [$want]"
		else
			echo "FAIL: $mode: [$line<TAB>] gives [$have], expected [$want]"
			failures=$((failures + 1))
		fi
	done <<<"$cases"
done

if [ "$failures" -gt 0 ]; then
	echo "test_completion: $failures of $checks checks failed"
	exit 1
fi
echo "test_completion: all $checks checks passed"
