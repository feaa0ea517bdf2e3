#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# No privileges: launch has no setuid bit and no file capabilities, and a copy
# that someone made setuid, setgid or capability-bearing refuses to run.
. "$(dirname "$0")/lib.sh"
require_userns

say "# the binary under test"
mode=$(stat -c %a "$LAUNCH")
assert_eq 0 "$(( 0$mode & 06000 ))" "$LAUNCH has neither setuid nor setgid bit (mode $mode)"
if command -v getcap >/dev/null 2>&1; then
	assert_eq "" "$(getcap "$LAUNCH" 2>/dev/null)" "$LAUNCH has no file capabilities"
fi
assert_status 0 as_user "$L" run "$DIRIMG" true
assert_eq "" "$err" "the plain binary runs as the test user without complaint"

require_root "a root-owned setuid copy of launch"
require_cmd setcap getcap
case ",$(findmnt -n -o OPTIONS -T "$T" 2>/dev/null)," in
*,nosuid,*) skip "$T is on a nosuid file system: setuid and file capabilities have no effect there (set LAUNCH_TEST_TMPDIR)" ;;
esac

for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: setuid root copy"
	cp "$LAUNCH" "$T/launch-suid"
	chown 0:0 "$T/launch-suid"
	chmod 4755 "$T/launch-suid"
	assert_status 125 as_user "$T/launch-suid" run "$img" id -u
	assert_eq "" "$out" "$k: the setuid copy runs no command"
	assert_contains "$err" "setuid" "$k: the setuid copy says why it refuses"

	say "# $k: setgid root copy"
	cp "$LAUNCH" "$T/launch-sgid"
	chown 0:0 "$T/launch-sgid"
	chmod 2755 "$T/launch-sgid"
	assert_status 125 as_user "$T/launch-sgid" run "$img" id -u
	assert_eq "" "$out" "$k: the setgid copy runs no command"
	assert_contains "$err" "setgid" "$k: the setgid copy says why it refuses"

	say "# $k: copy with a file capability"
	cp "$LAUNCH" "$T/launch-cap"
	chmod 0755 "$T/launch-cap"
	setcap cap_net_raw+ep "$T/launch-cap" || die "setcap cap_net_raw+ep failed"
	assert_contains "$(getcap "$T/launch-cap")" "cap_net_raw" "$k: the copy has cap_net_raw"
	assert_status 125 as_user "$T/launch-cap" run "$img" id -u
	assert_eq "" "$out" "$k: the capability copy runs no command"
	assert_contains "$err" "capabilit" "$k: the capability copy says why it refuses"
	rm -f "$T/launch-suid" "$T/launch-sgid" "$T/launch-cap"
done
assert_clean "refused runs"
finish
