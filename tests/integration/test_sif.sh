#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Apptainer SIF files (made by tests/fixtures/mksif.py to the SIF
# specification) as the unprivileged user: launch run mounts the primary
# partition in place (the SIF file itself, at its offset, nothing copied),
# takes the environment of /.singularity.d/env/*.sh and, without a command,
# the runscript; signed SIFs run (-v says signatures are not verified); a
# SIF with two partitions runs its primary one; encrypted, ext3, damaged,
# old-format SIFs and SIFs without a primary partition fail clearly;
# launch import stores one, launch inspect shows its labels and definition
# file, launch export writes its partition, launch commit works over one.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
require_cmd python3

SIF=$LAUNCH_TEST_IMAGES/sif
[ -f "$SIF/plain.sif" ] || skip "SIF fixtures missing in $SIF (the sif_fixtures test makes them with tests/fixtures/mksif.py)"

DATA=$T/data
RUN=$T/xdg
user_dir "$DATA" "$RUN"
chmod 0700 "$RUN"
li() { capture as_user env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" "$@"; }
json() { printf '%s' "$out" | python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$@"; }

say "# launch run FILE.sif: the primary partition, in place"
li run --no-home "$SIF/plain.sif" cat /etc/image-marker
assert_eq 0 "$rc" "a SIF file runs"
assert_eq launch-test-sif "$out" "from its primary partition"
assert_true "nothing was copied into a store" test ! -e "$DATA/launch"
as_user_bg "$T/run.pid" env XDG_DATA_HOME="$DATA" XDG_RUNTIME_DIR="$RUN" "$L" run --no-home "$SIF/plain.sif" sleep 60
sif_open() { ls -l "/proc/$BG_PID/fd" 2>/dev/null | grep -q " -> $SIF/plain.sif\$"; }
assert_true "launch serves the SIF file itself" wait_until 20 sif_open
kill -TERM "$BG_PID"
wait_exit "$BG" 20

say "# the environment of /.singularity.d/env and the runscript"
li run --no-home "$SIF/plain.sif" sh -c 'echo "$FROM_DOCKER|$FROM_DEFFILE|$GREETING|$WITH_REF|$SIF_DEFAULTED"'
assert_eq "docker value|yes|hello world|docker value and more|from default" "$out" \
	"export K=V, K=V then export K, quotes, \$REF and \${K:-default} are taken"
li run --no-home "$SIF/plain.sif" sh -c 'echo "${NOT_TAKEN-unset}|${FROM_README-unset}|$PATH"'
assert_eq "unset|unset|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$out" \
	"code inside an if and files not named *.sh are not taken; PATH from 10-docker2singularity.sh"
li run --no-home --env GREETING=mine "$SIF/plain.sif" sh -c 'echo "$GREETING"'
assert_eq mine "$out" "--env wins over the image's environment, as over any image's Env"
li run --no-home "$SIF/plain.sif"
assert_eq "runscript ran with: " "$out" "without a command, the runscript runs"
li run --no-home "$SIF/plain.sif" /.singularity.d/runscript a b
assert_eq "runscript ran with: a b" "$out" "and takes arguments when named"
li run --no-home "$SIF/plain.sif" echo given
assert_eq given "$out" "a command given replaces the runscript"

say "# signed, two partitions"
li -v run --no-home "$SIF/signed.sif" cat /etc/image-marker
assert_eq 0 "$rc" "a signed SIF runs"
assert_eq launch-test-sif "$out" "its primary partition"
assert_contains "$err" "launch does not verify SIF signatures" "-v says the signature is not verified"
li run --no-home "$SIF/signed.sif" true
assert_not_contains "$err" "signature" "without -v, nothing is said"
li run --no-home "$SIF/two-parts.sif" sh -c 'cat /etc/image-marker; test -e /data-marker || echo no-data'
assert_eq "launch-test-sif
no-data" "$out" "a SIF with a data partition first runs its primary partition"

say "# SIF files launch cannot run: clear errors"
check_refused() {
	li run --no-home "$SIF/$1" true
	assert_eq 125 "$rc" "$1 is refused"
	assert_contains "$err" "$2" "$1: $3"
}
check_refused encrypted.sif "is encrypted: launch cannot run encrypted images" "says it is encrypted"
check_refused ext3.sif "its primary partition is ext3, not squashfs" "names the file system"
check_refused no-primary.sif "has no primary system partition" "says there is no primary partition"
check_refused v00.sif 'has format version "00": launch reads version 01' "names the version"
check_refused truncated.sif "lies outside the file (is it truncated?)" "says it is damaged"

say "# launch import, inspect, export"
li import "$SIF/signed.sif" sifimg:1
assert_eq 0 "$rc" "launch import of a SIF file"
li run --no-home sifimg:1
assert_eq "runscript ran with: " "$out" "the stored image runs the runscript"
li run --no-home sifimg:1 sh -c 'echo "$GREETING"'
assert_eq "hello world" "$out" "and has the environment"
li inspect sifimg:1
assert_eq sif "$(json labels org.example.fixture)" "inspect shows the SIF's labels"
assert_eq sif "$(json config Labels org.example.fixture)" "as the config's Labels too"
assert_contains "$(json definition)" "Bootstrap: docker" "inspect shows the definition file"
assert_eq true "$(json signed)" "and that it is signed"
assert_eq linux/amd64 "$(json platform)" "and its platform"
li inspect "$SIF/plain.sif"
assert_eq sif "$(json format)" "inspect FILE.sif describes the file"
assert_eq 32768 "$(json partition offset)" "with its partition's offset"
assert_eq sif "$(json labels org.example.fixture)" "its labels"
assert_contains "$(json definition)" "%runscript" "its definition file"
assert_eq '["/.singularity.d/runscript"]' "$(json config Cmd)" "and the runscript as Cmd"
li inspect "$SIF/two-parts.sif"
assert_eq 2 "$(json partition partitions)" "inspect counts the partitions"
li export "$SIF/plain.sif" "$T/part.sqfs"
assert_eq 0 "$rc" "export of a SIF file"
assert_true "writes its primary partition, byte for byte" cmp -s "$T/part.sqfs" "$SIF/rootfs.sqfs"
li export --format docker-archive "$SIF/plain.sif" "$T/sif-docker.tar"
assert_eq 0 "$rc" "export of a SIF file as a docker-archive"
li import "$T/sif-docker.tar" fromsif:1
li run --no-home fromsif:1
assert_eq "runscript ran with: " "$out" "which runs the runscript after a round trip"
OV=$T/ov
user_dir "$OV"
li run --no-home --overlay "$OV" "$SIF/plain.sif" sh -c 'echo added >/added'
assert_eq 0 "$rc" "a writable run over a SIF file"
li commit --overlay "$OV" "$SIF/plain.sif" committed:1
assert_eq 0 "$rc" "launch commit over a SIF file"
li run --no-home committed:1 cat /added /etc/image-marker
assert_eq "added
launch-test-sif" "$out" "the committed image has the change over the partition"
li run --no-home committed:1
assert_eq "runscript ran with: " "$out" "and keeps the runscript"
li import "$SIF/encrypted.sif" nope:1
assert_eq 125 "$rc" "an encrypted SIF is not imported"
assert_contains "$err" "is encrypted" "and the import says why"
li images
assert_not_contains "$out" "nope" "nothing was stored"

assert_clean "sif"
finish
