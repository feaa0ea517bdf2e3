#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The terminal launch is started from, inside the container: the command
# reads and writes it, and it has a name (ttyname(), `tty`): /dev/console,
# the terminal's own node. /dev/pts is the container's devpts, where
# programs inside allocate new terminals.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_cmd script

for img in $IMAGES; do
	k=$(img_kind "$img")
	capture as_user script -qec "'$L' run '$img' sh -c 'tty; ls -l /dev/console | cut -c1; test -e /dev/pts/ptmx && echo ptmx'" /dev/null
	out=$(printf '%s\n' "$out" | tr -d '\r\000')
	assert_eq "/dev/console
c
ptmx" "$out" "$k: under a terminal, tty names it /dev/console, a character device; /dev/pts has its own ptmx"
	lrun run "$img" sh -c 'tty; test -e /dev/console && echo console'
	assert_eq "not a tty" "$out" "$k: without a terminal, there is none (and no /dev/console)"
done
assert_clean "runs under a terminal"

finish
