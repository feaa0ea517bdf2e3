#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The image manager as the unprivileged user: launch import of OCI layouts
# (directory and tar), docker-archives (classic and OCI-style), rootfs tars
# and squashfs files; the flattened trees checked file by file (owner, mode,
# type, size, link target, device numbers, xattrs, hardlinks) against the
# fixtures' listings; digests, platforms, hostile images, the store commands
# (images, inspect, tag, rmi), site stores, named runs with the image
# config, concurrent imports, an import killed with SIGKILL, progress.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_cmd unsquashfs tar2sqfs python3 tmux
require_root "extracting squashfs images with their owners to compare them"

OCI=$LAUNCH_TEST_IMAGES/oci
DEB=$LAUNCH_TEST_IMAGES/debian
[ -f "$OCI/cases.txt" ] || skip "OCI fixtures missing in $OCI (the oci_fixtures test makes them with tests/fixtures/mkoci.py)"
[ -f "$DEB/debian.list" ] || skip "Debian fixtures missing in $DEB (the debian test makes them with tests/fixtures/mkdebian.sh, which needs root and the Debian mirror)"
LISTING=$(cd "$(dirname "$0")/../fixtures" && pwd)/listing.sh

# A store of the test's own.
DATA=$T/data
user_dir "$DATA"
STORE=$DATA/launch
li() { capture as_user env XDG_DATA_HOME="$DATA" "$L" "$@"; }
store_file() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"file": "\(.*\)",$/\1/p'; }
store_digest() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"digest": "\(.*\)",$/\1/p'; }
# listing_of SQFS: the listing.sh listing of a squashfs file's tree
listing_of() {
	rm -rf "$T/x"
	unsquashfs -q -n -d "$T/x" "$1" >/dev/null 2>&1 || { echo "unsquashfs failed on $1"; return; }
	bash "$LISTING" "$T/x"
}
# store_clean: no temporary left, and no image file the index does not name
store_clean() {
	[ -z "$(ls -A "$STORE/tmp" 2>/dev/null)" ] || return 1
	for f in "$STORE"/images/*.sqfs; do
		[ -e "$f" ] || continue
		grep -q "sha256:$(basename "$f" .sqfs)" "$STORE/index.json" || return 1
	done
}

say "# the good fixture in every format: same image, same tree"
expected=$(grep -v '^#' "$OCI/expected.txt")
for src in good-oci good-oci.tar good-docker.tar good-docker-oci.tar; do
	li import "$OCI/$src" "good-$src:v1"
	assert_eq 0 "$rc" "import $src"
	assert_contains "$err" "imported good-$src:v1" "import $src says what it stored"
	f=$(store_file "good-$src:v1")
	assert_eq "$expected" "$(listing_of "$f")" "$src: the flattened tree matches expected.txt file by file"
	assert_eq "$(grep -c '^# sha256' "$OCI/expected.txt")" "$(grep '^# sha256' "$OCI/expected.txt" |
		while read -r _ _ p h; do [ "$(sha256sum "$T/x/$p" | cut -d' ' -f1)" = "$h" ] && echo ok; done | wc -l)" \
		"$src: every file's content is right"
	assert_eq test-value "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.launch").decode())' \
		"$T/x/usr/bin/xattr-file" 2>&1)" "$src: the xattr user.launch survives"
	assert_eq "$(stat -c %i "$T/x/usr/bin/hard1")" "$(stat -c %i "$T/x/usr/bin/hard2")" "$src: hard1 and hard2 are one inode"
	for p in $(sed -n 's/^# absent //p' "$OCI/expected.txt"); do
		assert_true "$src: $p (whited out or hidden) is absent" test ! -e "$T/x/$p" -a ! -L "$T/x/$p"
	done
done
d1=$(store_digest good-good-oci:v1)
assert_match "$d1" '^sha256:[0-9a-f]{64}$' "inspect shows the digest"
for src in good-oci.tar good-docker.tar good-docker-oci.tar; do
	assert_eq "$d1" "$(store_digest "good-$src:v1")" "$src has the same digest as the OCI layout (the config's)"
done
assert_eq 1 "$(ls "$STORE/images" | wc -l)" "one squashfs file for the four imports"
li inspect good-good-oci:v1
assert_contains "$out" '"WorkingDir": "/opt"' "inspect shows the config's WorkingDir"
assert_contains "$out" '"org.example.fixture": "good"' "inspect shows the labels"
assert_contains "$out" '"User": "1000"' "inspect shows the User"
li run --no-home good-good-oci:v1
assert_eq 126 "$rc" "running the fixture reaches its Entrypoint (a #!/bin/sh script in an image without /bin/sh)"
assert_contains "$err" "/usr/bin/tool" "the Entrypoint is what was executed"

li run good-good-oci:v1
assert_eq 126 "$rc" "an image whose /home the user may not enter runs without the home directory"
assert_contains "$err" "your home directory is not mounted" "and says why"

say "# platforms"
li import --platform linux/arm64 "$OCI/good-oci" arm:1
assert_eq 0 "$rc" "import --platform linux/arm64"
listing_of "$(store_file arm:1)" >/dev/null
assert_eq arm64 "$(cat "$T/x/etc/image-marker")" "--platform linux/arm64 takes the arm64 image"
assert_eq amd64 "$(listing_of "$(store_file good-good-oci:v1)" >/dev/null; cat "$T/x/etc/image-marker")" \
	"the default is linux/amd64"
li import --platform linux/s390x "$OCI/good-oci" s390:1
assert_eq 125 "$rc" "a platform the index lacks is refused"
assert_contains "$err" "linux/arm64, linux/amd64" "and the error lists the platforms it has"

say "# rootfs tars and squashfs files, with a config from the command line"
li import --rootfs "$OCI/good-rootfs.tar.gz" rootfs:1
assert_eq 0 "$rc" "import --rootfs of a gzip tar"
exp_root=$(printf '%s\n' "$expected" | grep -v '^\.	')
assert_eq "$exp_root" "$(listing_of "$(store_file rootfs:1)" | grep -v '^\.	')" "the rootfs tree matches expected.txt"
li import --entrypoint "/bin/echo from-entrypoint" --cmd "default args" -e IMG_VAR=img -e PATH=/bin:/usr/bin \
	-w /etc "$SQFS" bb
assert_eq 0 "$rc" "import of a squashfs file with --entrypoint, --cmd, --env, --workdir"
assert_eq "$(sha256sum <"$SQFS" | cut -d' ' -f1)" "$(sha256sum <"$(store_file bb)" | cut -d' ' -f1)" \
	"the squashfs file is stored as it is"
tar -C "$DIRIMG" -cf "$T/bb.tar" . && chown "$TU_UID" "$T/bb.tar"
li import --rootfs "$T/bb.tar" bbdir
assert_eq 0 "$rc" "import --rootfs of the busybox tree (uncompressed tar)"

say "# launch run NAME: Entrypoint, Cmd, Env, WorkingDir"
li run bb
assert_eq "from-entrypoint default args" "$out" "no command: Entrypoint + Cmd"
li run bb one two
assert_eq "from-entrypoint one two" "$out" "a command replaces Cmd, after the Entrypoint"
li run --entrypoint "" bb id -u
assert_eq "$TU_UID" "$out" "--entrypoint '' runs the command alone"
li run --entrypoint /bin/pwd bb
assert_eq /etc "$out" "--entrypoint CMD replaces the Entrypoint, Cmd is dropped; the image's WorkingDir is /etc"
li run --entrypoint "" -w /tmp bb pwd
assert_eq /tmp "$out" "--workdir overrides the image's WorkingDir"
capture as_user env XDG_DATA_HOME="$DATA" HOSTVAR=h "$L" run --entrypoint "" -e IMG_VAR=cli bb sh -c 'echo "$IMG_VAR $HOSTVAR $PATH"'
assert_eq "cli h /bin:/usr/bin" "$out" "Env: the image's over the host's, --env over the image's"
li run --entrypoint "" bb:latest sh -c 'echo $IMG_VAR'
assert_eq img "$out" "NAME:latest is NAME"
short=$(store_digest bb | cut -c8-19)
li run --entrypoint "" "@$short" cat /etc/image-marker
assert_eq launch-test-image "$out" "launch run @DIGEST-PREFIX"
li run bbdir cat /etc/image-marker
assert_eq launch-test-image "$out" "the rootfs import runs"
li run no-such-image true
assert_eq 125 "$rc" "a missing name fails"
assert_contains "$err" "not found in your image store ($STORE)" "and names the store"
assert_contains "$err" "launch import" "and says how to add images"
assert_not_contains "$err" "did you mean" "and suggests nothing when no name is close"
li run bbdri true
assert_eq 125 "$rc" "a mistyped name fails"
assert_contains "$err" "image bbdri:latest not found" "and says so"
assert_contains "$err" "(did you mean \`bbdir:latest\`?" "and names the stored image it is close to"
li inspect rootfs:2
assert_contains "$err" "did you mean \`rootfs:1\`?" "inspect of a missing tag names another tag of the name"
li run "@0000" true
assert_eq 125 "$rc" "an unknown digest fails"

say "# images, tag, rmi"
li images
assert_match "$out" '^NAME +TAG +DIGEST +SIZE +CREATED$' "images prints the header"
assert_match "$out" "^bb +latest +$short +[0-9.]+[kMG]B +[0-9]+ seconds? ago$" "images lists bb with its short digest"
li images --format json
assert_contains "$out" "\"bb:latest\"" "images --format json"
json_tags() { python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert isinstance(a, list); print(" ".join(sorted(t for i in a for t in i["tags"])))' "$1" 2>&1; }
assert_contains "$(json_tags "$out")" "bb:latest bbdir:latest" "images --format json prints a JSON array of the images"
li tag bb lab/tool:2.0
assert_eq 0 "$rc" "tag bb lab/tool:2.0"
li run --entrypoint "" lab/tool:2.0 true
assert_eq 0 "$rc" "the new name runs"

say "# images REPOSITORY[:TAG], digest-pinned and long names, relative times"
li tag bb lab/tool:2.1
li tag bb lab/other:1
li images lab/tool
assert_eq 3 "$(printf '%s\n' "$out" | wc -l)" "images lab/tool: the header and its two tags"
assert_match "$out" "^lab/tool +2\.0 +$short " "images lab/tool lists lab/tool:2.0"
assert_match "$out" "^lab/tool +2\.1 +$short " "and lab/tool:2.1"
li images lab/tool:2.1
assert_eq "lab/tool 2.1" "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1, $2 }')" "images lab/tool:2.1: that tag only"
li images 'lab/*'
assert_eq "lab/other lab/tool lab/tool" "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"images 'lab/*': every name under lab/"
li images 'lab/tool:2.*'
assert_eq 3 "$(printf '%s\n' "$out" | wc -l)" "images 'lab/tool:2.*': wildcards in the tag"
li images lab
assert_eq 0 "$rc" "images of a name with no image succeeds"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "and prints the header alone (lab is not lab/tool)"
li images --format json lab/tool
assert_eq "bb:latest lab/other:1 lab/tool:2.0 lab/tool:2.1" "$(json_tags "$out")" \
	"images --format json lab/tool: the one image with a matching tag, all its tags"
li images lab/tool --format json
assert_eq "bb:latest lab/other:1 lab/tool:2.0 lab/tool:2.1" "$(json_tags "$out")" \
	"images lab/tool --format json: options may follow the name"
li images --format json nothing-here
assert_eq "[]" "$out" "images --format json with no match prints an empty array"
li images a b
assert_eq 125 "$rc" "images takes one REPOSITORY at most"
pin=sha256-$(printf '%064d' 42)
long=lab/a-name-longer-than-the-forty-characters-of-old/tool
li tag bb "pinned:$pin"
assert_eq 0 "$rc" "tag with the name an image pulled by digest gets"
li tag bb "$long:a-tag-longer-than-sixteen"
li images
assert_match "$out" "^pinned +<none> +$short +" "an image pulled by digest shows TAG <none> and its digest"
assert_not_contains "$out" "$pin" "its sha256-HEX tag is not printed"
assert_match "$out" "^$long +a-tag-longer-than-sixteen +$short " "a long name and tag are printed whole"
# every line has a digest (or the header's DIGEST) where the header has DIGEST
aligned=$(printf '%s\n' "$out" | awk 'NR == 1 { p = index($0, "DIGEST"); next }
	substr($0, p - 1, 13) !~ /^ [0-9a-f]+$/ { print "misaligned: " $0 }')
assert_eq "" "$aligned" "the columns stay aligned"
assert_match "$out" " 1 second ago$| [0-9]+ seconds ago$" "CREATED is in words, singular or plural"
# backdate SECONDS: the store's images entered it SECONDS ago
backdate() {
	python3 - "$STORE/index.json" "$1" <<'PY'
import json, sys, time
p, ago = sys.argv[1], int(sys.argv[2])
j = json.load(open(p))
for e in j["images"].values():
    e["created"] = int(time.time()) - ago
with open(p, "w") as f:
    json.dump(j, f)
PY
}
backdate 61
li images bb
assert_match "$out" "^bb +latest +$short +[0-9.]+[kMG]B +1 minute ago$" "61 seconds: 1 minute ago"
backdate 3600
li images bb
assert_match "$out" " 1 hour ago$" "an hour: 1 hour ago"
backdate $((3 * 86400 + 100))
li images bb
assert_match "$out" " 3 days ago$" "three days: 3 days ago"
li rmi "pinned:$pin" "$long:a-tag-longer-than-sixteen" lab/tool:2.1 lab/other:1
assert_eq 0 "$rc" "rmi of several tags"
li inspect lab/tol:2.0
assert_eq 125 "$rc" "inspect of a mistyped name fails"
assert_contains "$err" "did you mean \`lab/tool:2.0\`?" "and names the stored image it is close to"
li rmi bb
assert_eq 0 "$rc" "rmi bb"
assert_contains "$out" "untagged bb" "rmi says it untagged"
assert_true "the image stays while lab/tool:2.0 names it" test -f "$STORE/images/$(printf '%s' "$(store_digest lab/tool:2.0)" | cut -c8-).sqfs"
bbfile=$(store_file lab/tool:2.0)
li rmi lab/tool:2.0
assert_contains "$out" "image removed" "removing the last tag removes the image"
assert_true "its file is gone" test ! -e "$bbfile"
li rmi bb
assert_eq 125 "$rc" "rmi of a missing name fails"
li rmi "@$(store_digest rootfs:1 | cut -c8-20)"
assert_eq 0 "$rc" "rmi @DIGEST"
li inspect rootfs:1
assert_eq 125 "$rc" "the digest's image and tags are gone"
li tag nothing:1 x:1
assert_eq 125 "$rc" "tag of a missing image fails"
li import "$SQFS" "Bad Name"
assert_eq 125 "$rc" "an invalid name is refused"
assert_contains "$err" "invalid image name" "and says so"

say "# a site store: read-only, searched after the user's"
SITE=$T/site
mkdir -p "$SITE"
# made by the test user, then handed to root as an admin would
as_user env XDG_DATA_HOME="$T/sitedata" "$L" -q import --entrypoint "" "$SQFS" site/busybox:1 &&
	mv "$T/sitedata/launch"/* "$SITE/" && chmod -R a+rX,go-w "$SITE"
[ "$IS_ROOT" = 0 ] || chown -R 0:0 "$SITE"
printf '{ "site_stores": ["%s"] }\n' "$SITE" >"$T/site.json"
LAUNCH_CONFIG=$T/site.json
li run site/busybox:1 cat /etc/image-marker
assert_eq launch-test-image "$out" "an image of the site store runs"
li images
assert_match "$out" '^site/busybox +1 .*\(site\)$' "images lists it, marked (site)"
li rmi site/busybox:1
assert_eq 125 "$rc" "rmi of a site image is refused"
assert_contains "$err" "read-only" "and says the site store is read-only"
li import --entrypoint "/bin/echo mine" "$SQFS" site/busybox:1
li run site/busybox:1
assert_eq mine "$out" "the user's store is searched first"
unset LAUNCH_CONFIG

say "# hostile and broken sources: clear errors, nothing stored"
before=$(ls "$STORE/images" | sort)
while IFS='	' read -r name src want desc; do
	[ "$want" = OK ] && continue
	li import "$OCI/$src" "bad-$name"
	assert_eq 125 "$rc" "$name ($desc) is refused"
	assert_contains "$err" "$want" "$name: the error says [$want]"
	assert_not_contains "$err" "unknown error" "$name: the error is specific"
done <"$OCI/cases.txt"
li import "$OCI/dup-dir" dup
assert_eq 0 "$rc" "a layer listing a directory twice is fine"
li rmi dup
assert_eq "$before" "$(ls "$STORE/images" | sort)" "the refused imports stored no image"
assert_true "and left no temporary file" store_clean
li images
assert_not_contains "$out" "bad-" "launch images shows none of them"
printf 'not a tar' | user_file "$T/junk"
li import "$T/junk" junk
assert_eq 125 "$rc" "a file that is no archive is refused"
li import "$T/nonexistent" junk
assert_eq 125 "$rc" "a missing source is refused"
assert_contains "$err" "$T/nonexistent" "and named"

say "# Debian bookworm minbase: one and three layers, OCI and docker-archive, file by file"
for src in debian-oci debian-docker.tar debian-layers-oci debian-layers-oci.tar debian-layers-docker.tar; do
	case $src in
	*layers*) list=$DEB/debian-layers.list ;;
	*) list=$DEB/debian.list ;;
	esac
	li import "$DEB/$src" "deb-$src"
	assert_eq 0 "$rc" "import $src"
	listing_of "$(store_file "deb-$src")" >"$T/got.list"
	if ! assert_true "$src: every path has the owner, mode, type and size of $(basename "$list")" cmp -s "$list" "$T/got.list"; then
		diff "$list" "$T/got.list" | head -n 10
	fi
done
assert_match "$(grep -P '^var/cache/apt/archives/partial\t' "$T/got.list")" '	d	0700	42	0	' \
	"/var/cache/apt/archives/partial belongs to _apt (42)"
assert_match "$(grep -P '^usr/bin/passwd\t' "$T/got.list")" '	f	4755	0	0	' "/usr/bin/passwd is setuid root"
li run deb-debian-layers-oci sh -c 'cat /etc/launch-layer3; test -e /etc/motd || echo no-motd; . /etc/os-release; echo $VERSION_CODENAME'
assert_eq "layer3
no-motd
bookworm" "$out" "the three-layer image runs: layer 3's file, layer 3's whiteout"

say "# eight concurrent imports of one name"
pids=
for i in 1 2 3 4 5 6 7 8; do
	as_user env XDG_DATA_HOME="$DATA" "$L" -q import "$DEB/debian-oci" conc:1 >"$T/conc.$i" 2>&1 &
	pids="$pids $!"
done
ok=0
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
assert_eq 8 "$ok" "all eight succeed"
li images
assert_eq 1 "$(printf '%s\n' "$out" | grep -c '^conc ')" "one image named conc:1"
assert_true "python3 reads the index as JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$STORE/index.json"
assert_true "no temporary file is left" store_clean
li run conc:1 cat /etc/debian_version
assert_eq 0 "$rc" "the image runs"

say "# an import killed with SIGKILL leaves the store valid"
before=$(ls "$STORE/images" | sort)
# zstd:19 keeps tar2sqfs busy for many seconds: the kill lands mid-import
as_user_bg "$T/kill.pid" env XDG_DATA_HOME="$DATA" "$L" -q import --compressor zstd:19 "$DEB/debian-layers-docker.tar" killed:1
wait_until 20 sh -c "ls -A '$STORE/tmp' | grep -q ." || fail "the import did not start writing"
sleep 1
kill -KILL "$BG_PID"
wait_exit "$BG" 10
assert_eq 137 "$rc" "the import was killed"
assert_true "tar2sqfs dies with it" wait_until 5 sh -c '! pgrep -u '"$TU_UID"' -x tar2sqfs >/dev/null'
li images
assert_not_contains "$out" killed "the killed import is not in the store"
assert_true "the next command removed its temporary file" store_clean
assert_eq "$before" "$(ls "$STORE/images" | sort)" "and no image file was added"

say "# progress on a terminal, quiet otherwise"
li import "$OCI/good-oci" quiet:1
assert_eq "imported quiet:1 ($(printf %.19s "$d1"))" "$err" "without a terminal: only the result line"
sock=$T/tmux.sock
on_exit "as_user tmux -S '$sock' kill-server"
as_user env TERM=xterm tmux -S "$sock" new-session -d -s p -x 150 -y 10 \
	"env XDG_DATA_HOME=$DATA $L import --compressor zstd:15 $DEB/debian-layers-docker.tar prog:1; sleep 120"
seen=no
for _ in $(seq 1 100); do
	if as_user tmux -S "$sock" capture-pane -p -t p 2>/dev/null | grep -Eq 'importing: layer [0-9] of 3: .* of .*%'; then
		seen=yes
		break
	fi
	sleep 0.1
done
assert_eq yes "$seen" "on a terminal, progress shows the layer, the bytes and the percentage"
pane_done() { as_user tmux -S "$sock" capture-pane -p -t p | grep -q 'imported prog:1'; }
assert_true "the import on the terminal completes" wait_until 60 pane_done ||
	as_user tmux -S "$sock" capture-pane -p -t p | sed -e '/^$/d' -e 's/^/  | /'
as_user tmux -S "$sock" kill-server 2>/dev/null
assert_clean "image commands"
finish
