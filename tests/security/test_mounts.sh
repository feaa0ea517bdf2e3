#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The site's mount policy against a user who tries to get around it: a user
# mount never covers or shadows a site mount, a denied source is not
# reachable through a parent, a symlink or HOME, the source mounted is the
# one checked (a symlink flipped by another user in a shared directory
# during the run), and a destination that an image symlink leads into a
# host directory creates nothing on the host.
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_fuse
require_shared_tmp

SITE_SRC=$T/site-src
SEC=$SHARED/srv/sec
mkdir -p "$SITE_SRC" "$SEC" "$SHARED/srv/ok"
echo site > "$SITE_SRC/marker"
echo secret > "$SEC/marker"
echo ok > "$SHARED/srv/ok/marker"
chmod -R a+rX "$SITE_SRC" "$SHARED/srv"
user_dir "$T/mine"
echo mine > "$T/mine/marker"
cat > "$T/policy.json" <<EOF2
{"mounts": ["$SITE_SRC:/opt/site:ro"],
 "deny_mount_destinations": ["/opt/site"],
 "deny_mount_sources": ["$SEC"]}
EOF2
chmod 0644 "$T/policy.json"
LAUNCH_CONFIG=$T/policy.json

say "# site mounts cannot be covered or shadowed"
lrun run "$SQFS" cat /opt/site/marker
assert_eq site "$out" "the site mount is there"
lrun run -m "$T/mine:/opt" "$SQFS" cat /opt/site/marker
assert_eq 125 "$rc" "-m DIR:/opt (above the site mount) is refused"
assert_contains "$err" "not allowed by the site config (deny_mount_destinations: /opt/site)" \
	"a destination above a denied one is denied"
printf '{"mounts": ["%s:/opt/site:ro"]}\n' "$SITE_SRC" > "$T/site-only.json"
chmod 0644 "$T/site-only.json"
capture as_user env LAUNCH_CONFIG="$T/site-only.json" "$L" run -m "$T/mine:/opt" "$SQFS" cat /opt/site/marker
assert_eq 125 "$rc" "without deny lists, -m DIR:/opt is refused too"
assert_contains "$err" "would cover the site mount on /opt/site" "the error says it would cover the site mount"
capture as_user env LAUNCH_CONFIG="$T/site-only.json" "$L" run -m "$T/mine:/opt/site/sub" "$SQFS" true
assert_eq 125 "$rc" "-m DIR:/opt/site/sub (inside the site mount) is refused"
assert_contains "$err" "lies inside the site mount on /opt/site" "the error says it would shadow part of it"
capture as_user env LAUNCH_CONFIG="$T/site-only.json" "$L" run -m "$SITE_SRC:/opt/site" "$SQFS" cat /opt/site/marker
assert_eq 0 "$rc" "the same mount as the site's is accepted"
assert_eq site "$out" "and changes nothing"

say "# a denied source is not reachable through its parent, a symlink or HOME"
lrun run -m "$SEC:/h" "$SQFS" true
assert_eq 125 "$rc" "the denied source itself is refused"
assert_contains "$err" "deny_mount_sources" "the error names the setting"
lrun run -m "$SHARED/srv:/h" "$SQFS" cat /h/sec/marker
assert_eq 125 "$rc" "its parent is refused"
assert_contains "$err" "mount source $SHARED/srv contains $SEC" "the error says the parent contains it"
assert_not_contains "$out" secret "nothing of it was read"
as_user ln -s "$SEC" "$T/mine/link"
lrun run -m "$T/mine/link:/h" "$SQFS" cat /h/marker
assert_eq 125 "$rc" "a symlink to it is refused"
as_user ln -s "$SHARED/srv" "$T/mine/plink"
lrun run -m "$T/mine/plink:/h" "$SQFS" cat /h/sec/marker
assert_eq 125 "$rc" "a symlink to its parent is refused"
capture as_user env HOME="$SEC" "$L" run "$SQFS" cat "$SEC/marker"
assert_eq 125 "$rc" "HOME set to it is refused"
assert_contains "$err" "home directory" "the error names the home directory"
assert_contains "$err" "--no-home" "and the way out"
capture as_user env HOME="$SHARED/srv" "$L" run "$SQFS" cat "$SHARED/srv/sec/marker"
assert_eq 125 "$rc" "HOME set to its parent is refused"
capture as_user env HOME="$SEC" "$L" run --no-home "$SQFS" true
assert_eq 0 "$rc" "with --no-home the same run works"
lrun run -m "$SHARED/srv/ok:/h" "$SQFS" cat /h/marker
assert_eq ok "$out" "a directory beside the denied one is mounted"

say "# the source checked is the source mounted (the attacker flips a symlink)"
as_user2 ln -s "$SHARED/srv/ok" "$SHARED/flip"
as_user2 sh -c "i=0; while [ \$i -lt 4000 ]; do ln -sfn '$SEC' '$SHARED/flip.new' && mv -T '$SHARED/flip.new' '$SHARED/flip'; ln -sfn '$SHARED/srv/ok' '$SHARED/flip.new' && mv -T '$SHARED/flip.new' '$SHARED/flip'; i=\$((i + 1)); done" &
FLIPPER=$!
on_exit "kill -KILL $FLIPPER"
leaked=0 mounted=0 refused=0
n=0
while [ $n -lt 60 ]; do
	capture as_user "$L" run -m "$SHARED/flip:/h" "$SQFS" cat /h/marker
	case $out in
	*secret*) leaked=$((leaked + 1)) ;;
	ok) mounted=$((mounted + 1)) ;;
	esac
	[ "$rc" = 125 ] && refused=$((refused + 1))
	n=$((n + 1))
done
kill -KILL $FLIPPER 2>/dev/null
wait $FLIPPER 2>/dev/null
say "  60 runs: $mounted mounted the allowed directory, $refused refused, $leaked read the denied one"
assert_eq 0 "$leaked" "no run reads the denied directory while the symlink flips"
assert_true "every run either mounted the allowed directory or was refused" test $((mounted + refused)) -eq 60

say "# an image symlink into a host directory creates nothing on the host"
unset LAUNCH_CONFIG
cp -a "$DIRIMG" "$T/img"
ln -s "$TU_HOME/.config" "$T/img/cfglink"
as_user mkdir -p "$TU_HOME/.config"
on_exit "rm -rf '$TU_HOME/.config/launch-planted'"
lrun run -m "$T/mine:/cfglink/launch-planted" "$T/img" true
assert_eq 125 "$rc" "a destination through the image's symlink into the home is refused"
assert_contains "$err" "a symlink of the image leads /cfglink into a host directory" "the error says why"
assert_true "nothing was created in the victim's home" test ! -e "$TU_HOME/.config/launch-planted"
lrun run -m "$T/mine:$TU_HOME/.config/launch-planted" "$T/img" cat "$TU_HOME/.config/launch-planted/marker"
assert_eq mine "$out" "the same place named directly works (the user asked for it)"
rm -rf "$TU_HOME/.config/launch-planted"

finish
