#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The user's own config ($XDG_CONFIG_HOME/launch/launch.json, here in a
# per-test directory, never the test user's real home): its mounts and
# variables reach the container, its mounts go through the site's deny lists,
# the command line beats it, policy keys and keys the site locked are refused
# at FILE:LINE:COL, the file must be the user's, and `launch config
# --show-origin` says where each value came from.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

XDG=$T/xdg
user_dir "$XDG" "$XDG/launch" "$T/data" "$T/cli" "$T/secret"
echo from-user-file | user_file "$T/data/f"
echo from-cli | user_file "$T/cli/f"
UCFG=$XDG/launch/launch.json

# ucfg: the user's file from stdin, the test user's, mode 0644.
ucfg() {
	user_file "$UCFG"
	chmod 0644 "$UCFG"
}

# site NAME: a site config from stdin (root's, 0644); prints its path.
site() {
	cat >"$T/$1.json"
	chmod 0644 "$T/$1.json"
	echo "$T/$1.json"
}

# urun ARGS...: launch ARGS... as the test user with the per-test
# XDG_CONFIG_HOME; sets rc, out, err.
urun() {
	capture as_user env XDG_CONFIG_HOME="$XDG" "$L" "$@"
}

c_site=$(site site <<EOC
{
  "env": ["SITE_VAR=site", "BOTH=site"],
  "fuse_threads": 4,
  "deny_mount_sources": ["$T/secret"]
}
EOC
)
c_locked=$(site locked <<'EOC'
{
  "locked": ["private_tmp", "env"]
}
EOC
)

ucfg <<EOC
{
  "_comment": "the test user's own settings",
  "mounts": ["$T/data:/userdata:ro"],
  "env": ["USER_VAR=user", "BOTH=user"],
  "fuse_threads": 2
}
EOC
LAUNCH_CONFIG=$c_site

for img in $IMAGES; do
	k=$(img_kind "$img")
	say "# $k: the user file's mounts and variables"
	urun run "$img" cat /userdata/f
	assert_eq 0 "$rc" "$k: a run with a user file works"
	assert_eq from-user-file "$out" "$k: the user file's mount is in the container"
	urun run "$img" sh -c 'touch /userdata/x 2>/dev/null; echo "touch=$?"'
	assert_eq "touch=1" "$out" "$k: the user file's :ro holds"
	urun run "$img" sh -c 'echo "$USER_VAR $SITE_VAR $BOTH"'
	assert_eq "user site user" "$out" "$k: variables of both files are set; the user's beat the site's"

	say "# $k: the command line beats the file"
	urun run --env BOTH=cli -e USER_VAR=cli2 "$img" sh -c 'echo "$USER_VAR $BOTH"'
	assert_eq "cli2 cli" "$out" "$k: --env beats the user file's env"
	urun run -m "$T/cli:/userdata" "$img" cat /userdata/f
	assert_eq from-cli "$out" "$k: a -m mount at the same place covers the user file's"
done

say "# without the file, nothing of it"
assert_status 0 as_user env XDG_CONFIG_HOME="$T/none" "$L" run "$SQFS" sh -c 'echo "${USER_VAR:-unset} $BOTH"; test -e /userdata && echo there; true'
assert_eq "unset site" "$out" "no user file: only the site's variables, no user mount"

say "# the user file's mounts are the user's: the site's deny lists apply"
ucfg <<EOC
{
  "mounts": ["$T/secret:/s"]
}
EOC
urun run "$SQFS" echo ran
assert_eq 125 "$rc" "a user-file mount of a denied source: launch fails"
assert_eq "" "$out" "a user-file mount of a denied source: nothing runs"
assert_contains "$err" "deny_mount_sources" "the refusal names deny_mount_sources"

say "# policy keys are refused at FILE:LINE:COL"
for key in allow_root deny_mount_sources hooks_dirs runtime_dir env_deny locked; do
	ucfg <<EOC
{
  "fuse_threads": 2,
  "$key": []
}
EOC
	urun run "$SQFS" echo ran
	assert_eq 125 "$rc" "$key in the user file: launch fails"
	assert_eq "" "$out" "$key in the user file: nothing runs"
	assert_match "$err" "$UCFG:3:3: \"$key\" is site policy" "$key: the error is at $UCFG:3:3 and names the key"
	assert_contains "$err" "$c_site" "$key: the error names the site file"
done

say "# keys the site locked are refused"
LAUNCH_CONFIG=$c_locked
ucfg <<'EOC'
{
  "fuse_threads": 2,

  "private_tmp": true
}
EOC
urun run "$SQFS" echo ran
assert_eq 125 "$rc" "a locked key: launch fails"
assert_match "$err" "$UCFG:4:3: \"private_tmp\" is locked by the site config $c_locked" \
	"a locked key: FILE:LINE:COL, the key and the site file"
urun config
assert_eq 125 "$rc" "a locked key: launch config fails the same way"
assert_contains "$err" "$UCFG:4:3" "launch config shows the error's position"
ucfg <<'EOC'
{
  "fuse_threads": 2
}
EOC
urun run "$SQFS" echo ran
assert_eq ran "$out" "a key the site did not lock is fine"

say "# other errors of the user file"
ucfg <<'EOC'
{
  "mounts": [
    "relative:/x"
  ]
}
EOC
urun run "$SQFS" echo ran
assert_eq 125 "$rc" "a relative mount source: launch fails"
assert_match "$err" "$UCFG:3:5: mount \`relative:/x\` must start with an absolute host path" "a relative mount source is refused at its entry"
ucfg <<'EOC'
{"fuse_threads": 2, "no_such_key": 1}
EOC
urun run "$SQFS" echo ran
assert_match "$err" "$UCFG:1:21: unknown key \"no_such_key\"" "an unknown key is refused at its position"
ucfg <<'EOC'
{"fuse_threads": 2}
EOC
chmod 0664 "$UCFG"
urun run "$SQFS" echo ran
assert_eq 125 "$rc" "a group-writable user file: launch fails"
assert_contains "$err" "must not be writable by group or others (run: chmod go-w $UCFG)" "a group-writable user file: the fix is given"
chmod 0644 "$UCFG"
mv "$UCFG" "$XDG/launch/real.json"
ln -s real.json "$UCFG"
urun run "$SQFS" echo ran
assert_eq 125 "$rc" "a symlinked user file: launch fails"
assert_contains "$err" "symbolic link" "a symlinked user file: not followed, and said so"
rm -f "$UCFG"
mv "$XDG/launch/real.json" "$UCFG"
chown 0:0 "$UCFG"
urun run "$SQFS" echo ran
assert_eq ran "$out" "a user file of root's (not writable by others) is read"
if [ "$IS_ROOT" = 1 ] && id -u "${LAUNCH_TEST_USER2:-launchtest2}" >/dev/null 2>&1; then
	chown "$(id -u "${LAUNCH_TEST_USER2:-launchtest2}")" "$UCFG"
	urun run "$SQFS" echo ran
	assert_eq 125 "$rc" "another user's file as the user file: launch fails"
	assert_contains "$err" "must be owned by root or by you" "another user's file: the owner is the reason"
fi
[ "$IS_ROOT" = 0 ] || chown "$TU_UID:$TU_GID" "$UCFG"

say "# launch config and --show-origin"
LAUNCH_CONFIG=$c_site
ucfg <<EOC
{
  "env": [
    "BOTH=user"
  ],
  "mounts": ["$T/data:/userdata"],
  "fuse_threads": 2,
  "pull_jobs": 3
}
EOC
urun config
assert_eq 0 "$rc" "launch config works"
assert_contains "$out" "fuse_threads = 2" "launch config: the user's value"
assert_contains "$out" "mounts = $T/data:/userdata" "launch config: the user's mount"
assert_contains "$out" "allow_root = true" "launch config: built-in values too"
urun config --show-origin
assert_contains "$out" "$UCFG:6	fuse_threads = 2" "--show-origin: a user value with its FILE:LINE"
assert_contains "$out" "$UCFG:3	env = BOTH=user" "--show-origin: a list entry of the user's with its line"
assert_contains "$out" "$c_site:2	env = SITE_VAR=site" "--show-origin: a list entry of the site's with its line"
assert_contains "$out" "$UCFG:5	mounts = $T/data:/userdata" "--show-origin: the user's mount"
assert_contains "$out" "built-in	allow_root = true" "--show-origin: built-in values"
assert_not_contains "$out" "BOTH=site" "--show-origin: the site's BOTH, replaced by the user's, is not shown"
capture as_user env XDG_CONFIG_HOME="$XDG" LAUNCH_RUNTIME_DIR="$T/rt" "$L" config --show-origin runtime_dir
assert_eq "env LAUNCH_RUNTIME_DIR	runtime_dir = $T/rt" "$out" "--show-origin: the environment over the files"
urun config --format json fuse_threads pull_jobs
assert_eq 0 "$rc" "launch config --format json works"
assert_eq '{ "fuse_threads": 2, "pull_jobs": 3 }' "$(printf '%s' "$out" | tr -s ' \n' ' ')" "launch config --format json KEY...: only those keys"
urun config --show-origin --format json fuse_threads
assert_contains "$(printf '%s' "$out" | tr -d ' \n')" "\"fuse_threads\":{\"value\":2,\"origin\":\"$UCFG:6\"}" "--show-origin --format json: value and origin"
urun config no_such_key
assert_eq 125 "$rc" "launch config with an unknown key fails"
assert_contains "$err" "no_such_key" "launch config names the unknown key"
LAUNCH_CONFIG=

assert_clean "user config runs"
finish
