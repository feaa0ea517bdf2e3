#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `launch doctor` and the node set-up it checks: /dev/fuse (also when it is
# 0600, as on a fresh node) and the runtime directory when XDG_RUNTIME_DIR is
# unset.
. "$(dirname "$0")/lib.sh"
require_userns
require_fuse

say "# doctor on a node that is set up"
assert_status 0 as_user "$L" doctor
assert_match "$out" '^OK +/dev/fuse' "doctor says OK for /dev/fuse"
assert_match "$out" '^OK +squashfuse' "doctor says OK for squashfuse"
assert_match "$out" '^OK +' "doctor prints OK lines"
assert_not_contains "$out" "FAIL" "doctor prints no FAIL line"

say "# runtime directory without XDG_RUNTIME_DIR"
fallback=/tmp/launch-$TU_UID
assert_status 0 as_user "$L" -v run "$SQFS" echo ran
assert_eq ran "$out" "without XDG_RUNTIME_DIR the container runs"
assert_contains "$err" "runtime directory $fallback" "without XDG_RUNTIME_DIR, $fallback is used"
assert_eq "$TU_UID 700" "$(stat -c '%u %a' "$fallback" 2>/dev/null)" "$fallback is the user's, mode 0700"
assert_status 0 as_user "$L" doctor
assert_match "$out" "^WARN +runtime directory: $fallback" "doctor warns about the fallback runtime directory"
user_dir "$T/xdg"
chmod 0700 "$T/xdg"
assert_status 0 as_user env XDG_RUNTIME_DIR="$T/xdg" "$L" -v run "$SQFS" sh -c 'echo "${XDG_RUNTIME_DIR-unset}"'
assert_eq unset "$out" "XDG_RUNTIME_DIR does not pass into the container"
assert_contains "$err" "runtime directory $T/xdg/launch" "with XDG_RUNTIME_DIR, XDG_RUNTIME_DIR/launch is used"
assert_eq "$TU_UID 700" "$(stat -c '%u %a' "$T/xdg/launch" 2>/dev/null)" "$T/xdg/launch is the user's, mode 0700"
assert_clean "runs with and without XDG_RUNTIME_DIR"

say "# /dev/fuse 0600"
require_root "chmod of /dev/fuse"
mode=$(stat -c %a /dev/fuse)
on_exit "chmod $mode /dev/fuse"
chmod 0600 /dev/fuse
capture as_user "$L" doctor
d_rc=$rc d_out=$out
# a runtime directory of its own: no image server of an earlier run
# (which has its mount already) may serve this one
capture as_user env LAUNCH_RUNTIME_DIR="$T/rt-fuse" "$L" run "$SQFS" true
r_rc=$rc r_err=$err
capture as_user "$L" run "$DIRIMG" echo dir-ok
chmod "$mode" /dev/fuse
assert_eq "0 dir-ok" "$rc $out" "a directory image still runs when /dev/fuse is 0600"
_last_cmd="launch doctor (with /dev/fuse 0600)" rc=$d_rc out=$d_out err=
assert_eq 1 "$d_rc" "doctor exits 1 when /dev/fuse is 0600"
assert_match "$d_out" '^FAIL +/dev/fuse' "doctor says FAIL for /dev/fuse"
assert_contains "$d_out" "chmod 0666 /dev/fuse" "doctor gives the chmod fix"
_last_cmd="launch run busybox.sqfs true (with /dev/fuse 0600)" rc=$r_rc out= err=$r_err
assert_eq 125 "$r_rc" "launch run of a squashfs image exits 125 when /dev/fuse is 0600"
assert_contains "$r_err" "/dev/fuse" "the error names /dev/fuse"
assert_eq "$mode" "$(stat -c %a /dev/fuse)" "/dev/fuse got its mode back"
assert_clean "runs with /dev/fuse 0600"
finish
