#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every source form of launch import, as the unprivileged user: an OCI
# layout of several tags made by skopeo (oci:DIR:TAG, DIR:TAG, and the
# error listing the tags without one), the same as a tar (oci-archive:
# FILE:TAG), a docker-archive of several images (docker-archive:FILE:
# REPO:TAG, @N, FILE:REPO:TAG), standard input (-), and --rootfs DIR with
# owners, modes, setuid bits, hardlinks, symlinks and xattrs kept, an
# unreadable file refused; wrong kinds and missing tags named, and nothing
# stored by a failed import.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_root "a directory tree with other owners for --rootfs DIR"
require_cmd skopeo unsquashfs python3 tar

LISTING=$(cd "$(dirname "$0")/../fixtures" && pwd)/listing.sh
DATA=$T/data
W=$T/work
user_dir "$DATA" "$W"
STORE=$DATA/launch
li() { capture as_user env XDG_DATA_HOME="$DATA" "$L" "$@"; }
who() { as_user env XDG_DATA_HOME="$DATA" "$L" run --no-home "$1" sh -c 'echo $WHO' 2>&1; }
images_now() { ls "$STORE/images" 2>/dev/null | sort; }
store_file() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"file": "\(.*\)",$/\1/p'; }

# three images told apart by $WHO, as OCI archives and docker-archives
for n in one two three; do
	li import -e "WHO=$n" "$SQFS" "src-$n:1"
	li export -f oci-archive "src-$n:1" "$W/$n-oci.tar"
	li export -f docker-archive "src-$n:1" "$W/$n-docker.tar"
	[ -f "$W/$n-oci.tar" ] && [ -f "$W/$n-docker.tar" ] || die "cannot make the source images ($err)"
done

say "# an OCI layout of several tags (skopeo)"
for n in one two three; do
	as_user skopeo copy -q "oci-archive:$W/$n-oci.tar" "oci:$W/multi:tag-$n" || die "skopeo copy into the layout failed"
done
assert_eq 3 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$W/multi/index.json")" \
	"the layout has three images"
li import "oci:$W/multi:tag-two" a:2
assert_eq 0 "$rc" "oci:DIR:TAG"
assert_eq two "$(who a:2)" "imports the image of that tag"
li import "$W/multi:tag-three" a:3
assert_eq 0 "$rc" "DIR:TAG"
assert_eq three "$(who a:3)" "imports the image of that tag"
li inspect a:3
assert_contains "$out" "\"source\": \"oci:$W/multi:tag-three\"" "the source records the tag"
before=$(images_now)
li import "$W/multi" nope:1
assert_eq 125 "$rc" "a layout of several tags without one is refused"
assert_contains "$err" "the layout holds images of 3 tags (tag-one, tag-two, tag-three)" "listing its tags"
assert_contains "$err" "oci:DIR:TAG" "and saying how to choose"
li import "oci:$W/multi:tag-nine" nope:1
assert_eq 125 "$rc" "a tag the layout does not have is refused"
assert_contains "$err" "no image is tagged tag-nine (its tags: tag-one, tag-two, tag-three)" "and named"
li import "oci:$W/one-oci.tar" nope:1
assert_eq 125 "$rc" "oci: of a tar is refused"
assert_contains "$err" "write oci-archive:$W/one-oci.tar" "with the form to use"
assert_eq "$before" "$(images_now)" "the failed imports stored nothing"

say "# the same layout as a tar: oci-archive:FILE:TAG"
(cd "$W/multi" && tar -cf "$W/multi.tar" .) || die "tar"
li import "oci-archive:$W/multi.tar:tag-one" b:1
assert_eq 0 "$rc" "oci-archive:FILE:TAG"
assert_eq one "$(who b:1)" "imports the image of that tag"
li import "oci-archive:$W/two-oci.tar" b:2
assert_eq 0 "$rc" "oci-archive:FILE of one image"
assert_eq two "$(who b:2)" "imports it"
li import "docker-archive:$W/multi.tar" nope:1
assert_eq 125 "$rc" "docker-archive: of an OCI layout is refused"
assert_contains "$err" "not a docker-archive (it has no manifest.json): it is an OCI layout, write oci-archive:" \
	"with the form to use"

say "# a docker-archive of several images"
python3 - "$W" <<'PY' || die "cannot merge the docker-archives"
import io, json, sys, tarfile
w = sys.argv[1]
manifest, members = [], {}
for n in ("one", "two", "three"):
    with tarfile.open(f"{w}/{n}-docker.tar") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read()
            if m.name == "manifest.json":
                manifest += json.loads(data)
            else:
                members[m.name] = data
members["manifest.json"] = json.dumps(manifest).encode()
with tarfile.open(f"{w}/docker-multi.tar", "w") as t:
    for name, data in members.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
[ "$IS_ROOT" = 0 ] || chown "$TU_UID:$TU_GID" "$W/docker-multi.tar"
li import "docker-archive:$W/docker-multi.tar:src-two:1" c:2
assert_eq 0 "$rc" "docker-archive:FILE:REPO:TAG"
assert_eq two "$(who c:2)" "imports the image of that RepoTag"
li import "docker-archive:$W/docker-multi.tar:docker.io/library/src-three:1" c:3
assert_eq 0 "$rc" "the RepoTag matches with docker.io/library/ too"
assert_eq three "$(who c:3)" "and imports that image"
li import "docker-archive:$W/docker-multi.tar:@0" c:0
assert_eq 0 "$rc" "docker-archive:FILE:@N"
assert_eq one "$(who c:0)" "imports the N-th image"
li import "$W/docker-multi.tar:src-one:1" c:1
assert_eq 0 "$rc" "FILE:REPO:TAG without the prefix"
assert_eq one "$(who c:1)" "imports that image"
before=$(images_now)
li import "$W/docker-multi.tar" nope:1
assert_eq 125 "$rc" "an archive of several images without a name is refused"
assert_contains "$err" "the archive holds 3 images (src-one:1, src-two:1, src-three:1)" "listing them"
li import "docker-archive:$W/docker-multi.tar:src-four:1" nope:1
assert_eq 125 "$rc" "a RepoTag the archive lacks is refused"
assert_contains "$err" "the archive has no image src-four:1 (it has: src-one:1, src-two:1, src-three:1)" "and named"
li import "docker-archive:$W/docker-multi.tar:@3" nope:1
assert_contains "$err" "@3 names none of them (@0 to @2)" "@N out of range is named"
li import "oci-archive:$W/docker-multi.tar" nope:1
assert_contains "$err" "not an OCI image layout (it has no index.json): it is a docker-archive" "oci-archive: of a docker-archive is refused"
li import "$W/nothere.tar:x" nope:1
assert_eq 125 "$rc" "a missing file is refused"
assert_contains "$err" "cannot read $W/nothere.tar:x: No such file or directory" "and named"
assert_eq "$before" "$(images_now)" "no failed import stored anything"

say "# standard input"
capture sh -c "cat '$W/three-docker.tar' | env -i HOME='$TU_HOME' PATH=/usr/bin:/bin XDG_DATA_HOME='$DATA' \
	setpriv --reuid=$TU_UID --regid=$TU_GID --init-groups '$L' import - d:3"
assert_eq 0 "$rc" "a docker-archive on stdin"
assert_eq three "$(who d:3)" "is imported"
capture sh -c "gzip -c '$W/multi.tar' | env -i HOME='$TU_HOME' PATH=/usr/bin:/bin XDG_DATA_HOME='$DATA' \
	setpriv --reuid=$TU_UID --regid=$TU_GID --init-groups '$L' import - d:2"
assert_eq 125 "$rc" "a layout of several tags on stdin needs a tag"
capture sh -c "tar -C '$DIRIMG' -cf - . | env -i HOME='$TU_HOME' PATH=/usr/bin:/bin XDG_DATA_HOME='$DATA' \
	setpriv --reuid=$TU_UID --regid=$TU_GID --init-groups '$L' import --rootfs --cmd /bin/hello - d:r"
assert_eq 0 "$rc" "a rootfs tar on stdin"
li run --no-home d:r
assert_match "$out" "^hello from launch-test-image" "runs"
li import - d:0 </dev/null
assert_eq 125 "$rc" "empty stdin is refused"
assert_contains "$err" "standard input was empty" "and named"
assert_eq "" "$(ls -A "$STORE/tmp")" "the spooled copies are gone"

say "# --rootfs DIR: owners, modes and xattrs kept"
R=$T/rootdir
cp -a "$DIRIMG" "$R"
mkdir -p "$R/home/someone" "$R/opt/tool"
echo data >"$R/opt/tool/file"
ln "$R/opt/tool/file" "$R/opt/tool/hardlink"
ln -s ../tool/file "$R/opt/tool/symlink"
cp "$R/bin/busybox" "$R/opt/tool/suid" && chmod 4755 "$R/opt/tool/suid"
chown -R 1234:5678 "$R/home/someone"
chown 42:42 "$R/opt/tool/file"
chmod 0640 "$R/opt/tool/file" && chmod o+r "$R/opt/tool/file"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.launch", b"kept")' "$R/opt/tool/file" ||
	die "cannot set an xattr"
chmod -R a+rX "$R"
li import --rootfs --cmd /bin/hello "$R" tree:1
assert_eq 0 "$rc" "import --rootfs DIR"
rm -rf "$T/x"
unsquashfs -q -n -d "$T/x" "$(store_file tree:1)" >/dev/null 2>&1 || fail "unsquashfs"
assert_eq "$(bash "$LISTING" "$R")" "$(bash "$LISTING" "$T/x")" "the tree is the directory's, owners and modes included"
assert_eq kept "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.launch").decode())' \
	"$T/x/opt/tool/file" 2>&1)" "the xattr is kept"
assert_eq "$(stat -c %i "$T/x/opt/tool/file")" "$(stat -c %i "$T/x/opt/tool/hardlink")" "the hardlink is kept"
li run --no-home tree:1
assert_match "$out" "^hello from launch-test-image" "the image runs"
li import --rootfs --cmd /bin/hello "$R" tree:2
assert_eq "$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect tree:1 | grep '"digest"')" \
	"$(as_user env XDG_DATA_HOME="$DATA" "$L" inspect tree:2 | grep '"digest"')" "the same tree gives the same image"
echo secret >"$R/opt/tool/secret"
chmod 0600 "$R/opt/tool/secret"
before=$(images_now)
li import --rootfs "$R" tree:3
assert_eq 125 "$rc" "a file the user cannot read fails the import"
assert_contains "$err" "cannot read all of $R: ./opt/tool/secret: Cannot open: Permission denied" "naming the file"
assert_contains "$err" "every file must be readable by you" "and what is needed"
assert_eq "$before" "$(images_now)" "and stores nothing"
assert_eq "" "$(ls -A "$STORE/tmp")" "nor leaves a temporary"
li import "oci:$R:tag" nope:1
assert_eq 125 "$rc" "oci: of a directory that is no layout is refused"
assert_contains "$err" "not an OCI image layout (it has no index.json)" "and says so"

assert_clean "import sources"
finish
