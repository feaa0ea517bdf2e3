#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Identity and privileges inside the container: by default the user's own
# ids and no capabilities; with --root uid 0 with exactly CAP_CHOWN,
# CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_SETUID, CAP_SETGID (0xcb).
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

status_fields='grep -E "^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status'
# field NAME: the value of NAME in $out (lines "Name:<tab>value").
field() { printf '%s\n' "$out" | sed -n "s/^$1:[[:space:]]*//p"; }

for img in $IMAGES; do
	k=$(img_kind "$img")
	say "# $k: default mode"
	assert_status 0 as_user "$L" run "$img" id -u
	assert_eq "$TU_UID" "$out" "$k: id -u is the user's host uid"
	assert_status 0 as_user "$L" run "$img" id -g
	assert_eq "$TU_GID" "$out" "$k: id -g is the user's host gid"
	assert_status 0 as_user "$L" run "$img" id -un
	assert_eq "$TU" "$out" "$k: id -un is the user's name"
	assert_status 0 as_user "$L" run "$img" sh -c "$status_fields"
	assert_eq 0000000000000000 "$(field CapPrm)" "$k: CapPrm is empty"
	assert_eq 0000000000000000 "$(field CapEff)" "$k: CapEff is empty"
	assert_eq 0000000000000000 "$(field CapBnd)" "$k: CapBnd is empty"
	assert_eq 0000000000000000 "$(field CapAmb)" "$k: CapAmb is empty"
	assert_eq 1 "$(field NoNewPrivs)" "$k: NoNewPrivs is set"

	say "# $k: --root"
	assert_status 0 as_user "$L" run --root "$img" id -u
	assert_eq 0 "$out" "$k: --root: id -u is 0"
	assert_status 0 as_user "$L" run --root "$img" id -un
	assert_eq root "$out" "$k: --root: id -un is root"
	assert_status 0 as_user "$L" run --root "$img" sh -c "$status_fields"
	assert_eq 00000000000000cb "$(field CapPrm)" "$k: --root: CapPrm is exactly 0xcb"
	assert_eq 00000000000000cb "$(field CapEff)" "$k: --root: CapEff is exactly 0xcb"
	assert_eq 00000000000000cb "$(field CapBnd)" "$k: --root: CapBnd is exactly 0xcb"
	assert_eq 0000000000000000 "$(field CapAmb)" "$k: --root: CapAmb is empty"
	assert_eq 1 "$(field NoNewPrivs)" "$k: --root: NoNewPrivs is set"
	assert_status 0 as_user "$L" run -r "$img" id -u
	assert_eq 0 "$out" "$k: -r is --root"

	say "# $k: --root: processes of other ids end with the container"
	# uid 1 (daemon) of the image is a subordinate id: launch ends it by
	# its capabilities in the user namespace, not as the same user
	as_user_bg "$T/pid" "$L" run --root "$img" sh -c 'su -s /bin/sh daemon -c "sleep 1717" & sleep 0.3'
	wait_exit "$BG" 10
	assert_eq 0 "$rc" "$k: the run ends with its main process's status"
	assert_true "$k: a leftover running as daemon ended within the grace period (${ELAPSED_MS} ms)" \
		test "$ELAPSED_MS" -lt 6000
	assert_eq "" "$(pgrep -f 'sleep 1717')" "$k: nothing of it is left"
	as_user_bg "$T/pid" "$L" run --root "$img" sh -c 'su -s /bin/sh daemon -c "sleep 1718" & sleep 1719'
	assert_true "$k: the container's sleeps start" wait_until 10 pgrep -f 'sleep 1718'
	kill -KILL "$BG_PID"
	wait_exit "$BG" 10
	assert_true "$k: after SIGKILL of launch, the process running as daemon is gone too" \
		wait_until 5 sh -c "! pgrep -f 'sleep 171[89]'"
done
assert_clean "identity runs"
finish
