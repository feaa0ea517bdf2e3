#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bind mounts: short and long forms, read-only mounts, destinations created in
# the read-only image, symlinks of the image that must not lead to the host,
# malformed specs, and the ownership rules of files in bind mounts.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

user_dir "$T/a" "$T/d" "$T/out"
echo content-a | user_file "$T/a/f"
echo content-d | user_file "$T/d/f"
name=launch-it-$TEST_ID
on_exit "rmdir '/etc/$name' '/etc/$name-rel' 2>/dev/null"

for img in $IMAGES; do
	k=$(img_kind "$img")
	rm -f "$T/a/g" "$T/a/x" "$T/a/h"

	say "# $k: -m HOST:CTR onto a destination the image lacks"
	assert_status 0 as_user "$L" run -m "$T/a:/scratch" "$img" sh -c 'cat /scratch/f && echo new > /scratch/g'
	assert_eq content-a "$out" "$k: -m HOST:/scratch shows the host directory"
	assert_eq new "$(cat "$T/a/g" 2>/dev/null)" "$k: a file written to /scratch lands in the host directory"
	assert_status 0 as_user "$L" run -m "$T/a:/scratch" "$img" sh -c 'touch /new-in-root 2>&1; test -e /new-in-root && echo created; true'
	assert_contains "$out" "Read-only" "$k: the image root stays read-only after /scratch was added"
	assert_not_contains "$out" created "$k: no file can be created in the image root"

	say "# $k: -m HOST (same path)"
	assert_status 0 as_user "$L" run -m "$T/a" "$img" cat "$T/a/f"
	assert_eq content-a "$out" "$k: -m HOST mounts HOST at the same path"

	say "# $k: -m HOST:CTR:ro"
	assert_status 0 as_user "$L" run -m "$T/a:/ro:ro" "$img" sh -c 'cat /ro/f; touch /ro/x; echo "touch=$?"'
	assert_contains "$out" content-a "$k: a :ro mount can be read"
	assert_contains "$out" "touch=1" "$k: writing to a :ro mount fails"
	assert_contains "$err" "Read-only" "$k: writing to a :ro mount fails with Read-only file system"
	assert_true "$k: nothing was written through the :ro mount" test ! -e "$T/a/x"
	assert_status 0 as_user "$L" run -m "$T/a:/rw:rw" "$img" sh -c 'echo rw > /rw/h'
	assert_eq rw "$(cat "$T/a/h" 2>/dev/null)" "$k: a :rw mount is writable"

	say "# $k: --mount long form, nested missing destination"
	assert_status 0 as_user "$L" run --mount "type=bind,source=$T/a,destination=/opt/a/b/c,readonly" "$img" \
		sh -c 'cat /opt/a/b/c/f; touch /opt/a/b/c/x; echo "touch=$?"'
	assert_contains "$out" content-a "$k: --mount creates /opt/a/b/c in the image and mounts there"
	assert_contains "$out" "touch=1" "$k: --mount ...,readonly is read-only"
	assert_contains "$err" "Read-only" "$k: --mount ...,readonly fails writes with Read-only file system"
	assert_status 0 as_user "$L" run --mount "type=bind,source=$T/a,destination=/opt/a/b/c" "$img" \
		sh -c 'cat /opt/a/b/c/f; touch /opt/a/b/c/x && echo touched; touch /opt/y; echo "opt=$?"'
	assert_contains "$out" touched "$k: --mount without readonly is writable"
	assert_contains "$out" "opt=1" "$k: the created parent /opt stays read-only"
	assert_true "$k: the write through --mount reached the host" test -e "$T/a/x"
	rm -f "$T/a/x"

	say "# $k: symlinks in the image lead inside the image, not to the host"
	assert_status 0 as_user "$L" run -m "$T/d:/data-abs/$name" "$img" \
		sh -c "cat /etc/$name/f; cat /etc/image-marker"
	assert_eq "content-d
launch-test-image" "$out" "$k: -m DIR:/data-abs/X (data-abs -> /etc) lands in the image's /etc"
	assert_true "$k: nothing was created in the host's /etc through /data-abs" test ! -e "/etc/$name"
	assert_status 0 as_user "$L" run -m "$T/d:/data-rel/$name-rel" "$img" \
		sh -c "cat /etc/$name-rel/f; cat /etc/image-marker"
	assert_eq "content-d
launch-test-image" "$out" "$k: -m DIR:/data-rel/X (data-rel -> ../../../../../../etc) lands in the image's /etc"
	assert_true "$k: nothing was created in the host's /etc through /data-rel" test ! -e "/etc/$name-rel"

	say "# $k: malformed mount specs"
	for spec in "$T/a:scratch" "$T/a:/x:ro:extra" "$T/a:/x:rx" "$T/missing-source:/x"; do
		assert_status 125 as_user "$L" run -m "$spec" "$img" echo ran
		assert_eq "" "$out" "$k: -m $spec runs nothing"
		case $spec in
		*missing*) assert_contains "$err" "$T/missing-source" "$k: the error names the missing source" ;;
		*) assert_contains "$err" "$spec" "$k: the error names the spec $spec" ;;
		esac
	done
	spec="type=volume,source=$T/a,destination=/x"
	assert_status 125 as_user "$L" run --mount "$spec" "$img" echo ran
	assert_eq "" "$out" "$k: --mount type=volume runs nothing"
	assert_contains "$err" "$spec" "$k: the error names the spec $spec"

	say "# $k: mount points are never made inside host directories the container shows"
	assert_status 125 as_user "$L" run -m "$T/a:/sys/launch-test-x" "$img" echo ran
	assert_eq "" "$out" "$k: a destination inside /sys (the host's) runs nothing"
	assert_contains "$err" "/sys/launch-test-x" "$k: the error names the destination"
	assert_true "$k: nothing was created in the host's /sys" test ! -e /sys/launch-test-x

	say "# $k: files created in bind mounts belong to the user on the host"
	rm -f "$T/out/made-user" "$T/out/made-root"
	assert_status 0 as_user "$L" run -m "$T/out:/out" "$img" touch /out/made-user
	assert_eq "$TU_UID:$TU_GID" "$(stat -c %u:%g "$T/out/made-user" 2>/dev/null)" \
		"$k: a file created in default mode belongs to the user"
	assert_status 0 as_user "$L" run --root -m "$T/out:/out" "$img" sh -c 'touch /out/made-root && stat -c %u /out/made-root'
	assert_eq 0 "$out" "$k: --root: the file is owned by root inside"
	assert_eq "$TU_UID:$TU_GID" "$(stat -c %u:%g "$T/out/made-root" 2>/dev/null)" \
		"$k: --root: the file belongs to the user on the host"
done

say "# a root-owned 0600 host file stays out of reach"
require_root "a root-owned 0600 file"
user_dir "$T/sec"
echo top-secret >"$T/sec/secret"
chown 0:0 "$T/sec/secret"
chmod 0600 "$T/sec/secret"
for img in $IMAGES; do
	k=$(img_kind "$img")
	for mode in "" --root; do
		m="$k${mode:+ $mode}"
		assert_status 0 as_user "$L" run $mode -m "$T/sec:/sec" "$img" sh -c \
			'cat /sec/secret; echo "cat=$?"; chown 0:0 /sec/secret; echo "chown0=$?"; chown '"$TU_UID"' /sec/secret; echo "chownu=$?"; chmod 0644 /sec/secret; echo "chmod=$?"'
		assert_not_contains "$out" top-secret "$m: the secret is not readable"
		assert_contains "$out" "cat=1" "$m: reading the secret fails"
		assert_contains "$out" "chown0=1" "$m: chown 0 of the secret fails"
		assert_contains "$out" "chownu=1" "$m: chown to the user fails"
		assert_contains "$out" "chmod=1" "$m: chmod of the secret fails"
		assert_eq "0:0 600" "$(stat -c '%u:%g %a' "$T/sec/secret")" "$m: the secret is still root's and 0600 on the host"
	done
done
assert_clean "mount runs"
finish
