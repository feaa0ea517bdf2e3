#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bind mounts: short and long forms, read-only mounts, destinations created in
# the read-only image, symlinks of the image that must not lead to the host,
# malformed specs, and the ownership rules of files in bind mounts. The
# flags of pyxis's syntax (SRC:DST:FLAGS joined by +): ro/rw, nosuid,
# nodev, noexec, bind/rbind, propagation, x-create; tmpfs:DST and
# umount:DST, also from the site config; and their errors.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

user_dir "$T/a" "$T/d" "$T/out" "$T/x"
echo content-a | user_file "$T/a/f"
echo content-d | user_file "$T/d/f"
printf '#!/bin/sh\necho script-ran\n' | user_file "$T/x/script"
chmod 0755 "$T/x/script"
# a script with the setuid bit: the kernel ignores it on scripts, so it is
# harmless on the host; nosuid must show on its mount all the same
printf '#!/bin/sh\nid -u\n' | user_file "$T/x/setuid-script"
chmod 4755 "$T/x/setuid-script"
# HOST_OPTS: the per-mount options of the host mount under $T; a flag that
# the host already sets cannot be told apart from one launch set
HOST_OPTS=$(findmnt -n -o VFS-OPTIONS -T "$T" 2>/dev/null)
host_has() { case ",$HOST_OPTS," in *",$1,"*) return 0 ;; esac; return 1; }

# In the container's /proc/self/mountinfo, printed to $out: the line of the
# mount on MOUNTPOINT (the topmost), its per-mount options (field 6), and
# its optional fields (shared:N, master:N, unbindable).
mount_line() { printf '%s\n' "$out" | awk -v m="$1" '$5 == m' | tail -n 1; }
mount_opts() { mount_line "$1" | awk '{ print "," $6 "," }'; }
mount_tags() { mount_line "$1" | awk '{ for (i = 7; $i != "-"; i++) printf " %s", $i; print " " }'; }
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
	assert_status 125 as_user "$L" run -m "$T/a:scratch" "$img" echo ran
	assert_contains "$err" "the destination \`scratch\` must be an absolute path in the container (write \`/scratch\`)" \
		"$k: a relative destination is refused with the path to write"
	spec="type=volume,source=$T/a,destination=/x"
	assert_status 125 as_user "$L" run --mount "$spec" "$img" echo ran
	assert_eq "" "$out" "$k: --mount type=volume runs nothing"
	assert_contains "$err" "$spec" "$k: the error names the spec $spec"

	say "# $k: mount points are never made inside host directories the container shows"
	assert_status 125 as_user "$L" run -m "$T/a:/sys/launch-test-x" "$img" echo ran
	assert_eq "" "$out" "$k: a destination inside /sys (the host's) runs nothing"
	assert_contains "$err" "/sys/launch-test-x" "$k: the error names the destination"
	assert_true "$k: nothing was created in the host's /sys" test ! -e /sys/launch-test-x

	say "# $k: flags ro+nosuid+nodev+noexec (SRC:DST:FLAGS, joined by +)"
	assert_status 0 as_user "$L" run -m "$T/x:/x:ro+nosuid+nodev+noexec" "$img" sh -c \
		'cat /proc/self/mountinfo; stat -c "mode=%A" /x/setuid-script; /x/script; echo "exec=$?"; touch /x/new; echo "touch=$?"'
	o=$(mount_opts /x)
	assert_contains "$o" ",ro," "$k: ro shows in the mount's options"
	assert_contains "$o" ",nosuid," "$k: nosuid shows in the mount's options"
	assert_contains "$o" ",nodev," "$k: nodev shows in the mount's options"
	assert_contains "$o" ",noexec," "$k: noexec shows in the mount's options"
	assert_contains "$out" "mode=-rwsr-xr-x" "$k: the setuid bit is visible, but its mount is nosuid"
	assert_contains "$out" "exec=126" "$k: a script on a noexec mount cannot be executed"
	assert_not_contains "$out" script-ran "$k: the script did not run"
	assert_contains "$err" "Permission denied" "$k: executing on noexec fails with Permission denied"
	assert_contains "$out" "touch=1" "$k: ro+...: writing fails"
	assert_true "$k: nothing was written through ro+..." test ! -e "$T/x/new"
	assert_status 0 as_user "$L" run -m "$T/x:/x:rw" "$img" sh -c 'cat /proc/self/mountinfo; /x/script; touch /x/new && echo touched'
	o=$(mount_opts /x)
	assert_contains "$out" script-ran "$k: without noexec the script runs"
	assert_contains "$out" touched "$k: :rw is writable"
	assert_contains "$o" ",rw," "$k: rw shows in the mount's options"
	for f in nosuid nodev noexec; do
		if host_has $f; then
			say "# the host mounts $T with $f: its absence without the flag cannot be checked"
		else
			assert_not_contains "$o" ",$f," "$k: without the flag, no $f"
		fi
	done
	rm -f "$T/x/new"
	assert_status 0 as_user "$L" run --mount "type=bind,src=$T/x,dst=/x,readonly,noexec,nosuid,nodev" "$img" \
		sh -c 'cat /proc/self/mountinfo; /x/script; echo "exec=$?"'
	o=$(mount_opts /x)
	assert_contains "$o" ",ro,nosuid,nodev,noexec," "$k: --mount ...,readonly,noexec,nosuid,nodev sets all four"
	assert_contains "$out" "exec=126" "$k: --mount ...,noexec: the script cannot be executed"

	say "# $k: x-create=file|dir|auto on paths the image lacks"
	assert_status 0 as_user "$L" run -m "$T/x/script:/made/file:x-create=file" "$img" \
		sh -c 'test -f /made/file && echo is-file; /made/file'
	assert_eq "is-file
script-ran" "$out" "$k: x-create=file makes a file and binds the file there"
	assert_status 0 as_user "$L" run -m "$T/x/script:/made/auto" "$img" sh -c 'test -f /made/auto && echo is-file'
	assert_eq is-file "$out" "$k: x-create=auto (the default) makes a file for a file"
	assert_status 0 as_user "$L" run -m "$T/a:/made/dir:x-create=dir" "$img" sh -c 'test -d /made/dir && cat /made/dir/f'
	assert_eq content-a "$out" "$k: x-create=dir makes a directory"
	assert_status 0 as_user "$L" run -m "$T/a:/made/adir:x-create=auto" "$img" sh -c 'test -d /made/adir && echo is-dir'
	assert_eq is-dir "$out" "$k: x-create=auto makes a directory for a directory"
	assert_status 125 as_user "$L" run -m "$T/x/script:/made/file:x-create=dir" "$img" echo ran
	assert_eq "" "$out" "$k: x-create=dir for a file runs nothing"
	assert_contains "$err" "x-create=dir, but $T/x/script is not a directory" "$k: the error says why"
	assert_status 125 as_user "$L" run -m "$T/a:/made/dir:x-create=file" "$img" echo ran
	assert_contains "$err" "x-create=file, but $T/a is a directory" "$k: x-create=file for a directory is refused"

	say "# $k: tmpfs:DST"
	assert_status 0 as_user "$L" run -m tmpfs:/scratch "$img" sh -c \
		'cat /proc/self/mountinfo; stat -c "scratch-mode=%a" /scratch; echo "entries=$(ls -A /scratch | wc -l)"; echo written > /scratch/f && echo "content=$(cat /scratch/f)"'
	assert_contains "$out" "scratch-mode=1777" "$k: tmpfs:/scratch is mode 1777"
	assert_contains "$out" "entries=0" "$k: tmpfs:/scratch starts empty"
	assert_contains "$out" "content=written" "$k: tmpfs:/scratch is writable"
	assert_contains "$(mount_line /scratch)" " - tmpfs " "$k: /scratch is a tmpfs"
	assert_contains "$(mount_opts /scratch)" ",nosuid,nodev," "$k: a tmpfs is nosuid,nodev"
	assert_status 0 as_user "$L" run -m "tmpfs:/scratch:mode=0700+size=1m+noexec" "$img" sh -c \
		'cat /proc/self/mountinfo; stat -c "scratch-mode=%a" /scratch; printf "#!/bin/sh\necho ran\n" > /scratch/s; chmod +x /scratch/s; /scratch/s; echo "exec=$?"'
	assert_contains "$out" "scratch-mode=700" "$k: mode=0700 sets the tmpfs's mode"
	assert_contains "$(mount_line /scratch)" "size=1024k" "$k: size=1m caps the tmpfs"
	assert_contains "$(mount_opts /scratch)" ",noexec," "$k: noexec on a tmpfs"
	assert_contains "$out" "exec=126" "$k: nothing on a noexec tmpfs can be executed"
	assert_status 0 as_user "$L" run -m tmpfs:/scratch:ro "$img" sh -c 'touch /scratch/x; echo "touch=$?"'
	assert_contains "$out" "touch=1" "$k: tmpfs:...:ro is read-only"
	assert_status 0 as_user "$L" run --mount type=tmpfs,destination=/scratch,tmpfs-mode=0750 "$img" stat -c %a /scratch
	assert_eq 750 "$out" "$k: --mount type=tmpfs,tmpfs-mode=0750"
	user_dir "$T/tmpfs"
	echo host-dir-named-tmpfs | user_file "$T/tmpfs/f"
	assert_status 0 as_user sh -c "cd '$T' && exec '$L' run -m ./tmpfs:/t '$img' cat /t/f"
	assert_eq host-dir-named-tmpfs "$out" "$k: ./tmpfs is the host directory named tmpfs"

	say "# $k: umount:DST removes a mount launch made"
	assert_status 0 as_user "$L" run "$img" cat /proc/self/mountinfo
	assert_contains "$(mount_line /dev/shm)" "/dev/shm" "$k: /dev/shm is a mount by default"
	assert_status 0 as_user "$L" run -m umount:/dev/shm "$img" sh -c 'cat /proc/self/mountinfo; test -d /dev/shm && echo dir-left'
	assert_eq "" "$(mount_line /dev/shm)" "$k: umount:/dev/shm: no mount on /dev/shm"
	assert_contains "$out" dir-left "$k: the mount point itself stays"
	shm=launch-test-shm-$TEST_ID
	assert_status 0 as_user "$L" run "$img" touch "/dev/shm/$shm"
	assert_true "$k: by default /dev/shm is the host's" test -e "/dev/shm/$shm"
	rm -f "/dev/shm/$shm"
	assert_status 0 as_user "$L" run -m umount:/dev/shm -m tmpfs:/dev/shm "$img" sh -c \
		"cat /proc/self/mountinfo; touch /dev/shm/$shm"
	assert_contains "$(mount_line /dev/shm)" " - tmpfs tmpfs " "$k: umount:/dev/shm then tmpfs:/dev/shm: a tmpfs on /dev/shm"
	assert_true "$k: ... of the container's own: nothing reaches the host's /dev/shm" test ! -e "/dev/shm/$shm"
	rm -f "/dev/shm/$shm"
	assert_status 0 as_user "$L" run -m umount:/etc/passwd "$img" sh -c "grep -c '^$TU:' /etc/passwd; true"
	assert_eq 0 "$out" "$k: umount:/etc/passwd shows the image's own file, without you"
	assert_status 125 as_user "$L" run -m umount:/etc "$img" echo ran
	assert_eq "" "$out" "$k: umount of a directory that is no mount point runs nothing"
	assert_contains "$err" "cannot remove the mount on /etc: it is not a mount point in the container" "$k: the error says so"
	assert_status 125 as_user "$L" run -m umount:/no/such "$img" echo ran
	assert_contains "$err" "cannot remove the mount on /no/such: No such file or directory" "$k: umount of a missing path is refused"
	assert_status 125 as_user "$L" run -m "$T/a:/etc/new" -m umount:/etc/image-marker "$img" echo ran
	assert_contains "$err" "cannot remove the mount on /etc/image-marker: it is part of the image" \
		"$k: umount of an entry launch re-bound in a shadow is refused"
	assert_status 125 as_user "$L" run -m "$T/a:/etc/new" -m umount:/data-abs "$img" echo ran
	assert_contains "$err" "cannot remove the mount on /data-abs: it is part of the image" \
		"$k: umount of a shadow (reached through an image symlink) is refused"
	assert_status 125 as_user "$L" run -m umount:/dev/shm:ro "$img" echo ran
	assert_contains "$err" "umount takes no flags" "$k: umount with flags is refused"

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

say "# flag errors name the flag and list the valid ones"
for case in "ro+rw|\`rw\` contradicts \`ro\`" "bind+rbind|\`rbind\` contradicts \`bind\`" \
	"x-create=bogus|unknown x-create value \`bogus\` (expected dir, file or auto)" \
	"rprivat|unknown flag \`rprivat\`, did you mean \`rprivate\`? (valid flags, joined by \`+\`: ro, rw, bind, rbind" \
	"suid|flag \`suid\` is not offered" "dev|flag \`dev\` is not offered" "exec|flag \`exec\` is not offered" \
	"mode=0700|\`mode\` is for tmpfs only"; do
	flags=${case%%|*}
	msg=${case#*|}
	assert_status 125 as_user "$L" run -m "$T/a:/a:$flags" "$SQFS" echo ran
	assert_eq "" "$out" "-m DIR:/a:$flags runs nothing"
	assert_contains "$err" "invalid mount \`$T/a:/a:$flags\`: $msg" "-m DIR:/a:$flags: the error"
done
assert_status 125 as_user "$L" run -m tmpfs:/s:x-create=file "$SQFS" echo ran
assert_contains "$err" "a tmpfs is a directory" "tmpfs with x-create=file is refused"
assert_status 125 as_user "$L" run -m tmpfs "$SQFS" echo ran
assert_contains "$err" "tmpfs needs a destination (tmpfs:/PATH; for a host directory named tmpfs, write ./tmpfs)" \
	"tmpfs without a destination is refused"

say "# bind leaves out the mounts below the source, rbind (the default) takes them"
# launch's own staging mount lies in the runtime directory: bound from its
# parent, it is there with rbind and not with bind
assert_status 0 as_user "$L" -v run "$SQFS" true
rundir=$(printf '%s\n' "$err" | sed -n 's/.*runtime directory \([^ ,]*\).*/\1/p' | head -n 1)
parent=$(dirname "${rundir:-/tmp/launch-$TU_UID}")
assert_status 0 as_user "$L" run -m "$parent:/h:rbind" "$SQFS" cat /proc/self/mountinfo
below_r=$(printf '%s\n' "$out" | awk '$5 ~ "^/h/"' | wc -l)
assert_true "rbind of $parent shows the mounts below it ($below_r)" test "$below_r" -gt 0
if awk -v p="$parent/" 'index($5, p) == 1' /proc/self/mountinfo | grep -q .; then
	# the host has mounts there: the kernel keeps them with their parent
	assert_status 125 as_user "$L" run -m "$parent:/h:bind" "$SQFS" echo ran
	assert_contains "$err" "(use rbind)" "bind of $parent, which has host mounts below it, says to use rbind"
else
	assert_status 0 as_user "$L" run -m "$parent:/h:bind" "$SQFS" cat /proc/self/mountinfo
	assert_contains "$(mount_line /h)" " /h " "bind of $parent is mounted"
	assert_eq 0 "$(printf '%s\n' "$out" | awk '$5 ~ "^/h/"' | wc -l)" "bind of $parent leaves the mounts below it out"
fi

say "# umount of a site mount, tmpfs in the site config"
user_dir "$T/site"
echo site-content | user_file "$T/site/f"
printf '{"mounts": ["%s:/opt/site:ro", "tmpfs:/scratch:mode=0700"]}\n' "$T/site" >"$T/site.json"
printf '{"mounts": ["%s:/opt/site:ro"], "deny_mount_destinations": ["/opt/site"]}\n' "$T/site" >"$T/deny.json"
chmod 0644 "$T/site.json" "$T/deny.json"
LAUNCH_CONFIG=$T/site.json
assert_status 0 as_user "$L" run "$SQFS" sh -c 'cat /opt/site/f; stat -c "scratch=%a" /scratch; cat /proc/self/mountinfo'
assert_contains "$out" site-content "the site mount is there"
assert_contains "$out" scratch=700 "the site's tmpfs:/scratch:mode=0700 is there"
assert_contains "$(mount_line /scratch)" " - tmpfs " "the site's /scratch is a tmpfs"
assert_status 0 as_user "$L" run -m umount:/opt/site "$SQFS" sh -c 'cat /opt/site/f 2>/dev/null; cat /proc/self/mountinfo'
assert_not_contains "$out" site-content "umount:/opt/site removes the site mount"
assert_eq "" "$(mount_line /opt/site)" "nothing is mounted on /opt/site any more"
assert_status 125 as_user "$L" run -m umount:/opt/site -m "$T/a:/opt/site" "$SQFS" echo ran
assert_contains "$err" "the site mount on /opt/site" "its place still cannot get another mount"
assert_status 0 as_user "$L" run -m umount:/opt/site -m "$T/site:/opt/site" "$SQFS" cat /opt/site/f
assert_eq site-content "$out" "the site's own mount can be made again there"
assert_status 125 as_user "$L" run -m tmpfs:/scratch "$SQFS" echo ran
assert_contains "$err" "the site mount on /scratch" "a user's tmpfs cannot cover the site's"
LAUNCH_CONFIG=$T/deny.json
assert_status 125 as_user "$L" run -m umount:/opt/site "$SQFS" echo ran
assert_contains "$err" "cannot remove the mount on /opt/site: the site config does not allow changes there (deny_mount_destinations: /opt/site)" \
	"deny_mount_destinations keeps a site mount from removal"
assert_status 125 as_user "$L" run -m umount:/opt "$SQFS" echo ran
assert_contains "$err" "deny_mount_destinations: /opt/site" "and from removal with a parent"
LAUNCH_CONFIG=

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

say "# nodev: a device node on a host directory"
user_dir "$T/dev"
mknod -m 0666 "$T/dev/null" c 1 3 || die "cannot create a device node"
assert_status 0 as_user "$L" run -m "$T/dev:/d:nodev" "$SQFS" sh -c 'echo x > /d/null; echo "write=$?"'
assert_contains "$out" "write=1" "a device node on a nodev mount cannot be opened"
assert_contains "$err" "Permission denied" "opening it fails with Permission denied"
if host_has nodev; then
	say "# the host mounts $T nodev: the device node cannot work without the flag either"
else
	assert_status 0 as_user "$L" run -m "$T/dev:/d" "$SQFS" sh -c 'echo x > /d/null; echo "write=$?"'
	assert_contains "$out" "write=0" "without nodev the same device node works"
fi

say "# bind and rbind of a host directory with a host mount below it"
user_dir "$T/sub/inner"
mount -t tmpfs -o size=1m,mode=0755 launch-test "$T/sub/inner" || die "cannot mount a tmpfs on $T/sub/inner"
on_exit "umount -l '$T/sub/inner'"
echo inner-content >"$T/sub/inner/marker"
assert_status 0 as_user "$L" run -m "$T/sub:/sub" "$SQFS" cat /sub/inner/marker
assert_eq inner-content "$out" "the default (rbind) takes the mount below"
assert_status 0 as_user "$L" run -m "$T/sub:/sub:rbind" "$SQFS" cat /sub/inner/marker
assert_eq inner-content "$out" "rbind takes the mount below"
assert_status 125 as_user "$L" run -m "$T/sub:/sub:bind" "$SQFS" echo ran
assert_eq "" "$out" "bind of it runs nothing"
assert_contains "$err" "cannot mount $T/sub on /sub without the mounts below it (bind): mounts of the host there cannot be left out in a user namespace (use rbind)" \
	"bind of it says why and what to use"
assert_status 125 as_user "$L" run -m "$T/sub:/sub" -m umount:/sub/inner "$SQFS" echo ran
assert_contains "$err" "cannot remove the mount on /sub/inner: it came from the host together with the mount above it" \
	"umount of a host mount locked to its parent is refused"
assert_status 0 as_user "$L" run -m "$T/sub:/sub:ro" "$SQFS" sh -c 'touch /sub/inner/x; echo "touch=$?"'
assert_contains "$out" "touch=1" "ro applies to the mounts below too"
umount "$T/sub/inner"

say "# propagation: a shared host mount"
user_dir "$T/shr/sub" "$T/shr/late" "$T/sig"
mount --bind "$T/shr" "$T/shr" && mount --make-shared "$T/shr" || die "cannot make $T/shr a shared mount"
on_exit "umount -R -l '$T/shr'"
mount -t tmpfs -o size=1m launch-test "$T/shr/sub" || die "cannot mount a tmpfs on $T/shr/sub"
for p in "" private rprivate slave rslave shared rshared unbindable; do
	assert_status 0 as_user "$L" run -m "$T/shr:/s${p:+:$p}" "$SQFS" cat /proc/self/mountinfo
	top=$(mount_tags /s) below=$(mount_tags /s/sub)
	say "  ${p:-default}: /s [$top] /s/sub [$below]"
	case ${p:-default} in
	default | slave | rslave)
		assert_match "$top" " master:[0-9]+ " "${p:-default}: /s is a slave of the host's mount"
		assert_not_contains "$top" "shared:" "${p:-default}: /s is not shared"
		;;
	private | rprivate)
		assert_eq " " "$top" "$p: /s is private"
		;;
	shared | rshared)
		assert_match "$top" " shared:[0-9]+ " "$p: /s is shared (a peer group of the container's own)"
		;;
	unbindable)
		assert_contains "$top" " unbindable " "$p: /s is unbindable"
		;;
	esac
	case ${p:-default} in
	rprivate) assert_eq " " "$below" "$p: /s/sub is private too" ;;
	private | shared) assert_match "$below" " master:[0-9]+ " "$p: /s/sub keeps its own type (a slave)" ;;
	rshared) assert_match "$below" " shared:[0-9]+ " "$p: /s/sub is shared too" ;;
	esac
done
# what the host mounts below a slave appears inside, not below a private one
mkfifo "$T/sig/ready" "$T/sig/go" && chown "$TU_UID:$TU_GID" "$T/sig/ready" "$T/sig/go"
for p in slave private; do
	as_user_bg "$T/bg.pid" "$L" run -m "$T/sig:/sig" -m "$T/shr:/s:$p" "$SQFS" \
		sh -c 'echo ready > /sig/ready; read x < /sig/go; cat /s/late/marker 2>&1'
	timeout 20 cat "$T/sig/ready" >/dev/null || fail "$p: the container did not start"
	mount -t tmpfs -o size=1m launch-test "$T/shr/late" && echo late-content >"$T/shr/late/marker"
	timeout 20 sh -c "echo go > '$T/sig/go'" || fail "$p: the container did not wait"
	wait_exit "$BG" 20
	if [ $p = slave ]; then
		assert_eq late-content "$(cat "$T/bg.out")" "slave: a mount the host makes later below the source appears inside"
	else
		assert_not_contains "$(cat "$T/bg.out")" late-content "private: a mount the host makes later stays out"
	fi
	umount "$T/shr/late"
done
umount -R "$T/shr"

assert_clean "mount runs"
finish
