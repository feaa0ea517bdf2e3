#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Package management as an unprivileged user, in both --root modes: the
# test user has /etc/subuid and /etc/subgid ranges (subordinate ids through
# newuidmap), the second user has none (the seccomp fallback). For each:
# apt-get update && apt-get install -y cowsay in a --writable container from
# the Debian mirror the host uses; a persistent --overlay across two runs;
# launch commit, then a run of the new image; the capability set and what
# root in the container must not be able to do; host files in bind mounts;
# bind mounts onto paths the image lacks in every mode.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_root "root-owned host files for the bind-mount checks"
require_user2
require_cmd newuidmap newgidmap
DEB=$LAUNCH_TEST_IMAGES/debian
[ -d "$DEB/debian-oci" ] || skip "Debian fixtures missing in $DEB (the debian test makes them)"
[ -x "${LAUNCH_TEST_HELPERS:-}/test_escape" ] || die "LAUNCH_TEST_HELPERS/test_escape is missing (built with the tests)"
cp "$LAUNCH_TEST_HELPERS/test_escape" "$T/escape" && chmod 0755 "$T/escape"
subuid_start=$(awk -F: -v u="$TU" '$1 == u { print $2; exit }' /etc/subuid)
[ -n "$subuid_start" ] || skip "$TU has no /etc/subuid range (ci/setup-machine.sh gives it one)"
if grep -q "^$TU2:" /etc/subuid /etc/subgid; then
	skip "$TU2 has a subordinate range: it must have none (ci/setup-machine.sh removes it)"
fi

# A host process of each user, outside any container, for the ptrace check.
as_user_bg "$T/sleep1.pid" sleep 600
host_pid1=$BG_PID
mkdir "$T/u2" && chown "$TU2_UID:$TU2_GID" "$T/u2"
as_user2 sh -c 'echo $$ > "$1"; exec sleep 600' sh "$T/u2/sleep.pid" &
wait_until 10 test -s "$T/u2/sleep.pid" || die "cannot start a process as $TU2"
host_pid2=$(cat "$T/u2/sleep.pid")
on_exit "kill $host_pid1 $host_pid2"

for who in subids seccomp; do
	if [ $who = subids ]; then
		run_as=as_user
		uid=$TU_UID
		gid=$TU_GID
		host_pid=$host_pid1
	else
		run_as=as_user2
		uid=$TU2_UID
		gid=$TU2_GID
		host_pid=$host_pid2
	fi
	D=$T/$who
	[ $who = subids ] || D=$T2/$who
	mkdir -p "$D/data" "$D/share"
	chown -R "$uid:$gid" "$D"
	chmod 0755 "$D"
	lr() { capture $run_as env XDG_DATA_HOME="$D/data" "$L" "$@"; }
	lr -q import "$DEB/debian-oci" debian
	assert_eq 0 "$rc" "$who: import the Debian image"

	say "# $who: the mode is reported"
	lr -v run --root debian true
	if [ $who = subids ]; then
		assert_contains "$err" "subordinate ids: 0 is you, 1-65536 are $subuid_start-" "$who: -v names the subordinate ranges"
	else
		assert_contains "$err" "faked by seccomp" "$who: -v names the seccomp mode"
		assert_contains "$err" "no range in /etc/subuid" "$who: -v says why there are no subordinate ids"
	fi
	capture $run_as "$L" doctor
	assert_match "$out" "^OK +--root mode: .*$([ $who = subids ] && echo 'subordinate ids' || echo seccomp)" \
		"$who: launch doctor reports the --root mode"

	say "# $who: apt-get update && apt-get install -y cowsay"
	lr run --root --writable debian -- sh -c 'apt-get update && apt-get install -y cowsay && /usr/games/cowsay hi'
	assert_eq 0 "$rc" "$who: apt-get update && apt-get install -y cowsay succeeds"
	assert_contains "$out" "< hi >" "$who: cowsay runs"
	assert_not_contains "$out$err" "E: " "$who: apt reports no error"
	lr run --root --writable debian sh -c 'test -e /usr/games/cowsay && echo still-there || echo gone'
	assert_eq gone "$out" "$who: --writable changes are discarded at exit"

	say "# $who: ids inside"
	lr run --root debian sh -c 'stat -c %u /var/cache/apt/archives/partial; setpriv --reuid=42 --regid=65534 --clear-groups id -u 2>&1; grep ^CapEff: /proc/self/status | tr -d "\t"'
	if [ $who = subids ]; then
		assert_eq "42
42
CapEff:00000000000000cb" "$out" "$who: _apt (42) is a real user: owns its files, and root can become it"
	else
		assert_eq "0
0
CapEff:00000000000000cb" "$out" "$who: every file shows as root's, and switching users is a no-op"
	fi

	say "# $who: a persistent overlay, then commit"
	lr run --root --overlay "$D/ov" debian sh -c 'apt-get update >/dev/null && apt-get install -y cowsay >/dev/null && echo installed'
	assert_eq installed "$out" "$who: install into --overlay DIR"
	lr run --root --overlay "$D/ov" debian /usr/games/cowsay again
	assert_contains "$out" "< again >" "$who: a second run with the same DIR sees the package"
	lr run --overlay "$D/ov" debian true
	assert_eq 125 "$rc" "$who: the layer is refused with another id mapping"
	assert_contains "$err" "was made with --root" "$who: and says how it was made"
	lr commit --overlay "$D/ov" debian cowsay:1
	assert_eq 0 "$rc" "$who: launch commit --overlay DIR debian cowsay:1"
	lr run cowsay:1 /usr/games/cowsay moo
	assert_contains "$out" "< moo >" "$who: the committed image runs cowsay with no overlay"
	lr inspect cowsay:1
	assert_contains "$out" '"Cmd": [' "$who: the new image keeps the base's config"
	lr run --no-home cowsay:1 sh -c 'ls -A /home | wc -l'
	assert_eq 0 "$out" "$who: the home directory's mount point is not in the image"

	say "# $who: what root in the container cannot do"
	lr run --root -m "$T/escape:/escape:ro" debian /escape "$host_pid"
	for op in mount umount unshare-mount chroot sethostname ptrace-host setns-host; do
		assert_match "$out" "^$op (EPERM|EACCES)$" "$who: $op fails"
	done
	# ENOSYS: a kernel built without module support
	assert_match "$out" "^finit_module (EPERM|ENOSYS)$" "$who: loading a kernel module fails"
	if [ $who = subids ]; then
		assert_match "$out" "^mknod-device EPERM$" "$who: mknod of a device fails"
	else
		assert_match "$out" "^mknod-device ok$" "$who: mknod of a device is faked"
	fi
	assert_match "$out" "^device-exists no$" "$who: no device node was made"
	lr run --root debian sh -c 'grep -E "^(CapBnd|NoNewPrivs):" /proc/self/status | tr -d "\t"'
	assert_eq "CapBnd:00000000000000cb
NoNewPrivs:1" "$out" "$who: bounding set of the five capabilities, no_new_privs"

	say "# $who: host files in bind mounts"
	echo secret >"$D/share/secret"
	chown 0:0 "$D/share/secret"
	chmod 0600 "$D/share/secret"
	lr run --root -m "$D/share:/share" debian sh -c 'cat /share/secret; echo "cat=$?"; chown 0:0 /share/secret; chmod 0644 /share/secret; echo "chmod=$?"; touch /share/made; chown 42:42 /share/made; echo done'
	assert_not_contains "$out" "secret
" "$who: a root-owned 0600 host file cannot be read"
	assert_contains "$out" "cat=1" "$who: cat of it fails"
	assert_contains "$out" "chmod=1" "$who: chmod of it fails"
	assert_eq "0:0 600" "$(stat -c '%u:%g %a' "$D/share/secret")" "$who: the host file is unchanged"
	if [ $who = subids ]; then
		assert_eq "$((subuid_start + 41))" "$(stat -c %u "$D/share/made")" \
			"$who: a file chowned to _apt (42) belongs to subordinate id $((subuid_start + 41)) on the host"
	else
		assert_eq "$uid" "$(stat -c %u "$D/share/made")" "$who: a file made (and 'chowned') in a bind mount belongs to the user"
	fi
	lr run --root -m "$D/share:/share" debian sh -c 'touch /share/plain'
	assert_eq "$uid:$gid" "$(stat -c %u:%g "$D/share/plain")" "$who: files created in bind mounts are the user's on the host"
	rm -f "$D/share/made"

	say "# $who: bind mounts onto paths the image lacks, in every mode"
	for mode in "" "--writable" "--overlay $D/ov2"; do
		lr run --root $mode -m "$D/share:/no/such/dir" debian ls /no/such/dir/plain
		assert_eq /no/such/dir/plain "$out" "$who: -m onto a missing path${mode:+ with $mode}"
	done
done
kill "$host_pid1" "$host_pid2"
wait
assert_clean "package management"
finish
