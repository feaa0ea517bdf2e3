#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Exit status and signals: the command's status passes through, 126/127 for
# commands that cannot run, signals sent to launch reach the container,
# stdin passes through, and an interactive shell works on a terminal (tmux).
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

user_dir "$T/out"
printf '#!/bin/sh\necho should-not-run\n' | user_file "$T/out/noexec.sh"
chmod 0644 "$T/out/noexec.sh"
printf 'line-one\nline-two\n' | user_file "$T/stdin.txt"

for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: exit status"
	assert_status 42 as_user "$L" run "$img" sh -c 'exit 42'
	assert_status 0 as_user "$L" run "$img" true
	assert_status 1 as_user "$L" run "$img" false
	assert_status 143 as_user "$L" run "$img" sh -c 'kill -TERM $$; sleep 5'
	assert_status 137 as_user "$L" run "$img" sh -c 'kill -KILL $$; sleep 5'
	# the same once the small supervisor has taken over (after 20 ms)
	assert_status 42 as_user "$L" run "$img" sh -c 'sleep 0.2; exit 42'
	assert_status 143 as_user "$L" run "$img" sh -c 'sleep 0.2; kill -TERM $$; sleep 5'
	assert_status 127 as_user "$L" run "$img" no-such-command-xyz
	assert_contains "$err" "command not found" "$k: a missing command says command not found"
	assert_contains "$err" "no-such-command-xyz" "$k: a missing command is named"
	assert_status 127 as_user "$L" run "$img" /no/such/path
	assert_contains "$err" "/no/such/path" "$k: a missing path is named"
	assert_status 126 as_user "$L" run "$img" /etc/image-marker
	assert_contains "$err" "/etc/image-marker" "$k: a non-executable file is named"
	assert_status 126 as_user "$L" run -m "$T/out:/out" "$img" /out/noexec.sh
	assert_eq "" "$out" "$k: a non-executable script does not run"

	say "# $k: stdin"
	capture as_user "$L" run "$img" cat <"$T/stdin.txt"
	assert_eq "line-one
line-two" "$out" "$k: stdin from a file reaches the command"
	out=$(echo hi | as_user "$L" run "$img" cat)
	assert_eq hi "$out" "$k: echo hi | launch run IMG cat"

	say "# $k: signals sent to launch reach the container"
	code=32
	for sig in TERM HUP USR1 INT; do
		code=$((code + 1))
		rm -f "$T/out/ready" "$T/out/got"
		as_user_bg "$T/pid" "$L" run -m "$T/out:/out" "$img" sh -c \
			"trap 'echo got-$sig > /out/got; exit $code' $sig; echo ready > /out/ready; while :; do sleep 0.1; done"
		if assert_true "$k: the container is ready for SIG$sig" wait_until 10 test -s "$T/out/ready" &&
			assert_true "$k: the small supervisor has taken over" wait_until 10 handed_over "$BG_PID"; then
			kill -"$sig" "$BG_PID"
		fi
		wait_exit "$BG" 10
		assert_eq "$code" "$rc" "$k: SIG$sig: launch exits with the status of the container's trap"
		assert_eq "got-$sig" "$(cat "$T/out/got" 2>/dev/null)" "$k: SIG$sig reached the container's trap"
		assert_clean "$k: after SIG$sig"
	done
done

if [ -n "$SMALL_SUP" ]; then
	say "# a launch-supervise that cannot run: launch supervises the run itself"
	mkdir -p "$T/bin2"
	cp "$L" "$T/bin2/launch"
	printf 'not a program\n' >"$T/bin2/launch-supervise"
	chmod 0755 "$T/bin2" "$T/bin2/launch" "$T/bin2/launch-supervise"
	assert_status 42 as_user "$T/bin2/launch" -vv run "$DIRIMG" sh -c 'sleep 0.2; exit 42'
	assert_contains "$err" "launch supervises" "launch says it supervises the run itself"
	assert_clean "after a run that launch supervised itself"
fi

say "# interactive shell in a terminal (tmux)"
require_cmd tmux
sock=$T/tmux.sock
tm() { as_user env TERM=xterm tmux -S "$sock" "$@"; }
pane() { tm capture-pane -p -t it 2>/dev/null; }
pane_has_line() { pane | grep -qx -- "$1"; }
pane_has() { pane | grep -q -- "$1"; }
session_gone() { ! tm has-session -t it 2>/dev/null; }
on_exit "tm kill-server"
for img in $IMAGES; do
	k=$(img_kind "$img")
	f0=$FAILURES
	rm -f "$T/out/status"
	tm new-session -d -s it -x 120 -y 40 "$L run $img /bin/sh; echo \$? > $T/out/status" ||
		die "cannot start tmux"
	assert_true "$k: the shell prompt appears" wait_until 10 pane_has '[$#] *$'
	tm send-keys -t it 'echo $((6*7))' Enter
	assert_true "$k: echo \$((6*7)) prints 42 in the terminal" wait_until 10 pane_has_line 42
	tm send-keys -t it 'cat /etc/image-marker' Enter
	assert_true "$k: the terminal's shell runs in the container" wait_until 10 pane_has_line launch-test-image
	tm send-keys -t it C-c
	sleep 0.3
	tm send-keys -t it 'echo alive-$((1+1))' Enter
	assert_true "$k: Ctrl-C at the prompt does not end the container" wait_until 10 pane_has_line alive-2
	tm send-keys -t it 'sleep 100' Enter
	sleep 0.5
	tm send-keys -t it C-c
	sleep 0.3
	tm send-keys -t it 'echo after-sleep-$((2+1))' Enter
	assert_true "$k: Ctrl-C stops a foreground command, the shell goes on" wait_until 10 pane_has_line after-sleep-3
	[ "$FAILURES" -eq "$f0" ] || { say "  terminal contents:"; pane | sed -e '/^$/d' -e 's/^/  | /'; }
	tm send-keys -t it 'exit 7' Enter
	assert_true "$k: exit in the shell ends the tmux session" wait_until 10 session_gone
	assert_eq 7 "$(cat "$T/out/status" 2>/dev/null)" "$k: launch exits with the shell's status"
	tm kill-session -t it 2>/dev/null
done
tm kill-server 2>/dev/null
assert_clean "exit status runs"
finish
