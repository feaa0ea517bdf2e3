#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The site config, given with LAUNCH_CONFIG: site mounts, allow_root,
# deny_mount_sources, deny_mount_destinations, runtime_dir templates, and
# errors reported as FILE:LINE:COL.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

user_dir "$T/site" "$T/secret" "$T/ok"
echo site-content | user_file "$T/site/f"
# cfg NAME: a config file from stdin, readable by the test user.
cfg() {
	cat >"$T/$1.json"
	chmod 0644 "$T/$1.json"
	echo "$T/$1.json"
}

c_site=$(cfg site <<EOC
{
  "mounts": ["$T/site:/site:ro"]
}
EOC
)
c_noroot=$(cfg noroot <<'EOC'
{
  "allow_root": false
}
EOC
)
c_deny=$(cfg deny <<EOC
{
  "deny_mount_sources": ["$T/secret"],
  "deny_mount_destinations": ["/opt/denied", "/etc"]
}
EOC
)
c_unknown=$(cfg unknown <<'EOC'
{
  "allow_root": true,
  "no_such_key": 1
}
EOC
)
c_type=$(cfg type <<'EOC'
{
  "mounts": [],
  "allow_root": "yes"
}
EOC
)
c_json=$(cfg json <<'EOC'
{
  "allow_root": true,
  "mounts": [,]
}
EOC
)
c_rt=$(cfg rt <<EOC
{
  "runtime_dir": "$T/rt-\$USER"
}
EOC
)
c_missing=$T/missing.json

for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: site mounts"
	LAUNCH_CONFIG=$c_site
	assert_status 0 as_user "$L" run "$img" cat /site/f
	assert_eq site-content "$out" "$k: the site mount is in the container"
	assert_status 0 as_user "$L" run --root "$img" sh -c 'touch /site/x; echo "touch=$?"'
	assert_contains "$out" "touch=1" "$k: the site mount's :ro holds, also with --root"

	say "# $k: allow_root false"
	LAUNCH_CONFIG=$c_noroot
	assert_status 125 as_user "$L" run --root "$img" echo ran
	assert_eq "" "$out" "$k: --root is refused"
	assert_contains "$err" "allow_root" "$k: the refusal names allow_root"
	assert_status 0 as_user "$L" run "$img" id -u
	assert_eq "$TU_UID" "$out" "$k: without --root the container still runs"

	say "# $k: deny_mount_sources and deny_mount_destinations"
	LAUNCH_CONFIG=$c_deny
	assert_status 125 as_user "$L" run -m "$T/secret:/x" "$img" echo ran
	assert_eq "" "$out" "$k: a denied source is refused"
	assert_contains "$err" "deny_mount_sources" "$k: the refusal names deny_mount_sources"
	assert_status 125 as_user "$L" run -m "$T/ok:/opt/denied/sub" "$img" echo ran
	assert_eq "" "$out" "$k: a denied destination is refused"
	assert_contains "$err" "deny_mount_destinations" "$k: the refusal names deny_mount_destinations"
	assert_status 125 as_user "$L" run -m "$T/ok:/data-abs/x" "$img" echo ran
	assert_eq "" "$out" "$k: a destination that an image symlink leads into a denied one is refused"
	assert_contains "$err" "deny_mount_destinations" "$k: the symlink refusal names deny_mount_destinations"
	assert_status 0 as_user "$L" run -m "$T/ok:/fine" "$img" echo ran
	assert_eq ran "$out" "$k: other mounts are still allowed"

	say "# $k: config errors name FILE:LINE:COL"
	LAUNCH_CONFIG=$c_unknown
	assert_status 125 as_user "$L" run "$img" echo ran
	assert_eq "" "$out" "$k: unknown key: nothing runs"
	assert_match "$err" "$c_unknown:3:[0-9]+" "$k: unknown key: the error gives $c_unknown:3:COL"
	assert_contains "$err" "no_such_key" "$k: unknown key: the error names the key"
	LAUNCH_CONFIG=$c_type
	assert_status 125 as_user "$L" run "$img" echo ran
	assert_eq "" "$out" "$k: wrong type: nothing runs"
	assert_match "$err" "$c_type:3:[0-9]+" "$k: wrong type: the error gives $c_type:3:COL"
	assert_contains "$err" "allow_root" "$k: wrong type: the error names the key"
	LAUNCH_CONFIG=$c_json
	assert_status 125 as_user "$L" run "$img" echo ran
	assert_eq "" "$out" "$k: bad JSON: nothing runs"
	assert_match "$err" "$c_json:3:[0-9]+" "$k: bad JSON: the error gives $c_json:3:COL"
	LAUNCH_CONFIG=$c_missing
	assert_status 125 as_user "$L" run "$img" echo ran
	assert_contains "$err" "$c_missing" "$k: a missing config file is named"

	say "# $k: runtime_dir template"
	LAUNCH_CONFIG=$c_rt
	rm -rf "$T/rt-$TU"
	assert_status 0 as_user "$L" -v run "$img" echo ran
	assert_eq ran "$out" "$k: runtime_dir: the container runs"
	assert_contains "$err" "$T/rt-$TU" "$k: runtime_dir: \$USER is expanded and the directory used"
	assert_eq "$TU_UID 700" "$(stat -c '%u %a' "$T/rt-$TU" 2>/dev/null)" "$k: runtime_dir: the directory is the user's, mode 0700"
	LAUNCH_CONFIG=
done
assert_clean "config runs"
finish
