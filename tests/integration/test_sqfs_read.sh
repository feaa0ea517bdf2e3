#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the squashfs server shows of an image, against the tree it was made
# from: hard links (one st_ino), symlinks, a fifo and a device node, xattrs,
# reads at unaligned offsets across block boundaries and larger than one
# FUSE read, a sparse file, a directory of thousands of entries (readdir
# continued from its offsets), statfs.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse
command -v mksquashfs >/dev/null || skip "mksquashfs not found (apt-get install squashfs-tools)"
P=${LAUNCH_TEST_HELPERS:-}/test_fsprobe
[ -x "$P" ] || die "LAUNCH_TEST_HELPERS/test_fsprobe is missing (built with the tests)"
# The image has no libraries: the probe must be static (a sanitizer build's
# is not; LAUNCH_TEST_HELPERS may name another build's).
file -L "$P" | grep -q 'statically linked' ||
	skip "$P is not statically linked (a sanitizer build): set LAUNCH_TEST_HELPERS to another build's tests/"

# The fixture: the busybox image (a shell), the probe, and /t.
R=$T/root
cp -a "$DIRIMG" "$R" || die "cannot copy $DIRIMG"
cp "$P" "$R/bin/fsprobe"
mkdir "$R/t" "$R/t/many"
head -c 3500000 /dev/urandom >"$R/t/big"
seq 1 200000 >"$R/t/text"
printf 'one\n' >"$R/t/data1"
ln "$R/t/data1" "$R/t/link1"
ln -s data1 "$R/t/sym"
mkfifo "$R/t/fifo"
truncate -s 64M "$R/t/sparse"
printf 'middle' | dd of="$R/t/sparse" bs=1 seek=10485760 conv=notrunc 2>/dev/null
printf 'end' | dd of="$R/t/sparse" bs=1 seek=67108861 conv=notrunc 2>/dev/null
"$P" setxattr "$R/t/data1" user.launch hello || die "cannot set an xattr in $R (the file system of $T needs user xattrs)"
"$P" setxattr "$R/t/data1" user.second "two words"
i=0
while [ $i -lt 3000 ]; do
	: >"$R/t/many/entry-$i"
	i=$((i + 1))
done
chmod -R a+rX "$R"
mksquashfs "$R" "$T/img.sqfs" -noappend -quiet -no-progress -comp zstd -p 't/null2 c 0666 0 0 1 3' >/dev/null ||
	die "mksquashfs failed"
chmod 0644 "$T/img.sqfs"
IMG=$T/img.sqfs

say "# hard links, symlink, fifo, device node"
assert_status 0 as_user "$L" run "$IMG" fsprobe stat /t/data1 /t/link1
ino1=$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f1)
ino2=$(printf '%s\n' "$out" | sed -n 2p | cut -d' ' -f1)
assert_eq "$ino1" "$ino2" "two hard links to one file show one st_ino"
assert_eq "2" "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f2)" "a file with two hard links has st_nlink 2"
assert_status 0 as_user "$L" run "$IMG" readlink /t/sym
assert_eq data1 "$out" "a symlink reads back its target"
assert_status 0 as_user "$L" run "$IMG" cat /t/sym
assert_eq one "$out" "a symlink is followed"
assert_status 0 as_user "$L" run "$IMG" fsprobe stat /t/sym /t/fifo /t/null2
assert_eq "120777 0,0 5" "$(printf '%s\n' "$out" | sed -n 1p | cut -d' ' -f3-5)" "a symlink: mode and size"
assert_eq "10644 0,0" "$(printf '%s\n' "$out" | sed -n 2p | cut -d' ' -f3-4)" "a fifo: mode"
assert_eq "20666 1,3" "$(printf '%s\n' "$out" | sed -n 3p | cut -d' ' -f3-4)" "a character device: mode and rdev"

say "# xattrs"
assert_status 0 as_user "$L" run "$IMG" fsprobe xattr /t/data1
assert_eq "user.launch=hello
user.second=two words" "$(printf '%s\n' "$out" | sort)" "listxattr and getxattr give the file's xattrs"
assert_status 0 as_user "$L" run "$IMG" fsprobe xattr /t/big
assert_eq "" "$out" "a file without xattrs lists none"

say "# reads at unaligned offsets, across blocks, larger than one FUSE read"
for range in "0 10" "131071 3" "131000 300000" "262143 1048577" "1000001 2499999" "3499990 100" "3500000 10"; do
	# shellcheck disable=SC2086
	want=$("$P" pread "$R/t/big" $range | md5sum | cut -d' ' -f1)
	# shellcheck disable=SC2086
	assert_status 0 as_user "$L" run "$IMG" sh -c "fsprobe pread /t/big $range | md5sum"
	assert_eq "$want" "$(printf '%s' "$out" | cut -d' ' -f1)" "bytes $range of a 3.5 MB file"
done
assert_status 0 as_user "$L" run "$IMG" sh -c 'md5sum /t/big /t/text /t/sparse'
assert_eq "$(cd "$R" && md5sum t/big t/text t/sparse | sed 's| t/| /t/|')" "$out" \
	"whole files, a sparse one of 64 MiB among them, read the same"
assert_status 0 as_user "$L" run "$IMG" sh -c 'fsprobe pread /t/sparse 10485750 30 | od -An -c | tr -s " "'
assert_eq "$("$P" pread "$R/t/sparse" 10485750 30 | od -An -c | tr -s ' ')" "$out" "the data inside a hole-filled file"
assert_status 0 as_user "$L" run "$IMG" sh -c 'for i in 1 2 3 4 5 6; do md5sum /t/big & done; wait'
assert_eq "6 $(md5sum <"$R/t/big" | cut -d' ' -f1)" "$(printf '%s\n' "$out" | cut -d' ' -f1 | sort | uniq -c | awk '{print $1, $2}')" \
	"6 parallel readers of one file see its bytes"

say "# a directory of 3000 entries"
assert_status 0 as_user "$L" run "$IMG" fsprobe list /t/many
assert_eq "$(ls "$R/t/many" | sort)" "$(printf '%s\n' "$out" | sort)" "readdir returns every entry once"
assert_status 0 as_user "$L" run "$IMG" sh -c 'ls -l /t/many | tail -n +2 | wc -l; ls /t/many/entry-2999'
assert_eq "3000
/t/many/entry-2999" "$out" "ls -l (readdirplus) lists 3000 entries; a lookup after it finds one"
capture as_user "$L" run "$IMG" sh -c 'ls /t/many/nothing-here; ls /t/many/nothing-here'
assert_contains "$err" "No such file" "a missing name is missing, twice (negative entries)"

say "# statfs"
assert_status 0 as_user "$L" run "$IMG" fsprobe statfs /
assert_eq "131072" "$(echo "$out" | cut -d' ' -f1)" "statfs: the block size"
assert_eq "256" "$(echo "$out" | cut -d' ' -f4)" "statfs: the longest name"
assert_true "statfs: some blocks and files" test "$(echo "$out" | cut -d' ' -f2)" -gt 0 -a "$(echo "$out" | cut -d' ' -f3)" -gt 3000

assert_clean "after the squashfs reads"
finish
