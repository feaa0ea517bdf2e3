#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What docs/security.md says of the id maps, exactly: one uid and one gid,
# setgroups denied, in default mode and in --root without subordinate ids;
# with subordinate ids (newuidmap/newgidmap), setgroups stays allowed, so a
# process in the container can drop a supplementary group and read a file
# whose group is denied access. root_subids=false in the site config turns
# that mode off for sites that use groups as negative permissions.
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_fuse
require_root "a group and a root-owned file"
require_user2
require_cmd newuidmap newgidmap
grep -q "^$TU:" /etc/subuid 2>/dev/null || skip "$TU has no /etc/subuid range (run ci/setup-machine.sh)"
HELPERS=${LAUNCH_TEST_HELPERS:?LAUNCH_TEST_HELPERS must name the directory of the test helpers}
[ -x "$HELPERS/test_dropgroups" ] || die "$HELPERS/test_dropgroups is missing"
mkdir -p "$T/helpers"
cp "$HELPERS/test_dropgroups" "$T/helpers/dropgroups"
chmod 0755 "$T/helpers" "$T/helpers/dropgroups"

# a group whose members may NOT read the file (mode 0604: others may)
NEG=launchneg$$
groupadd "$NEG" || die "groupadd $NEG"
on_exit "groupdel $NEG"
usermod -a -G "$NEG" "$TU" || die "usermod"
echo guarded > "$T/negative"
chown "0:$NEG" "$T/negative"
chmod 0604 "$T/negative"
capture as_user cat "$T/negative"
assert_true "outside, the victim (a member of $NEG) cannot read the file" test "$rc" != 0

maps='cat /proc/self/setgroups; wc -l < /proc/self/uid_map; wc -l < /proc/self/gid_map'
say "# default mode: one uid, one gid, setgroups denied"
lrun run -m "$T" "$SQFS" sh -c "$maps"
assert_eq "deny
1
1" "$out" "setgroups is denied and one id of each kind is mapped"
lrun run -m "$T" -m "$T/helpers:/h" "$SQFS" /h/dropgroups "$T/negative"
assert_contains "$out" "setgroups EPERM" "dropping groups fails"
assert_not_contains "$out" guarded "the file stays unreadable"

say "# --root with subordinate ids: setgroups allowed (as with podman)"
lrun run --root -m "$T" "$SQFS" sh -c "$maps"
assert_eq "allow
2
2" "$out" "setgroups is allowed, 0 and the range are mapped"
lrun run --root -m "$T" -m "$T/helpers:/h" "$SQFS" /h/dropgroups "$T/negative"
assert_eq guarded "$out" "a process can drop the group and read the file (documented)"

say "# root_subids=false: --root maps only the user, setgroups denied"
printf '{"root_subids": false}\n' > "$T/nosubids.json"
chmod 0644 "$T/nosubids.json"
capture as_user env LAUNCH_CONFIG="$T/nosubids.json" "$L" run --root -m "$T" "$SQFS" sh -c "$maps"
assert_eq "deny
1
1" "$out" "setgroups is denied and one id of each kind is mapped"
capture as_user env LAUNCH_CONFIG="$T/nosubids.json" "$L" run --root -m "$T" -m "$T/helpers:/h" "$SQFS" \
	/h/dropgroups "$T/negative"
assert_not_contains "$out" guarded "the file stays unreadable"
capture as_user env LAUNCH_CONFIG="$T/nosubids.json" "$L" -v run --root "$SQFS" true
assert_contains "$err" "only you mapped" "-v names the mode"

say "# the second user, without ranges, is in the single-id mode"
capture as_user2 "$L" run --root "$SQFS" sh -c "$maps"
assert_eq "deny
1
1" "$out" "setgroups is denied and one id of each kind is mapped"

finish
