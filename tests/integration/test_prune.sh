#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The store's space as the unprivileged user: a tag imported again leaves
# no untagged image behind; launch rmi and launch prune never remove an
# image a running container or instance uses (also after the run was killed
# with SIGKILL: then the image goes); prune removes untagged images, the
# blob cache and leftovers, --dry-run removes nothing, --all takes unused
# tagged images; launch df in both formats; prune and rmi on a full disk;
# imports running while prune runs lose nothing.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_cmd python3

DATA=$T/data
RUN=$T/xdg
user_dir "$DATA" "$RUN"
chmod 0700 "$RUN"
STORE=$DATA/launch
li() { capture as_user env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
digest_of() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"digest": "\(.*\)",$/\1/p'; }
image_count() { ls "$STORE/images" 2>/dev/null | wc -l; }
untagged() { as_user env XDG_DATA_HOME="$DATA" "$L" images | grep -c '^<none>'; }

say "# a tag imported again: the old image goes"
li import "$SQFS" app:1
assert_eq 0 "$rc" "import app:1"
old=$(digest_of app:1)
li import -e V=2 "$SQFS" app:1
assert_eq 0 "$rc" "import app:1 again, with another config"
assert_eq 1 "$(image_count)" "one image file is left"
assert_eq 0 "$(untagged)" "and no <none> image"
assert_true "the old image's file is gone" test ! -e "$STORE/images/${old#sha256:}.sqfs"

say "# an image in use stays: re-import, rmi, prune, prune --all"
as_user_bg "$T/run.pid" env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" run --no-home app:1 sleep 300
RUNPID=$BG_PID
used=$(digest_of app:1)
used_file=$STORE/images/${used#sha256:}.sqfs
running() { as_user env XDG_DATA_HOME="$DATA" "$L" df --format json | grep -q '"in_use": 1'; }
assert_true "df sees the image in use" wait_until 20 running
li import -e V=3 "$SQFS" app:1
assert_eq 0 "$rc" "import app:1 while a container runs the old one"
assert_true "the image in use stays" test -f "$used_file"
assert_eq 1 "$(untagged)" "untagged, as <none>"
li images
assert_match "$out" "^<none> +<none> +$(printf %.12s "${used#sha256:}") " "images lists it as <none>"
li import -e V=4 "$SQFS" other:1
li tag @"${used#sha256:}" used:1
li rmi used:1
assert_eq 0 "$rc" "rmi of the last tag of an image in use succeeds"
assert_contains "$out" "image kept: a running container uses it" "and says the image stays"
assert_true "its file is still there" test -f "$used_file"
li rmi @"${used#sha256:}"
assert_eq 125 "$rc" "rmi @DIGEST of an image in use fails"
assert_contains "$err" "in use by a running container or instance" "and says why"
li prune --dry-run
assert_eq 0 "$rc" "prune --dry-run"
assert_contains "$out" "kept image $(printf %.19s "$used")" "the dry run keeps the image in use"
li prune
assert_eq 0 "$rc" "prune"
assert_contains "$out" "kept image" "prune keeps the image in use"
assert_contains "$out" "in use by a running container or instance" "and says why"
assert_true "its file is still there" test -f "$used_file"
li prune --all --dry-run
assert_match "$out" "^would remove image sha256:[0-9a-f]{64} \(" "prune --all --dry-run lists unused tagged images"
assert_eq 3 "$(image_count)" "a dry run removes nothing"
li run --no-home app:1 true
assert_eq 0 "$rc" "the images still run after the dry run"

say "# kill -9 of the container's launch: the image is no longer in use"
kill -KILL "$RUNPID"
wait_exit "$BG" 20
not_used() { ! as_user env XDG_DATA_HOME="$DATA" "$L" df --format json | grep -q '"in_use": 1'; }
assert_true "after SIGKILL, nothing is in use" wait_until 20 not_used
li prune
assert_eq 0 "$rc" "prune after the kill"
assert_contains "$out" "removed image $used" "removes the image the killed container used"
assert_match "$out" "^freed: [0-9.]+[kMG]B$" "and prints the total"
assert_true "its file is gone" test ! -e "$used_file"
assert_eq 2 "$(image_count)" "the tagged images stay"

say "# an instance's image"
li start --name keep app:1
assert_eq 0 "$rc" "start an instance of app:1"
inst=$(digest_of app:1)
li rmi app:1
assert_contains "$out" "image kept" "rmi keeps the instance's image"
li prune --all
assert_eq 0 "$rc" "prune --all with an instance running"
assert_contains "$out" "kept image $(printf %.19s "$inst")" "keeps the instance's image"
assert_contains "$out" "removed image" "and removes the unused tagged one"
assert_true "the instance's image is there" test -f "$STORE/images/${inst#sha256:}.sqfs"
li exec keep cat /etc/image-marker
assert_eq launch-test-image "$out" "the instance still works"
li stop keep
li prune
assert_contains "$out" "removed image $inst" "once the instance stopped, prune removes its image"
assert_eq 0 "$(image_count)" "the store has no image left"

say "# leftovers: partial downloads and imports, the blob cache"
li import "$SQFS" bb:1
mkdir -p "$STORE/blobs/sha256" "$STORE/blobs/partial" "$STORE/tmp"
head -c 200000 /dev/urandom >"$STORE/blobs/sha256/$(printf '%064d' 1)"
head -c 100000 /dev/urandom >"$STORE/blobs/partial/$(printf '%064d' 2)"
head -c 50000 /dev/urandom >"$STORE/tmp/1-dead01.sqfs"
: >"$STORE/tmp/2-live01.sqfs"
[ "$IS_ROOT" = 0 ] || chown -R "$TU_UID:$TU_GID" "$STORE"
# an import still at work: its writer holds the temporary locked
as_user_bg "$T/flock.pid" python3 -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
time.sleep(120)' "$STORE/tmp/2-live01.sqfs"
FL=$BG_PID
FLBG=$BG
on_exit "kill $FL"
locked() { ! python3 -c 'import fcntl, sys
fcntl.flock(open(sys.argv[1]), fcntl.LOCK_EX | fcntl.LOCK_NB)' "$STORE/tmp/2-live01.sqfs" 2>/dev/null; }
wait_until 10 locked || die "flock did not start"
li df --format json
assert_eq 0 "$rc" "df --format json"
assert_eq "1 1 3 1 0" "$(printf '%s' "$out" | python3 -c 'import json,sys
j=json.load(sys.stdin); print(j["images"]["count"], j["blob_cache"]["count"], j["partials"]["count"], j["partials"]["active"], j["images"]["untagged"])')" \
	"df counts the image, the blob, three partials (one running)"
li df
assert_match "$out" "^images +1 " "the table has the images"
assert_match "$out" "^blob cache +1 " "the blob cache"
assert_match "$out" "^partial +3 .*\(1 running\)" "and the partials"
li prune --dry-run
assert_match "$out" "^would remove blob 0{63}1 \(" "the dry run lists the blob"
assert_match "$out" "^would remove partial 0{63}2 \(" "the partial download"
assert_match "$out" "^would remove partial 1-dead01.sqfs \(" "the dead import"
assert_not_contains "$out" "2-live01" "not the running import"
assert_true "a dry run removes nothing" test -e "$STORE/blobs/sha256/$(printf '%064d' 1)" -a -e "$STORE/tmp/1-dead01.sqfs"
li prune
assert_eq 0 "$rc" "prune"
assert_match "$out" "^removed blob 0{63}1 \(" "removes the blob"
assert_match "$out" "^removed partial 1-dead01.sqfs \(" "and the dead import"
assert_match "$out" "^kept 1 import\(s\) or commit\(s\) in progress" "keeps the running import, and says so"
assert_true "the blob is gone" test ! -e "$STORE/blobs/sha256/$(printf '%064d' 1)"
assert_true "the partial download is gone" test ! -e "$STORE/blobs/partial/$(printf '%064d' 2)"
assert_true "the running import's file stays" test -e "$STORE/tmp/2-live01.sqfs"
li run --no-home bb:1 cat /etc/image-marker
assert_eq launch-test-image "$out" "the tagged image stays and runs"
kill "$FL" 2>/dev/null
wait "$FLBG" 2>/dev/null
li prune
assert_contains "$out" "removed partial 2-live01.sqfs" "once its writer is gone, the temporary goes"
li prune extra
assert_eq 125 "$rc" "prune takes no names"
assert_contains "$err" "see 'launch rmi'" "and points to rmi"

say "# imports running while prune runs lose nothing"
i=1
while [ $i -le 6 ]; do
	as_user env XDG_DATA_HOME="$DATA" "$L" -q import -e "N=$i" "$SQFS" "conc:$i" >"$T/imp$i.out" 2>&1 &
	eval "IMP$i=\$!"
	i=$((i + 1))
done
k=0
while [ $k -lt 15 ]; do
	as_user env XDG_DATA_HOME="$DATA" "$L" prune >>"$T/prune.out" 2>&1 || echo "prune failed" >>"$T/prune.out"
	k=$((k + 1))
done
i=1
while [ $i -le 6 ]; do
	eval "wait \$IMP$i"
	assert_eq 0 "$?" "concurrent import $i succeeded"
	li run --no-home "conc:$i" sh -c 'echo $N'
	assert_eq "$i" "$out" "conc:$i is stored and runs"
	i=$((i + 1))
done
assert_not_contains "$(cat "$T/prune.out")" "prune failed" "every prune succeeded"
assert_eq "" "$(ls -A "$STORE/tmp")" "no temporary is left"

say "# a full disk: prune and rmi still work"
if [ "$IS_ROOT" = 1 ]; then
	SMALL=$T/small
	mkdir -p "$SMALL"
	mount -t tmpfs -o size=4m,mode=0755 tmpfs "$SMALL" || die "cannot mount a small tmpfs"
	on_exit "umount -l '$SMALL'"
	chown "$TU_UID:$TU_GID" "$SMALL"
	ls_() { capture as_user env XDG_DATA_HOME="$SMALL" XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
	ls_ import "$SQFS" full:1
	ls_ import -e X=1 "$SQFS" full:2
	ls_ tag full:2 full:3
	as_user dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null
	assert_eq 0 "$(df --output=avail -k "$SMALL" | tail -n 1 | tr -d ' ')" "the disk is full"
	ls_ rmi full:1
	assert_eq 0 "$rc" "rmi works on a full disk"
	assert_contains "$out" "image removed" "and removes the image"
	ls_ prune --all
	assert_eq 0 "$rc" "prune --all works on a full disk"
	assert_contains "$out" "removed image" "and removes the image"
	assert_true "the index no longer names them" sh -c "! grep -q 'full:' '$SMALL/launch/index.json'"
	ls_ images
	assert_eq "NAME   TAG   DIGEST   SIZE   CREATED" "$out" "the store is empty, and its index readable"
	umount -l "$SMALL"
fi

assert_clean "prune"
finish
