#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# launch export as the unprivileged user: a squashfs file that squashfuse
# mounts and ch-run runs; docker-archive and oci-archive files that skopeo
# reads and copies, with the config kept; a round trip through launch import
# gives the same config and the same tree file by file (owners, modes,
# devices, hardlinks, xattrs of the OCI fixture); errors leave no partial
# output file.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_root "extracting squashfs images with their owners to compare them"
require_cmd skopeo unsquashfs sqfs2tar python3

OCI=$LAUNCH_TEST_IMAGES/oci
[ -d "$OCI/good-oci" ] || skip "OCI fixtures missing in $OCI (the oci_fixtures test makes them with tests/fixtures/mkoci.py)"
LISTING=$(cd "$(dirname "$0")/../fixtures" && pwd)/listing.sh

DATA=$T/data
OUT=$T/out
user_dir "$DATA" "$OUT"
STORE=$DATA/launch
li() { capture as_user env XDG_DATA_HOME="$DATA" "$L" "$@"; }
inspect_field() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["config"].get(sys.argv[1]), sort_keys=True))' "$2"; }
store_file() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"file": "\(.*\)",$/\1/p'; }
listing_of() {
	rm -rf "$T/x"
	unsquashfs -q -n -d "$T/x" "$1" >/dev/null 2>&1 || { echo "unsquashfs failed on $1"; return; }
	bash "$LISTING" "$T/x"
}

li import -e A=1 -e "B=two words" --entrypoint "/bin/echo from-entrypoint" --cmd "a b" -w /etc "$SQFS" app:1
assert_eq 0 "$rc" "import the busybox image with a config"

say "# squashfs: the image file as it is, for other runtimes"
li export app:1 "$OUT/app.sqfs"
assert_eq 0 "$rc" "export app:1 to a squashfs file"
assert_contains "$err" "exported app:1 to $OUT/app.sqfs (squashfs)" "export says what it wrote"
assert_true "it is the stored image, byte for byte" cmp -s "$OUT/app.sqfs" "$(store_file app:1)"
if command -v squashfuse >/dev/null 2>&1; then
	mkdir -p "$T/mnt"
	if squashfuse "$OUT/app.sqfs" "$T/mnt"; then
		on_exit "fusermount3 -u '$T/mnt' || umount -l '$T/mnt'"
		assert_eq launch-test-image "$(cat "$T/mnt/etc/image-marker")" "squashfuse mounts it"
		fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
	else
		fail "squashfuse cannot mount the exported file"
	fi
fi
if command -v ch-run >/dev/null 2>&1; then
	capture as_user env USER="$TU" ch-run "$OUT/app.sqfs" -- /bin/cat /etc/image-marker
	assert_eq launch-test-image "$out" "ch-run runs the exported squashfs"
fi
li run "$OUT/app.sqfs" cat /etc/image-marker
assert_eq launch-test-image "$out" "launch runs it as a file"

say "# docker-archive and oci-archive: one layer, the config kept"
li export --format docker-archive app:1 "$OUT/app-docker.tar"
assert_eq 0 "$rc" "export --format docker-archive"
li export -f oci-archive app:1 "$OUT/app-oci.tar"
assert_eq 0 "$rc" "export --format oci-archive"
for f in docker oci; do
	src=$f-archive:$OUT/app-$f.tar
	capture skopeo inspect --config "$src"
	assert_eq 0 "$rc" "skopeo inspects the $f archive"
	cfg=$out
	check() { printf '%s' "$cfg" | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["config"].get(sys.argv[1]), sort_keys=True))' "$1"; }
	assert_eq '["A=1", "B=two words"]' "$(check Env)" "$f: the archive's Env"
	assert_eq '["/bin/echo", "from-entrypoint"]' "$(check Entrypoint)" "$f: its Entrypoint"
	assert_eq '["a", "b"]' "$(check Cmd)" "$f: its Cmd"
	assert_eq '"/etc"' "$(check WorkingDir)" "$f: its WorkingDir"
	capture skopeo copy "$src" "oci:$T/copy-$f:x"
	assert_eq 0 "$rc" "skopeo copies the $f archive into an OCI layout"
done
capture skopeo list-tags "docker-archive:$OUT/app-docker.tar"
assert_contains "$out" '"app:1"' "the docker-archive names the image app:1"
assert_contains "$(tar -xOf "$OUT/app-oci.tar" index.json)" '"org.opencontainers.image.ref.name":"1"' \
	"the OCI archive's index names its tag"
li export --format docker-archive --tag other/name:2 app:1 "$OUT/named.tar"
capture skopeo list-tags "docker-archive:$OUT/named.tar"
assert_contains "$out" '"other/name:2"' "--tag names the image in the archive"

say "# a round trip through launch import: the same config, the same tree"
for f in docker oci; do
	li import "$OUT/app-$f.tar" "back-$f:1"
	assert_eq 0 "$rc" "launch import of the $f archive"
	for k in Env Entrypoint Cmd WorkingDir; do
		assert_eq "$(inspect_field app:1 $k)" "$(inspect_field "back-$f:1" $k)" "$f round trip keeps $k"
	done
	li run --no-home "back-$f:1"
	assert_eq "from-entrypoint a b" "$out" "$f: the image runs its Entrypoint and Cmd"
done
li import "$OCI/good-oci" good:1
assert_eq 0 "$rc" "import the OCI fixture (owners, devices, hardlinks, xattrs)"
li export -f oci-archive good:1 "$OUT/good.tar"
assert_eq 0 "$rc" "export it as an OCI archive"
li import "$OUT/good.tar" good-back:1
assert_eq 0 "$rc" "and import that again"
assert_eq "$(listing_of "$(store_file good:1)")" "$(listing_of "$(store_file good-back:1)")" \
	"the tree is the same, file by file"
assert_eq test-value "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.launch").decode())' \
	"$T/x/usr/bin/xattr-file" 2>&1)" "the xattr survives the round trip"
assert_eq "$(stat -c %i "$T/x/usr/bin/hard1")" "$(stat -c %i "$T/x/usr/bin/hard2")" "hardlinks survive"
assert_eq "$(inspect_field good:1 Labels)" "$(inspect_field good-back:1 Labels)" "the labels survive"

say "# errors: a clear message, no partial output"
li export nosuch:1 "$OUT/nosuch.sqfs"
assert_eq 125 "$rc" "export of a missing image fails"
assert_contains "$err" "not found in your image store" "and says so"
assert_true "no output file" test ! -e "$OUT/nosuch.sqfs"
li export "$DIRIMG" "$OUT/dir.sqfs"
assert_eq 125 "$rc" "export of a directory fails"
assert_contains "$err" "launch import --rootfs" "and names the fix"
li export --format zip app:1 "$OUT/x.zip"
assert_eq 125 "$rc" "an unknown format is refused"
assert_contains "$err" "use squashfs, docker-archive or oci-archive" "with the formats"
li export app:1 "$T/no/such/dir/x.sqfs"
assert_eq 125 "$rc" "an output directory that does not exist fails"
assert_contains "$err" "cannot write $T/no/such/dir/x.sqfs" "and names the file"
li export app:1 "$OUT"
assert_eq 125 "$rc" "a directory as FILE is refused"
assert_contains "$err" "it is a directory" "and says so"
# a full disk: the export fails, the old file stays, nothing else is left
SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=1500k,mode=0755 tmpfs "$SMALL" || die "cannot mount a small tmpfs"
on_exit "umount -l '$SMALL'"
chown "$TU_UID:$TU_GID" "$SMALL"
echo old | as_user tee "$SMALL/app.tar" >/dev/null
li export --format docker-archive app:1 "$SMALL/app.tar"
assert_eq 125 "$rc" "an export into a full disk fails"
assert_contains "$err" "No space left on device" "and says the disk is full"
assert_eq old "$(cat "$SMALL/app.tar")" "the file it would have replaced is intact"
assert_eq "app.tar" "$(ls -A "$SMALL")" "and no temporary is left beside it"
as_user dd if=/dev/zero of="$SMALL/filler" bs=64k count=12 2>/dev/null
li export app:1 "$SMALL/new.sqfs"
assert_eq 125 "$rc" "a squashfs export into a full disk fails too"
assert_contains "$err" "cannot write $SMALL/new.sqfs: No space left on device" "naming the file"
assert_true "without a partial file" test ! -e "$SMALL/new.sqfs"
umount -l "$SMALL"
assert_eq "" "$(ls -A "$STORE/tmp")" "no layer temporary is left in the store"

assert_clean "export"
finish
