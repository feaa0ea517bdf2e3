#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The container's life cycle: squashfs root served over FUSE, processes that
# outlive the main one, Ctrl-C and SIGKILL of launch, nested user
# namespaces; and after every run nothing mounted or running on the host.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

say "# squashfs root over FUSE"
assert_status 0 as_user "$L" run "$SQFS" cat /proc/self/mountinfo
root_line=$(printf '%s\n' "$out" | awk '$5 == "/"' | tail -n 1)
assert_contains "$root_line" " - fuse.squashfuse " "the container root is a fuse.squashfuse mount"
assert_status 0 as_user "$L" run "$SQFS" cat /etc/image-marker
assert_eq launch-test-image "$out" "a file of the image reads back"
assert_clean "after a squashfs run"

say "# squashfs: concurrent readers get exact data (shared block cache, several FUSE threads)"
want=$(md5sum "$DIRIMG/bin/busybox" | cut -d' ' -f1)
assert_status 0 as_user "$L" run "$SQFS" sh -c \
	'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do md5sum /bin/busybox & done; wait'
assert_eq "12 $want" "$(printf '%s\n' "$out" | cut -d' ' -f1 | sort | uniq -c | awk '{print $1, $2}')" \
	"12 parallel readers of /bin/busybox all see the image's bytes"
assert_status 0 as_user "$L" run "$SQFS" sh -c 'find /bin /sbin /usr /etc -type f -exec md5sum {} + | sort -k2'
sq_sums=$out
assert_status 0 as_user "$L" run "$DIRIMG" sh -c 'find /bin /sbin /usr /etc -type f -exec md5sum {} + | sort -k2'
assert_eq "$out" "$sq_sums" "every file of the squashfs image reads the same as in the directory image"

user_dir "$T/out"
for img in $IMAGES; do
	k=$(img_kind "$img")

	say "# $k: a background process outlives the main process"
	rm -f "$T/out/marker"
	assert_status 0 as_user "$L" run -m "$T/out:/out" "$img" \
		sh -c '(trap "cat /etc/image-marker > /out/marker; exit" TERM; while :; do sleep 0.1; done) & sleep 0.3'
	assert_eq launch-test-image "$(cat "$T/out/marker" 2>/dev/null)" \
		"$k: the background process read the image in its TERM trap after the main process ended"
	assert_clean "$k: after the main process left a background process"

	say "# $k: a leftover that ignores SIGTERM gets SIGKILL after the grace period"
	t0=$(now_ms)
	assert_status 0 as_user "$L" run "$img" sh -c '(trap "" TERM; sleep 100) & sleep 0.3'
	took=$(($(now_ms) - t0))
	assert_true "$k: launch returned after the 2 s grace period, not before, not much after (${took} ms)" \
		test "$took" -ge 2000 -a "$took" -lt 6000
	assert_clean "$k: after a leftover that ignores SIGTERM"

	say "# $k: no mount visible on the host while a container runs"
	as_user_bg "$T/pid" "$L" run "$img" sleep 100
	assert_true "$k: the container's sleep starts" wait_until 10 descendant_named "$BG_PID" sleep
	assert_eq "" "$(leftover_mounts)" "$k: the host mount table shows nothing of the running container"

	if [ -n "$SMALL_SUP" ]; then
		say "# $k: a running container is left to the small supervisor and guard"
		assert_true "$k: launch execs the small supervisor" wait_until 10 handed_over "$BG_PID"
		assert_true "$k: the guard execs it too" wait_until 10 small_guard "$BG_PID"
		pss=$(pss_kb "$BG_PID")
		assert_true "$k: the supervisor keeps little memory (${pss:-?} KiB, launch's own is about 700)" \
			test "${pss:-9999}" -lt 64
		assert_contains "$(cat "/proc/$BG_PID/status")" "CapEff:	0000000000080020" \
			"$k: it keeps CAP_KILL and CAP_SYS_PTRACE in the user namespace, and only those"
	fi

	say "# $k: SIGINT (Ctrl-C) to launch"
	kill -INT "$BG_PID"
	wait_exit "$BG" 10
	assert_eq 130 "$rc" "$k: launch exits 130 after SIGINT"
	assert_true "$k: launch exits within 2 s of SIGINT (took ${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 2000
	assert_clean "$k: after SIGINT"

	say "# $k: SIGKILL of the supervisor kills every process of the container"
	# one in a session of its own too: no signal to launch's group reaches it
	as_user_bg "$T/pid" "$L" run "$img" sh -c 'sleep 100 & setsid sleep 102 & sleep 101'
	assert_true "$k: the container's sleeps start" wait_until 10 descendant_named "$BG_PID" sleep
	assert_true "$k: the small guard guards it" wait_until 10 small_guard "$BG_PID"
	kill -KILL "$BG_PID"
	wait_exit "$BG" 10
	assert_eq 137 "$rc" "$k: launch was killed by SIGKILL"
	assert_clean "$k: after SIGKILL of launch"

	say "# $k: nested user namespace"
	assert_status 0 as_user "$L" run "$img" unshare -r id -u
	assert_eq 0 "$out" "$k: busybox unshare -r id -u prints 0 inside the container"
	assert_status 0 as_user "$L" run "$img" unshare -r cat /proc/self/uid_map
	assert_match "$out" "^ *0 +$TU_UID +1\$" "$k: the nested namespace maps 0 to the user's uid"
	assert_clean "$k: after the nested namespace"
done
finish
