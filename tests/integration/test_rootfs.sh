#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the container sees: /proc, /sys, a minimal /dev with the host's
# /dev/shm, the host's /tmp (or a private one), $HOME, /etc/passwd and
# /etc/group that know the user, and the host's /etc/hosts and resolv.conf.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

shm=/dev/shm/launch-it-$TEST_ID
tmpf=/tmp/launch-it-$TEST_ID
homef=$TU_HOME/launch-it-$TEST_ID
on_exit "rm -f '$shm.in' '$shm.out' '$tmpf.host' '$tmpf.in' '$tmpf.priv' '$homef'"

for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: /proc and /sys"
	assert_status 0 as_user "$L" run "$img" cat /proc/self/comm
	assert_eq cat "$out" "$k: /proc is a live proc file system"
	assert_status 0 as_user "$L" run "$img" sh -c 'awk "\$5 == \"/proc\" { print \$9 }" /proc/self/mountinfo'
	assert_eq proc "$out" "$k: /proc is a proc mount"
	assert_status 0 as_user "$L" run "$img" ls /sys
	assert_contains "$out" kernel "$k: /sys shows the kernel's sysfs"

	say "# $k: /dev"
	assert_status 0 as_user "$L" run "$img" ls -A /dev
	assert_eq "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero" "$(echo $out)" \
		"$k: /dev holds exactly the minimal set"
	assert_status 0 as_user "$L" run "$img" sh -c 'echo discard > /dev/null && echo written'
	assert_eq written "$out" "$k: writing to /dev/null works"
	assert_status 0 as_user "$L" run "$img" sh -c 'head -c 4 /dev/zero | od -An -tx1'
	assert_eq "00 00 00 00" "$(echo $out)" "$k: /dev/zero reads zeros"
	assert_status 0 as_user "$L" run "$img" sh -c 'head -c 16 /dev/urandom | wc -c'
	assert_eq 16 "$(echo $out)" "$k: /dev/urandom reads"

	say "# $k: /dev/shm is the host's"
	rm -f "$shm.in" "$shm.out"
	echo from-host >"$shm.out"
	chmod 0644 "$shm.out"
	assert_status 0 as_user "$L" run "$img" sh -c "cat $shm.out; echo from-container > $shm.in"
	assert_eq from-host "$out" "$k: a host file in /dev/shm is visible inside"
	assert_eq from-container "$(cat "$shm.in" 2>/dev/null)" "$k: a file made in /dev/shm inside is on the host"
	rm -f "$shm.in" "$shm.out"

	say "# $k: /tmp"
	rm -f "$tmpf.host" "$tmpf.in" "$tmpf.priv"
	echo host-tmp >"$tmpf.host"
	chmod 0644 "$tmpf.host"
	assert_status 0 as_user "$L" run "$img" sh -c "cat $tmpf.host; echo in-tmp > $tmpf.in"
	assert_eq host-tmp "$out" "$k: the host's /tmp is the container's /tmp"
	assert_eq in-tmp "$(cat "$tmpf.in" 2>/dev/null)" "$k: a file made in /tmp inside is on the host"
	assert_status 0 as_user "$L" run --private-tmp "$img" sh -c "ls -A /tmp; echo private > $tmpf.priv"
	assert_eq "" "$out" "$k: --private-tmp gives an empty /tmp"
	assert_true "$k: a file made in a private /tmp is not on the host" test ! -e "$tmpf.priv"
	assert_status 0 as_user "$L" run --private-tmp "$img" sh -c 'awk "\$5 == \"/tmp\" { print \$9 }" /proc/self/mountinfo'
	assert_eq tmpfs "$out" "$k: --private-tmp mounts a tmpfs on /tmp"
	rm -f "$tmpf.host" "$tmpf.in" "$tmpf.priv"

	say "# $k: home directory"
	if [ -d "$TU_HOME" ]; then
		rm -f "$homef"
		assert_status 0 as_user "$L" run "$img" sh -c 'echo in-home > "$HOME/'"$(basename "$homef")"'" && echo "$HOME"'
		assert_eq "$TU_HOME" "$out" "$k: \$HOME is the user's home"
		assert_eq in-home "$(cat "$homef" 2>/dev/null)" "$k: \$HOME is mounted and writable"
		assert_eq "$TU_UID" "$(stat -c %u "$homef" 2>/dev/null)" "$k: a file made in \$HOME belongs to the user"
		rm -f "$homef"
		assert_status 0 as_user "$L" run --no-home "$img" sh -c "test -e $TU_HOME && echo present || echo absent"
		assert_eq absent "$out" "$k: --no-home leaves the home directory out"
	else
		fail "the test user's home $TU_HOME does not exist (useradd -m)"
	fi

	say "# $k: /etc/passwd and /etc/group"
	assert_status 0 as_user "$L" run "$img" cat /etc/passwd
	assert_match "$out" "^$TU:[^:]*:$TU_UID:$TU_GID:[^:]*:$TU_HOME:" "$k: /etc/passwd has the user's line"
	assert_match "$out" '^root:[^:]*:0:0:' "$k: /etc/passwd has root"
	assert_match "$out" '^nobody:' "$k: /etc/passwd keeps the image's entries"
	assert_status 0 as_user "$L" run "$img" cat /etc/group
	assert_match "$out" "^$TU_GROUP:[^:]*:$TU_GID:" "$k: /etc/group has the user's group"
	assert_match "$out" '^root:[^:]*:0:' "$k: /etc/group has root"
	assert_status 0 as_user "$L" run "$img" id -gn
	assert_eq "$TU_GROUP" "$out" "$k: id -gn names the user's group"

	say "# $k: /etc/hosts and /etc/resolv.conf"
	assert_status 0 as_user "$L" run "$img" cat /etc/hosts
	assert_eq "$(cat /etc/hosts)" "$out" "$k: /etc/hosts is the host's"
	if [ -r /etc/resolv.conf ]; then
		assert_status 0 as_user "$L" run "$img" cat /etc/resolv.conf
		assert_eq "$(cat /etc/resolv.conf)" "$out" "$k: /etc/resolv.conf is the host's"
	else
		say "# the host has no readable /etc/resolv.conf: not compared"
	fi
	assert_status 0 as_user "$L" run "$img" cat /etc/image-marker
	assert_eq launch-test-image "$out" "$k: the image's own /etc files are still there"
done

if [ "$IS_ROOT" = 1 ]; then
	say "# a host /tmp with a mount below it (a node's per-job tmpfs, X11's socket directory)"
	sub=$(mktemp -d /tmp/launch-it-sub.XXXXXX)
	mount -t tmpfs -o mode=0755 launch-it "$sub" || die "cannot mount a tmpfs on $sub"
	on_exit "umount '$sub'; rmdir '$sub'"
	echo below >"$sub/marker"
	echo host-tmp >"$tmpf.sub"
	chmod 0644 "$tmpf.sub"
	on_exit "rm -f '$tmpf.sub'"
	for img in $IMAGES; do
		k=$(img_kind "$img")
		lrun run "$img" sh -c "cat '$sub/marker'; cat '$tmpf.sub'"
		assert_eq 0 "$rc" "$k: launch run works when the host's /tmp has a mount below it"
		assert_eq "below
host-tmp" "$out" "$k: the mount below /tmp comes along, and /tmp is the host's"
	done
fi
assert_clean "rootfs runs"
finish
