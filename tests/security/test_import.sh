#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# launch import of sources that another user wrote into a shared directory
# (the attacker plants them in the 1777 $SHARED, the victim imports them):
# FIFOs where blobs belong, descriptors with sizes of the wrong type,
# whiteouts of an empty name, symlinks too long to read back (and the
# longest one that is not, read back inside launch run), hardlinks whose
# target libarchive cannot read, file names that are not UTF-8 (kept byte
# for byte); then a store on a full file system: the import says the disk
# is full and where to make room (so does a commit, whose layer's reader
# ends when the commit stops reading), and launch rmi frees space there; and an
# index entry whose image file is gone (a removal killed half-way) reads
# as removed.
FIXTURES=$(cd "$(dirname "$0")/../fixtures" && pwd) # (lib.sh changes directory)
. "$(dirname "$0")/../integration/lib.sh"
require_userns
require_fuse
require_cmd tar2sqfs sqfs2tar python3 timeout mkfifo
require_root "mounting a small tmpfs for the full-disk checks"
require_shared_tmp

OCI=$LAUNCH_TEST_IMAGES/oci
[ -f "$OCI/cases.txt" ] || skip "OCI fixtures missing in $OCI (the oci_fixtures test makes them with tests/fixtures/mkoci.py)"

# A store of the victim's own; every command has a deadline, since a hang is
# one of the failures checked.
DATA=$T/data
user_dir "$DATA"
STORE=$DATA/launch
li() { capture as_user env XDG_DATA_HOME="$DATA" timeout -k 5 60 "$L" "$@"; }
store_file() { as_user env XDG_DATA_HOME="$DATA" "$L" inspect "$1" | sed -n 's/^ *"file": "\(.*\)",$/\1/p'; }
# store_clean DIR: no temporary left in store DIR
store_clean() { [ -z "$(ls -A "$1/tmp" 2>/dev/null)" ]; }

# The hostile sources, made by the attacker with mkoci.py's helpers.
FX=$T/fx
mkdir "$FX" && cp "$FIXTURES/mkoci.py" "$FX/" && chmod -R a+rX "$FX" || die "cannot copy mkoci.py"
cat >"$FX/mkhostile.py" <<'EOF'
import io, os, sys, tarfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkoci import *  # noqa: F401,F403 (Layout, tar_bytes, BASE, f, l, h, ...)

out, busybox = sys.argv[1], sys.argv[2]

def layout(name, layers):
    lay = Layout(os.path.join(out, name))
    lay.index([lay.image(layers, fixture="bad")])
    return lay

def raw_tar(entries):
    """BASE, then raw header blocks, then the end of the archive."""
    t = b"".join(e.tarinfo().tobuf(tarfile.PAX_FORMAT) + (e.data + b"\0" * (-len(e.data) % 512) if e.kind == "f"
                                                           else b"") for e in BASE)
    t += b"".join(entries) + b"\0" * 1024
    return t + b"\0" * (-len(t) % 10240)

def pax_record(key, value):
    rec = b" " + key + b"=" + value + b"\n"
    n = len(rec) + 1
    while len(str(n).encode() + rec) != n:
        n = len(str(n).encode() + rec)
    return str(n).encode() + rec

def header(name, typ, link=b"", data=b"", pax=None):
    """A ustar header with raw NAME and LINK bytes (GNU tar writes names so),
    after a pax header of PAX records when given."""
    out = b""
    if pax:
        recs = b"".join(pax_record(k, v) for k, v in pax)
        out += header(b"PaxHeaders/x", tarfile.XHDTYPE, data=recs)
    ti = tarfile.TarInfo("x")
    ti.type, ti.size, ti.mode, ti.mtime = typ, len(data), 0o644, MTIME
    b = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
    b[0:100] = name.ljust(100, b"\0")
    b[157:257] = link.ljust(100, b"\0")
    b[148:156] = b" " * 8
    b[148:155] = b"%06o\0" % sum(b)
    return out + bytes(b) + data + b"\0" * (-len(data) % 512)

def busybox_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.add(busybox, arcname=".")
    return buf.getvalue()

def target(n):
    """An absolute symlink target of N bytes (components under NAME_MAX)."""
    t = ("/" + "t" * 250) * (n // 251 + 1)
    return t[:n - 1] + "z"

# 6: FIFOs where files belong (made FIFOs by the shell afterwards)
for name in ("fifo-blob", "fifo-index", "fifo-link"):
    layout(name, [(tar_bytes(BASE), "gzip")])

# 7: descriptors whose size (or media type) has the wrong type
def typed(name, layer=None, manifest=None, config=None, layer_mt=None):
    lay = Layout(os.path.join(out, name))
    t = tar_bytes(BASE)
    ldesc = lay.blob(compress(t, "gzip"), MT_LAYER["gzip"])
    cfg = lay.blob(image_config("amd64", [sha(t)], "bad"), MT_CONFIG)
    if layer is not None:
        ldesc["size"] = layer
    if layer_mt is not None:
        ldesc["mediaType"] = layer_mt
    if config is not None:
        cfg["size"] = config
    m = lay.manifest(cfg, [ldesc])
    if manifest is not None:
        m["size"] = manifest
    lay.index([m])
typed("size-manifest-string", manifest="12")
typed("size-manifest-negative", manifest=-1)
typed("size-manifest-real", manifest=1.5)
typed("size-layer-string", layer="12")
typed("size-layer-negative", layer=-1)
typed("size-layer-real", layer=1.5)
typed("size-config-string", config="12")
typed("mediatype-layer-number", layer_mt=5)

# 8a: whiteouts of an empty name over a lower layer
for name, wh in (("wh-empty", ".wh."), ("wh-dot-empty", "./.wh."), ("wh-dot", "etc/.wh..")):
    layout(name, [(tar_bytes(BASE + [f("etc/keep", b"kept\n")]), "gzip"), (tar_bytes([f(wh)]), "gzip")])

# 8b, 8c: the longest symlink target that can be read back, and names that
# are not UTF-8 (pax hdrcharset=BINARY as Python writes them, a raw pax path
# as Go writes it, a raw ustar name as GNU tar writes it), over busybox
open(os.path.join(out, "long-target"), "w").write(target(4095))
layout("bytes", [(busybox_tar(), "gzip"),
                 (tar_bytes([l("l4095", target(4095)), f("caf\udcff", b"latin\n"), l("lnk\udcfd", "caf\udcff")]),
                  "gzip"),
                 (raw_tar([header(b"x", tarfile.REGTYPE, data=b"go\n", pax=[(b"path", b"go\xfe")]),
                           header(b"gnu\xfc", tarfile.REGTYPE, data=b"gnu\n")]), "gzip")])
layout("busybox", [(busybox_tar(), "gzip")])
layout("symlink-4096", [(tar_bytes(BASE + [l("l", target(4096))]), "gzip")])
layout("symlink-10000", [(tar_bytes(BASE + [l("l", target(10000))]), "gzip")])
layout("symlink-empty", [(raw_tar([header(b"evil", tarfile.SYMTYPE, pax=[(b"linkpath", b"")])]), "gzip")])

# 8d: a hardlink whose target is only in a pax linkpath (an empty ustar
# link name), absolute; and the same with the ustar link name set
layout("hardlink-pax-abs", [(raw_tar([header(b"evil", tarfile.LNKTYPE, pax=[(b"linkpath", b"/etc/hostname")])]),
                             "gzip")])
layout("hardlink-abs", [(raw_tar([header(b"evil", tarfile.LNKTYPE, link=b"/etc/hostname")]), "gzip")])
EOF
as_user2 python3 "$FX/mkhostile.py" "$SHARED" "$DIRIMG" || die "mkhostile.py failed"
# blob_of LAYOUT: the file of its first layer
blob_of() {
	python3 -c 'import json, sys, os
r = sys.argv[1]
m = json.load(open(r + "/index.json"))["manifests"][0]["digest"][7:]
print(r + "/blobs/sha256/" + json.load(open(r + "/blobs/sha256/" + m))["layers"][0]["digest"][7:])' "$1"
}
blob=$(blob_of "$SHARED/fifo-blob")
as_user2 sh -c "rm '$blob' && mkfifo -m 0666 '$blob'" || die "cannot make a FIFO"
as_user2 sh -c "rm '$SHARED/fifo-index/index.json' && mkfifo -m 0666 '$SHARED/fifo-index/index.json'" || die "mkfifo"
linkblob=$(blob_of "$SHARED/fifo-link")
as_user2 sh -c "rm '$linkblob' && mkfifo -m 0666 '$SHARED/fifo-link/pipe' && ln -s ../../pipe '$linkblob'" || die "mkfifo"
as_user2 mkfifo -m 0666 "$SHARED/fifo.tar" || die "mkfifo"

say "# FIFOs in a source: refused at once, naming the file"
li import "$SHARED/fifo-blob" fifo:1
assert_eq 125 "$rc" "a layout whose layer blob is a FIFO is refused (no hang)"
assert_contains "$err" "$blob: it is a FIFO, not a regular file" "and the message names the blob"
li import "$SHARED/fifo-index" fifo:2
assert_eq 125 "$rc" "a layout whose index.json is a FIFO is refused"
assert_contains "$err" "$SHARED/fifo-index/index.json: it is a FIFO" "and the message names index.json"
li import "$SHARED/fifo-link" fifo:3
assert_eq 125 "$rc" "a blob that is a symlink to a FIFO in the layout is refused"
assert_contains "$err" "$linkblob: it is a FIFO" "and the message names the blob"
li import "$SHARED/fifo.tar" fifo:4
assert_eq 125 "$rc" "a source that is a FIFO is refused"
assert_contains "$err" "$SHARED/fifo.tar: it is a FIFO, not a regular file" "and named"
li import --rootfs "$SHARED/fifo.tar" fifo:5
assert_eq 125 "$rc" "a --rootfs source that is a FIFO is refused"
assert_contains "$err" "$SHARED/fifo.tar: it is a FIFO" "and named"

say "# descriptor fields of the wrong type"
for c in size-manifest-string:index.json:'a string' size-manifest-negative:index.json:'-1' \
	size-manifest-real:index.json:'a number' size-layer-string:'manifest layer 1':'a string' \
	size-layer-negative:'manifest layer 1':'-1' size-layer-real:'manifest layer 1':'a number' \
	size-config-string:'manifest config':'a string'; do
	name=${c%%:*}
	rest=${c#*:}
	li import "$SHARED/$name" "$name"
	assert_eq 125 "$rc" "$name is refused"
	assert_contains "$err" "\"size\" must be a non-negative integer (bytes), not ${rest#*:}" "$name: the message names the field and its type"
	assert_contains "$err" "${rest%%:*}" "$name: and the descriptor"
done
li import "$SHARED/mediatype-layer-number" mt
assert_eq 125 "$rc" "a layer whose mediaType is a number is refused"
assert_contains "$err" "\"mediaType\" must be a string, not an integer" "and the message names the field"

say "# whiteouts of an empty name"
for c in wh-empty:.wh. wh-dot-empty:./.wh. wh-dot:etc/.wh..; do
	li import "$SHARED/${c%%:*}" "${c%%:*}"
	assert_eq 125 "$rc" "${c%%:*} is refused (not taken to delete the whole lower layer)"
	assert_contains "$err" "layer 2: entry \`${c#*:}\` is a whiteout without a name" "${c%%:*}: the message names the layer and the entry"
done

say "# symlink targets: the longest that can be read back, and one byte more"
li import "$SHARED/bytes" bytes
assert_eq 0 "$rc" "an image with a 4095-byte symlink target and names that are not UTF-8 imports"
li run --entrypoint "" bytes readlink /l4095
assert_eq "$(cat "$SHARED/long-target")" "$out" "readlink in launch run gives the 4095-byte target back"
li import "$SHARED/symlink-4096" sl4096
assert_eq 125 "$rc" "a 4096-byte symlink target is refused at import"
assert_contains "$err" "layer 1: symlink l has a target of 4096 bytes" "and the message names the layer, the entry and the size"
assert_contains "$err" "more than the 4095 bytes a symlink can hold" "and the limit"
li import "$SHARED/symlink-10000" sl10000
assert_eq 125 "$rc" "a 10000-byte symlink target is refused at import"
assert_contains "$err" "target of 10000 bytes" "and the message says how long"
li import "$SHARED/symlink-empty" slempty
assert_eq 125 "$rc" "a symlink with an empty target is refused"
assert_contains "$err" "layer 1: symlink evil has an empty target" "and named"

say "# names that are not UTF-8, byte for byte"
# busybox's ls shows a byte it cannot print as "?"; the shell's glob gives
# the names as they are
li run --entrypoint "" bytes sh -c 'ls /; for f in /*; do echo "$f"; done'
for n in caf lnk go gnu; do
	assert_match "$out" "^$n\\?\$" "ls / in launch run shows $n? (a name that is not UTF-8)"
done
for n in '/caf\377' '/lnk\375' '/go\376' '/gnu\374'; do
	assert_true "the name is $n, byte for byte" sh -c 'printf "%s\n" "$1" | LC_ALL=C grep -qxF "$(printf "$2")"' sh "$out" "$n"
done
li run --entrypoint "" bytes sh -c 'cat /caf*; readlink /lnk*'
assert_eq "latin
$(printf 'caf\377')" "$out" "the file's content and a symlink to it, by their byte names"

say "# hardlinks: a target only in a pax linkpath, an absolute target"
li import "$SHARED/hardlink-pax-abs" hlpax
assert_eq 125 "$rc" "a hardlink whose target is only in a pax linkpath is refused"
assert_contains "$err" "layer 1: entry evil is a hardlink without a target that can be read" "the message names the entry and why"
assert_not_contains "$err" "cannot archive" "not the writer's message about a file mode"
li import "$SHARED/hardlink-abs" hlabs
assert_eq 125 "$rc" "a hardlink to an absolute target is refused"
assert_contains "$err" "layer 1: hardlink evil -> /etc/hostname: the target is outside the image (an absolute path" \
	"the message names the entry, its target and why"
li images
for n in fifo size mediatype wh- sl hl; do
	assert_not_contains "$out" "$n" "no refused import ($n...) is in the store"
done
assert_true "and none left a temporary file" store_clean "$STORE"

say "# an index entry whose image file is gone reads as removed"
li import "$OCI/good-oci" gone:1
assert_eq 0 "$rc" "import gone:1"
gfile=$(store_file gone:1)
gdigest=$(basename "$gfile" .sqfs)
as_user rm "$gfile"
li run gone:1 true
assert_eq 125 "$rc" "running it fails"
assert_contains "$err" "image gone:1 not found" "as a missing image"
assert_not_contains "$err" "damaged" "not as a damaged store"
li images
assert_eq 0 "$rc" "launch images works"
assert_not_contains "$out" "gone" "and does not list it"
assert_true "the next writer dropped the entry and its tag from the index" sh -c "! grep -q '$gdigest\|gone:1' '$STORE/index.json'"
li import "$OCI/good-oci" gone:1
assert_eq 0 "$rc" "the image can be imported again"
assert_true "its file is back" test -f "$gfile"

# full_disk_checks: a store on the tmpfs $FULL
full_disk_checks() {
	chown "$TU_UID:$TU_GID" "$FULL"
	FSTORE=$FULL/launch
	lf import "$OCI/good-oci" keep:1
	assert_eq 0 "$rc" "an image fits"
	kfile=$(as_user env XDG_DATA_HOME="$FULL" "$L" inspect keep:1 | sed -n 's/^ *"file": "\(.*\)",$/\1/p')
	assert_true "its file is in the small store" test -f "$kfile"
	# changes larger than a pipe holds, for a commit
	user_dir "$T/big"
	lf run --overlay "$T/big" "$SQFS" sh -c 'head -c 1048576 /dev/urandom >/big'
	assert_eq 0 "$rc" "a writable layer of 1 MiB"
	as_user dd if=/dev/zero of="$FULL/filler" bs=64k >/dev/null 2>&1
	assert_eq 0 "$(stat -f -c %a "$FULL")" "the file system is full"
	lf import "$SHARED/busybox" full:1
	assert_eq 125 "$rc" "an import into the full store fails"
	assert_contains "$err" "No space left on device" "the error says the disk is full"
	assert_contains "$err" "free space in $FSTORE" "and where to make room"
	assert_not_contains "$err" "Write error" "not the stream's bare Write error"
	lf import "$SQFS" full:2
	assert_eq 125 "$rc" "so does the import of a squashfs file"
	assert_contains "$err" "No space left on device" "and says why"
	# the layer's reader, blocked on a full pipe, must see the commit stop
	# reading (EPIPE) and end, and the commit keep its own error
	lf commit --overlay "$T/big" "$SQFS" full:3
	assert_eq 125 "$rc" "so does a commit (it does not hang)"
	assert_contains "$err" "No space left on device (free space in $FSTORE" "and says why"
	assert_not_contains "$err" "writable layer" "not what its layer's reader met"
	lf tag keep:1 keep:2
	assert_eq 125 "$rc" "a tag cannot be written on the full disk"
	assert_contains "$err" "cannot write image store index" "the error says what"
	assert_contains "$err" "No space left on device (free space in $FSTORE" "why, and where to make room"
	assert_true "the failed commands left no temporary file" store_clean "$FSTORE"
	before=$(stat -f -c %a "$FULL")
	lf rmi keep:1
	assert_eq 0 "$rc" "launch rmi works on the full disk"
	assert_contains "$out" "untagged keep:1 (image removed)" "and says the image went"
	assert_true "its file is gone" test ! -e "$kfile"
	assert_true "and its space is free" test "$(stat -f -c %a "$FULL")" -gt "$before"
	assert_true "the index no longer names it" sh -c "! grep -q 'keep:1\|$(basename "$kfile" .sqfs)' '$FSTORE/index.json'"
	lf images
	assert_eq 0 "$rc" "launch images works"
	assert_not_contains "$out" "keep" "and lists no keep"
	as_user rm -f "$FULL/filler"
	lf import "$OCI/good-oci" keep:1
	assert_eq 0 "$rc" "with space again, the store takes the image back"
}
lf() { capture as_user env XDG_DATA_HOME="$FULL" timeout -k 5 120 "$L" "$@"; }

say "# a full disk: the import says so, launch rmi frees space"
FULL=$T/full
mkdir "$FULL" || die "cannot create $FULL"
if mount -t tmpfs -o size=3m,mode=0755 tmpfs "$FULL"; then
	on_exit "umount -l '$FULL'"
	full_disk_checks
	umount "$FULL"
elif [ "${LAUNCH_TEST_MUST_WORK:-0}" = 1 ]; then
	fail "cannot mount a tmpfs on $FULL for the full-disk checks"
else
	say "SKIP: the full-disk checks (cannot mount a tmpfs on $FULL)"
fi
assert_clean "imports of hostile sources"
finish
