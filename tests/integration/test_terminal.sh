#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Terminals. In the foreground of a terminal (script(1) makes one), the
# command of launch run and launch exec gets a console: a terminal of the
# container's own devpts, /dev/pts/N, what `tty` prints, with the user's
# settings and window size; launch relays between the two and puts the
# user's terminal back as it was. Keys reach the command; ^C interrupts it
# through the line discipline inside. Without a terminal there is none;
# with output to a terminal and input from elsewhere, the terminal is
# named /dev/console.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_cmd script

RUN=$T/xdg
user_dir "$RUN"
chmod 0700 "$RUN"
# tty CMD: run the shell command line CMD as the test user under a new
# terminal of 30 rows and 100 columns; sets rc, out. script(1) turns the
# end of its input into a NUL it types, which the terminal echoes as ^@:
# out is without them and without \r.
tidy() { out=$(printf '%s\n' "$out" | tr -d '\r\000' | sed 's/\^@//g'); }
tty() {
	capture as_user env XDG_RUNTIME_DIR="$RUN" script -qec "stty rows 30 cols 100; $1" /dev/null
	tidy
}
# the same with INPUT written to the terminal, after a second
tty_in() {
	capture as_user env XDG_RUNTIME_DIR="$RUN" sh -c '(sleep 1; printf "$1") | script -qec "stty rows 30 cols 100; $2" /dev/null' sh "$1" "$2"
	tidy
}

for img in $IMAGES; do
	k=$(img_kind "$img")
	tty "'$L' run '$img' sh -c 'tty; stty size; test -e /dev/console || echo no-console; test -e /dev/pts/ptmx && echo ptmx'"
	assert_match "$(printf '%s\n' "$out" | head -n 1)" '^/dev/pts/[0-9]+$' "$k: under a terminal, tty prints /dev/pts/N"
	assert_eq "30 100
no-console
ptmx" "$(printf '%s\n' "$out" | sed 1d)" "$k: a terminal of the container's devpts, with the user's window size"

	tty "stty -g >$T/before-$k; '$L' run '$img' sh -c 'exit 3'; echo rc=\$?; stty -g >$T/after-$k"
	assert_contains "$out" "rc=3" "$k: the exit status comes through"
	assert_eq "$(cat "$T/before-$k")" "$(cat "$T/after-$k")" "$k: the user's terminal settings are as they were after the run"

	tty "'$L' run '$img' seq 1 30000 | tail -n 1; '$L' run '$img' seq 1 30000 | wc -l"
	assert_eq "30000
30000" "$out" "$k: everything the command writes comes out (piped: no console)"
	tty "'$L' run '$img' sh -c 'seq 1 30000'"
	assert_eq 30000 "$(printf '%s\n' "$out" | grep -c '^[0-9]*$')" "$k: everything the command writes reaches the terminal"
	assert_eq 30000 "$(printf '%s\n' "$out" | tail -n 1)" "$k: and the last line is last"

	tty_in 'hello there\n' "'$L' run '$img' sh -c 'read x; echo got: \$x'"
	assert_contains "$out" "got: hello there" "$k: what the user types reaches the command"

	start=$(now_ms)
	tty_in '\003' "'$L' run '$img' sleep 30; echo rc=\$?"
	assert_contains "$out" "rc=130" "$k: ^C interrupts the command (128+SIGINT)"
	assert_true "$k: at once ($(($(now_ms) - start)) ms)" test $(($(now_ms) - start)) -lt 10000

	tty "'$L' run '$img' tty </dev/null; '$L' run '$img' sh -c 'test -c /dev/console && echo console' </dev/null"
	assert_eq "not a tty
console" "$out" "$k: input from elsewhere: no console; output to the terminal is named /dev/console"

	lrun run "$img" sh -c 'tty; test -e /dev/console && echo console'
	assert_eq "not a tty" "$out" "$k: without a terminal, there is none (and no /dev/console)"
done

say "# the window size follows the user's terminal"
tty "exec 3<&0; '$L' run '$SQFS' sh -c 'trap \"stty size; exit 5\" WINCH; stty size; i=0; while [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done' <&3 & sleep 1; stty rows 40 cols 120; wait \$!; echo rc=\$?"
assert_eq "30 100
40 120
rc=5" "$out" "a resize of the user's terminal reaches the command (SIGWINCH, the new size)"

say "# launch exec into an instance"
li() { capture as_user env XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
li start --name term-it "$SQFS"
assert_eq 0 "$rc" "launch start --name term-it"
tty "'$L' exec term-it sh -c 'tty; stty size; exit 4'; echo rc=\$?"
assert_match "$(printf '%s\n' "$out" | head -n 1)" '^/dev/pts/[0-9]+$' "exec under a terminal: tty prints /dev/pts/N"
assert_eq "30 100
rc=4" "$(printf '%s\n' "$out" | sed 1d)" "exec: the window size, the exit status"
tty_in 'from the keyboard\n' "'$L' exec term-it sh -c 'read x; echo got: \$x'"
assert_contains "$out" "got: from the keyboard" "exec: what the user types reaches the command"
li exec term-it tty
assert_eq "not a tty" "$out" "exec without a terminal: none"
li stop term-it
assert_eq 0 "$rc" "launch stop term-it"
assert_clean "runs under a terminal"

finish
